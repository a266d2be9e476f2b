//! Inbox hygiene: nothing is fetched or stored for a request that fails
//! its checks, a slow key URL cannot hold a request, signatures are bound
//! to this node's host, strangers' posts are not kept, and each peer has
//! a rate limit.

use std::time::Duration;

use allmende_federation::signatures::sign_post;
use allmende_federation::SigningKey;
use allmende_tests::signed::org_key;
use allmende_tests::{client, spawn_app, spawn_app_with, test_config, TestNode};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use url::Url;

async fn post(to: &TestNode, headers: HeaderMap, body: &Value) -> reqwest::Response {
    client()
        .post(to.at("/inbox"))
        .headers(headers)
        .header("content-type", "application/activity+json")
        .body(serde_json::to_vec(body).unwrap())
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("the inbox answers")
}

fn note_to(from: &TestNode, handle: &str, to: &TestNode, id: &str) -> Value {
    let actor = from.at(&format!("/orgs/{handle}"));
    json!({
        "id": from.at(&format!("/activities/{id}")), "type": "Create", "actor": actor,
        "to": [to.at("/orgs/ulm")],
        "object": { "id": from.at(&format!("/notes/{id}")), "type": "Note",
                    "attributedTo": actor, "content": "<p>Hallo Ulm</p>" },
    })
}

fn follow_of_ulm(from: &str, to: &TestNode, id: &str) -> Value {
    json!({ "id": format!("{from}/follows/{id}"), "type": "Follow",
            "actor": format!("{from}/actor"), "object": to.at("/orgs/ulm") })
}

async fn two_nodes() -> (TestNode, TestNode) {
    let ulm = spawn_app().await;
    ulm.org("ulm", "Stadt Ulm").await;
    let other = spawn_app().await;
    other.org("fremd", "Fremde Stelle").await;
    (ulm, other)
}

