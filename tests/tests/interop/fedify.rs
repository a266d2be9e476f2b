//! Allmende against a Fedify peer: WebFinger, signed fetch of our actor,
//! Follow both ways with Accept, our Create verified by Fedify, and Fedify's
//! Create(Note) and Create(Article) stored by us.
//!
//! The peer reports the signature check it made of every request to its
//! inbox (`/_test/inbox`); a negative control — requests signed with our
//! key and then tampered with — shows that the check can fail, and that
//! Fedify then refuses.

use allmende_tests::api::api;
use allmende_tests::harness::Ran;
use allmende_tests::{client, settle, spawn_app_with, test_config, TestNode};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::process::Command;

use super::peer;
use super::scenario;

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

/// The peer's own signature check of the inbox request that carried
/// `activity_id`.
async fn inbox_check(base: &str, activity_id: &str) -> Value {
    let checks = control(base, "/_test/inbox", json!({})).await;
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["activityId"] == activity_id)
        .unwrap_or_else(|| panic!("no inbox request with {activity_id}: {checks}"))
        .clone()
}

/// Asserts that Fedify checked the request carrying `activity` (as it
/// listed it among the activities it received), found it signed with our
/// key, and accepted it.
async fn assert_verified(base: &str, activity: &Value, key_id: &str) {
    let id = activity["id"].as_str().unwrap();
    let check = inbox_check(base, id).await;
    assert_eq!(check["verified"], true, "{check}");
    assert_eq!(check["keyId"], key_id, "{check}");
    assert_eq!(check["status"], 202, "{check}");
    // Our deliveries knock with RFC 9421 first, and Fedify takes it.
    assert_eq!(check["spec"], "rfc9421", "{check}");
}

/// Fedify signs a Follow of our organization per RFC 9421 (with alice's
/// RSA key: Fedify signs HTTP requests with RSA only); our inbox takes it,
/// and refuses it once the body is changed. Alice's Ed25519 Multikey
/// (FEP-521a) was read and kept with her actor.
async fn fedify_rfc9421_signatures_are_accepted(node: &TestNode, fedify: &str) {
    let alice = format!("{fedify}/users/alice");
    let follow = |n: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{fedify}/follows/rfc9421-{n}"),
            "type": "Follow", "actor": alice, "object": node.at("/orgs/ulm"),
        })
        .to_string()
    };
    let signed = control(
        fedify,
        "/_test/sign",
        json!({ "url": node.at("/inbox"), "body": follow("a") }),
    )
    .await;
    assert_eq!(signed["keyId"], format!("{alice}#main-key"), "{signed}");
    assert!(
        signed["headers"]["signature-input"].is_string(),
        "RFC 9421: {signed}"
    );
    let send = |body: String| {
        let mut request = client()
            .post(node.at("/inbox"))
            .header("content-type", "application/activity+json");
        for (name, value) in signed["headers"].as_object().unwrap() {
            if name != "host" && name != "content-length" {
                request = request.header(name.as_str(), value.as_str().unwrap());
            }
        }
        request.body(body).send()
    };
    let tampered = send(follow("b")).await.unwrap();
    assert_eq!(tampered.status(), 401, "changed body refused");
    let res = send(follow("a")).await.unwrap();
    assert_eq!(
        res.status(),
        202,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let (_, kept) = node
        .state
        .store
        .remote_actors()
        .by_actor_id(&alice)
        .await
        .unwrap()
        .expect("alice is known here");
    let multikey = kept.ed25519_key.expect("alice's Ed25519 Multikey kept");
    assert!(allmende_federation::keys::ed25519_from_multibase(&multikey).is_some());
    assert!(kept.ed25519_key_id.is_some_and(|id| id.starts_with(&alice)));
}

