//! An item deleted before the jobs built its Create: the announcement of
//! the Create ends (nothing to send), instead of being retried forever and
//! keeping the queue from ever emptying. (The same case, round by round and
//! with a follower, is in `crates/allmende-federation/tests/jobs.rs`.)

use allmende_domain::ProjectInput;
use allmende_tests::{settle, spawn_app_with, test_config, wait_until};

#[tokio::test]
async fn an_item_deleted_before_its_create_was_built_leaves_nothing_queued() {
    // The jobs run when woken, not on their own in between.
    let config = allmende_server::Config {
        delivery_poll_ms: 3_600_000,
        ..test_config()
    };
    let node = spawn_app_with(config).await;
    node.org("ulm", "Stadt Ulm").await;
    settle(&[&node]).await;
    let store = node.state.store.clone();
    let ulm = store.organizations().by_handle("ulm").await.unwrap();
    let draft = ProjectInput {
        title: Some("Gleich wieder weg".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    // Created and deleted without waking the jobs: both announcements wait.
    // (A wake-up left over from `settle` may let the jobs run once in
    // between and build the Create while its item still exists; then the
    // case did not arise, and it is tried again with a new item.)
    let mut arose = false;
    for _ in 0..5 {
        let item = store
            .projects()
            .insert(ulm.id, &draft, chrono::Utc::now())
            .await
            .unwrap();
        store.projects().delete(item.id).await.unwrap();
        if store.outbox().pending().await.unwrap() == 2 {
            arose = true;
            break;
        }
        node.state.federation.wake();
        wait_until(30, "the queue is empty again", || {
            let store = store.clone();
            async move { store.outbox().pending().await.unwrap() == 0 }
        })
        .await;
    }
    assert!(arose, "both announcements were queued before the jobs ran");

    node.state.federation.wake();
    wait_until(30, "nothing is left in the queue", || {
        let store = store.clone();
        async move { store.outbox().pending().await.unwrap() == 0 }
    })
    .await;
}
