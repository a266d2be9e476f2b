//! A receiver that is down: deliveries wait in the sender's database,
//! survive a restart of the sender, pause once the peer counts as
//! unreachable, and resume when it is back.

use allmende_tests::{settle, spawn_app_on, spawn_app_with, test_config, wait_until, TestDatabase};

use allmende_tests::api::{create_project, follow};

use super::support::project_titles;

#[tokio::test]
async fn everything_arrives_after_an_outage_and_a_sender_restart() {
    // The sender counts a peer as unreachable at its first failure and
    // asks every second whether it is back.
    let sender_config = allmende_server::Config {
        peer_unreachable_hours: 0,
        peer_probe_secs: 1,
        ..test_config()
    };
    let mut mannheim = spawn_app_with(sender_config.clone()).await;
    let mut verbund = spawn_app_with(test_config()).await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    let verbund_token = verbund.org_with_token("verbund").await;
    assert_eq!(
        follow(
            &verbund,
            &verbund_token,
            &format!("mannheim@{}", mannheim.host())
        )
        .await,
        202
    );
    settle(&[&mannheim, &verbund]).await;

    // The association's node goes down for maintenance.
    let verbund_port = verbund.port();
    let verbund_db: TestDatabase = verbund.take_database().unwrap();
    verbund.stop().await;

    for title in ["Eins", "Zwei", "Drei"] {
        create_project(&mannheim, &mannheim_token, title).await;
    }
    // The failures make the peer unreachable; its deliveries pause.
    let store = mannheim.state.store.clone();
    wait_until(30, "the three deliveries are paused", || {
        let store = store.clone();
        async move {
            let status = store.queue().status(chrono::Utc::now()).await.unwrap();
            status.paused == 3
                && status
                    .failing_peers
                    .iter()
                    .any(|p| p.unreachable_since.is_some() && p.pending == 3)
        }
    })
    .await;
    assert_eq!(
        mannheim.state.federation.pending_work().await.unwrap(),
        0,
        "paused deliveries do not count as pending work"
    );

    // The sender restarts too: the queue is in its database.
    let mannheim_port = mannheim.port();
    let mannheim_db = mannheim.take_database().unwrap();
    mannheim.stop().await;
    let mannheim = spawn_app_on(mannheim_db.url(), sender_config, mannheim_port).await;

    // The association's node is back; the probe finds it.
    let verbund = spawn_app_on(verbund_db.url(), test_config(), verbund_port).await;
    let node = &verbund;
    wait_until(30, "the three items arrived", || async move {
        project_titles(node).await.len() == 3
    })
    .await;
    settle(&[&mannheim, &verbund]).await;
    assert_eq!(project_titles(&verbund).await, ["Drei", "Eins", "Zwei"]);
    let status = mannheim
        .state
        .store
        .queue()
        .status(chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(status.deliveries, 0);
    assert!(
        status.failing_peers.is_empty(),
        "{:?}",
        status.failing_peers
    );
    drop((mannheim_db, verbund_db));
}
