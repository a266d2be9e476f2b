//! Benchmark: a real `allmende serve` process under mixed load, with
//! 100,000 items already present, and its inbox against the store alone.
//!
//! `cargo run --release -p allmende-server --example load_bench -- \
//!     target/release/allmende sqlite|postgres [ITEMS [SECONDS]]`
//!
//! 1. **Set-up** (not timed): a fresh database with the organization `ulm`
//!    (an admin, 16 API tokens), 1,000 remote organizations on distinct
//!    loopback hosts that `ulm` follows, each with an RSA key the node
//!    knows (8 keys shared among them: verifying costs the same, and
//!    generating 1,000 keys would take minutes), and ITEMS projects (a
//!    tenth published here, the rest received from the remote ones, as on
//!    a node in a large network). Inbox requests are signed here before
//!    anything is timed, so the generator does not measure its own RSA.
//! 2. **Mixed load** for SECONDS: 16 API clients publish projects, each
//!    one request after the other, as fast as the node answers; meanwhile
//!    4 readers cycle through the start page, a list page, an item page,
//!    an API list and an API item, and 2 clients deliver signed `Create`
//!    activities from the 1,000 remote organizations to the shared inbox,
//!    each of these 50 times a second. Per route: requests per second,
//!    p50/p99 latency, errors; then whether every acknowledged write is
//!    stored exactly once.
//! 3. **Inbox**: 16 clients deliver 10,000 signed activities from the
//!    1,000 remote organizations as fast as the node takes them: checked
//!    (signature, digest, date, actor), stored and processed per second.
//!    Then the node is stopped and the same rows (the received activity,
//!    the item, the queue entry settled) are committed through the store
//!    alone, from 16 tasks, twice: the faster run is the limit for this
//!    design.
//!
//! Prints Markdown table rows for docs/performance.md on stdout and
//! progress on stderr. PostgreSQL: a database is created at
//! `ALLMENDE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and dropped after.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use allmende_domain::{
    Handle, Item, OrganizationDraft, OrganizationId, OrganizationKind, Project, ProjectInput,
};
use allmende_federation::signatures::sign_post;
use allmende_federation::SigningKey;
use allmende_store::testing::TestDatabase;
use allmende_store::{RemoteActor, Store};
use allmende_tests::process::{cpu_ms, memory_kb};
use chrono::Utc;
use uuid::Uuid;

const WRITERS: usize = 16;
const READERS: usize = 4;
const MIXED_INBOX_CLIENTS: usize = 2;
/// Requests per second of each reader and each inbox client in the mixed
/// load (200 page and API reads and 100 activities per second in all):
/// readers and senders at a steady pace, as people and peers are, while
/// the writers publish as fast as the node lets them.
const PACE_PER_CLIENT: u64 = 50;
const INBOX_CLIENTS: usize = 16;
const PEERS: usize = 1_000;
const PEER_KEYS: usize = 8;
/// Activities signed for the mixed load (more than 2 clients send in the
/// time) and for the inbox benchmark.
const MIXED_ACTIVITIES: usize = 20_000;
const INBOX_ACTIVITIES: usize = 10_000;

/// One remote organization the node knows.
struct Peer {
    org: OrganizationId,
    actor_id: String,
    key_id: String,
    key: Arc<SigningKey>,
}

/// A signed inbox request, ready to send.
struct Signed {
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    /// For the store-only run: who sent it and what it contains.
    peer: usize,
    activity_id: String,
    object_id: String,
}

/// What one route saw.
#[derive(Default)]
struct Route {
    latencies_us: Vec<u64>,
    /// Answers other than the expected status, by status (0: no answer).
    errors: BTreeMap<u16, u64>,
}

#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<BTreeMap<&'static str, Route>>>);

impl Recorder {
    fn record(&self, route: &'static str, took: Duration, status: u16, expected: u16) {
        let mut routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = routes.entry(route).or_default();
        if status == expected {
            entry.latencies_us.push(took.as_micros() as u64);
        } else {
            *entry.errors.entry(status).or_insert(0) += 1;
        }
    }

    fn ok(&self, route: &'static str) -> usize {
        let routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        routes.get(route).map_or(0, |r| r.latencies_us.len())
    }

