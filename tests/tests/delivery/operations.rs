//! The operations page: only for the node's operators.

use allmende_tests::{browser, login, settle, spawn_app_with, test_config};

use allmende_tests::api::{create_project, follow};

#[tokio::test]
async fn operators_see_the_queue_and_others_do_not() {
    let config = allmende_server::Config {
        operators: vec!["betrieb@ulm.example".into()],
        ..test_config()
    };
    let ulm = spawn_app_with(config).await;
    ulm.org_with_user("ulm", "Stadt Ulm", "betrieb@ulm.example", "admin")
        .await;
    ulm.user("redaktion@ulm.example", "ulm", "admin").await;

    // Anonymous: to the login page.
    let anonymous = browser().get(ulm.at("/admin/queue")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);

    // An organization admin who does not operate the node: 403, no link.
    let editor = browser();
    login(&ulm, &editor, "redaktion@ulm.example").await;
    let refused = editor.get(ulm.at("/admin/queue")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let home = editor
        .get(ulm.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("/admin/queue"));

    // The operator sees the figures and a failing peer.
    let operator = browser();
    login(&ulm, &operator, "betrieb@ulm.example").await;
    let home = operator
        .get(ulm.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("href=\"/admin/queue\""));
    let page = operator.get(ulm.at("/admin/queue")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    allmende_tests::assert_heading_order("/admin/queue", &html);
    assert!(html.contains("Zustellungen ausstehend"));
    assert!(html.contains("Keine: Alle Gegenstellen"));

    // A follower whose node then disappears: its delivery fails and shows.
    let mannheim = allmende_tests::spawn_app().await;
    let token = mannheim.org_with_token("mannheim").await;
    assert_eq!(
        follow(&mannheim, &token, &format!("ulm@{}", ulm.host())).await,
        202
    );
    settle(&[&ulm, &mannheim]).await;
    let gone = mannheim.host();
    mannheim.stop().await;
    let ulm_token = ulm.token_for("betrieb@ulm.example").await;
    create_project(&ulm, &ulm_token, "Während der Störung").await;
    let store = ulm.state.store.clone();
    allmende_tests::wait_until(30, "the failing peer is listed", || {
        let store = store.clone();
        async move {
            !store
                .queue()
                .status(chrono::Utc::now())
                .await
                .unwrap()
                .failing_peers
                .is_empty()
        }
    })
    .await;
    let html = operator
        .get(ulm.at("/admin/queue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&gone), "the failing host is named");
}
