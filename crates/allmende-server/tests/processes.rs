//! Crashes and several processes, with the real `allmende` binary:
//!
//! - a sender killed with SIGKILL in the middle of a fan-out and started
//!   again delivers every item to every follower, each exactly once (on
//!   SQLite and on PostgreSQL);
//! - two `allmende serve` processes on one PostgreSQL database share the
//!   outbox: hundreds of deliveries, none sent twice, the queue ends empty.
//!
//! The PostgreSQL tests need a server at `ALLMENDE_TEST_POSTGRES_URL`;
//! without one they are reported *ignored* (with the reason) in the summary
//! line, and `.ci/run` sets `ALLMENDE_REQUIRE_POSTGRES=1`, which makes that
//! a failure. (This file runs on `allmende_tests::harness`.)
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use allmende_store::testing::TestDatabase;
use allmende_store::Store;
use allmende_tests::api::post_json;
use allmende_tests::harness::{self, trial, Ran};
use allmende_tests::peers::{fake_follower, CountingInboxes};
use allmende_tests::{eventually, free_port, spawn_app, wait_until, TestNode, PASSWORD};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_allmende");

fn main() {
    harness::run_one_at_a_time(vec![
        trial("sigkill_mid_fanout_loses_nothing_on_sqlite", || async {
            sigkill_in_the_middle_of_a_fanout(TestDatabase::sqlite()).await;
            Ran::Yes
        }),
        trial("sigkill_mid_fanout_loses_nothing_on_postgres", || async {
            match TestDatabase::postgres("sigkill_mid_fanout_loses_nothing_on_postgres").await {
                Ok(db) => {
                    sigkill_in_the_middle_of_a_fanout(db).await;
                    Ran::Yes
                }
                Err(reason) => Ran::Skipped(reason),
            }
        }),
        trial("two_processes_share_the_outbox_on_postgres", || async {
            match TestDatabase::postgres("two_processes_share_the_outbox_on_postgres").await {
                Ok(db) => {
                    two_processes_share_the_outbox(db).await;
                    Ran::Yes
                }
                Err(reason) => Ran::Skipped(reason),
            }
        }),
    ])
}

/// The binary with a node's environment: database, address, loopback
/// federation, quick retries and a short lease (so a killed process's
/// claims are taken over within seconds).
fn allmende(db: &str, port: u16, public_port: u16) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("ALLMENDE_DATABASE_URL", db)
        .env("ALLMENDE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "ALLMENDE_PUBLIC_URL",
            format!("http://localhost:{public_port}"),
        )
        .env("ALLMENDE_FEDERATION_DEVELOPMENT", "true")
        .env("ALLMENDE_DELIVERY_RETRY_MS", "100")
        .env("ALLMENDE_DELIVERY_POLL_MS", "20")
        .env("RUST_LOG", "info,sqlx=warn,tower_http=warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run(mut command: Command, args: &[&str], stdin: &str) -> Output {
    let mut child = command.args(args).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "allmende {args:?}: {output:?}");
    output
}

