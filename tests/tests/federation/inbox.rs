//! Attacks on the inbox: each is refused with 401/403/400/413 and leaves
//! nothing behind, or (script in content) is stored only sanitised.

use std::time::{Duration, SystemTime};

use allmende_federation::signatures::{sign_post, sign_post_at};
use allmende_federation::SigningKey;
use allmende_tests::{client, spawn_app, TestNode};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use url::Url;

/// Signs `body` as the organization `handle` of `from` for `to`'s shared inbox.
async fn signed(from: &TestNode, handle: &str, to: &TestNode, body: &[u8]) -> HeaderMap {
    let org = from
        .state
        .store
        .organizations()
        .by_handle(handle)
        .await
        .unwrap();
    let key = from
        .state
        .federation
        .organization_key(org.id)
        .await
        .unwrap();
    let key_id = from.state.federation.urls().key_id(handle);
    sign_post(&key, &key_id, &Url::parse(&to.at("/inbox")).unwrap(), body).unwrap()
}

async fn post(to: &TestNode, headers: HeaderMap, body: Vec<u8>) -> u16 {
    client()
        .post(to.at("/inbox"))
        .headers(headers)
        .header("content-type", "application/activity+json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A Create of a project by `handle` on `from`, addressed to Ulm on `to`.
fn create_project(from: &TestNode, handle: &str, to: &TestNode, id: &str, title: &str) -> Value {
    let actor = from.at(&format!("/orgs/{handle}"));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": from.at(&format!("/activities/{id}")),
        "type": "Create",
        "actor": actor,
        "to": [to.at("/orgs/ulm")],
        "object": {
            "id": from.at(&format!("/projects/{id}")),
            "type": "Article",
            "attributedTo": actor,
            "name": title,
            "content": "<p>Text</p>",
            "itemType": "project",
            "item": { "title": title, "status": "idea" },
        }
    })
}

/// Ulm, and Mallory whom Ulm follows (objects of actors nobody here
/// follows are not kept; see `strangers_posts_are_not_stored`).
async fn pair() -> (TestNode, TestNode) {
    let ulm = spawn_app().await;
    ulm.org("ulm", "Stadt Ulm").await;
    let mallory = spawn_app().await;
    mallory.org("mallory", "Mallory").await;
    let follower = ulm
        .state
        .store
        .organizations()
        .by_handle("ulm")
        .await
        .unwrap();
    allmende_server::usecases::follows::follow_as(
        &ulm.state,
        follower.id,
        &format!("mallory@{}", mallory.host()),
    )
    .await
    .expect("Ulm follows Mallory");
    (ulm, mallory)
}

#[tokio::test]
async fn a_signed_create_is_stored_once_however_often_it_arrives() {
    let (ulm, mallory) = pair().await;
    let body =
        serde_json::to_vec(&create_project(&mallory, "mallory", &ulm, "p1", "Echt")).unwrap();
    for _ in 0..3 {
        let headers = signed(&mallory, "mallory", &ulm, &body).await;
        assert_eq!(post(&ulm, headers, body.clone()).await, 202);
    }
    assert_eq!(ulm.count("projects").await, 1);
    // Unknown activity types are accepted and ignored.
    let like = serde_json::to_vec(&json!({
        "id": mallory.at("/activities/like-1"), "type": "Like",
        "actor": mallory.at("/orgs/mallory"), "object": ulm.at("/orgs/ulm"),
    }))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &like).await;
    assert_eq!(post(&ulm, headers, like).await, 202);
}

