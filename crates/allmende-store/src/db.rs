//! The two database engines behind one store: SQLite (one file, the
//! default) and PostgreSQL (several server processes, larger operators).
//!
//! Every statement is written once, in the SQL both engines understand
//! (`$1` placeholders, `TRUE`/`FALSE`, `ON CONFLICT`, `RETURNING`), and run
//! through the small layer here, which binds the same arguments for either
//! engine and reads either engine's rows. sqlx's own `Any` driver would do
//! this too, but without timestamps. Only full-text search and claiming
//! deliveries differ per engine, and say so where they do.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query as SqlxQuery;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::StoreError;

/// The pool of the engine the node was configured with.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// SQLite has one write lock per file. Instead of letting pooled
/// connections race for it in SQLite's busy handler (neither fair nor
/// bounded), every write goes through one writer connection, whose callers
/// wait in the pool's fair queue (and get `PoolTimedOut`, a busy store, if
/// the wait is too long); reads go to a pool of read-only connections,
/// which WAL lets run beside the writer. In-memory databases (one
/// connection) use the same pool for both.
#[derive(Clone, Debug)]
pub(crate) struct SqlitePools {
    pub(crate) writer: SqlitePool,
    pub(crate) readers: SqlitePool,
}

impl SqlitePools {
    /// The pool for `sql`: readers for a plain `SELECT`, the writer for
    /// everything else (a statement that may write, to be safe).
    fn for_statement(&self, sql: &str) -> &SqlitePool {
        let start = sql.trim_start();
        if start.len() >= 6 && start[..6].eq_ignore_ascii_case("select") {
            &self.readers
        } else {
            &self.writer
        }
    }
}

/// Which database engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Pool {
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`, waiting up to the busy timeout): every
    /// transaction here writes, and one that read first would fail with
    /// "database is locked" when another connection wrote in between.
    ///
    /// The BEGIN runs in a task of its own. A caller that is cancelled while
    /// it is under way (an HTTP client hanging up, a timeout) would
    /// otherwise leave the transaction open: sqlx starts a custom BEGIN
    /// before it hands out the `Transaction` that rolls back on drop, and a
    /// connection with an open transaction holds SQLite's write lock, so
    /// every later write would fail with "database is locked". In a task,
    /// the BEGIN completes and its transaction, unclaimed, is dropped and
    /// rolled back.
    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let pool = self.clone();
        let begun = tokio::spawn(async move {
            Ok::<_, sqlx::Error>(match pool {
                Pool::Sqlite(p) => Tx::Sqlite(p.writer.begin_with("BEGIN IMMEDIATE").await?),
                Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
            })
        });
        begun.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }
}

/// An open transaction on either engine; dropped without
/// [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    /// On PostgreSQL, lets this transaction commit without waiting for its
    /// WAL to reach the disk. Only for bookkeeping that a database crash
    /// may roll back harmlessly (claims, finished deliveries, expanded
    /// events: at worst a delivery is repeated, and receivers deduplicate);
    /// never for users' changes. SQLite in WAL mode with `synchronous =
    /// NORMAL` already commits this way.
    pub(crate) async fn relax_durability(&mut self) -> Result<(), sqlx::Error> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// Where a statement runs: the pool, or an open transaction.
pub(crate) enum Conn<'c> {
    Pool(&'c Pool),
    Tx(&'c mut Tx),
}

impl<'c> From<&'c Pool> for Conn<'c> {
    fn from(pool: &'c Pool) -> Self {
        Conn::Pool(pool)
    }
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

/// One bound argument. Identifiers and JSON documents are text in both
/// engines, so every statement binds the same Rust values.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(Option<String>),
    Bool(bool),
    Int(Option<i64>),
    Time(Option<DateTime<Utc>>),
    Bytes(Vec<u8>),
}

macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from($v: $t) -> Self {
                $e
            }
        }
    )*};
}
arg_from!(
    &str => |v| Arg::Text(Some(v.to_owned())),
    String => |v| Arg::Text(Some(v)),
    &String => |v| Arg::Text(Some(v.clone())),
    Option<&str> => |v| Arg::Text(v.map(str::to_owned)),
    Option<String> => |v| Arg::Text(v),
    &Option<String> => |v| Arg::Text(v.clone()),
    bool => |v| Arg::Bool(v),
    i64 => |v| Arg::Int(Some(v)),
    Option<i64> => |v| Arg::Int(v),
    DateTime<Utc> => |v| Arg::Time(Some(v)),
    Option<DateTime<Utc>> => |v| Arg::Time(v),
    Vec<u8> => |v| Arg::Bytes(v),
    &[u8] => |v| Arg::Bytes(v.to_vec()),
);

/// A statement with its arguments, not yet run.
pub(crate) struct Query {
    sql: String,
    args: Vec<Arg>,
}

