//! Benchmark: fan-out of one item to followers on N inboxes on loopback.
//!
//! `cargo run --release -p allmende-federation --example fanout 10 100 1000`
//!
//! For each N: N receiving HTTP servers (one per port, so each is its own
//! host for the per-host concurrency bound) that count requests; a node
//! with one organization whose N followers each have their own inbox. One
//! Create is published; the time from publishing until every inbox has
//! answered gives deliveries per second. Receivers only count; they do not
//! verify signatures, so the figure is the sender's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use allmende_domain::{Handle, OrganizationDraft, OrganizationKind, ProjectInput};
use allmende_federation::{DeliverySettings, Federation, FederationSettings};
use allmende_store::{RemoteActor, Store};
use axum::routing::post;
use axum::Router;
use chrono::Utc;

async fn receivers(n: usize, hits: Arc<AtomicU64>) -> Vec<u16> {
    let mut ports = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        ports.push(listener.local_addr().expect("addr").port());
        let hits = hits.clone();
        let app = Router::new().route(
            "/inbox",
            post(move || {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    ports
}

fn profile(name: &str) -> OrganizationDraft {
    OrganizationDraft::named(name, OrganizationKind::Municipality)
}

async fn run(n: usize) -> Result<f64, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("bench.sqlite").display()
    ))
    .await?;
    let federation = Federation::start(
        store.clone(),
        FederationSettings {
            public_url: "http://localhost:1".parse()?,
            allow_private_peers: true,
            max_inbox_bytes: 256 * 1024,
            delivery: DeliverySettings::default(),
            version: "bench".into(),
        },
    )?;
    let now = Utc::now();
    let org = store
        .organizations()
        .insert(
            &Handle::parse("ulm").map_err(|p| p.message_en())?,
            &profile("Stadt Ulm"),
            now,
        )
        .await?;
    let hits = Arc::new(AtomicU64::new(0));
    let key_pem = federation
        .organization_key(org.id)
        .await?
        .public_key_pem()
        .to_owned();
    for (i, port) in receivers(n, hits.clone()).await.into_iter().enumerate() {
        let host = format!("localhost:{port}");
        let actor = RemoteActor {
            actor_id: format!("http://{host}/users/f{i}"),
            actor_type: "Person".into(),
            inbox: format!("http://{host}/inbox"),
            shared_inbox: None,
            public_key_id: format!("http://{host}/users/f{i}#main-key"),
            public_key_pem: key_pem.clone(),
            profile_url: None,
        };
        let follower = store
            .remote_actors()
            .upsert(
                &Handle::remote(&format!("f{i}"), &host).map_err(|p| p.message_en())?,
                &profile("F"),
                &actor,
                now,
            )
            .await?;
        store
            .follows()
            .upsert(follower.id, org.id, &format!("f{i}"), true, now)
            .await?;
    }
    let draft = ProjectInput {
        title: Some("Hundesteuer digital".into()),
        status: Some("live".into()),
        body: Some("x".repeat(1500)),
        ..Default::default()
    }
    .validate()
    .map_err(|e| e.to_string())?;
    let start = Instant::now();
    store.projects().insert(org.id, &draft, now).await?;
    federation.wake();
    Federation::settle(&[&federation]).await;
    let elapsed = start.elapsed().as_secs_f64();
    let delivered = hits.load(Ordering::Relaxed);
    assert_eq!(delivered, n as u64, "every inbox received the item");
    Ok(n as f64 / elapsed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() {
        vec![10, 100, 1000]
    } else {
        sizes
    };
    for n in sizes {
        let per_second = run(n).await?;
        println!("fanout_{n}_deliveries_per_s {per_second:.0}");
    }
    Ok(())
}
