//! The storage shared by every published item type (projects, questions,
//! solutions): insert, read, update, delete and list, each write together
//! with its full-text index entry in one transaction.
//!
//! The item-specific parts (table, how to index, how to read a row) are in
//! `projects.rs`, `questions.rs` and `solutions.rs`.

use std::marker::PhantomData;

use crate::db::{query, Pool, Row};
use allmende_domain::{
    OrganizationId, Project, ProjectInput, Question, QuestionInput, Solution, SolutionInput,
    Themenfeld, ValidationErrors,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::outbox::{self, Announcement};
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
    fn from_row(row: &Row) -> Result<Self, StoreError>;
}

/// Which items to list, newest first.
#[derive(Clone, Debug)]
pub struct ListFilter {
    pub organization_id: Option<OrganizationId>,
    pub themenfeld: Option<Themenfeld>,
    /// Leave out restricted items (for anonymous readers).
    pub public_only: bool,
    /// The organization of a signed-in reader: restricted (followers-only)
    /// items of other nodes' organizations are listed only if it follows
    /// them. `None` with `public_only` false lists every item.
    pub viewer: Option<OrganizationId>,
    /// Only items of organizations this one follows (its home feed).
    pub followed_by: Option<OrganizationId>,
    pub limit: u32,
    pub offset: u32,
}

impl Default for ListFilter {
    fn default() -> Self {
        Self {
            organization_id: None,
            themenfeld: None,
            public_only: true,
            viewer: None,
            followed_by: None,
            limit: 50,
            offset: 0,
        }
    }
}

pub struct ItemStore<'a, T> {
    pool: &'a Pool,
    item: PhantomData<T>,
}

