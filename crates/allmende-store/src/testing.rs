//! Databases for tests (feature `testing`): a fresh SQLite file, or a fresh
//! PostgreSQL database created for the one test and dropped after it.
//!
//! `ALLMENDE_TEST_DATABASE=postgres` makes [`TestDatabase::new`] use
//! PostgreSQL for every test (`.ci/run` runs the whole suite once per
//! engine); the server is `ALLMENDE_TEST_POSTGRES_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`. Tests written for PostgreSQL
//! alone use [`TestDatabase::postgres`], which gives the reason when no
//! server answers (their harness reports them ignored with it), unless
//! `ALLMENDE_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes that a failure.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::Engine;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for as long as this value.
pub struct TestDatabase {
    url: String,
    engine: Engine,
    dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    /// A fresh database on the engine the test run was asked for.
    pub async fn new() -> Self {
        match std::env::var("ALLMENDE_TEST_DATABASE").as_deref() {
            Ok("postgres") => match Self::create_postgres().await {
                Ok(db) => db,
                Err(e) => panic!(
                    "ALLMENDE_TEST_DATABASE=postgres, but no database could be created at {}: {e}",
                    admin_url()
                ),
            },
            Ok("sqlite") | Err(_) => Self::sqlite(),
            Ok(other) => panic!("ALLMENDE_TEST_DATABASE={other:?}: use sqlite or postgres"),
        }
    }

    /// A fresh SQLite file in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("allmende.sqlite").display());
        Self {
            url,
            engine: Engine::Sqlite,
            dir: Some(dir),
            postgres_name: None,
        }
    }

    /// A fresh PostgreSQL database, or the reason there is none (no
    /// server answers, and PostgreSQL is not required: with
    /// `ALLMENDE_REQUIRE_POSTGRES=1` that panics). `test` names the caller
    /// in the message.
    pub async fn postgres(test: &str) -> Result<Self, String> {
        match Self::create_postgres().await {
            Ok(db) => Ok(db),
            Err(e) if std::env::var("ALLMENDE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                panic!("{test}: PostgreSQL is required (ALLMENDE_REQUIRE_POSTGRES=1) but {} is not usable: {e}", admin_url())
            }
            Err(e) => Err(format!(
                "no PostgreSQL at {} ({e}); set ALLMENDE_TEST_POSTGRES_URL or start PostgreSQL (CI never skips this)",
                admin_url()
            )),
        }
    }

    async fn create_postgres() -> Result<Self, sqlx::Error> {
        let admin = PgConnectOptions::from_str(&admin_url())?;
        let mut conn = admin.connect().await?;
        let name = format!("allmende_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let url = admin.database(&name).to_url_lossy().to_string();
        Ok(Self {
            url,
            engine: Engine::Postgres,
            dir: None,
            postgres_name: Some(name),
        })
    }

    /// The URL to give `Store::open` or `ALLMENDE_DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Fills the (new, empty) database from a fixture: on SQLite the file
    /// `sqlite` is copied into place, on PostgreSQL the `pg_dump` script
    /// `postgres_sql` runs on a connection of its own (dumps set the
    /// session's search path, which must not leak into a pool).
    pub async fn load_fixture(&self, sqlite: &std::path::Path, postgres_sql: &str) {
        match self.engine {
            Engine::Sqlite => {
                let dir = self.dir().expect("a SQLite test database has a directory");
                std::fs::copy(sqlite, dir.join("allmende.sqlite")).expect("copy the fixture");
            }
            Engine::Postgres => {
                let options = PgConnectOptions::from_str(&self.url).expect("test database URL");
                let mut conn = options
                    .connect()
                    .await
                    .expect("connect to the test database");
                sqlx::raw_sql(postgres_sql)
                    .execute(&mut conn)
                    .await
                    .expect("the fixture's SQL runs");
                conn.close().await.expect("close");
            }
        }
    }

    /// The directory holding a SQLite database (for nodes that keep other
    /// files beside it).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

/// A fresh database (on the engine the run asks for) with one
/// organization, a municipality with `handle`.
pub async fn store_with_organization(
    handle: &str,
) -> (crate::Store, TestDatabase, allmende_domain::OrganizationId) {
    use allmende_domain::{Handle, OrganizationDraft, OrganizationKind};
    let db = TestDatabase::new().await;
    let store = crate::Store::open(db.url()).await.expect("store opens");
    let org = store
        .organizations()
        .insert(
            &Handle::parse(handle).expect("valid handle"),
            &OrganizationDraft::named(format!("Stadt {handle}"), OrganizationKind::Municipality),
            chrono::Utc::now(),
        )
        .await
        .expect("organization stored");
    (store, db, org.id)
}

fn admin_url() -> String {
    std::env::var("ALLMENDE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

impl Drop for TestDatabase {
    /// Drops the PostgreSQL database, closing whatever still uses it; runs
    /// on its own thread because `Drop` cannot await.
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let admin =
                    PgConnectOptions::from_str(&admin_url()).map_err(std::io::Error::other)?;
                let mut conn = admin.connect().await.map_err(std::io::Error::other)?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<_, std::io::Error>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database: {e}");
        }
    }
}

/// Tables tests may count rows of (the name goes into SQL: a fixed list).
const COUNTABLE: &[&str] = &[
    "remote_actors",
    "follows",
    "posts",
    "answers",
    "inbox_queue",
    "organizations",
    "login_attempts",
    "policy_audit",
    "adoptions",
    "notification_events",
    "password_resets",
    "mail_queue",
    "signing_keys",
    "users",
    "expected_followers",
];

impl crate::Store {
    /// Rows in `table`, one of [`COUNTABLE`]; for tests that check that a
    /// refused request left nothing behind.
    pub async fn count_rows(&self, table: &str) -> Result<i64, crate::StoreError> {
        assert!(
            COUNTABLE.contains(&table),
            "not countable in tests: {table}"
        );
        crate::db::query(format!("SELECT COUNT(*) FROM {table}"))
            .scalar(&self.pool)
            .await
    }

    /// Rows in every table of the schema, but the search index and the
    /// migrations' bookkeeping (for comparing two databases after a copy).
    pub async fn table_counts(
        &self,
    ) -> Result<std::collections::BTreeMap<String, i64>, crate::StoreError> {
        let list = match self.engine() {
            Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            Engine::Postgres => "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        };
        let mut counts = std::collections::BTreeMap::new();
        for row in crate::db::query(list).fetch_all(&self.pool).await? {
            let name: String = row.col("name")?;
            if name.starts_with("search_") || name == "_sqlx_migrations" {
                continue;
            }
            let count: i64 = crate::db::query(format!("SELECT COUNT(*) AS n FROM \"{name}\""))
                .fetch_one(&self.pool)
                .await?
                .col("n")?;
            counts.insert(name, count);
        }
        Ok(counts)
    }

    /// Records a migration no version of this code has, as if a newer
    /// version had migrated the database.
    pub async fn insert_future_migration_for_tests(&self) -> Result<(), crate::StoreError> {
        crate::db::query(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
             VALUES (99991231000000, 'from the future', CURRENT_TIMESTAMP, TRUE, $1, 0)",
        )
        .bind(vec![0u8; 48])
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Holds SQLite's write lock on the database at `url` (as a long write
/// transaction of another process would) until the value is dropped.
pub struct SqliteWriteLock {
    _connection: sqlx::SqliteConnection,
}

impl SqliteWriteLock {
    pub async fn take(url: &str) -> Self {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).expect("SQLite URL");
        let mut connection = options.connect().await.expect("connection");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut connection)
            .await
            .expect("write lock");
        Self {
            _connection: connection,
        }
    }
}
