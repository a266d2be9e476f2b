//! Allmende's persistence. One [`Store`] wraps the database pool and hands out
//! one small API per domain area: [`Store::organizations`],
//! [`Store::accounts`], [`Store::items`] (projects, questions, solutions),
//! [`Store::answers`], [`Store::search`], the federation tables and the
//! queues. Who may read an item is decided in `visibility.rs`.
//!
//! All SQL lives in this crate. The same statements run on SQLite and on
//! PostgreSQL (see [`db`]); each engine has its own migrations, embedded in
//! the binary and run at start-up.

pub mod accounts;
pub mod activities;
pub mod actors;
pub mod adoptions;
pub mod answers;
pub mod audit;
pub mod backfills;
pub mod branding;
pub mod copy;
mod db;
mod error;
pub mod follows;
pub mod groups;
pub mod identities;
pub mod items;
pub mod keys;
pub mod mail;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod people;
pub mod policy;
pub mod posts;
pub mod queue;
pub mod reference;
pub mod relocation;
pub mod search;
#[cfg(feature = "testing")]
pub mod testing;
mod visibility;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::db::{query, Pool, Row};
pub use db::Engine;

/// The schema's state against this version's migrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrationState {
    pub applied: usize,
    pub pending: usize,
    /// Applied migrations this version does not know (a newer version
    /// wrote the database).
    pub unknown: usize,
}

/// One connection pool's use (see [`Store::pool_usage`]).
#[derive(Clone, Copy, Debug)]
pub struct PoolUsage {
    /// `writer` and `readers` on SQLite, `postgres` on PostgreSQL.
    pub name: &'static str,
    /// Connections open now.
    pub size: u32,
    /// Of those, waiting for work.
    pub idle: u32,
    /// The most it may open.
    pub max: u32,
}

pub use accounts::{Accounts, ApiTokenInfo, User, UserId};
pub use activities::{Activities, StoredActivity};
pub use actors::{RemoteActor, RemoteActors};
pub use adoptions::{Adoptions, Stored};
pub use answers::{Answers, RemoteAnswer};
pub use backfills::{Backfill, Backfills};
pub use error::{Found, StoreError};
pub use follows::{Follow, Follows};
pub use groups::{Carried, GroupItem, Groups, ModerationEntry};
pub use identities::{Identities, IdentityCheck};
pub use items::{ItemStore, ListFilter};
pub use keys::{Keys, StoredKey};
pub use organizations::Organizations;
pub use outbox::{Announcement, Delivery, NewActivity, Outbox, OutboxEvent};
pub use policy::{AuditEntry, DomainEntry, Policy, PolicyKind};
pub use posts::{Post, Posts};
pub use queue::{JobKind, PeerStatus, Queue, QueueStatus, Scope, StuckWork, Touched};
pub use reference::{Place, Reference};
pub use relocation::{OrganizationArchive, Relocations};
pub use search::{DocKind, Facet, Search, SearchHit, SearchPage, SearchQuery, SizeClass};