pub async fn allmende_and_fedify_federate_both_ways() -> Ran {
    let Some(command) = fedify() else {
        return peer::missing("interop/fedify/node_modules missing (npm ci in interop/fedify)");
    };
    let node = spawn_app_with(authorized_fetch()).await;
    let token = node.org_with_token("ulm").await;
    let actor = node.at("/orgs/ulm");
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
    // Fedify reads our Ed25519 Multikey (FEP-521a) as an Ed25519 key.
    assert_eq!(
        seen["assertionMethods"],
        json!([{ "id": node.at("/orgs/ulm#ed25519-key"), "algorithm": "Ed25519" }]),
        "{seen}"
    );

    // Fedify follows us; our Accept reaches it with a signature it verifies.
    control(&fedify, "/_test/follow", json!({ "actor": actor })).await;
    settle(&[&node]).await;
    let key_id = node.at("/orgs/ulm#main-key");
    let got = received(&fedify).await;
    let accept = got
        .iter()
        .find(|a| a["type"] == "Accept" && a["actor"] == actor)
        .unwrap_or_else(|| panic!("Fedify got our Accept: {got:?}"));
    assert_verified(&fedify, accept, &key_id).await;

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
    assert_verified(&fedify, create, &key_id).await;
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

    tampered_requests_are_refused(&node, &fedify, &key_id).await;
    fedify_rfc9421_signatures_are_accepted(&node, &fedify).await;
    Ran::Yes
}

