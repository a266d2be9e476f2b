//! Groups across nodes (issue 13, FEP-1b12): associations and networks that
//! organizations join, that pass their members' items on to their
//! followers, that follow each other, and whose admins moderate.
//!
//! The usual cast: the Verband (an association) on node G; Ulm, a member,
//! on node A; Mannheim, who follows the Verband, on node C.

use allmende_domain::FollowerApproval;
use allmende_tests::api::{api, api_get, create, follow, titles};
use allmende_tests::{browser, login, page_csrf, settle, spawn_app, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

/// `handle@host` of an organization on `node`.
fn address(node: &TestNode, handle: &str) -> String {
    format!("{handle}@{}", node.host())
}

/// Publishes to `collection` with `groups`; returns the status and body.
async fn publish(
    node: &TestNode,
    token: &str,
    collection: &str,
    mut body: Value,
    groups: &[String],
) -> (u16, Value) {
    body["groups"] = json!(groups);
    api(
        node,
        token,
        Method::POST,
        &format!("/api/v1/{collection}"),
        body,
    )
    .await
}

/// The group as node `node` shows it through the API.
async fn group_view(node: &TestNode, token: &str, handle: &str) -> Value {
    api_get(node, token, &format!("/api/v1/groups/{handle}")).await
}

fn handles(list: &Value) -> Vec<String> {
    let mut found: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| o["handle"].as_str().expect("handle").to_owned())
        .collect();
    found.sort();
    found
}

/// How many activities the group `handle` on `node` announced.
async fn announced(node: &TestNode, handle: &str) -> i64 {
    let group = node.organization(handle).await;
    node.state
        .store
        .groups()
        .count_announced(group.id)
        .await
        .unwrap()
}

/// The ActivityPub id of the item titled `title` in a group's view.
async fn object_titled(node: &TestNode, view: &Value, title: &str) -> String {
    for item in view["items"].as_array().expect("items") {
        let read = allmende_tests::get_json(&node.at(item["href"].as_str().unwrap())).await;
        if read["title"] == title {
            return item["object"].as_str().unwrap().to_owned();
        }
    }
    panic!("no item {title} in {view}");
}

/// The Verband on G (approval by its admin), Ulm on A and Mannheim on C,
/// both admitted by the Verband's admin in the browser.
struct Cast {
    g: TestNode,
    a: TestNode,
    c: TestNode,
    verband: String,
    ulm: String,
    mannheim: String,
}

async fn cast(approval: FollowerApproval) -> Cast {
    let g = spawn_app().await;
    let verband = g.group_with_token("verband", "association", approval).await;
    let a = spawn_app().await;
    let ulm = a.org_with_token("ulm").await;
    let c = spawn_app().await;
    let mannheim = c.org_with_token("mannheim").await;
    assert_eq!(follow(&a, &ulm, &address(&g, "verband")).await, 202);
    assert_eq!(follow(&c, &mannheim, &address(&g, "verband")).await, 202);
    settle(&[&g, &a, &c]).await;
    Cast {
        g,
        a,
        c,
        verband,
        ulm,
        mannheim,
    }
}

impl Cast {
    fn nodes(&self) -> [&TestNode; 3] {
        [&self.g, &self.a, &self.c]
    }

    async fn settle(&self) {
        settle(&self.nodes()).await;
    }
}