/// Embedded migrations, one set per engine.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Handle to the node's database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens the database at `url`: `sqlite://data/allmende.sqlite` (created
    /// if missing), `sqlite::memory:`, or `postgres://user@host/database`
    /// (the database must exist). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self::connect_postgres(url).await;
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(redacted_url(url)));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Database)?
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets readers proceed while one writer commits.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() && !url.contains(":memory:") {
                std::fs::create_dir_all(parent).map_err(StoreError::CreateDirectory)?;
            }
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // One writer (see `db::SqlitePools`); a long wait for it is a busy
        // store (503), not an error.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let readers = if in_memory {
            // An in-memory database lives in one connection only.
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Self {
            pool: Pool::Sqlite(db::SqlitePools { writer, readers }),
        })
    }

    async fn connect_postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(StoreError::Database)?
            .application_name("allmende");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool: Pool::Postgres(pool),
        })
    }

    /// Which engine this store runs on.
    pub fn engine(&self) -> Engine {
        self.pool.engine()
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// A consistent copy of a SQLite database into a new file at `path`,
    /// made while the node runs (`VACUUM INTO`): every table, the
    /// organizations' private keys included. PostgreSQL is backed up with
    /// `pg_dump`.
    pub async fn backup_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query("VACUUM INTO ?")
                    .bind(path.to_string_lossy().into_owned())
                    .execute(&p.writer)
                    .await?;
                Ok(())
            }
            Pool::Postgres(_) => Err(StoreError::NotOnThisEngine(
                "a PostgreSQL database is backed up with pg_dump: pg_dump -Fc -f allmende.dump DATABASE_URL (see docs/operations.md)",
            )),
        }
    }

    /// Whether a SQLite file is an intact Allmende database: SQLite's
    /// integrity check passes and it has Allmende's migrations.
    pub async fn check_backup(&self) -> Result<(), StoreError> {
        let Pool::Sqlite(p) = &self.pool else {
            return Err(StoreError::NotOnThisEngine("backups are SQLite files"));
        };
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&p.readers)
            .await?;
        if verdict != "ok" {
            return Err(StoreError::Corrupt(format!("integrity check: {verdict}")));
        }
        let migrations: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'organizations', 'signing_keys')",
        )
        .fetch_one(&p.readers)
        .await?;
        if migrations < 3 {
            return Err(StoreError::Corrupt("no Allmende tables in it".into()));
        }
        Ok(())
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(&p.writer).await?,
            // Several processes may start at once; the migrator takes an
            // advisory lock on PostgreSQL, so only one applies migrations.
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        queue::fill_missing_peers(&self.pool).await?;
        self.search().rebuild_if_stale().await?;
        Ok(())
    }

    /// The database server's clock, to compare with this machine's
    /// (`allmende doctor`); `None` on SQLite, which runs on this machine.
    pub async fn database_clock(
        &self,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        match self.engine() {
            Engine::Sqlite => Ok(None),
            Engine::Postgres => Ok(Some(
                query("SELECT now() AS now")
                    .fetch_one(&self.pool)
                    .await?
                    .col("now")?,
            )),
        }
    }

    /// How many of this version's migrations the database has, and how
    /// many it lacks (`allmende migrate` applies them). A database with
    /// migrations this version does not know was written by a newer
    /// version: an error, since migrations only go forward.
    pub async fn migration_state(&self) -> Result<MigrationState, StoreError> {
        let migrator = match self.engine() {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        let table = match self.engine() {
            Engine::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Engine::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let has_table: i64 = query(table).fetch_one(&self.pool).await?.col("n")?;
        let applied: Vec<i64> = if has_table == 0 {
            Vec::new()
        } else {
            query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.col("version"))
                .collect::<Result<_, _>>()?
        };
        let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
        Ok(MigrationState {
            applied: applied.iter().filter(|v| known.contains(v)).count(),
            pending: known.iter().filter(|v| !applied.contains(v)).count(),
            unknown: applied.iter().filter(|v| !known.contains(v)).count(),
        })
    }

    /// Closes the pool, waiting for open connections, so WAL data is
    /// checkpointed before the process exits.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => {
                p.readers.close().await;
                p.writer.close().await;
            }
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// How many connections each pool holds and how many of them are idle,
    /// for the metrics: a pool always busy is the first sign that a node
    /// needs more connections or another process.
    pub fn pool_usage(&self) -> Vec<PoolUsage> {
        fn usage<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> PoolUsage {
            PoolUsage {
                name,
                size: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            }
        }
        match &self.pool {
            Pool::Sqlite(p) => vec![usage("writer", &p.writer), usage("readers", &p.readers)],
            Pool::Postgres(p) => vec![usage("postgres", p)],
        }
    }

    /// Whether the database answers; used by `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn reference(&self) -> Reference<'_> {
        Reference::new(&self.pool)
    }

    pub fn organizations(&self) -> Organizations<'_> {
        Organizations::new(&self.pool)
    }

    pub fn relocations(&self) -> Relocations<'_> {
        Relocations::new(&self.pool)
    }

    pub fn accounts(&self) -> Accounts<'_> {
        Accounts::new(&self.pool)
    }

    pub fn branding(&self) -> branding::Brandings<'_> {
        branding::Brandings::new(&self.pool)
    }

    pub fn people(&self) -> people::People<'_> {
        people::People::new(&self.pool)
    }

    pub fn audit(&self) -> audit::Audit<'_> {
        audit::Audit::new(&self.pool)
    }

    pub fn mail(&self) -> mail::MailQueue<'_> {
        mail::MailQueue::new(&self.pool)
    }

    pub fn notifications(&self) -> notifications::Notifications<'_> {
        notifications::Notifications::new(&self.pool)
    }

    /// The store of one item type.
    pub fn items<T: allmende_domain::Item>(&self) -> ItemStore<'_, T> {
        ItemStore::new(&self.pool)
    }

    pub fn projects(&self) -> ItemStore<'_, allmende_domain::Project> {
        self.items()
    }

    pub fn questions(&self) -> ItemStore<'_, allmende_domain::Question> {
        self.items()
    }

    pub fn answers(&self) -> Answers<'_> {
        Answers::new(&self.pool)
    }

    pub fn solutions(&self) -> ItemStore<'_, allmende_domain::Solution> {
        self.items()
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys::new(&self.pool)
    }

    pub fn remote_actors(&self) -> RemoteActors<'_> {
        RemoteActors::new(&self.pool)
    }

    /// What groups carry, announce, block and log.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(&self.pool)
    }

    pub fn follows(&self) -> Follows<'_> {
        Follows::new(&self.pool)
    }

    pub fn identities(&self) -> Identities<'_> {
        Identities::new(&self.pool)
    }

    pub fn policy(&self) -> Policy<'_> {
        Policy::new(&self.pool)
    }

    pub fn activities(&self) -> Activities<'_> {
        Activities::new(&self.pool)
    }

    pub fn adoptions(&self) -> Adoptions<'_> {
        Adoptions::new(&self.pool)
    }

    pub fn posts(&self) -> Posts<'_> {
        Posts::new(&self.pool)
    }

    pub fn backfills(&self) -> Backfills<'_> {
        Backfills::new(&self.pool)
    }

    pub fn outbox(&self) -> Outbox<'_> {
        Outbox::new(&self.pool)
    }

    /// The background work as operators see it.
    pub fn queue(&self) -> Queue<'_> {
        Queue::new(&self.pool)
    }

    pub fn search(&self) -> Search<'_> {
        Search::new(&self.pool)
    }
}

