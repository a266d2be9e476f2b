//! The outbox's claims on a real database (SQLite, or PostgreSQL with
//! `ALLMENDE_TEST_DATABASE=postgres`): disjoint, leased, fair to new
//! deliveries, paused for unreachable peers.
#![allow(clippy::unwrap_used)]

use allmende_domain::*;
use allmende_store::testing::TestDatabase;
use allmende_store::{Announcement, NewActivity, Store};
use chrono::{Duration, Utc};

async fn store() -> (Store, TestDatabase, OrganizationId) {
    allmende_store::testing::store_with_organization("ulm").await
}

/// One activity to `n` inboxes on hosts `h0`…, through an event.
async fn queue(store: &Store, org: OrganizationId, activity: &str, n: usize) {
    store
        .organizations()
        .update(
            org,
            &OrganizationDraft::named("Stadt Ulm", OrganizationKind::Municipality),
            Utc::now(),
        )
        .await
        .unwrap();
    let events = store
        .outbox()
        .claim_events(Utc::now(), Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].announcement, Announcement::ProfileUpdated);
    let activity = NewActivity {
        activity_id: activity.into(),
        sender: org.to_string(),
        key_id: "https://ulm.example/orgs/ulm#main-key".into(),
        body: "{}".into(),
        inboxes: (0..n)
            .map(|i| {
                (
                    format!("https://h{i}.example/inbox"),
                    format!("h{i}.example"),
                )
            })
            .collect(),
    };
    store
        .outbox()
        .expand(events[0].id, Some(&activity), Utc::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_change_and_its_announcement_are_one_write() {
    let (store, _db, org) = store().await;
    let draft = ProjectInput {
        title: Some("Hundesteuer digital".into()),
        status: Some("live".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let project = store
        .projects()
        .insert(org, &draft, Utc::now())
        .await
        .unwrap();
    let events = store
        .outbox()
        .claim_events(Utc::now(), Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| e.announcement.clone())
            .collect::<Vec<_>>(),
        [Announcement::ItemCreated {
            item: allmende_domain::ItemKind::Project,
            id: project.id.0
        }]
    );
    // Claimed: nobody else gets it until the lease runs out.
    let again = store
        .outbox()
        .claim_events(Utc::now(), Duration::seconds(60), 10)
        .await
        .unwrap();
    assert!(again.is_empty());
    let later = store
        .outbox()
        .claim_events(
            Utc::now() + Duration::seconds(61),
            Duration::seconds(60),
            10,
        )
        .await
        .unwrap();
    assert_eq!(later.len(), 1, "a dead worker's claim runs out");
    // Remote copies are not announced.
    store
        .projects()
        .insert_remote(
            org,
            &draft,
            "https://elsewhere.example/p/1",
            Utc::now(),
            Utc::now(),
        )
        .await
        .unwrap();
    store
        .outbox()
        .expand(later[0].id, None, Utc::now())
        .await
        .unwrap();
    assert_eq!(store.outbox().pending().await.unwrap(), 0);
}

#[tokio::test]
async fn claims_are_disjoint_and_leased() {
    let (store, _db, org) = store().await;
    queue(&store, org, "https://ulm.example/a/1", 10).await;
    let now = Utc::now();
    let lease = Duration::seconds(60);
    let a = store
        .outbox()
        .claim_deliveries("a", now, lease, 6)
        .await
        .unwrap();
    let b = store
        .outbox()
        .claim_deliveries("b", now, lease, 6)
        .await
        .unwrap();
    assert_eq!((a.len(), b.len()), (6, 4));
    let mut ids: Vec<_> = a.iter().chain(&b).map(|d| d.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "no delivery claimed twice");
    assert!(store
        .outbox()
        .claim_deliveries("c", now, lease, 6)
        .await
        .unwrap()
        .is_empty());

    // Worker b stops and hands its claims back; a's are still held.
    store.outbox().release("b").await.unwrap();
    let c = store
        .outbox()
        .claim_deliveries("c", now, lease, 10)
        .await
        .unwrap();
    assert_eq!(c.len(), 4);

    // Delivered ones are gone, with their activity once none is left.
    store.outbox().delivered_many(&a).await.unwrap();
    store.outbox().delivered_many(&c).await.unwrap();
    let status = store.queue().status(Utc::now()).await.unwrap();
    assert_eq!(status.deliveries, 0);
    assert_eq!(store.outbox().pending().await.unwrap(), 0);
}

#[tokio::test]
async fn retries_cannot_starve_new_deliveries_and_unreachable_peers_pause() {
    let (store, _db, org) = store().await;
    let lease = Duration::seconds(60);
    let week = Duration::days(7);
    // A backlog of 20 failed deliveries, all due again.
    queue(&store, org, "https://ulm.example/a/old", 20).await;
    let now = Utc::now();
    let old = store
        .outbox()
        .claim_deliveries("w", now, lease, 20)
        .await
        .unwrap();
    assert_eq!(old.len(), 20);
    for d in &old {
        store
            .outbox()
            .retry_later(d, now, "status 503", now, week)
            .await
            .unwrap();
    }
    // Then 20 new ones.
    queue(&store, org, "https://ulm.example/a/new", 20).await;
    let later = Utc::now() + Duration::seconds(1);
    let batch = store
        .outbox()
        .claim_deliveries("w", later, lease, 8)
        .await
        .unwrap();
    let fresh = batch.iter().filter(|d| d.attempts == 0).count();
    assert_eq!(batch.len(), 8);
    assert_eq!(
        fresh, 6,
        "a quarter for retries, the rest for new deliveries"
    );

    // h0 has been failing for longer than the limit: its deliveries pause.
    let h0: Vec<_> = old
        .iter()
        .filter(|d| d.host == "h0.example")
        .cloned()
        .collect();
    store
        .outbox()
        .retry_later(
            &h0[0],
            later,
            "refused",
            later + week + Duration::seconds(1),
            week,
        )
        .await
        .unwrap();
    let status = store.queue().status(later).await.unwrap();
    let peer = status
        .failing_peers
        .iter()
        .find(|p| p.host == "h0.example")
        .unwrap();
    assert!(peer.unreachable_since.is_some());
    assert_eq!(status.paused, 2, "the old and the new delivery to h0");
    let rest = store
        .outbox()
        .claim_deliveries("w", later + Duration::seconds(120), lease, 100)
        .await
        .unwrap();
    assert!(rest.iter().all(|d| d.host != "h0.example"));

    // It answers again: its deliveries resume.
    store.outbox().peer_answered("h0.example").await.unwrap();
    let resumed = store
        .outbox()
        .claim_deliveries("w", later + Duration::seconds(240), lease, 100)
        .await
        .unwrap();
    assert!(resumed.iter().any(|d| d.host == "h0.example"));
}
