//! The scenario every full interop peer runs (`interop/README.md` names
//! the control API it is driven through): WebFinger both ways, follow and
//! unfollow both ways, create, update and delete of every item type both
//! ways, a reply that becomes an answer and is accepted, and signatures
//! checked on both sides — ours by our inbox (it refuses anything
//! unsigned), the peer's by its own software, with a negative control: a
//! request signed with our key and then changed must be refused by the
//! peer and never reach its listeners.

use allmende_server::config::Config;
use allmende_tests::api::{addressees, api, strings, PUBLIC};
use allmende_tests::harness::Ran;
use allmende_tests::spawn_app_with;
use allmende_tests::{client, settle, wait_for, wait_until, TestNode};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::process::Command;

/// A peer's control API.
pub struct Remote {
    pub base: String,
    /// The software's name, for messages.
    pub name: &'static str,
}

impl Remote {
    pub async fn call(&self, name: &str, body: Value) -> Value {
        let response = client()
            .post(format!("{}/_test/{name}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: control {name}: {e}", self.name));
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "{}: control {name}: {value}", self.name);
        value
    }

    async fn received(&self) -> Vec<Value> {
        self.call("received", json!({}))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until the peer accepted an activity of `kind` whose object
    /// (its id, or the object itself) is `object`; returns it.
    async fn wait_for(&self, kind: &str, object: &str) -> Value {
        let what = format!("{} accepted our {kind} of {object}", self.name);
        wait_for(30, &what, || async {
            self.received()
                .await
                .into_iter()
                .find(|a| a["type"] == kind && object_id(&a["object"]) == Some(object))
        })
        .await
    }

    async fn followers(&self) -> Vec<String> {
        strings(&self.call("followers", json!({})).await)
    }
}

fn object_id(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value["id"].as_str())
}

