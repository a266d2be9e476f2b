use thiserror::Error;

/// What can go wrong in the store. `NotFound` and `Conflict` are expected
/// outcomes the caller maps to 404/409; the rest are operational failures.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("cannot create the database directory: {0}")]
    CreateDirectory(std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database could not take the work in time (SQLite's write lock
    /// held past the busy timeout, no free PostgreSQL connection): the
    /// caller should answer "try again shortly" (503), not fail.
    #[error("database busy: {0}")]
    Busy(sqlx::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Asked of an engine that does it differently (a backup of
    /// PostgreSQL is `pg_dump`'s job).
    #[error("{0}")]
    NotOnThisEngine(&'static str),
    /// A copy into another database would mix with what is there.
    #[error("the target database already holds data; copy only into a new, empty database")]
    TargetNotEmpty,
    /// A copy from a database without any organization: most likely the
    /// wrong file.
    #[error("the source database holds no organizations: is database_url the node's database?")]
    NothingToCopy,
    /// A copy did not arrive whole (and was rolled back).
    #[error("copy incomplete, nothing was kept: {0}")]
    CopyIncomplete(String),
    /// An organization archive that cannot be imported here, and why
    /// (nothing was written).
    #[error("{0}")]
    Refused(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) {
            StoreError::Busy(e)
        } else {
            StoreError::Database(e)
        }
    }
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes, and
/// a pool that had no connection to give within its timeout.
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    }
}

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict(what)`.
    pub(crate) fn unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::from(e),
        }
    }
}

/// `NotFound` as `None`: for lookups where a missing row is an answer, not
/// an error (`store.answers().get(id).await.found()?`).
pub trait Found<T> {
    fn found(self) -> Result<Option<T>, StoreError>;
}

impl<T> Found<T> for Result<T, StoreError> {
    fn found(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
