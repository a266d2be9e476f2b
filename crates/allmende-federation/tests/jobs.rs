//! Nothing stuck: the background jobs, run round by round (no background
//! loop, so the order of events is the test's), on either engine.
//!
//! - an item deleted before its Create was built ends that announcement
//!   (the Delete still goes out), instead of keeping it forever;
//! - a delivery that keeps failing is dead after its last attempt, kept
//!   with its error; operators retry it (and it arrives) or drop it;
//! - deliveries paused for an unreachable peer expire after the set time.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use allmende_domain::ProjectInput;
use allmende_federation::{DeliverySettings, Federation, FederationSettings};
use allmende_store::testing::TestDatabase;
use allmende_store::{JobKind, Scope, Store};
use allmende_tests::peers::{fake_follower, CountingInboxes};

fn settings(delivery: DeliverySettings) -> FederationSettings {
    FederationSettings {
        public_url: "http://localhost:1".parse().unwrap(),
        allow_private_peers: true,
        max_inbox_bytes: 256 * 1024,
        inbox_per_minute: 0,
        allowlist_only: false,
        authorized_fetch: false,
        delivery,
        version: "test".into(),
    }
}

/// Retries at once: the tests run round after round without waiting.
fn quick() -> DeliverySettings {
    DeliverySettings {
        retry_base: Duration::ZERO,
        retry_max: Duration::ZERO,
        ..DeliverySettings::default()
    }
}

/// A node with the organization `ulm` whose jobs only run when told to.
async fn node(
    delivery: DeliverySettings,
) -> (
    Federation,
    Store,
    TestDatabase,
    allmende_domain::OrganizationId,
) {
    let (store, db, org) = allmende_store::testing::store_with_organization("ulm").await;
    let federation = Federation::new(store.clone(), settings(delivery)).unwrap();
    (federation, store, db, org)
}

/// Runs rounds until nothing is pending (dead and paused work does not
/// count).
async fn run_jobs(federation: &Federation) {
    for _ in 0..20 {
        federation.run_jobs_once().await.unwrap();
        if federation.pending_work().await.unwrap() == 0 {
            return;
        }
    }
    panic!("work still pending after 20 rounds");
}

