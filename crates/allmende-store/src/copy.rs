//! Moving a node from SQLite to PostgreSQL: every row of every table is
//! copied into a freshly migrated PostgreSQL database, in one transaction
//! (all or nothing), and the counts are compared before it commits.
//!
//! Both schemas come from migrations with the same names, so the copy is
//! driven by the target's catalogue: for each PostgreSQL table (parents
//! before children, by their foreign keys) the columns it shares with the
//! SQLite table are read as text (bytes for `BYTEA`) and written back with
//! a cast to the column's type. The search index is engine-specific (FTS5
//! against a generated `tsvector`) and is rebuilt from the copied items
//! instead.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, Row as _};

use crate::db::Pool;
use crate::{Store, StoreError};

/// Tables not copied: the migrations' own bookkeeping (the target has it
/// from its own migrations) and the search index (rebuilt).
fn skipped(table: &str) -> bool {
    table == "_sqlx_migrations" || table.starts_with("search_")
}

/// Parameters per `INSERT`: well below PostgreSQL's 65,535.
const PARAMETERS_PER_INSERT: usize = 30_000;

/// What was copied.
#[derive(Clone, Debug, Default)]
pub struct CopyReport {
    /// Rows per table, in the order they were copied.
    pub tables: Vec<(String, u64)>,
    /// Entries of the rebuilt search index.
    pub search_entries: u64,
}

/// A column of the target table.
struct Column {
    name: String,
    /// PostgreSQL's type, for the cast (`timestamp with time zone`, …).
    pg_type: String,
}

impl Store {
    /// Copies everything in this store (SQLite) into `to` (PostgreSQL, new
    /// or migrated and without organizations). Both are migrated to this
    /// version first. A failure leaves `to` without any copied row.
    pub async fn copy_into_postgres(&self, to: &Store) -> Result<CopyReport, StoreError> {
        sqlite_to_postgres(self, to).await
    }
}

async fn sqlite_to_postgres(from: &Store, to: &Store) -> Result<CopyReport, StoreError> {
    let (Pool::Sqlite(source), Pool::Postgres(target)) = (&from.pool, &to.pool) else {
        return Err(StoreError::NotOnThisEngine(
            "copies from a SQLite database into a PostgreSQL one",
        ));
    };
    // The target must be new: no tables at all, or Allmende's (a database
    // migrated before) without organizations. Checked before migrating, so
    // a wrong URL never gets Allmende's tables put into another
    // application's database.
    let mut pg = target.acquire().await?;
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(&mut *pg)
    .await?;
    if !existing.is_empty() {
        if !existing.iter().any(|t| t == "organizations") {
            return Err(StoreError::TargetNotEmpty);
        }
        let organizations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
            .fetch_one(&mut *pg)
            .await?;
        if organizations > 0 {
            return Err(StoreError::TargetNotEmpty);
        }
    }
    drop(pg);
    from.migrate().await?;
    let organizations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(&source.readers)
        .await?;
    if organizations == 0 {
        return Err(StoreError::NothingToCopy);
    }
    to.migrate().await?;
    let mut pg = target.acquire().await?;
    let order = tables_in_dependency_order(&mut pg).await?;
    // One snapshot of the source (WAL: the node may even be running, but
    // what it writes meanwhile is not copied; stop it first).
    let mut sqlite = source.readers.acquire().await?;
    let mut snapshot = sqlite.begin().await?;
    let source_tables: BTreeSet<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut *snapshot)
            .await?
            .into_iter()
            .collect();

    // Every table of the source has its place in the target.
    if let Some(missing) = source_tables
        .iter()
        .find(|t| !skipped(t) && !t.starts_with("sqlite_") && !order.contains(t))
    {
        return Err(StoreError::CopyIncomplete(format!(
            "table {missing} has no counterpart in PostgreSQL"
        )));
    }
    let mut tx = pg.begin().await?;
    // SQLite's CURRENT_TIMESTAMP has no zone: it is UTC.
    sqlx::query("SET LOCAL TIME ZONE 'UTC'")
        .execute(&mut *tx)
        .await?;
    // Rows the migrations put in (defaults, markers) give way to the
    // source's, children first.
    for table in order.iter().rev() {
        if source_tables.contains(table) {
            sqlx::query(&format!("DELETE FROM {}", quoted(table)))
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut report = CopyReport::default();
    for table in &order {
        if !source_tables.contains(table) {
            continue;
        }
        let columns = shared_columns(&mut tx, &mut snapshot, table).await?;
        let copied = copy_table(&mut snapshot, &mut tx, table, &columns).await?;
        let counted: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quoted(table)))
            .fetch_one(&mut *tx)
            .await?;
        let expected: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quoted(table)))
            .fetch_one(&mut *snapshot)
            .await?;
        if counted != expected || u64::try_from(counted).ok() != Some(copied) {
            return Err(StoreError::CopyIncomplete(format!(
                "{table}: {expected} rows in SQLite, {counted} in PostgreSQL after copying {copied}"
            )));
        }
        report.tables.push((table.clone(), copied));
    }
    tx.commit().await?;
    snapshot.rollback().await?;
    report.search_entries = to.search().rebuild().await?;
    Ok(report)
}

