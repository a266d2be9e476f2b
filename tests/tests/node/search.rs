//! Finding things on one node: the search page with facets and paging,
//! the search API, service pages, similar items (on item pages and before a
//! project is published) and Atom feeds — and no followers-only question in
//! any of them for someone who may not read it.

use allmende_tests::api::create;
use allmende_tests::{assert_heading_order, browser, client, login, spawn_app, TestNode};
use atom_syndication::Feed;
use reqwest::StatusCode;
use serde_json::{json, Value};

const DOG_TAX: &str = "99041006017000";

/// Two organizations with projects, a solution, a public and an internal
/// question; returns Ulm's token.
async fn published(node: &TestNode) -> String {
    let ulm = node.org_with_token("ulm").await;
    let blaustein = node.org_with_token("blaustein").await;
    create(
        node,
        &ulm,
        "projects",
        json!({"title": "Bewohnerparkausweis online", "summary": "Den Parkausweis für die eigene Straße digital beantragen.", "status": "live"}),
    )
    .await;
    create(
        node,
        &blaustein,
        "projects",
        json!({"title": "Hundesteuer digital anmelden", "summary": "Hunde online an- und abmelden, ohne Gang ins Rathaus.", "status": "running", "leika_keys": [DOG_TAX], "seeking_partners": true}),
    )
    .await;
    create(
        node,
        &ulm,
        "solutions",
        json!({"title": "Formular Hundesteuer", "kind": "form", "licence": "EUPL-1.2", "leika_keys": [DOG_TAX]}),
    )
    .await;
    create(
        node,
        &ulm,
        "questions",
        json!({"title": "Interne Frage zur Hundesteuer", "body": "Nur für Folgende: Hundesteuer intern.", "audience": "followers", "leika_keys": [DOG_TAX]}),
    )
    .await;
    for n in 1..=25 {
        create(
            node,
            &blaustein,
            "projects",
            json!({"title": format!("Sperrmüll Termin {n}"), "summary": "Sperrmüll online anmelden."}),
        )
        .await;
    }
    ulm
}