/// The Verband's admin admits every waiting organization on the group page.
async fn admit_all(g: &TestNode, token: &str) {
    let admin = browser();
    login(g, &admin, "admin@verband.example").await;
    let csrf = page_csrf(g, &admin, "/orgs/verband").await;
    let view = group_view(g, token, "verband").await;
    for handle in handles(&view["pending"]) {
        let res = admin
            .post(g.at("/network/followers/decide"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("handle", handle.as_str()),
                ("decision", "approve"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "admit {handle}");
    }
}

#[tokio::test]
async fn a_members_items_reach_the_groups_followers_with_their_changes_answers_and_deletion() {
    let cast = cast(FollowerApproval::Manual).await;
    let (g, a, c) = (&cast.g, &cast.a, &cast.c);
    let verband = address(g, "verband");

    // Joining waits for the admin; until then Ulm cannot publish to it.
    let view = group_view(g, &cast.verband, "verband").await;
    let mut expected = vec![address(a, "ulm"), address(c, "mannheim")];
    expected.sort();
    assert_eq!(handles(&view["pending"]), expected);
    assert!(handles(&view["members"]).is_empty());
    let (status, body) = publish(
        a,
        &cast.ulm,
        "projects",
        json!({"title": "Zu früh", "status": "idea"}),
        std::slice::from_ref(&verband),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "groups");
    assert_eq!(a.count("projects").await, 0, "nothing published");

    admit_all(g, &cast.verband).await;
    cast.settle().await;
    let mine = api_get(a, &cast.ulm, "/api/v1/groups").await;
    assert_eq!(handles(&mine["groups"]), vec![verband.clone()]);

    // A followers-only question cannot go to a group.
    let (status, body) = publish(
        a,
        &cast.ulm,
        "questions",
        json!({"title": "Intern", "body": "Nur für Folgende", "audience": "followers"}),
        std::slice::from_ref(&verband),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("groups")));

    // Published to the group: Mannheim, who follows only the group, gets it.
    let (status, project) = publish(
        a,
        &cast.ulm,
        "projects",
        json!({"title": "Hundesteuer digital", "status": "planned"}),
        std::slice::from_ref(&verband),
    )
    .await;
    assert_eq!(status, 201, "{project}");
    let (status, question) = publish(
        a,
        &cast.ulm,
        "questions",
        json!({"title": "Wer nutzt schon ein Fachverfahren?", "body": "Für die Hundesteuer."}),
        std::slice::from_ref(&verband),
    )
    .await;
    assert_eq!(status, 201, "{question}");
    create(
        a,
        &cast.ulm,
        "projects",
        json!({"title": "Nicht für die Gruppe", "status": "idea"}),
    )
    .await;
    cast.settle().await;
    assert_eq!(titles(c, "projects").await, vec!["Hundesteuer digital"]);
    assert_eq!(
        titles(c, "questions").await,
        vec!["Wer nutzt schon ein Fachverfahren?"]
    );
    let feed = api_get(c, &cast.mannheim, "/api/v1/feed").await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 2, "{feed}");
    // The group's node carries both, with their author.
    let view = group_view(g, &cast.verband, "verband").await;
    let items = view["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{view}");
    assert!(items
        .iter()
        .all(|i| i["author"]["handle"] == address(a, "ulm")));
    // The group's page shows them, for everyone.
    let html = allmende_tests::get_text(&g.at("/orgs/verband")).await;
    assert!(html.contains("Hundesteuer digital"), "{html}");
    assert!(html.contains("Mitglieder"));

    // Changes follow the original.
    let project_id = project["id"].as_str().unwrap();
    let (status, _) = api(
        a,
        &cast.ulm,
        Method::PATCH,
        &format!("/api/v1/projects/{project_id}"),
        json!({"title": "Hundesteuer online"}),
    )
    .await;
    assert_eq!(status, 200);
    cast.settle().await;
    assert_eq!(titles(c, "projects").await, vec!["Hundesteuer online"]);

    // Shared with a group, the question cannot become followers-only.
    let (status, body) = api(
        a,
        &cast.ulm,
        Method::PATCH,
        &format!("/api/v1/questions/{}", question["id"].as_str().unwrap()),
        json!({"audience": "followers"}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("audience")),
        "{body}"
    );

    // Mannheim answers from its node; the answer reaches the asker and,
    // through the group, everyone; Ulm accepts it and everyone learns.
    let question_on_c =
        allmende_tests::api::local_id(c, "questions", "Wer nutzt schon ein Fachverfahren?").await;
    let (status, answer) = api(
        c,
        &cast.mannheim,
        Method::POST,
        &format!("/api/v1/questions/{question_on_c}/answers"),
        json!({"body": "Wir, seit 2025."}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    cast.settle().await;
    let question_id = question["id"].as_str().unwrap();
    let on_a = api_get(a, &cast.ulm, &format!("/api/v1/questions/{question_id}")).await;
    let answers = on_a["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "{on_a}");
    let answer_on_a = answers[0]["id"].as_str().unwrap().to_owned();
    let question_on_g =
        allmende_tests::api::local_id(g, "questions", "Wer nutzt schon ein Fachverfahren?").await;
    let on_g = allmende_tests::get_json(&g.at(&format!("/api/v1/questions/{question_on_g}"))).await;
    assert_eq!(
        on_g["answers"].as_array().unwrap().len(),
        1,
        "the group has it: {on_g}"
    );
    let (status, _) = api(
        a,
        &cast.ulm,
        Method::POST,
        &format!("/api/v1/answers/{answer_on_a}/accept"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    cast.settle().await;
    let on_c = allmende_tests::get_json(&c.at(&format!("/api/v1/questions/{question_on_c}"))).await;
    assert!(
        !on_c["accepted_answer_id"].is_null(),
        "the acceptance travelled through the group: {on_c}"
    );

    // Deleted at its origin: gone everywhere.
    let (status, _) = api(
        a,
        &cast.ulm,
        Method::DELETE,
        &format!("/api/v1/projects/{project_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    cast.settle().await;
    assert!(titles(c, "projects").await.is_empty());
    assert!(!titles(g, "projects")
        .await
        .contains(&"Hundesteuer online".to_owned()));
    let view = group_view(g, &cast.verband, "verband").await;
    assert_eq!(view["items"].as_array().unwrap().len(), 1, "{view}");
}

#[tokio::test]
async fn an_open_group_admits_at_once_and_members_on_its_own_node_publish_to_it() {
    let cast = cast(FollowerApproval::Everyone).await;
    let (g, a, c) = (&cast.g, &cast.a, &cast.c);
    let view = group_view(g, &cast.verband, "verband").await;
    let mut expected = vec![address(a, "ulm"), address(c, "mannheim")];
    expected.sort();
    assert_eq!(
        handles(&view["members"]),
        expected,
        "admitted without an admin"
    );
    assert!(handles(&view["pending"]).is_empty());

    // A small town hosted on the Verband's node joins and publishes.
    let blaustein = g.org_with_token("blaustein").await;
    let local = g.at("/orgs/verband");
    assert_eq!(follow(g, &blaustein, &local).await, 202);
    let (status, body) = publish(
        g,
        &blaustein,
        "projects",
        json!({"title": "Bürgerbüro im Dorf", "status": "running"}),
        &["verband".to_owned()],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    cast.settle().await;
    assert_eq!(titles(c, "projects").await, vec!["Bürgerbüro im Dorf"]);
    assert_eq!(titles(a, "projects").await, vec!["Bürgerbüro im Dorf"]);

    // A follower that joined later gets what the group carried before
    // (backfill through the group's outbox).
    let d = spawn_app().await;
    let konstanz = d.org_with_token("konstanz").await;
    assert_eq!(follow(&d, &konstanz, &address(g, "verband")).await, 202);
    settle(&[g, &d]).await;
    assert!(
        allmende_tests::eventually(30, || async {
            titles(&d, "projects").await == vec!["Bürgerbüro im Dorf".to_owned()]
        })
        .await,
        "backfilled through the group"
    );
}

#[tokio::test]
async fn networks_following_each_other_pass_an_item_on_once_without_a_loop() {
    let cast = cast(FollowerApproval::Everyone).await;
    let (g, a, c) = (&cast.g, &cast.a, &cast.c);
    // A second network on node N follows the Verband, and the Verband
    // follows it back; Augsburg on node D follows only the network.
    let n = spawn_app().await;
    let netz = n
        .group_with_token("netz", "network", FollowerApproval::Everyone)
        .await;
    assert_eq!(follow(&n, &netz, &address(g, "verband")).await, 202);
    assert_eq!(follow(g, &cast.verband, &address(&n, "netz")).await, 202);
    let d = spawn_app().await;
    let augsburg = d.org_with_token("augsburg").await;
    assert_eq!(follow(&d, &augsburg, &address(&n, "netz")).await, 202);
    // And a follower elsewhere that counts what it gets.
    let inbox = allmende_tests::peers::CountingInboxes::start_recording(1).await;
    allmende_tests::peers::fake_follower(
        &n.state.store,
        n.organization("netz").await.id,
        "zaehler",
        &inbox.url(0),
    )
    .await;
    let all = [g, a, c, &n, &d];
    settle(&all).await;

    let (status, body) = publish(
        a,
        &cast.ulm,
        "projects",
        json!({"title": "Bewohnerparken online", "status": "live"}),
        &[address(g, "verband")],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    settle(&all).await;
    // Two hops: Ulm → Verband → Netz → Augsburg.
    assert_eq!(titles(&d, "projects").await, vec!["Bewohnerparken online"]);
    assert_eq!(titles(&n, "projects").await, vec!["Bewohnerparken online"]);
    // Each group announced it once; the Verband did not take it back
    // from the network that follows it.
    assert_eq!(
        announced(g, "verband").await,
        1,
        "the Verband announced once"
    );
    assert_eq!(announced(&n, "netz").await, 1, "the network announced once");
    // The network's followers got it exactly once.
    let received: Vec<Value> = inbox
        .received()
        .into_iter()
        .map(|(_, body)| body)
        .filter(|b| b.to_string().contains("Bewohnerparken"))
        .collect();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["type"], "Announce");
    assert_eq!(received[0]["actor"], n.at("/orgs/netz"));
    assert_eq!(received[0]["hops"], 2);
    assert_eq!(
        n.state
            .store
            .groups()
            .items(n.organization("netz").await.id, 10)
            .await
            .unwrap()
            .len(),
        1,
        "the network carries it"
    );

    // A member on the network's own node posts to the Verband: the
    // Verband's Announce comes back to that node, whose network passes
    // the item on.
    let ravensburg = n.org_with_token("ravensburg").await;
    assert_eq!(follow(&n, &ravensburg, &address(g, "verband")).await, 202);
    settle(&all).await;
    let (status, body) = publish(
        &n,
        &ravensburg,
        "projects",
        json!({"title": "Friedhofsverwaltung digital", "status": "idea"}),
        &[address(g, "verband")],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    settle(&all).await;
    let mut on_d = titles(&d, "projects").await;
    on_d.sort();
    assert_eq!(
        on_d,
        vec!["Bewohnerparken online", "Friedhofsverwaltung digital"]
    );
    assert_eq!(announced(&n, "netz").await, 2);
    let _ = augsburg;
}

#[tokio::test]
async fn removal_and_block_take_effect_on_every_node_and_are_logged() {
    let cast = cast(FollowerApproval::Everyone).await;
    let (g, a, c) = (&cast.g, &cast.a, &cast.c);
    let verband = address(g, "verband");
    for title in ["Werbung", "Glasfaser im Landkreis"] {
        let (status, body) = publish(
            a,
            &cast.ulm,
            "projects",
            json!({"title": title, "status": "idea"}),
            std::slice::from_ref(&verband),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    cast.settle().await;
    assert_eq!(titles(c, "projects").await.len(), 2);

    // Only the group's admins moderate; its admin removes one item.
    let view = group_view(g, &cast.verband, "verband").await;
    let werbung = object_titled(g, &view, "Werbung").await;
    let (status, _) = api(
        a,
        &cast.ulm,
        Method::POST,
        "/api/v1/group/removals",
        json!({"object": werbung}),
    )
    .await;
    assert_eq!(status, 403, "Ulm is no group");
    let (status, _) = api(
        g,
        &cast.verband,
        Method::POST,
        "/api/v1/group/removals",
        json!({"object": werbung}),
    )
    .await;
    assert_eq!(status, 204);
    cast.settle().await;
    assert_eq!(titles(c, "projects").await, vec!["Glasfaser im Landkreis"]);
    // Ulm's own item stays at home.
    assert_eq!(titles(a, "projects").await.len(), 2);

    // Blocking Ulm: out of the group, its items leave every node, and it
    // can no longer publish to the group.
    let (status, _) = api(
        g,
        &cast.verband,
        Method::POST,
        "/api/v1/group/blocks",
        json!({"member": address(a, "ulm")}),
    )
    .await;
    assert_eq!(status, 204);
    cast.settle().await;
    assert!(titles(c, "projects").await.is_empty());
    let view = group_view(g, &cast.verband, "verband").await;
    assert_eq!(handles(&view["members"]), vec![address(c, "mannheim")]);
    assert_eq!(handles(&view["blocked"]), vec![address(a, "ulm")]);
    let mine = api_get(a, &cast.ulm, "/api/v1/groups").await;
    assert!(
        handles(&mine["groups"]).is_empty(),
        "Ulm learnt of it: {mine}"
    );
    let (status, _) = publish(
        a,
        &cast.ulm,
        "projects",
        json!({"title": "Nach der Sperre", "status": "idea"}),
        std::slice::from_ref(&verband),
    )
    .await;
    assert_eq!(status, 422);
    // Joining again is refused while blocked.
    assert_eq!(follow(a, &cast.ulm, &verband).await, 202);
    cast.settle().await;
    let view = group_view(g, &cast.verband, "verband").await;
    assert!(!handles(&view["members"]).contains(&address(a, "ulm")));
    assert!(!handles(&view["pending"]).contains(&address(a, "ulm")));
    let mine = api_get(a, &cast.ulm, "/api/v1/groups").await;
    assert!(handles(&mine["groups"]).is_empty(), "refused again: {mine}");

    // The log says who did what.
    let log = view["moderation_log"].as_array().unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["block-member", "remove-item"], "{view}");
    assert!(log
        .iter()
        .all(|e| e["moderator"] == "admin@verband.example"));
    // Others do not see the log.
    let public = allmende_tests::get_json(&g.at("/api/v1/groups/verband")).await;
    assert!(public.get("moderation_log").is_none());
}

/// An Announce from node M of `inner`, by M's organization `by`.
fn announce(m: &TestNode, by: &str, n: u32, inner: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": m.at(&format!("/activities/announce-{n}")),
        "type": "Announce",
        "actor": m.at(&format!("/orgs/{by}")),
        "object": inner,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    })
}

/// A Create by `actor` (an actor URL) of a project document `object_id`
/// with `title`, with the activity id `id`.
fn create_of(id: &str, actor: &str, object_id: &str, title: &str) -> Value {
    json!({
        "id": id,
        "type": "Create",
        "actor": actor,
        "object": {
            "id": object_id,
            "type": "Article",
            "attributedTo": actor,
            "name": title,
            "itemType": "project",
            "item": { "title": title, "status": "idea" },
        },
    })
}

#[tokio::test]
async fn forged_announces_are_refused_and_store_nothing() {
    use allmende_tests::signed::post_signed;
    // M runs a group (and a municipality) that Ulm on R follows; V is an
    // honest node whose organizations M tries to speak for.
    let m = spawn_app().await;
    m.group_with_token("netz", "network", FollowerApproval::Everyone)
        .await;
    m.org("mallory", "Mallory").await;
    let v = spawn_app().await;
    let victim = v.org_with_token("victim").await;
    v.org("victim2", "Opfer Zwei").await;
    let real = create(
        &v,
        &victim,
        "projects",
        json!({"title": "Echt", "status": "running"}),
    )
    .await;
    let real_id = v.at(&format!("/projects/{}", real["id"].as_str().unwrap()));
    v.state
        .store
        .organizations()
        .set_follower_approval(
            v.organization("victim").await.id,
            FollowerApproval::Everyone,
        )
        .await
        .unwrap();
    let r = spawn_app().await;
    let ulm = r.org_with_token("ulm").await;
    assert_eq!(follow(&r, &ulm, &address(&m, "netz")).await, 202);
    assert_eq!(follow(&r, &ulm, &address(&m, "mallory")).await, 202);
    settle(&[&m, &r]).await;
    let victim_actor = v.at("/orgs/victim");
    // Projects stored on R, and items the group carries there.
    let netz_on_r = r.organization(&address(&m, "netz")).await.id;
    let stored = |r: &TestNode| {
        let store = r.state.store.clone();
        async move {
            let projects = store.projects().count().await.unwrap();
            let carried = store.groups().count_of(netz_on_r).await.unwrap();
            (projects, carried)
        }
    };

    // 1. An Announce by an actor that is not a group: not taken.
    let inner = create_of(&v.at("/activities/c1"), &victim_actor, &real_id, "Echt");
    let res = post_signed(&m, "mallory", &r, &announce(&m, "mallory", 1, inner)).await;
    assert_eq!(res.status(), 202, "ignored, like a boost");
    assert_eq!(stored(&r).await, (0, 0), "nothing stored");

    // 2. The group announces a Create by victim2 of victim's project.
    let inner = create_of(
        &v.at("/activities/c2"),
        &v.at("/orgs/victim2"),
        &real_id,
        "Gefälscht",
    );
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 2, inner)).await;
    assert_eq!(res.status(), 403, "not from the announced member");
    assert_eq!(stored(&r).await, (0, 0));

    // 3. An inner activity whose id is on another origin than its actor.
    let inner = create_of(&m.at("/activities/c3"), &victim_actor, &real_id, "Echt");
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 3, inner)).await;
    assert_eq!(res.status(), 403, "inner activity claims another origin");
    assert_eq!(stored(&r).await, (0, 0));

    // 4. A Create of an object its origin does not have.
    let invented = v.at(&format!("/projects/{}", uuid::Uuid::now_v7()));
    let inner = create_of(
        &v.at("/activities/c4"),
        &victim_actor,
        &invented,
        "Erfunden",
    );
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 4, inner)).await;
    assert_eq!(res.status(), 403, "forged object");
    assert_eq!(stored(&r).await, (0, 0));

    // 5. A genuine Create with a doctored copy: what is stored is what the
    // origin serves, never the copy in the Announce.
    let inner = create_of(
        &v.at("/activities/c5"),
        &victim_actor,
        &real_id,
        "Gefälscht",
    );
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 5, inner)).await;
    assert_eq!(res.status(), 202);
    assert_eq!(titles(&r, "projects").await, vec!["Echt"]);

    // 6. A Delete of an object its origin still serves: refused, kept.
    let delete = json!({
        "id": v.at("/activities/d6"),
        "type": "Delete",
        "actor": victim_actor,
        "object": real_id,
    });
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 6, delete)).await;
    assert_eq!(res.status(), 403, "forged deletion");
    assert_eq!(titles(&r, "projects").await, vec!["Echt"]);

    // Ulm also follows the victim, and so holds its followers-only question.
    assert_eq!(follow(&r, &ulm, &address(&v, "victim")).await, 202);
    settle(&[&m, &r, &v]).await;
    let secret = create(
        &v,
        &victim,
        "questions",
        json!({"title": "Nur für Folgende", "body": "Intern", "audience": "followers"}),
    )
    .await;
    settle(&[&v, &r]).await;
    let secret_id = v.at(&format!("/questions/{}", secret["id"].as_str().unwrap()));
    assert_eq!(r.state.store.questions().count().await.unwrap(), 1);
    // 8. A Delete of something the group did not bring here (the
    // followers-only question, which its origin hides from us with 404):
    // ignored, the copy stays.
    let delete = json!({
        "id": v.at("/activities/d8"),
        "type": "Delete",
        "actor": victim_actor,
        "object": secret_id,
    });
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 8, delete)).await;
    assert_eq!(res.status(), 202);
    assert_eq!(r.state.store.questions().count().await.unwrap(), 1, "kept");
    // Nor can a group delete an actor.
    let delete = json!({
        "id": v.at("/activities/d9"),
        "type": "Delete",
        "actor": victim_actor,
        "object": victim_actor,
    });
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 9, delete)).await;
    assert_eq!(res.status(), 202);
    assert!(r
        .state
        .store
        .remote_actors()
        .by_actor_id(&victim_actor)
        .await
        .unwrap()
        .is_some());

    // 7. A Remove in the group's name by someone else.
    let remove = json!({
        "id": v.at("/activities/r7"),
        "type": "Remove",
        "actor": victim_actor,
        "object": real_id,
        "target": m.at("/orgs/netz"),
    });
    let res = post_signed(&m, "netz", &r, &announce(&m, "netz", 7, remove)).await;
    assert_eq!(res.status(), 403, "a group removes only in its own name");
    assert_eq!(titles(&r, "projects").await, vec!["Echt"]);
}

