//! Benchmark: the durable outbox of a real `allmende serve` process.
//!
//! `cargo run --release -p allmende-server --example outbox_bench -- \
//!     target/release/allmende sqlite|postgres [100 1000]`
//!
//! For each N: a fresh database with one organization followed by N
//! actors, each with its own inbox on its own loopback address, all on
//! one port (`127.1.x.y`: N distinct hosts, as N municipalities' servers
//! would be; served here, counting the activities they receive without
//! verifying them); then the
//! node binary is started on that database and
//!
//! - its resident memory is read once it is up and idle;
//! - one project is published, unmeasured, to warm the node up (prepared
//!   statements, pool connections);
//! - five projects are published through the API, one after the other,
//!   each timed until every inbox has it: deliveries per second from the
//!   durable outbox (from the API's answer, and including the request),
//!   and until the outbox is empty again; medians of the five, and the
//!   CPU time of the node and of the counting inboxes per fan-out;
//! - the peak resident memory of the process so far (`VmHWM`);
//! - for the largest N, a second project is published, the process is
//!   killed with SIGKILL when half the inboxes have it, started again, and
//!   timed from the restart until every inbox has it and the queue is
//!   drained: the recovery time (with the deliveries sent twice).
//!
//! PostgreSQL: a database is created per N at `ALLMENDE_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) and dropped after.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use allmende_domain::{Handle, OrganizationDraft, OrganizationKind};
use allmende_store::testing::TestDatabase;
use allmende_store::Store;
use allmende_tests::peers::{fake_follower, CountingInboxes};
use allmende_tests::process::{cpu_ms, memory_kb};
use chrono::Utc;

/// Measured fan-outs per size.
const ROUNDS: usize = 5;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn serve(binary: &str, db: &str, port: u16) -> Child {
    Command::new(binary)
        .arg("serve")
        .env("ALLMENDE_DATABASE_URL", db)
        .env("ALLMENDE_LISTEN", format!("127.0.0.1:{port}"))
        .env("ALLMENDE_PUBLIC_URL", format!("http://localhost:{port}"))
        .env("ALLMENDE_FEDERATION_DEVELOPMENT", "true")
        .env("ALLMENDE_DELIVERY_LEASE_SECS", "2")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start allmende serve")
}

