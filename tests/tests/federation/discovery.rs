//! WebFinger, NodeInfo, host-meta, actors and content negotiation.

use allmende_tests::{client, spawn_app};
use serde_json::Value;

use allmende_tests::api::{fetch_ap, ACTIVITY_JSON as AP};

#[tokio::test]
async fn webfinger_finds_organizations_and_nothing_else() {
    let node = spawn_app().await;
    node.org("ulm", "Stadt Ulm").await;
    let resource = format!("acct:ulm@{}", node.host());
    let response = client()
        .get(node.at("/.well-known/webfinger"))
        .query(&[("resource", resource.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jrd+json");
    let jrd: Value = response.json().await.unwrap();
    assert_eq!(jrd["subject"], resource);
    let link = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(link["type"], AP);
    assert_eq!(link["href"], node.at("/orgs/ulm"));

    for (resource, status) in [
        (format!("acct:nobody@{}", node.host()), 404),
        ("acct:ulm@other.example".to_owned(), 404),
        ("no-at-sign".to_owned(), 400),
    ] {
        let response = client()
            .get(node.at("/.well-known/webfinger"))
            .query(&[("resource", resource.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{resource}");
    }
    let missing = client()
        .get(node.at("/.well-known/webfinger"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
}

#[tokio::test]
async fn nodeinfo_and_host_meta() {
    let node = spawn_app().await;
    node.org("ulm", "Stadt Ulm").await;
    let links: Value = allmende_tests::get_json(&node.at("/.well-known/nodeinfo")).await;
    let href = links["links"][0]["href"].as_str().unwrap();
    assert_eq!(
        links["links"][0]["rel"],
        "http://nodeinfo.diaspora.software/ns/schema/2.1"
    );
    let info: Value = allmende_tests::get_json(href).await;
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "allmende");
    assert_eq!(info["protocols"][0], "activitypub");
    assert_eq!(info["usage"]["users"]["total"], 1);
    let meta = allmende_tests::get_text(&node.at("/.well-known/host-meta")).await;
    assert!(
        meta.contains("/.well-known/webfinger?resource={uri}"),
        "{meta}"
    );
}

#[tokio::test]
async fn one_url_serves_the_actor_to_machines_and_the_page_to_people() {
    let node = spawn_app().await;
    node.org("ulm", "Stadt Ulm").await;
    let (status, actor) = fetch_ap(&node.at("/orgs/ulm")).await;
    assert_eq!(status, 200);
    assert_eq!(actor["type"], "Organization");
    assert_eq!(actor["id"], node.at("/orgs/ulm"));
    assert_eq!(actor["preferredUsername"], "ulm");
    assert_eq!(actor["inbox"], node.at("/orgs/ulm/inbox"));
    assert_eq!(actor["endpoints"]["sharedInbox"], node.at("/inbox"));
    assert_eq!(actor["publicKey"]["id"], node.at("/orgs/ulm#main-key"));
    assert_eq!(actor["publicKey"]["owner"], node.at("/orgs/ulm"));
    assert!(actor["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let context = actor["@context"].as_array().unwrap();
    assert!(context.contains(&Value::from("https://w3id.org/security/v1")));
    assert_eq!(actor["ags"], "08421000");
    assert_eq!(actor["bundesland"], "bw");

    let profile = client()
        .get(node.at("/orgs/ulm"))
        .header(
            "accept",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(profile.headers()["content-type"], AP);
    let html = client()
        .get(node.at("/orgs/ulm"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(html.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(html.headers()["vary"], "Accept");

    // The instance actor is fetchable without a signature.
    let (status, instance) = fetch_ap(&node.at("/actor")).await;
    assert_eq!(status, 200);
    assert_eq!(instance["type"], "Application");
    assert!(instance["publicKey"]["publicKeyPem"].is_string());

    let (status, vocabulary) = fetch_ap(&node.at("/ns")).await;
    assert_eq!(status, 200);
    assert_eq!(
        vocabulary["@context"]["allmende"],
        "https://w3id.org/allmende/ns#"
    );

    let (status, _) = fetch_ap(&node.at("/orgs/nobody")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn outbox_pages_public_items_and_collections_count() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    for i in 0..23 {
        let (status, _) = allmende_tests::api::api(
            &node,
            &token,
            reqwest::Method::POST,
            "/api/v1/projects",
            serde_json::json!({ "title": format!("Vorhaben {i}"), "status": "idea" }),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (_, outbox) = fetch_ap(&node.at("/orgs/ulm/outbox")).await;
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 23);
    let (_, first) = fetch_ap(outbox["first"].as_str().unwrap()).await;
    let items = first["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["type"], "Create");
    assert_eq!(items[0]["object"]["name"], "Vorhaben 22");
    assert_eq!(items[0]["object"]["itemType"], "project");
    let (_, second) = fetch_ap(first["next"].as_str().unwrap()).await;
    assert_eq!(second["orderedItems"].as_array().unwrap().len(), 3);
    assert!(second.get("next").is_none());
    let (_, followers) = fetch_ap(&node.at("/orgs/ulm/followers")).await;
    assert_eq!(followers["totalItems"], 0);
}

/// Software that recognizes actors by their path reaches an organization
/// under `/users/NAME`: a permanent redirect to its one id, `/orgs/NAME`
/// (FEDERATION.md, "Actor paths"). Unknown names and remote organizations
/// are not found.
#[tokio::test]
async fn users_path_redirects_to_the_organization() {
    let node = spawn_app().await;
    node.org("ulm", "Stadt Ulm").await;
    let response = client()
        .get(node.at("/users/ulm"))
        .header("accept", AP)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(
        response.headers()["location"],
        node.at("/orgs/ulm").as_str()
    );
    let missing = client()
        .get(node.at("/users/niemand"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // Followed, the redirect ends at the actor document.
    let followed = reqwest::Client::new()
        .get(node.at("/users/ulm"))
        .header("accept", AP)
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 200);
    let actor: Value = followed.json().await.unwrap();
    assert_eq!(actor["id"], node.at("/orgs/ulm"));
}
