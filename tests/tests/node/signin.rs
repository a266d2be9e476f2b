//! Sign-in under abuse: parallel guesses, bursts of password checks,
//! forged and cross-origin form posts, and return targets off the node.

use allmende_server::usecases::accounts::{MAX_CLIENT_FAILURES, MAX_LOGIN_FAILURES};
use allmende_tests::{browser, client, login, page_csrf, spawn_app, spawn_app_with, test_config};
use reqwest::StatusCode;

/// Statuses of `n` wrong-password logins sent at once for `email(i)`.
async fn parallel_logins(
    node: &allmende_tests::TestNode,
    n: usize,
    email: impl Fn(usize) -> String,
) -> Vec<StatusCode> {
    let b = browser();
    let csrf = page_csrf(node, &b, "/login").await;
    let attempts = (0..n).map(|i| {
        let form = [
            ("csrf", csrf.clone()),
            ("email", email(i)),
            ("password", "falsch-falsch".to_owned()),
        ];
        let request = b.post(node.at("/login")).form(&form).send();
        async move { request.await.expect("login answered").status() }
    });
    futures_join_all(attempts).await
}

async fn futures_join_all<F: std::future::Future<Output = StatusCode> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<StatusCode> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// A node whose logins wait as long as it takes for their password check
/// (no 503 in tests that count checked attempts).
async fn patient_node() -> allmende_tests::TestNode {
    spawn_app_with(allmende_server::config::Config {
        login_wait_ms: 120_000,
        ..test_config()
    })
    .await
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Finding 4: the count was read before the hash and written after, so 40
/// parallel attempts were all checked against a limit of 10.
#[tokio::test]
async fn parallel_guesses_for_one_address_cannot_pass_the_limit() {
    let node = patient_node().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    let statuses = parallel_logins(&node, 40, |_| "digital@ulm.example".into()).await;
    let limit = usize::try_from(MAX_LOGIN_FAILURES).unwrap();
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        limit,
        "exactly the limit is checked: {statuses:?}"
    );
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 40 - limit);
}

/// Finding 3: every login ran Argon2id at once, however many arrived. Now
/// a bounded number runs; the rest wait briefly, then get 503 with
/// Retry-After (and are not counted as failures).
#[tokio::test]
async fn password_checks_are_bounded_and_overflow_gets_503() {
    let node = spawn_app_with(allmende_server::config::Config {
        login_concurrency: 1,
        login_wait_ms: 1,
        ..test_config()
    })
    .await;
    let statuses = parallel_logins(&node, 24, |i| format!("niemand{i}@ulm.example")).await;
    let busy = count(&statuses, StatusCode::SERVICE_UNAVAILABLE);
    assert!(busy > 0, "some logins wait for their turn: {statuses:?}");
    assert_eq!(
        busy + count(&statuses, StatusCode::UNAUTHORIZED),
        24,
        "every login is either checked or told to retry: {statuses:?}"
    );
    let b = browser();
    let csrf = page_csrf(&node, &b, "/login").await;
    // A busy answer says when to come back.
    let mut retry_after = None;
    for _ in 0..40 {
        let (first, second) = tokio::join!(
            b.post(node.at("/login"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("email", "a@ulm.example"),
                    ("password", "x")
                ])
                .send(),
            b.post(node.at("/login"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("email", "b@ulm.example"),
                    ("password", "x")
                ])
                .send()
        );
        for res in [first.unwrap(), second.unwrap()] {
            if res.status() == StatusCode::SERVICE_UNAVAILABLE {
                retry_after = res.headers().get("retry-after").cloned();
            }
        }
        if retry_after.is_some() {
            break;
        }
    }
    assert_eq!(retry_after.expect("a 503 came").to_str().unwrap(), "5");
}

/// One client guessing across many addresses is limited too.
#[tokio::test]
async fn one_client_guessing_many_addresses_is_limited() {
    let node = patient_node().await;
    let limit = usize::try_from(MAX_CLIENT_FAILURES).unwrap();
    let statuses = parallel_logins(&node, limit + 5, |i| format!("user{i}@ulm.example")).await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        limit,
        "{statuses:?}"
    );
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 5);
}

