//! People in the browser and the node's e-mail: invitations, roles,
//! removal, passwords, notifications, digests, unsubscribing, and a
//! failing SMTP server. Mail goes to an SMTP server on loopback
//! (`allmende_tests::smtp`).

use allmende_server::config::Config;
use allmende_tests::smtp::SmtpSink;
use allmende_tests::{
    browser, csrf_from, login, spawn_app, spawn_app_with, test_config, TestNode, PASSWORD,
};
use reqwest::StatusCode;
use secrecy::SecretString;

async fn node_with_mail(sink: &SmtpSink) -> TestNode {
    spawn_app_with(Config {
        smtp_url: Some(SecretString::from(sink.url())),
        mail_from: Some("Allmende Test <allmende@node.test>".into()),
        ..test_config()
    })
    .await
}

/// A POST to the API that must succeed; its JSON answer.
async fn call(
    node: &TestNode,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, value) =
        allmende_tests::api::api(node, token, reqwest::Method::POST, path, body).await;
    assert!(
        (200..300).contains(&status),
        "POST {path}: {status} {value}"
    );
    value
}

async fn get(b: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = b.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn post(b: &reqwest::Client, url: String, form: &[(&str, &str)]) -> reqwest::Response {
    b.post(url).form(form).send().await.unwrap()
}

fn path_of(link: &str) -> String {
    let url = url::Url::parse(link).expect("absolute link");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Logs in with a password; the status of the login post.
async fn try_login(
    node: &TestNode,
    b: &reqwest::Client,
    email: &str,
    password: &str,
) -> StatusCode {
    let (_, page) = get(b, node.at("/login")).await;
    let csrf = csrf_from(&page);
    post(
        b,
        node.at("/login"),
        &[
            ("csrf", &csrf),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ],
    )
    .await
    .status()
}

#[tokio::test]
async fn an_admin_invites_by_email_and_the_person_joins() {
    let sink = SmtpSink::start().await;
    let node = node_with_mail(&sink).await;
    node.org_with_user("ulm", "Stadt Ulm", "admin@ulm.example", "admin")
        .await;
    node.user("redaktion@ulm.example", "ulm", "editor").await;
    node.org_with_user("ka", "Stadt Karlsruhe", "admin@ka.example", "admin")
        .await;

    // Neither an editor nor another organization's admin may invite.
    for outsider in ["redaktion@ulm.example", "admin@ka.example"] {
        let b = browser();
        let csrf = login(&node, &b, outsider).await;
        let res = post(
            &b,
            node.at("/orgs/ulm/people/invite"),
            &[
                ("csrf", &csrf),
                ("email", "x@ulm.example"),
                ("role", "admin"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{outsider}");
    }

    let admin = browser();
    let csrf = login(&node, &admin, "admin@ulm.example").await;
    let res = post(
        &admin,
        node.at("/orgs/ulm/people/invite"),
        &[
            ("csrf", &csrf),
            ("email", "nicht-gueltig"),
            ("role", "editor"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("E-Mail-Adresse muss eine E-Mail-Adresse sein"));
    let res = post(
        &admin,
        node.at("/orgs/ulm/people/invite"),
        &[
            ("csrf", &csrf),
            ("email", "redaktion@ulm.example"),
            ("role", "editor"),
        ],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an existing account"
    );
    let res = post(
        &admin,
        node.at("/orgs/ulm/people/invite"),
        &[
            ("csrf", &csrf),
            ("email", "Neu@Ulm.example"),
            ("role", "editor"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["neu@ulm.example"]);
    assert!(mail.header("Subject").unwrap().contains("Stadt Ulm"));
    let de = mail.body.find("lädt Sie ein").expect("German");
    let en = mail.body.find("invites you").expect("English");
    assert!(de < en);
    assert!(
        mail.header("List-Unsubscribe").is_none(),
        "an invitation is not a notification"
    );
    let link = path_of(&mail.link_containing("/invitations/").expect("link"));

    let joining = browser();
    let (status, form) = get(&joining, node.at(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("neu@ulm.example") && form.contains("autocomplete=\"new-password\""));
    let csrf = csrf_from(&form);
    let res = post(
        &joining,
        node.at(&link),
        &[
            ("csrf", &csrf),
            ("password", "ein-langes-passwort"),
            ("password_confirm", "ein-anderes-passwort"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("stimmen nicht überein"));
    let res = post(
        &joining,
        node.at(&link),
        &[
            ("csrf", &csrf),
            ("password", "ein-langes-passwort"),
            ("password_confirm", "ein-langes-passwort"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        try_login(&node, &browser(), "neu@ulm.example", "ein-langes-passwort").await,
        StatusCode::SEE_OTHER
    );
    // The link works once.
    assert_eq!(
        get(&browser(), node.at(&link)).await.0,
        StatusCode::NOT_FOUND
    );

    let (_, people) = get(&admin, node.at("/orgs/ulm/people")).await;
    assert!(people.contains("neu@ulm.example"));
    assert!(
        people.contains("eingeladen") && people.contains("Einladung angenommen"),
        "audit log"
    );
}

#[tokio::test]
async fn without_smtp_the_admin_gets_the_link_to_pass_on() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "admin@ulm.example", "admin")
        .await;
    let admin = browser();
    let csrf = login(&node, &admin, "admin@ulm.example").await;
    let res = post(
        &admin,
        node.at("/orgs/ulm/people/invite"),
        &[
            ("csrf", &csrf),
            ("email", "neu@ulm.example"),
            ("role", "admin"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Dieser Knoten versendet keine E-Mails"));
    let start = page.find("/invitations/").expect("link shown");
    let link: String = page[start..]
        .chars()
        .take_while(|c| *c != '<' && *c != '"')
        .collect();
    let joining = browser();
    let (_, form) = get(&joining, node.at(&link)).await;
    let res = post(
        &joining,
        node.at(&link),
        &[
            ("csrf", &csrf_from(&form)),
            ("password", "ein-langes-passwort"),
            ("password_confirm", "ein-langes-passwort"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // No reset by mail on such a node.
    let (_, forgot) = get(&browser(), node.at("/password/forgot")).await;
    assert!(forgot.contains("Dieser Knoten versendet keine E-Mails"));
}

#[tokio::test]
async fn roles_change_people_leave_and_the_last_admin_stays() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "admin@ulm.example", "admin")
        .await;
    node.user("redaktion@ulm.example", "ulm", "editor").await;
    let editor_id = node
        .state
        .store
        .people()
        .by_email(&allmende_domain::Email::parse("redaktion@ulm.example").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let admin_id = node
        .state
        .store
        .people()
        .by_email(&allmende_domain::Email::parse("admin@ulm.example").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let admin = browser();
    let csrf = login(&node, &admin, "admin@ulm.example").await;
    // The only admin cannot step down.
    let res = post(
        &admin,
        node.at(&format!("/orgs/ulm/people/{admin_id}/role")),
        &[("csrf", &csrf), ("role", "editor")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("mindestens eine Person mit Administration"));
    // The editor becomes admin; then the first admin may step down.
    let res = post(
        &admin,
        node.at(&format!("/orgs/ulm/people/{editor_id}/role")),
        &[("csrf", &csrf), ("role", "admin")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = post(
        &admin,
        node.at(&format!("/orgs/ulm/people/{admin_id}/role")),
        &[("csrf", &csrf), ("role", "editor")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Now an editor: managing people is over for them.
    assert_eq!(
        get(&admin, node.at("/orgs/ulm/people")).await.0,
        StatusCode::FORBIDDEN
    );

    // The new admin removes the former one after confirming; their login ends.
    let second = browser();
    let csrf2 = login(&node, &second, "redaktion@ulm.example").await;
    let confirm = format!("/orgs/ulm/people/{admin_id}/remove");
    let (status, page) = get(&second, node.at(&confirm)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("admin@ulm.example") && page.contains("Endgültig entfernen"));
    let res = post(&second, node.at(&confirm), &[("csrf", &csrf2)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = admin.get(node.at("/account")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the removed person's session is gone"
    );
    // Nobody removes themselves (the organization would lose its last admin).
    let own = format!("/orgs/ulm/people/{editor_id}/remove");
    assert_eq!(
        post(&second, node.at(&own), &[("csrf", &csrf2)])
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let (_, people) = get(&second, node.at("/orgs/ulm/people")).await;
    assert!(people.contains("Rolle geändert") && people.contains("entfernt"));
}

#[tokio::test]
async fn passwords_are_changed_and_reset_by_mail() {
    let sink = SmtpSink::start().await;
    let node = node_with_mail(&sink).await;
    node.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "editor")
        .await;
    let here = browser();
    let elsewhere = browser();
    let csrf = login(&node, &here, "digital@ulm.example").await;
    login(&node, &elsewhere, "digital@ulm.example").await;
    let res = post(
        &here,
        node.at("/account/password"),
        &[
            ("csrf", &csrf),
            ("current_password", "falsch-falsch"),
            ("password", "ganz-neues-passwort"),
            ("password_confirm", "ganz-neues-passwort"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(
        &here,
        node.at("/account/password"),
        &[
            ("csrf", &csrf),
            ("current_password", PASSWORD),
            ("password", "kurz"),
            ("password_confirm", "kurz"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(
        &here,
        node.at("/account/password"),
        &[
            ("csrf", &csrf),
            ("current_password", PASSWORD),
            ("password", "ganz-neues-passwort"),
            ("password_confirm", "ganz-neues-passwort"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        here.get(node.at("/account")).send().await.unwrap().status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        elsewhere
            .get(node.at("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER,
        "others end"
    );

    // Reset: the same answer for an unknown address, and no mail for it.
    let anon = browser();
    let (_, form) = get(&anon, node.at("/password/forgot")).await;
    let csrf = csrf_from(&form);
    let unknown = post(
        &anon,
        node.at("/password/forgot"),
        &[("csrf", &csrf), ("email", "niemand@ulm.example")],
    )
    .await
    .text()
    .await
    .unwrap();
    let known = post(
        &anon,
        node.at("/password/forgot"),
        &[("csrf", &csrf), ("email", "digital@ulm.example")],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(unknown.contains("Wenn zu dieser Adresse ein Konto gehört"));
    assert!(known.contains("Wenn zu dieser Adresse ein Konto gehört"));
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["digital@ulm.example"]);
    let link = path_of(&mail.link_containing("/password/reset/").unwrap());
    let (_, reset) = get(&anon, node.at(&link)).await;
    let res = post(
        &anon,
        node.at(&link),
        &[
            ("csrf", &csrf_from(&reset)),
            ("password", "noch-ein-passwort"),
            ("password_confirm", "noch-ein-passwort"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        here.get(node.at("/account")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER,
        "a reset ends every session"
    );
    assert_eq!(
        try_login(
            &node,
            &browser(),
            "digital@ulm.example",
            "noch-ein-passwort"
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        get(&anon, node.at(&link)).await.0,
        StatusCode::NOT_FOUND,
        "the link works once"
    );

    // At most three reset mails an hour per person (the used link above no
    // longer counts).
    let address = allmende_domain::Email::parse("digital@ulm.example").unwrap();
    for _ in 0..4 {
        allmende_server::usecases::people::send_reset(&node.state, &address)
            .await
            .unwrap();
    }
    assert_eq!(node.count("password_resets").await, 3);
    sink.wait_for(1 + 3).await;
    allmende_server::mail::worker::round(&node.state, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(sink.received().len(), 1 + 3);
}

#[tokio::test]
async fn notifications_reach_the_people_concerned_once() {
    let sink = SmtpSink::start().await;
    let node = node_with_mail(&sink).await;
    let ulm = node.org_with_token("ulm").await;
    let ka = node.org_with_token("ka").await;
    node.org_with_user("ma", "Stadt Mannheim", "watcher@ma.example", "editor")
        .await;
    node.user("digest@ma.example", "ma", "editor").await;

    // Ulm asks, Karlsruhe answers: Ulm's people hear of it.
    let question = call(
        &node,
        &ulm,
        "/api/v1/questions",
        serde_json::json!({"title": "E-Akte?", "body": "Erfahrungen?"}),
    )
    .await;
    let qid = question["id"].as_str().unwrap().to_owned();
    let answer = call(
        &node,
        &ka,
        &format!("/api/v1/questions/{qid}/answers"),
        serde_json::json!({"body": "Ja, seit 2025."}),
    )
    .await;
    let aid = answer["id"].as_str().unwrap().to_owned();
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["admin@ulm.example"]);
    assert!(mail.header("Subject").unwrap().contains("Neue Antwort"));
    assert!(
        mail.body.contains("Stadt ka hat die Frage"),
        "{}",
        mail.body
    );
    let unsubscribe = mail
        .header("List-Unsubscribe")
        .unwrap()
        .trim_matches(['<', '>'])
        .to_owned();
    assert_eq!(
        mail.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );

    // Ulm accepts: Karlsruhe's people hear of it.
    call(
        &node,
        &ulm,
        &format!("/api/v1/answers/{aid}/accept"),
        serde_json::json!({}),
    )
    .await;
    let got = sink.wait_for(2).await;
    assert_eq!(got[1].to, ["admin@ka.example"]);
    assert!(got[1]
        .header("Subject")
        .unwrap()
        .contains("Antwort akzeptiert"));

    // Mannheim's watcher watches the service (and a daily reader too, and
    // Ulm's own admin, who hears nothing of Ulm's own items).
    for email in [
        "watcher@ma.example",
        "digest@ma.example",
        "admin@ulm.example",
    ] {
        let b = browser();
        let csrf = login(&node, &b, email).await;
        let res = post(
            &b,
            node.at("/notifications/watch"),
            &[
                ("csrf", &csrf),
                ("kind", "service"),
                ("target", "99041006017000"),
                ("watch", "on"),
                ("next", "/services/leika:99041006017000"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        if email.starts_with("digest") {
            let res = post(
                &b,
                node.at("/notifications"),
                &[("csrf", &csrf), ("notify", "daily")],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let (_, account) = get(&b, node.at("/account")).await;
            assert!(account.contains("value=\"daily\" checked"), "{account}");
        }
    }
    // A project on that service.
    call(
        &node,
        &ulm,
        "/api/v1/projects",
        serde_json::json!({"title": "Hundesteuer online", "leika_keys": ["99041006017000"]}),
    )
    .await;
    let got = sink.wait_for(3).await;
    assert_eq!(got[2].to, ["watcher@ma.example"], "{:#?}", got);
    assert!(got[2]
        .header("Subject")
        .unwrap()
        .contains("Hundesteuer online"));
    // The daily reader gets it in the next morning's digest.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let morning = tomorrow
        .date_naive()
        .and_hms_opt(7, 0, 0)
        .unwrap()
        .and_utc();
    allmende_server::mail::worker::round(&node.state, morning)
        .await
        .unwrap();
    let got = sink.wait_for(4).await;
    assert_eq!(got[3].to, ["digest@ma.example"]);
    assert!(
        got[3].body.contains("Hundesteuer online")
            && got[3].body.contains("since the last summary")
    );
    assert!(
        !got.iter()
            .any(|m| m.to == ["admin@ulm.example"] && m.body.contains("Hundesteuer online")),
        "nobody hears of their own organization's items"
    );

    // One click from the mail program turns notifications off.
    let res = reqwest::Client::new()
        .post(unsubscribe.clone())
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let forged = unsubscribe.replace("&t=", "&t=x");
    assert_eq!(
        reqwest::Client::new()
            .post(forged)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    call(
        &node,
        &ka,
        &format!("/api/v1/questions/{qid}/answers"),
        serde_json::json!({"body": "Noch eine Antwort."}),
    )
    .await;
    // Once the answer's event is handled, nothing is waiting to be sent.
    let mut left = node.count("notification_events").await;
    for _ in 0..300 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = node.count("notification_events").await;
    }
    assert_eq!(left, 0, "the event was handled");
    assert_eq!(node.state.store.mail().counts().await.unwrap().waiting, 0);
    assert_eq!(sink.received().len(), 4, "no mail after unsubscribing");
}

#[tokio::test]
async fn a_failing_smtp_server_loses_nothing() {
    // Nothing listens yet where the node sends its mail.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = spawn_app_with(Config {
        smtp_url: Some(SecretString::from(format!("smtp://127.0.0.1:{port}"))),
        ..test_config()
    })
    .await;
    node.org_with_user("ulm", "Stadt Ulm", "admin@ulm.example", "admin")
        .await;
    let admin = browser();
    let csrf = login(&node, &admin, "admin@ulm.example").await;
    for who in ["eins@ulm.example", "zwei@ulm.example"] {
        let res = post(
            &admin,
            node.at("/orgs/ulm/people/invite"),
            &[("csrf", &csrf), ("email", who), ("role", "editor")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    // Attempts fail and are counted; nothing is dropped.
    let mut counts = node.state.store.mail().counts().await.unwrap();
    for _ in 0..100 {
        if counts.failing == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        counts = node.state.store.mail().counts().await.unwrap();
    }
    assert_eq!((counts.waiting, counts.failing, counts.dead), (2, 2, 0));
    // The server comes up, refusing at first (451), then accepting.
    let sink = SmtpSink::start_on(port).await;
    sink.refuse(true);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(sink.received().is_empty());
    sink.refuse(false);
    let got = sink.wait_for(2).await;
    let mut to: Vec<_> = got.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["eins@ulm.example", "zwei@ulm.example"]);
    assert_eq!(node.state.store.mail().counts().await.unwrap().waiting, 0);
}
