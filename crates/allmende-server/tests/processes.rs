//! Crashes and several processes, with the real `allmende` binary:
//!
//! - a sender killed with SIGKILL in the middle of a fan-out and started
//!   again delivers every item to every follower, each exactly once (on
//!   SQLite and on PostgreSQL);
//! - two `allmende serve` processes on one PostgreSQL database share the
//!   outbox: hundreds of deliveries, none sent twice, the queue ends empty.
//!
//! PostgreSQL tests report themselves skipped (loudly) when no server
//! answers at `ALLMENDE_TEST_POSTGRES_URL`; `.ci/run` sets
//! `ALLMENDE_REQUIRE_POSTGRES=1`, which makes that a failure.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use allmende_domain::{Handle, OrganizationDraft, OrganizationInput, OrganizationKind};
use allmende_server::{Application, Config};
use allmende_store::testing::TestDatabase;
use allmende_store::{RemoteActor, Store};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_allmende");

/// The tests here run one at a time: each picks free ports for its node
/// processes before they bind them, and another test binding port 0 in
/// between could take one (and they load two cores fully anyway).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const PASSWORD: &str = "ein-sicheres-passwort";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

/// A follower node in this process.
struct Receiver {
    state: allmende_server::AppState,
    _db: TestDatabase,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    async fn start(handle: &str) -> (Self, String) {
        let db = TestDatabase::new().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = Config {
            database_url: db.url().to_owned(),
            listen: listener.local_addr().unwrap(),
            public_url: format!("http://localhost:{port}").parse().unwrap(),
            federation_development: true,
            delivery_retry_ms: 100,
            ..Config::default()
        };
        let app = Application::with_listener(config, listener).await.unwrap();
        let state = app.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let input = OrganizationInput {
            name: Some(format!("Gemeinde {handle}")),
            kind: Some("municipality".into()),
            ..Default::default()
        };
        allmende_server::usecases::organizations::create(&state.store, handle, &input)
            .await
            .unwrap();
        let email = format!("admin@{handle}.example");
        let user = allmende_server::usecases::accounts::create_user(
            &state.store,
            &email,
            handle,
            "admin",
            PASSWORD,
        )
        .await
        .unwrap();
        let (token, _) = allmende_server::auth::token::create(&state.store, user.id, "t")
            .await
            .unwrap();
        let receiver = Self {
            state,
            _db: db,
            stop: Some(stop),
        };
        (receiver, token)
    }

    fn url(&self) -> String {
        self.state
            .config
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }

