//! Re-use on one node (issue 15): publiccode.yml checked in the form and
//! the API with messages naming the key, its facts on the page, export
//! with the adopters as `usedBy` and import back (pasted and by URL), the
//! catalogue, local parameters as rows, and declaring use in the browser.

use allmende_tests::api::{api, create};
use allmende_tests::{browser, get_json, get_text, login, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/publiccode/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn publiccode_is_checked_in_the_api_and_the_form() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let token = node.token_for("digital@ulm.example").await;
    let cases = [
        ("invalid-licence.yml", "legal.license"),
        ("invalid-unknown-key.yml", "unknown field \"foobar\""),
        ("invalid-missing-name.yml", "name is a required field"),
        ("invalid-yaml-syntax.yml", "is not valid YAML"),
    ];
    for (file, expected) in cases {
        let (status, body) = api(
            &node,
            &token,
            Method::POST,
            "/api/v1/solutions",
            json!({"title": "Hundesteuer", "kind": "software", "publiccode_yml": fixture(file)}),
        )
        .await;
        assert_eq!(status, 422, "{file}: {body}");
        assert_eq!(body["field"], "publiccode_yml", "{file}");
        assert!(
            body["error"].as_str().unwrap().contains(expected),
            "{file}: {body}"
        );
    }
    // Two errors in one file: both listed, each with its line and key.
    let (_, body) = api(
        &node,
        &token,
        Method::POST,
        "/api/v1/publiccode/import",
        json!({"publiccode_yml": fixture("invalid-wrong-type.yml")}),
    )
    .await;
    let errors: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["error"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 2, "{body}");
    assert!(errors[0].contains("line 4, platforms"), "{errors:?}");
    assert!(errors[1].contains("line 5, releaseDate"), "{errors:?}");
    assert_eq!(node.count("solutions").await, 0, "nothing stored");

    // The form: the message names the key, in German, on the field.
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let response = b
        .post(node.at("/solutions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Hundesteuer"),
            ("kind", "software"),
            ("maturity", "stable"),
            ("publiccode_yml", &fixture("invalid-licence.yml")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("legal.license: license muss eine gültige SPDX-Lizenz sein"),
        "German message naming the key"
    );
    assert!(
        page.contains("href=\"#publiccode_yml\""),
        "the summary links the field"
    );
    assert_eq!(node.count("solutions").await, 0);
}

#[tokio::test]
async fn export_with_adopters_imports_back_and_is_catalogued() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let solution = create(
        &node,
        &token,
        "solutions",
        json!({"title": "Hundesteuer online", "kind": "software", "maturity": "stable",
               "publiccode_yml": fixture("valid-hundesteuer.yml")}),
    )
    .await;
    let id = solution["id"].as_str().unwrap();
    let (status, _) = api(
        &node,
        &token,
        Method::PUT,
        &format!("/api/v1/solutions/{id}/adoption"),
        json!({"stage": "production", "since": "2026-03-01"}),
    )
    .await;
    assert_eq!(status, 200);
    // The page shows the facts; the file is behind a disclosure.
    let page = get_text(&node.at(&format!("/solutions/{id}"))).await;
    assert!(
        page.contains("<dd class=\"kern-description-list-item__value\"><code>EUPL-1.2</code></dd>"),
        "licence as a fact"
    );
    assert!(page.contains("<details><summary>Datei anzeigen</summary>"));
    // Exported with the adopter as usedBy (and the names it had).
    let export_url = node.at(&format!("/solutions/{id}/publiccode.yml"));
    let response = allmende_tests::client()
        .get(&export_url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/yaml"));
    let exported = response.text().await.unwrap();
    let org_name = node.organization("ulm").await.profile.name;
    assert!(exported.contains(&org_name), "{exported}");

    // Imported back, by URL (through the node's HTTP client) and pasted:
    // the same facts, and a solution input ready to publish.
    let (status, by_url) = api(
        &node,
        &token,
        Method::POST,
        "/api/v1/publiccode/import",
        json!({"url": export_url}),
    )
    .await;
    assert_eq!(status, 200, "{by_url}");
    let (_, pasted) = api(
        &node,
        &token,
        Method::POST,
        "/api/v1/publiccode/import",
        json!({"publiccode_yml": fixture("valid-hundesteuer.yml")}),
    )
    .await;
    for key in [
        "name",
        "licence",
        "development_status",
        "platforms",
        "descriptions",
        "release_date",
    ] {
        assert_eq!(
            by_url["publiccode"][key], pasted["publiccode"][key],
            "{key}"
        );
    }
    let used_by: Vec<&str> = by_url["publiccode"]["used_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(used_by, ["Stadt Ulm", org_name.as_str()]);
    assert_eq!(by_url["solution"]["licence"], "EUPL-1.2");
    assert_eq!(by_url["solution"]["maturity"], "stable");
    let again = create(&node, &token, "solutions", by_url["solution"].clone()).await;
    assert_eq!(again["title"], "Hundesteuer online");

    // The catalogue lists both software solutions with their files.
    let catalogue = get_json(&node.at("/api/v1/catalogue")).await;
    assert_eq!(catalogue["total"], 2, "{catalogue}");
    assert_eq!(catalogue["items"][0]["publiccode_url"], export_url.as_str());
    // A solution without a file has no export.
    let plain = create(
        &node,
        &token,
        "solutions",
        json!({"title": "Formular", "kind": "form"}),
    )
    .await;
    let missing = allmende_tests::client()
        .get(node.at(&format!(
            "/solutions/{}/publiccode.yml",
            plain["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // Fetching from a place that has no file: a field error, not a 500.
    let (status, body) = api(
        &node,
        &token,
        Method::POST,
        "/api/v1/publiccode/import",
        json!({"url": node.at("/nothing-here.yml")}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("url")),
        "{body}"
    );
}

#[tokio::test]
async fn a_publiccode_file_is_uploaded_in_the_browser() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let new_form = get_page(&b, &node.at("/solutions/new")).await;
    assert!(
        new_form.contains("href=\"/solutions/import\""),
        "the new form offers the import"
    );
    let import = get_page(&b, &node.at("/solutions/import")).await;
    assert!(import.contains("enctype=\"multipart/form-data\""));
    assert!(import.contains("<label class=\"kern-label\" for=\"publiccode_file\">"));

    let upload = |file: String, token: String| {
        let boundary = "allmende-test-boundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"publiccode_file\"; filename=\"publiccode.yml\"\r\n\
             Content-Type: application/yaml\r\n\r\n{file}\r\n--{boundary}--\r\n"
        );
        b.post(node.at("/solutions/import"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    // A valid file fills the form for a new solution.
    let response = upload(fixture("valid-hundesteuer.yml"), csrf.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let form = response.text().await.unwrap();
    assert!(
        form.contains("value=\"Hundesteuer online\""),
        "title from the file"
    );
    assert!(form.contains("value=\"EUPL-1.2\""), "licence from the file");
    assert!(form.contains("action=\"/solutions\""));
    // An invalid one: the form again, with the key named; nothing stored.
    let response = upload(fixture("invalid-unknown-key.yml"), csrf.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let form = response.text().await.unwrap();
    assert!(
        form.contains("unbekannter Schlüssel „foobar“"),
        "the problem is shown"
    );
    // Without the form token: refused before anything is read.
    let response = upload(fixture("valid-hundesteuer.yml"), "wrong".into())
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(node.count("solutions").await, 0);
}

async fn get_page(b: &reqwest::Client, url: &str) -> String {
    let response = b.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn parameters_as_rows_and_adoption_in_the_browser() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    node.org_with_user(
        "blaustein",
        "Stadt Blaustein",
        "it@blaustein.example",
        "editor",
    )
    .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let response = b
        .post(node.at("/solutions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Hundesteuer online"),
            ("kind", "software"),
            ("maturity", "stable"),
            ("param_name_0", "Steuersatz Ersthund"),
            ("param_example_0", "120 €"),
            ("param_required_0", "1"),
            ("param_name_2", "Zuständiges Amt"),
            ("param_description_2", "Empfänger der Anträge"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location.trim_start_matches("/solutions/").to_owned();
    let stored: Value = get_json(&node.at(&format!("/api/v1/solutions/{id}"))).await;
    assert_eq!(
        stored["local_parameters"],
        json!([
            {"name": "Steuersatz Ersthund", "description": null, "example": "120 €", "required": true},
            {"name": "Zuständiges Amt", "description": "Empfänger der Anträge", "example": null, "required": false}
        ])
    );
    // The edit form shows them as rows, and two empty rows more.
    let edit = b
        .get(node.at(&format!("{location}/edit")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(edit.contains("id=\"param_name_1\" name=\"param_name_1\" value=\"Zuständiges Amt\""));
    assert!(edit.contains("id=\"param_name_3\""), "spare rows");
    assert!(!edit.contains("id=\"param_name_4\""));
    // A row with a description but no name: the form says so.
    let bad = b
        .post(node.at(&format!("{location}/edit")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Hundesteuer online"),
            ("kind", "software"),
            ("maturity", "stable"),
            ("param_description_0", "ohne Namen"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Blaustein declares its use on the page, with its value.
    let b2 = browser();
    let csrf2 = login(&node, &b2, "it@blaustein.example").await;
    let page = b2
        .get(node.at(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Nachnutzung erklären"));
    allmende_tests::assert_heading_order(&location, &page);
    assert!(
        page.contains("<th scope=\"col\">Pflicht</th>"),
        "parameters as a table"
    );
    let declared = b2
        .post(node.at(&format!("{location}/adoption")))
        .form(&[
            ("csrf", csrf2.as_str()),
            ("stage", "pilot"),
            ("since", "2026-09-01"),
            ("value_0", "96 €"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), StatusCode::SEE_OTHER);
    let page = get_text(&node.at(&location)).await;
    assert!(page.contains("Im Einsatz bei (1)"), "counted");
    assert!(page.contains("Stadt Blaustein") && page.contains("96 €"));
    // Blaustein's page lists what it uses.
    let profile = get_text(&node.at("/orgs/blaustein")).await;
    assert!(profile.contains("Nutzt diese Lösungen"));
    assert!(profile.contains(&format!(
        "<a href=\"{location}\">Hundesteuer online</a> · Pilotbetrieb"
    )));
    // A bad date: the form again, nothing changed.
    let bad = b2
        .post(node.at(&format!("{location}/adoption")))
        .form(&[
            ("csrf", csrf2.as_str()),
            ("stage", "production"),
            ("since", "morgen"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = bad.text().await.unwrap();
    allmende_tests::assert_heading_order("adoption form", &bad);
    assert!(
        bad.contains("href=\"#since\""),
        "the summary links the field"
    );
    let adopters = get_json(&node.at(&format!("/api/v1/solutions/{id}/adopters"))).await;
    assert_eq!(adopters["adopters"][0]["stage"], "pilot");
    // With a wrong form token: refused, nothing withdrawn.
    let forged = b2
        .post(node.at(&format!("{location}/adoption/withdraw")))
        .form(&[("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(node.count("adoptions").await, 1);
    let withdrawn = b2
        .post(node.at(&format!("{location}/adoption/withdraw")))
        .form(&[("csrf", csrf2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), StatusCode::SEE_OTHER);
    assert_eq!(node.count("adoptions").await, 0);
}