#[tokio::test]
async fn forged_requests_are_refused_and_change_nothing() {
    let (ulm, mallory) = pair().await;
    let third = spawn_app().await;
    third.org("victim", "Victim").await;
    let body =
        serde_json::to_vec(&create_project(&mallory, "mallory", &ulm, "p1", "Echt")).unwrap();
    let inbox = Url::parse(&ulm.at("/inbox")).unwrap();
    let key_id = mallory.state.federation.urls().key_id("mallory");

    // Unsigned.
    let mut unsigned = signed(&mallory, "mallory", &ulm, &body).await;
    unsigned.remove("signature");
    assert_eq!(post(&ulm, unsigned, body.clone()).await, 401, "unsigned");

    // Signed with another key under Mallory's key id.
    let stranger = SigningKey::generate().unwrap();
    let wrong_key = sign_post(&stranger, &key_id, &inbox, &body).unwrap();
    assert_eq!(post(&ulm, wrong_key, body.clone()).await, 401, "wrong key");

    // Body changed after signing (digest).
    let tampered = serde_json::to_vec(&create_project(
        &mallory,
        "mallory",
        &ulm,
        "p1",
        "Gefälscht",
    ))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &body).await;
    assert_eq!(post(&ulm, headers, tampered).await, 401, "tampered body");

    // A day-old Date.
    let org = mallory
        .state
        .store
        .organizations()
        .by_handle("mallory")
        .await
        .unwrap();
    let key = mallory
        .state
        .federation
        .organization_key(org.id)
        .await
        .unwrap();
    let stale = sign_post_at(
        &key,
        &key_id,
        &inbox,
        &body,
        SystemTime::now() - Duration::from_secs(86_400),
    )
    .unwrap();
    assert_eq!(post(&ulm, stale, body.clone()).await, 401, "stale date");

    // Signed by Mallory, claiming to be someone else.
    let mut impersonation = create_project(&mallory, "mallory", &ulm, "p2", "Im Namen anderer");
    impersonation["actor"] = json!(third.at("/orgs/victim"));
    let impersonation = serde_json::to_vec(&impersonation).unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &impersonation).await;
    assert_eq!(
        post(&ulm, headers, impersonation).await,
        403,
        "actor/key mismatch"
    );

    // An object on another domain than its actor.
    let mut foreign = create_project(&mallory, "mallory", &ulm, "p3", "Fremde Id");
    foreign["object"]["id"] = json!(third.at("/projects/p3"));
    let foreign = serde_json::to_vec(&foreign).unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &foreign).await;
    assert_eq!(post(&ulm, headers, foreign).await, 403, "foreign object id");

    // An activity id on another domain.
    let mut foreign_activity = create_project(&mallory, "mallory", &ulm, "p4", "Fremde Aktivität");
    foreign_activity["id"] = json!(third.at("/activities/p4"));
    let foreign_activity = serde_json::to_vec(&foreign_activity).unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &foreign_activity).await;
    assert_eq!(
        post(&ulm, headers, foreign_activity).await,
        403,
        "foreign activity id"
    );

    // Signed garbage.
    let garbage = b"{ not json".to_vec();
    let headers = signed(&mallory, "mallory", &ulm, &garbage).await;
    assert_eq!(post(&ulm, headers, garbage).await, 400, "malformed JSON");

    // An item that fails validation.
    let mut invalid = create_project(&mallory, "mallory", &ulm, "p5", "Ungültig");
    invalid["object"]["item"]["leika_keys"] = json!(["123"]);
    let invalid = serde_json::to_vec(&invalid).unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &invalid).await;
    assert_eq!(post(&ulm, headers, invalid).await, 400, "invalid item");

    // Too large.
    let mut huge = create_project(&mallory, "mallory", &ulm, "p6", "Riesig");
    huge["object"]["content"] = json!("x".repeat(300 * 1024));
    let huge = serde_json::to_vec(&huge).unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &huge).await;
    assert_eq!(post(&ulm, headers, huge).await, 413, "oversized");

    assert_eq!(ulm.count("projects").await, 0);
    // The refused activities were not recorded: the genuine one still counts.
    let headers = signed(&mallory, "mallory", &ulm, &body).await;
    assert_eq!(post(&ulm, headers, body).await, 202);
    assert_eq!(ulm.count("projects").await, 1);
}

