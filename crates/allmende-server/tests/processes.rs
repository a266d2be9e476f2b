//! Crashes and several processes, with the real `allmende` binary:
//!
//! - a sender killed with SIGKILL in the middle of a fan-out and started
//!   again delivers every item to every follower, each exactly once (on
//!   SQLite and on PostgreSQL);
//! - two `allmende serve` processes on one PostgreSQL database share the
//!   outbox: hundreds of deliveries, none sent twice, the queue ends empty;
//! - a node killed with SIGKILL while API clients and a peer's inbox
//!   deliveries keep it busy, and started again, holds every write and
//!   every inbox activity it acknowledged exactly once (on SQLite and on
//!   PostgreSQL).
//!
//! The PostgreSQL tests need a server at `ALLMENDE_TEST_POSTGRES_URL`;
//! without one they are reported *ignored* (with the reason) in the summary
//! line, and `.ci/run` sets `ALLMENDE_REQUIRE_POSTGRES=1`, which makes that
//! a failure. (This file runs on `allmende_tests::harness`.)
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use allmende_domain::{Item, OrganizationId, Project, Viewer};
use allmende_federation::SigningKey;
use allmende_store::testing::TestDatabase;
use allmende_store::{ListFilter, Store};
use allmende_tests::api::post_json;
use allmende_tests::harness::{self, trial, Ran};
use allmende_tests::peers::{fake_follower, CountingInboxes};
use allmende_tests::signed::{org_key, post_signed_to};
use allmende_tests::{client, eventually, free_port, spawn_app, wait_until, TestNode, PASSWORD};
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
        trial(
            "sigkill_under_load_loses_no_acknowledged_write_on_sqlite",
            || async {
                sigkill_under_load(TestDatabase::sqlite()).await;
                Ran::Yes
            },
        ),
        trial(
            "sigkill_under_load_loses_no_acknowledged_write_on_postgres",
            || async {
                match TestDatabase::postgres(
                    "sigkill_under_load_loses_no_acknowledged_write_on_postgres",
                )
                .await
                {
                    Ok(db) => {
                        sigkill_under_load(db).await;
                        Ran::Yes
                    }
                    Err(reason) => Ran::Skipped(reason),
                }
            },
        ),
        trial("two_processes_share_the_outbox_on_postgres", || async {
            match TestDatabase::postgres("two_processes_share_the_outbox_on_postgres").await {
                Ok(db) => {
                    two_processes_share_the_outbox(db).await;
                    Ran::Yes
                }
                Err(reason) => Ran::Skipped(reason),
            }
        }),
        trial("a_populated_sqlite_node_moves_to_postgres", || async {
            match TestDatabase::postgres("a_populated_sqlite_node_moves_to_postgres").await {
                Ok(db) => {
                    sqlite_node_moves_to_postgres(db).await;
                    Ran::Yes
                }
                Err(reason) => Ran::Skipped(reason),
            }
        }),
    ])
}

