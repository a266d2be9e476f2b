//! Allmende against a Fedify peer: WebFinger, signed fetch of our actor,
//! Follow both ways with Accept, our Create verified by Fedify, and Fedify's
//! Create(Note) and Create(Article) stored by us.

use allmende_tests::{client, settle, spawn_app};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::process::Command;

use super::peer;

async fn control(base: &str, path: &str, body: Value) -> Value {
    let response = client()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{path}: {value}");
    value
}

async fn received(base: &str) -> Vec<Value> {
    control(base, "/_test/received", json!({}))
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn allmende_and_fedify_federate_both_ways() {
    let harness = peer::root().join("interop/fedify/harness.mjs");
    if !peer::root()
        .join("interop/fedify/node_modules/@fedify/fedify")
        .exists()
        && peer::skip("interop/fedify/node_modules missing (npm ci in interop/fedify)")
    {
        return;
    }
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let actor = node.at("/orgs/ulm");

    let mut command = Command::new("node");
    command.arg(&harness);
    let (_peer, fedify) = peer::start(command, "READY").await;

    // WebFinger and a signed fetch of our actor.
    let jrd = control(&fedify, "/_test/webfinger", json!({ "actor": actor })).await;
    assert_eq!(jrd["subject"], format!("acct:ulm@{}", node.host()));
    let seen = control(&fedify, "/_test/lookup", json!({ "actor": actor })).await;
    assert_eq!(seen["id"], actor);
    assert_eq!(seen["type"], "Organization");
    assert_eq!(seen["preferredUsername"], "ulm");
    assert_eq!(
        seen["publicKeyId"],
        node.at("/orgs/ulm#main-key"),
        "Fedify reads our key: {seen}"
    );
    assert_eq!(seen["publicKeyOwner"], actor);

    // Fedify follows us; our Accept reaches it with a signature it verifies.
    control(&fedify, "/_test/follow", json!({ "actor": actor })).await;
    settle(&[&node]).await;
    let got = received(&fedify).await;
    assert!(
        got.iter()
            .any(|a| a["type"] == "Accept" && a["actor"] == actor && a["verified"] == true),
        "Fedify got our Accept: {got:?}"
    );

    // We follow Fedify's alice by handle; her Accept reaches us verified.
    let alice = format!("alice@{}", fedify.trim_start_matches("http://"));
    let (status, _) = api(
        &node,
        &token,
        Method::POST,
        "/api/v1/follows",
        json!({ "target": alice }),
    )
    .await;
    assert_eq!(status, 202);
    settle(&[&node]).await;
    let follows = api(&node, &token, Method::GET, "/api/v1/follows", Value::Null)
        .await
        .1;
    let following = follows["following"].as_array().unwrap();
    assert_eq!(following.len(), 1, "{follows}");
    assert_eq!(following[0]["accepted"], true, "Fedify accepted: {follows}");
    assert_eq!(
        follows["followers"].as_array().unwrap().len(),
        1,
        "alice follows us: {follows}"
    );

    // Our Create arrives at Fedify and verifies.
    let (status, _) = api(
        &node,
        &token,
        Method::POST,
        "/api/v1/projects",
        json!({ "title": "Hundesteuer digital", "status": "live" }),
    )
    .await;
    assert_eq!(status, 201);
    settle(&[&node]).await;
    let got = received(&fedify).await;
    let create = got
        .iter()
        .find(|a| a["type"] == "Create")
        .unwrap_or_else(|| panic!("Fedify got our Create: {got:?}"));
    assert_eq!(create["verified"], true);
    assert_eq!(create["actor"], actor);
    assert_eq!(create["objectType"], "Article");
    assert_eq!(create["objectName"], "Hundesteuer digital");

    // Fedify's Create(Note) and Create(Article) are stored here.
    control(&fedify, "/_test/create", json!({ "actor": actor, "type": "Note", "content": "<p>Hallo aus <em>Fedify</em><script>x()</script></p>" })).await;
    control(&fedify, "/_test/create", json!({ "actor": actor, "type": "Article", "name": "Ein Artikel", "content": "<p>Langtext</p>" })).await;
    let feed = api(&node, &token, Method::GET, "/api/v1/feed", Value::Null)
        .await
        .1;
    let posts: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "post")
        .collect();
    assert_eq!(posts.len(), 2, "{feed}");
    assert!(posts.iter().any(|p| p["name"] == "Ein Artikel"));
    let note = posts.iter().find(|p| p["name"].is_null()).unwrap();
    assert_eq!(note["content_html"], "<p>Hallo aus <em>Fedify</em></p>");
}

pub async fn api(
    node: &allmende_tests::TestNode,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut request = client().request(method, node.at(path)).bearer_auth(token);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
