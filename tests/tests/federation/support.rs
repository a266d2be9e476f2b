//! Helpers shared by the federation tests.

use allmende_tests::{client, TestNode};
use serde_json::{json, Value};

pub const AP: &str = "application/activity+json";

/// `POST /api/v1/follows` with `token`; returns the status.
pub async fn follow(node: &TestNode, token: &str, target: &str) -> u16 {
    client()
        .post(node.at("/api/v1/follows"))
        .bearer_auth(token)
        .json(&json!({ "target": target }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

pub async fn api_get(node: &TestNode, token: &str, path: &str) -> Value {
    let response = client()
        .get(node.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// Sends JSON with `method` and returns status and body.
pub async fn api_send(
    node: &TestNode,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let response = client()
        .request(method, node.at(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Fetches an ActivityPub document without a signature.
pub async fn fetch_ap(url: &str) -> (u16, Value) {
    let response = client().get(url).header("accept", AP).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The items of `collection` a node lists publicly.
pub async fn items(node: &TestNode, collection: &str) -> Vec<Value> {
    let list = allmende_tests::get_json(&node.at(&format!("/api/v1/{collection}"))).await;
    list["items"].as_array().unwrap().clone()
}

/// Titles of the items of `collection` a node lists.
pub async fn titles(node: &TestNode, collection: &str) -> Vec<String> {
    items(node, collection)
        .await
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

/// The id a node gives its copy of the item titled `title`.
pub async fn local_id(node: &TestNode, collection: &str, title: &str) -> String {
    items(node, collection)
        .await
        .iter()
        .find(|i| i["title"] == title)
        .unwrap_or_else(|| panic!("{title} not on {}", node.url))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