impl<'a, T: StoredItem> ItemStore<'a, T> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self {
            pool,
            item: PhantomData,
        }
    }

    /// Publishes a new item of one of this node's organizations.
    pub async fn insert(
        &self,
        organization_id: OrganizationId,
        draft: &T::Draft,
        now: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        self.insert_row(organization_id, draft, now, now, None)
            .await
    }

    /// Stores the local copy of an item from another node, known by its
    /// ActivityPub id there.
    pub async fn insert_remote(
        &self,
        organization_id: OrganizationId,
        draft: &T::Draft,
        ap_id: &str,
        published: DateTime<Utc>,
        updated: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        self.insert_row(organization_id, draft, published, updated, Some(ap_id))
            .await
    }

    async fn insert_row(
        &self,
        organization_id: OrganizationId,
        draft: &T::Draft,
        created: DateTime<Utc>,
        updated: DateTime<Utc>,
        ap_id: Option<&str>,
    ) -> Result<T, StoreError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        query(format!(
            "INSERT INTO {} (id, organization_id, title, themenfeld, public, content, created_at, updated_at, ap_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            T::TABLE
        ))
        .bind(id.to_string())
        .bind(organization_id.to_string())
        .bind(T::title(draft))
        .bind(T::themenfeld(draft).map(|t| t.slug()))
        .bind(T::is_public(draft))
        .bind(to_json(draft))
        .bind(created)
        .bind(updated)
        .bind(ap_id)
        .execute(&mut tx)
        .await
        .map_err(StoreError::unique("ap_id"))?;
        search::index(
            &mut tx,
            T::KIND,
            id,
            T::title(draft),
            &T::search_text(draft),
        )
        .await?;
        if ap_id.is_none() {
            let created = Announcement::ItemCreated {
                collection: T::TABLE.into(),
                id,
            };
            outbox::record(&mut tx, organization_id, &created, updated).await?;
        }
        tx.commit().await?;
        self.get(id).await
    }

    pub async fn get(&self, id: impl Into<Uuid>) -> Result<T, StoreError> {
        query(format!("SELECT * FROM {} WHERE id = $1", T::TABLE))
            .bind(id.into().to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|row| T::from_row(&row))
    }

    /// The local copy of a remote item, by its id on its home node.
    pub async fn find_by_ap_id(&self, ap_id: &str) -> Result<Option<T>, StoreError> {
        query(format!("SELECT * FROM {} WHERE ap_id = $1", T::TABLE))
            .bind(ap_id)
            .fetch_optional(self.pool)
            .await?
            .map(|row| T::from_row(&row))
            .transpose()
    }

    /// The ActivityPub id of a remote copy; `None` for local items.
    pub async fn ap_id(&self, id: impl Into<Uuid>) -> Result<Option<String>, StoreError> {
        query(format!("SELECT ap_id FROM {} WHERE id = $1", T::TABLE))
            .bind(id.into().to_string())
            .optional_scalar(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Changes a local item and announces the change to followers.
    pub async fn update(
        &self,
        id: impl Into<Uuid>,
        draft: &T::Draft,
        now: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        self.update_row(id.into(), draft, now, true).await
    }

    /// Changes the local copy of a remote item, as its home node says.
    pub async fn update_remote(
        &self,
        id: impl Into<Uuid>,
        draft: &T::Draft,
        updated: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        self.update_row(id.into(), draft, updated, false).await
    }

    async fn update_row(
        &self,
        id: Uuid,
        draft: &T::Draft,
        now: DateTime<Utc>,
        announce: bool,
    ) -> Result<T, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = query(format!(
            "UPDATE {} SET title = $1, themenfeld = $2, public = $3, content = $4, updated_at = $5 WHERE id = $6
             RETURNING organization_id",
            T::TABLE
        ))
        .bind(T::title(draft))
        .bind(T::themenfeld(draft).map(|t| t.slug()))
        .bind(T::is_public(draft))
        .bind(to_json(draft))
        .bind(now)
        .bind(id.to_string())
        .fetch_optional(&mut tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        search::index(
            &mut tx,
            T::KIND,
            id,
            T::title(draft),
            &T::search_text(draft),
        )
        .await?;
        if announce {
            let organization = OrganizationId(crate::uuid_column(&done, "organization_id")?);
            let updated = Announcement::ItemUpdated {
                collection: T::TABLE.into(),
                id,
            };
            outbox::record(&mut tx, organization, &updated, now).await?;
        }
        tx.commit().await?;
        self.get(id).await
    }

    /// Deletes a local item and announces the deletion to followers.
    pub async fn delete(&self, id: impl Into<Uuid>) -> Result<(), StoreError> {
        self.delete_row(id.into(), true).await
    }

    /// Deletes the local copy of a remote item.
    pub async fn delete_remote(&self, id: impl Into<Uuid>) -> Result<(), StoreError> {
        self.delete_row(id.into(), false).await
    }

    async fn delete_row(&self, id: Uuid, announce: bool) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = query(format!(
            "DELETE FROM {} WHERE id = $1 RETURNING organization_id",
            T::TABLE
        ))
        .bind(id.to_string())
        .fetch_optional(&mut tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        search::remove(&mut tx, T::KIND, id).await?;
        if announce {
            let organization = OrganizationId(crate::uuid_column(&done, "organization_id")?);
            let deleted = Announcement::ItemDeleted {
                collection: T::TABLE.into(),
                id,
            };
            outbox::record(&mut tx, organization, &deleted, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<T>, StoreError> {
        query(format!(
            "SELECT * FROM {} WHERE ($1 IS NULL OR organization_id = $1) AND ($2 IS NULL OR themenfeld = $2)
             AND (public = TRUE OR ($3 = FALSE AND ($7 IS NULL OR organization_id = $7
                  OR organization_id NOT IN (SELECT organization_id FROM remote_actors)
                  OR organization_id IN (SELECT target_id FROM follows WHERE follower_id = $7 AND accepted = TRUE))))
             AND ($6 IS NULL OR organization_id IN
                  (SELECT target_id FROM follows WHERE follower_id = $6 AND accepted = TRUE))
             ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5",
            T::TABLE
        ))
        .bind(filter.organization_id.map(|o| o.to_string()))
        .bind(filter.themenfeld.map(|t| t.slug()))
        .bind(filter.public_only)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .bind(filter.followed_by.map(|o| o.to_string()))
        .bind(filter.viewer.map(|o| o.to_string()))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(T::from_row)
        .collect()
    }

    /// How many public items `organization_id` has (an outbox's size).
    pub async fn count_public_of(
        &self,
        organization_id: OrganizationId,
    ) -> Result<i64, StoreError> {
        query(format!(
            "SELECT COUNT(*) FROM {} WHERE organization_id = $1 AND public = TRUE",
            T::TABLE
        ))
        .bind(organization_id.to_string())
        .scalar(self.pool)
        .await
    }

    /// How many items this node's organizations published.
    pub async fn count_local(&self) -> Result<i64, StoreError> {
        query(format!(
            "SELECT COUNT(*) FROM {} WHERE ap_id IS NULL",
            T::TABLE
        ))
        .scalar(self.pool)
        .await
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        query(format!("SELECT COUNT(*) FROM {}", T::TABLE))
            .scalar(self.pool)
            .await
    }
}

/// Joins the optional texts of an item for the search index.
pub(crate) fn join_text<'s>(parts: impl IntoIterator<Item = Option<&'s str>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join("\n")
}

/// An item type organizations publish: how its raw input is validated and
/// how the item is addressed. Shared by the use cases and federation.
pub trait Publishable: StoredItem + Serialize + Clone + Sync {
    /// Raw input as it arrives from the API or a form.
    type Input: DeserializeOwned + Serialize + Default + Clone + Send + Sync;
    /// URL segment and API collection name.
    const COLLECTION: &'static str;

    fn validate(input: &Self::Input) -> std::result::Result<Self::Draft, ValidationErrors>;
    fn to_input(draft: &Self::Draft) -> Self::Input;
    fn id(&self) -> Uuid;
    fn organization_id(&self) -> OrganizationId;
    fn draft(&self) -> &Self::Draft;
    fn created_at(&self) -> chrono::DateTime<Utc>;
    fn updated_at(&self) -> chrono::DateTime<Utc>;
    fn items(store: &crate::Store) -> ItemStore<'_, Self>;
}

macro_rules! publishable {
    ($item:ty, $input:ty, $collection:literal, $items:ident) => {
        impl Publishable for $item {
            type Input = $input;
            const COLLECTION: &'static str = $collection;

            fn validate(input: &$input) -> std::result::Result<Self::Draft, ValidationErrors> {
                input.validate()
            }
            fn to_input(draft: &Self::Draft) -> $input {
                <$input>::from(draft)
            }
            fn id(&self) -> Uuid {
                self.id.0
            }
            fn organization_id(&self) -> OrganizationId {
                self.organization_id
            }
            fn draft(&self) -> &Self::Draft {
                &self.content
            }
            fn created_at(&self) -> chrono::DateTime<Utc> {
                self.created_at
            }
            fn updated_at(&self) -> chrono::DateTime<Utc> {
                self.updated_at
            }
            fn items(store: &crate::Store) -> ItemStore<'_, Self> {
                store.$items()
            }
        }
    };
}
publishable!(Project, ProjectInput, "projects", projects);
publishable!(Question, QuestionInput, "questions", questions);
publishable!(Solution, SolutionInput, "solutions", solutions);
