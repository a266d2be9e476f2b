//! Store tests against a real database: a SQLite file in a temporary
//! directory, or with `ALLMENDE_TEST_DATABASE=postgres` a fresh PostgreSQL
//! database per test.
#![allow(clippy::unwrap_used)]

use allmende_domain::*;
use allmende_store::testing::TestDatabase;
use allmende_store::{ListFilter, Store, StoreError};
use chrono::Utc;

async fn store() -> (Store, TestDatabase) {
    let db = TestDatabase::new().await;
    (Store::open(db.url()).await.unwrap(), db)
}

fn ulm() -> OrganizationDraft {
    OrganizationInput {
        name: Some("Stadt Ulm".into()),
        kind: Some("municipality".into()),
        ags: Some("08421000".into()),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

async fn insert_ulm(store: &Store) -> Organization {
    store
        .organizations()
        .insert(&Handle::parse("ulm").unwrap(), &ulm(), Utc::now())
        .await
        .unwrap()
}

#[tokio::test]
async fn organizations_have_unique_handles() {
    let (store, _dir) = store().await;
    let handle = Handle::parse("ulm").unwrap();
    let org = store
        .organizations()
        .insert(&handle, &ulm(), Utc::now())
        .await
        .unwrap();
    assert_eq!(store.organizations().by_handle("ulm").await.unwrap(), org);
    let again = store
        .organizations()
        .insert(&handle, &ulm(), Utc::now())
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn projects_round_trip_and_are_searchable() {
    let (store, _dir) = store().await;
    let org = insert_ulm(&store).await;
    let draft = ProjectInput {
        title: Some("Hundesteuer digital".into()),
        body: Some("Anmeldung über die Straße".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let p = store
        .projects()
        .insert(org.id, &draft, Utc::now())
        .await
        .unwrap();
    assert_eq!(store.projects().get(p.id).await.unwrap().content, draft);

    let hits = store
        .search()
        .find(Viewer::Public, "hunde strasse", 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, p.id.0);
    assert!(store
        .search()
        .find(Viewer::Public, "katzensteuer", 10)
        .await
        .unwrap()
        .is_empty());

    let mut changed = draft.clone();
    changed.title = "Katzensteuer digital".into();
    store
        .projects()
        .update(p.id, &changed, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        store
            .search()
            .find(Viewer::Public, "katzen", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .search()
        .find(Viewer::Public, "hundesteuer", 10)
        .await
        .unwrap()
        .is_empty());

    let listed = store
        .projects()
        .list(&ListFilter {
            organization_id: Some(org.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);

    store.projects().delete(p.id).await.unwrap();
    assert!(matches!(
        store.projects().get(p.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .search()
        .find(Viewer::Public, "katzen", 10)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.projects().delete(p.id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn answers_and_acceptance() {
    let (store, _dir) = store().await;
    let org = insert_ulm(&store).await;
    let q = QuestionInput {
        title: Some("Wer?".into()),
        body: Some("Frage".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let q = store
        .questions()
        .insert(org.id, &q, Utc::now())
        .await
        .unwrap();
    let a = store
        .answers()
        .insert(
            q.id,
            org.id,
            &AnswerDraft { body: "Wir".into() },
            Utc::now(),
        )
        .await
        .unwrap();
    store.answers().accept(&a, Utc::now()).await.unwrap();
    assert_eq!(
        store
            .questions()
            .get(q.id)
            .await
            .unwrap()
            .accepted_answer_id,
        Some(a.id)
    );
    assert_eq!(store.answers().for_question(q.id).await.unwrap(), vec![a]);
    // An answer to a question that does not exist is NotFound, not a crash.
    let missing = store
        .answers()
        .insert(
            QuestionId::new(),
            org.id,
            &AnswerDraft { body: "x".into() },
            Utc::now(),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    // Deleting the question deletes its answers.
    store.questions().delete(q.id).await.unwrap();
    assert!(store.answers().for_question(q.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn sessions_expire_and_tokens_resolve() {
    let (store, _dir) = store().await;
    let org = insert_ulm(&store).await;
    let email = Email::parse("digital@ulm.de").unwrap();
    let user = store
        .accounts()
        .create_user(&email, "hash", org.id, Role::Admin, Utc::now())
        .await
        .unwrap();
    let now = Utc::now();
    store
        .accounts()
        .create_session("s1", user.id, now, now + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store.accounts().session_user("s1", now).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        store
            .accounts()
            .session_user("s1", now + chrono::Duration::hours(2))
            .await
            .unwrap(),
        None
    );
    let token = store
        .accounts()
        .create_token(user.id, "t1", "ci", now)
        .await
        .unwrap();
    assert_eq!(
        store.accounts().token_user("t1", now).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.accounts().token_user("t2", now).await.unwrap(), None);
    store
        .accounts()
        .delete_token(user.id, token.id)
        .await
        .unwrap();
    assert_eq!(store.accounts().token_user("t1", now).await.unwrap(), None);
    assert!(matches!(
        store
            .accounts()
            .create_user(&email, "h", org.id, Role::Editor, now)
            .await,
        Err(StoreError::Conflict(_))
    ));
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/dir/test.sqlite", dir.path().display());
    {
        let store = Store::open(&url).await.unwrap();
        store
            .organizations()
            .insert(&Handle::parse("ulm").unwrap(), &ulm(), Utc::now())
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.organizations().list().await.unwrap().len(), 1);
}

/// Search entries are found by their own key (on SQLite: `search_keys`,
/// not a scan of the full-text index) and go with their items: deleted
/// with an item, and with every item of a remote actor deleted at home.
#[tokio::test]
async fn search_entries_go_with_their_items() {
    let (store, _dir) = store().await;
    let org = insert_ulm(&store).await;
    let draft = |title: &str| {
        ProjectInput {
            title: Some(title.into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let kept = store
        .projects()
        .insert(org.id, &draft("Hundesteuer digital"), Utc::now())
        .await
        .unwrap();
    let deleted = store
        .projects()
        .insert(org.id, &draft("Hundewiese online"), Utc::now())
        .await
        .unwrap();
    let actor = allmende_store::RemoteActor {
        actor_id: "https://konstanz.example/orgs/konstanz".into(),
        actor_type: "Organization".into(),
        inbox: "https://konstanz.example/inbox".into(),
        public_key_id: "https://konstanz.example/orgs/konstanz#main-key".into(),
        public_key_pem: "unused".into(),
        ..Default::default()
    };
    let remote = store
        .remote_actors()
        .upsert(
            &Handle::remote("konstanz", "konstanz.example").unwrap(),
            &OrganizationDraft::named("Stadt Konstanz", OrganizationKind::Municipality),
            &actor,
            Utc::now(),
        )
        .await
        .unwrap();
    let now = Utc::now();
    store
        .projects()
        .insert_remote(
            remote.id,
            &draft("Hundekot digital melden"),
            "https://konstanz.example/projects/1",
            now,
            now,
        )
        .await
        .unwrap();
    let found = |q: &'static str| {
        let store = store.clone();
        async move {
            let mut ids: Vec<uuid::Uuid> = store
                .search()
                .find(Viewer::Public, q, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(found("hunde").await.len(), 3);

    store.projects().delete(deleted.id).await.unwrap();
    assert!(found("hundewiese").await.is_empty());
    assert!(store
        .remote_actors()
        .delete("https://konstanz.example/orgs/konstanz")
        .await
        .unwrap());
    assert_eq!(found("hunde").await, vec![kept.id.0]);
}
