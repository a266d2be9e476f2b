//! Full-text search over every item on the node: FTS5 on SQLite, a
//! weighted `tsvector` with a GIN index on PostgreSQL. Hits are only items
//! the viewer may read (the rule of `visibility.rs`, in the same query).

use allmende_domain::{ItemKind, Viewer};
use uuid::Uuid;

use crate::db::{query, Engine, Pool, Tx};
use crate::visibility::{readable, viewer_arg};
use crate::StoreError;

/// The item kinds the index holds.
const INDEXED: [ItemKind; 3] = [ItemKind::Project, ItemKind::Question, ItemKind::Solution];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub kind: ItemKind,
    pub id: Uuid,
}

/// Folds text the way German readers expect a search to: case-insensitive,
/// "Straße" = "strasse", "München" = "muenchen". Applied to indexed text and
/// to queries alike.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ß' => out.push_str("ss"),
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            c => out.push(c),
        }
    }
    out
}

/// Turns what a person typed into an FTS5 query: every word must occur, as a
/// prefix ("hund" finds "Hundesteuer"). Operators and quotes typed by the user
/// are treated as plain text, so no input is an FTS5 syntax error.
pub fn fts_query(input: &str) -> Option<String> {
    let normalised = normalise(input);
    let terms: Vec<String> = normalised
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(12)
        .map(|t| format!("\"{t}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Turns what a person typed into a PostgreSQL `tsquery` with the same
/// meaning as [`fts_query`]: every word, as a prefix. Terms hold only
/// letters and digits, so no input is a tsquery syntax error.
pub fn tsquery(input: &str) -> Option<String> {
    let normalised = normalise(input);
    let terms: Vec<String> = normalised
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(12)
        .map(|t| format!("{t}:*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

/// Rewrites the index entry of an item.
pub(crate) async fn reindex(
    tx: &mut Tx,
    kind: ItemKind,
    id: Uuid,
    title: &str,
    text: &str,
) -> Result<(), StoreError> {
    remove(tx, kind, id).await?;
    add(tx, kind, id, title, text).await
}

/// Writes the index entry of a new item. On PostgreSQL the `document`
/// column is generated from title and content. On SQLite the FTS5 row
/// gets its rowid from `search_keys`, the only way to find it again
/// without reading the whole index.
pub(crate) async fn add(
    tx: &mut Tx,
    kind: ItemKind,
    id: Uuid,
    title: &str,
    text: &str,
) -> Result<(), StoreError> {
    match tx.engine() {
        Engine::Sqlite => {
            let rowid: i64 =
                query("INSERT INTO search_keys (kind, item_id) VALUES ($1, $2) RETURNING id")
                    .bind(kind.slug())
                    .bind(id.to_string())
                    .scalar(&mut *tx)
                    .await?;
            query(
                "INSERT INTO search_index (rowid, kind, item_id, title, content)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(rowid)
            .bind(kind.slug())
            .bind(id.to_string())
            .bind(normalise(title))
            .bind(normalise(text))
            .execute(&mut *tx)
            .await?;
        }
        Engine::Postgres => {
            query(
                "INSERT INTO search_index (kind, item_id, title, content) VALUES ($1, $2, $3, $4)",
            )
            .bind(kind.slug())
            .bind(id.to_string())
            .bind(normalise(title))
            .bind(normalise(text))
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// Removes the index entry of one item, if it has one.
pub(crate) async fn remove(tx: &mut Tx, kind: ItemKind, id: Uuid) -> Result<(), StoreError> {
    match tx.engine() {
        Engine::Sqlite => {
            let rowid: Option<i64> =
                query("DELETE FROM search_keys WHERE kind = $1 AND item_id = $2 RETURNING id")
                    .bind(kind.slug())
                    .bind(id.to_string())
                    .optional_scalar(&mut *tx)
                    .await?;
            if let Some(rowid) = rowid {
                query("DELETE FROM search_index WHERE rowid = $1")
                    .bind(rowid)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Engine::Postgres => {
            query("DELETE FROM search_index WHERE kind = $1 AND item_id = $2")
                .bind(kind.slug())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}

/// Removes the index entries of every item of an organization (the index
/// is not bound by foreign keys).
pub(crate) async fn remove_of_organization(
    tx: &mut Tx,
    organization_id: &str,
) -> Result<(), StoreError> {
    const ITEMS: &str = "SELECT id FROM projects WHERE organization_id = $1
         UNION SELECT id FROM questions WHERE organization_id = $1
         UNION SELECT id FROM solutions WHERE organization_id = $1";
    match tx.engine() {
        Engine::Sqlite => {
            let rowids: Vec<i64> = query(format!(
                "DELETE FROM search_keys WHERE item_id IN ({ITEMS}) RETURNING id"
            ))
            .bind(organization_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.col("id"))
            .collect::<Result<_, _>>()?;
            for rowid in rowids {
                query("DELETE FROM search_index WHERE rowid = $1")
                    .bind(rowid)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Engine::Postgres => {
            query(format!(
                "DELETE FROM search_index WHERE item_id IN ({ITEMS})"
            ))
            .bind(organization_id)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

pub struct Search<'a> {
    pool: &'a Pool,
}

impl<'a> Search<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// The items `viewer` may read that match `input`, best first; title
    /// matches weigh more than body matches. SQLite ranks with FTS5's
    /// bm25, PostgreSQL with `ts_rank` over the weighted `tsvector` (GIN
    /// index).
    pub async fn query(
        &self,
        viewer: Viewer,
        input: &str,
        limit: u32,
    ) -> Result<Vec<SearchHit>, StoreError> {
        // One readable-item test per indexed kind, on the row the hit names.
        let readable_hit = |kind_col: &str, id_col: &str| {
            INDEXED
                .iter()
                .map(|kind| {
                    format!(
                        "({kind_col} = '{slug}' AND EXISTS (SELECT 1 FROM {table} t WHERE t.id = {id_col} AND {rule}))",
                        slug = kind.slug(),
                        table = kind.table(),
                        rule = readable("t", "$3"),
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        let statement = match self.pool.engine() {
            Engine::Sqlite => fts_query(input).map(|q| {
                query(format!(
                    "SELECT kind, item_id FROM search_index WHERE search_index MATCH $1 AND ({})
                     ORDER BY bm25(search_index, 0.0, 0.0, 5.0, 1.0) LIMIT $2",
                    readable_hit("search_index.kind", "search_index.item_id")
                ))
                .bind(q)
            }),
            Engine::Postgres => tsquery(input).map(|q| {
                query(format!(
                    "SELECT s.kind, s.item_id FROM search_index s, to_tsquery('simple', $1) q
                     WHERE s.document @@ q AND ({})
                     ORDER BY ts_rank(s.document, q) DESC, s.item_id LIMIT $2",
                    readable_hit("s.kind", "s.item_id")
                ))
                .bind(q)
            }),
        };
        let Some(statement) = statement else {
            return Ok(Vec::new());
        };
        let rows = statement
            .bind(i64::from(limit))
            .bind(viewer_arg(viewer))
            .fetch_all(self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.col("kind")?;
                let id: String = row.col("item_id")?;
                Ok(SearchHit {
                    kind: ItemKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("search kind {kind:?}")))?,
                    id: Uuid::parse_str(&id)
                        .map_err(|_| StoreError::Corrupt(format!("search id {id:?}")))?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_german_text() {
        assert_eq!(normalise("Straße in MÜNCHEN"), "strasse in muenchen");
    }

    #[test]
    fn queries_are_quoted_prefixes() {
        assert_eq!(
            fts_query("Hunde steuer").as_deref(),
            Some("\"hunde\"* \"steuer\"*")
        );
        assert_eq!(
            fts_query("\" OR NEAR( *").as_deref(),
            Some("\"or\"* \"near\"*")
        );
        assert_eq!(fts_query("  ,.;"), None);
    }

    #[test]
    fn tsqueries_are_prefixes_of_plain_words() {
        assert_eq!(
            tsquery("Hunde-Steuer in Ulm!").as_deref(),
            Some("hunde:* & steuer:* & in:* & ulm:*")
        );
        assert_eq!(
            tsquery("'a' | !b & (c)").as_deref(),
            Some("a:* & b:* & c:*")
        );
        assert_eq!(tsquery(" :* "), None);
    }
}
