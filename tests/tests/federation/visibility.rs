//! Who may read a followers-only item, tried on every read route, by every
//! kind of reader, on the author's node and on a follower's node.
//!
//! Ulm (on node A) asks a public and a followers-only question; Blaustein,
//! also on A, answers both. Mannheim (node B) follows Ulm; Heidelberg (also
//! on B) does not; Konstanz (node C) follows Blaustein, the answerer, but
//! not Ulm, the asker — an answer must not carry a restricted thread to it. Every route that shows questions —
//! pages, lists, search, feed, API, ActivityPub documents and outbox — is
//! requested as: a visitor, Ulm itself, Blaustein (a local user on the home
//! node), Mannheim (a user of a following organization), Heidelberg (a user
//! of a non-following organization), and another server's signed fetch.
//! The restricted texts must appear exactly where the rule allows them
//! (`allmende-store/src/visibility.rs`), and nowhere else.
//!
//! The test speaks HTTP only, so it checks the node from outside.

use allmende_tests::{browser, client, login, settle, spawn_app, TestNode};
use reqwest::header::{HeaderMap, ACCEPT};
use serde_json::{json, Value};

/// Texts of the followers-only question and of its answer: a leak is any
/// response that contains one where the reader may not read them.
const SECRETS: [&str; 2] = ["Geheimmarke", "Antwortgeheimnis"];
/// Text of the public question, to show a route really lists questions.
const PUBLIC: &str = "Offenmarke";
const AP: &str = "application/activity+json";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An HTML page.
    Page,
    /// The JSON API.
    Api,
    /// An ActivityPub document, as other servers fetch it.
    Activity,
}

struct Route {
    path: String,
    kind: Kind,
    /// Lists only items of organizations the reader follows (the feed).
    followed_only: bool,
    /// A redirect for readers (an answer's URL): "visible" means 3xx.
    redirect: bool,
    /// Lists the public question for anyone who may use the route.
    lists_public: bool,
}

fn route(path: impl Into<String>, kind: Kind) -> Route {
    Route {
        path: path.into(),
        kind,
        followed_only: false,
        redirect: false,
        lists_public: false,
    }
}

impl Route {
    fn feed(mut self) -> Self {
        self.followed_only = true;
        self
    }
    fn redirect(mut self) -> Self {
        self.redirect = true;
        self
    }
    fn lists_public(mut self) -> Self {
        self.lists_public = true;
        self
    }
}

/// One reader of one node.
struct Reader {
    name: &'static str,
    /// Signed in (pages) and holding a token (API).
    member: Option<(reqwest::Client, String)>,
    /// Another server: requests carry an HTTP signature with this key.
    signed_fetch: Option<(std::sync::Arc<allmende_federation::SigningKey>, String)>,
    /// The rule says this reader may read the followers-only question.
    may_read: bool,
    /// This reader's organization follows Ulm.
    follows_author: bool,
}

async fn member(node: &TestNode, email: &str) -> (reqwest::Client, String) {
    let b = browser();
    login(node, &b, email).await;
    (b, node.token_for(email).await)
}

