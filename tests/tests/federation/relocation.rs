//! An organization moves to another node: exported on the old node,
//! imported on the new one with the same keys, items and people, and
//! announced with `Move`; the nodes of its followers follow it there.

use allmende_domain::FollowerApproval;
use allmende_server::usecases::{relocation, UseCaseError};
use allmende_store::OrganizationArchive;
use allmende_tests::api::{api, api_get, create, create_project, fetch_ap, follow, titles};
use allmende_tests::signed::post_signed;
use allmende_tests::{browser, get_text, login, settle, spawn_app, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

/// The actor ids `org` of `node` follows, with whether each is accepted.
async fn following(node: &TestNode, token: &str) -> Vec<(String, bool)> {
    let relations = api_get(node, token, "/api/v1/follows").await;
    relations["following"]
        .as_array()
        .expect("following")
        .iter()
        .map(|f| {
            (
                f["organization"]["actor"]
                    .as_str()
                    .expect("actor")
                    .to_owned(),
                f["accepted"].as_bool().expect("accepted"),
            )
        })
        .collect()
}

/// The archive of `handle`, as it would travel in a file.
async fn exported(node: &TestNode, handle: &str) -> OrganizationArchive {
    let archive = relocation::export(&node.state.store, &node.state.federation, handle)
        .await
        .expect("exported");
    let file = serde_json::to_vec(&archive).expect("JSON");
    serde_json::from_slice(&file).expect("read back")
}

#[tokio::test]
async fn an_organization_moves_and_its_followers_follow_it_to_its_new_home() {
    let old = spawn_app().await;
    let new = spawn_app().await;
    let reader = spawn_app().await;
    let ulm_token = old.org_with_token("ulm").await;
    let reader_token = reader.org_with_token("neu-ulm").await;

    create_project(&old, &ulm_token, "Bewohnerparken digital").await;
    let question = create(
        &old,
        &ulm_token,
        "questions",
        json!({ "title": "Wer nutzt die E-Rechnung?", "body": "Erfahrungen gesucht." }),
    )
    .await;
    let (status, answer) = api(
        &old,
        &ulm_token,
        Method::POST,
        &format!(
            "/api/v1/questions/{}/answers",
            question["id"].as_str().unwrap()
        ),
        json!({ "body": "Wir selbst seit 2024, mit XRechnung 3." }),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = api(
        &old,
        &ulm_token,
        Method::POST,
        &format!("/api/v1/answers/{}/accept", answer["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        follow(&reader, &reader_token, &format!("ulm@{}", old.host())).await,
        202
    );
    settle(&[&old, &reader]).await;
    let old_actor = old.at("/orgs/ulm");
    assert_eq!(
        following(&reader, &reader_token).await,
        [(old_actor.clone(), true)]
    );

    // Export, and import on the new node.
    let archive = exported(&old, "ulm").await;
    assert_eq!(archive.actor_id, old_actor);
    assert_eq!(archive.items.len(), 2);
    assert_eq!(archive.answers.len(), 1);
    assert_eq!(archive.followers, [reader.at("/orgs/neu-ulm")]);
    let imported = relocation::import(&new.state.store, &new.state.federation, &archive, None, &[])
        .await
        .expect("imported");
    assert_eq!(imported.stored.items, 2);
    assert_eq!(imported.stored.answers, 1);
    assert_eq!(imported.stored.answers_skipped, 0);
    assert_eq!(imported.stored.people, 1);
    // Its new home admits followers by hand: those it had are let in
    // anyway, because they followed before.
    let moved_org = new.organization("ulm").await;
    new.state
        .store
        .organizations()
        .set_follower_approval(moved_org.id, FollowerApproval::Manual)
        .await
        .unwrap();

    // Same keys; the new actor names the old one.
    let new_actor = new.at("/orgs/ulm");
    let (_, old_doc) = fetch_ap(&old_actor).await;
    let (_, new_doc) = fetch_ap(&new_actor).await;
    assert_eq!(
        old_doc["publicKey"]["publicKeyPem"],
        new_doc["publicKey"]["publicKeyPem"]
    );
    assert_eq!(
        old_doc["assertionMethod"][0]["publicKeyMultibase"],
        new_doc["assertionMethod"][0]["publicKeyMultibase"]
    );
    assert_eq!(new_doc["alsoKnownAs"], json!([old_actor]));
    assert_eq!(new_doc["movedTo"], Value::Null);
    // Items, answers and people came along: the people sign in with their
    // passwords.
    let projects = titles(&new, "projects").await;
    assert_eq!(projects, ["Bewohnerparken digital"]);
    let page = get_text(&new.at(&format!("/questions/{}", question["id"].as_str().unwrap()))).await;
    assert!(page.contains("mit XRechnung 3"), "{page}");
    let moved_question = allmende_tests::get_json(&new.at(&format!(
        "/api/v1/questions/{}",
        question["id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(
        moved_question["accepted_answer_id"], answer["id"],
        "{moved_question}"
    );
    login(&new, &browser(), "admin@ulm.example").await;

    // The move is announced on the old node.
    relocation::announce_move(&old.state.store, &old.state.federation, "ulm", &new_actor)
        .await
        .expect("moved");
    settle(&[&old, &new, &reader]).await;
    let (_, old_doc) = fetch_ap(&old_actor).await;
    assert_eq!(old_doc["movedTo"], json!(new_actor));
    assert_eq!(
        following(&reader, &reader_token).await,
        [(new_actor.clone(), true)],
        "the reader follows the organization at its new home, accepted at once, and no longer the old actor"
    );
    let old_page = get_text(&old.at("/orgs/ulm")).await;
    assert!(old_page.contains("umgezogen"), "{old_page}");
    assert!(old_page.contains(&new_actor), "{old_page}");

    // What it publishes at its new home reaches the reader.
    let new_token = new.token_for("admin@ulm.example").await;
    create_project(&new, &new_token, "Digitale Bauakte").await;
    settle(&[&old, &new, &reader]).await;
    assert!(
        titles(&reader, "projects")
            .await
            .contains(&"Digitale Bauakte".to_owned()),
        "the reader gets the new home's items"
    );
    // Its earlier items came along through the backfill of the new
    // actor's outbox (the old copies stay, under the old actor).
    let bewohnerparken = titles(&reader, "projects")
        .await
        .iter()
        .filter(|t| *t == "Bewohnerparken digital")
        .count();
    assert_eq!(bewohnerparken, 2);
    // The new home's follower is the reader, once.
    let (_, followers) = fetch_ap(&new.at("/orgs/ulm/followers")).await;
    assert_eq!(followers["totalItems"], 1);
}

#[tokio::test]
async fn a_move_to_an_actor_that_does_not_name_the_old_one_is_refused() {
    let old = spawn_app().await;
    let stranger = spawn_app().await;
    let reader = spawn_app().await;
    old.org_with_token("ulm").await;
    stranger.org_with_token("ulm").await;
    let reader_token = reader.org_with_token("neu-ulm").await;
    follow(&reader, &reader_token, &format!("ulm@{}", old.host())).await;
    settle(&[&old, &reader]).await;
    let old_actor = old.at("/orgs/ulm");
    let stranger_actor = stranger.at("/orgs/ulm");

    // The operator's command refuses, and records nothing.
    let refused = relocation::announce_move(
        &old.state.store,
        &old.state.federation,
        "ulm",
        &stranger_actor,
    )
    .await;
    assert!(
        matches!(&refused, Err(UseCaseError::Refused(why)) if why.contains("alsoKnownAs")),
        "{refused:?}"
    );
    assert_eq!(old.organization("ulm").await.moved_to, None);

    // A Move signed by the old actor itself, to a home that did not agree:
    // refused, and the reader's follow stays.
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": old.at("/activities/move-1"),
        "type": "Move",
        "actor": old_actor,
        "object": old_actor,
        "target": stranger_actor,
    });
    let response = post_signed(&old, "ulm", &reader, &forged).await;
    assert_eq!(response.status(), 403);
    // Moving someone else is refused before anything is fetched.
    let other = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": old.at("/activities/move-2"),
        "type": "Move",
        "actor": old_actor,
        "object": reader.at("/orgs/neu-ulm"),
        "target": stranger_actor,
    });
    let response = post_signed(&old, "ulm", &reader, &other).await;
    assert_eq!(response.status(), 403);
    settle(&[&old, &stranger, &reader]).await;
    assert_eq!(following(&reader, &reader_token).await, [(old_actor, true)]);
    assert_eq!(stranger.count("follows").await, 0);
}

#[tokio::test]
async fn an_archive_that_does_not_fit_is_refused_and_changes_nothing() {
    let old = spawn_app().await;
    let new = spawn_app().await;
    old.org_with_token("ulm").await;
    let archive = exported(&old, "ulm").await;
    let import = |archive: OrganizationArchive, handle: Option<&'static str>| {
        let new = &new;
        async move {
            relocation::import(
                &new.state.store,
                &new.state.federation,
                &archive,
                handle,
                &[],
            )
            .await
        }
    };
    let refused = |result: Result<relocation::Imported, UseCaseError>, needle: &str| match result {
        Err(UseCaseError::Refused(why)) => assert!(why.contains(needle), "{why}"),
        Err(UseCaseError::Invalid(why)) => assert!(why.to_string().contains(needle), "{why}"),
        other => panic!("expected a refusal naming {needle}: {other:?}"),
    };

    let keys_before = new.count("signing_keys").await;
    let mut wrong_version = archive.clone();
    wrong_version.version = 99;
    refused(import(wrong_version, None).await, "version");
    let mut broken_key = archive.clone();
    broken_key.keys.rsa = "AAAA".into();
    refused(import(broken_key, None).await, "keys.rsa");
    let mut bad_handle = archive.clone();
    bad_handle.organization.handle = "Ulm Stadt!".into();
    refused(import(bad_handle, None).await, "handle");
    let mut costly_hash = archive.clone();
    costly_hash.people[0].password_hash =
        "$argon2id$v=19$m=4000000,t=90,p=1$c2FsdHNhbHRzYWx0$0RHbcMQ+5Z4e9xrP0b1ph3nIk3kyEyb1XwQk3aFo+0M"
            .into();
    refused(import(costly_hash, None).await, "password hash");
    let mut not_a_logo = archive.clone();
    not_a_logo.branding.logo_png = Some("PHN2Zz48L3N2Zz4=".into());
    refused(import(not_a_logo, None).await, "branding.logo_png");
    let mut bad_colour = archive.clone();
    bad_colour.branding.color = Some("red; background: url(x)".into());
    refused(import(bad_colour, None).await, "branding.color");
    let mut empty_answer = archive.clone();
    empty_answer
        .answers
        .push(allmende_store::relocation::ArchivedAnswer {
            id: uuid::Uuid::now_v7(),
            question: "https://elsewhere.example/questions/1".into(),
            body: "  ".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        });
    refused(import(empty_answer, None).await, "answers");
    // An operator's address here: the file's author would know the
    // operator's password.
    refused(
        relocation::import(
            &new.state.store,
            &new.state.federation,
            &archive,
            None,
            &["Admin@Ulm.example".to_owned()],
        )
        .await,
        "operator",
    );
    // Back into the node it came from.
    refused(
        relocation::import(
            &old.state.store,
            &old.state.federation,
            &archive,
            Some("ulm2"),
            &[],
        )
        .await,
        "comes from this node",
    );
    assert_eq!(new.count("organizations").await, 0);
    assert_eq!(new.count("signing_keys").await, keys_before);
    assert_eq!(new.count("users").await, 0);

    // A person with an account here already: nothing is written.
    new.org_with_token("blaustein").await;
    let mut taken_email = archive.clone();
    taken_email.people[0].email = "Admin@Blaustein.example".into();
    refused(import(taken_email, None).await, "admin@blaustein.example");
    assert_eq!(new.count("organizations").await, 1);

    // Imported once; a second time is refused, also under another handle.
    import(archive.clone(), None).await.expect("imported");
    refused(import(archive.clone(), Some("ulm-neu")).await, "already");
    new.org_with_token("ulm-zwei").await;
    let mut other_org = archive.clone();
    other_org.organization.id = uuid::Uuid::now_v7();
    other_org.people.clear();
    other_org.items.clear();
    refused(import(other_org, Some("ulm-zwei")).await, "taken");
    assert_eq!(new.count("organizations").await, 3);
}

/// A document at the target URL about another actor of that host (which
/// never agreed to anything) does not count: the Move is refused, the
/// follow stays, and nothing of that document is stored.
#[tokio::test]
async fn a_move_to_a_document_about_another_actor_is_refused() {
    let old = spawn_app().await;
    let reader = spawn_app().await;
    old.org_with_token("ulm").await;
    let reader_token = reader.org_with_token("neu-ulm").await;
    follow(&reader, &reader_token, &format!("ulm@{}", old.host())).await;
    settle(&[&old, &reader]).await;
    let old_actor = old.at("/orgs/ulm");

    // A host whose page at /moved is a well-formed actor document of
    // /orgs/victim, naming the old actor as its alias.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let key = allmende_federation::SigningKey::generate().unwrap();
    let victim = format!("{host}/orgs/victim");
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": victim,
        "type": "Organization",
        "preferredUsername": "victim",
        "inbox": format!("{victim}/inbox"),
        "alsoKnownAs": [old_actor],
        "publicKey": {
            "id": format!("{victim}#main-key"),
            "owner": victim,
            "publicKeyPem": key.public_key_pem(),
        },
    });
    let app = axum::Router::new().route(
        "/moved",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move {
                (
                    [("content-type", "application/activity+json")],
                    doc.to_string(),
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let remote_actors = reader.count("remote_actors").await;

    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": old.at("/activities/move-3"),
        "type": "Move",
        "actor": old_actor,
        "object": old_actor,
        "target": format!("{host}/moved"),
    });
    let response = post_signed(&old, "ulm", &reader, &forged).await;
    assert_eq!(response.status(), 403);
    settle(&[&old, &reader]).await;
    assert_eq!(following(&reader, &reader_token).await, [(old_actor, true)]);
    assert_eq!(reader.count("remote_actors").await, remote_actors);
}