/// Our organization's followers and following, as actor ids.
async fn relations(node: &TestNode, token: &str) -> (Vec<(String, bool)>, Vec<(String, bool)>) {
    let (_, value) = api(node, token, Method::GET, "/api/v1/follows", Value::Null).await;
    let list = |key: &str| -> Vec<(String, bool)> {
        value[key]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|r| {
                        (
                            r["organization"]["actor"].as_str().unwrap_or("").to_owned(),
                            r["accepted"] == true,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    (list("followers"), list("following"))
}

/// The posts (notes and articles of other software) in our feed.
async fn posts(node: &TestNode, token: &str) -> Vec<Value> {
    let (_, feed) = api(node, token, Method::GET, "/api/v1/feed", Value::Null).await;
    feed["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["type"] == "post")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Starts a node with `config` and the peer `command` (which prints
/// `READY <base URL>`), and runs the scenario between them.
pub async fn run_against_process(config: Config, command: Command, name: &'static str) -> Ran {
    let node = spawn_app_with(config).await;
    let token = node.org_with_token("ulm").await;
    let (_peer, base) = super::peer::start(command, "READY").await;
    run(&node, &token, &Remote { base, name }).await;
    Ran::Yes
}

/// Runs the scenario between organization `ulm` on `node` (with an API
/// token) and the peer's actor.
pub async fn run(node: &TestNode, token: &str, peer: &Remote) {
    let ours = node.at("/orgs/ulm");
    let me = peer.call("whoami", json!({})).await;
    let theirs = me["actor"].as_str().expect("whoami: actor").to_owned();
    let handle = me["handle"].as_str().expect("whoami: handle").to_owned();

    // WebFinger, their side: our handle resolves to our actor, which they
    // fetch and whose key they read.
    let jrd = peer
        .call(
            "webfinger",
            // `actor` for software that cannot look up acct: over http.
            json!({ "resource": format!("acct:ulm@{}", node.host()), "actor": ours }),
        )
        .await;
    let links = jrd["links"].as_array().cloned().unwrap_or_default();
    assert!(
        links
            .iter()
            .any(|l| l["rel"] == "self" && l["href"] == ours),
        "{}: WebFinger finds our actor: {jrd}",
        peer.name
    );
    let seen = peer.call("lookup", json!({ "actor": ours })).await;
    assert_eq!(seen["id"], ours, "{}: {seen}", peer.name);
    assert_eq!(seen["type"], "Organization", "{}: {seen}", peer.name);
    assert_eq!(
        seen["publicKeyId"],
        node.at("/orgs/ulm#main-key"),
        "{}: {seen}",
        peer.name
    );

    // They follow us; our Accept reaches them and passes their check.
    let follow = peer.call("follow", json!({ "actor": ours })).await;
    let follow_id = follow["id"].as_str().expect("follow id").to_owned();
    wait_until(30, "their follow is recorded", || async {
        relations(node, token)
            .await
            .0
            .contains(&(theirs.clone(), true))
    })
    .await;
    settle(&[node]).await;
    let accept = peer.wait_for("Accept", &follow_id).await;
    assert_eq!(accept["actor"], ours, "{}: {accept}", peer.name);

    // WebFinger, our side: we follow them by handle; their Accept reaches
    // us (our inbox checks its signature).
    let (status, body) = api(
        node,
        token,
        Method::POST,
        "/api/v1/follows",
        json!({ "target": handle }),
    )
    .await;
    assert_eq!(status, 202, "{}: follow by handle: {body}", peer.name);
    settle(&[node]).await;
    wait_until(30, "they accept our follow", || async {
        relations(node, token)
            .await
            .1
            .contains(&(theirs.clone(), true))
    })
    .await;
    let followers = peer.followers().await;
    assert!(
        followers.contains(&ours),
        "{}: we follow them: {followers:?}",
        peer.name
    );

    // Every item type, ours: Create, Update and Delete reach them,
    // addressed as the item is.
    let followers_collection = node.at("/orgs/ulm/followers");
    let items = [
        (
            "projects",
            json!({ "title": "Hundesteuer digital", "summary": "Antrag / Bescheid online", "status": "live" }),
        ),
        (
            "questions",
            json!({ "title": "Wer nutzt XRechnung?", "body": "Erfahrungen gesucht." }),
        ),
        (
            "questions",
            json!({ "title": "Nur für Folgende", "body": "Intern.", "audience": "followers" }),
        ),
        (
            "solutions",
            json!({ "title": "Formular Hundesteuer", "kind": "form", "licence": "EUPL-1.2", "maturity": "stable" }),
        ),
    ];
    for (collection, body) in items {
        let (status, created) = api(
            node,
            token,
            Method::POST,
            &format!("/api/v1/{collection}"),
            body.clone(),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let ap_id = created["url"].as_str().unwrap().to_owned();
        let public = body["audience"] != "followers";
        settle(&[node]).await;
        let create = peer.wait_for("Create", &ap_id).await;
        let to = addressees(&create);
        assert_eq!(to.contains(PUBLIC), public, "{}: {create}", peer.name);
        assert!(
            to.contains(&followers_collection),
            "{}: {create}",
            peer.name
        );
        if collection == "projects" {
            // Plain text stays plain: no entity for a space or a slash.
            assert_eq!(
                create["object"]["summary"], "Antrag / Bescheid online",
                "{create}"
            );
            assert!(!create.to_string().contains("&#"), "{create}");
        }

        let (status, _) = api(
            node,
            token,
            Method::PATCH,
            &format!("/api/v1/{collection}/{id}"),
            json!({ "title": "Geändert" }),
        )
        .await;
        assert_eq!(status, 200);
        settle(&[node]).await;
        let update = peer.wait_for("Update", &ap_id).await;
        assert_eq!(
            update["object"]["name"], "Geändert",
            "{}: {update}",
            peer.name
        );

        let (status, _) = api(
            node,
            token,
            Method::DELETE,
            &format!("/api/v1/{collection}/{id}"),
            Value::Null,
        )
        .await;
        assert_eq!(status, 204);
        settle(&[node]).await;
        let delete = peer.wait_for("Delete", &ap_id).await;
        let to = addressees(&delete);
        assert!(
            to.contains(&followers_collection),
            "{}: Delete addressed like the Create: {delete}",
            peer.name
        );
        assert_eq!(to.contains(PUBLIC), public, "{}: {delete}", peer.name);
    }

    // Their notes and articles: created, updated and deleted here.
    for kind in ["Note", "Article"] {
        let created = peer
            .call(
                "create",
                json!({ "to": ours, "type": kind, "name": format!("Ein {kind}"), "content": format!("<p>{kind} von {}</p>", peer.name) }),
            )
            .await;
        let id = created["id"].as_str().expect("object id").to_owned();
        wait_until(30, &format!("their {kind} arrives"), || async {
            posts(node, token).await.iter().any(|p| p["ap_id"] == id)
        })
        .await;
        peer.call("update", json!({ "id": id, "content": "<p>geändert</p>" }))
            .await;
        wait_until(30, &format!("their {kind} is updated"), || async {
            posts(node, token)
                .await
                .iter()
                .any(|p| p["ap_id"] == id && p["content_html"] == "<p>geändert</p>")
        })
        .await;
        peer.call("delete", json!({ "id": id })).await;
        wait_until(30, &format!("their {kind} is deleted"), || async {
            !posts(node, token).await.iter().any(|p| p["ap_id"] == id)
        })
        .await;
    }

    // Their reply to our question becomes an answer; we accept it, and
    // the Update that says so names them.
    let (_, question) = api(
        node,
        token,
        Method::POST,
        "/api/v1/questions",
        json!({ "title": "Wer kennt OZG-Hundesteuer?", "body": "Bitte melden." }),
    )
    .await;
    let question_id = question["id"].as_str().unwrap().to_owned();
    let question_ap = question["url"].as_str().unwrap().to_owned();
    settle(&[node]).await;
    peer.wait_for("Create", &question_ap).await;
    let reply = peer
        .call(
            "create",
            json!({ "to": ours, "type": "Note", "content": "<p>Wir, seit 2024.</p>", "inReplyTo": question_ap }),
        )
        .await;
    let reply_id = reply["id"].as_str().expect("reply id").to_owned();
    let answer_id: String = wait_for(30, "their reply becomes an answer", || async {
        let (_, q) = api(
            node,
            token,
            Method::GET,
            &format!("/api/v1/questions/{question_id}"),
            Value::Null,
        )
        .await;
        q["answers"].as_array().and_then(|answers| {
            answers
                .iter()
                .find(|a| a["organization"]["actor"] == theirs.as_str())
                .and_then(|a| a["id"].as_str())
                .map(str::to_owned)
        })
    })
    .await;
    let (status, accepted) = api(
        node,
        token,
        Method::POST,
        &format!("/api/v1/answers/{answer_id}/accept"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{accepted}");
    settle(&[node]).await;
    let update = wait_for(
        30,
        "they get the Update that accepts their answer",
        || async {
            peer.received().await.into_iter().find(|a| {
                a["type"] == "Update"
                    && object_id(&a["object"]) == Some(question_ap.as_str())
                    && a["object"]["acceptedAnswer"] == reply_id.as_str()
            })
        },
    )
    .await;
    assert!(
        addressees(&update).contains(&theirs),
        "{}: the Update names the answer's author: {update}",
        peer.name
    );

    // They unfollow us; we unfollow them.
    peer.call("unfollow", json!({ "actor": ours })).await;
    wait_until(30, "their Undo removes them from our followers", || async {
        !relations(node, token)
            .await
            .0
            .iter()
            .any(|(a, _)| a == &theirs)
    })
    .await;
    let (_, following) = api(node, token, Method::GET, "/api/v1/follows", Value::Null).await;
    let handle_here = following["following"]
        .as_array()
        .and_then(|l| l.iter().find(|r| r["organization"]["actor"] == theirs))
        .and_then(|r| r["organization"]["handle"].as_str())
        .unwrap_or_else(|| panic!("we follow them: {following}"))
        .to_owned();
    let (status, body) = api(
        node,
        token,
        Method::DELETE,
        &format!("/api/v1/follows/{handle_here}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204, "{}: unfollow: {body}", peer.name);
    settle(&[node]).await;
    wait_until(30, "our Undo removes us from their followers", || async {
        !peer.followers().await.contains(&ours)
    })
    .await;

    let inbox = me["inbox"].as_str().expect("whoami: inbox");
    tampered_request_is_refused(node, peer, inbox, &theirs).await;
}

/// The negative control, with its positive one: a Create signed with our
/// key and addressed to the peer's actor reaches its handlers; the same
/// request changed after signing is refused and never does.
async fn tampered_request_is_refused(node: &TestNode, peer: &Remote, inbox: &str, theirs: &str) {
    let (key, key_id) = allmende_tests::signed::org_key(node, "ulm").await;
    let inbox: url::Url = inbox.parse().expect("their inbox");
    let ours = node.at("/orgs/ulm");
    let note = |n: &str, text: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": node.at(&format!("/activities/control-{n}")),
            "type": "Create",
            "actor": ours,
            "to": [PUBLIC, theirs],
            "object": {
                "id": node.at(&format!("/notes/control-{n}")),
                "type": "Note",
                "attributedTo": ours,
                "content": text,
                "to": [PUBLIC, theirs],
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
                .header("content-type", "application/activity+json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let sign = |body: &str| {
        allmende_federation::signatures::sign_post(&key, &key_id, &inbox, body.as_bytes()).unwrap()
    };

    let genuine = note("genuine", "echt");
    let status = post(sign(&genuine), genuine.clone()).await;
    assert!(
        (200..300).contains(&status),
        "{}: the untouched request answered {status}",
        peer.name
    );
    let genuine_id = node.at("/activities/control-genuine");
    wait_for(
        30,
        &format!("{} handles the untouched request", peer.name),
        || async {
            peer.received()
                .await
                .iter()
                .any(|a| a["id"] == genuine_id.as_str())
                .then_some(())
        },
    )
    .await;

    let signed = note("tampered", "echt");
    let status = post(sign(&signed), note("tampered", "gefälscht")).await;
    assert!(
        (400..500).contains(&status),
        "{}: tampered request answered {status}",
        peer.name
    );
    let got = peer.received().await;
    assert!(
        !got.iter()
            .any(|a| a["id"] == node.at("/activities/control-tampered")),
        "{}: the tampered request was handled: {got:?}",
        peer.name
    );
}