async fn text(node: &TestNode, path: &str) -> (StatusCode, String) {
    let res = client().get(node.at(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn json_of(node: &TestNode, path: &str) -> (StatusCode, Value) {
    let res = client().get(node.at(path)).send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn the_search_page_finds_stems_shows_snippets_facets_and_pages() {
    let node = spawn_app().await;
    published(&node).await;

    let (status, html) = text(&node, "/search?q=Bewohnerparken").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Bewohnerparkausweis online"), "{html}");
    assert_heading_order("/search?q=Bewohnerparken", &html);

    let (_, html) = text(&node, "/search?q=Hunde").await;
    assert!(html.contains("Hundesteuer digital anmelden"));
    assert!(
        html.contains("<mark>Hunde</mark>"),
        "the snippet marks the match"
    );
    assert!(html.contains("Eingrenzen"), "facets are shown");
    assert!(
        html.contains("service=leika%3A99041006017000"),
        "a service facet link"
    );
    assert!(
        !html.contains("Interne Frage"),
        "no followers-only question"
    );
    // An organization by name.
    let (_, html) = text(&node, "/search?q=Blaustein&type=organization").await;
    assert!(html.contains("href=\"/orgs/blaustein\""));

    // 25 hits on two pages: different entries, and a link onwards.
    let (_, first) = text(&node, "/search?q=Sperrmüll").await;
    assert!(first.contains("25 Treffer"), "{first}");
    assert!(first.contains("rel=\"next\""));
    let (_, second) = text(&node, "/search?q=Sperrm%C3%BCll&page=2").await;
    assert!(second.contains("rel=\"prev\""));
    let titles = |html: &str| -> Vec<String> {
        html.match_indices("Sperrmüll Termin ")
            .map(|(i, _)| html[i..i + 20].split('<').next().unwrap().to_owned())
            .collect()
    };
    let (a, b) = (titles(&first), titles(&second));
    assert_eq!(a.len() + b.len(), 25);
    assert!(a.iter().all(|t| !b.contains(t)), "pages do not overlap");

    // A wrong filter value is said, not a server error.
    let (status, html) = text(&node, "/search?q=Hunde&bundesland=xx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains("Hundesteuer digital anmelden"));
}

#[tokio::test]
async fn the_search_api_filters_counts_and_names_wrong_parameters() {
    let node = spawn_app().await;
    let ulm = published(&node).await;

    let (status, body) = json_of(&node, "/api/v1/search?q=Hundesteuer").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["total"], 2,
        "project and solution, not the internal question"
    );
    let service = &body["facets"]["service"][0];
    assert_eq!(service["value"], format!("leika:{DOG_TAX}"));
    assert_eq!(service["count"], 2);
    let kinds: Vec<&str> = body["facets"]["type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(body["hits"][0]["organization"]["handle"].is_string());

    let (_, filtered) = json_of(
        &node,
        "/api/v1/search?q=Hundesteuer&type=solution&licence=EUPL-1.2",
    )
    .await;
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["hits"][0]["title"], "Formular Hundesteuer");

    let (_, seeking) = json_of(&node, "/api/v1/search?seeking_partners=true").await;
    assert_eq!(seeking["total"], 1);
    assert_eq!(seeking["hits"][0]["title"], "Hundesteuer digital anmelden");

    let (_, paged) = json_of(&node, "/api/v1/search?q=Sperrmuell&per_page=10&page=3").await;
    assert_eq!(paged["total"], 25);
    assert_eq!(paged["pages"], 3);
    assert_eq!(paged["hits"].as_array().unwrap().len(), 5);

    for (query, field) in [
        ("type=thing", "type"),
        ("from=yesterday", "from"),
        ("per_page=1000", "per_page"),
        ("page=0", "page"),
        ("service=leika:12", "service"),
        ("from=2026-12-02&to=2026-12-01", "to"),
    ] {
        let (status, body) = json_of(&node, &format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["field"], field, "{query}");
    }

    // The asker's own organization sees its internal question.
    let own: Value = client()
        .get(node.at("/api/v1/search?q=intern"))
        .bearer_auth(&ulm)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["total"], 1);
}

#[tokio::test]
async fn a_service_page_lists_everything_on_the_service_with_who_works_on_it() {
    let node = spawn_app().await;
    published(&node).await;
    let path = format!("/services/leika:{DOG_TAX}");
    let (status, html) = text(&node, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2 Organisationen arbeiten daran."), "{html}");
    assert!(html.contains("Hundesteuer digital anmelden"));
    assert!(html.contains("Formular Hundesteuer"));
    assert!(html.contains("In Umsetzung"), "grouped by status");
    assert!(!html.contains("Interne Frage"));
    assert!(
        html.contains("Baden-Württemberg"),
        "organizations by Bundesland"
    );
    assert_heading_order(&path, &html);
    // Item pages link their keys to it.
    let (_, project) = json_of(&node, "/api/v1/projects?q=Hundesteuer").await;
    let id = project["items"][0]["id"].as_str().unwrap();
    let (_, html) = text(&node, &format!("/projects/{id}")).await;
    assert!(html.contains(&format!("href=\"{path}\"")));
    assert_eq!(
        text(&node, "/services/nonsense").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn similar_items_show_on_item_pages_and_before_a_project_is_published() {
    let node = spawn_app().await;
    published(&node).await;
    node.user("digital@ulm.example", "ulm", "editor").await;
    let b = browser();
    let csrf = login(&node, &b, "digital@ulm.example").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "Hundesteuer per App"),
        ("status", "idea"),
        ("leika_keys", DOG_TAX),
    ];
    let res = b
        .post(node.at("/projects"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "not published yet");
    let html = res.text().await.unwrap();
    assert!(html.contains("Gibt es das schon?"));
    assert!(html.contains("Hundesteuer digital anmelden"));
    assert!(html.contains("Gleiche Leistung"));
    assert!(html.contains("name=\"similar_checked\""));
    assert_heading_order("/projects (similar)", &html);
    let (_, before) = json_of(&node, "/api/v1/search?q=App&type=project").await;
    assert_eq!(before["total"], 0, "nothing was stored");

    let mut confirmed = form.to_vec();
    confirmed.push(("similar_checked", "1"));
    let res = b
        .post(node.at("/projects"))
        .form(&confirmed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    let html = b
        .get(node.at(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Ähnliche Einträge im Netzwerk"));
    assert!(html.contains("Formular Hundesteuer"));
    assert_heading_order(&path, &html);

    // Nothing similar: published at once.
    let unique = [
        ("csrf", csrf.as_str()),
        ("title", "Glasfaser Zeppelinstraße"),
        ("status", "idea"),
    ];
    let res = b
        .post(node.at("/projects"))
        .form(&unique)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

fn parse_feed(body: &str) -> Feed {
    body.parse::<Feed>().expect("a valid Atom document")
}

#[tokio::test]
async fn feeds_are_atom_with_public_items_only() {
    let node = spawn_app().await;
    published(&node).await;
    for path in [
        "/orgs/ulm/feed.atom".to_owned(),
        format!("/services/leika:{DOG_TAX}/feed.atom"),
        "/search/feed.atom?q=Hundesteuer".to_owned(),
    ] {
        let res = client().get(node.at(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml"));
        let body = res.text().await.unwrap();
        let feed = parse_feed(&body);
        assert_eq!(
            feed.id(),
            node.at(&path),
            "{path}: the feed's id is its URL"
        );
        assert!(feed.links().iter().any(|l| l.rel() == "self"));
        assert!(!feed.entries().is_empty(), "{path}");
        for entry in feed.entries() {
            assert!(entry.id().starts_with("http"), "{path}: absolute entry ids");
            assert!(!entry.title().is_empty());
            assert!(
                !entry.authors().is_empty(),
                "{path}: every entry names its author"
            );
            assert!(
                !entry.title().contains("Interne"),
                "{path}: no followers-only item"
            );
        }
        assert!(!body.contains("Interne Frage"), "{path}");
    }
    let orgs = parse_feed(&text(&node, "/orgs/ulm/feed.atom").await.1);
    let titles: Vec<&str> = orgs.entries().iter().map(|e| e.title().as_str()).collect();
    assert_eq!(
        titles,
        ["Formular Hundesteuer", "Bewohnerparkausweis online"],
        "newest first"
    );
    // Even with the asker's session cookie a feed is the public's.
    let b = browser();
    node.user("digital@ulm.example", "ulm", "editor").await;
    login(&node, &b, "digital@ulm.example").await;
    let body = b
        .get(node.at("/orgs/ulm/feed.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("Interne Frage"));
    assert_eq!(
        text(&node, "/orgs/nobody/feed.atom").await.0,
        StatusCode::NOT_FOUND
    );
}
