//! Re-use that can be verified (issue 15): adoption declarations across
//! three nodes, forged declarations, out-of-order delivery, the adopter's
//! deletion, and variants that link both ways.
//!
//! Ulm publishes a solution. Mannheim follows Ulm (and has a copy);
//! the Verbund follows only Ulm, so it learns of Mannheim's declaration
//! through Ulm's `Add`, checked at Mannheim.

use allmende_tests::api::{api, create, follow, local_id};
use allmende_tests::signed::post_signed;
use allmende_tests::{settle, spawn_app, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

struct Net {
    ulm: TestNode,
    mannheim: TestNode,
    verbund: TestNode,
    ulm_token: String,
    mannheim_token: String,
    /// The solution's id at Ulm, and its copies' ids.
    at_ulm: String,
    at_mannheim: String,
    at_verbund: String,
    /// Its ActivityPub id.
    solution: String,
}

async fn network() -> Net {
    let ulm = spawn_app().await;
    let mannheim = spawn_app().await;
    let verbund = spawn_app().await;
    let ulm_token = ulm.org_with_token("ulm").await;
    let mannheim_token = mannheim.org_with_token("mannheim").await;
    let verbund_token = verbund.org_with_token("verbund").await;
    let ulm_address = format!("ulm@{}", ulm.host());
    assert_eq!(follow(&mannheim, &mannheim_token, &ulm_address).await, 202);
    assert_eq!(follow(&verbund, &verbund_token, &ulm_address).await, 202);
    settle(&[&ulm, &mannheim, &verbund]).await;
    let created = create(
        &ulm,
        &ulm_token,
        "solutions",
        json!({
            "title": "Hundesteuer online",
            "kind": "software",
            "licence": "EUPL-1.2",
            "maturity": "stable",
            "local_parameters": [
                {"name": "Steuersatz Ersthund", "example": "120 €", "required": true},
                {"name": "Zuständiges Amt"}
            ],
        }),
    )
    .await;
    settle(&[&ulm, &mannheim, &verbund]).await;
    let at_ulm = created["id"].as_str().unwrap().to_owned();
    Net {
        at_mannheim: local_id(&mannheim, "solutions", "Hundesteuer online").await,
        at_verbund: local_id(&verbund, "solutions", "Hundesteuer online").await,
        solution: ulm.at(&format!("/solutions/{at_ulm}")),
        at_ulm,
        ulm,
        mannheim,
        verbund,
        ulm_token,
        mannheim_token,
    }
}

impl Net {
    async fn settle(&self) {
        settle(&[&self.ulm, &self.mannheim, &self.verbund]).await;
    }

    /// The adopters each node shows, as (total, production, adopter actors).
    async fn adopters(&self) -> [(u64, u64, Vec<String>); 3] {
        let on = |node: &TestNode, id: &str| {
            let url = node.at(&format!("/api/v1/solutions/{id}/adopters"));
            async move {
                let v = allmende_tests::get_json(&url).await;
                let mut actors: Vec<String> = v["adopters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| {
                        a["organization"]["actor"]
                            .as_str()
                            .map_or_else(|| a["organization"]["handle"].to_string(), str::to_owned)
                    })
                    .collect();
                actors.sort();
                (
                    v["total"].as_u64().unwrap(),
                    v["production"].as_u64().unwrap(),
                    actors,
                )
            }
        };
        [
            on(&self.ulm, &self.at_ulm).await,
            on(&self.mannheim, &self.at_mannheim).await,
            on(&self.verbund, &self.at_verbund).await,
        ]
    }
}

