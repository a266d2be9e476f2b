//! Remote input names the URLs a node requests (an actor's inbox, a
//! WebFinger host). Outside development mode none of them may reach the
//! node's own network: not a literal private address, and not a name that
//! resolves to one — the HTTP client's own resolver drops such addresses,
//! so no connection is ever made (also not after a DNS change between a
//! check and the connection). Every test here talks only to loopback.

use std::sync::atomic::Ordering;

use allmende_store::JobKind;
use allmende_tests::api::{api_get, create_project, follow};
use allmende_tests::peers::{connection_counter, fake_follower, LOOPBACK};
use allmende_tests::{settle, spawn_app_with, test_config};

/// A node in production mode (no private peers, https only).
async fn production_node() -> (allmende_tests::TestNode, String) {
    let config = allmende_server::Config {
        federation_development: false,
        ..test_config()
    };
    let node = spawn_app_with(config).await;
    let token = node.org_with_token("ulm").await;
    (node, token)
}

#[tokio::test]
async fn deliveries_to_private_addresses_are_refused_before_connecting() {
    let (node, token) = production_node().await;
    let store = &node.state.store;
    let ulm = store.organizations().by_handle("ulm").await.unwrap().id;
    // Two followers on loopback: one by address, one by a name that
    // resolves to it. Both listeners count connections.
    let (by_address, address_hits) = connection_counter(LOOPBACK).await;
    let (by_name, name_hits) = connection_counter(LOOPBACK).await;
    fake_follower(
        store,
        ulm,
        "by-address",
        &format!("https://127.0.0.1:{}/inbox", by_address.port()),
    )
    .await;
    fake_follower(
        store,
        ulm,
        "by-name",
        &format!("https://localhost:{}/inbox", by_name.port()),
    )
    .await;

    create_project(&node, &token, "Nur für das Internet").await;
    settle(&[&node]).await;

    assert_eq!(
        address_hits.load(Ordering::Relaxed),
        0,
        "no connection to 127.0.0.1"
    );
    assert_eq!(
        name_hits.load(Ordering::Relaxed),
        0,
        "no connection to localhost"
    );
    // Refused for good (dead, with the reason), not retried.
    let stuck = store.queue().stuck().await.unwrap();
    let error_of = |port: u16| {
        stuck
            .iter()
            .find(|w| {
                w.peer
                    .as_deref()
                    .is_some_and(|p| p.ends_with(&format!(":{port}")))
            })
            .map(|w| {
                assert_eq!(w.kind, JobKind::Delivery);
                assert!(!w.paused);
                w.last_error.clone().unwrap_or_default()
            })
            .unwrap_or_else(|| panic!("no dead delivery to port {port}: {stuck:?}"))
    };
    let error = error_of(by_address.port());
    assert!(error.contains("not a public address"), "{error}");
    let error = error_of(by_name.port());
    assert!(error.contains("has no public address"), "{error}");
    assert_eq!(
        node.state
            .federation
            .jobs()
            .stats()
            .refused
            .load(Ordering::Relaxed),
        2
    );
}

#[tokio::test]
async fn following_an_address_on_the_own_network_is_refused_before_connecting() {
    let (node, token) = production_node().await;
    let (listener, hits) = connection_counter(LOOPBACK).await;
    for target in [
        format!("someone@localhost:{}", listener.port()),
        format!("someone@127.0.0.1:{}", listener.port()),
        format!("https://localhost:{}/users/someone", listener.port()),
    ] {
        assert_eq!(follow(&node, &token, &target).await, 422, "{target}");
    }
    assert_eq!(hits.load(Ordering::Relaxed), 0, "no connection was made");
    let follows = api_get(&node, &token, "/api/v1/follows").await;
    assert_eq!(follows["following"].as_array().unwrap().len(), 0);
}
