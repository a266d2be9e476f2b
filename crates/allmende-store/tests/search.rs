//! Search on a small German corpus. The same expectations run on SQLite
//! and, with `ALLMENDE_TEST_DATABASE=postgres`, on PostgreSQL (`.ci/run`
//! does both), so both engines must find the same things.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use allmende_domain::*;
use allmende_store::testing::TestDatabase;
use allmende_store::{DocKind, Facet, SearchQuery, Store};
use chrono::{Duration, Utc};
use uuid::Uuid;

struct Corpus {
    store: Store,
    _db: TestDatabase,
    ulm: Organization,
    blaustein: Organization,
    mannheim: Organization,
    bewohnerparken: Uuid,
    hundesteuer: Uuid,
    hundesteuer_solution: Uuid,
    internal_question: Uuid,
    answered_question: Uuid,
}

async fn org(store: &Store, handle: &str, input: OrganizationInput) -> Organization {
    store
        .organizations()
        .insert(
            &Handle::parse(handle).unwrap(),
            &input.validate().unwrap(),
            Utc::now(),
        )
        .await
        .unwrap()
}

fn municipality(name: &str, ags: &str, population: u32) -> OrganizationInput {
    OrganizationInput {
        name: Some(name.into()),
        kind: Some("municipality".into()),
        ags: Some(ags.into()),
        population: Some(population),
        description: Some(format!("{name} im Netzwerk")),
        ..Default::default()
    }
}

async fn project(store: &Store, org: &Organization, input: ProjectInput, age_days: i64) -> Uuid {
    let at = Utc::now() - Duration::days(age_days);
    let draft = input.validate().unwrap();
    store
        .projects()
        .insert(org.id, &draft, at)
        .await
        .unwrap()
        .id
        .0
}