#[tokio::test]
async fn declare_update_and_withdraw_across_three_nodes() {
    let net = network().await;
    let mannheim_actor = net.mannheim.at("/orgs/mannheim");

    // Mannheim declares a pilot on its copy.
    let (status, declared) = api(
        &net.mannheim,
        &net.mannheim_token,
        Method::PUT,
        &format!("/api/v1/solutions/{}/adoption", net.at_mannheim),
        json!({"stage": "pilot", "since": "2026-09-01", "version": "2.3",
               "parameters": [{"name": "Steuersatz Ersthund", "value": "180 €"}]}),
    )
    .await;
    assert_eq!(status, 200, "{declared}");
    assert_eq!(declared["solution"], net.solution.as_str());
    net.settle().await;
    for (node, (total, production, actors)) in net.adopters().await.iter().enumerate() {
        assert_eq!((*total, *production), (1, 0), "node {node}");
        // Remote nodes name Mannheim by its actor; Mannheim by its handle.
        if node != 1 {
            assert_eq!(actors, std::slice::from_ref(&mannheim_actor), "node {node}");
        }
    }
    // The values travelled, and the adopters collection lists the
    // declaration by its id at Mannheim.
    let at_verbund = allmende_tests::get_json(
        &net.verbund
            .at(&format!("/api/v1/solutions/{}/adopters", net.at_verbund)),
    )
    .await;
    assert_eq!(at_verbund["adopters"][0]["parameters"][0]["value"], "180 €");
    let (status, collection) =
        allmende_tests::api::fetch_ap(&format!("{}/adopters", net.solution)).await;
    assert_eq!(status, 200);
    assert_eq!(collection["totalItems"], 1);
    let adoption_id = collection["orderedItems"][0].as_str().unwrap().to_owned();
    assert!(
        adoption_id.starts_with(&net.mannheim.at("/adoptions/")),
        "{adoption_id}"
    );
    let (status, object) = allmende_tests::api::fetch_ap(&adoption_id).await;
    assert_eq!(status, 200);
    assert_eq!(object["type"], "Adoption");
    assert_eq!(object["attributedTo"], mannheim_actor.as_str());
    assert_eq!(object["object"], net.solution.as_str());

    // Ulm's own organization uses it too (a declaration on the home node).
    let (status, _) = api(
        &net.ulm,
        &net.ulm_token,
        Method::PUT,
        &format!("/api/v1/solutions/{}/adoption", net.at_ulm),
        json!({"stage": "production"}),
    )
    .await;
    assert_eq!(status, 200);
    // Mannheim goes into production: an Update.
    let (status, _) = api(
        &net.mannheim,
        &net.mannheim_token,
        Method::PUT,
        &format!("/api/v1/solutions/{}/adoption", net.at_mannheim),
        json!({"stage": "production", "since": "2026-11-01"}),
    )
    .await;
    assert_eq!(status, 200);
    net.settle().await;
    let counts: Vec<(u64, u64)> = net.adopters().await.iter().map(|a| (a.0, a.1)).collect();
    assert_eq!(
        counts,
        [(2, 2), (2, 2), (2, 2)],
        "counts agree on every node"
    );
    // The solution page shows them.
    let page =
        allmende_tests::get_text(&net.verbund.at(&format!("/solutions/{}", net.at_verbund))).await;
    assert!(page.contains("Im Einsatz bei (2)"), "adopters on the page");

    // Withdrawn: gone everywhere, and its id answers 410.
    let (status, _) = api(
        &net.mannheim,
        &net.mannheim_token,
        Method::DELETE,
        &format!("/api/v1/solutions/{}/adoption", net.at_mannheim),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    net.settle().await;
    let counts: Vec<(u64, u64)> = net.adopters().await.iter().map(|a| (a.0, a.1)).collect();
    assert_eq!(counts, [(1, 1), (1, 1), (1, 1)]);
    let (status, tombstone) = allmende_tests::api::fetch_ap(&adoption_id).await;
    assert_eq!(
        (status, tombstone["type"].as_str()),
        (410, Some("Tombstone"))
    );
    // Withdrawing again: nothing to withdraw.
    let (status, _) = api(
        &net.mannheim,
        &net.mannheim_token,
        Method::DELETE,
        &format!("/api/v1/solutions/{}/adoption", net.at_mannheim),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);

    // The solution is deleted: its declarations go with it everywhere.
    let (status, _) = api(
        &net.ulm,
        &net.ulm_token,
        Method::DELETE,
        &format!("/api/v1/solutions/{}", net.at_ulm),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    net.settle().await;
    for node in [&net.ulm, &net.mannheim, &net.verbund] {
        assert_eq!(node.count("adoptions").await, 0, "{}", node.url);
    }
}

/// An Adoption object signed by Mannheim's organization.
fn adoption(id: &str, by: &str, solution: &str, stage: &str, updated: &str) -> Value {
    json!({
        "id": id,
        "type": "Adoption",
        "attributedTo": by,
        "object": solution,
        "published": "2026-11-01T10:00:00Z",
        "updated": updated,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "adoption": {"stage": stage},
    })
}

fn activity(kind: &str, id: &str, actor: &str, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object,
    })
}

