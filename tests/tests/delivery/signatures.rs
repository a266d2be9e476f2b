//! Both signature schemes between nodes: deliveries knock with RFC 9421
//! and fall back to draft-cavage for a peer that refuses it, remembering
//! what worked; an RFC 9421 request signed with an organization's Ed25519
//! Multikey (FEP-521a) is verified by another node.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use allmende_federation::message_signatures::{sign_post, Signer};
use allmende_tests::api::create_project;
use allmende_tests::peers::fake_follower;
use allmende_tests::{client, settle, spawn_app};
use serde_json::json;
use url::Url;

/// An inbox that knows only draft-cavage: RFC 9421 requests get 401.
async fn cavage_only_inbox() -> (String, Arc<AtomicU32>, Arc<AtomicU32>) {
    let (rfc9421, cavage) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/inbox", listener.local_addr().unwrap());
    let (a, b) = (rfc9421.clone(), cavage.clone());
    let app = axum::Router::new().route(
        "/inbox",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let (a, b) = (a.clone(), b.clone());
            async move {
                if headers.contains_key("signature-input") {
                    a.fetch_add(1, Ordering::SeqCst);
                    axum::http::StatusCode::UNAUTHORIZED
                } else {
                    assert!(headers.contains_key("signature"));
                    b.fetch_add(1, Ordering::SeqCst);
                    axum::http::StatusCode::ACCEPTED
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rfc9421, cavage)
}

#[tokio::test]
async fn a_peer_refusing_rfc9421_gets_draft_cavage_and_keeps_getting_it() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let ulm = node
        .state
        .store
        .organizations()
        .by_handle("ulm")
        .await
        .unwrap();
    let (inbox, rfc9421, cavage) = cavage_only_inbox().await;
    fake_follower(&node.state.store, ulm.id, "alt", &inbox).await;

    create_project(&node, &token, "Erstes Vorhaben").await;
    settle(&[&node]).await;
    assert_eq!(
        (
            rfc9421.load(Ordering::SeqCst),
            cavage.load(Ordering::SeqCst)
        ),
        (1, 1),
        "knocked twice"
    );
    create_project(&node, &token, "Zweites Vorhaben").await;
    settle(&[&node]).await;
    assert_eq!(
        (
            rfc9421.load(Ordering::SeqCst),
            cavage.load(Ordering::SeqCst)
        ),
        (1, 2),
        "the peer's scheme is remembered"
    );
}

#[tokio::test]
async fn an_ed25519_multikey_signature_is_verified_by_another_node() {
    let a = spawn_app().await;
    a.org("ulm", "Stadt Ulm").await;
    let b = spawn_app().await;
    b.org("fremd", "Fremde Stelle").await;
    // B's Ed25519 key is the one its actor document publishes.
    let doc: serde_json::Value = client()
        .get(b.at("/orgs/fremd"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let multikey = &doc["assertionMethod"][0];
    assert_eq!(multikey["type"], "Multikey");
    let key_id = multikey["id"].as_str().unwrap().to_owned();
    let fremd = b
        .state
        .store
        .organizations()
        .by_handle("fremd")
        .await
        .unwrap();
    let key = b
        .state
        .federation
        .organization_ed25519_key(fremd.id)
        .await
        .unwrap();
    assert_eq!(multikey["publicKeyMultibase"], key.public_key_multibase());

    let inbox = Url::parse(&a.at("/inbox")).unwrap();
    let follow = |n: u32| {
        serde_json::to_vec(&json!({
            "id": b.at(&format!("/follows/ed-{n}")), "type": "Follow",
            "actor": b.at("/orgs/fremd"), "object": a.at("/orgs/ulm"),
        }))
        .unwrap()
    };
    let post = |headers: reqwest::header::HeaderMap, body: Vec<u8>| {
        client()
            .post(a.at("/inbox"))
            .headers(headers)
            .body(body)
            .send()
    };
    let signed = sign_post(&Signer::Ed25519(&key), &key_id, &inbox, &follow(1)).unwrap();
    assert_eq!(
        post(signed.clone(), follow(2)).await.unwrap().status(),
        401,
        "changed body"
    );
    assert_eq!(post(signed, follow(1)).await.unwrap().status(), 202);
    assert_eq!(a.count("follows").await, 1);
    let (_, stored) = a
        .state
        .store
        .remote_actors()
        .by_key_id(&key_id)
        .await
        .unwrap()
        .expect("found by its Multikey id");
    assert_eq!(
        stored.ed25519_key.as_deref(),
        Some(key.public_key_multibase().as_str())
    );
}