#[tokio::test]
async fn the_demo_shows_an_association_aggregating_members_on_two_nodes_and_a_network() {
    let ulm_node = spawn_app().await;
    let mannheim_node = spawn_app().await;
    let verbund_node = spawn_app().await;
    allmende_server::demo::seed_network([
        &ulm_node.state,
        &mannheim_node.state,
        &verbund_node.state,
    ])
    .await
    .expect("the demo seeds three nodes");
    settle(&[&ulm_node, &mannheim_node, &verbund_node]).await;

    let view = allmende_tests::get_json(&verbund_node.at("/api/v1/groups/digitalverbund-bw")).await;
    let members = handles(&view["members"]);
    assert!(members.contains(&address(&ulm_node, "ulm")), "{members:?}");
    assert!(
        members.contains(&address(&mannheim_node, "mannheim")),
        "{members:?}"
    );
    let authors: Vec<&str> = view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["author"]["handle"].as_str().unwrap())
        .collect();
    assert!(
        authors.contains(&address(&ulm_node, "ulm").as_str()),
        "{view}"
    );
    // Mannheim shared its project with the network only; the association
    // carries it because it follows the network.
    assert!(
        authors.contains(&address(&mannheim_node, "mannheim").as_str()),
        "through the network: {view}"
    );
    let html = allmende_tests::get_text(&verbund_node.at("/orgs/digitalverbund-bw")).await;
    assert!(html.contains("Bewohnerparkausweis online"), "{html}");
    assert!(html.contains("Hundesteuer digital anmelden"));
}