/// Finding 8: a garbage signature still made the node fetch and store the
/// actor behind its key id.
#[tokio::test]
async fn a_failed_signature_check_stores_nothing() {
    let (ulm, other) = two_nodes().await;
    let (_, key_id) = org_key(&other, "fremd").await;
    let body = json!({ "id": other.at("/follows/f1"), "type": "Follow",
                       "actor": other.at("/orgs/fremd"), "object": ulm.at("/orgs/ulm") });
    let forger = SigningKey::generate().unwrap();
    let headers = sign_post(
        &forger,
        &key_id,
        &Url::parse(&ulm.at("/inbox")).unwrap(),
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap();
    assert_eq!(post(&ulm, headers, &body).await.status(), 401);
    assert_eq!(
        ulm.count("remote_actors").await,
        0,
        "the key's owner is not stored"
    );
    assert_eq!(ulm.count("follows").await, 0);

    // The same Follow, really signed, is taken (and only now its actor stored).
    let (key, key_id) = org_key(&other, "fremd").await;
    let headers = sign_post(
        &key,
        &key_id,
        &Url::parse(&ulm.at("/inbox")).unwrap(),
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap();
    assert_eq!(post(&ulm, headers, &body).await.status(), 202);
    assert_eq!(ulm.count("remote_actors").await, 1);
}

/// Finding 8: a key URL that answers slowly held the request for 15 s.
/// The fetch has a budget; the request is refused when it runs out, long
/// before the slow server would answer.
#[tokio::test]
async fn a_slow_key_url_cannot_hold_the_inbox() {
    let ulm = spawn_app().await;
    ulm.org("ulm", "Stadt Ulm").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/actor",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(120)).await;
            "{}"
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = follow_of_ulm(&slow, &ulm, "slow");
    let key = SigningKey::generate().unwrap();
    let headers = sign_post(
        &key,
        &format!("{slow}/actor#main-key"),
        &Url::parse(&ulm.at("/inbox")).unwrap(),
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap();
    // The client gives up after 30 s; the budget is 5 s.
    let res = post(&ulm, headers, &body).await;
    assert_eq!(res.status(), 401);
    assert_eq!(ulm.count("remote_actors").await, 0);
}

/// Finding 9: a request signed for another host was accepted.
#[tokio::test]
async fn a_signature_made_for_another_host_is_refused() {
    let (ulm, other) = two_nodes().await;
    let (key, key_id) = org_key(&other, "fremd").await;
    let body = json!({ "id": other.at("/follows/f2"), "type": "Follow",
                       "actor": other.at("/orgs/fremd"), "object": ulm.at("/orgs/ulm") });
    let bytes = serde_json::to_vec(&body).unwrap();
    let elsewhere = Url::parse("http://other.example/inbox").unwrap();
    let headers = sign_post(&key, &key_id, &elsewhere, &bytes).unwrap();
    // Sent with the Host it was signed for, and with this node's.
    let replayed = client()
        .post(ulm.at("/inbox"))
        .headers(headers.clone())
        .header("host", "other.example")
        .header("content-type", "application/activity+json")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    // Refused before the signature is even read: not this node's host.
    assert_eq!(replayed.status(), 400, "Host: other.example");
    let mut ours = headers;
    ours.remove("host");
    assert_eq!(
        post(&ulm, ours, &body).await.status(),
        401,
        "Host of this node"
    );
    assert_eq!(ulm.count("follows").await, 0);
}

/// Finding 8: notes of actors nobody here follows, addressed to an
/// organization, were stored and never shown. Now neither the activity nor
/// the note is kept; a like is not kept either.
#[tokio::test]
async fn strangers_posts_are_not_stored() {
    let (ulm, other) = two_nodes().await;
    let (key, key_id) = org_key(&other, "fremd").await;
    let inbox = Url::parse(&ulm.at("/inbox")).unwrap();
    let like = json!({ "id": other.at("/likes/1"), "type": "Like",
                       "actor": other.at("/orgs/fremd"), "object": ulm.at("/orgs/ulm") });
    for body in [note_to(&other, "fremd", &ulm, "n1"), like] {
        let headers =
            sign_post(&key, &key_id, &inbox, &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(post(&ulm, headers, &body).await.status(), 202);
    }
    assert_eq!(ulm.count("posts").await, 0);
    assert_eq!(ulm.count("inbox_queue").await, 0, "no activity kept");
    assert_eq!(ulm.count("remote_actors").await, 0, "nobody fetched");
}

/// Each sending host gets a number of requests per minute, then 429 with
/// Retry-After; other hosts are not affected.
#[tokio::test]
async fn each_peer_is_rate_limited() {
    let ulm = spawn_app_with(allmende_server::config::Config {
        inbox_requests_per_minute: 3,
        ..test_config()
    })
    .await;
    ulm.org("ulm", "Stadt Ulm").await;
    let other = spawn_app().await;
    other.org("fremd", "Fremde Stelle").await;
    let (key, key_id) = org_key(&other, "fremd").await;
    let inbox = Url::parse(&ulm.at("/inbox")).unwrap();
    let mut statuses = vec![];
    for i in 0..4 {
        // Follows: they concern Ulm, so they are verified (and counted).
        let body = json!({ "id": other.at(&format!("/follows/r{i}")), "type": "Follow",
                           "actor": other.at("/orgs/fremd"), "object": ulm.at("/orgs/ulm") });
        let headers =
            sign_post(&key, &key_id, &inbox, &serde_json::to_vec(&body).unwrap()).unwrap();
        let res = post(&ulm, headers, &body).await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            let wait: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
    }
    // A forged request naming the same key is refused before it counts.
    let forger = SigningKey::generate().unwrap();
    let forged = note_to(&other, "fremd", &ulm, "forged");
    let headers = sign_post(
        &forger,
        &key_id,
        &inbox,
        &serde_json::to_vec(&forged).unwrap(),
    )
    .unwrap();
    assert_ne!(post(&ulm, headers, &forged).await.status(), 429);
    assert_eq!(statuses, [202, 202, 202, 429]);
}
