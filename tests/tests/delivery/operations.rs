//! The operations page: only for the node's operators.

use allmende_tests::{browser, login, settle, spawn_app_with, test_config};

use allmende_tests::api::{create_project, follow};

#[tokio::test]
async fn operators_see_the_queue_and_others_do_not() {
    // Deliveries are given up after two attempts, so stuck work shows soon.
    let config = allmende_server::Config {
        operators: vec!["betrieb@ulm.example".into()],
        delivery_max_attempts: 2,
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
    let editor_csrf = login(&ulm, &editor, "redaktion@ulm.example").await;
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
    let operator_csrf = login(&ulm, &operator, "betrieb@ulm.example").await;
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

    // The delivery runs out of attempts: stuck work, listed with its peer,
    // to retry or drop.
    let store = ulm.state.store.clone();
    allmende_tests::wait_until(30, "the delivery is given up", || {
        let store = store.clone();
        async move { !store.queue().stuck().await.unwrap().is_empty() }
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
    allmende_tests::assert_heading_order("/admin/queue", &html);
    assert!(html.contains("Hängende Arbeit"), "{html}");
    assert!(html.contains("Zustellungen, aufgegeben"), "{html}");
    assert!(html.contains("action=\"/admin/queue/retry\""));

    // Only operators act on it, and only with the form's token.
    let refused = editor
        .post(ulm.at("/admin/queue/retry"))
        .form(&[("csrf", editor_csrf.as_str()), ("peer", gone.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let forged = operator
        .post(ulm.at("/admin/queue/retry"))
        .form(&[("peer", gone.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(store.queue().stuck().await.unwrap().len(), 1);

    // Retry: the work is queued again (and, its peer still down, fails
    // again, later); then dropped, after a confirmation page.
    let first_death = store.queue().stuck().await.unwrap()[0].since;
    let retried = operator
        .post(ulm.at("/admin/queue/retry"))
        .form(&[("csrf", operator_csrf.as_str()), ("peer", gone.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 303);
    allmende_tests::wait_until(30, "the retried delivery is given up again", || {
        let store = store.clone();
        async move {
            let stuck = store.queue().stuck().await.unwrap();
            stuck.len() == 1 && stuck[0].since > first_death
        }
    })
    .await;
    let confirm = operator
        .get(ulm.at(&format!("/admin/queue/drop?peer={gone}")))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    allmende_tests::assert_heading_order("/admin/queue/drop", &confirm);
    assert!(confirm.contains("Endgültig verwerfen"));
    let dropped = operator
        .post(ulm.at("/admin/queue/drop"))
        .form(&[("csrf", operator_csrf.as_str()), ("peer", gone.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(dropped.status(), 303);
    assert!(store.queue().stuck().await.unwrap().is_empty());
    let html = operator
        .get(ulm.at("/admin/queue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Nichts hängt."));
}