    /// Markdown rows: route, requests/s, p50, p99, errors.
    fn rows(&self, engine: &str, seconds: f64) -> Vec<String> {
        let mut routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        routes
            .iter_mut()
            .map(|(name, route)| {
                route.latencies_us.sort_unstable();
                let pick = |q: f64| {
                    let n = route.latencies_us.len();
                    if n == 0 {
                        return 0.0;
                    }
                    let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
                    route.latencies_us[i] as f64 / 1000.0
                };
                let errors: u64 = route.errors.values().sum();
                let detail = if errors == 0 {
                    "0".to_owned()
                } else {
                    let by: Vec<String> = route
                        .errors
                        .iter()
                        .map(|(s, n)| {
                            format!(
                                "{n}× {}",
                                if *s == 0 {
                                    "no answer".into()
                                } else {
                                    s.to_string()
                                }
                            )
                        })
                        .collect();
                    format!("{errors} ({})", by.join(", "))
                };
                format!(
                    "| {engine} | {name} | {:.0} | {:.1} ms | {:.1} ms | {detail} |",
                    route.latencies_us.len() as f64 / seconds,
                    pick(0.5),
                    pick(0.99),
                )
            })
            .collect()
    }
}

/// The node's process, killed if the benchmark ends early (a panic): a
/// node left running would skew the next run.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(binary: &str, db: &str, port: u16) -> Node {
    Node(
        Command::new(binary)
            .arg("serve")
            .env("ALLMENDE_DATABASE_URL", db)
            .env("ALLMENDE_LISTEN", format!("127.0.0.1:{port}"))
            .env("ALLMENDE_PUBLIC_URL", format!("http://localhost:{port}"))
            .env("ALLMENDE_FEDERATION_DEVELOPMENT", "true")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start allmende serve"),
    )
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

fn project(title: String) -> <Project as Item>::Draft {
    Project::validate(&ProjectInput {
        title: Some(title),
        status: Some("live".into()),
        body: Some(BODY.into()),
        ..Default::default()
    })
    .expect("valid project")
}

const BODY: &str = "Die Stadt bietet die An- und Abmeldung der Hundesteuer online an: \
    Antrag, Bescheid und Zahlung ohne Behördengang, angebunden an das Fachverfahren \
    und das Servicekonto. Wir suchen Kommunen, die das Verfahren mit uns weiterentwickeln.";

/// Runs `tasks` tasks over `0..n`, each taking the next index.
async fn in_parallel<F, Fut>(tasks: usize, n: usize, work: F)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (next, work) = (next.clone(), work.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                work(i).await;
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
}

/// The remote organizations: on `127.3.x.y:9`, where nothing listens (the
/// node knows their keys and never needs to fetch anything).
async fn peers(store: &Store, follower: OrganizationId) -> Vec<Peer> {
    let keys: Vec<Arc<SigningKey>> = (0..PEER_KEYS)
        .map(|_| Arc::new(SigningKey::generate().expect("key")))
        .collect();
    let mut peers = Vec::with_capacity(PEERS);
    for i in 0..PEERS {
        let host = format!("127.3.{}.{}:9", i / 250, i % 250 + 1);
        let actor_id = format!("http://{host}/orgs/p{i}");
        let key = keys[i % PEER_KEYS].clone();
        let actor = RemoteActor {
            actor_id: actor_id.clone(),
            actor_type: "Organization".into(),
            inbox: format!("http://{host}/inbox"),
            shared_inbox: None,
            public_key_id: format!("{actor_id}#main-key"),
            public_key_pem: key.public_key_pem().to_owned(),
            profile_url: None,
            ..Default::default()
        };
        let org = store
            .remote_actors()
            .upsert(
                &Handle::remote(&format!("p{i}"), &host).expect("handle"),
                &OrganizationDraft::named(format!("Gemeinde {i}"), OrganizationKind::Municipality),
                &actor,
                Utc::now(),
            )
            .await
            .expect("remote actor");
        store
            .follows()
            .upsert(
                follower,
                org.id,
                &format!("http://localhost/follows/{i}"),
                true,
                Utc::now(),
            )
            .await
            .expect("follow");
        peers.push(Peer {
            org: org.id,
            key_id: format!("{actor_id}#main-key"),
            actor_id,
            key,
        });
    }
    peers
}