/// Creates the organization `ulm` with an admin through the CLI; returns
/// an API token.
fn set_up_sender(db: &str, port: u16) -> String {
    run(allmende(db, port, port), &["migrate"], "");
    run(
        allmende(db, port, port),
        &[
            "org",
            "create",
            "ulm",
            "--name",
            "Stadt Ulm",
            "--kind",
            "municipality",
        ],
        "",
    );
    // The receivers are test nodes on localhost: trusted, so their
    // follows are accepted at once (and the CLI's policy command works).
    let added = run(
        allmende(db, port, port),
        &[
            "policy",
            "add",
            "trust",
            "localhost",
            "--note",
            "test receivers",
        ],
        "",
    );
    let added = String::from_utf8_lossy(&added.stdout);
    assert!(added.contains("added localhost to trust"), "{added}");
    let listed = run(allmende(db, port, port), &["policy", "list"], "");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("trust  localhost")
            && listed.contains("add trust localhost test receivers"),
        "{listed}"
    );
    run(
        allmende(db, port, port),
        &[
            "user",
            "create",
            "admin@ulm.example",
            "--org",
            "ulm",
            "--role",
            "admin",
        ],
        &format!("{PASSWORD}\n"),
    );
    let out = run(
        allmende(db, port, port),
        &["token", "create", "admin@ulm.example"],
        "",
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Serving {
    child: Child,
    /// Where the process logs (a file: a full pipe would block it).
    log: tempfile::NamedTempFile,
}

impl Serving {
    async fn start(command: Command, port: u16) -> Self {
        let mut command = command;
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = command
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let serving = Self { child, log };
        let health = format!("http://localhost:{port}/healthz");
        for _ in 0..500 {
            if let Ok(r) = reqwest::get(&health).await {
                if r.status().is_success() {
                    return serving;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut serving = serving;
        let exited = serving.child.try_wait().ok().flatten();
        panic!(
            "node on port {port} did not start (exit: {exited:?}):\n{}",
            serving.log()
        );
    }

    /// SIGKILL: no shutdown, no cleanup.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// SIGTERM; returns what the process logged.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        let log = self.log();
        assert!(
            status.success(),
            "SIGTERM ends the node cleanly: {status:?}\n{log}"
        );
        log
    }
}

/// A follower node in this process, with an organization `handle`;
/// returns it with an API token.
async fn receiver(handle: &str) -> (TestNode, String) {
    let node = spawn_app().await;
    let token = node.org_with_token(handle).await;
    (node, token)
}

async fn projects(node: &TestNode) -> i64 {
    node.state.store.projects().count().await.unwrap()
}

/// The sender's queue as `allmende queue status --json` reports it.
fn queue_status(db: &str) -> Value {
    let out = run(allmende(db, 0, 1), &["queue", "status", "--json"], "");
    serde_json::from_slice(&out.stdout).unwrap()
}

const ITEMS: i64 = 30;
const RECEIVERS: usize = 4;

async fn sigkill_in_the_middle_of_a_fanout(db: TestDatabase) {
    let port = free_port();
    let token = set_up_sender(db.url(), port);
    // One delivery at a time, so the fan-out takes long enough to be
    // interrupted in the middle; a short lease, so the restarted process
    // takes over the killed one's claims within seconds (PostgreSQL; on
    // SQLite it releases them at start).
    let slow = || {
        let mut c = allmende(db.url(), port, port);
        c.env("ALLMENDE_DELIVERY_CONCURRENCY", "1")
            .env("ALLMENDE_DELIVERY_PER_HOST", "1")
            .env("ALLMENDE_DELIVERY_LEASE_SECS", "2");
        c
    };
    let sender = Serving::start(slow(), port).await;

    let mut receivers = Vec::new();
    for i in 0..RECEIVERS {
        let (receiver, receiver_token) = receiver(&format!("r{i}")).await;
        let status = post_json(
            &receiver.at("/api/v1/follows"),
            &receiver_token,
            &json!({ "target": format!("ulm@localhost:{port}") }),
        )
        .await;
        assert_eq!(status, 202);
        receivers.push(receiver);
    }
    // The Accepts have arrived: every receiver follows.
    let receivers = &receivers;
    let accepted = eventually(30, || async move {
        for r in receivers {
            let follows = r.state.store.follows();
            let following = follows
                .following(r.state.store.organizations().list().await.unwrap()[0].id)
                .await
                .unwrap();
            if !following.iter().any(|(_, accepted)| *accepted) {
                return false;
            }
        }
        true
    })
    .await;
    if !accepted {
        for r in receivers {
            eprintln!(
                "receiver {} queue: {:?}",
                r.url,
                r.state.store.queue().status(chrono::Utc::now()).await
            );
        }
        eprintln!("sender queue: {}", queue_status(db.url()));
    }
    assert!(
        accepted,
        "every follow is accepted; sender log:\n{}",
        sender.log()
    );

    for i in 0..ITEMS {
        let status = post_json(
            &format!("http://localhost:{port}/api/v1/projects"),
            &token,
            &json!({ "title": format!("Vorhaben {i}"), "status": "idea" }),
        )
        .await;
        assert_eq!(status, 201);
    }
    let total = ITEMS * RECEIVERS as i64;
    wait_until(60, "a part of the fan-out arrived", || async {
        let mut arrived = 0;
        for r in receivers {
            arrived += projects(r).await;
        }
        arrived >= total / 5
    })
    .await;
    sender.kill();
    let mut at_kill = 0;
    for r in receivers {
        at_kill += projects(r).await;
    }
    assert!(
        at_kill < total,
        "the kill came in the middle of the fan-out ({at_kill} of {total} had arrived)"
    );

    let sender = Serving::start(slow(), port).await;
    let complete = eventually(120, || async {
        let mut done = true;
        for r in receivers {
            done &= projects(r).await >= ITEMS;
        }
        done
    })
    .await;
    if !complete {
        for r in receivers {
            eprintln!(
                "receiver {}: {} projects, queue {:?}, stored {:?}",
                r.url,
                projects(r).await,
                r.state.store.queue().status(chrono::Utc::now()).await,
                r.state.store.activities().stored_count().await
            );
        }
        eprintln!("sender queue: {}", queue_status(db.url()));
    }
    assert!(
        complete,
        "every receiver has every item; sender log:\n{}",
        sender.log()
    );
    // Exactly once: every copy once, nothing more arriving.
    let db_url = db.url().to_owned();
    wait_until(60, "the sender's queue is empty", || {
        let db_url = db_url.clone();
        async move {
            let status = tokio::task::spawn_blocking(move || queue_status(&db_url))
                .await
                .unwrap();
            status["deliveries"] == 0 && status["events"] == 0
        }
    })
    .await;
    for r in receivers {
        assert_eq!(
            projects(r).await,
            ITEMS,
            "{} holds every item exactly once",
            r.url
        );
    }
    sender.stop();
    println!("SIGKILL after {at_kill} of {total} deliveries; all {total} arrived exactly once after the restart");
}

/// Two `allmende serve` processes on one PostgreSQL database deliver 400
/// activities to 100 inboxes, each exactly once, both doing part.
async fn two_processes_share_the_outbox(db: TestDatabase) {
    // 100 followers, each with its own inbox on its own host — bound before
    // the processes' ports are picked, so they cannot take one of those.
    const FOLLOWERS: usize = 100;
    let inboxes = CountingInboxes::start(FOLLOWERS).await;
    let (port_a, port_b) = (free_port(), free_port());
    let token = set_up_sender(db.url(), port_a);

    let store = Store::open(db.url()).await.unwrap();
    let ulm = store.organizations().by_handle("ulm").await.unwrap();
    for i in 0..FOLLOWERS {
        fake_follower(&store, ulm.id, &format!("f{i}"), &inboxes.url(i)).await;
    }
    store.close().await;

    // Two processes behind one public URL (A's); requests reach both.
    let a = Serving::start(allmende(db.url(), port_a, port_a), port_a).await;
    let b = Serving::start(allmende(db.url(), port_b, port_a), port_b).await;
    const ITEMS: usize = 4;
    for i in 0..ITEMS {
        let port = if i % 2 == 0 { port_a } else { port_b };
        let status = post_json(
            &format!("http://localhost:{port}/api/v1/projects"),
            &token,
            &json!({ "title": format!("Vorhaben {i}"), "status": "idea" }),
        )
        .await;
        assert_eq!(status, 201);
    }
    let expected = FOLLOWERS * ITEMS;
    wait_until(120, "every follower has every activity", || async {
        inboxes.counts().len() >= expected
    })
    .await;
    let db_url = db.url().to_owned();
    wait_until(60, "the outbox is empty", || {
        let db_url = db_url.clone();
        async move {
            let status = tokio::task::spawn_blocking(move || queue_status(&db_url))
                .await
                .unwrap();
            status["deliveries"] == 0 && status["events"] == 0
        }
    })
    .await;
    let log_a = a.stop();
    let log_b = b.stop();

    let counts = inboxes.counts();
    assert_eq!(
        counts.len(),
        expected,
        "{FOLLOWERS} inboxes × {ITEMS} activities"
    );
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    // Both processes did part of the work.
    let delivered = |log: &str| -> u64 {
        log.lines()
            .filter(|l| l.contains("background jobs stopped"))
            .filter_map(|l| l.split("delivered=").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .filter_map(|n| n.parse::<u64>().ok())
            .sum()
    };
    let (by_a, by_b) = (delivered(&log_a), delivered(&log_b));
    assert_eq!(by_a + by_b, expected as u64, "A: {log_a}\nB: {log_b}");
    assert!(
        by_a > 0 && by_b > 0,
        "both processes delivered: A {by_a}, B {by_b}"
    );
    println!("two processes: {by_a} + {by_b} deliveries, each activity exactly once");
}