async fn wait_healthy(port: u16) {
    for _ in 0..2000 {
        if let Ok(r) = reqwest::get(format!("http://localhost:{port}/healthz")).await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("node did not start");
}

/// Publishes a project through the node's API, as a municipality's script
/// would; returns the project's path.
async fn publish(port: u16, token: &str, title: &str) -> String {
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("http://localhost:{port}/api/v1/projects"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "title": title, "status": "live", "body": "x".repeat(1500) }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    format!(
        "http://localhost:{port}/projects/{}",
        created["id"].as_str().expect("id")
    )
}

/// Waits until `n` inboxes saw the object `id`.
async fn wait_seen(inboxes: &CountingInboxes, id: &str, n: usize) {
    while inboxes.inboxes_with(id) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until the node's outbox is empty (polling every 5 ms, not to
/// compete with the node for the database).
async fn wait_drained(store: &Store) {
    while store.outbox().pending().await.expect("pending") > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn run(
    binary: &str,
    engine: &str,
    n: usize,
    recovery: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = match engine {
        "postgres" => TestDatabase::postgres("outbox_bench").await?,
        _ => TestDatabase::sqlite(),
    };
    let store = Store::open(db.url()).await?;
    let now = Utc::now();
    let org = store
        .organizations()
        .insert(
            &Handle::parse("ulm").map_err(|p| p.message_en())?,
            &OrganizationDraft::named("Stadt Ulm", OrganizationKind::Municipality),
            now,
        )
        .await?;
    // The organization's key exists, as on any node that has served its
    // actor once; key generation is not part of a fan-out.
    let key = allmende_federation::SigningKey::generate()?.to_stored()?;
    store
        .keys()
        .insert_if_missing(&org.id.to_string(), &key, now)
        .await?;
    let user = allmende_server::usecases::accounts::create_user(
        &store,
        "bench@ulm.example",
        "ulm",
        "admin",
        "ein-sicheres-passwort",
    )
    .await
    .map_err(|e| e.to_string())?;
    let (token, _) = allmende_server::auth::token::create(&store, user.id, "bench").await?;
    let inboxes = CountingInboxes::start_spread(n).await;
    for i in 0..n {
        // An address, not a name: the figure is the node's, not the
        // resolver's (a `localhost` inbox is resolved for every connection).
        fake_follower(&store, org.id, &format!("f{i}"), &inboxes.url(i)).await;
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = serve(binary, db.url(), port);
    wait_healthy(port).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_kb = memory_kb(child.id(), "VmRSS:");

    // Warm-up: a node that has just started prepares its statements and
    // opens its pool's connections on first use; measure a running one.
    let warm_up = publish(port, &token, "Zum Aufwärmen").await;
    wait_seen(&inboxes, &warm_up, n).await;
    wait_drained(&store).await;

    // Several measured fan-outs; the median is printed (one fan-out to
    // 100 inboxes takes some 50 ms, and a single one is noisy).
    let (node_cpu, bench_cpu) = (cpu_ms(&child.id().to_string()), cpu_ms("self"));
    let mut from_outbox = Vec::new();
    let mut with_api = Vec::new();
    let mut emptied = Vec::new();
    for round in 0..ROUNDS {
        let start = Instant::now();
        let path = publish(port, &token, &format!("Hundesteuer digital {round}")).await;
        let published = start.elapsed();
        wait_seen(&inboxes, &path, n).await;
        let all = start.elapsed();
        wait_drained(&store).await;
        let drained = start.elapsed();
        eprintln!(
            "{engine} {n}: API answered after {published:?}, every inbox had it after {all:?}, queue empty after {drained:?}"
        );
        // From the moment the item and its announcement are committed (the
        // API answered) until the last inbox has it.
        from_outbox.push(n as f64 / (all - published).as_secs_f64());
        with_api.push(n as f64 / all.as_secs_f64());
        emptied.push(drained.as_secs_f64() * 1000.0);
    }
    let node_cpu = (cpu_ms(&child.id().to_string()) - node_cpu) / ROUNDS as u64;
    let bench_cpu = (cpu_ms("self") - bench_cpu) / ROUNDS as u64;
    let peak_kb = memory_kb(child.id(), "VmHWM:");
    println!(
        "{engine} fanout_{n}_deliveries_per_s {:.0}",
        median(&mut from_outbox)
    );
    println!(
        "{engine} fanout_{n}_with_api_request_per_s {:.0}",
        median(&mut with_api)
    );
    println!(
        "{engine} fanout_{n}_queue_empty_ms {:.0}",
        median(&mut emptied)
    );
    println!("{engine} fanout_{n}_node_cpu_ms {node_cpu}");
    println!("{engine} fanout_{n}_inboxes_cpu_ms {bench_cpu}");
    println!("{engine} fanout_{n}_idle_rss_kb {idle_kb}");
    println!("{engine} fanout_{n}_peak_rss_kb {peak_kb}");

    if recovery {
        let before = inboxes.total();
        let path = publish(port, &token, "Nach dem Absturz").await;
        wait_seen(&inboxes, &path, n / 2).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("killed process ends");
        let restart = Instant::now();
        child = serve(binary, db.url(), port);
        wait_seen(&inboxes, &path, n).await;
        wait_drained(&store).await;
        let recovery = restart.elapsed();
        let repeated = inboxes.total() - before - n as u64;
        println!("{engine} recovery_{n}_ms {}", recovery.as_millis());
        println!("{engine} recovery_{n}_repeated_deliveries {repeated}");
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait()?;
    store.close().await;
    drop(db);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .ok_or("usage: outbox_bench BINARY sqlite|postgres [N…]")?;
    let engine = args.next().unwrap_or_else(|| "sqlite".into());
    let mut sizes: Vec<usize> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    if sizes.is_empty() {
        sizes = vec![100, 1000];
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    for n in sizes {
        run(&binary, &engine, n, n == largest).await?;
    }
    Ok(())
}