async fn corpus() -> Corpus {
    let db = TestDatabase::new().await;
    let store = Store::open(db.url()).await.unwrap();
    let ulm = org(
        &store,
        "ulm",
        municipality("Stadt Ulm", "08421000", 126_000),
    )
    .await;
    let blaustein = org(
        &store,
        "blaustein",
        municipality("Stadt Blaustein", "08425020", 16_000),
    )
    .await;
    let mannheim = org(
        &store,
        "mannheim",
        municipality("Stadt Mannheim", "08222000", 315_000),
    )
    .await;
    let leipheim_input = OrganizationInput {
        bundesland: Some("by".into()),
        ..municipality("Markt Kleinort", "09774999", 3_200)
    };
    let kleinort = org(&store, "kleinort", leipheim_input).await;

    let bewohnerparken = project(
        &store,
        &ulm,
        ProjectInput {
            title: Some("Bewohnerparkausweis online".into()),
            summary: Some(
                "Anwohnerinnen beantragen den Parkausweis für ihre Straße digital.".into(),
            ),
            status: Some("live".into()),
            leika_keys: vec!["99108012017000".into()],
            themenfeld: Some("mobilitaet-reisen".into()),
            ..Default::default()
        },
        30,
    )
    .await;
    let hundesteuer = project(
        &store,
        &blaustein,
        ProjectInput {
            title: Some("Hundesteuer digital anmelden".into()),
            summary: Some("Hunde werden online an- und abgemeldet.".into()),
            status: Some("running".into()),
            leika_keys: vec!["99041006017000".into()],
            seeking_partners: Some(true),
            themenfeld: Some("steuern-zoll".into()),
            ..Default::default()
        },
        10,
    )
    .await;
    project(
        &store,
        &kleinort,
        ProjectInput {
            title: Some("Hundesteuer in München nachgemacht".into()),
            body: Some("Wir übernehmen das Verfahren der Landeshauptstadt.".into()),
            status: Some("idea".into()),
            leika_keys: vec!["99041006017000".into()],
            ..Default::default()
        },
        5,
    )
    .await;
    project(
        &store,
        &mannheim,
        ProjectInput {
            title: Some("Sperrmüll auf Abruf".into()),
            summary: Some("Termine für Sperrmüll online buchen.".into()),
            status: Some("planned".into()),
            ..Default::default()
        },
        1,
    )
    .await;
    let hundesteuer_solution = store
        .solutions()
        .insert(
            ulm.id,
            &SolutionInput {
                title: Some("Formular Hundesteuer".into()),
                kind: Some("form".into()),
                licence: Some("EUPL-1.2".into()),
                maturity: Some("stable".into()),
                leika_keys: vec!["99041006017000".into()],
                ..Default::default()
            }
            .validate()
            .unwrap(),
            Utc::now() - Duration::days(3),
        )
        .await
        .unwrap()
        .id
        .0;
    let internal_question = store
        .questions()
        .insert(
            ulm.id,
            &QuestionInput {
                title: Some("Interne Frage zur Hundesteuer".into()),
                body: Some("Nur für Folgende.".into()),
                audience: Some("followers".into()),
                ..Default::default()
            }
            .validate()
            .unwrap(),
            Utc::now(),
        )
        .await
        .unwrap()
        .id;
    let answered = store
        .questions()
        .insert(
            mannheim.id,
            &QuestionInput {
                title: Some("Wer hat Erfahrung mit Fachverfahren?".into()),
                body: Some("Wir suchen Erfahrungen.".into()),
                ..Default::default()
            }
            .validate()
            .unwrap(),
            Utc::now() - Duration::days(2),
        )
        .await
        .unwrap();
    let answer = store
        .answers()
        .insert(
            answered.id,
            blaustein.id,
            &AnswerDraft {
                body: "Wir nutzen das Kassenverfahren Kommunalkasse seit Jahren.".into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    store.answers().accept(&answer, Utc::now()).await.unwrap();
    Corpus {
        store,
        _db: db,
        ulm,
        blaustein,
        mannheim,
        bewohnerparken,
        hundesteuer,
        hundesteuer_solution,
        internal_question: internal_question.0,
        answered_question: answered.id.0,
    }
}

async fn ids(store: &Store, query: &SearchQuery) -> BTreeSet<Uuid> {
    store
        .search()
        .query(query)
        .await
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

async fn found(c: &Corpus, text: &str) -> BTreeSet<Uuid> {
    ids(&c.store, &SearchQuery::new(Viewer::Public, text)).await
}

#[tokio::test]
async fn stems_prefixes_and_folding_find_german_words() {
    let c = corpus().await;
    // The search box's own examples.
    assert!(found(&c, "Bewohnerparken")
        .await
        .contains(&c.bewohnerparken));
    assert!(found(&c, "Hunde").await.contains(&c.hundesteuer));
    assert!(found(&c, "hundesteuern")
        .await
        .contains(&c.hundesteuer_solution));
    // ß and umlauts, typed either way.
    assert!(found(&c, "Strasse").await.contains(&c.bewohnerparken));
    assert!(found(&c, "straße").await.contains(&c.bewohnerparken));
    assert_eq!(found(&c, "Muenchen").await, found(&c, "MÜNCHEN").await);
    assert_eq!(found(&c, "münchen").await.len(), 1);
    // Every word must occur.
    assert_eq!(found(&c, "Hundesteuer München").await.len(), 1);
    assert!(found(&c, "Hundesteuer Sperrmüll").await.is_empty());
    // A LeiKa key finds its items.
    assert_eq!(found(&c, "99041006017000").await.len(), 3);
    // Nothing and punctuation find nothing, without an error.
    assert!(found(&c, "Katzensteuer").await.is_empty());
    assert!(found(&c, "\" OR * (").await.len() <= 1);
}

#[tokio::test]
async fn organizations_are_found_by_name_and_key() {
    let c = corpus().await;
    assert!(found(&c, "Mannheim").await.contains(&c.mannheim.id.0));
    assert!(found(&c, "08421000").await.contains(&c.ulm.id.0));
    let page = c
        .store
        .search()
        .query(&SearchQuery::new(Viewer::Public, "Blaustein").filter(Facet::Kind, "organization"))
        .await
        .unwrap();
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].kind, DocKind::Organization);
    assert_eq!(page.hits[0].id, c.blaustein.id.0);
}

#[tokio::test]
async fn questions_are_found_by_their_answers_and_only_by_who_may_read_them() {
    let c = corpus().await;
    assert!(found(&c, "Kommunalkasse")
        .await
        .contains(&c.answered_question));
    assert!(!found(&c, "Interne").await.contains(&c.internal_question));
    let own = ids(
        &c.store,
        &SearchQuery::new(Viewer::Member(c.ulm.id), "Interne"),
    )
    .await;
    assert!(own.contains(&c.internal_question));
    // The facet counts do not give it away either.
    let page = c
        .store
        .search()
        .query(&SearchQuery::new(Viewer::Public, "Hundesteuer"))
        .await
        .unwrap();
    let kinds = &page.facets[&Facet::Kind];
    assert!(!kinds.iter().any(|(k, _)| k == "question"), "{kinds:?}");
    // Answered questions carry their status.
    let answered = c
        .store
        .search()
        .query(&SearchQuery::new(Viewer::Public, "").filter(Facet::Status, "answered"))
        .await
        .unwrap();
    assert_eq!(answered.total, 1);
    assert_eq!(answered.hits[0].id, c.answered_question);
}

#[tokio::test]
async fn facets_count_every_hit_and_filters_narrow_them() {
    let c = corpus().await;
    let page = c
        .store
        .search()
        .query(&SearchQuery::new(Viewer::Public, "Hundesteuer"))
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    let facet = |f: Facet| page.facets.get(&f).cloned().unwrap_or_default();
    let count = |f: Facet, v: &str| facet(f).into_iter().find(|(x, _)| x == v).map(|(_, n)| n);
    assert_eq!(count(Facet::Kind, "project"), Some(2));
    assert_eq!(count(Facet::Kind, "solution"), Some(1));
    assert_eq!(count(Facet::Service, "leika:99041006017000"), Some(3));
    assert_eq!(count(Facet::Land, "bw"), Some(2));
    assert_eq!(count(Facet::Land, "by"), Some(1));
    assert_eq!(count(Facet::SizeClass, "under-5000"), Some(1));
    assert_eq!(count(Facet::SizeClass, "5000-20000"), Some(1));
    assert_eq!(count(Facet::SizeClass, "100000-plus"), Some(1));
    assert_eq!(count(Facet::Licence, "EUPL-1.2"), Some(1));
    assert_eq!(count(Facet::SeekingPartners, "yes"), Some(1));
    assert_eq!(count(Facet::Status, "stable"), Some(1));
    assert_eq!(count(Facet::OrgKind, "municipality"), Some(3));

    let narrowed = c
        .store
        .search()
        .query(
            &SearchQuery::new(Viewer::Public, "Hundesteuer")
                .filter(Facet::Land, "bw")
                .filter(Facet::Kind, "project"),
        )
        .await
        .unwrap();
    assert_eq!(narrowed.total, 1);
    assert_eq!(narrowed.hits[0].id, c.hundesteuer);
    let seeking = ids(
        &c.store,
        &SearchQuery::new(Viewer::Public, "").filter(Facet::SeekingPartners, "yes"),
    )
    .await;
    assert_eq!(seeking, BTreeSet::from([c.hundesteuer]));

    // The date range: only what was published in the last week.
    let mut recent = SearchQuery::new(Viewer::Public, "Hundesteuer");
    recent.published_from = Some(Utc::now() - Duration::days(7));
    let recent = ids(&c.store, &recent).await;
    assert_eq!(
        recent.len(),
        2,
        "the solution (3 days) and Kleinort (5 days)"
    );
    assert!(!recent.contains(&c.hundesteuer));
}

#[tokio::test]
async fn pages_split_the_hits_without_overlap() {
    let c = corpus().await;
    let mut all = BTreeSet::new();
    let mut total = None;
    for page_no in 0..5 {
        let mut q = SearchQuery::new(Viewer::Public, "");
        q.limit = 3;
        q.offset = page_no * 3;
        let page = c.store.search().query(&q).await.unwrap();
        total.get_or_insert(page.total);
        assert!(page.hits.len() <= 3);
        for hit in page.hits {
            assert!(all.insert(hit.id), "{hit:?} on two pages");
        }
    }
    // 4 organizations, 4 projects, the solution and the public question.
    assert_eq!(total, Some(10));
    assert_eq!(all.len(), 10);
}

#[tokio::test]
async fn titles_rank_before_text_and_same_service_comes_first_in_similar() {
    let c = corpus().await;
    // "digital" is in one project's title and in another's summary: the
    // title match ranks first on both engines.
    let page = c
        .store
        .search()
        .query(&SearchQuery::new(Viewer::Public, "digital"))
        .await
        .unwrap();
    let ranked: Vec<Uuid> = page.hits.iter().map(|h| h.id).collect();
    assert_eq!(ranked, [c.hundesteuer, c.bewohnerparken]);
    let similar = c
        .store
        .search()
        .similar(
            Viewer::Public,
            &[ServiceKey::parse("leika:99041006017000").unwrap()],
            "Hundesteuer digital anmelden",
            Some(c.hundesteuer),
            5,
        )
        .await
        .unwrap();
    let same_service: Vec<bool> = similar.iter().map(|(_, same)| *same).collect();
    assert_eq!(&same_service[..2], &[true, true], "{similar:?}");
    assert!(
        !similar.iter().any(|(h, _)| h.id == c.hundesteuer),
        "not itself"
    );
    assert!(
        !similar.iter().any(|(h, _)| h.id == c.internal_question),
        "nothing the viewer may not read"
    );
}

#[tokio::test]
async fn profile_changes_reach_the_facets_of_published_items() {
    let c = corpus().await;
    let mut profile = c.blaustein.profile.clone();
    profile.population = Some(25_000);
    c.store
        .organizations()
        .update(c.blaustein.id, &profile, Utc::now())
        .await
        .unwrap();
    let page = c
        .store
        .search()
        .query(&SearchQuery::new(Viewer::Public, "").filter(Facet::SizeClass, "20000-100000"))
        .await
        .unwrap();
    let hits: BTreeSet<Uuid> = page.hits.into_iter().map(|h| h.id).collect();
    assert!(hits.contains(&c.hundesteuer));
    assert!(hits.contains(&c.blaustein.id.0));
}

#[tokio::test]
async fn a_rebuilt_index_finds_the_same() {
    let c = corpus().await;
    let before = found(&c, "Hundesteuer").await;
    let rebuilt = c.store.search().rebuild().await.unwrap();
    assert_eq!(
        rebuilt,
        10 + 1,
        "every organization and item, the internal question too"
    );
    assert_eq!(found(&c, "Hundesteuer").await, before);
    assert_eq!(c.store.search().rebuild_if_stale().await.unwrap(), 0);
}
