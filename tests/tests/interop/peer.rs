//! Starting a third-party peer as a child process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use allmende_tests::harness::Ran;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether a missing peer must fail the test (in CI) rather than skip it.
pub fn required() -> bool {
    std::env::var("ALLMENDE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// Reports a missing peer: a failure in CI, an ignored test (with the
/// reason in the summary) elsewhere.
pub fn missing(reason: &str) -> Ran {
    if required() {
        panic!("interop peer missing: {reason}");
    }
    Ran::Skipped(format!(
        "interop peer missing: {reason}; .ci/run installs the peers"
    ))
}

/// A running peer, killed when dropped. What it logs is kept and shown
/// only if the test fails (this harness does not capture output).
pub struct Peer {
    pub child: Child,
    log: Arc<Mutex<String>>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!("--- the peer's log ---\n{log}--- end of the peer's log ---");
        }
    }
}

/// Collects the lines of `reader` into `log`.
fn keep_lines(reader: impl tokio::io::AsyncRead + Unpin + Send + 'static, log: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// Starts `command` and waits for a stdout line starting with `ready`;
/// returns the peer and the rest of that line.
pub async fn start(mut command: Command, ready: &str) -> (Peer, String) {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("peer starts");
    let log = Arc::new(Mutex::new(String::new()));
    keep_lines(child.stderr.take().unwrap(), log.clone());
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix(ready) {
                return Some(rest.trim().to_owned());
            }
        }
        None
    })
    .await
    .expect("peer ready within a minute");
    let Some(line) = line else {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        panic!(
            "peer exited before it was ready:\n{}",
            log.lock().unwrap_or_else(|p| p.into_inner())
        );
    };
    // Keep reading stdout so the peer never blocks on a full pipe.
    let reader = lines.into_inner();
    keep_lines(reader, log.clone());
    (Peer { child, log }, line)
}