/// Starts a statement; see the module comment for the SQL dialect.
pub(crate) fn query(sql: impl Into<String>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// What a statement changed.
pub(crate) struct Done {
    rows_affected: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

fn bind_sqlite<'q>(
    mut q: SqlxQuery<'q, Sqlite, SqliteArguments<'q>>,
    args: &'q [Arg],
) -> SqlxQuery<'q, Sqlite, SqliteArguments<'q>> {
    for arg in args {
        q = match arg {
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Bool(v) => q.bind(*v),
            Arg::Int(v) => q.bind(*v),
            Arg::Time(v) => q.bind(*v),
            Arg::Bytes(v) => q.bind(v.as_slice()),
        };
    }
    q
}

fn bind_postgres<'q>(
    mut q: SqlxQuery<'q, Postgres, PgArguments>,
    args: &'q [Arg],
) -> SqlxQuery<'q, Postgres, PgArguments> {
    for arg in args {
        q = match arg {
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Bool(v) => q.bind(*v),
            Arg::Int(v) => q.bind(*v),
            Arg::Time(v) => q.bind(*v),
            Arg::Bytes(v) => q.bind(v.as_slice()),
        };
    }
    q
}

/// Runs `$method` of the bound statement on whatever `$conn` is.
macro_rules! run {
    ($self:ident, $conn:expr, $method:ident, |$r:ident| $map:expr) => {{
        let sql = $self.sql.as_str();
        let args = $self.args.as_slice();
        match $conn.into() {
            Conn::Pool(Pool::Sqlite(p)) => {
                let $r = bind_sqlite(sqlx::query(sql), args)
                    .$method(p.for_statement(sql))
                    .await?;
                $map
            }
            Conn::Pool(Pool::Postgres(p)) => {
                let $r = bind_postgres(sqlx::query(sql), args).$method(p).await?;
                $map
            }
            Conn::Tx(Tx::Sqlite(t)) => {
                let $r = bind_sqlite(sqlx::query(sql), args)
                    .$method(&mut **t)
                    .await?;
                $map
            }
            Conn::Tx(Tx::Postgres(t)) => {
                let $r = bind_postgres(sqlx::query(sql), args)
                    .$method(&mut **t)
                    .await?;
                $map
            }
        }
    }};
}

impl Query {
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub(crate) async fn execute<'c>(self, conn: impl Into<Conn<'c>>) -> Result<Done, sqlx::Error> {
        run!(self, conn, execute, |done| Ok(Done {
            rows_affected: done.rows_affected()
        }))
    }

    pub(crate) async fn fetch_optional<'c>(
        self,
        conn: impl Into<Conn<'c>>,
    ) -> Result<Option<Row>, sqlx::Error> {
        run!(self, conn, fetch_optional, |row| Ok(row.map(Row::from)))
    }

    pub(crate) async fn fetch_one<'c>(self, conn: impl Into<Conn<'c>>) -> Result<Row, sqlx::Error> {
        run!(self, conn, fetch_one, |row| Ok(Row::from(row)))
    }

    pub(crate) async fn fetch_all<'c>(
        self,
        conn: impl Into<Conn<'c>>,
    ) -> Result<Vec<Row>, sqlx::Error> {
        run!(self, conn, fetch_all, |rows| Ok(rows
            .into_iter()
            .map(Row::from)
            .collect()))
    }

    /// The first column of the first row.
    pub(crate) async fn scalar<'c, T: Column>(
        self,
        conn: impl Into<Conn<'c>>,
    ) -> Result<T, StoreError> {
        self.fetch_one(conn).await?.first()
    }

    /// The first column of the first row, if there is a row.
    pub(crate) async fn optional_scalar<'c, T: Column>(
        self,
        conn: impl Into<Conn<'c>>,
    ) -> Result<Option<T>, StoreError> {
        self.fetch_optional(conn)
            .await?
            .map(|r| r.first())
            .transpose()
    }
}

/// A result row of either engine (public only because the item trait
/// reads it; its columns are read inside the store).
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl From<SqliteRow> for Row {
    fn from(row: SqliteRow) -> Self {
        Row::Sqlite(row)
    }
}

impl From<PgRow> for Row {
    fn from(row: PgRow) -> Self {
        Row::Postgres(row)
    }
}

impl Row {
    /// The value of `column`.
    pub(crate) fn col<T: Column>(&self, column: &str) -> Result<T, StoreError> {
        Ok(match self {
            Row::Sqlite(r) => T::from_sqlite(r, column)?,
            Row::Postgres(r) => T::from_postgres(r, column)?,
        })
    }

    fn first<T: Column>(&self) -> Result<T, StoreError> {
        Ok(match self {
            Row::Sqlite(r) => T::first_sqlite(r)?,
            Row::Postgres(r) => T::first_postgres(r)?,
        })
    }
}

/// A value that can be read from a column of either engine's rows.
pub(crate) trait Column: Sized {
    fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error>;
    fn from_postgres(row: &PgRow, column: &str) -> Result<Self, sqlx::Error>;
    fn first_sqlite(row: &SqliteRow) -> Result<Self, sqlx::Error>;
    fn first_postgres(row: &PgRow) -> Result<Self, sqlx::Error>;
}

macro_rules! column {
    ($($t:ty),* $(,)?) => {$(
        impl Column for $t {
            fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error> {
                sqlx::Row::try_get(row, column)
            }
            fn from_postgres(row: &PgRow, column: &str) -> Result<Self, sqlx::Error> {
                sqlx::Row::try_get(row, column)
            }
            fn first_sqlite(row: &SqliteRow) -> Result<Self, sqlx::Error> {
                sqlx::Row::try_get(row, 0)
            }
            fn first_postgres(row: &PgRow) -> Result<Self, sqlx::Error> {
                sqlx::Row::try_get(row, 0)
            }
        }
    )*};
}
column!(
    String,
    Option<String>,
    bool,
    i64,
    Option<i64>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Vec<u8>,
);
