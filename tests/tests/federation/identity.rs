//! Who is this, really? An organization's identity is shown as verified
//! only when its official website links to its actor (rel="me") and the
//! actor names the website; two organizations claiming one AGS are
//! flagged.

use allmende_domain::OrganizationInput;
use allmende_server::usecases::follows::follow_as;
use allmende_server::usecases::organizations;
use allmende_tests::{client, settle, spawn_app, TestNode};

/// A fake official website: `/` redirects to `/start`, which links to
/// `me` with rel="me".
async fn website(me: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { axum::response::Redirect::permanent("/start") }))
        .route(
            "/start",
            axum::routing::get(move || {
                let me = me.clone();
                async move {
                    axum::response::Html(format!(
                        r#"<html><body><p>Stadt Ulm</p><a rel="me" href="{me}">Allmende</a></body></html>"#
                    ))
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn org_with_website(node: &TestNode, handle: &str, site: &str) {
    organizations::create(
        &node.state.store,
        handle,
        &OrganizationInput {
            name: Some("Stadt Ulm".into()),
            kind: Some("municipality".into()),
            ags: Some("08421000".into()),
            website: Some(site.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

async fn page(node: &TestNode, path: &str) -> String {
    client()
        .get(node.at(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_website_linking_to_the_actor_verifies_it_on_every_node() {
    let a = spawn_app().await;
    let site = website(a.at("/orgs/ulm")).await;
    org_with_website(&a, "ulm", &site).await;
    // An impostor with the same name, AGS and website on the same node.
    org_with_website(&a, "ulm-echt", &site).await;
    // One whose website cannot be reached (a closed port on loopback).
    org_with_website(&a, "ulm-weg", "http://127.0.0.1:1/").await;
    a.state.federation.check_identities_now(100).await.unwrap();

    let ulm = page(&a, "/orgs/ulm").await;
    assert!(ulm.contains("Bestätigt"), "the real one is verified");
    let impostor = page(&a, "/orgs/ulm-echt").await;
    assert!(
        !impostor.contains("Bestätigt") && impostor.contains("Nicht bestätigt"),
        "the impostor is not"
    );
    assert!(
        ulm.contains("Denselben AGS geben auch an") && ulm.contains("/orgs/ulm-echt"),
        "duplicate AGS flagged"
    );

    // Node B knows Ulm through federation and checks it itself.
    let b = spawn_app().await;
    b.org("mannheim", "Stadt Mannheim").await;
    let mannheim = b
        .state
        .store
        .organizations()
        .by_handle("mannheim")
        .await
        .unwrap();
    follow_as(&b.state, mannheim.id, &format!("ulm@{}", a.host()))
        .await
        .unwrap();
    settle(&[&a, &b]).await;
    b.state.federation.check_identities_now(100).await.unwrap();
    let remote = page(&b, &format!("/orgs/ulm@{}", a.host())).await;
    assert!(
        remote.contains("Bestätigt"),
        "verified on the follower's node too"
    );

    // A verification ends when the link is gone (recorded as such).
    let org = a
        .state
        .store
        .organizations()
        .by_handle("ulm")
        .await
        .unwrap();
    a.state
        .store
        .identities()
        .record(
            org.id,
            Some(&format!("{site}/")),
            false,
            Some("no link"),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert!(!page(&a, "/orgs/ulm").await.contains("Bestätigt"));
}
