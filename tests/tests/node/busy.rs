//! A database that cannot take more work is an answer, not an error:
//! while another writer holds SQLite's write lock past the busy timeout,
//! writes get 503 with Retry-After (API, pages, inbox), reads with a token
//! that was used in the last minute still work (they write nothing), and
//! nothing is half-written.

use allmende_store::testing::{SqliteWriteLock, TestDatabase};
use allmende_tests::signed::post_signed;
use allmende_tests::{browser, client, login, spawn_app, spawn_app_with_db, test_config};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_locked_database_gets_503_with_retry_after_and_reads_go_on() {
    let db = TestDatabase::sqlite();
    let node = spawn_app_with_db(db.url(), test_config()).await;
    let token = node.org_with_token("ulm").await;
    let b = browser();
    let csrf = login(&node, &b, "admin@ulm.example").await;
    let other = spawn_app().await;
    other.org("fremd", "Fremde Stelle").await;
    let list = || {
        client()
            .get(node.at("/api/v1/projects"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(list().await.unwrap().status(), StatusCode::OK);

    // The instance actor's key (which signs the key fetch) exists by now on
    // any node that ever fetched; make it so here.
    node.state
        .federation
        .outbound()
        .instance_document()
        .await
        .unwrap();
    let lock = SqliteWriteLock::take(db.url()).await;
    let api = client()
        .post(node.at("/api/v1/projects"))
        .bearer_auth(&token)
        .json(&json!({ "title": "Während der Sperre", "status": "idea" }))
        .send();
    let page = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Auch gesperrt"),
            ("status", "idea"),
        ])
        .send();
    let follow = json!({ "id": other.at("/follows/busy"), "type": "Follow",
                         "actor": other.at("/orgs/fremd"), "object": node.at("/orgs/ulm") });
    let inbox = post_signed(&other, "fremd", &node, &follow);
    let (api, page, inbox, read) = tokio::join!(api, page, inbox, list());
    for (what, res) in [
        ("API", api.unwrap()),
        ("page", page.unwrap()),
        ("inbox", inbox),
    ] {
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
        assert!(res.headers().contains_key("retry-after"), "{what}");
    }
    assert_eq!(
        read.unwrap().status(),
        StatusCode::OK,
        "a read with a recently used token"
    );
    drop(lock);

    // Nothing was half-written; the retried writes go through.
    assert_eq!(node.count("projects").await, 0);
    assert_eq!(node.count("follows").await, 0);
    let retried = client()
        .post(node.at("/api/v1/projects"))
        .bearer_auth(&token)
        .json(&json!({ "title": "Nach der Sperre", "status": "idea" }))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(
        post_signed(&other, "fremd", &node, &follow).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(node.count("follows").await, 1);
}