/// A SQLite node with people, items, an answer from another node and a
/// follower there is copied into PostgreSQL by `allmende copy-to-postgres`:
/// every row arrives, and the node, started again on PostgreSQL at its
/// address, serves its pages with its keys and federates.
async fn sqlite_node_moves_to_postgres(target: TestDatabase) {
    use allmende_tests::api::{api_get, create, create_project, follow};
    use allmende_tests::{settle, spawn_app_on, test_config};

    let source = TestDatabase::sqlite();
    let ulm = spawn_app_on(source.url(), test_config(), 0).await;
    let port = ulm.port();
    let mannheim = spawn_app().await;
    let ulm_token = ulm.org_with_token("ulm").await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    assert_eq!(
        follow(&mannheim, &mannheim_token, &format!("ulm@{}", ulm.host())).await,
        202
    );
    settle(&[&ulm, &mannheim]).await;
    create_project(&ulm, &ulm_token, "Bewohnerparken online").await;
    let question = create(
        &ulm,
        &ulm_token,
        "questions",
        json!({"title": "Wer nutzt die E-Akte?", "body": "Erfahrungen gesucht."}),
    )
    .await;
    settle(&[&ulm, &mannheim]).await;
    // Mannheim answers on its node; the answer travels to Ulm's.
    let copy_id = wait_for_copy(&mannheim, "Wer nutzt die E-Akte?").await;
    let answered = client()
        .post(mannheim.at(&format!("/api/v1/questions/{copy_id}/answers")))
        .bearer_auth(&mannheim_token)
        .json(&json!({"body": "Wir, seit 2024."}))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 201);
    settle(&[&ulm, &mannheim]).await;
    let question_id = question["id"].as_str().unwrap().to_owned();
    let before = api_get(
        &ulm,
        &ulm_token,
        &format!("/api/v1/questions/{question_id}"),
    )
    .await;
    assert_eq!(before["answers"].as_array().unwrap().len(), 1, "{before}");
    let key_before = actor_key(&ulm).await;
    ulm.stop().await;

    let source_store = Store::connect(source.url()).await.unwrap();
    let source_counts = source_store.table_counts().await.unwrap();
    source_store.close().await;
    assert!(source_counts["organizations"] >= 1 && source_counts["answers"] >= 1);

    // A database_url that names no file is refused, not copied empty.
    let nowhere = Command::new(BIN)
        .args(["copy-to-postgres", target.url()])
        .env(
            "ALLMENDE_DATABASE_URL",
            "sqlite:///nonexistent/allmende.sqlite",
        )
        .output()
        .unwrap();
    assert!(!nowhere.status.success());
    assert!(
        String::from_utf8_lossy(&nowhere.stderr).contains("nothing to copy"),
        "{nowhere:?}"
    );

    let copied = Command::new(BIN)
        .args(["copy-to-postgres", target.url()])
        .env("ALLMENDE_DATABASE_URL", source.url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(copied.status.success(), "{copied:?}");
    assert!(
        String::from_utf8_lossy(&copied.stdout).contains("copied"),
        "{copied:?}"
    );

    // Every row of every table arrived.
    let target_store = Store::connect(target.url()).await.unwrap();
    let target_counts = target_store.table_counts().await.unwrap();
    target_store.close().await;
    for (table, rows) in &source_counts {
        assert_eq!(target_counts.get(table), Some(rows), "rows of {table}");
    }

    // A second copy into the same database is refused and changes nothing.
    let again = Command::new(BIN)
        .args(["copy-to-postgres", target.url()])
        .env("ALLMENDE_DATABASE_URL", source.url())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds data"),
        "{again:?}"
    );

    // The node on PostgreSQL, at its old address: same token, items,
    // answer, key and search.
    let ulm = spawn_app_on(target.url(), test_config(), port).await;
    let after = api_get(
        &ulm,
        &ulm_token,
        &format!("/api/v1/questions/{question_id}"),
    )
    .await;
    // The same answer; its times to the microsecond (PostgreSQL's
    // precision; SQLite kept nanoseconds).
    let without_times = |answers: &Value| {
        let mut answers = answers.clone();
        for answer in answers.as_array_mut().unwrap() {
            for time in ["created_at", "updated_at"] {
                let t =
                    chrono::DateTime::parse_from_rfc3339(answer[time].as_str().unwrap()).unwrap();
                // PostgreSQL rounds to the microsecond.
                answer[time] = json!((t.timestamp_nanos_opt().unwrap() + 500) / 1000);
            }
        }
        answers
    };
    assert_eq!(
        without_times(&after["answers"]),
        without_times(&before["answers"])
    );
    assert_eq!(actor_key(&ulm).await, key_before);
    let found = client()
        .get(ulm.at("/search?q=Bewohnerparken"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(found.contains("Bewohnerparken online"));
    // It federates: its follower on the other node gets what it publishes
    // now.
    create_project(&ulm, &ulm_token, "Nach dem Umzug").await;
    settle(&[&ulm, &mannheim]).await;
    wait_for_copy(&mannheim, "Nach dem Umzug").await;
    ulm.stop().await;
    mannheim.stop().await;
}

/// The id of the copy of an item titled `title` on `node`, once it is there.
async fn wait_for_copy(node: &TestNode, title: &str) -> String {
    allmende_tests::wait_for(30, &format!("{title} arrives"), || async {
        for collection in ["projects", "questions"] {
            let listed = allmende_tests::api::items(node, collection).await;
            if let Some(id) = listed.iter().find(|i| i["title"] == title) {
                return id["id"].as_str().map(str::to_owned);
            }
        }
        None
    })
    .await
}

async fn actor_key(node: &TestNode) -> Value {
    let (status, actor) = allmende_tests::api::fetch_ap(&node.at("/orgs/ulm")).await;
    assert_eq!(status, 200);
    actor["publicKey"]["publicKeyPem"].clone()
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

    /// SIGKILL: no shutdown, no cleanup. Returns what the process logged
    /// until then.
    fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.log()
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
        // As a load balancer passes it on: the public host, whichever
        // process answers.
        let status = allmende_tests::client()
            .post(format!("http://localhost:{port}/api/v1/projects"))
            .header("host", format!("localhost:{port_a}"))
            .bearer_auth(&token)
            .json(&json!({ "title": format!("Vorhaben {i}"), "status": "idea" }))
            .send()
            .await
            .unwrap()
            .status();
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

/// API clients publishing projects at once during the load phase, each
/// one request after the other.
const WRITERS: usize = 8;
/// Inbox senders at once: the followed peer delivering Creates.
const SENDERS: usize = 3;
/// The kill comes once this many writes and inbox activities were
/// acknowledged, or after [`LOAD_SECS`], whichever is first.
const KILL_AFTER_WRITES: usize = 500;
const KILL_AFTER_ACTIVITIES: usize = 60;
const LOAD_SECS: u64 = 3;
/// Fewer acknowledgements than these before the kill and the test would
/// show little: it fails instead of passing on next to nothing.
const MIN_WRITES: usize = 50;
const MIN_ACTIVITIES: usize = 10;
/// A request the node does not answer in this time counts as unanswered
/// (before the kill: a failure).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the load tasks share with the test.
#[derive(Default)]
struct Load {
    /// Set just before the SIGKILL: from then on a request without an
    /// answer is expected; before, it is a failure.
    killing: AtomicBool,
    /// Acknowledged so far, so the test knows when to kill.
    writes: AtomicUsize,
    activities: AtomicUsize,
}

/// How the node answered one request.
#[derive(PartialEq, Eq)]
enum Answer {
    Acknowledged,
    Refused,
    /// No answer: the node is gone, or did not answer in time.
    Missing,
}

/// What the clients of one kind saw, by key (a title or an activity's
/// number).
#[derive(Default)]
struct Seen {
    /// Answered with the success status: must exist exactly once.
    acknowledged: Vec<String>,
    /// Sent without an answer (the kill came first): may exist, at most
    /// once.
    unanswered: Vec<String>,
    /// Answered 503 with `Retry-After` (the node was overloaded, which is
    /// allowed): counted.
    busy: Vec<String>,
    /// What must not happen: any other answer, or none before the kill.
    wrong: Vec<String>,
}

impl Seen {
    fn record(
        &mut self,
        key: String,
        answer: reqwest::Result<reqwest::Response>,
        success: u16,
        load: &Load,
    ) -> Answer {
        match answer {
            Ok(r) if r.status().as_u16() == success => {
                self.acknowledged.push(key);
                Answer::Acknowledged
            }
            Ok(r) if r.status() == 503 && r.headers().contains_key("retry-after") => {
                self.busy.push(key);
                Answer::Refused
            }
            Ok(r) => {
                self.wrong.push(format!("{key}: answered {}", r.status()));
                Answer::Refused
            }
            Err(e) => {
                if !load.killing.load(Ordering::SeqCst) {
                    self.wrong
                        .push(format!("{key}: no answer before the kill: {e}"));
                }
                self.unanswered.push(key);
                Answer::Missing
            }
        }
    }

    fn merge(&mut self, other: Seen) {
        self.acknowledged.extend(other.acknowledged);
        self.unanswered.extend(other.unanswered);
        self.busy.extend(other.busy);
        self.wrong.extend(other.wrong);
    }
}

/// A client whose requests give up after [`REQUEST_TIMEOUT`].
fn timed_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Publishes projects numbered `{task}-{n}` one after the other until the
/// node is gone.
async fn write_until_killed(url: String, token: String, task: usize, load: Arc<Load>) -> Seen {
    let client = timed_client();
    let mut seen = Seen::default();
    for n in 0usize.. {
        let key = format!("{task}-{n}");
        let answer = client
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({ "title": local_title(&key), "status": "idea" }))
            .send()
            .await;
        match seen.record(key, answer, 201, &load) {
            Answer::Acknowledged => {
                load.writes.fetch_add(1, Ordering::SeqCst);
            }
            Answer::Missing if load.killing.load(Ordering::SeqCst) => break,
            Answer::Missing | Answer::Refused => {}
        }
    }
    seen
}

/// The title of the project that API write `key` publishes.
fn local_title(key: &str) -> String {
    format!("Last {key}")
}

/// The peer's organization that the node follows.
const PEER_ORG: &str = "konstanz";

/// The title of the project the peer announces as activity `key`.
fn remote_title(key: &str) -> String {
    format!("Fern {key}")
}

/// The id of the project the peer announces as activity `key`.
fn remote_object(peer: &TestNode, key: &str) -> String {
    peer.at(&format!("/projects/last-{key}"))
}

/// A Create of a project by the peer's organization, addressed to Ulm on
/// the node, as an Allmende node sends it.
fn remote_create(peer: &TestNode, to: &str, key: &str) -> Value {
    let actor = peer.at(&format!("/orgs/{PEER_ORG}"));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.at(&format!("/activities/last-{key}")),
        "type": "Create",
        "actor": actor,
        "to": [to],
        "object": {
            "id": remote_object(peer, key),
            "type": "Article",
            "attributedTo": actor,
            "name": remote_title(key),
            "content": "<p>Unter Last gesendet</p>",
            "itemType": "project",
            "item": { "title": remote_title(key), "status": "idea" },
        }
    })
}

