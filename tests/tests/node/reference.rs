//! Reference data: the shipped directory loaded at start-up, imports of
//! official publications (whole or not at all), and what pages make of
//! it: service names, the catalogue page, population for the size facet.

use std::path::PathBuf;

use allmende_server::usecases::reference::{import_file, ImportError};
use allmende_tests::api::create;
use allmende_tests::{client, spawn_app, spawn_app_with, test_config, TestNode};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/reference")
        .join(name)
}

async fn import(
    node: &TestNode,
    name: &str,
) -> Result<allmende_server::usecases::reference::Imported, ImportError> {
    import_file(&node.state.store, &fixture(name), None).await
}

#[tokio::test]
async fn the_shipped_directory_is_loaded_once_at_start() {
    let node = spawn_app_with(allmende_server::config::Config {
        reference_data: true,
        ..test_config()
    })
    .await;
    let reference = node.state.store.reference();
    let places = reference.count_places().await.unwrap();
    assert!(places > 13_000, "{places} districts and municipalities");
    let ulm = reference
        .place("08421000")
        .await
        .unwrap()
        .expect("Ulm is listed");
    assert_eq!(ulm.land, "bw");
    let district = reference
        .place("08425")
        .await
        .unwrap()
        .expect("Alb-Donau-Kreis");
    assert!(district.population.unwrap_or(0) > 100_000);
    // Loading again finds the directory filled and adds nothing.
    assert_eq!(
        allmende_server::usecases::reference::load_shipped(&node.state.store)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn gv100ad_imports_municipalities_and_feeds_the_size_facet() {
    let node = spawn_app().await;
    let token = node.org_with_token("blaustein").await;
    // The organization's profile has an AGS but no population.
    let profile: Value = client()
        .put(node.at("/api/v1/organizations/blaustein"))
        .bearer_auth(&token)
        .json(&json!({"name": "Stadt Blaustein", "kind": "municipality", "ags": "08425020"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["ags"], "08425020");
    create(
        &node,
        &token,
        "projects",
        json!({"title": "Hundesteuer digital"}),
    )
    .await;

    let imported = import(&node, "GV100AD_sample.txt").await.unwrap();
    assert_eq!(imported.places, 6, "Land, 2 districts, 3 municipalities");
    let reference = node.state.store.reference();
    let opfingen = reference.place("08425141").await.unwrap().unwrap();
    assert_eq!(opfingen.name, "Öpfingen", "ISO-8859-1 is read");
    assert_eq!(opfingen.population, Some(2_401));
    let district = reference.place("08425").await.unwrap().unwrap();
    assert_eq!(district.population, Some(16_012 + 2_401));

    let found: Value = client()
        .get(node.at("/api/v1/search?q=Hundesteuer&size=5000-20000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["total"], 1,
        "the directory's population counts: {found}"
    );
}

#[tokio::test]
async fn a_broken_file_names_its_lines_and_imports_nothing() {
    let node = spawn_app().await;
    import(&node, "leika-export.csv").await.unwrap();
    let reference = node.state.store.reference();
    assert_eq!(reference.count_services().await.unwrap(), 3);

    match import(&node, "leika-broken.csv").await {
        Err(ImportError::Invalid { errors, .. }) => {
            let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [3, 4], "{errors:?}");
        }
        other => panic!("expected line errors, got {other:?}"),
    }
    assert_eq!(
        reference.count_services().await.unwrap(),
        3,
        "nothing half-imported"
    );

    let places_before = reference.count_places().await.unwrap();
    match import(&node, "GV100AD_broken.txt").await {
        Err(ImportError::Invalid { errors, .. }) => {
            let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [7, 9], "{errors:?}");
        }
        other => panic!("expected line errors, got {other:?}"),
    }
    assert_eq!(reference.count_places().await.unwrap(), places_before);
    assert!(matches!(
        import_file(&node.state.store, &fixture("README.md"), None).await,
        Err(ImportError::UnknownFormat(_))
    ));
    assert!(matches!(
        import_file(&node.state.store, &fixture("missing.csv"), None).await,
        Err(ImportError::Read { .. })
    ));
}

#[tokio::test]
async fn service_names_show_on_pages_and_the_catalogue_finds_services() {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    create(
        &node,
        &token,
        "projects",
        json!({"title": "Hundesteuer digital", "leika_keys": ["99041006017000"]}),
    )
    .await;
    import(&node, "leika-export.csv").await.unwrap();
    let imported = import(&node, "ozg-export.csv").await.unwrap();
    assert_eq!(imported.services, 2);

    let page = |path: &'static str| {
        let node = &node;
        async move {
            let res = client().get(node.at(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            res.text().await.unwrap()
        }
    };
    let service = page("/services/leika:99041006017000").await;
    assert!(
        service.contains("<h1>Hundesteuer Anmeldung (LeiKa 99041006017000)</h1>"),
        "{service}"
    );
    let catalogue = page("/services").await;
    assert!(
        catalogue.contains("Hundesteuer Anmeldung"),
        "services in use are listed"
    );
    assert!(
        !catalogue.contains("Hundesteuer Abmeldung"),
        "not those without entries"
    );
    let found = page("/services?q=hundesteuer").await;
    assert!(
        found.contains("Hundesteuer Abmeldung"),
        "the catalogue is searched by name"
    );
    assert!(found.contains("href=\"/services/ozg:10224\""));
    let search = page("/search?q=Hundesteuer").await;
    assert!(
        search.contains("Hundesteuer Anmeldung"),
        "the facet names the service"
    );
}
