//! Nodes follow each other and exchange every item type.

use allmende_tests::{settle, spawn_app, spawn_app_on, test_config};
use reqwest::Method;
use serde_json::{json, Value};

use allmende_tests::api::{api, api_get, create, fetch_ap, follow, local_id, titles};

#[tokio::test]
async fn follow_accept_and_every_item_type_travels() {
    let ulm = spawn_app().await;
    let mannheim = spawn_app().await;
    let ulm_token = ulm.org_with_token("ulm").await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;

    assert_eq!(
        follow(&ulm, &ulm_token, &format!("mannheim@{}", mannheim.host())).await,
        202
    );
    settle(&[&ulm, &mannheim]).await;
    let relations = api_get(&ulm, &ulm_token, "/api/v1/follows").await;
    assert_eq!(relations["following"][0]["accepted"], true, "{relations}");
    assert_eq!(
        relations["following"][0]["organization"]["actor"],
        mannheim.at("/orgs/mannheim")
    );
    let theirs = api_get(&mannheim, &mannheim_token, "/api/v1/follows").await;
    assert_eq!(
        theirs["followers"][0]["organization"]["handle"],
        format!("ulm@{}", ulm.host())
    );
    let (_, followers) = fetch_ap(&mannheim.at("/orgs/mannheim/followers")).await;
    assert_eq!(followers["totalItems"], 1);

    // Create: every type arrives, fully typed.
    let project = create(
        &mannheim,
        &mannheim_token,
        "projects",
        json!({
            "title": "Bewohnerparken digital",
            "summary": "Parkausweise online",
            "status": "running",
            "themenfeld": "mobilitaet-reisen",
            "leika_keys": ["99041006017000"],
            "ozg_ids": [123],
            "seeking_partners": true,
        }),
    )
    .await;
    let question = create(
        &mannheim,
        &mannheim_token,
        "questions",
        json!({
            "title": "Wer nutzt schon die E-Rechnung?",
            "body": "Wir suchen Erfahrungen mit XRechnung.",
        }),
    )
    .await;
    create(
        &mannheim,
        &mannheim_token,
        "solutions",
        json!({
            "title": "Formular Hundesteuer",
            "kind": "form",
            "licence": "EUPL-1.2",
            "maturity": "stable",
        }),
    )
    .await;
    settle(&[&ulm, &mannheim]).await;
    assert_eq!(titles(&ulm, "projects").await, ["Bewohnerparken digital"]);
    assert_eq!(
        titles(&ulm, "questions").await,
        ["Wer nutzt schon die E-Rechnung?"]
    );
    assert_eq!(titles(&ulm, "solutions").await, ["Formular Hundesteuer"]);
    let copy_id = local_id(&ulm, "projects", "Bewohnerparken digital").await;
    let copy = api_get(&ulm, &ulm_token, &format!("/api/v1/projects/{copy_id}")).await;
    assert_eq!(copy["status"], "running");
    assert_eq!(copy["themenfeld"], "mobilitaet-reisen");
    assert_eq!(copy["leika_keys"][0], "99041006017000");
    assert_eq!(copy["seeking_partners"], true);
    assert_eq!(copy["organization"]["actor"], mannheim.at("/orgs/mannheim"));
    // Remote items show on the pages and in search, with their origin.
    let page = allmende_tests::get_text(&ulm.at(&format!("/projects/{copy_id}"))).await;
    assert!(
        page.contains(&format!("@mannheim@{}", mannheim.host())),
        "origin shown"
    );
    let original = mannheim.at(&format!("/projects/{}", project["id"].as_str().unwrap()));
    assert!(
        page.contains(&format!("href=\"{original}\"")),
        "links the original"
    );
    let search = allmende_tests::get_text(&ulm.at("/search?q=bewohnerparken")).await;
    assert!(search.contains("Bewohnerparken digital"));
    // The home feed lists what followed organizations published.
    let feed = api_get(&ulm, &ulm_token, "/api/v1/feed").await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 3, "{feed}");
    // Editing a remote copy is not allowed.
    let (status, _) = api(
        &ulm,
        &ulm_token,
        Method::PATCH,
        &format!("/api/v1/projects/{copy_id}"),
        json!({"title": "x"}),
    )
    .await;
    assert_eq!(status, 403);

    // Update.
    let project_id = project["id"].as_str().unwrap();
    let (status, _) = api(
        &mannheim,
        &mannheim_token,
        Method::PATCH,
        &format!("/api/v1/projects/{project_id}"),
        json!({ "status": "live" }),
    )
    .await;
    assert_eq!(status, 200);
    settle(&[&ulm, &mannheim]).await;
    let copy = api_get(&ulm, &ulm_token, &format!("/api/v1/projects/{copy_id}")).await;
    assert_eq!(copy["status"], "live");

    // An answer from Ulm's node reaches Mannheim; Mannheim accepts it and
    // Ulm's copy of the question shows it accepted.
    let question_copy = local_id(&ulm, "questions", "Wer nutzt schon die E-Rechnung?").await;
    let (status, answer) = api(
        &ulm,
        &ulm_token,
        Method::POST,
        &format!("/api/v1/questions/{question_copy}/answers"),
        json!({ "body": "Ulm seit 2025, gern Austausch." }),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    settle(&[&ulm, &mannheim]).await;
    let question_id = question["id"].as_str().unwrap();
    let at_home = api_get(
        &mannheim,
        &mannheim_token,
        &format!("/api/v1/questions/{question_id}"),
    )
    .await;
    let answers = at_home["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "{at_home}");
    assert_eq!(answers[0]["body"], "Ulm seit 2025, gern Austausch.");
    assert_eq!(
        answers[0]["organization"]["handle"],
        format!("ulm@{}", ulm.host())
    );
    let remote_answer = answers[0]["id"].as_str().unwrap();
    let (status, _) = api(
        &mannheim,
        &mannheim_token,
        Method::POST,
        &format!("/api/v1/answers/{remote_answer}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    settle(&[&ulm, &mannheim]).await;
    let copy = api_get(
        &ulm,
        &ulm_token,
        &format!("/api/v1/questions/{question_copy}"),
    )
    .await;
    assert_eq!(copy["accepted_answer_id"], answer["id"], "{copy}");

    // Delete: gone on the follower, 410 with a Tombstone at home.
    let (status, _) = api(
        &mannheim,
        &mannheim_token,
        Method::DELETE,
        &format!("/api/v1/projects/{project_id}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    settle(&[&ulm, &mannheim]).await;
    assert!(titles(&ulm, "projects").await.is_empty());
    let (status, tombstone) = fetch_ap(&mannheim.at(&format!("/projects/{project_id}"))).await;
    assert_eq!(status, 410);
    assert_eq!(tombstone["type"], "Tombstone");

    // Questions and solutions are updated and deleted the same way (the
    // question's deletion takes its answers with it).
    for (collection, title) in [
        ("questions", "Wer nutzt schon die E-Rechnung?"),
        ("solutions", "Formular Hundesteuer"),
    ] {
        let home_id = local_id(&mannheim, collection, title).await;
        let changed = format!("{title} (geändert)");
        let (status, _) = api(
            &mannheim,
            &mannheim_token,
            Method::PATCH,
            &format!("/api/v1/{collection}/{home_id}"),
            json!({ "title": changed }),
        )
        .await;
        assert_eq!(status, 200);
        settle(&[&ulm, &mannheim]).await;
        assert_eq!(
            titles(&ulm, collection).await,
            std::slice::from_ref(&changed),
            "{collection} updated"
        );
        let (status, _) = api(
            &mannheim,
            &mannheim_token,
            Method::DELETE,
            &format!("/api/v1/{collection}/{home_id}"),
            json!({}),
        )
        .await;
        assert_eq!(status, 204);
        settle(&[&ulm, &mannheim]).await;
        assert!(
            titles(&ulm, collection).await.is_empty(),
            "{collection} deleted"
        );
        let (status, _) = fetch_ap(&mannheim.at(&format!("/{collection}/{home_id}"))).await;
        assert_eq!(status, 410);
    }

    // Unfollow stops delivery.
    let (status, _) = api(
        &ulm,
        &ulm_token,
        Method::DELETE,
        &format!("/api/v1/follows/mannheim@{}", mannheim.host()),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    settle(&[&ulm, &mannheim]).await;
    let theirs = api_get(&mannheim, &mannheim_token, "/api/v1/follows").await;
    assert!(
        theirs["followers"].as_array().unwrap().is_empty(),
        "{theirs}"
    );
    create(
        &mannheim,
        &mannheim_token,
        "projects",
        json!({ "title": "Nach dem Entfolgen", "status": "idea" }),
    )
    .await;
    settle(&[&ulm, &mannheim]).await;
    assert!(titles(&ulm, "projects").await.is_empty());
}

#[tokio::test]
async fn a_node_that_was_down_gets_everything_when_it_returns() {
    let mannheim = spawn_app().await;
    let mut verbund = spawn_app().await;
    let ulm = spawn_app().await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    let verbund_token = verbund.org_with_token("verbund").await;
    let ulm_token = ulm.org_with_token("ulm").await;
    let target = format!("mannheim@{}", mannheim.host());
    assert_eq!(follow(&verbund, &verbund_token, &target).await, 202);
    assert_eq!(follow(&ulm, &ulm_token, &target).await, 202);
    settle(&[&mannheim, &verbund, &ulm]).await;

    // The association's node goes down for maintenance.
    let port = verbund.port();
    let db = verbund.database_url.clone();
    let dir = verbund.take_database();
    verbund.stop().await;

    create(
        &mannheim,
        &mannheim_token,
        "projects",
        json!({ "title": "Während der Wartung", "status": "idea" }),
    )
    .await;
    // Ulm is not held up by the node that is down.
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while titles(&ulm, "projects").await.is_empty() {
            // Poll (the deadline above bounds it); the other delivery keeps retrying.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the reachable follower gets the item");
    assert!(
        mannheim.state.federation.pending_work().await.unwrap() > 0,
        "a retry is pending"
    );

    let verbund = spawn_app_on(&db, test_config(), port).await;
    create(
        &mannheim,
        &mannheim_token,
        "projects",
        json!({ "title": "Nach der Wartung", "status": "idea" }),
    )
    .await;
    settle(&[&mannheim, &verbund, &ulm]).await;
    let mut got = titles(&verbund, "projects").await;
    got.sort();
    assert_eq!(got, ["Nach der Wartung", "Während der Wartung"]);
    assert_eq!(titles(&ulm, "projects").await.len(), 2);
    drop(dir);
}

#[tokio::test]
async fn two_followers_on_one_node_get_one_delivery_through_the_shared_inbox() {
    let mannheim = spawn_app().await;
    let ulm_node = spawn_app().await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    let ulm_token = ulm_node.org_with_token("ulm").await;
    let blaustein_token = ulm_node.org_with_token("blaustein").await;
    let target = format!("mannheim@{}", mannheim.host());
    assert_eq!(follow(&ulm_node, &ulm_token, &target).await, 202);
    assert_eq!(follow(&ulm_node, &blaustein_token, &target).await, 202);
    settle(&[&mannheim, &ulm_node]).await;

    let stats = mannheim.state.federation.jobs().stats();
    let before = stats.delivered.load(std::sync::atomic::Ordering::SeqCst);
    create(
        &mannheim,
        &mannheim_token,
        "projects",
        json!({ "title": "Einmal geliefert", "status": "idea" }),
    )
    .await;
    settle(&[&mannheim, &ulm_node]).await;
    let after = stats.delivered.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(after - before, 1, "one request for both followers");
    // Stored once, in both organizations' feeds.
    assert_eq!(ulm_node.count("projects").await, 1);
    for token in [&ulm_token, &blaustein_token] {
        let feed = api_get(&ulm_node, token, "/api/v1/feed").await;
        assert_eq!(feed["items"][0]["title"], "Einmal geliefert", "{feed}");
    }
}

#[tokio::test]
async fn followers_only_questions_reach_only_the_followers_users() {
    let mannheim = spawn_app().await;
    let ulm_node = spawn_app().await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    let ulm_token = ulm_node.org_with_token("ulm").await;
    let blaustein_token = ulm_node.org_with_token("blaustein").await;
    assert_eq!(
        follow(
            &ulm_node,
            &ulm_token,
            &format!("mannheim@{}", mannheim.host())
        )
        .await,
        202
    );
    settle(&[&mannheim, &ulm_node]).await;
    create(
        &mannheim,
        &mannheim_token,
        "questions",
        json!({
            "title": "Nur für Folgende",
            "body": "Interne Frage an unser Netzwerk.",
            "audience": "followers",
        }),
    )
    .await;
    settle(&[&mannheim, &ulm_node]).await;
    assert_eq!(
        ulm_node.count("questions").await,
        1,
        "delivered to the follower's node"
    );

    // Ulm follows Mannheim: its users see the question, in lists and alone.
    let list = api_get(&ulm_node, &ulm_token, "/api/v1/questions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = api(
        &ulm_node,
        &ulm_token,
        Method::GET,
        &format!("/api/v1/questions/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    // Blaustein, on the same node, does not follow Mannheim: it sees nothing.
    let list = api_get(&ulm_node, &blaustein_token, "/api/v1/questions").await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    let (status, _) = api(
        &ulm_node,
        &blaustein_token,
        Method::GET,
        &format!("/api/v1/questions/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = api(
        &ulm_node,
        &blaustein_token,
        Method::POST,
        &format!("/api/v1/questions/{id}/answers"),
        json!({ "body": "x" }),
    )
    .await;
    assert_eq!(status, 404, "no answering what one may not read");
    // Nor do anonymous readers, nor is it served as ActivityPub JSON at home.
    assert!(titles(&ulm_node, "questions").await.is_empty());
    let home_id = api_get(&mannheim, &mannheim_token, "/api/v1/questions").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = fetch_ap(&mannheim.at(&format!("/questions/{home_id}"))).await;
    assert_eq!(status, 404);
}