    async fn projects(&self) -> i64 {
        self.state.store.projects().count().await.unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn post_json(url: &str, token: &str, body: Value) -> u16 {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Polls `condition` for at most `secs` seconds; `false` if it never held.
async fn eventually<F, Fut>(secs: u64, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !condition().await {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

async fn wait_until<F, Fut>(secs: u64, what: &str, condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(
        eventually(secs, condition).await,
        "timed out waiting until {what}"
    );
}

/// The sender's queue as `allmende queue status --json` reports it.
fn queue_status(db: &str) -> Value {
    let out = run(allmende(db, 0, 1), &["queue", "status", "--json"], "");
    serde_json::from_slice(&out.stdout).unwrap()
}

const ITEMS: i64 = 30;
const RECEIVERS: usize = 4;

async fn sigkill_in_the_middle_of_a_fanout(db: TestDatabase) {
    let _alone = ONE_AT_A_TIME.lock().await;
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
        let (receiver, receiver_token) = Receiver::start(&format!("r{i}")).await;
        let status = post_json(
            &format!("{}/api/v1/follows", receiver.url()),
            &receiver_token,
            json!({ "target": format!("ulm@localhost:{port}") }),
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
                r.url(),
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
            json!({ "title": format!("Vorhaben {i}"), "status": "idea" }),
        )
        .await;
        assert_eq!(status, 201);
    }
    let total = ITEMS * RECEIVERS as i64;
    wait_until(60, "a part of the fan-out arrived", || async {
        let mut arrived = 0;
        for r in receivers {
            arrived += r.projects().await;
        }
        arrived >= total / 5
    })
    .await;
    sender.kill();
    let mut at_kill = 0;
    for r in receivers {
        at_kill += r.projects().await;
    }
    assert!(
        at_kill < total,
        "the kill came in the middle of the fan-out ({at_kill} of {total} had arrived)"
    );

    let sender = Serving::start(slow(), port).await;
    let complete = eventually(120, || async {
        let mut done = true;
        for r in receivers {
            done &= r.projects().await >= ITEMS;
        }
        done
    })
    .await;
    if !complete {
        for r in receivers {
            eprintln!(
                "receiver {}: {} projects, queue {:?}, stored {:?}",
                r.url(),
                r.projects().await,
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
            r.projects().await,
            ITEMS,
            "{} holds every item exactly once",
            r.url()
        );
    }
    sender.stop();
    println!("SIGKILL after {at_kill} of {total} deliveries; all {total} arrived exactly once after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_fanout_loses_nothing_on_sqlite() {
    sigkill_in_the_middle_of_a_fanout(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_fanout_loses_nothing_on_postgres() {
    let Some(db) = TestDatabase::postgres("sigkill_mid_fanout_loses_nothing_on_postgres").await
    else {
        return;
    };
    sigkill_in_the_middle_of_a_fanout(db).await;
}

/// Inboxes that count every activity id they receive.
async fn counting_inboxes(n: usize) -> (Vec<u16>, Arc<Mutex<HashMap<(u16, String), u32>>>) {
    let counts = Arc::new(Mutex::new(HashMap::new()));
    let mut ports = Vec::new();
    for _ in 0..n {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        ports.push(port);
        let counts = counts.clone();
        let app = axum::Router::new().route(
            "/inbox",
            axum::routing::post(move |body: axum::body::Bytes| {
                let counts = counts.clone();
                async move {
                    let doc: Value = serde_json::from_slice(&body).unwrap_or_default();
                    let id = doc["id"].as_str().unwrap_or_default().to_owned();
                    *counts.lock().unwrap().entry((port, id)).or_insert(0) += 1;
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    (ports, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_outbox_on_postgres() {
    let Some(db) = TestDatabase::postgres("two_processes_share_the_outbox_on_postgres").await
    else {
        return;
    };
    let (port_a, port_b) = (free_port(), free_port());
    let token = set_up_sender(db.url(), port_a);

    // 100 followers, each with its own inbox on its own host.
    const FOLLOWERS: usize = 100;
    let (ports, counts) = counting_inboxes(FOLLOWERS).await;
    let store = Store::open(db.url()).await.unwrap();
    let ulm = store.organizations().by_handle("ulm").await.unwrap();
    let now = chrono::Utc::now();
    for (i, port) in ports.iter().enumerate() {
        let host = format!("localhost:{port}");
        let actor = RemoteActor {
            actor_id: format!("http://{host}/users/f{i}"),
            actor_type: "Person".into(),
            inbox: format!("http://{host}/inbox"),
            shared_inbox: None,
            public_key_id: format!("http://{host}/users/f{i}#main-key"),
            public_key_pem: "unused".into(),
            profile_url: None,
        };
        let follower = store
            .remote_actors()
            .upsert(
                &Handle::remote(&format!("f{i}"), &host).unwrap(),
                &OrganizationDraft::named("F", OrganizationKind::Other),
                &actor,
                now,
            )
            .await
            .unwrap();
        store
            .follows()
            .upsert(
                follower.id,
                ulm.id,
                &format!("http://{host}/follows/{i}"),
                true,
                now,
            )
            .await
            .unwrap();
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
            json!({ "title": format!("Vorhaben {i}"), "status": "idea" }),
        )
        .await;
        assert_eq!(status, 201);
    }
    let expected = FOLLOWERS * ITEMS;
    let counted = counts.clone();
    wait_until(120, "every follower has every activity", || {
        let counted = counted.clone();
        async move { counted.lock().unwrap().len() >= expected }
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

    let counts = counts.lock().unwrap();
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
