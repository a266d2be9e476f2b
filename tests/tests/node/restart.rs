//! Data survives a restart of the node.

use allmende_tests::{client, spawn_app, spawn_app_with_db};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn data_survives_a_restart() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let created: Value = client()
        .post(node.at("/api/v1/questions"))
        .bearer_auth(&token)
        .json(&json!({"title": "Bleibt das?", "body": "Nach dem Neustart"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let db = node.database_url.clone();
    let dir = node.stop().await;

    let again = spawn_app_with_db(&db, allmende_server::Config::default()).await;
    let res = client()
        .get(again.at(&format!("/api/v1/questions/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["title"], "Bleibt das?");
    // The token still works after the restart.
    let me = client()
        .get(again.at("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    again.stop().await;
    drop(dir);
}
