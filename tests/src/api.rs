//! Talking to a node's JSON API and ActivityPub endpoints as a script
//! would.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{client, TestNode};

pub const ACTIVITY_JSON: &str = "application/activity+json";
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The strings of a property that holds one or an array of them.
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Everyone an activity or object is addressed to (`to` and `cc`), the
/// public by its full id however it was written (`as:Public`, `Public`).
pub fn addressees(doc: &Value) -> std::collections::BTreeSet<String> {
    let mut all = strings(&doc["to"]);
    all.extend(strings(&doc["cc"]));
    all.into_iter()
        .map(|a| match a.as_str() {
            "as:Public" | "Public" => PUBLIC.to_owned(),
            _ => a,
        })
        .collect()
}

/// Sends `body` (none if `Null`) with `method` and a bearer token; returns
/// status and JSON body (`Null` if there is none).
pub async fn api(
    node: &TestNode,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut request = client().request(method, node.at(path)).bearer_auth(token);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.expect("API request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GETs `path` with a token; the request must succeed.
pub async fn api_get(node: &TestNode, token: &str, path: &str) -> Value {
    let (status, body) = api(node, token, Method::GET, path, Value::Null).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Publishes an item of `collection` (`projects`, …); it must be created.
pub async fn create(node: &TestNode, token: &str, collection: &str, body: Value) -> Value {
    let (status, item) = api(
        node,
        token,
        Method::POST,
        &format!("/api/v1/{collection}"),
        body,
    )
    .await;
    assert_eq!(status, 201, "create in {collection}: {item}");
    item
}

/// Publishes a project with just a title.
pub async fn create_project(node: &TestNode, token: &str, title: &str) -> Value {
    create(
        node,
        token,
        "projects",
        json!({ "title": title, "status": "idea" }),
    )
    .await
}

/// `POST /api/v1/follows`; returns the status (202 when the follow is on
/// its way).
pub async fn follow(node: &TestNode, token: &str, target: &str) -> u16 {
    api(
        node,
        token,
        Method::POST,
        "/api/v1/follows",
        json!({ "target": target }),
    )
    .await
    .0
}

/// POSTs JSON with a bearer token to any URL; returns the status.
pub async fn post_json(url: &str, token: &str, body: &Value) -> u16 {
    client()
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST")
        .status()
        .as_u16()
}

/// Fetches an ActivityPub document without a signature.
pub async fn fetch_ap(url: &str) -> (u16, Value) {
    let response = client()
        .get(url)
        .header("accept", ACTIVITY_JSON)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The items of `collection` a node lists publicly.
pub async fn items(node: &TestNode, collection: &str) -> Vec<Value> {
    let list = crate::get_json(&node.at(&format!("/api/v1/{collection}"))).await;
    list["items"].as_array().expect("items").clone()
}

/// Titles of the items of `collection` a node lists publicly.
pub async fn titles(node: &TestNode, collection: &str) -> Vec<String> {
    items(node, collection)
        .await
        .iter()
        .map(|i| i["title"].as_str().expect("title").to_owned())
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
        .expect("id")
        .to_owned()
}
