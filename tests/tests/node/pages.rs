//! The HTML pages as a person uses them: log in, fill in forms, read.

use allmende_tests::{assert_heading_order, browser, client, login, page_csrf, spawn_app};
use reqwest::StatusCode;

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"]
        .to_str()
        .expect("ASCII location")
        .to_owned()
}

#[tokio::test]
async fn a_person_logs_in_and_publishes_a_project_through_the_form() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let b = browser();

    let before = b.get(node.at("/projects/new")).send().await.unwrap();
    assert_eq!(before.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&before), "/login?next=%2Fprojects%2Fnew");

    let csrf = login(&node, &b, "digital@ulm.example").await;
    let form = b
        .get(node.at("/projects/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("<label class=\"kern-label\" for=\"title\">"),
        "inputs have labels"
    );
    assert!(!form.contains(" style="), "no inline styles (CSP)");

    let res = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Bewohnerparken online"),
            ("status", "planned"),
            ("leika_keys", "99041006017000\n"),
            ("ozg_ids", "1, 2"),
            ("seeking_partners", "on"),
            ("links", "Info | https://www.ulm.de/parken"),
            ("contact_name", "Eva"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = location(&res);
    assert!(path.starts_with("/projects/"));
    let page = b
        .get(node.at(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h1>Bewohnerparken online</h1>"));
    assert!(page.contains("Partner gesucht") || page.contains("werden gesucht"));
    assert!(page.contains("href=\"https://www.ulm.de/parken\""));
    assert!(page.contains("Bearbeiten"), "owner sees the edit link");

    // Edit through the form, then delete after confirmation.
    let edit = b
        .get(node.at(&format!("{path}/edit")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(edit.contains("value=\"Bewohnerparken online\""));
    let res = b
        .post(node.at(&format!("{path}/edit")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Bewohnerparken digital"),
            ("status", "running"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = b
        .get(node.at(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Bewohnerparken digital"));
    assert!(page.contains("In Umsetzung"));
    let res = b
        .post(node.at(&format!("{path}/delete")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Gone, and its page says it was withdrawn.
    assert_eq!(
        b.get(node.at(&path)).send().await.unwrap().status(),
        StatusCode::GONE
    );
}

#[tokio::test]
async fn forms_reject_bad_input_and_forged_posts_without_storing() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;

    let res = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "x"),
            ("status", "idea"),
            ("leika_keys", "123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("error-summary"));
    assert!(
        html.contains("href=\"#leika_keys\""),
        "the summary links to the field"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains("14 Ziffern"));
    let res = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", ""),
            ("status", "idea"),
            ("leika_keys", "123"),
            ("contact_name", "Eva"),
            ("contact_email", "x"),
        ])
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    for field in ["#title", "#leika_keys", "#contact_email"] {
        assert!(
            html.contains(&format!("href=\"{field}\"")),
            "every error is listed: {field}"
        );
    }
    assert!(html.contains("value=\"x\""), "entered values are kept");

    let forged = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", "wrong"),
            ("title", "Fälschung"),
            ("status", "idea"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let no_token = b
        .post(node.at("/projects"))
        .form(&[("title", "Fälschung"), ("status", "idea")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);

    // A different browser (no session) cannot post at all.
    let stranger = browser();
    let res = stranger
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Fremd"),
            ("status", "idea"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));

    let big = "a".repeat(2 * 1024 * 1024);
    let res = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "x"),
            ("body", big.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(node.count("projects").await, 0);
}

#[tokio::test]
async fn wrong_password_is_refused_and_logout_ends_the_session() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    let b = browser();
    let csrf = page_csrf(&node, &b, "/login").await;
    let res = b
        .post(node.at("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "digital@ulm.example"),
            ("password", "falsch-falsch"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("E-Mail-Adresse oder Passwort ist falsch"));
    let res = b
        .post(node.at("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "niemand@ulm.example"),
            ("password", "falsch-falsch"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let csrf = login(&node, &b, "digital@ulm.example").await;
    assert_eq!(
        b.get(node.at("/account")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let res = b
        .post(node.at("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        b.get(node.at("/account")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_token_made_on_the_account_page_works_for_the_api() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let html = b
        .post(node.at("/account/tokens"))
        .form(&[("csrf", csrf.as_str()), ("label", "Import")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("alm_").expect("token shown once");
    let token: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let me = client()
        .get(node.at("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let again = b
        .get(node.at("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&token), "the secret is never shown again");
    assert!(again.contains("Import"));
}

#[tokio::test]
async fn questions_are_answered_and_accepted_through_pages() {
    let node = spawn_app().await;
    node.org("blaustein", "Stadt Blaustein").await;
    node.user("rathaus@blaustein.example", "blaustein", "editor")
        .await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;

    let asker = browser();
    let csrf_a = login(&node, &asker, "rathaus@blaustein.example").await;
    let res = asker
        .post(node.at("/questions"))
        .form(&[
            ("csrf", csrf_a.as_str()),
            ("title", "Wer kennt sich aus?"),
            ("body", "Mit der Hundesteuer."),
            ("audience", "public"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let qpath = location(&res);

    let helper = browser();
    let csrf_h = login(&node, &helper, "digital@ulm.example").await;
    let empty = helper
        .post(node.at(&format!("{qpath}/answers")))
        .form(&[("csrf", csrf_h.as_str()), ("body", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = helper
        .post(node.at(&format!("{qpath}/answers")))
        .form(&[
            ("csrf", csrf_h.as_str()),
            ("body", "Wir! <script>alert(1)</script>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let page = asker
        .get(node.at(&qpath))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Wir! &lt;script&gt;alert(1)&lt;/script&gt;"),
        "answer text is escaped"
    );
    assert!(!page.contains("<script>alert(1)"));
    let marker = "action=\"/answers/";
    let start = page.find(marker).expect("asker sees an accept button") + marker.len();
    let answer_id: String = page[start..].split('/').next().unwrap().to_owned();

    let not_asker = helper
        .post(node.at(&format!("/answers/{answer_id}/accept")))
        .form(&[("csrf", csrf_h.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(not_asker.status(), StatusCode::FORBIDDEN);
    let res = asker
        .post(node.at(&format!("/answers/{answer_id}/accept")))
        .form(&[("csrf", csrf_a.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = client()
        .get(node.at(&qpath))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Akzeptierte Antwort"));
}

#[tokio::test]
async fn pages_speak_german_by_default_and_english_on_request() {
    let node = spawn_app().await;
    let res = client().get(node.at("/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"));
    let de = res.text().await.unwrap();
    assert!(de.contains("<html lang=\"de\""));
    assert!(de.contains("Vorhaben"));
    let en = client()
        .get(node.at("/"))
        .header("accept-language", "en-GB,en;q=0.9,de;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("<html lang=\"en\""));
    assert!(en.contains("Projects"));

    let b = browser();
    let res = b
        .get(node.at("/lang?set=en&next=/projects"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/projects");
    let page = b
        .get(node.at("/projects"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h1>Projects</h1>"));
    let evil = b
        .get(node.at("/lang?set=de&next=//evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&evil), "/", "no open redirect");
}

#[tokio::test]
async fn unknown_pages_are_404_with_a_helpful_page() {
    let node = spawn_app().await;
    for path in [
        "/nothing",
        "/projects/not-a-uuid",
        "/projects/00000000-0000-0000-0000-000000000000",
        "/orgs/nobody",
    ] {
        let res = client().get(node.at(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(res.text().await.unwrap().contains("Seite nicht gefunden"));
    }
}

#[tokio::test]
async fn demo_data_renders_on_every_page() {
    let node = spawn_app().await;
    let logins = allmende_server::demo::seed(&node.state)
        .await
        .expect("demo seeds");
    assert_eq!(logins.len(), 4);
    let question: serde_json::Value = client()
        .get(node.at("/api/v1/questions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let question_page = format!(
        "/questions/{}",
        question["items"][0]["id"].as_str().unwrap()
    );
    let solutions: serde_json::Value = client()
        .get(node.at("/api/v1/solutions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let solution_page = format!(
        "/solutions/{}",
        solutions["items"][0]["id"].as_str().unwrap()
    );
    for path in [
        question_page.as_str(),
        solution_page.as_str(),
        "/",
        "/projects",
        "/questions",
        "/solutions",
        "/orgs",
        "/orgs/ulm",
        "/orgs/digitalverbund-bw",
        "/orgs/andi",
        "/search?q=Hundesteuer",
    ] {
        let res = client().get(node.at(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("<main id=\"main\""),
            "{path} has a main landmark"
        );
        assert_eq!(html.matches("<h1>").count(), 1, "{path} has one h1");
        assert_heading_order(path, &html);
        assert!(
            !html.contains(" style="),
            "{path}: inline styles would be blocked by the CSP"
        );
    }
    let search = client()
        .get(node.at("/search?q=strasse%20hundesteuer"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(search.contains("Treffer"));
    let found = client()
        .get(node.at("/search?q=Hundesteuer"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        found.contains("Hundesteuer online"),
        "the solution is found"
    );
    assert!(
        found.contains("Hundesteuer digital anmelden"),
        "the project is found"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_address_for_a_while() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    let b = browser();
    let csrf = page_csrf(&node, &b, "/login").await;
    let attempt = |password: &'static str| {
        b.post(node.at("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "Digital@ulm.example"),
                ("password", password),
            ])
            .send()
    };
    for _ in 0..allmende_server::usecases::accounts::MAX_LOGIN_FAILURES {
        assert_eq!(
            attempt("falsch-falsch").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = attempt(allmende_tests::PASSWORD).await.unwrap();
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    // Another address is not affected.
    node.user("redaktion@ulm.example", "ulm", "editor").await;
    login(&node, &browser(), "redaktion@ulm.example").await;
}
