//! Upgrades: a database written by the last release (fixtures made by
//! `tests/fixtures/upgrade/make-fixture.sh` with that release's binary) is
//! migrated and served by this version with nothing lost: the same
//! organizations, people, tokens, items, answers, keys and search entries.

use allmende_store::testing::TestDatabase;
use allmende_store::Engine;
use allmende_tests::api::{api_get, fetch_ap};
use allmende_tests::{browser, client, login, spawn_app_with_db, test_config};

/// The release the fixtures come from: the last tag.
const PREVIOUS: &str = "0.1.0";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/upgrade")
        .join(name)
}

#[tokio::test]
async fn the_previous_releases_database_is_migrated_and_served() {
    let database = TestDatabase::new().await;
    let (sqlite, sql, facts) = (
        fixture(&format!("v{PREVIOUS}.sqlite")),
        std::fs::read_to_string(fixture(&format!("v{PREVIOUS}.postgres.sql"))).unwrap(),
        match database.engine() {
            Engine::Sqlite => format!("v{PREVIOUS}.json"),
            Engine::Postgres => format!("v{PREVIOUS}.postgres.json"),
        },
    );
    let facts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(&facts)).unwrap()).unwrap();
    assert_eq!(facts["version"], PREVIOUS);
    database.load_fixture(&sqlite, &sql).await;

    // The old schema lacks this version's migrations; starting applies them.
    let before = allmende_store::Store::connect(database.url())
        .await
        .unwrap();
    let state = before.migration_state().await.unwrap();
    assert_eq!(state.unknown, 0);
    let had = state.applied;
    before.close().await;

    let node = spawn_app_with_db(database.url(), test_config()).await;
    let state = node.state.store.migration_state().await.unwrap();
    assert_eq!(state.pending, 0, "{state:?}");
    assert!(state.applied >= had);

    // The old token works; every item is there.
    let token = facts["token"].as_str().unwrap();
    let projects = api_get(&node, token, "/api/v1/projects").await;
    assert!(
        projects
            .to_string()
            .contains("Bewohnerparken online (aus 0.1.0)"),
        "{projects}"
    );
    let questions = api_get(&node, token, "/api/v1/questions").await;
    let question_id = questions["items"][0]["id"].as_str().unwrap().to_owned();
    let question = api_get(&node, token, &format!("/api/v1/questions/{question_id}")).await;
    assert_eq!(
        question["answers"][0]["body"], "Wir, seit 2024.",
        "{question}"
    );
    let solutions = api_get(&node, token, "/api/v1/solutions").await;
    assert!(
        solutions
            .to_string()
            .contains("Hundesteuer online (aus 0.1.0)"),
        "{solutions}"
    );

    // The organization keeps its key: other nodes know it by it.
    let (status, actor) = fetch_ap(&node.at("/orgs/ulm")).await;
    assert_eq!(status, 200);
    assert_eq!(actor["publicKey"]["publicKeyPem"], facts["public_key_pem"]);

    // The old password still signs in, and the pages render.
    let person = browser();
    login(&node, &person, "digital@ulm.example").await;
    // The admin's own organization pages, too: the role came along.
    for path in ["/", "/orgs/ulm", "/projects", "/orgs/ulm/people"] {
        let status = person.get(node.at(path)).send().await.unwrap().status();
        assert_eq!(status, 200, "{path}");
    }
    // The search index was carried over (or rebuilt).
    let found = client()
        .get(node.at("/search?q=Bewohnerparken"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(found.contains("Bewohnerparken online (aus 0.1.0)"));
    node.stop().await;
}