/// The negative control: activities signed with our key, then changed, are
/// refused by Fedify, and its check says why; the same activity untouched
/// is accepted.
async fn tampered_requests_are_refused(node: &TestNode, fedify: &str, key_id: &str) {
    let org = node
        .state
        .store
        .organizations()
        .by_handle("ulm")
        .await
        .unwrap();
    let key = node
        .state
        .federation
        .organization_key(org.id)
        .await
        .unwrap();
    let inbox: url::Url = format!("{fedify}/users/alice/inbox").parse().unwrap();
    let actor = node.at("/orgs/ulm");
    let note = |n: u32, text: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": node.at(&format!("/activities/control-{n}")),
            "type": "Create",
            "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": node.at(&format!("/notes/control-{n}")),
                "type": "Note",
                "attributedTo": actor,
                "content": text,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        })
        .to_string()
    };
    let post = |headers: reqwest::header::HeaderMap, body: String| {
        let inbox = inbox.clone();
        async move {
            client()
                .post(inbox)
                .headers(headers)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let sign = |body: &str| {
        allmende_federation::signatures::sign_post(&key, key_id, &inbox, body.as_bytes()).unwrap()
    };

    // Untouched: accepted, and the check found our key.
    let body = note(1, "echt");
    assert_eq!(post(sign(&body), body.clone()).await, 202);
    let check = inbox_check(fedify, &node.at("/activities/control-1")).await;
    assert_eq!(check["verified"], true, "{check}");
    assert_eq!(check["keyId"], key_id, "{check}");

    // The body changed after signing, the Digest header left as signed.
    let signed = note(2, "echt");
    let headers = sign(&signed);
    let status = post(headers, note(2, "gefälscht")).await;
    assert!((400..500).contains(&status), "tampered body: {status}");
    let check = inbox_check(fedify, &node.at("/activities/control-2")).await;
    assert_eq!(check["verified"], false, "{check}");
    assert_eq!(check["status"], status, "{check}");

    // The body changed and its Digest recomputed: the signature no longer
    // covers the headers it claims to.
    let signed = note(3, "echt");
    let mut headers = sign(&signed);
    let forged = note(3, "gefälscht");
    headers.insert(
        "digest",
        allmende_federation::signatures::digest_header(forged.as_bytes())
            .parse()
            .unwrap(),
    );
    let status = post(headers, forged).await;
    assert!((400..500).contains(&status), "forged digest: {status}");
    let check = inbox_check(fedify, &node.at("/activities/control-3")).await;
    assert_eq!(check["verified"], false, "{check}");
    assert_eq!(check["reason"], "invalidSignature", "{check}");

    // Neither reached Fedify's listeners.
    let got = received(fedify).await;
    for n in [2, 3] {
        let id = node.at(&format!("/activities/control-{n}"));
        assert!(
            !got.iter().any(|a| a["id"] == id),
            "{id} was handled: {got:?}"
        );
    }
}

/// How many activities the group `netz` on `node` has announced.
async fn announced(node: &TestNode) -> i64 {
    let group = node.organization("netz").await;
    node.state
        .store
        .groups()
        .count_announced(group.id)
        .await
        .unwrap()
}

/// Fedify's alice joins a group here (FEP-1b12): she sees a `Group`, her
/// Follow is accepted (and our Accept verifies), the group's `Announce` of
/// a member's item reaches her and verifies, and her own Create addressed
/// to the group is passed on once she is a member, not before.
pub async fn fedify_joins_a_group_and_posts_to_it() -> Ran {
    let Some(command) = fedify() else {
        return peer::missing("interop/fedify/node_modules missing (npm ci in interop/fedify)");
    };
    let node = spawn_app_with(authorized_fetch()).await;
    node.group_with_token(
        "netz",
        "network",
        allmende_domain::FollowerApproval::Everyone,
    )
    .await;
    let ulm = node.org_with_token("ulm").await;
    let group = node.at("/orgs/netz");
    let key_id = node.at("/orgs/netz#main-key");
    let (_peer, fedify) = peer::start(command, "READY").await;
    let seen = control(&fedify, "/_test/lookup", json!({ "actor": group })).await;
    assert_eq!(seen["type"], "Group", "{seen}");

    // Not a member: her post to the group is not passed on (nor kept).
    control(
        &fedify,
        "/_test/create",
        json!({ "actor": group, "type": "Note", "content": "<p>Vor dem Beitritt</p>" }),
    )
    .await;
    settle(&[&node]).await;
    assert_eq!(announced(&node).await, 0, "a non-member's post is refused");

    // She joins; our Accept reaches her and verifies.
    control(&fedify, "/_test/follow", json!({ "actor": group })).await;
    settle(&[&node]).await;
    let got = received(&fedify).await;
    let accept = got
        .iter()
        .find(|a| a["type"] == "Accept" && a["actor"] == group)
        .unwrap_or_else(|| panic!("Fedify got the group's Accept: {got:?}"));
    assert_verified(&fedify, accept, &key_id).await;

    // Ulm, a member on this node, publishes to the group: the group's
    // Announce of Ulm's Create reaches her, and Fedify verifies it.
    let (status, _) = api(
        &node,
        &ulm,
        Method::POST,
        "/api/v1/follows",
        json!({ "target": group }),
    )
    .await;
    assert_eq!(status, 202);
    let (status, body) = api(
        &node,
        &ulm,
        Method::POST,
        "/api/v1/projects",
        json!({ "title": "Glasfaser im Verbund", "status": "planned", "groups": ["netz"] }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    settle(&[&node]).await;
    let got = received(&fedify).await;
    let announce = got
        .iter()
        .find(|a| a["type"] == "Announce" && a["actor"] == group)
        .unwrap_or_else(|| panic!("Fedify got the group's Announce: {got:?}"));
    assert_verified(&fedify, announce, &key_id).await;
    assert_eq!(announce["objectType"], "Create", "{announce}");
    assert_eq!(
        announce["object"]["actor"],
        node.at("/orgs/ulm"),
        "{announce}"
    );
    assert_eq!(announced(&node).await, 1);

    // A member now: her post to the group is passed on to its followers
    // (a follower elsewhere receives the Announce of her Create).
    let inbox = allmende_tests::peers::CountingInboxes::start_recording(1).await;
    allmende_tests::peers::fake_follower(
        &node.state.store,
        node.organization("netz").await.id,
        "zaehler",
        &inbox.url(0),
    )
    .await;
    let post = control(
        &fedify,
        "/_test/create",
        json!({ "actor": group, "type": "Note", "content": "<p>Nach dem Beitritt</p>" }),
    )
    .await;
    settle(&[&node]).await;
    assert_eq!(announced(&node).await, 2, "a member's post is passed on");
    let passed: Vec<Value> = inbox
        .received()
        .into_iter()
        .map(|(_, body)| body)
        .filter(|b| b["type"] == "Announce" && b["object"]["id"] == post["activity"])
        .collect();
    assert_eq!(passed.len(), 1, "{passed:?}");
    assert_eq!(passed[0]["actor"], group);
    Ran::Yes
}

/// The scenario every full peer runs (`scenario.rs`), against Fedify, with
/// our node in authorized-fetch mode (Fedify signs its fetches).
pub async fn fedify_runs_the_scenario() -> Ran {
    let Some(command) = fedify() else {
        return peer::missing("interop/fedify/node_modules missing (npm ci in interop/fedify)");
    };
    scenario::run_against_process(authorized_fetch(), command, "Fedify").await
}

/// The command that starts the Fedify harness, if Fedify is installed.
fn fedify() -> Option<Command> {
    let installed = peer::root()
        .join("interop/fedify/node_modules/@fedify/fedify")
        .exists();
    let mut command = Command::new("node");
    command.arg(peer::root().join("interop/fedify/harness.mjs"));
    installed.then_some(command)
}

/// A node in authorized-fetch mode: Fedify signs its fetches, so it must
/// still get every document it needs.
fn authorized_fetch() -> allmende_server::config::Config {
    allmende_server::config::Config {
        authorized_fetch: true,
        ..test_config()
    }
}
