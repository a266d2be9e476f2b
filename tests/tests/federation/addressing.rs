//! Every activity this node sends names whom it is delivered to: software
//! that hands activities on by their addressing (a shared inbox, the
//! activitypub-bot) drops what it cannot place. One test over every
//! activity type the node sends (issue 11, findings 2 and 3).
//!
//! Ulm has a follower (F) and a follower it admits later (P); Konstanz (R)
//! does not follow but answers Ulm's public question; Ulm follows T and
//! stops again. Each of them is a recording inbox on loopback. For every
//! activity each received: its `to`/`cc` name the recipient, or name
//! Ulm's followers and the recipient is one; an embedded object's own
//! addressing is kept; a followers-only item's activities never name the
//! public.

use std::collections::BTreeSet;

use allmende_store::RemoteAnswer;
use allmende_tests::api::{addressees, api, PUBLIC};
use allmende_tests::peers::{fake_follower, fake_remote, CountingInboxes};
use allmende_tests::{settle, spawn_app};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn every_activity_names_whom_it_reaches() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let store = &node.state.store;
    let ulm = store.organizations().by_handle("ulm").await.unwrap();
    let inboxes = CountingInboxes::start_recording(4).await;
    let (f, r, t, p) = (0, 1, 2, 3);
    let follower = fake_follower(store, ulm.id, "folger", &inboxes.url(f)).await;
    let konstanz = fake_remote(store, "konstanz", &inboxes.url(r)).await;
    let followed = fake_remote(store, "gefolgt", &inboxes.url(t)).await;
    let pending = fake_remote(store, "wartend", &inboxes.url(p)).await;
    let actor_of =
        |org: &allmende_domain::Organization| org.origin.as_ref().unwrap().actor_id.to_string();
    let owners = [
        actor_of(&follower),
        actor_of(&konstanz),
        actor_of(&followed),
        actor_of(&pending),
    ];
    let now = chrono::Utc::now;

    // Items: public and followers-only, created, updated, deleted.
    let mut followers_only = Vec::new();
    for (collection, body) in [
        ("projects", json!({ "title": "Hundesteuer digital" })),
        (
            "questions",
            json!({ "title": "Intern", "body": "Nur für Folgende.", "audience": "followers" }),
        ),
        (
            "solutions",
            json!({ "title": "Formular", "kind": "form", "licence": "EUPL-1.2", "maturity": "stable" }),
        ),
    ] {
        let (status, created) = api(
            &node,
            &token,
            Method::POST,
            &format!("/api/v1/{collection}"),
            body.clone(),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap();
        if body["audience"] == "followers" {
            followers_only.push(created["url"].as_str().unwrap().to_owned());
        }
        // Each step is sent before the next (an activity not yet built
        // when its item is deleted is dropped).
        settle(&[&node]).await;
        let (status, _) = api(
            &node,
            &token,
            Method::PATCH,
            &format!("/api/v1/{collection}/{id}"),
            json!({ "title": "Neu" }),
        )
        .await;
        assert_eq!(status, 200);
        settle(&[&node]).await;
        let (status, _) = api(
            &node,
            &token,
            Method::DELETE,
            &format!("/api/v1/{collection}/{id}"),
            Value::Null,
        )
        .await;
        assert_eq!(status, 204);
    }

    // A public question that Konstanz answers (as if its answer had
    // arrived); Ulm accepts the answer, then deletes the question.
    let (_, question) = api(
        &node,
        &token,
        Method::POST,
        "/api/v1/questions",
        json!({ "title": "Wer kennt XRechnung?", "body": "?" }),
    )
    .await;
    let question_id = question["id"].as_str().unwrap().to_owned();
    // Its Create is built before the answer is accepted (built after, it
    // would rightly name Konstanz too).
    settle(&[&node]).await;
    let answer = store
        .answers()
        .insert_remote(
            allmende_domain::QuestionId(question_id.parse().unwrap()),
            konstanz.id,
            &RemoteAnswer {
                ap_id: &format!("{}/answers/1", owners[r]),
                body: "Wir.",
                body_html: None,
                published: now(),
                updated: now(),
            },
        )
        .await
        .unwrap();
    let (status, _) = api(
        &node,
        &token,
        Method::POST,
        &format!("/api/v1/answers/{}/accept", answer.id),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    settle(&[&node]).await;
    let (status, _) = api(
        &node,
        &token,
        Method::DELETE,
        &format!("/api/v1/questions/{question_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);

    // Ulm answers Konstanz's public question (a copy kept here).
    let theirs = allmende_domain::QuestionInput {
        title: Some("Wer hat ein Bürgerportal?".into()),
        body: Some("Erfahrungen?".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let theirs = store
        .questions()
        .insert_remote(
            konstanz.id,
            &theirs,
            &format!("{}/questions/1", owners[r]),
            now(),
            now(),
        )
        .await
        .unwrap();
    let (status, body) = api(
        &node,
        &token,
        Method::POST,
        &format!("/api/v1/questions/{}/answers", theirs.id),
        json!({ "body": "Wir." }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    settle(&[&node]).await;

    // Follows: Ulm follows T and stops; P asks, is admitted, is removed.
    store
        .follows()
        .request(ulm.id, followed.id, &node.at("/follows/1"), now())
        .await
        .unwrap();
    store
        .follows()
        .unfollow(ulm.id, followed.id, now())
        .await
        .unwrap();
    store
        .follows()
        .record_follow_request(
            pending.id,
            ulm.id,
            &format!("{}/follows/1", owners[p]),
            now(),
        )
        .await
        .unwrap();
    assert!(store
        .follows()
        .approve_follower(pending.id, ulm.id, now())
        .await
        .unwrap());
    assert!(store
        .follows()
        .refuse_follower(pending.id, ulm.id, now())
        .await
        .unwrap());
    // The profile changes.
    let (status, _) = api(
        &node,
        &token,
        Method::PUT,
        "/api/v1/organizations/ulm",
        json!({ "name": "Stadt Ulm", "kind": "municipality" }),
    )
    .await;
    assert_eq!(status, 200);
    settle(&[&node]).await;

    let followers = node.at("/orgs/ulm/followers");
    let received = inboxes.received();
    let mut kinds = BTreeSet::new();
    let mut about_followers_only = 0;
    for (i, activity) in &received {
        let i = *i;
        let kind = activity["type"].as_str().unwrap_or_default();
        kinds.insert(kind.to_owned());
        let named = addressees(activity);
        let as_follower = named.contains(&followers) && (i == f || i == p);
        assert!(
            named.contains(&owners[i]) || as_follower,
            "{kind} delivered to {} does not name it: {activity}",
            owners[i]
        );
        let object = &activity["object"];
        if object.is_object() {
            let kept = addressees(object);
            assert!(
                kept.is_subset(&named),
                "{kind} drops its object's addressing: {activity}"
            );
        }
        let about = object
            .as_str()
            .or_else(|| object["id"].as_str())
            .unwrap_or_default();
        if followers_only.iter().any(|id| id == about) {
            about_followers_only += 1;
            assert!(
                !named.contains(PUBLIC),
                "{kind} of a followers-only item names the public: {activity}"
            );
            assert!(named.contains(&followers), "{kind}: {activity}");
        }
    }
    // The followers-only question's Create, Update and Delete reached F
    // (and P, if it was admitted by the time they were built).
    assert!(about_followers_only >= 3, "{received:?}");
    // Every activity type the node sends was seen.
    let expected: BTreeSet<String> = [
        "Accept", "Create", "Delete", "Follow", "Reject", "Undo", "Update",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(kinds, expected, "{received:?}");
    // Konstanz heard of Ulm's answer to its question, of its own answer's
    // acceptance and of the question's deletion.
    let mut to_konstanz: Vec<&str> = received
        .iter()
        .filter(|(i, _)| *i == r)
        .filter_map(|(_, a)| a["type"].as_str())
        .collect();
    to_konstanz.sort_unstable();
    assert_eq!(to_konstanz, ["Create", "Delete", "Update"], "{received:?}");
}