/// Signs `n` Creates of projects from the peers in turn, for the inbox at
/// `inbox` (`tag` keeps the ids of different runs apart).
async fn sign_all(peers: &Arc<Vec<Peer>>, inbox: &str, tag: &str, n: usize) -> Vec<Signed> {
    let inbox = url::Url::parse(inbox).expect("inbox URL");
    let mut chunks = Vec::new();
    // Both cores: signing 30,000 requests takes seconds.
    for part in 0..2 {
        let (peers, inbox, tag) = (peers.clone(), inbox.clone(), tag.to_owned());
        chunks.push(tokio::task::spawn_blocking(move || {
            (0..n)
                .filter(|i| i % 2 == part)
                .map(|i| {
                    let p = i % PEERS;
                    let peer = &peers[p];
                    let object_id = format!("{}/projects/{tag}-{i}", peer.actor_id);
                    let activity_id = format!("{}/activities/{tag}-{i}", peer.actor_id);
                    let body = serde_json::json!({
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "id": activity_id, "type": "Create", "actor": peer.actor_id,
                        "to": ["https://www.w3.org/ns/activitystreams#Public"],
                        "object": {
                            "id": object_id, "type": "Note", "attributedTo": peer.actor_id,
                            "itemType": "project",
                            "item": { "title": format!("Empfangen {tag}-{i}"), "status": "live", "body": BODY },
                            "content": BODY,
                        },
                    });
                    let body = serde_json::to_vec(&body).expect("JSON");
                    let headers =
                        sign_post(&peer.key, &peer.key_id, &inbox, &body).expect("signed");
                    Signed { headers, body, peer: p, activity_id, object_id }
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut all = Vec::with_capacity(n);
    for chunk in chunks {
        all.extend(chunk.await.expect("signing"));
    }
    all
}

/// Ticks [`PACE_PER_CLIENT`] times a second; a late request does not make
/// the next ones come in a burst.
fn pacer() -> tokio::time::Interval {
    let mut pace = tokio::time::interval(Duration::from_millis(1000 / PACE_PER_CLIENT));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    pace
}

async fn deliver(client: &reqwest::Client, inbox: &str, signed: &Signed) -> u16 {
    client
        .post(inbox)
        .headers(signed.headers.clone())
        .header("content-type", "application/activity+json")
        .body(signed.body.clone())
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

async fn run(binary: &str, engine: &str, items: usize, seconds: u64) {
    let db = match engine {
        "postgres" => TestDatabase::postgres("load_bench")
            .await
            .expect("PostgreSQL"),
        _ => TestDatabase::sqlite(),
    };
    let store = Store::open(db.url()).await.expect("store");
    let ulm = store
        .organizations()
        .insert(
            &Handle::parse("ulm").expect("handle"),
            &OrganizationDraft::named("Stadt Ulm", OrganizationKind::Municipality),
            Utc::now(),
        )
        .await
        .expect("organization");
    let key = SigningKey::generate()
        .expect("key")
        .to_stored()
        .expect("key");
    store
        .keys()
        .insert_if_missing(&ulm.id.to_string(), &key, Utc::now())
        .await
        .expect("key stored");
    let user = allmende_server::usecases::accounts::create_user(
        &store,
        "bench@ulm.example",
        "ulm",
        "admin",
        "ein-sicheres-passwort",
    )
    .await
    .expect("user");
    let mut tokens = Vec::new();
    for i in 0..WRITERS {
        let (token, _) =
            allmende_server::auth::token::create(&store, user.id, &format!("bench {i}"))
                .await
                .expect("token");
        tokens.push(token);
    }
    let peers = Arc::new(peers(&store, ulm.id).await);

    // The items already present: a tenth published here, the rest received.
    let started = Instant::now();
    let local = items / 10;
    let seeded: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    {
        let (store, peers, seeded) = (store.clone(), peers.clone(), seeded.clone());
        in_parallel(16, items, move |i| {
            let (store, peers, seeded) = (store.clone(), peers.clone(), seeded.clone());
            async move {
                let draft = project(format!("Vorhanden {i}: Hundesteuer digital"));
                let projects = store.projects();
                if i < local {
                    let p = projects
                        .insert(ulm.id, &draft, Utc::now())
                        .await
                        .expect("insert");
                    seeded
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(p.id());
                } else {
                    let peer = &peers[i % PEERS];
                    let id = format!("{}/projects/seed-{i}", peer.actor_id);
                    let now = Utc::now();
                    projects
                        .insert_remote(peer.org, &draft, &id, now, now)
                        .await
                        .expect("insert remote");
                }
            }
        })
        .await;
    }
    eprintln!("{engine}: {items} items stored in {:?}", started.elapsed());
    let seeded = Arc::new(seeded.lock().unwrap_or_else(|p| p.into_inner()).clone());

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let base = format!("http://localhost:{port}");
    let inbox = format!("{base}/inbox");
    let started = Instant::now();
    let mixed = Arc::new(sign_all(&peers, &inbox, "mixed", MIXED_ACTIVITIES).await);
    let burst = Arc::new(sign_all(&peers, &inbox, "burst", INBOX_ACTIVITIES).await);
    eprintln!(
        "{engine}: {} inbox requests signed in {:?}",
        mixed.len() + burst.len(),
        started.elapsed()
    );
    store.close().await;

    let mut node = serve(binary, db.url(), port);
    let child = &mut node.0;
    wait_healthy(port).await;
    // The announcements of the items published here are expanded (to no
    // deliveries: nobody follows `ulm`) before anything is measured.
    let store = Store::open(db.url()).await.expect("store");
    while store.outbox().pending().await.expect("pending") > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = store.projects().count().await.expect("count");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");

    // Mixed load.
    let recorder = Recorder::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (node_cpu, bench_cpu) = (cpu_ms(&child.id().to_string()), cpu_ms("self"));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, token) in tokens.iter().enumerate() {
        let (client, recorder, base, token) = (
            client.clone(),
            recorder.clone(),
            base.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let status = client
                    .post(format!("{base}/api/v1/projects"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({
                        "title": format!("Neu {w}-{n}: Bewohnerparkausweis online"),
                        "status": "live", "body": BODY,
                    }))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                recorder.record("POST /api/v1/projects", sent.elapsed(), status, 201);
                n += 1;
            }
        }));
    }
    for r in 0..READERS {
        let (client, recorder, base, token, seeded) = (
            client.clone(),
            recorder.clone(),
            base.clone(),
            tokens[0].clone(),
            seeded.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = r;
            let mut pace = pacer();
            while Instant::now() < deadline {
                pace.tick().await;
                let id = seeded[(n * 7919) % seeded.len()];
                let (route, path): (&'static str, String) = match n % 5 {
                    0 => ("GET / (start page)", "/".into()),
                    1 => ("GET /projects (page)", "/projects".into()),
                    2 => ("GET /projects/{id} (page)", format!("/projects/{id}")),
                    3 => (
                        "GET /api/v1/projects?limit=20",
                        "/api/v1/projects?limit=20".into(),
                    ),
                    _ => (
                        "GET /api/v1/projects/{id}",
                        format!("/api/v1/projects/{id}"),
                    ),
                };
                let sent = Instant::now();
                let status = match client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    // The whole body: a page is read when it is all there.
                    Ok(r) => {
                        let status = r.status().as_u16();
                        r.bytes().await.map_or(0, |_| status)
                    }
                    Err(_) => 0,
                };
                recorder.record(route, sent.elapsed(), status, 200);
                n += 1;
            }
        }));
    }
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..MIXED_INBOX_CLIENTS {
        let (client, recorder, inbox, mixed, next) = (
            client.clone(),
            recorder.clone(),
            inbox.clone(),
            mixed.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut pace = pacer();
            while Instant::now() < deadline {
                pace.tick().await;
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(signed) = mixed.get(i) else {
                    eprintln!("ran out of signed inbox requests");
                    break;
                };
                let sent = Instant::now();
                let status = deliver(&client, &inbox, signed).await;
                recorder.record("POST /inbox (signed Create)", sent.elapsed(), status, 202);
            }
        }));
    }
    for task in tasks {
        task.await.expect("load task");
    }
    let took = started.elapsed().as_secs_f64();
    let node_cpu = cpu_ms(&child.id().to_string()) - node_cpu;
    let bench_cpu = cpu_ms("self") - bench_cpu;
    let peak_kb = memory_kb(child.id(), "VmHWM:");
    let written = recorder.ok("POST /api/v1/projects") as i64;
    let received = recorder.ok("POST /inbox (signed Create)") as i64;
    let after = store.projects().count().await.expect("count");
    let missing = before + written + received - after;
    for row in recorder.rows(engine, took) {
        println!("{row}");
    }
    println!(
        "| {engine} | (all) | node CPU {:.0} % of one core, generator {:.0} %; node peak memory {:.0} MB; items {before} → {after}; acknowledged writes missing afterwards: {missing} | | | |",
        node_cpu as f64 / took / 10.0,
        bench_cpu as f64 / took / 10.0,
        peak_kb as f64 / 1024.0,
    );

    // Inbox benchmark: as fast as the node takes them.
    let before = store.projects().count().await.expect("count");
    let recorder = Recorder::default();
    let node_cpu = cpu_ms(&child.id().to_string());
    let started = Instant::now();
    {
        let (client, recorder, inbox, burst) = (
            client.clone(),
            recorder.clone(),
            inbox.clone(),
            burst.clone(),
        );
        in_parallel(INBOX_CLIENTS, burst.len(), move |i| {
            let (client, recorder, inbox, burst) = (
                client.clone(),
                recorder.clone(),
                inbox.clone(),
                burst.clone(),
            );
            async move {
                let sent = Instant::now();
                let status = deliver(&client, &inbox, &burst[i]).await;
                recorder.record(
                    "POST /inbox (inbox benchmark, 16 clients)",
                    sent.elapsed(),
                    status,
                    202,
                );
            }
        })
        .await;
    }
    let inbox_took = started.elapsed().as_secs_f64();
    let inbox_node_cpu = (cpu_ms(&child.id().to_string()) - node_cpu) as f64 / inbox_took / 10.0;
    let accepted = recorder.ok("POST /inbox (inbox benchmark, 16 clients)");
    let stored = store.projects().count().await.expect("count") - before;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().expect("node stops");

    // The same rows through the store alone, twice (it varies by a
    // third between runs on a busy machine); the faster run is the limit.
    let mut store_took = f64::MAX;
    for round in 0..2 {
        let started = Instant::now();
        {
            let (store, peers, burst) = (store.clone(), peers.clone(), burst.clone());
            in_parallel(INBOX_CLIENTS, burst.len(), move |i| {
                let round = round;
                let (store, peers, burst) = (store.clone(), peers.clone(), burst.clone());
                async move {
                    let signed = &burst[i];
                    let peer = &peers[signed.peer];
                    // Other ids than the node stored: the same rows, not
                    // duplicates of them.
                    let activity_id = format!("{}#store-only-{round}", signed.activity_id);
                    let object_id = format!("{}-store-only-{round}", signed.object_id);
                    let body = String::from_utf8_lossy(&signed.body);
                    let now = Utc::now();
                    let queued = store
                        .activities()
                        .accept(
                            &activity_id,
                            &peer.actor_id,
                            &body,
                            now,
                            chrono::Duration::seconds(60),
                        )
                        .await
                        .expect("accept")
                        .expect("new");
                    let draft = project(format!("Empfangen {i}"));
                    store
                        .projects()
                        .insert_remote(peer.org, &draft, &object_id, now, now)
                        .await
                        .expect("insert");
                    store
                        .activities()
                        .processed(queued)
                        .await
                        .expect("processed");
                }
            })
            .await;
        }
        store_took = store_took.min(started.elapsed().as_secs_f64());
    }
    let inbox_rate = accepted as f64 / inbox_took;
    let store_rate = burst.len() as f64 / store_took;
    for row in recorder.rows(engine, inbox_took) {
        println!("{row}");
    }
    println!(
        "| {engine} | inbox: {accepted} accepted, {stored} items stored, {inbox_rate:.0}/s (node CPU {inbox_node_cpu:.0} % of one core); store alone {store_rate:.0}/s; ratio {:.2} | | | |",
        inbox_rate / store_rate
    );
    store.close().await;
    drop(db);
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .expect("usage: load_bench BINARY sqlite|postgres [ITEMS [SECONDS]]");
    let engine = args.next().unwrap_or_else(|| "sqlite".into());
    let items = args.next().map_or(100_000, |a| a.parse().expect("ITEMS"));
    let seconds = args.next().map_or(20, |a| a.parse().expect("SECONDS"));
    run(&binary, &engine, items, seconds).await;
}
