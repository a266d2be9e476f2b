//! Starting a third-party peer as a child process.

use std::path::{Path, PathBuf};
use std::process::Stdio;

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

/// Reports a missing peer: a failure in CI, a loud skip elsewhere.
/// Returns `true` if the caller should skip.
pub fn skip(reason: &str) -> bool {
    if required() {
        panic!("interop peer missing: {reason}");
    }
    eprintln!("\n*** SKIPPED interop test: {reason}\n*** run .ci/run (or see README) to install the peers\n");
    true
}

/// A running peer, killed when dropped.
pub struct Peer {
    pub child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `command` and waits for a stdout line starting with `ready`;
/// returns the peer and the rest of that line.
pub async fn start(mut command: Command, ready: &str) -> (Peer, String) {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("peer starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix(ready) {
                return rest.trim().to_owned();
            }
        }
        panic!("peer exited before it was ready");
    })
    .await
    .expect("peer ready within a minute");
    // Keep draining stdout so the peer never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (Peer { child }, line)
}
