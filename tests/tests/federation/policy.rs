//! The operators' federation policy: a blocked domain can neither deliver
//! nor be fetched nor receive; allow-list mode admits only allowed domains;
//! every change is in the audit log with who made it.

use allmende_server::usecases::follows::follow_as;
use allmende_server::usecases::policy;
use allmende_tests::signed::post_signed;
use allmende_tests::{
    browser, client, login, settle, spawn_app, spawn_app_with, test_config, TestNode,
};
use serde_json::json;
use url::Url;

/// A signed Follow of Ulm on `to` by Fremd on `from`.
async fn signed_follow(from: &TestNode, to: &TestNode) -> u16 {
    let follow = json!({
        "id": from.at(&format!("/follows/{}", uuid::Uuid::new_v4())), "type": "Follow",
        "actor": from.at("/orgs/fremd"), "object": to.at("/orgs/ulm"),
    });
    post_signed(from, "fremd", to, &follow)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_blocked_domain_can_neither_send_nor_be_fetched() {
    let ulm = spawn_app().await;
    ulm.org("ulm", "Stadt Ulm").await;
    let other = spawn_app().await;
    other.org("fremd", "Fremde Stelle").await;
    policy::add(&ulm.state, "test", &other.host(), "block", "Spam")
        .await
        .unwrap();

    assert_eq!(
        signed_follow(&other, &ulm).await,
        403,
        "its deliveries are refused"
    );
    assert_eq!(
        ulm.count("remote_actors").await,
        0,
        "and nothing was fetched"
    );
    let org = ulm
        .state
        .store
        .organizations()
        .by_handle("ulm")
        .await
        .unwrap();
    assert!(
        follow_as(&ulm.state, org.id, &format!("fremd@{}", other.host()))
            .await
            .is_err(),
        "it is not looked up"
    );

    // Unblocked: the same request goes through.
    policy::remove(&ulm.state, "test", &other.host(), "block")
        .await
        .unwrap();
    assert_eq!(signed_follow(&other, &ulm).await, 202);
    assert_eq!(ulm.count("follows").await, 1);
}

#[tokio::test]
async fn nothing_is_delivered_to_a_blocked_follower() {
    let ulm = spawn_app().await;
    let token = ulm.org_with_token("ulm").await;
    let other = spawn_app().await;
    other.org("fremd", "Fremde Stelle").await;
    assert_eq!(signed_follow(&other, &ulm).await, 202);
    settle(&[&ulm, &other]).await;
    policy::add(&ulm.state, "test", &other.host(), "block", "")
        .await
        .unwrap();
    let res = client()
        .post(ulm.at("/api/v1/projects"))
        .bearer_auth(&token)
        .json(&json!({ "title": "Nach der Sperre", "status": "idea" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    settle(&[&ulm, &other]).await;
    assert_eq!(
        other.count("projects").await,
        0,
        "the blocked follower got nothing"
    );
}

#[tokio::test]
async fn allowlist_mode_admits_only_allowed_domains() {
    let ulm = spawn_app_with(allmende_server::config::Config {
        federation_allowlist_only: true,
        ..test_config()
    })
    .await;
    ulm.org("ulm", "Stadt Ulm").await;
    let other = spawn_app().await;
    other.org("fremd", "Fremde Stelle").await;
    assert_eq!(
        signed_follow(&other, &ulm).await,
        403,
        "not on the allow list"
    );
    policy::add(&ulm.state, "test", &other.host(), "allow", "Landesnetz")
        .await
        .unwrap();
    assert_eq!(signed_follow(&other, &ulm).await, 202, "allowed");
}

#[tokio::test]
async fn operators_change_the_policy_on_a_page_and_every_change_is_logged() {
    let node = spawn_app_with(allmende_server::config::Config {
        operators: vec!["betrieb@ulm.example".into()],
        ..test_config()
    })
    .await;
    node.org_with_user("ulm", "Stadt Ulm", "betrieb@ulm.example", "admin")
        .await;
    node.user("redaktion@ulm.example", "ulm", "admin").await;
    let before = node.count("policy_audit").await;

    let admin = browser();
    let csrf = login(&node, &admin, "redaktion@ulm.example").await;
    let res = admin
        .post(node.at("/admin/policy"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("domain", "spam.example"),
            ("kind", "block"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "organization admins are not operators");

    let operator = browser();
    let csrf = login(&node, &operator, "betrieb@ulm.example").await;
    for (domain, status) in [("not a domain", 422), ("https://Spam.Example/", 303)] {
        let res = operator
            .post(node.at("/admin/policy"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("domain", domain),
                ("kind", "block"),
                ("note", "Werbung"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{domain}");
    }
    assert!(!node
        .state
        .federation
        .policy()
        .permits(&Url::parse("https://x.spam.example/").unwrap()));
    let res = operator
        .post(node.at("/admin/policy/remove"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("domain", "spam.example"),
            ("kind", "block"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(node
        .state
        .federation
        .policy()
        .permits(&Url::parse("https://x.spam.example/").unwrap()));

    assert_eq!(
        node.count("policy_audit").await,
        before + 2,
        "add and remove logged"
    );
    let page = operator
        .get(node.at("/admin/policy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("betrieb@ulm.example")
            && page.contains("spam.example")
            && page.contains("Werbung")
    );
}

/// Authorized fetch: documents only for signed requests of servers this
/// node federates with; the instance actor stays open, and federation
/// (whose fetches are signed) keeps working.
#[tokio::test]
async fn authorized_fetch_serves_documents_to_signed_requests_only() {
    use allmende_federation::signatures::sign_get;
    let a = spawn_app_with(allmende_server::config::Config {
        authorized_fetch: true,
        ..test_config()
    })
    .await;
    a.org("ulm", "Stadt Ulm").await;
    let b = spawn_app().await;
    b.org("fremd", "Fremde Stelle").await;
    let ap = "application/activity+json";
    let get = |url: String, headers: reqwest::header::HeaderMap| {
        client()
            .get(url)
            .headers(headers)
            .header("accept", ap)
            .send()
    };
    let unsigned = reqwest::header::HeaderMap::new();
    for path in ["/orgs/ulm", "/orgs/ulm/outbox", "/orgs/ulm/followers"] {
        assert_eq!(
            get(a.at(path), unsigned.clone()).await.unwrap().status(),
            401,
            "{path}"
        );
    }
    assert_eq!(
        get(a.at("/actor"), unsigned.clone())
            .await
            .unwrap()
            .status(),
        200,
        "instance actor open"
    );
    let page = client().get(a.at("/orgs/ulm")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the HTML page is for people");

    let fremd = b
        .state
        .store
        .organizations()
        .by_handle("fremd")
        .await
        .unwrap();
    let key = b.state.federation.organization_key(fremd.id).await.unwrap();
    let key_id = b.state.federation.urls().key_id("fremd");
    let signed = |path: &str| sign_get(&key, &key_id, &Url::parse(&a.at(path)).unwrap()).unwrap();
    for path in ["/orgs/ulm", "/orgs/ulm/outbox"] {
        let res = get(a.at(path), signed(path)).await.unwrap();
        assert_eq!(res.status(), 200, "{path} signed");
    }
    // Federation itself works: B's lookups are signed by its instance actor.
    follow_as(&b.state, fremd.id, &format!("ulm@{}", a.host()))
        .await
        .unwrap();
    settle(&[&a, &b]).await;
    let following = b.state.store.follows().following(fremd.id).await.unwrap();
    assert_eq!(following.len(), 1);
    assert!(following[0].1, "the follow was accepted");

    // A blocked server's signed fetch is refused too.
    policy::add(&a.state, "test", &b.host(), "block", "")
        .await
        .unwrap();
    assert_eq!(
        get(a.at("/orgs/ulm"), signed("/orgs/ulm"))
            .await
            .unwrap()
            .status(),
        403
    );
}
