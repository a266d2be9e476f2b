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

use std::time::Instant;

use allmende_domain::{Handle, OrganizationDraft, OrganizationKind, ProjectInput};
use allmende_federation::{DeliverySettings, Federation, FederationSettings};
use allmende_store::Store;
use allmende_tests::peers::{fake_follower, CountingInboxes};
use chrono::Utc;

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
            inbox_per_minute: 0,
            allowlist_only: false,
            authorized_fetch: false,
            delivery: DeliverySettings::default(),
            version: "bench".into(),
        },
    )
    .await?;
    let now = Utc::now();
    let org = store
        .organizations()
        .insert(
            &Handle::parse("ulm").map_err(|p| p.message_en())?,
            &profile("Stadt Ulm"),
            now,
        )
        .await?;
    let inboxes = CountingInboxes::start(n).await;
    for i in 0..n {
        fake_follower(&store, org.id, &format!("f{i}"), &inboxes.url(i)).await;
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
    let delivered = inboxes.total();
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