#[tokio::test]
async fn forged_late_and_repeated_declarations() {
    let net = network().await;
    let mannheim_actor = net.mannheim.at("/orgs/mannheim");
    let verbund_actor = net.verbund.at("/orgs/verbund");
    let adoptions_at_ulm = || net.ulm.count("adoptions");

    // Signed by Mannheim, in the Verbund's name: refused, nothing stored.
    let forged = adoption(
        &net.mannheim.at("/adoptions/forged-1"),
        &verbund_actor,
        &net.solution,
        "production",
        "2026-11-01T10:00:00Z",
    );
    let response = post_signed(
        &net.mannheim,
        "mannheim",
        &net.ulm,
        &activity(
            "Create",
            &net.mannheim.at("/activities/f1"),
            &mannheim_actor,
            forged,
        ),
    )
    .await;
    assert_eq!(response.status(), 403);
    // A declaration whose id lives on another node than its signer.
    let elsewhere = adoption(
        &net.verbund.at("/adoptions/forged-2"),
        &mannheim_actor,
        &net.solution,
        "production",
        "2026-11-01T10:00:00Z",
    );
    let response = post_signed(
        &net.mannheim,
        "mannheim",
        &net.ulm,
        &activity(
            "Create",
            &net.mannheim.at("/activities/f2"),
            &mannheim_actor,
            elsewhere,
        ),
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(adoptions_at_ulm().await, 0, "forgeries store nothing");

    // A withdrawal that arrives before its declaration: the declaration
    // stays withdrawn.
    let late = net.mannheim.at("/adoptions/late");
    let delete = activity(
        "Delete",
        &net.mannheim.at("/activities/d1"),
        &mannheim_actor,
        json!({"id": late, "type": "Tombstone", "formerType": "Adoption"}),
    );
    assert_eq!(
        post_signed(&net.mannheim, "mannheim", &net.ulm, &delete)
            .await
            .status(),
        202
    );
    let create_late = activity(
        "Create",
        &net.mannheim.at("/activities/c1"),
        &mannheim_actor,
        adoption(
            &late,
            &mannheim_actor,
            &net.solution,
            "pilot",
            "2026-11-01T10:00:00Z",
        ),
    );
    assert_eq!(
        post_signed(&net.mannheim, "mannheim", &net.ulm, &create_late)
            .await
            .status(),
        202
    );
    assert_eq!(adoptions_at_ulm().await, 0, "withdrawn before it arrived");

    // Delivered twice, and an older update after a newer one.
    let real = net.mannheim.at("/adoptions/real");
    let create = activity(
        "Create",
        &net.mannheim.at("/activities/c2"),
        &mannheim_actor,
        adoption(
            &real,
            &mannheim_actor,
            &net.solution,
            "production",
            "2026-11-02T10:00:00Z",
        ),
    );
    for _ in 0..2 {
        assert_eq!(
            post_signed(&net.mannheim, "mannheim", &net.ulm, &create)
                .await
                .status(),
            202
        );
    }
    let older = activity(
        "Update",
        &net.mannheim.at("/activities/u1"),
        &mannheim_actor,
        adoption(
            &real,
            &mannheim_actor,
            &net.solution,
            "pilot",
            "2026-11-01T12:00:00Z",
        ),
    );
    assert_eq!(
        post_signed(&net.mannheim, "mannheim", &net.ulm, &older)
            .await
            .status(),
        202
    );
    let at_ulm = allmende_tests::get_json(
        &net.ulm
            .at(&format!("/api/v1/solutions/{}/adopters", net.at_ulm)),
    )
    .await;
    assert_eq!(
        (at_ulm["total"].as_u64(), at_ulm["production"].as_u64()),
        (Some(1), Some(1))
    );
    // The Verbund heard of it through Ulm's Add, fetched it from Mannheim,
    // which has no such declaration: it keeps nothing it could not check.
    net.settle().await;
    assert_eq!(net.verbund.count("adoptions").await, 0);

    // Andi, another organization on Mannheim's node, declares too.
    net.mannheim.org_with_token("andi").await;
    let andi = net.mannheim.at("/orgs/andi");
    let declared = activity(
        "Create",
        &net.mannheim.at("/activities/c3"),
        &andi,
        adoption(
            &net.mannheim.at("/adoptions/andi"),
            &andi,
            &net.solution,
            "pilot",
            "2026-11-03T10:00:00Z",
        ),
    );
    assert_eq!(
        post_signed(&net.mannheim, "andi", &net.ulm, &declared)
            .await
            .status(),
        202
    );
    assert_eq!(adoptions_at_ulm().await, 2);
    // The solution named in another spelling (a query) is not this
    // solution: nothing stored, the same organization's second
    // declaration included.
    let odd = activity(
        "Create",
        &net.mannheim.at("/activities/c4"),
        &andi,
        adoption(
            &net.mannheim.at("/adoptions/odd"),
            &andi,
            &format!("{}?again=1", net.solution),
            "pilot",
            "2026-11-03T10:00:00Z",
        ),
    );
    let status = post_signed(&net.mannheim, "andi", &net.ulm, &odd)
        .await
        .status();
    assert!(status == 202 || status == 400, "{status}");
    assert_eq!(adoptions_at_ulm().await, 2);

    // Andi deleting Mannheim's declaration: refused.
    let foreign_delete = activity(
        "Delete",
        &net.mannheim.at("/activities/d2"),
        &andi,
        json!({"id": real, "type": "Tombstone", "formerType": "Adoption"}),
    );
    let response = post_signed(&net.mannheim, "andi", &net.ulm, &foreign_delete).await;
    assert_eq!(response.status(), 403);
    assert_eq!(adoptions_at_ulm().await, 2);

    // An Add from someone the Verbund follows who is not the solution's
    // author: refused, nothing fetched or stored.
    let verbund_token = net.verbund.token_for("admin@verbund.example").await;
    assert_eq!(
        follow(
            &net.verbund,
            &verbund_token,
            &format!("mannheim@{}", net.mannheim.host())
        )
        .await,
        202
    );
    net.settle().await;
    let add = json!({
        "id": net.mannheim.at("/activities/a1"), "type": "Add", "actor": mannheim_actor,
        "object": real,
        "target": {"id": format!("{}/adopters", net.solution), "type": "OrderedCollection"},
    });
    let response = post_signed(&net.mannheim, "mannheim", &net.verbund, &add).await;
    assert_eq!(response.status(), 403);
    assert_eq!(net.verbund.count("adoptions").await, 0);
    // A declaration of something that is no http(s) address: refused.
    let script = activity(
        "Create",
        &net.mannheim.at("/activities/c9"),
        &mannheim_actor,
        adoption(
            &net.mannheim.at("/adoptions/script"),
            &mannheim_actor,
            "javascript:alert(1)",
            "pilot",
            "2026-11-03T10:00:00Z",
        ),
    );
    let response = post_signed(&net.mannheim, "mannheim", &net.verbund, &script).await;
    assert_eq!(response.status(), 400);
    assert_eq!(net.verbund.count("adoptions").await, 0);
}

#[tokio::test]
async fn an_adopter_that_is_deleted_is_dropped_everywhere() {
    let net = network().await;
    let (status, _) = api(
        &net.mannheim,
        &net.mannheim_token,
        Method::PUT,
        &format!("/api/v1/solutions/{}/adoption", net.at_mannheim),
        json!({"stage": "production"}),
    )
    .await;
    assert_eq!(status, 200);
    net.settle().await;
    assert_eq!(net.verbund.count("adoptions").await, 1);
    // Mannheim's organization is deleted: its actor says so.
    let actor = net.mannheim.at("/orgs/mannheim");
    let delete = activity(
        "Delete",
        &net.mannheim.at("/activities/gone"),
        &actor,
        json!(actor),
    );
    assert_eq!(
        post_signed(&net.mannheim, "mannheim", &net.ulm, &delete)
            .await
            .status(),
        202
    );
    net.settle().await;
    assert_eq!(net.ulm.count("adoptions").await, 0);
    // Ulm told its followers: the Verbund, which never followed Mannheim,
    // drops it too.
    assert_eq!(net.verbund.count("adoptions").await, 0);
}

#[tokio::test]
async fn a_variant_links_both_ways_across_nodes() {
    let net = network().await;
    // Ulm does not follow Mannheim, yet learns of the variant.
    let variant = create(
        &net.mannheim,
        &net.mannheim_token,
        "solutions",
        json!({"title": "Hundesteuer online – SAP", "kind": "software",
               "variant_of": net.mannheim.at(&format!("/solutions/{}", net.at_mannheim))}),
    )
    .await;
    assert_eq!(
        variant["variant_of"],
        net.solution.as_str(),
        "stored as the original's id"
    );
    net.settle().await;
    let at_ulm = allmende_tests::get_json(
        &net.ulm
            .at(&format!("/api/v1/solutions/{}/adopters", net.at_ulm)),
    )
    .await;
    assert_eq!(
        at_ulm["variants"][0]["title"], "Hundesteuer online – SAP",
        "{at_ulm}"
    );
    let original_page =
        allmende_tests::get_text(&net.ulm.at(&format!("/solutions/{}", net.at_ulm))).await;
    assert!(original_page.contains("Hundesteuer online – SAP"));
    let variant_page = allmende_tests::get_text(
        &net.mannheim
            .at(&format!("/solutions/{}", variant["id"].as_str().unwrap())),
    )
    .await;
    assert!(
        variant_page.contains(&format!("href=\"/solutions/{}\"", net.at_mannheim)),
        "links the original"
    );

    // A variant of nothing known here, or of itself, is refused.
    let (status, body) = api(
        &net.mannheim,
        &net.mannheim_token,
        Method::POST,
        "/api/v1/solutions",
        json!({"title": "X", "kind": "software", "variant_of": "https://nowhere.example/solutions/1"}),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("variant_of")));
    let own = variant["id"].as_str().unwrap();
    let (status, body) = api(
        &net.mannheim,
        &net.mannheim_token,
        Method::PATCH,
        &format!("/api/v1/solutions/{own}"),
        json!({"variant_of": net.mannheim.at(&format!("/solutions/{own}"))}),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("variant_of")));

    // A stranger's "variant" of a solution Ulm does not have is not kept;
    // a variant that stops being one is dropped.
    let mannheim_actor = net.mannheim.at("/orgs/mannheim");
    let before = net.ulm.count("solutions").await;
    let fake = json!({
        "id": net.mannheim.at("/solutions/0193a000-0000-7000-8000-000000000001"),
        "type": "Article", "attributedTo": mannheim_actor, "name": "Fake",
        "itemType": "solution",
        "item": {"title": "Fake", "kind": "software",
                 "variant_of": net.ulm.at("/solutions/0193a000-0000-7000-8000-00000000ffff")},
    });
    let create = json!({"id": net.mannheim.at("/activities/v1"), "type": "Create",
                        "actor": mannheim_actor, "object": fake});
    assert_eq!(
        post_signed(&net.mannheim, "mannheim", &net.ulm, &create)
            .await
            .status(),
        202
    );
    assert_eq!(
        net.ulm.count("solutions").await,
        before,
        "no such original here"
    );
    let real_id = net
        .mannheim
        .at("/solutions/0193a000-0000-7000-8000-000000000002");
    let mut real = json!({
        "id": real_id, "type": "Article", "attributedTo": mannheim_actor, "name": "Echt",
        "itemType": "solution",
        "item": {"title": "Echt", "kind": "software", "variant_of": net.solution},
    });
    let create = json!({"id": net.mannheim.at("/activities/v2"), "type": "Create",
                        "actor": mannheim_actor, "object": real});
    assert_eq!(
        post_signed(&net.mannheim, "mannheim", &net.ulm, &create)
            .await
            .status(),
        202
    );
    assert_eq!(net.ulm.count("solutions").await, before + 1);
    real["item"]["variant_of"] = Value::Null;
    real["item"]["title"] = json!("Etwas ganz anderes");
    let update = json!({"id": net.mannheim.at("/activities/v3"), "type": "Update",
                        "actor": mannheim_actor, "object": real});
    assert_eq!(
        post_signed(&net.mannheim, "mannheim", &net.ulm, &update)
            .await
            .status(),
        202
    );
    assert_eq!(
        net.ulm.count("solutions").await,
        before,
        "no longer a variant: dropped"
    );
    // A copy kept because someone followed its author stays when they
    // stop following and an Update still arrives.
    let verbund_token = net.verbund.token_for("admin@verbund.example").await;
    let (status, _) = api(
        &net.verbund,
        &verbund_token,
        Method::DELETE,
        &format!("/api/v1/follows/ulm@{}", net.ulm.host()),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    net.settle().await;
    let copies = net.verbund.count("solutions").await;
    let (_, mut object) = allmende_tests::api::fetch_ap(&net.solution).await;
    object["item"]["summary"] = json!("geändert");
    let update = json!({"id": net.ulm.at("/activities/late-update"), "type": "Update",
                        "actor": net.ulm.at("/orgs/ulm"), "object": object});
    post_signed(&net.ulm, "ulm", &net.verbund, &update).await;
    assert_eq!(
        net.verbund.count("solutions").await,
        copies,
        "the copy stays"
    );
}
