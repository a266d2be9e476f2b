//! Requests signed as an organization of a test node, for tests of what
//! an inbox accepts.

use std::sync::Arc;

use allmende_federation::signatures::sign_post;
use allmende_federation::SigningKey;
use serde_json::Value;
use url::Url;

use crate::{client, TestNode};

/// The RSA key and key id of the organization `handle` on `node`.
pub async fn org_key(node: &TestNode, handle: &str) -> (Arc<SigningKey>, String) {
    let org = node
        .state
        .store
        .organizations()
        .by_handle(handle)
        .await
        .expect("organization");
    let key = node
        .state
        .federation
        .organization_key(org.id)
        .await
        .expect("key");
    (key, node.state.federation.urls().key_id(handle))
}

/// POSTs `body` to the shared inbox of `to`, signed (draft-cavage) with
/// `key` under `key_id`.
pub async fn post_signed_with(
    key: &SigningKey,
    key_id: &str,
    to: &TestNode,
    body: &Value,
) -> reqwest::Response {
    let bytes = serde_json::to_vec(body).expect("JSON");
    let inbox = Url::parse(&to.at("/inbox")).expect("inbox URL");
    let headers = sign_post(key, key_id, &inbox, &bytes).expect("signed");
    client()
        .post(to.at("/inbox"))
        .headers(headers)
        .header("content-type", "application/activity+json")
        .body(bytes)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .expect("the inbox answers")
}

/// POSTs `body` to the shared inbox of `to`, signed as `handle` of `from`.
pub async fn post_signed(
    from: &TestNode,
    handle: &str,
    to: &TestNode,
    body: &Value,
) -> reqwest::Response {
    let (key, key_id) = org_key(from, handle).await;
    post_signed_with(&key, &key_id, to, body).await
}

/// POSTs `body` to the inbox at the URL `inbox` — of any node, also one
/// running as another process, which [`post_signed_with`] cannot reach —
/// signed (draft-cavage) with `key` under `key_id` for that URL's host,
/// with `client` (whose timeout applies). `Err` when no answer came, which
/// a test that kills the receiver expects instead of a panic.
pub async fn post_signed_to(
    client: &reqwest::Client,
    key: &SigningKey,
    key_id: &str,
    inbox: &str,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    let bytes = serde_json::to_vec(body).expect("JSON");
    let url = Url::parse(inbox).expect("inbox URL");
    let headers = sign_post(key, key_id, &url, &bytes).expect("signed");
    client
        .post(url)
        .headers(headers)
        .header("content-type", "application/activity+json")
        .body(bytes)
        .send()
        .await
}
