//! Keeps the search rows in step with what they describe. Every write of an
//! item, an answer, an accepted answer or a profile calls [`refresh_item`]
//! or [`refresh_organization`] in its transaction; those read what they
//! need from the tables, so no caller has to know what search keeps.

use allmende_domain::{
    for_item_kind, Bundesland, Item, ItemFacets, ItemKind, OrganizationDraft, OrganizationId,
    ServiceKey,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::analysis::index_text;
use super::{DocKind, SizeClass};
use crate::db::{query, Engine, Pool, Tx};
use crate::{json_column, StoreError};

/// The facet values an author's profile gives everything it publishes.
struct AuthorFacets {
    land: Option<Bundesland>,
    org_kind: &'static str,
    size_class: Option<&'static str>,
}

/// The author's profile, with the population of its municipality from
/// the reference directory where the profile gives none.
async fn author_of(tx: &mut Tx, organization_id: &str) -> Result<AuthorFacets, StoreError> {
    let mut profile = profile_of(tx, organization_id).await?;
    if profile.population.is_none() {
        if let Some(ags) = &profile.ags {
            let population: Option<Option<i64>> =
                query("SELECT population FROM ref_places WHERE ags = $1")
                    .bind(ags.as_str())
                    .optional_scalar(&mut *tx)
                    .await?;
            profile.population = population.flatten().and_then(|p| u32::try_from(p).ok());
        }
    }
    Ok(AuthorFacets::of(&profile))
}

impl AuthorFacets {
    fn of(profile: &OrganizationDraft) -> Self {
        let land = profile
            .bundesland
            .or_else(|| profile.ags.as_ref().map(|ags| ags.land()));
        Self {
            land,
            org_kind: profile.kind.slug(),
            size_class: profile.population.map(|p| SizeClass::of(p).slug()),
        }
    }
}

/// One row as written.
struct Doc<'a> {
    kind: DocKind,
    item_id: String,
    organization_id: String,
    public: bool,
    status: Option<&'static str>,
    themenfeld: Option<&'static str>,
    author: &'a AuthorFacets,
    licence: Option<String>,
    seeking_partners: bool,
    services: Vec<ServiceKey>,
    published: DateTime<Utc>,
    title: String,
    content: String,
}

async fn profile_of(tx: &mut Tx, organization_id: &str) -> Result<OrganizationDraft, StoreError> {
    let row = query("SELECT profile FROM organizations WHERE id = $1")
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    json_column(&row, "profile")
}

/// Writes (or rewrites) the row of an item from its stored state; removes
/// it if the item is gone.
pub(crate) async fn refresh_item(tx: &mut Tx, kind: ItemKind, id: Uuid) -> Result<(), StoreError> {
    for_item_kind!(kind, T => refresh::<T>(tx, id).await, _other => Ok(()))
}

/// Writes the row of an item just inserted, from what the caller has in
/// hand: no read of the item, no earlier row to replace (the common path
/// of publishing and of receiving items, kept short).
pub(crate) async fn add_item<T: Item>(
    tx: &mut Tx,
    id: Uuid,
    organization_id: OrganizationId,
    draft: &T::Draft,
    created: DateTime<Utc>,
) -> Result<(), StoreError> {
    let organization_id = organization_id.to_string();
    let facets = T::facets(draft);
    let status = if T::KIND == ItemKind::Question {
        Some("open")
    } else {
        facets.status
    };
    let author = author_of(tx, &organization_id).await?;
    write(
        tx,
        &Doc {
            kind: DocKind::from_item(T::KIND).expect("indexed kinds only"),
            item_id: id.to_string(),
            organization_id,
            public: T::is_public(draft),
            status,
            themenfeld: T::themenfeld(draft).map(|t| t.slug()),
            author: &author,
            licence: facets.licence,
            seeking_partners: facets.seeking_partners,
            services: facets.services,
            published: created,
            title: T::title(draft).to_owned(),
            content: T::search_text(draft),
        },
        true,
    )
    .await
}

