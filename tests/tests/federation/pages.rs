//! The network page: following and unfollowing from the browser.

use allmende_tests::{assert_heading_order, browser, login, settle, spawn_app};

#[tokio::test]
async fn following_from_the_network_page() {
    let ulm = spawn_app().await;
    let mannheim = spawn_app().await;
    ulm.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    mannheim.org("mannheim", "Stadt Mannheim").await;
    let b = browser();
    let csrf = login(&ulm, &b, "digital@ulm.example").await;

    let page = b.get(ulm.at("/network")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_heading_order("/network", &html);
    assert!(
        html.contains(r#"<label class="kern-label" for="target""#),
        "the field has a label"
    );

    // Forged (no CSRF token): refused.
    let forged = b
        .post(ulm.at("/network/follow"))
        .form(&[("target", format!("mannheim@{}", mannheim.host()))])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // A malformed address: the form again, with the error.
    let bad = b
        .post(ulm.at("/network/follow"))
        .form(&[("csrf", csrf.as_str()), ("target", "nur-ein-name")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("muss eine Adresse wie"), "{html}");
    assert!(
        html.contains(r#"value="nur-ein-name""#),
        "the value is kept"
    );

    // A node that is not there.
    let gone = b
        .post(ulm.at("/network/follow"))
        .form(&[("csrf", csrf.as_str()), ("target", "niemand@localhost:1")])
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 422);
    assert!(gone.text().await.unwrap().contains("nicht gefunden"));

    let target = format!("mannheim@{}", mannheim.host());
    let followed = b
        .post(ulm.at("/network/follow"))
        .form(&[("csrf", csrf.as_str()), ("target", target.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 303);
    settle(&[&ulm, &mannheim]).await;
    let html = b
        .get(ulm.at("/network"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Stadt Mannheim"), "{html}");
    assert!(html.contains("bestätigt"), "{html}");
    let followers = mannheim.state.store.follows();
    let org = mannheim
        .state
        .store
        .organizations()
        .by_handle("mannheim")
        .await
        .unwrap();
    assert_eq!(followers.count_followers(org.id).await.unwrap(), 1);

    // The remote organization's page offers unfollowing and links home;
    // the local profile shows the address to follow it by.
    let profile = b
        .get(ulm.at(&format!("/orgs/{target}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(profile.contains("Nicht mehr folgen"), "{profile}");
    assert!(
        profile.contains(&mannheim.at("/orgs/mannheim")),
        "{profile}"
    );
    assert_heading_order("/orgs/mannheim@…", &profile);
    let home = allmende_tests::get_text(&mannheim.at("/orgs/mannheim")).await;
    assert!(home.contains(&format!("@{target}")), "{home}");

    let unfollowed = b
        .post(ulm.at("/network/unfollow"))
        .form(&[("csrf", csrf.as_str()), ("handle", target.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(unfollowed.status(), 303);
    settle(&[&ulm, &mannheim]).await;
    assert_eq!(followers.count_followers(org.id).await.unwrap(), 0);
}

#[tokio::test]
async fn the_network_page_needs_a_login() {
    let node = spawn_app().await;
    let response = browser().get(node.at("/network")).send().await.unwrap();
    assert_eq!(response.status(), 303);
}

/// The demo's nodes share a host (localhost) and differ in their ports;
/// browsers keep cookies per host. One browser stays logged in on both,
/// as two different people, and the forms of each keep working.
#[tokio::test]
async fn one_browser_is_logged_in_on_two_nodes_of_one_host() {
    let ulm = spawn_app().await;
    let mannheim = spawn_app().await;
    ulm.org_with_user("ulm", "Stadt Ulm", "digital@ulm.example", "admin")
        .await;
    mannheim
        .org_with_user("mannheim", "Stadt Mannheim", "it@mannheim.example", "admin")
        .await;
    let b = browser();
    let ulm_csrf = login(&ulm, &b, "digital@ulm.example").await;
    login(&mannheim, &b, "it@mannheim.example").await;

    let account = |node: &allmende_tests::TestNode| {
        let b = b.clone();
        let url = node.at("/account");
        async move { b.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let on_ulm = account(&ulm).await;
    assert!(
        on_ulm.contains("digital@ulm.example"),
        "still Ulm on Ulm's node"
    );
    let on_mannheim = account(&mannheim).await;
    assert!(on_mannheim.contains("it@mannheim.example"));
    assert!(!on_mannheim.contains("digital@ulm.example"));

    // Ulm's form token is still Ulm's: a post with it works.
    let created = b
        .post(ulm.at("/account/tokens"))
        .form(&[("csrf", ulm_csrf.as_str()), ("label", "Zweiter Tab")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        200,
        "a form of the first node after using the second"
    );
}
