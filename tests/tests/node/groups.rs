//! Groups on one node, through the pages: operators create organizations
//! (an association among them) and people on the admin page; a
//! municipality hosted there joins the association's group in the browser,
//! shares a project with it through the form, and the group's admin
//! moderates on the group's page.

use allmende_tests::{browser, csrf_from, login, spawn_app_with, test_config, TestNode};

/// The password the admin page shows once for `email`.
fn shown_password(html: &str) -> String {
    let at = html
        .find("Passwort (nur jetzt sichtbar")
        .expect("a password is shown");
    let rest = &html[at..];
    let start = rest.find("<code>").expect("code") + "<code>".len();
    let end = rest[start..].find("</code>").expect("end") + start;
    rest[start..end].to_owned()
}

async fn post_form(
    node: &TestNode,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = client.post(node.at(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn operators_create_a_group_that_members_join_post_to_and_admins_moderate() {
    let config = allmende_server::Config {
        operators: vec!["betrieb@verband.example".into()],
        ..test_config()
    };
    let node = spawn_app_with(config).await;
    node.org_with_user("kreis", "Landkreis", "betrieb@verband.example", "admin")
        .await;
    node.org_with_user(
        "blaustein",
        "Stadt Blaustein",
        "rathaus@blaustein.example",
        "admin",
    )
    .await;

    // Only operators manage organizations.
    let member = browser();
    let member_csrf = login(&node, &member, "rathaus@blaustein.example").await;
    let refused = member
        .get(node.at("/admin/organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let (status, _) = post_form(
        &node,
        &member,
        "/admin/organizations",
        &[
            ("csrf", &member_csrf),
            ("handle", "boese"),
            ("name", "Böse"),
            ("kind", "network"),
            ("email", "x@boese.example"),
        ],
    )
    .await;
    assert_eq!(status, 403);

    // The operator creates the association with its first admin.
    let operator = browser();
    let csrf = login(&node, &operator, "betrieb@verband.example").await;
    let (status, html) = post_form(
        &node,
        &operator,
        "/admin/organizations",
        &[
            ("csrf", &csrf),
            ("handle", "Kein Handle"),
            ("name", "Verband"),
            ("kind", "association"),
            ("email", "gs@verband.example"),
        ],
    )
    .await;
    assert_eq!(status, 422, "a bad handle is named");
    assert!(html.contains("Kennung"), "{html}");
    let (status, html) = post_form(
        &node,
        &operator,
        "/admin/organizations",
        &[
            ("csrf", &csrf),
            ("handle", "verband"),
            ("name", "Gemeindetag Beispiel"),
            ("kind", "association"),
            ("email", "gs@verband.example"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{html}");
    let password = shown_password(&html);
    assert!(password.len() >= 16);
    // The operator adds an editor to it.
    let (status, html) = post_form(
        &node,
        &operator,
        "/admin/organizations/users",
        &[
            ("csrf", &csrf),
            ("organization", "verband"),
            ("user_email", "redaktion@verband.example"),
            ("role", "editor"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{html}");

    // The new admin signs in with the shown password.
    let admin = browser();
    let page = admin
        .get(node.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = admin
        .post(node.at("/login"))
        .form(&[
            ("csrf", csrf_from(&page).as_str()),
            ("email", "gs@verband.example"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signed in with the shown password");

    // Blaustein joins on the group's page and shares a project with it.
    let page = member
        .get(node.at("/orgs/verband"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Beitreten"), "{page}");
    let target = node.at("/orgs/verband");
    let (status, _) = post_form(
        &node,
        &member,
        "/network/follow",
        &[("csrf", &member_csrf), ("target", &target)],
    )
    .await;
    assert_eq!(status, 303);
    let form = member
        .get(node.at("/projects/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("Mit Gruppen teilen"), "{form}");
    assert!(form.contains("name=\"group.verband\""), "{form}");
    let (status, _) = post_form(
        &node,
        &member,
        "/projects",
        &[
            ("csrf", &member_csrf),
            ("title", "Bürgerbüro im Dorf"),
            ("status", "running"),
            ("group.verband", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    // A group it is not a member of is refused, with a message on the form.
    let (status, html) = post_form(
        &node,
        &member,
        "/projects",
        &[
            ("csrf", &member_csrf),
            ("title", "Fremd"),
            ("status", "idea"),
            ("group.kreis", "on"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("Gruppen"), "{html}");
    assert_eq!(node.count("projects").await, 1, "nothing published");
    let project = allmende_tests::api::local_id(&node, "projects", "Bürgerbüro im Dorf").await;
    let page = browser()
        .get(node.at(&format!("/projects/{project}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("geteilt in"),
        "the item names its group: {page}"
    );
    // The group's page lists it with its author, for everyone.
    let public = browser()
        .get(node.at("/orgs/verband"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(public.contains("Bürgerbüro im Dorf"), "{public}");
    assert!(public.contains("Stadt Blaustein"));
    assert!(
        !public.contains("Moderationsprotokoll"),
        "the log is for admins"
    );

    // The group's admin removes it; the log says so.
    let admin_csrf = csrf_from(
        &admin
            .get(node.at("/orgs/verband"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let items = allmende_tests::get_json(&node.at("/api/v1/groups/verband")).await;
    let object = items["items"][0]["object"].as_str().unwrap().to_owned();
    let (status, _) = post_form(
        &node,
        &member,
        "/group/remove",
        &[("csrf", &member_csrf), ("object", &object)],
    )
    .await;
    assert_eq!(status, 403, "not the group's admin");
    let (status, _) = post_form(
        &node,
        &admin,
        "/group/remove",
        &[("csrf", &admin_csrf), ("object", &object)],
    )
    .await;
    assert_eq!(status, 303);
    let page = admin
        .get(node.at("/orgs/verband"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Bürgerbüro im Dorf"),
        "removed from the group"
    );
    assert!(page.contains("Moderationsprotokoll"));
    assert!(page.contains("Beitrag entfernt"));
    assert!(page.contains("gs@verband.example"));
    assert_eq!(node.count("projects").await, 1, "the item itself stays");
    // For a group, the network page speaks of members.
    let network = admin
        .get(node.at("/network"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(network.contains("Mitglieder"), "{network}");
    assert!(network.contains("Stadt Blaustein"));
}