/// The target's tables, parents before the tables that refer to them.
async fn tables_in_dependency_order(
    pg: &mut sqlx::PgConnection,
) -> Result<Vec<String>, StoreError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
         ORDER BY table_name",
    )
    .fetch_all(&mut *pg)
    .await?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = tables
        .iter()
        .filter(|t| !skipped(t))
        .map(|t| (t.clone(), BTreeSet::new()))
        .collect();
    let references = sqlx::query(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
         FROM pg_constraint c WHERE c.contype = 'f'",
    )
    .fetch_all(&mut *pg)
    .await?;
    for reference in references {
        let child: String = reference.try_get("child")?;
        let parent: String = reference.try_get("parent")?;
        if child != parent && parents.contains_key(&parent) {
            if let Some(set) = parents.get_mut(&child) {
                set.insert(parent);
            }
        }
    }
    let mut order = Vec::new();
    while !parents.is_empty() {
        let ready: Vec<String> = parents
            .iter()
            .filter(|(_, p)| p.iter().all(|p| order.contains(p)))
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "foreign keys form a cycle among {:?}",
                parents.keys().collect::<Vec<_>>()
            )));
        }
        for table in ready {
            parents.remove(&table);
            order.push(table);
        }
    }
    Ok(order)
}

/// The columns of `table` in both databases (generated ones excluded: the
/// target computes them).
async fn shared_columns(
    pg: &mut sqlx::PgConnection,
    sqlite: &mut sqlx::SqliteConnection,
    table: &str,
) -> Result<Vec<Column>, StoreError> {
    let in_source: BTreeSet<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&mut *sqlite)
        .await?
        .into_iter()
        .collect();
    let rows = sqlx::query(
        "SELECT column_name::text AS name, data_type::text AS pg_type
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
         ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *pg)
    .await?;
    let mut columns = Vec::new();
    for row in rows {
        let name: String = row.try_get("name")?;
        if in_source.contains(&name) {
            columns.push(Column {
                name,
                pg_type: row.try_get("pg_type")?,
            });
        }
    }
    // A column only SQLite has would be lost without a word.
    if let Some(lost) = in_source
        .iter()
        .find(|name| !columns.iter().any(|c| &c.name == *name))
    {
        return Err(StoreError::CopyIncomplete(format!(
            "column {table}.{lost} has no counterpart in PostgreSQL"
        )));
    }
    Ok(columns)
}

/// A value read from SQLite: text, or bytes for `BYTEA` columns.
enum Value {
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

async fn copy_table(
    sqlite: &mut sqlx::SqliteConnection,
    pg: &mut sqlx::PgConnection,
    table: &str,
    columns: &[Column],
) -> Result<u64, StoreError> {
    if columns.is_empty() {
        return Ok(0);
    }
    let per_insert = (PARAMETERS_PER_INSERT / columns.len()).clamp(1, 1000);
    // Pages by rowid, so a large table never sits in memory whole.
    let select = format!(
        "SELECT rowid, {} FROM {} WHERE rowid > ? ORDER BY rowid LIMIT {per_insert}",
        columns
            .iter()
            .map(|c| if c.pg_type == "bytea" {
                quoted(&c.name)
            } else {
                format!("CAST({} AS TEXT)", quoted(&c.name))
            })
            .collect::<Vec<_>>()
            .join(", "),
        quoted(table)
    );
    let names = columns
        .iter()
        .map(|c| quoted(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut after = i64::MIN;
    let mut copied = 0u64;
    loop {
        let rows = sqlx::query(&select)
            .bind(after)
            .fetch_all(&mut *sqlite)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(copied);
        };
        after = last.try_get(0)?;
        let mut values = Vec::with_capacity(rows.len() * columns.len());
        let mut tuples = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut placeholders = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                values.push(if column.pg_type == "bytea" {
                    Value::Bytes(row.try_get(i + 1)?)
                } else {
                    Value::Text(row.try_get(i + 1)?)
                });
                placeholders.push(format!("CAST(${} AS {})", values.len(), column.pg_type));
            }
            tuples.push(format!("({})", placeholders.join(", ")));
        }
        let insert = format!(
            "INSERT INTO {} ({names}) VALUES {}",
            quoted(table),
            tuples.join(", ")
        );
        let mut query = sqlx::query(&insert);
        for value in values {
            query = match value {
                Value::Text(text) => query.bind(text),
                Value::Bytes(bytes) => query.bind(bytes),
            };
        }
        copied += query.execute(&mut *pg).await?.rows_affected();
    }
}

/// An identifier in double quotes (names come from the catalogues, not
/// from users; quoted all the same).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