fn project(title: &str) -> allmende_domain::ProjectDraft {
    ProjectInput {
        title: Some(title.into()),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

#[tokio::test]
async fn an_item_deleted_before_its_create_was_built_ends_its_announcement() {
    let (federation, store, _db, ulm) = node(quick()).await;
    let inboxes = CountingInboxes::start(1).await;
    fake_follower(&store, ulm, "f", &inboxes.url(0)).await;

    // Created and deleted before the jobs ran: the Create's item is gone
    // when its announcement is built.
    let item = store
        .projects()
        .insert(ulm, &project("Gleich wieder weg"), chrono::Utc::now())
        .await
        .unwrap();
    store.projects().delete(item.id).await.unwrap();
    run_jobs(&federation).await;

    let status = store.queue().status(chrono::Utc::now()).await.unwrap();
    assert_eq!(status.events, 0, "no announcement left: {status:?}");
    assert_eq!(status.dead, 0, "and none dead: {status:?}");
    assert_eq!(federation.pending_work().await.unwrap(), 0);
    // The Delete (with its Tombstone) went out; no Create did.
    let url = federation
        .urls()
        .item(allmende_domain::ItemKind::Project, item.id.0);
    assert_eq!(inboxes.inboxes_with(&url), 1, "the Delete arrived");
    assert_eq!(inboxes.total(), 1, "and nothing else");
}

/// An inbox that answers with the status it is set to.
async fn inbox_answering(status: Arc<AtomicU16>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/inbox",
        axum::routing::post(move || {
            let status = status.clone();
            async move { axum::http::StatusCode::from_u16(status.load(Ordering::Relaxed)).unwrap() }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/inbox")
}

#[tokio::test]
async fn a_delivery_out_of_attempts_is_dead_until_an_operator_retries_or_drops_it() {
    let (federation, store, _db, ulm) = node(DeliverySettings {
        max_attempts: 3,
        ..quick()
    })
    .await;
    let answer = Arc::new(AtomicU16::new(500));
    let inbox = inbox_answering(answer.clone()).await;
    fake_follower(&store, ulm, "f", &inbox).await;
    let host = inbox
        .trim_start_matches("http://")
        .trim_end_matches("/inbox")
        .to_owned();

    store
        .projects()
        .insert(ulm, &project("Nie angekommen"), chrono::Utc::now())
        .await
        .unwrap();
    run_jobs(&federation).await;

    // Three attempts, then dead: kept, with its error, out of the queue.
    let stuck = store.queue().stuck().await.unwrap();
    assert_eq!(stuck.len(), 1, "{stuck:?}");
    let dead = &stuck[0];
    assert_eq!(dead.peer.as_deref(), Some(host.as_str()));
    assert_eq!(dead.kind, JobKind::Delivery);
    assert!(!dead.paused);
    assert_eq!(dead.count, 1);
    let error = dead.last_error.as_deref().unwrap();
    assert!(
        error.contains("gave up after 3 attempts") && error.contains("500"),
        "{error}"
    );
    assert_eq!(
        federation.pending_work().await.unwrap(),
        0,
        "dead is not pending"
    );
    let status = store.queue().status(chrono::Utc::now()).await.unwrap();
    assert_eq!((status.deliveries, status.dead), (0, 1), "{status:?}");
    run_jobs(&federation).await;
    assert_eq!(
        federation.jobs().stats().dead.load(Ordering::Relaxed),
        1,
        "a dead delivery is not tried again by itself"
    );

    // The peer is fixed; the operator retries its work: it arrives.
    answer.store(202, Ordering::Relaxed);
    let touched = store
        .queue()
        .retry(&Scope::Peer(host.clone()), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(touched.deliveries, 1);
    run_jobs(&federation).await;
    assert_eq!(
        federation.jobs().stats().delivered.load(Ordering::Relaxed),
        1
    );
    assert!(store.queue().stuck().await.unwrap().is_empty());

    // Another one dies; the operator drops it instead.
    answer.store(500, Ordering::Relaxed);
    store
        .projects()
        .insert(ulm, &project("Verworfen"), chrono::Utc::now())
        .await
        .unwrap();
    run_jobs(&federation).await;
    assert_eq!(store.queue().stuck().await.unwrap().len(), 1);
    let touched = store.queue().drop_stuck(&Scope::Peer(host)).await.unwrap();
    assert_eq!(touched.deliveries, 1);
    assert!(store.queue().stuck().await.unwrap().is_empty());
    let status = store.queue().status(chrono::Utc::now()).await.unwrap();
    assert_eq!((status.deliveries, status.dead), (0, 0), "{status:?}");
}

#[tokio::test]
async fn deliveries_paused_too_long_expire() {
    // The peer counts as unreachable at its first failure; paused
    // deliveries expire at once; upkeep runs every round.
    let (federation, store, _db, ulm) = node(DeliverySettings {
        unreachable_after: Duration::ZERO,
        paused_expiry: Duration::ZERO,
        probe_interval: Duration::ZERO,
        ..quick()
    })
    .await;
    let inbox = inbox_answering(Arc::new(AtomicU16::new(503))).await;
    fake_follower(&store, ulm, "f", &inbox).await;
    store
        .projects()
        .insert(ulm, &project("Wartet"), chrono::Utc::now())
        .await
        .unwrap();
    run_jobs(&federation).await;
    // One more round: the upkeep gives up the paused delivery.
    federation.run_jobs_once().await.unwrap();

    let stuck = store.queue().stuck().await.unwrap();
    assert_eq!(stuck.len(), 1, "{stuck:?}");
    assert!(!stuck[0].paused, "expired, not paused any more");
    let error = stuck[0].last_error.as_deref().unwrap();
    assert!(error.starts_with("expired while paused"), "{error}");
}