/// The file a `sqlite:` URL names, if it names one (not an in-memory
/// database). Relative paths are relative to the working directory.
pub fn sqlite_path(url: &str) -> Option<&std::path::Path> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::Path::new(path))
}

/// `url` with its passwords (in the user part, or a `password=`-like
/// query parameter) replaced by `***`, for messages and logs. Not a URL
/// (so nothing to find a password in): shown as `(unparsable database URL)`.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let secret = k.to_ascii_lowercase().contains("password");
                    (
                        k.into_owned(),
                        if secret { "***".into() } else { v.into_owned() },
                    )
                })
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) if url.starts_with("sqlite:") => url.to_owned(),
        Err(_) => "(unparsable database URL)".to_owned(),
    }
}

/// Parses a UUID column; a malformed one means the database was edited by hand.
pub(crate) fn uuid_column(row: &Row, column: &str) -> Result<uuid::Uuid, StoreError> {
    let raw: String = row.col(column)?;
    uuid::Uuid::parse_str(&raw)
        .map_err(|_| StoreError::Corrupt(format!("{column} is not a UUID: {raw}")))
}

pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    row: &Row,
    column: &str,
) -> Result<T, StoreError> {
    let raw: String = row.col(column)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain types serialise to JSON")
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_are_shown_without_passwords() {
        assert_eq!(
            super::redacted_url("postgres://allmende:geheim@db/allmende?sslmode=require"),
            "postgres://allmende:***@db/allmende?sslmode=require"
        );
        assert_eq!(
            super::redacted_url("postgres://allmende@db/allmende?password=geheim"),
            "postgres://allmende@db/allmende?password=***"
        );
        assert_eq!(
            super::redacted_url("sqlite://data/allmende.sqlite"),
            "sqlite://data/allmende.sqlite"
        );
        assert_eq!(
            super::redacted_url("nonsense geheim"),
            "(unparsable database URL)"
        );
    }
}
