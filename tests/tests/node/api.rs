//! The JSON API: publish, read, change, delete; auth; bad input.

use allmende_tests::{client, spawn_app};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn post(
    node: &allmende_tests::TestNode,
    token: &str,
    path: &str,
    body: Value,
) -> reqwest::Response {
    client()
        .post(node.at(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn created_project_is_readable_and_shown_on_its_page() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let res = post(
        &node,
        &token,
        "/api/v1/projects",
        json!({
            "title": "Hundesteuer digital",
            "summary": "Anmeldung online",
            "status": "running",
            "leika_keys": ["99041006017000"],
            "ozg_ids": [10224],
            "themenfeld": "steuern-zoll",
            "contact": {"name": "Eva Schäfer", "email": "eva@ulm.example"}
        }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/projects/{id}"));
    assert_eq!(created["organization"]["handle"], "ulm");
    assert_eq!(created["url"], node.at(&format!("/projects/{id}")));

    let fetched: Value = client()
        .get(node.at(&location))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["title"], "Hundesteuer digital");
    assert_eq!(fetched["leika_keys"], json!(["99041006017000"]));
    assert_eq!(fetched["ozg_ids"], json!([10224]));

    let page = client()
        .get(node.at(&format!("/projects/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Hundesteuer digital</h1>"), "{html}");
    assert!(html.contains("99041006017000"));
    assert!(html.contains("Stadt ulm"));

    let home = client()
        .get(node.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains(&format!("/projects/{id}")));

    let listed: Value = client()
        .get(node.at("/api/v1/projects?organization=ulm&q=hundesteuer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn changes_need_a_valid_token_of_the_owning_organization() {
    let node = spawn_app().await;
    let ulm = node.org_with_token("ulm").await;
    let mannheim = node.org_with_token("mannheim").await;

    let anonymous = client()
        .post(node.at("/api/v1/projects"))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let body: Value = anonymous.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("token"));
    let wrong = post(
        &node,
        "alm_not-a-real-token",
        "/api/v1/projects",
        json!({"title": "x"}),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(node.count("projects").await, 0);

    let created: Value = post(
        &node,
        &ulm,
        "/api/v1/projects",
        json!({"title": "Ulms Vorhaben"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/api/v1/projects/{}", created["id"].as_str().unwrap());

    let patch = client()
        .patch(node.at(&path))
        .bearer_auth(&mannheim)
        .json(&json!({"title": "gekapert"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::FORBIDDEN);
    let delete = client()
        .delete(node.at(&path))
        .bearer_auth(&mannheim)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);
    let unauth_delete = client().delete(node.at(&path)).send().await.unwrap();
    assert_eq!(unauth_delete.status(), StatusCode::UNAUTHORIZED);
    let still: Value = client()
        .get(node.at(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still["title"], "Ulms Vorhaben");

    let me: Value = client()
        .get(node.at("/api/v1/me"))
        .bearer_auth(&mannheim)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["organization"]["handle"], "mannheim");
}

#[tokio::test]
async fn bad_input_gets_the_documented_status_and_stores_nothing() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (
            json!({"title": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("title"),
        ),
        (
            json!({"summary": "kein Titel"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("title"),
        ),
        (
            json!({"title": "x", "leika_keys": ["1234"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("leika_keys[0]"),
        ),
        (
            json!({"title": "x", "ozg_ids": [-1]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("ozg_ids[0]"),
        ),
        (
            json!({"title": "x", "ozg_ids": [0]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("ozg_ids[0]"),
        ),
        (
            json!({"title": "x", "status": "fertig"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("status"),
        ),
        (
            json!({"title": "x", "start_date": "2026-02-30"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("start_date"),
        ),
        (
            json!({"title": "x", "contact": {"name": "A", "email": "kaputt"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("contact.email"),
        ),
        (
            json!({"title": "x", "farbe": "rot"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("farbe"),
        ),
        (
            json!(["not", "an", "object"]),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
    ];
    for (body, status, field) in cases {
        let res = post(&node, &token, "/api/v1/projects", body.clone()).await;
        assert_eq!(res.status(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].is_string(), "{err}");
        assert_eq!(err["field"].as_str(), field, "{body} → {err}");
    }

    let several = post(
        &node,
        &token,
        "/api/v1/projects",
        json!({"status": "fertig", "leika_keys": ["1"]}),
    )
    .await;
    assert_eq!(several.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let several: Value = several.json().await.unwrap();
    assert_eq!(several["field"], "title", "the first invalid field");
    let fields: Vec<&str> = several["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "status", "leika_keys[0]"]);

    let malformed = client()
        .post(node.at("/api/v1/projects"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let not_json = client()
        .post(node.at("/api/v1/projects"))
        .bearer_auth(&token)
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({"title": "x", "body": "a".repeat(2 * 1024 * 1024)});
    let too_big = post(&node, &token, "/api/v1/projects", huge).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let err: Value = too_big.json().await.unwrap();
    assert!(err["error"].as_str().unwrap().contains("too large"));

    let bad_solution = post(
        &node,
        &token,
        "/api/v1/solutions",
        json!({"title": "x", "kind": "software", "licence": "Freeware"}),
    )
    .await;
    assert_eq!(bad_solution.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad_solution.json::<Value>().await.unwrap()["field"],
        "licence"
    );

    let bad_ags = client()
        .put(node.at("/api/v1/organizations/ulm"))
        .bearer_auth(&token)
        .json(&json!({"name": "Stadt Ulm", "kind": "municipality", "ags": "1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_ags.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_ags.json::<Value>().await.unwrap()["field"], "ags");
    let org: Value = client()
        .get(node.at("/api/v1/organizations/ulm"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org["ags"], "08421000", "a rejected update changes nothing");

    assert_eq!(node.count("projects").await, 0);
    assert_eq!(node.count("solutions").await, 0);

    for (path, error) in [
        (
            "/api/v1/projects/00000000-0000-0000-0000-000000000000",
            "not found",
        ),
        ("/api/v1/projects/not-a-uuid", "not found"),
        ("/api/v1/nothing-here", "no such endpoint"),
        ("/api/v1/organizations/nobody", "not found"),
    ] {
        let res = client().get(node.at(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], error, "{path}");
    }
    let wrong_method = client()
        .put(node.at("/api/v1/projects"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.json::<Value>().await.unwrap()["error"].is_string());
    let bad_limit = client()
        .get(node.at("/api/v1/projects?limit=100000"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_limit.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad_limit.json::<Value>().await.unwrap()["field"], "limit");
}

#[tokio::test]
async fn patch_changes_only_given_fields_and_delete_removes() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let created: Value = post(&node, &token, "/api/v1/solutions", json!({
        "title": "Hundesteuer online", "kind": "software", "licence": "EUPL-1.2", "summary": "kurz",
        "local_parameters": [{"name": "Steuersatz", "example": "120 €"}]
    })).await.json().await.unwrap();
    let path = format!("/api/v1/solutions/{}", created["id"].as_str().unwrap());
    let patched = client()
        .patch(node.at(&path))
        .bearer_auth(&token)
        .json(&json!({"maturity": "stable", "summary": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["maturity"], "stable");
    assert_eq!(patched["summary"], Value::Null);
    assert_eq!(patched["licence"], "EUPL-1.2");
    assert_eq!(patched["local_parameters"][0]["name"], "Steuersatz");

    for (changes, field) in [
        (json!({"kind": "app"}), "kind"),
        (json!({"used_by": "Ulm"}), "used_by"),
        (json!({"farbe": "rot"}), "farbe"),
        (json!({"title": null}), "title"),
    ] {
        let res = client()
            .patch(node.at(&path))
            .bearer_auth(&token)
            .json(&changes)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{changes}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["field"],
            field,
            "{changes}"
        );
    }
    let unchanged: Value = client()
        .get(node.at(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        unchanged["kind"], "software",
        "rejected patches change nothing"
    );

    let deleted = client()
        .delete(node.at(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        client().get(node.at(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client()
            .delete(node.at(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn questions_are_answered_and_the_asker_accepts() {
    let node = spawn_app().await;
    let asker = node.org_with_token("blaustein").await;
    let helper = node.org_with_token("ulm").await;
    let q: Value = post(&node, &asker, "/api/v1/questions", json!({
        "title": "Wer hat die Hundesteuer digitalisiert?", "body": "Wir suchen Erfahrungen.", "leika_keys": ["99041006017000"]
    })).await.json().await.unwrap();
    let qid = q["id"].as_str().unwrap();

    let empty = post(
        &node,
        &helper,
        &format!("/api/v1/questions/{qid}/answers"),
        json!({"body": "  "}),
    )
    .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer = post(
        &node,
        &helper,
        &format!("/api/v1/questions/{qid}/answers"),
        json!({"body": "Wir, mit EUPL-Software."}),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let answer: Value = answer.json().await.unwrap();
    let aid = answer["id"].as_str().unwrap();
    assert_eq!(answer["organization"]["handle"], "ulm");

    let missing = post(
        &node,
        &helper,
        "/api/v1/questions/00000000-0000-0000-0000-000000000000/answers",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let not_asker = client()
        .post(node.at(&format!("/api/v1/answers/{aid}/accept")))
        .bearer_auth(&helper)
        .send()
        .await
        .unwrap();
    assert_eq!(not_asker.status(), StatusCode::FORBIDDEN);
    let accepted = client()
        .post(node.at(&format!("/api/v1/answers/{aid}/accept")))
        .bearer_auth(&asker)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let question: Value = client()
        .get(node.at(&format!("/api/v1/questions/{qid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(question["accepted_answer_id"], aid);
    assert_eq!(question["answers"][0]["accepted"], true);
    assert_eq!(question["answers"][0]["body"], "Wir, mit EUPL-Software.");

    let html = client()
        .get(node.at(&format!("/questions/{qid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Akzeptierte Antwort"), "{html}");
}

#[tokio::test]
async fn followers_only_questions_are_hidden_from_anonymous_readers() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let q: Value = post(
        &node,
        &token,
        "/api/v1/questions",
        json!({"title": "Interne Frage", "body": "Nur für Mitglieder", "audience": "followers"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/api/v1/questions/{}", q["id"].as_str().unwrap());
    assert_eq!(
        client().get(node.at(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client()
            .get(node.at(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let anon: Value = client()
        .get(node.at("/api/v1/questions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(anon["items"].as_array().unwrap().is_empty());
    let signed: Value = client()
        .get(node.at("/api/v1/questions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(signed["items"].as_array().unwrap().len(), 1);
    let search = client()
        .get(node.at("/search?q=interne"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!search.contains("Interne Frage"));
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let node = spawn_app().await;
    let health = client().get(node.at("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let doc: Value = client()
        .get(node.at("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let token = node.org_with_token("ulm").await;
    let mut asked = 0;
    // Without a token, and with one; with an empty object as body. Every
    // operation must answer with one of its documented statuses, and never
    // with the router's "no such endpoint" or a 405.
    for token in [None, Some(token.as_str())] {
        for (path, item) in doc["paths"].as_object().unwrap() {
            // Path parameters: an id nobody has, a handle nobody has.
            let concrete = path
                .replace("{id}", "0193a5c0-0000-7000-8000-000000000000")
                .replace("{handle}", "niemand");
            for (method, operation) in item.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                let documented: Vec<u16> = operation["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(|code| code.parse().unwrap())
                    .collect();
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut request =
                    client().request(method.clone(), node.at(&format!("/api/v1{concrete}")));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
                    request = request.json(&json!({}));
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                assert!(
                    documented.contains(&status),
                    "{method} {path} (token: {}): {status} is not among the documented {documented:?}: {body}",
                    token.is_some()
                );
                assert!(
                    !body.contains("no such endpoint"),
                    "{method} {path} is not routed"
                );
                asked += 1;
            }
        }
    }
    assert!(asked >= 50, "{asked} requests");
}