/// Where the load phase sends the peer's activities, and as whom.
#[derive(Clone)]
struct Delivering {
    inbox: String,
    ulm: String,
    key: Arc<SigningKey>,
    key_id: String,
}

/// Delivers the peer's Creates numbered `{task}-{n}` one after the other
/// until the node is gone.
async fn send_until_killed(
    peer: Arc<TestNode>,
    to: Delivering,
    task: usize,
    load: Arc<Load>,
) -> Seen {
    let client = timed_client();
    let mut seen = Seen::default();
    for n in 0usize.. {
        let key = format!("{task}-{n}");
        let body = remote_create(&peer, &to.ulm, &key);
        let answer = post_signed_to(&client, &to.key, &to.key_id, &to.inbox, &body).await;
        match seen.record(key, answer, 202, &load) {
            Answer::Acknowledged => {
                load.activities.fetch_add(1, Ordering::SeqCst);
            }
            Answer::Missing if load.killing.load(Ordering::SeqCst) => break,
            Answer::Missing | Answer::Refused => {}
        }
    }
    seen
}

/// The last `n` lines of a log, for failure messages.
fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Lines a node logged at level ERROR (or a panic).
fn errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(" ERROR ") || l.contains("panicked"))
        .collect()
}

/// Checks that every `acknowledged` key's project exists exactly once and
/// belongs to `owner`, every unanswered one at most once, and nothing
/// else of the kind (no refused one) exists; returns how many unanswered
/// ones were stored. A `busy` one (503) may exist once where
/// `busy_may_exist`: an inbox may answer 503 after storing the activity
/// (its queue entry then handled later, and the sender's retry
/// deduplicated); an API write answered 503 was rolled back. `found` maps
/// titles to the owners of their copies; `title` makes a key's title.
fn check_kind(
    what: &str,
    seen: &Seen,
    busy_may_exist: bool,
    found: &HashMap<String, Vec<OrganizationId>>,
    prefix: &str,
    owner: OrganizationId,
    title: impl Fn(&str) -> String,
) -> usize {
    let copies = |key: &str| found.get(&title(key)).map_or(&[][..], Vec::as_slice);
    for key in &seen.acknowledged {
        let copies = copies(key);
        assert_eq!(
            copies.len(),
            1,
            "acknowledged {what} {:?} exists exactly once after the restart (found {})",
            title(key),
            copies.len()
        );
        assert_eq!(copies[0], owner, "{what} {:?} has its owner", title(key));
    }
    let busy: &[String] = if busy_may_exist { &seen.busy } else { &[] };
    let mut stored = 0;
    for key in seen.unanswered.iter().chain(busy) {
        let copies = copies(key);
        assert!(
            copies.len() <= 1,
            "unanswered or busy {what} {:?} exists at most once (found {})",
            title(key),
            copies.len()
        );
        stored += copies.len();
    }
    let expected: HashSet<String> = seen
        .acknowledged
        .iter()
        .chain(&seen.unanswered)
        .chain(busy)
        .map(|k| title(k))
        .collect();
    let strays: Vec<&String> = found
        .keys()
        .filter(|t| t.starts_with(prefix) && !expected.contains(*t))
        .collect();
    assert!(
        strays.is_empty(),
        "no {what} exists that was refused or never sent: {strays:?}"
    );
    stored
}