/// Finding 5 and 7: `next` with a TAB became `//evil.example` in browsers;
/// with a newline or NUL the node answered 500.
#[tokio::test]
async fn return_targets_never_leave_the_node_nor_break_it() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    let c = client();
    for next in [
        "/%09/evil.example",
        "/%0a",
        "/%00",
        "/%7F",
        "/%0d%0a",
        "//evil.example",
        "/%5Cevil.example",
    ] {
        let res = c
            .get(node.at(&format!("/lang?set=en&next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(res.headers()["location"], "/", "{next}");
        let form = c
            .get(node.at(&format!("/login?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK, "{next}");
        let html = form.text().await.unwrap();
        assert!(html.contains(r#"name="next" value="/""#), "{next}");
    }
    let b = browser();
    let csrf = page_csrf(&node, &b, "/login").await;
    let res = b
        .post(node.at("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "digital@ulm.example"),
            ("password", allmende_tests::PASSWORD),
            ("next", "/\t/evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/");
    // A real local target survives, encoded.
    let res = c
        .get(node.at("/lang?set=de&next=/search%3Fq%3DHund"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/search?q=Hund");
}

/// Finding 6: the token was not bound to the session, Origin was not
/// checked, and the token survived the login.
#[tokio::test]
async fn form_tokens_are_bound_to_the_session_and_to_this_origin() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    node.user("redaktion@ulm.example", "ulm", "editor").await;
    let projects_before = node.count("projects").await;
    let project = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("title".to_owned(), "Untergeschobenes Projekt".to_owned()),
            ("status".to_owned(), "planned".to_owned()),
            ("contact_name".to_owned(), "Eva".to_owned()),
        ]
    };

    // A token planted before the login (a sibling origin can set cookies
    // for this host) is worthless afterwards.
    let b = browser();
    let planted = page_csrf(&node, &b, "/login").await;
    let own = login(&node, &b, "digital@ulm.example").await;
    let res = b
        .post(node.at("/projects"))
        .form(&project(&planted))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "pre-login token refused"
    );

    // Another session's token does not work in this one.
    let other = login(&node, &browser(), "redaktion@ulm.example").await;
    assert_ne!(other, own);
    let res = b
        .post(node.at("/projects"))
        .form(&project(&other))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "another session's token refused"
    );

    // The right token from another origin (another port on this host).
    let sibling = format!("http://localhost:{}", node.port() + 1);
    for (header, value) in [
        ("origin", sibling.clone()),
        ("origin", "null".to_owned()),
        ("referer", format!("{sibling}/attack.html")),
    ] {
        let res = b
            .post(node.at("/projects"))
            .header(header, value.as_str())
            .form(&project(&own))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{header}: {value}");
    }
    assert_eq!(
        node.count("projects").await,
        projects_before,
        "nothing stored"
    );

    // The node's own pages post with its origin and their session's token.
    let res = b
        .post(node.at("/projects"))
        .header("origin", node.at(""))
        .form(&project(&own))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(node.count("projects").await, projects_before + 1);
}

/// The value of the hidden field `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The authenticator app: the code for `secret` at `offset` seconds from now.
fn app_code(secret: &str, offset: u64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("test")
        .build()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now + offset).to_string()
}

/// The optional second factor: set up on the account page, then every
/// login asks for a code, which works once; a wrong code means signing in
/// again.
#[tokio::test]
async fn a_second_factor_guards_the_login_once_turned_on() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "admin@ulm.example", "admin")
        .await;
    let b = browser();
    let csrf = login(&node, &b, "admin@ulm.example").await;
    let setup = b
        .post(node.at("/account/totp/setup"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "id=\"totp-secret\">";
    let start = setup.find(marker).expect("the secret is shown") + marker.len();
    let secret = setup[start..].split('<').next().unwrap().to_owned();
    assert!(setup.contains("otpauth://totp/"));
    let enable = |code: String| {
        b.post(node.at("/account/totp/enable"))
            .form(&[("csrf", csrf.clone()), ("totp_code", code)])
            .send()
    };
    assert_eq!(
        enable("000000".into()).await.unwrap().status(),
        422,
        "a wrong code does not turn it on"
    );
    assert_eq!(enable(app_code(&secret, 0)).await.unwrap().status(), 303);

    // A new login: the password alone is not enough.
    let c = browser();
    let password_step = |c: &reqwest::Client| {
        let c = c.clone();
        let node_url = node.at("/login");
        async move {
            let csrf = page_csrf_at(&c, &node_url).await;
            c.post(node_url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("email", "admin@ulm.example"),
                    ("password", allmende_tests::PASSWORD),
                    ("next", "/account"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let res = password_step(&c).await;
    assert_eq!(res.status(), StatusCode::OK, "the code page, not a session");
    let code_page = res.text().await.unwrap();
    let challenge = hidden(&code_page, "challenge");
    let form_csrf = hidden(&code_page, "csrf");
    let account = c.get(node.at("/account")).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::SEE_OTHER, "not signed in yet");
    let send_code = |challenge: String, code: String, csrf: String| {
        c.post(node.at("/login/code"))
            .form(&[
                ("csrf", csrf),
                ("challenge", challenge),
                ("code", code),
                ("next", "/account".into()),
            ])
            .send()
    };
    let wrong = send_code(challenge.clone(), "000000".into(), form_csrf.clone())
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // The code of enabling was used; the app's next one is new.
    let next_code = app_code(&secret, 30);
    let reused = send_code(challenge, next_code.clone(), form_csrf.clone())
        .await
        .unwrap();
    assert_eq!(
        reused.status(),
        StatusCode::UNAUTHORIZED,
        "a challenge works once"
    );

    let code_page = password_step(&c).await.text().await.unwrap();
    let ok = send_code(
        hidden(&code_page, "challenge"),
        next_code.clone(),
        hidden(&code_page, "csrf"),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/account");
    assert_eq!(
        c.get(node.at("/account")).send().await.unwrap().status(),
        StatusCode::OK
    );

    // The same code again, in another login: refused.
    let d = browser();
    let code_page = password_step(&d).await.text().await.unwrap();
    let replay = d
        .post(node.at("/login/code"))
        .form(&[
            ("csrf", hidden(&code_page, "csrf")),
            ("challenge", hidden(&code_page, "challenge")),
            ("code", next_code),
            ("next", "/".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        StatusCode::UNAUTHORIZED,
        "a code works once"
    );
}

async fn page_csrf_at(c: &reqwest::Client, url: &str) -> String {
    allmende_tests::csrf_from(&c.get(url).send().await.unwrap().text().await.unwrap())
}