#[tokio::test]
async fn html_from_other_software_is_sanitised_before_it_is_stored() {
    let (ulm, mallory) = pair().await;
    let token = ulm.org_with_token("ulm-fragen").await;
    let (status, question) = allmende_tests::api::api(
        &ulm,
        &token,
        reqwest::Method::POST,
        "/api/v1/questions",
        json!({ "title": "Frage", "body": "Wer weiß etwas?" }),
    )
    .await;
    assert_eq!(status, 201);
    let question_url = ulm.at(&format!("/questions/{}", question["id"].as_str().unwrap()));
    let actor = mallory.at("/orgs/mallory");
    let dirty = r#"<p>Wir <script>alert('x')</script>wissen <a href="javascript:evil()">es</a> <img src=x onerror=alert(1)><b onclick="x()">genau</b>.</p>"#;
    let reply = serde_json::to_vec(&json!({
        "id": mallory.at("/activities/r1"), "type": "Create", "actor": actor,
        "object": {
            "id": mallory.at("/notes/r1"), "type": "Note", "attributedTo": actor,
            "inReplyTo": question_url, "content": dirty,
        }
    }))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &reply).await;
    assert_eq!(post(&ulm, headers, reply).await, 202);
    let note = serde_json::to_vec(&json!({
        "id": mallory.at("/activities/n1"), "type": "Create", "actor": actor,
        "to": [ulm.at("/orgs/ulm")],
        "object": { "id": mallory.at("/notes/n1"), "type": "Note", "attributedTo": actor, "content": dirty }
    }))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &note).await;
    assert_eq!(post(&ulm, headers, note).await, 202);

    let answer = ulm
        .state
        .store
        .answers()
        .find_by_ap_id(&mallory.at("/notes/r1"))
        .await
        .unwrap()
        .expect("reply stored as an answer");
    let post_ = ulm
        .state
        .store
        .posts()
        .find_by_ap_id(&mallory.at("/notes/n1"))
        .await
        .unwrap()
        .expect("note of a followed actor stored");
    for html in [
        answer.body_html.as_deref().unwrap(),
        post_.content_html.as_str(),
    ] {
        for bad in ["script", "javascript", "onerror", "onclick", "<img"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("<b>genau</b>"), "{html}");
    }
    assert_eq!(answer.body, "Wir wissen es genau.");
    // The question page shows the answer without the script.
    let page = allmende_tests::get_text(&question_url).await;
    assert!(page.contains("<b>genau</b>"));
    assert!(!page.contains("alert("));
}

/// Issue 11, finding 1: an Undo whose embedded Follow leaves out its actor
/// (activitypub-bot sends those) undoes the sender's own follow; one that
/// names another actor is still refused.
#[tokio::test]
async fn an_undo_of_a_follow_without_its_actor_undoes_the_senders_follow() {
    let (ulm, mallory) = pair().await;
    // A third party follows Ulm too; nothing Mallory sends may end that.
    let ulm_org = ulm
        .state
        .store
        .organizations()
        .by_handle("ulm")
        .await
        .unwrap();
    allmende_tests::peers::fake_follower(
        &ulm.state.store,
        ulm_org.id,
        "dritte",
        "http://127.0.0.1:9/inbox",
    )
    .await;
    // Mallory follows Ulm (signed, from Mallory's node).
    let mallory_actor = mallory.at("/orgs/mallory");
    let follow = serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": mallory.at("/follows/1"), "type": "Follow",
        "actor": mallory_actor, "object": ulm.at("/orgs/ulm"),
    }))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &follow).await;
    assert_eq!(post(&ulm, headers, follow).await, 202);
    let followers = || async {
        ulm.state
            .store
            .follows()
            .followers(ulm_org.id)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(followers().await, 2);

    // Someone else's follow cannot be undone, by its actor or by its id.
    let forged = serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": mallory.at("/undos/0"), "type": "Undo", "actor": mallory_actor,
        "object": { "type": "Follow", "actor": "http://elsewhere.example/users/x", "object": ulm.at("/orgs/ulm") },
    }))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &forged).await;
    assert_eq!(post(&ulm, headers, forged).await, 403);
    let by_id = serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": mallory.at("/undos/00"), "type": "Undo", "actor": mallory_actor,
        "object": { "id": "http://127.0.0.1:9/follows/dritte", "type": "Follow" },
    }))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &by_id).await;
    assert_eq!(post(&ulm, headers, by_id).await, 202);
    assert_eq!(followers().await, 2);

    // The Follow without an actor: the sender's.
    let undo = serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": mallory.at("/undos/1"), "type": "Undo", "actor": mallory_actor,
        "object": { "id": mallory.at("/follows/1"), "type": "Follow", "object": ulm.at("/orgs/ulm") },
    }))
    .unwrap();
    let headers = signed(&mallory, "mallory", &ulm, &undo).await;
    assert_eq!(post(&ulm, headers, undo).await, 202);
    assert_eq!(
        followers().await,
        1,
        "Mallory's follow is undone, the third party's kept"
    );
}
