//! Helpers of the delivery tests.

use allmende_tests::{client, TestNode};
use serde_json::{json, Value};

pub async fn follow(node: &TestNode, token: &str, target: &str) {
    let status = client()
        .post(node.at("/api/v1/follows"))
        .bearer_auth(token)
        .json(&json!({ "target": target }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 202, "follow {target}");
}

pub async fn create_project(node: &TestNode, token: &str, title: &str, public: bool) {
    create(
        node,
        token,
        "projects",
        json!({ "title": title, "status": "idea" }),
        public,
    )
    .await
}

pub async fn create(node: &TestNode, token: &str, collection: &str, mut body: Value, public: bool) {
    if !public {
        body["audience"] = json!("followers");
    }
    let response = client()
        .post(node.at(&format!("/api/v1/{collection}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// Titles of the projects a node holds (its own and copies), sorted.
pub async fn project_titles(node: &TestNode) -> Vec<String> {
    // Projects are always public.
    let filter = allmende_store::ListFilter {
        limit: 1000,
        ..Default::default()
    };
    let mut titles: Vec<String> = node
        .state
        .store
        .projects()
        .list(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.content.title)
        .collect();
    titles.sort();
    titles
}
