//! Backup and restore of a SQLite node: a copy made while it runs holds
//! everything, the keys included; restoring checks the file and replaces
//! the database only when told to.

use allmende_server::config::Config;
use allmende_tests::api::{api_get, create_project, fetch_ap};
use allmende_tests::{spawn_app, spawn_app_with_db, test_config};
use secrecy::SecretString;

async fn actor_key(url: String) -> String {
    let (status, actor) = fetch_ap(&url).await;
    assert_eq!(status, 200);
    actor["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_backup_holds_everything_and_restores() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    create_project(&node, &token, "Bewohnerparken online").await;
    let key = actor_key(node.at("/orgs/ulm")).await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.sqlite");

    if node.state.store.engine() == allmende_store::Engine::Postgres {
        // PostgreSQL is backed up with pg_dump; the command says so.
        let refused = node.state.store.backup_into(&backup).await.unwrap_err();
        assert!(refused.to_string().contains("pg_dump"), "{refused}");
        return;
    }
    node.state.store.backup_into(&backup).await.unwrap();
    // A second backup to the same file is refused by the command.
    let config = Config {
        database_url: SecretString::from(node.database_url.clone()),
        ..test_config()
    };
    assert!(allmende_server::cli::backup(&config, &backup)
        .await
        .is_err());

    // Restore into a new database file, then serve from it.
    let restored = dir.path().join("restored.sqlite");
    let target = Config {
        database_url: SecretString::from(format!("sqlite://{}", restored.display())),
        ..test_config()
    };
    allmende_server::cli::restore(&target, &backup, false)
        .await
        .unwrap();
    let again = allmende_server::cli::restore(&target, &backup, false)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("--force"), "{again}");
    allmende_server::cli::restore(&target, &backup, true)
        .await
        .unwrap();

    let copy = spawn_app_with_db(&format!("sqlite://{}", restored.display()), test_config()).await;
    let projects = api_get(&copy, &token, "/api/v1/projects").await;
    assert_eq!(
        projects["items"][0]["title"], "Bewohnerparken online",
        "{projects}"
    );
    assert_eq!(
        actor_key(copy.at("/orgs/ulm")).await,
        key,
        "the keys came along"
    );

    // Anything but an intact Allmende database is refused, and nothing
    // is replaced.
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let refused = allmende_server::cli::restore(&target, &junk, true)
        .await
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains("not an intact Allmende backup"),
        "{refused:#}"
    );
    let still = spawn_app_with_db(&format!("sqlite://{}", restored.display()), test_config()).await;
    assert_eq!(
        api_get(&still, &token, "/api/v1/projects").await["items"][0]["title"],
        "Bewohnerparken online"
    );
}
