//! What every page shares: the design's assets, the message after an
//! action, error pages in the site's frame, the legal pages, and asking
//! before what cannot be undone.

use allmende_server::config::Config;
use allmende_tests::{browser, client, csrf_from, login, spawn_app, spawn_app_with, test_config};
use reqwest::StatusCode;

async fn text(b: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = b.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_design_is_served_from_the_node_itself() {
    let node = spawn_app().await;
    let (_, home) = text(&client(), node.at("/")).await;
    let version = env!("CARGO_PKG_VERSION");
    for file in ["kern.min.css", "style.css"] {
        let href = format!("/static/{version}/{file}");
        assert!(home.contains(&format!("href=\"{href}\"")), "{file} linked");
        let res = client().get(node.at(&href)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css"));
        assert!(res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=604800"));
    }
    let font = client()
        .get(node.at(&format!("/static/{version}/FiraSans-Regular.woff2")))
        .send()
        .await
        .unwrap();
    assert_eq!(font.status(), StatusCode::OK);
    assert_eq!(&font.bytes().await.unwrap()[..4], b"wOF2");
    let (_, licences) = text(
        &client(),
        node.at(&format!("/static/{version}/LICENCES.txt")),
    )
    .await;
    assert!(licences.contains("EUPL") && licences.contains("SIL OPEN FONT LICENSE"));
    // An old release's asset name, or an unknown file: not found.
    for path in [
        "/static/0.0.1/style.css",
        &format!("/static/{version}/../Cargo.toml"),
    ] {
        let res = client().get(node.at(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_action_is_confirmed_once_on_the_next_page() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let res = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Bewohnerparken online"),
            ("status", "planned"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = text(&b, node.at(&path)).await;
    assert!(
        page.contains("role=\"status\"") && page.contains("Veröffentlicht."),
        "the page after publishing says so: {page}"
    );
    let (_, again) = text(&b, node.at(&path)).await;
    assert!(!again.contains("Veröffentlicht."), "shown once only");

    // A notice code that is not one of ours shows nothing.
    let res = client()
        .get(node.at("/"))
        .header("cookie", "allmende_notice=%3Cscript%3E")
        .send()
        .await
        .unwrap();
    assert!(!res.text().await.unwrap().contains("role=\"status\""));
}

#[tokio::test]
async fn a_failed_submission_names_fields_by_their_labels() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let res = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Bewohnerparken online"),
            ("status", "planned"),
            ("leika_keys", "99041006017000\n123\n"),
            ("licence", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("<title>Fehler: "), "the title says it failed");
    assert!(page.contains("autofocus"), "the summary takes focus");
    assert!(page.contains("LeiKa-Schlüssel (Eintrag 2) muss"), "{page}");
    assert!(!page.contains("leika_keys[1]"), "no internal paths");
}

#[tokio::test]
async fn error_pages_keep_the_frame_and_say_why() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let (status, page) = text(&client(), node.at("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("<h1>Seite nicht gefunden</h1>"));
    assert!(
        page.contains("aria-label=\"Hauptnavigation\""),
        "navigation"
    );
    assert!(page.contains("href=\"/impressum\""), "footer");
    let en = client()
        .get(node.at("/no/such/page"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("<h1>Page not found</h1>") && en.contains("<html lang=\"en\""));

    // A deleted item's page says it was withdrawn (410), not just 404.
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    // The framed error page's logout form works (it carries the session's
    // form token).
    let (status, lost) = text(&b, node.at("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        csrf_from(&lost),
        csrf,
        "the logout form has the session's token"
    );
    let res = b
        .post(node.at("/questions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Wer hat Erfahrung mit E-Akte?"),
            ("body", "Wir suchen Erfahrungen."),
            ("audience", "public"),
        ])
        .send()
        .await
        .unwrap();
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    let res = b
        .post(node.at(&format!("{path}/delete")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, page) = text(&client(), node.at(&path)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("Eintrag zurückgezogen") && page.contains("hat diesen Eintrag gelöscht"));
    // Another id of the same shape was never here.
    let (status, _) = text(
        &client(),
        node.at("/questions/00000000-0000-4000-8000-000000000000"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn legal_pages_come_from_the_configuration() {
    let node = spawn_app_with(Config {
        imprint_url: Some("https://www.ulm.example/impressum".parse().unwrap()),
        privacy_text: Some("Wir speichern nur, was Sie eingeben.\n\nZweiter Absatz.".into()),
        accessibility_contact: Some("barrierefreiheit@ulm.example".into()),
        accessibility_enforcement: Some("Schlichtungsstelle des Landes".into()),
        operators: vec!["digital@ulm.example".into()],
        ..test_config()
    })
    .await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    let res = client().get(node.at("/impressum")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "https://www.ulm.example/impressum"
    );
    let (_, privacy) = text(&client(), node.at("/datenschutz")).await;
    assert!(
        privacy.contains("<p>Wir speichern nur, was Sie eingeben.</p>")
            && privacy.contains("<p>Zweiter Absatz.</p>"),
        "{privacy}"
    );
    let (_, statement) = text(&client(), node.at("/barrierefreiheit")).await;
    assert!(statement.contains("href=\"mailto:barrierefreiheit@ulm.example\""));
    assert!(statement.contains("Schlichtungsstelle des Landes"));
    assert!(statement.contains("teilweise mit den Anforderungen der BITV 2.0"));
    // Everything set: no reminder, not even for operators.
    let b = browser();
    login(&node, &b, "digital@ulm.example").await;
    let (_, home) = text(&b, node.at("/")).await;
    assert!(!home.contains("Rechtliche Angaben fehlen"));
}

#[tokio::test]
async fn operators_are_reminded_of_missing_legal_pages() {
    let node = spawn_app_with(Config {
        operators: vec!["digital@ulm.example".into()],
        ..test_config()
    })
    .await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    node.org_with_user("ka", "Stadt Karlsruhe", "it@karlsruhe.example", "admin")
        .await;
    let (_, home) = text(&client(), node.at("/")).await;
    assert!(
        !home.contains("Rechtliche Angaben fehlen"),
        "not shown to visitors"
    );
    let (_, imprint) = text(&client(), node.at("/impressum")).await;
    assert!(
        imprint.contains("Noch nicht hinterlegt"),
        "the page says it is missing"
    );
    let staff = browser();
    login(&node, &staff, "it@karlsruhe.example").await;
    let (_, home) = text(&staff, node.at("/")).await;
    assert!(
        !home.contains("Rechtliche Angaben fehlen"),
        "nor to staff who do not operate the node"
    );
    let operator = browser();
    login(&node, &operator, "digital@ulm.example").await;
    let (_, home) = text(&operator, node.at("/projects")).await;
    assert!(home.contains("Rechtliche Angaben fehlen"));
    for key in [
        "imprint_url / imprint_text",
        "privacy_url / privacy_text",
        "accessibility_contact",
        "accessibility_enforcement",
    ] {
        assert!(home.contains(&format!("<code>{key}</code>")), "{key} named");
    }
}

#[tokio::test]
async fn revoking_a_token_asks_first() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let page = b
        .post(node.at("/account/tokens"))
        .form(&[("csrf", csrf.as_str()), ("label", "Import")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("href=\"/account/tokens/").expect("revoke link") + "href=\"".len();
    let confirm_path = page[start..].split('"').next().unwrap().to_owned();
    let (status, confirm) = text(&b, node.at(&confirm_path)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Token widerrufen?") && confirm.contains("Import"));
    // Another account gets no confirmation page for this token.
    let other = browser();
    node.org_with_user("ka", "Stadt Karlsruhe", "it@karlsruhe.example", "editor")
        .await;
    login(&node, &other, "it@karlsruhe.example").await;
    let (status, _) = text(&other, node.at(&confirm_path)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Still there until confirmed.
    let (_, account) = text(&b, node.at("/account")).await;
    assert!(account.contains("<td>Import</td>"));
    let res = b
        .post(node.at(&confirm_path))
        .form(&[("csrf", csrf_from(&confirm).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, account) = text(&b, node.at("/account")).await;
    assert!(!account.contains("<td>Import</td>"));
    assert!(account.contains("Token widerrufen."));
}

#[tokio::test]
async fn item_texts_are_markdown_shown_safely_and_federated_with_their_source() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let body = "Wir brauchen **zwei** Dinge:\n\n- Satzung\n- [Formular](https://ulm.example/f)\n\n<script>alert(1)</script>";
    let res = b
        .post(node.at("/projects"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Hundesteuer digital"),
            ("status", "planned"),
            ("body", body),
        ])
        .send()
        .await
        .unwrap();
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = text(&b, node.at(&path)).await;
    assert!(page.contains("<strong>zwei</strong>"), "{page}");
    assert!(page.contains("<li>Satzung</li>"));
    assert!(page.contains(
        "<a href=\"https://ulm.example/f\" rel=\"nofollow noopener noreferrer\">Formular</a>"
    ));
    assert!(
        !page.contains("<script>alert"),
        "raw HTML is not interpreted"
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "but shown"
    );

    let doc: serde_json::Value = client()
        .get(node.at(&path))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["source"]["mediaType"], "text/markdown");
    assert_eq!(doc["source"]["content"], body);
    let content = doc["content"].as_str().unwrap();
    assert!(content.contains("<strong>zwei</strong>") && !content.contains("<script>"));
}