/// Loads a node with API writes and inbox deliveries of a followed peer,
/// SIGKILLs it in the middle, starts it again on the same database and
/// checks that everything it acknowledged is there exactly once.
async fn sigkill_under_load(db: TestDatabase) {
    let started = Instant::now();
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let token = set_up_sender(db.url(), port);
    // A short lease: on PostgreSQL, an inbox activity the killed process
    // had claimed is handled by the restarted one within seconds. No
    // per-peer inbox limit: the one peer here sends faster than the
    // default allows (the limit has tests of its own).
    let node = || {
        let mut c = allmende(db.url(), port, port);
        c.env("ALLMENDE_DELIVERY_LEASE_SECS", "2")
            .env("ALLMENDE_INBOX_REQUESTS_PER_MINUTE", "0");
        c
    };
    let serving = Serving::start(node(), port).await;

    // Ulm follows the peer's organization, so the node keeps what it
    // creates (see `Inbound::wanted`); the Accept has come back.
    let peer = Arc::new(spawn_app().await);
    peer.org(PEER_ORG, "Stadt Konstanz").await;
    let status = post_json(
        &format!("{base}/api/v1/follows"),
        &token,
        &json!({ "target": format!("{PEER_ORG}@{}", peer.host()) }),
    )
    .await;
    assert_eq!(status, 202, "Ulm follows {PEER_ORG}");
    let accepted = eventually(30, || async {
        let Ok(response) = client()
            .get(format!("{base}/api/v1/follows"))
            .bearer_auth(&token)
            .send()
            .await
        else {
            return false;
        };
        let relations: Value = response.json().await.unwrap_or(Value::Null);
        relations["following"]
            .as_array()
            .is_some_and(|list| list.iter().any(|f| f["accepted"] == true))
    })
    .await;
    assert!(
        accepted,
        "the follow is accepted; node log:\n{}",
        tail(&serving.log(), 60)
    );

    let (key, key_id) = org_key(&peer, PEER_ORG).await;
    let delivering = Delivering {
        inbox: format!("{base}/inbox"),
        ulm: format!("{base}/orgs/ulm"),
        key,
        key_id,
    };
    let load = Arc::new(Load::default());
    let writers: Vec<_> = (0..WRITERS)
        .map(|task| {
            tokio::spawn(write_until_killed(
                format!("{base}/api/v1/projects"),
                token.clone(),
                task,
                load.clone(),
            ))
        })
        .collect();
    let senders: Vec<_> = (0..SENDERS)
        .map(|task| {
            tokio::spawn(send_until_killed(
                peer.clone(),
                delivering.clone(),
                task,
                load.clone(),
            ))
        })
        .collect();
    let load_started = Instant::now();
    // Not an assertion: the kill comes when there is enough to lose, or
    // after the time; the figures are checked below.
    eventually(LOAD_SECS, || async {
        load.writes.load(Ordering::SeqCst) >= KILL_AFTER_WRITES
            && load.activities.load(Ordering::SeqCst) >= KILL_AFTER_ACTIVITIES
    })
    .await;
    load.killing.store(true, Ordering::SeqCst);
    let killed_log = serving.kill();
    let loaded_for = load_started.elapsed();

    // Every task stops at its first request without an answer.
    let mut writes = Seen::default();
    for writer in writers {
        let seen = tokio::time::timeout(REQUEST_TIMEOUT * 2, writer)
            .await
            .expect("a writer stops once the node is gone")
            .unwrap();
        writes.merge(seen);
    }
    let mut activities = Seen::default();
    for sender in senders {
        let seen = tokio::time::timeout(REQUEST_TIMEOUT * 2, sender)
            .await
            .expect("a sender stops once the node is gone")
            .unwrap();
        activities.merge(seen);
    }
    assert!(
        writes.wrong.is_empty() && activities.wrong.is_empty(),
        "before the kill, every request is answered with success or 503 + Retry-After:\n\
         writes: {:?}\ninbox: {:?}\nnode log:\n{}",
        writes.wrong,
        activities.wrong,
        tail(&killed_log, 80)
    );
    assert!(
        writes.acknowledged.len() >= MIN_WRITES && activities.acknowledged.len() >= MIN_ACTIVITIES,
        "the load phase ({loaded_for:?}) had at least {MIN_WRITES} writes and {MIN_ACTIVITIES} \
         inbox activities acknowledged before the kill: {} and {} ({} and {} busy)",
        writes.acknowledged.len(),
        activities.acknowledged.len(),
        writes.busy.len(),
        activities.busy.len()
    );

    // Started again on the same database, the node works: it takes a
    // write and an activity, and handles what was stored but not yet
    // handled at the kill.
    let serving = Serving::start(node(), port).await;
    let after = "nach-dem-Neustart";
    let status = post_json(
        &format!("{base}/api/v1/projects"),
        &token,
        &json!({ "title": local_title(after), "status": "idea" }),
    )
    .await;
    assert_eq!(status, 201, "a write after the restart");
    writes.acknowledged.push(after.into());
    let answer = post_signed_to(
        &client(),
        &delivering.key,
        &delivering.key_id,
        &delivering.inbox,
        &remote_create(&peer, &delivering.ulm, after),
    )
    .await
    .expect("the restarted node answers");
    assert_eq!(answer.status(), 202, "an activity after the restart");
    activities.acknowledged.push(after.into());

    let store = Store::open(db.url()).await.unwrap();
    let drained = eventually(30, || async {
        store.activities().stored_count().await.unwrap() == 0
    })
    .await;
    assert!(
        drained,
        "the restarted node handles the activities stored before the kill; log:\n{}",
        tail(&serving.log(), 60)
    );
    let restarted_log = serving.stop();

    let ulm = store.organizations().by_handle("ulm").await.unwrap().id;
    let (remote, _) = store
        .remote_actors()
        .by_actor_id(&peer.at(&format!("/orgs/{PEER_ORG}")))
        .await
        .unwrap()
        .expect("the followed organization is known");
    let listed = store
        .projects()
        .list(&ListFilter {
            limit: 1_000_000,
            ..ListFilter::for_viewer(Viewer::Member(ulm))
        })
        .await
        .unwrap();
    assert_eq!(
        listed.len() as i64,
        store.projects().count().await.unwrap(),
        "Ulm reads every project on its node"
    );
    let mut found: HashMap<String, Vec<OrganizationId>> = HashMap::new();
    for project in &listed {
        found
            .entry(project.content.title.clone())
            .or_default()
            .push(project.organization_id());
    }
    let written = check_kind("write", &writes, false, &found, "Last ", ulm, local_title);
    let received = check_kind(
        "inbox activity",
        &activities,
        true,
        &found,
        "Fern ",
        remote.id,
        remote_title,
    );
    // And each as the copy of the peer's object, under its id there.
    for key in &activities.acknowledged {
        let copy: Option<Project> = store
            .projects()
            .find_by_ap_id(&remote_object(&peer, key))
            .await
            .unwrap();
        assert!(
            copy.is_some_and(|p| p.organization_id() == remote.id),
            "activity {key}'s object is stored under its id"
        );
    }
    store.close().await;

    let logged: Vec<&str> = errors(&killed_log)
        .into_iter()
        .chain(errors(&restarted_log))
        .collect();
    assert!(
        logged.is_empty(),
        "the node logged errors:\n{}",
        logged.join("\n")
    );

    println!(
        "SIGKILL after {loaded_for:.1?} of load: {} writes acknowledged ({} busy, {} unanswered of \
         which {written} stored), {} inbox activities acknowledged ({} busy, {} unanswered of which \
         {received} stored); after the restart each acknowledged one exactly once ({:.1?} in all)",
        writes.acknowledged.len() - 1,
        writes.busy.len(),
        writes.unanswered.len(),
        activities.acknowledged.len() - 1,
        activities.busy.len(),
        activities.unanswered.len(),
        started.elapsed()
    );
}
