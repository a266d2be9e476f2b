//! The storage shared by every published item type (projects, questions,
//! solutions): insert, read, update, delete and list, each write together
//! with its full-text index entry in one transaction.
//!
//! The item-specific parts (table, how to index, how to read a row) are in
//! `projects.rs`, `questions.rs` and `solutions.rs`.

use std::marker::PhantomData;

use allmende_domain::{OrganizationId, Themenfeld};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::search::{self, SearchKind};
use crate::{to_json, StoreError};

/// What the generic item store needs to know about one item type.
pub trait StoredItem: Sized + Send + Unpin {
    /// Table name; a constant, never user input.
    const TABLE: &'static str;
    const KIND: SearchKind;
    type Draft: Serialize + DeserializeOwned + Send + Sync;

    fn title(draft: &Self::Draft) -> &str;
    fn themenfeld(draft: &Self::Draft) -> Option<Themenfeld>;
    /// Whether anyone may read the item; restricted items are shown only
    /// to signed-in users.
    fn is_public(_draft: &Self::Draft) -> bool {
        true
    }
    /// The text the full-text index should find the item by, besides its title.
    fn search_text(draft: &Self::Draft) -> String;
    fn from_row(row: &SqliteRow) -> Result<Self, StoreError>;
}

/// Which items to list, newest first.
#[derive(Clone, Debug)]
pub struct ListFilter {
    pub organization_id: Option<OrganizationId>,
    pub themenfeld: Option<Themenfeld>,
    /// Leave out restricted items (for anonymous readers).
    pub public_only: bool,
    pub limit: u32,
    pub offset: u32,
}

impl Default for ListFilter {
    fn default() -> Self {
        Self {
            organization_id: None,
            themenfeld: None,
            public_only: true,
            limit: 50,
            offset: 0,
        }
    }
}

pub struct ItemStore<'a, T> {
    pool: &'a SqlitePool,
    item: PhantomData<T>,
}

impl<'a, T: StoredItem> ItemStore<'a, T> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self {
            pool,
            item: PhantomData,
        }
    }

    pub async fn insert(
        &self,
        organization_id: OrganizationId,
        draft: &T::Draft,
        now: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO {} (id, organization_id, title, themenfeld, public, content, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            T::TABLE
        ))
        .bind(id.to_string())
        .bind(organization_id.to_string())
        .bind(T::title(draft))
        .bind(T::themenfeld(draft).map(|t| t.slug()))
        .bind(T::is_public(draft))
        .bind(to_json(draft))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        search::index(
            &mut tx,
            T::KIND,
            id,
            T::title(draft),
            &T::search_text(draft),
        )
        .await?;
        tx.commit().await?;
        self.get(id).await
    }

    pub async fn get(&self, id: impl Into<Uuid>) -> Result<T, StoreError> {
        sqlx::query(&format!("SELECT * FROM {} WHERE id = ?", T::TABLE))
            .bind(id.into().to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|row| T::from_row(&row))
    }

    pub async fn update(
        &self,
        id: impl Into<Uuid>,
        draft: &T::Draft,
        now: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        let id = id.into();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(&format!(
            "UPDATE {} SET title = ?, themenfeld = ?, public = ?, content = ?, updated_at = ? WHERE id = ?",
            T::TABLE
        ))
        .bind(T::title(draft))
        .bind(T::themenfeld(draft).map(|t| t.slug()))
        .bind(T::is_public(draft))
        .bind(to_json(draft))
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        search::index(
            &mut tx,
            T::KIND,
            id,
            T::title(draft),
            &T::search_text(draft),
        )
        .await?;
        tx.commit().await?;
        self.get(id).await
    }

    pub async fn delete(&self, id: impl Into<Uuid>) -> Result<(), StoreError> {
        let id = id.into();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(&format!("DELETE FROM {} WHERE id = ?", T::TABLE))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        search::remove(&mut tx, T::KIND, id).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<T>, StoreError> {
        sqlx::query(&format!(
            "SELECT * FROM {} WHERE (?1 IS NULL OR organization_id = ?1) AND (?2 IS NULL OR themenfeld = ?2)
             AND (?3 = 0 OR public = 1)
             ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5",
            T::TABLE
        ))
        .bind(filter.organization_id.map(|o| o.to_string()))
        .bind(filter.themenfeld.map(|t| t.slug()))
        .bind(filter.public_only)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(T::from_row)
        .collect()
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", T::TABLE))
                .fetch_one(self.pool)
                .await?,
        )
    }
}

/// Joins the optional texts of an item for the search index.
pub(crate) fn join_text<'s>(parts: impl IntoIterator<Item = Option<&'s str>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join("\n")
}