async fn refresh<T: Item>(tx: &mut Tx, id: Uuid) -> Result<(), StoreError> {
    let accepted = if T::KIND == ItemKind::Question {
        ", accepted_answer_id"
    } else {
        ""
    };
    let Some(row) = query(format!(
        "SELECT organization_id, content, created_at{accepted} FROM {} WHERE id = $1",
        T::KIND.table()
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    else {
        return remove(tx, T::KIND, id).await;
    };
    let organization_id: String = row.col("organization_id")?;
    let draft: T::Draft = json_column(&row, "content")?;
    let facets: ItemFacets = T::facets(&draft);
    let mut content = T::search_text(&draft);
    let mut status = facets.status;
    if T::KIND == ItemKind::Question {
        let accepted: Option<String> = row.col("accepted_answer_id")?;
        status = Some(if accepted.is_some() {
            "answered"
        } else {
            "open"
        });
        // Questions are found by their answers too.
        let answers: Vec<String> =
            query("SELECT body FROM answers WHERE question_id = $1 ORDER BY created_at")
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.col("body"))
                .collect::<Result<_, _>>()?;
        for answer in answers {
            content.push(' ');
            content.push_str(&answer);
        }
    }
    let author = author_of(tx, &organization_id).await?;
    write(
        tx,
        &Doc {
            kind: DocKind::from_item(T::KIND).expect("indexed kinds only"),
            item_id: id.to_string(),
            organization_id,
            public: T::is_public(&draft),
            status,
            themenfeld: T::themenfeld(&draft).map(|t| t.slug()),
            author: &author,
            licence: facets.licence,
            seeking_partners: facets.seeking_partners,
            services: facets.services,
            published: row.col("created_at")?,
            title: T::title(&draft).to_owned(),
            content,
        },
        false,
    )
    .await
}

/// Writes (or rewrites) an organization's own row and the profile facets
/// of everything it published.
pub(crate) async fn refresh_organization(
    tx: &mut Tx,
    id: OrganizationId,
) -> Result<(), StoreError> {
    let id = id.to_string();
    let Some(row) = query("SELECT handle, profile, created_at FROM organizations WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(());
    };
    let handle: String = row.col("handle")?;
    let profile: OrganizationDraft = json_column(&row, "profile")?;
    let author = author_of(tx, &id).await?;
    let place = [
        Some(handle.as_str()),
        profile.ags.as_ref().map(|a| a.as_str()),
        profile.ars.as_ref().map(|a| a.as_str()),
        author.land.map(|l| l.label_de()),
        Some(profile.kind.label_de()),
        profile.description.as_deref(),
    ];
    let content = place.into_iter().flatten().collect::<Vec<_>>().join(" ");
    write(
        tx,
        &Doc {
            kind: DocKind::Organization,
            item_id: id.clone(),
            organization_id: id.clone(),
            public: true,
            status: None,
            themenfeld: None,
            author: &author,
            licence: None,
            seeking_partners: false,
            services: Vec::new(),
            published: row.col("created_at")?,
            title: profile.name.clone(),
            content,
        },
        false,
    )
    .await?;
    query(
        "UPDATE search_docs SET land = $1, org_kind = $2, size_class = $3
         WHERE organization_id = $4 AND kind <> 'organization'",
    )
    .bind(author.land.map(|l| l.slug()))
    .bind(author.org_kind)
    .bind(author.size_class)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Writes a row; `new` when there is certainly none yet for the item, so
/// nothing needs replacing.
async fn write(tx: &mut Tx, doc: &Doc<'_>, new: bool) -> Result<(), StoreError> {
    let title = index_text(&doc.title);
    let content = index_text(&doc.content);
    let engine = tx.engine();
    // The text columns exist only in PostgreSQL's row; SQLite keeps the
    // text in the FTS5 table under the row's id.
    let (text_columns, text_values, text_update) = match engine {
        Engine::Sqlite => ("", "", ""),
        Engine::Postgres => (
            ", title, content",
            ", $13, $14",
            ", title = excluded.title, content = excluded.content",
        ),
    };
    let statement = format!(
        "INSERT INTO search_docs (kind, item_id, organization_id, public, status, themenfeld, land,
             org_kind, size_class, licence, seeking_partners, published{text_columns})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12{text_values})
         ON CONFLICT (kind, item_id) DO UPDATE SET organization_id = excluded.organization_id,
             public = excluded.public, status = excluded.status, themenfeld = excluded.themenfeld,
             land = excluded.land, org_kind = excluded.org_kind, size_class = excluded.size_class,
             licence = excluded.licence, seeking_partners = excluded.seeking_partners,
             published = excluded.published{text_update}
         RETURNING id"
    );
    let mut insert = query(statement)
        .bind(doc.kind.slug())
        .bind(&doc.item_id)
        .bind(&doc.organization_id)
        .bind(doc.public)
        .bind(doc.status)
        .bind(doc.themenfeld)
        .bind(doc.author.land.map(|l| l.slug()))
        .bind(doc.author.org_kind)
        .bind(doc.author.size_class)
        .bind(doc.licence.as_deref())
        .bind(doc.seeking_partners)
        .bind(doc.published);
    if engine == Engine::Postgres {
        insert = insert.bind(&title).bind(&content);
    }
    let id: i64 = insert.scalar(&mut *tx).await?;
    if engine == Engine::Sqlite {
        if !new {
            query("DELETE FROM search_text WHERE rowid = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        query("INSERT INTO search_text (rowid, title, content) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&title)
            .bind(&content)
            .execute(&mut *tx)
            .await?;
    }
    if !new {
        query("DELETE FROM search_services WHERE doc_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    for service in &doc.services {
        query("INSERT INTO search_services (service, doc_id) VALUES ($1, $2)")
            .bind(service.slug())
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Removes the row of one item, if it has one.
pub(crate) async fn remove(tx: &mut Tx, kind: ItemKind, id: Uuid) -> Result<(), StoreError> {
    let Some(kind) = DocKind::from_item(kind) else {
        return Ok(());
    };
    let ids: Vec<i64> =
        query("DELETE FROM search_docs WHERE kind = $1 AND item_id = $2 RETURNING id")
            .bind(kind.slug())
            .bind(id.to_string())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.col("id"))
            .collect::<Result<_, _>>()?;
    forget_rows(tx, &ids).await
}

/// Removes the rows of an organization and of everything it published.
pub(crate) async fn remove_of_organization(
    tx: &mut Tx,
    organization_id: &str,
) -> Result<(), StoreError> {
    let ids: Vec<i64> = query("DELETE FROM search_docs WHERE organization_id = $1 RETURNING id")
        .bind(organization_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.col("id"))
        .collect::<Result<_, _>>()?;
    forget_rows(tx, &ids).await
}

/// The text and services of deleted rows (foreign keys are not relied on:
/// the FTS5 table has none).
async fn forget_rows(tx: &mut Tx, ids: &[i64]) -> Result<(), StoreError> {
    for &id in ids {
        if tx.engine() == Engine::Sqlite {
            query("DELETE FROM search_text WHERE rowid = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        query("DELETE FROM search_services WHERE doc_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// How many rows one transaction of a rebuild writes.
const REBUILD_BATCH: usize = 500;

/// Rebuilds every row when they were made by another version of the
/// analysis (or never): after the migration that created the tables, and
/// whenever [`super::analysis::VERSION`] changes. Returns how many rows
/// were written, 0 when the index was current.
pub(crate) async fn rebuild_if_stale(pool: &Pool) -> Result<u64, StoreError> {
    let version: i64 = query("SELECT version FROM search_meta WHERE id = 1")
        .scalar(pool)
        .await?;
    if version == super::analysis::VERSION {
        return Ok(0);
    }
    tracing::info!(
        "rebuilding the search index (analysis version {version} → {})",
        super::analysis::VERSION
    );
    let mut tx = pool.begin().await?;
    query("DELETE FROM search_services")
        .execute(&mut tx)
        .await?;
    query("DELETE FROM search_docs").execute(&mut tx).await?;
    if pool.engine() == Engine::Sqlite {
        query("DELETE FROM search_text").execute(&mut tx).await?;
    }
    tx.commit().await?;
    let mut written = 0;
    let organizations: Vec<String> = query("SELECT id FROM organizations ORDER BY id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| row.col("id"))
        .collect::<Result<_, _>>()?;
    for batch in organizations.chunks(REBUILD_BATCH) {
        let mut tx = pool.begin().await?;
        for id in batch {
            let id = Uuid::parse_str(id)
                .map_err(|_| StoreError::Corrupt(format!("organization id {id:?}")))?;
            refresh_organization(&mut tx, OrganizationId(id)).await?;
        }
        tx.commit().await?;
        written += batch.len() as u64;
    }
    for kind in [ItemKind::Project, ItemKind::Question, ItemKind::Solution] {
        let ids: Vec<String> = query(format!("SELECT id FROM {} ORDER BY id", kind.table()))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| row.col("id"))
            .collect::<Result<_, _>>()?;
        for batch in ids.chunks(REBUILD_BATCH) {
            let mut tx = pool.begin().await?;
            for id in batch {
                let id = Uuid::parse_str(id)
                    .map_err(|_| StoreError::Corrupt(format!("{} id {id:?}", kind.slug())))?;
                refresh_item(&mut tx, kind, id).await?;
            }
            tx.commit().await?;
            written += batch.len() as u64;
        }
    }
    query("UPDATE search_meta SET version = $1 WHERE id = 1")
        .bind(super::analysis::VERSION)
        .execute(pool)
        .await?;
    tracing::info!("search index rebuilt: {written} rows");
    Ok(written)
}
