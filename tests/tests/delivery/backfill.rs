//! A node that starts following an organization imports the public items
//! it published before, over more than one outbox page.

use allmende_tests::{settle, spawn_app};

use allmende_tests::api::{create, create_project, follow};

use super::support::project_titles;

#[tokio::test]
async fn following_imports_existing_public_items() {
    let ulm = spawn_app().await;
    let mannheim = spawn_app().await;
    let ulm_token = ulm.org_with_token("ulm").await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    // More than one outbox page (20 per page), and one restricted item.
    let mut expected = Vec::new();
    for i in 0..23 {
        let title = format!("Vorhaben {i:02}");
        create_project(&ulm, &ulm_token, &title).await;
        expected.push(title);
    }
    create(
        &ulm,
        &ulm_token,
        "questions",
        serde_json::json!({ "title": "Nur für Folgende", "body": "Intern", "audience": "followers" }),
    )
    .await;
    settle(&[&ulm]).await;
    assert!(project_titles(&mannheim).await.is_empty());

    assert_eq!(
        follow(&mannheim, &mannheim_token, &format!("ulm@{}", ulm.host())).await,
        202
    );
    settle(&[&ulm, &mannheim]).await;

    assert_eq!(project_titles(&mannheim).await, expected);
    assert_eq!(
        mannheim.count("questions").await,
        0,
        "outboxes list public items only"
    );
    assert_eq!(
        mannheim.state.store.backfills().count().await.unwrap(),
        0,
        "import finished"
    );

    // Following again (after an unfollow) does not duplicate anything.
    let status = allmende_tests::client()
        .delete(mannheim.at(&format!("/api/v1/follows/ulm@{}", ulm.host())))
        .bearer_auth(&mannheim_token)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
    settle(&[&ulm, &mannheim]).await;
    assert_eq!(
        follow(&mannheim, &mannheim_token, &format!("ulm@{}", ulm.host())).await,
        202
    );
    settle(&[&ulm, &mannheim]).await;
    assert_eq!(project_titles(&mannheim).await.len(), 23);
}
