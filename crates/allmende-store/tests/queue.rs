//! Stuck work on a real database (SQLite, or PostgreSQL with
//! `ALLMENDE_TEST_DATABASE=postgres`): dead announcements, received
//! activities and imports are skipped by the workers, listed per peer,
//! retried and dropped by operators, and purged after their time.
#![allow(clippy::unwrap_used)]

use allmende_domain::*;
use allmende_store::testing::TestDatabase;
use allmende_store::{JobKind, RemoteActor, Scope, Store};
use chrono::{Duration, Utc};

async fn store() -> (Store, TestDatabase, OrganizationId) {
    allmende_store::testing::store_with_organization("ulm").await
}

fn lease() -> Duration {
    Duration::seconds(60)
}

#[tokio::test]
async fn a_dead_announcement_is_skipped_until_retried() {
    let (store, _db, org) = store().await;
    let profile = OrganizationDraft::named("Stadt Ulm", OrganizationKind::Municipality);
    store
        .organizations()
        .update(org, &profile, Utc::now())
        .await
        .unwrap();
    let outbox = store.outbox();
    let event = outbox
        .claim_events(Utc::now(), lease(), 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(event.attempts, 0);

    // A passing failure: tried again at the time given, not before.
    let later = Utc::now() + Duration::minutes(5);
    outbox
        .event_failed(event.id, "database away", Some(later), Utc::now())
        .await
        .unwrap();
    assert!(outbox
        .claim_events(Utc::now(), lease(), 10)
        .await
        .unwrap()
        .is_empty());
    let again = outbox.claim_events(later, lease(), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);

    // Given up: dead, listed as this node's, skipped for good.
    outbox
        .event_failed(event.id, "key unreadable", None, Utc::now())
        .await
        .unwrap();
    let far = Utc::now() + Duration::days(1);
    assert!(outbox
        .claim_events(far, lease(), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(outbox.pending().await.unwrap(), 0);
    let stuck = store.queue().stuck().await.unwrap();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].peer, None);
    assert_eq!(stuck[0].kind, JobKind::Announcement);
    assert_eq!(stuck[0].last_error.as_deref(), Some("key unreadable"));

    // A retry of one peer's work leaves this node's alone; a retry of
    // this node's brings it back, attempts reset.
    let touched = store
        .queue()
        .retry(&Scope::Peer("elsewhere.example".into()), Utc::now())
        .await
        .unwrap();
    assert_eq!(touched.total(), 0);
    let touched = store
        .queue()
        .retry(&Scope::Local, Utc::now())
        .await
        .unwrap();
    assert_eq!(touched.announcements, 1);
    let back = outbox.claim_events(Utc::now(), lease(), 10).await.unwrap();
    assert_eq!((back.len(), back[0].attempts), (1, 0));
}

#[tokio::test]
async fn a_dead_received_activity_gives_way_to_a_new_delivery_and_can_be_retried() {
    let (store, _db, _) = store().await;
    let activities = store.activities();
    let actor = "https://mannheim.example/orgs/mannheim";
    let id = "https://mannheim.example/activities/1";
    let stored = activities
        .accept(id, actor, "{}", Utc::now(), lease())
        .await
        .unwrap()
        .unwrap();
    activities
        .dead(stored, id, "refused: malformed", Utc::now())
        .await
        .unwrap();
    assert_eq!(activities.stored_count().await.unwrap(), 0);
    let far = Utc::now() + Duration::days(1);
    assert!(activities
        .claim_stored(far, lease(), 10)
        .await
        .unwrap()
        .is_empty());
    let stuck = store.queue().stuck().await.unwrap();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].peer.as_deref(), Some("mannheim.example"));
    assert_eq!(stuck[0].kind, JobKind::Activity);

    // The sender delivers it again (its id was forgotten): queued anew.
    let again = activities
        .accept(id, actor, "{\"fixed\":true}", Utc::now(), lease())
        .await
        .unwrap();
    assert!(again.is_some(), "a redelivery counts");
    assert!(store.queue().stuck().await.unwrap().is_empty());
    activities
        .dead(again.unwrap(), id, "refused again", Utc::now())
        .await
        .unwrap();

    // The operator retries it: it is processed again, and a redelivery
    // meanwhile is a duplicate.
    let touched = store
        .queue()
        .retry(&Scope::Peer("mannheim.example".into()), Utc::now())
        .await
        .unwrap();
    assert_eq!(touched.activities, 1);
    assert_eq!(
        activities
            .claim_stored(Utc::now(), lease(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(activities
        .accept(id, actor, "{}", Utc::now(), lease())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_dead_import_starts_over_when_the_follow_is_accepted_again() {
    let (store, _db, ulm) = store().await;
    let now = Utc::now();
    let remote = store
        .remote_actors()
        .upsert(
            &Handle::remote("mannheim", "mannheim.example").unwrap(),
            &OrganizationDraft::named("Stadt Mannheim", OrganizationKind::Municipality),
            &RemoteActor {
                actor_id: "https://mannheim.example/orgs/mannheim".into(),
                actor_type: "Organization".into(),
                inbox: "https://mannheim.example/orgs/mannheim/inbox".into(),
                shared_inbox: None,
                public_key_id: "https://mannheim.example/orgs/mannheim#main-key".into(),
                public_key_pem: "unused".into(),
                profile_url: None,
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
    let follows = store.follows();
    follows
        .upsert(ulm, remote.id, "f1", false, now)
        .await
        .unwrap();
    assert!(follows.accept(ulm, remote.id, now).await.unwrap());
    let backfills = store.backfills();
    let job = backfills.claim(now, lease()).await.unwrap().unwrap();
    backfills
        .failed(&job, "outbox unreadable", None, now)
        .await
        .unwrap();
    assert_eq!(backfills.count().await.unwrap(), 0);
    let far = now + Duration::days(1);
    assert!(backfills.claim(far, lease()).await.unwrap().is_none());
    let stuck = store.queue().stuck().await.unwrap();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].peer.as_deref(), Some("mannheim.example"));
    assert_eq!(stuck[0].kind, JobKind::Backfill);
    assert_eq!(stuck[0].last_error.as_deref(), Some("outbox unreadable"));

    // Unfollowed and followed again: the import starts over.
    follows.remove(ulm, remote.id).await.unwrap();
    follows
        .upsert(ulm, remote.id, "f2", false, now)
        .await
        .unwrap();
    assert!(follows.accept(ulm, remote.id, now).await.unwrap());
    let job = backfills.claim(now, lease()).await.unwrap().unwrap();
    assert_eq!((job.attempts, job.pages, job.next_page), (0, 0, None));
}

#[tokio::test]
async fn dead_work_is_dropped_on_request_and_purged_after_its_time() {
    let (store, _db, org) = store().await;
    let outbox = store.outbox();
    let profile = OrganizationDraft::named("Stadt Ulm", OrganizationKind::Municipality);
    for _ in 0..2 {
        store
            .organizations()
            .update(org, &profile, Utc::now())
            .await
            .unwrap();
    }
    let events = outbox.claim_events(Utc::now(), lease(), 10).await.unwrap();
    let died = Utc::now();
    for event in &events {
        outbox
            .event_failed(event.id, "gone", None, died)
            .await
            .unwrap();
    }
    let stuck = store.queue().stuck().await.unwrap();
    assert_eq!(stuck[0].count, 2);

    // Not purged before its time…
    assert_eq!(
        store
            .queue()
            .purge_dead(died - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    // …dropped on request…
    let touched = store.queue().drop_stuck(&Scope::All).await.unwrap();
    assert_eq!(touched.announcements, 2);
    assert!(store.queue().stuck().await.unwrap().is_empty());

    // …and purged once old enough.
    store
        .organizations()
        .update(org, &profile, Utc::now())
        .await
        .unwrap();
    let event = outbox
        .claim_events(Utc::now(), lease(), 10)
        .await
        .unwrap()
        .remove(0);
    outbox
        .event_failed(event.id, "gone", None, died)
        .await
        .unwrap();
    assert_eq!(
        store
            .queue()
            .purge_dead(Utc::now() + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert!(store.queue().stuck().await.unwrap().is_empty());
}