async fn create(node: &TestNode, token: &str, path: &str, body: Value) -> String {
    let response = client()
        .post(node.at(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "POST {path}");
    let created: Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// The id node B gives its copy of the question titled `title`, as its
/// follower sees it.
async fn copy_id(node: &TestNode, token: &str, title: &str) -> String {
    let list: Value = client()
        .get(node.at("/api/v1/questions"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["title"] == title)
        .unwrap_or_else(|| panic!("{title} not on {}: {list}", node.url))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Requests every route as `reader` and checks what it sees.
async fn check(node: &TestNode, label: &str, routes: &[Route], reader: &Reader) -> usize {
    let mut checked = 0;
    for route in routes {
        let url = node.at(&route.path);
        let mut request = match (&reader.member, route.kind) {
            (Some((browser, _)), Kind::Page) => browser.get(&url),
            (Some((_, token)), Kind::Api) => client().get(&url).bearer_auth(token),
            _ => client().get(&url),
        };
        if route.kind == Kind::Activity {
            request = request.header(ACCEPT, AP);
        }
        if let Some((key, key_id)) = &reader.signed_fetch {
            let url: url::Url = url.parse().unwrap();
            let headers: HeaderMap =
                allmende_federation::signatures::sign_get(key, key_id, &url).unwrap();
            request = request.headers(headers);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        let leaked = SECRETS.iter().any(|s| body.contains(s));
        let seen = if route.redirect {
            status.is_redirection()
        } else {
            leaked
        };
        // What the rule allows: members who may read, never other servers,
        // and on the feed only what the reader follows.
        let allowed = reader.may_read
            && route.kind != Kind::Activity
            && (!route.followed_only || reader.follows_author);
        assert!(
            !leaked || allowed,
            "LEAK on {label}: {} sees a restricted text at {} ({status})",
            reader.name,
            route.path
        );
        assert_eq!(
            seen,
            allowed,
            "{label}: {} at {} ({status}) should {}see the followers-only question",
            reader.name,
            route.path,
            if allowed { "" } else { "not " }
        );
        if route.lists_public {
            assert!(
                body.contains(PUBLIC),
                "{label}: {} at {} lists the public question ({status})",
                reader.name,
                route.path
            );
        }
        checked += 1;
    }
    checked
}

#[tokio::test]
async fn followers_only_items_are_read_exactly_by_whom_the_rule_allows() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    a.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    a.org_with_user(
        "blaustein",
        "Stadt Blaustein",
        "rathaus@blaustein.example",
        "admin",
    )
    .await;
    b.org_with_user("mannheim", "Stadt Mannheim", "it@mannheim.example", "admin")
        .await;
    b.org_with_user(
        "heidelberg",
        "Stadt Heidelberg",
        "it@heidelberg.example",
        "admin",
    )
    .await;
    let c = spawn_app().await;
    c.org_with_user("konstanz", "Stadt Konstanz", "it@konstanz.example", "admin")
        .await;
    let ulm = member(&a, "digital@ulm.example").await;
    let blaustein = member(&a, "rathaus@blaustein.example").await;
    let mannheim = member(&b, "it@mannheim.example").await;
    let heidelberg = member(&b, "it@heidelberg.example").await;
    let konstanz = member(&c, "it@konstanz.example").await;

    // Mannheim follows Ulm; Konstanz follows Blaustein.
    for (node, token, target) in [
        (&b, &mannheim.1, format!("ulm@{}", a.host())),
        (&c, &konstanz.1, format!("blaustein@{}", a.host())),
    ] {
        let status = client()
            .post(node.at("/api/v1/follows"))
            .bearer_auth(token)
            .json(&json!({ "target": target }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 202);
    }
    settle(&[&a, &b, &c]).await;

    let secret_title = "Geheimmarke: Wie regeln Sie Zaunkoenig-Gebuehren?";
    let public_title = "Offenmarke: Zaunkoenig-Satzung gesucht";
    let public = create(
        &a,
        &ulm.1,
        "/api/v1/questions",
        json!({ "title": public_title, "body": "Wer hat eine Satzung fuer Zaunkoenig-Gebuehren?" }),
    )
    .await;
    let secret = create(
        &a,
        &ulm.1,
        "/api/v1/questions",
        json!({ "title": secret_title, "body": "Nur fuer unser Netzwerk: Zaunkoenig-Gebuehren.", "audience": "followers" }),
    )
    .await;
    let answer = create(
        &a,
        &blaustein.1,
        &format!("/api/v1/questions/{secret}/answers"),
        json!({ "body": "Antwortgeheimnis: wir nutzen die Mustersatzung." }),
    )
    .await;
    create(
        &a,
        &blaustein.1,
        &format!("/api/v1/questions/{public}/answers"),
        json!({ "body": "Offenantwort: unsere Satzung steht im Ortsrecht." }),
    )
    .await;
    settle(&[&a, &b, &c]).await;
    let secret_copy = copy_id(&b, &mannheim.1, secret_title).await;

    let routes = |secret: &str, answer: Option<&str>, ulm_handle: &str| {
        let mut routes = vec![
            route("/", Kind::Page).lists_public(),
            route("/questions", Kind::Page).lists_public(),
            route(format!("/questions/{secret}"), Kind::Page),
            route("/search?q=zaunkoenig", Kind::Page).lists_public(),
            route(format!("/orgs/{ulm_handle}"), Kind::Page).lists_public(),
            route("/network", Kind::Page).feed(),
            route("/api/v1/questions", Kind::Api).lists_public(),
            route(format!("/api/v1/questions/{secret}"), Kind::Api),
            route("/api/v1/questions?q=zaunkoenig", Kind::Api).lists_public(),
            route(
                format!("/api/v1/questions?organization={ulm_handle}"),
                Kind::Api,
            )
            .lists_public(),
            route("/api/v1/feed", Kind::Api).feed(),
            route(format!("/questions/{secret}"), Kind::Activity),
            route(format!("/orgs/{ulm_handle}/outbox?page=1"), Kind::Activity),
        ];
        if let Some(answer) = answer {
            routes.push(route(format!("/answers/{answer}"), Kind::Page).redirect());
            routes.push(route(format!("/answers/{answer}"), Kind::Activity));
        }
        routes
    };
    let on_a = routes(&secret, Some(&answer), "ulm");
    let ulm_on_b = format!("ulm@{}", a.host());
    let on_b = routes(&secret_copy, None, &ulm_on_b);
    // Only the author's node serves the outbox; drop it from B's list.
    let on_b: Vec<Route> = on_b
        .into_iter()
        .filter(|r| !r.path.contains("/outbox"))
        .collect();

    // Another server fetching: signed with Mannheim's key.
    let mannheim_org = b
        .state
        .store
        .organizations()
        .by_handle("mannheim")
        .await
        .unwrap();
    let key = b
        .state
        .federation
        .organization_key(mannheim_org.id)
        .await
        .unwrap();
    let signed = || (key.clone(), b.at("/orgs/mannheim#main-key"));

    let visitor = || Reader {
        name: "a visitor",
        member: None,
        signed_fetch: None,
        may_read: false,
        follows_author: false,
    };
    let mut checked = 0;
    for reader in [
        visitor(),
        Reader {
            name: "Ulm (the author)",
            member: Some(ulm),
            signed_fetch: None,
            may_read: true,
            follows_author: false,
        },
        Reader {
            name: "Blaustein (a user on the home node)",
            member: Some(blaustein),
            signed_fetch: None,
            may_read: true,
            follows_author: false,
        },
        Reader {
            name: "another server (signed fetch)",
            member: None,
            signed_fetch: Some(signed()),
            may_read: false,
            follows_author: false,
        },
    ] {
        checked += check(&a, "home node", &on_a, &reader).await;
    }
    for reader in [
        visitor(),
        Reader {
            name: "Mannheim (follows Ulm)",
            member: Some(mannheim),
            signed_fetch: None,
            may_read: true,
            follows_author: true,
        },
        Reader {
            name: "Heidelberg (does not follow Ulm)",
            member: Some(heidelberg),
            signed_fetch: None,
            may_read: false,
            follows_author: false,
        },
        Reader {
            name: "another server (signed fetch)",
            member: None,
            signed_fetch: Some(signed()),
            may_read: false,
            follows_author: false,
        },
    ] {
        checked += check(&b, "follower's node", &on_b, &reader).await;
    }
    assert_eq!(checked, 4 * on_a.len() + 4 * on_b.len());

    // Node C knows neither question: Blaustein's answer to the public one
    // reaches Konstanz's feed (as a post), the answer to the restricted one
    // reaches nobody there.
    let on_c = [
        route("/", Kind::Page),
        route("/network", Kind::Page).feed(),
        route("/search?q=zaunkoenig", Kind::Page),
        route("/api/v1/questions", Kind::Api),
        route("/api/v1/feed", Kind::Api).feed(),
    ];
    for reader in [
        visitor(),
        Reader {
            name: "Konstanz (follows the answerer, not the asker)",
            member: Some(konstanz),
            signed_fetch: None,
            may_read: false,
            follows_author: false,
        },
    ] {
        check(&c, "answerer's follower's node", &on_c, &reader).await;
        if let Some((browser, token)) = &reader.member {
            let feed = browser
                .get(c.at("/network"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(feed.contains("Offenantwort"), "the public answer arrived");
            let feed: Value = client()
                .get(c.at("/api/v1/feed"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(feed.to_string().contains("Offenantwort"), "{feed}");
        }
    }
    // The public question is served to other servers; the restricted one
    // is not (checked above), whoever signs.
    let response = client()
        .get(a.at(&format!("/questions/{public}")))
        .header(ACCEPT, AP)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
