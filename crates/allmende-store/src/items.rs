//! Where projects, questions and solutions are stored: one generic store
//! for every [`Item`] type, each in the table its [`ItemKind`] names. Each
//! write goes together with its full-text index entry and, for this
//! node's own items, the announcement to followers, in one transaction.
//!
//! Reads for people and other servers go through [`ItemStore::read`] and
//! [`ItemStore::list`], which apply the visibility rule
//! (`visibility.rs`); [`ItemStore::get`] does not and is for the item's
//! own organization and for federation internals.

use std::marker::PhantomData;

use allmende_domain::item::ItemRecord;
use allmende_domain::{AnswerId, Item, ItemKind, OrganizationId, Themenfeld, Viewer};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{query, Pool, Row};
use crate::outbox::{self, Announcement};
use crate::visibility::{readable, viewer_arg};
use crate::{json_column, search, to_json, uuid_column, StoreError};

/// Which items to list, newest first.
#[derive(Clone, Debug)]
pub struct ListFilter {
    /// Who reads: decides whether followers-only items are listed.
    pub viewer: Viewer,
    pub organization_id: Option<OrganizationId>,
    pub themenfeld: Option<Themenfeld>,
    /// Only items of organizations this one follows (its home feed).
    pub followed_by: Option<OrganizationId>,
    pub limit: u32,
    pub offset: u32,
}

impl ListFilter {
    /// The newest items `viewer` may read, 50 at a time.
    pub fn for_viewer(viewer: Viewer) -> Self {
        Self {
            viewer,
            organization_id: None,
            themenfeld: None,
            followed_by: None,
            limit: 50,
            offset: 0,
        }
    }
}

impl Default for ListFilter {
    fn default() -> Self {
        Self::for_viewer(Viewer::Public)
    }
}

pub struct ItemStore<'a, T> {
    pool: &'a Pool,
    item: PhantomData<T>,
}

/// The groups a new local item is published to, and how its ActivityPub
/// id is made from its id.
struct InGroups<'g> {
    groups: &'g [OrganizationId],
    object_id: &'g (dyn Fn(Uuid) -> String + Sync),
}

/// Reads one row of an item table.
fn from_row<T: Item>(row: &Row) -> Result<T, StoreError> {
    let accepted_answer = if T::KIND == ItemKind::Question {
        let raw: Option<String> = row.col("accepted_answer_id")?;
        raw.map(|a| {
            a.parse()
                .map(AnswerId)
                .map_err(|_| StoreError::Corrupt(format!("accepted_answer_id {a:?}")))
        })
        .transpose()?
    } else {
        None
    };
    let record = ItemRecord {
        id: uuid_column(row, "id")?,
        organization_id: OrganizationId(uuid_column(row, "organization_id")?),
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
        accepted_answer,
    };
    Ok(T::from_record(record, json_column(row, "content")?))
}

impl<'a, T: Item> ItemStore<'a, T> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self {
            pool,
            item: PhantomData,
        }
    }

    fn table() -> &'static str {
        T::KIND.table()
    }

    /// Publishes a new item of one of this node's organizations.
    pub async fn insert(
        &self,
        organization_id: OrganizationId,
        draft: &T::Draft,
        now: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        self.insert_row(organization_id, draft, now, now, None, None)
            .await
    }

    /// Publishes a new item of one of this node's organizations to groups
    /// (FEP-1b12): the groups are recorded with the item, so its Create is
    /// addressed to them. `object_id` makes the item's ActivityPub id from
    /// its id.
    pub async fn insert_in_groups(
        &self,
        organization_id: OrganizationId,
        draft: &T::Draft,
        now: DateTime<Utc>,
        groups: &[OrganizationId],
        object_id: impl Fn(Uuid) -> String + Sync,
    ) -> Result<T, StoreError> {
        let in_groups = InGroups {
            groups,
            object_id: &object_id,
        };
        self.insert_row(organization_id, draft, now, now, None, Some(in_groups))
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
        self.insert_row(
            organization_id,
            draft,
            published,
            updated,
            Some(ap_id),
            None,
        )
        .await
    }

    async fn insert_row(
        &self,
        organization_id: OrganizationId,
        draft: &T::Draft,
        created: DateTime<Utc>,
        updated: DateTime<Utc>,
        ap_id: Option<&str>,
        in_groups: Option<InGroups<'_>>,
    ) -> Result<T, StoreError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        query(format!(
            "INSERT INTO {} (id, organization_id, title, themenfeld, public, content, created_at, updated_at, ap_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            Self::table()
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
        search::add_item::<T>(&mut tx, id, organization_id, draft, created).await?;
        let arrived = crate::notifications::Event::Item { kind: T::KIND, id };
        crate::notifications::record(&mut tx, &arrived, Utc::now()).await?;
        for group in in_groups.as_ref().map_or(&[][..], |g| g.groups) {
            let object_id = in_groups
                .as_ref()
                .map(|g| (g.object_id)(id))
                .unwrap_or_default();
            crate::groups::insert_item(
                &mut tx,
                &crate::Carried {
                    group: *group,
                    object_id: &object_id,
                    kind: T::KIND,
                    item_id: id,
                    author: organization_id,
                },
                created,
            )
            .await?;
        }
        if ap_id.is_none() {
            let created = Announcement::ItemCreated { item: T::KIND, id };
            outbox::record(&mut tx, organization_id, &created, updated).await?;
        }
        tx.commit().await?;
        self.get(id).await
    }

    /// The item, whoever asks: for its own organization (editing) and for
    /// federation. Pages, API and documents use [`ItemStore::read`].
    pub async fn get(&self, id: impl Into<Uuid>) -> Result<T, StoreError> {
        query(format!("SELECT * FROM {} WHERE id = $1", Self::table()))
            .bind(id.into().to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|row| from_row(&row))
    }

    /// The item if `viewer` may read it; `NotFound` otherwise, so that a
    /// restricted item's existence is not given away.
    pub async fn read(&self, viewer: Viewer, id: impl Into<Uuid>) -> Result<T, StoreError> {
        query(format!(
            "SELECT * FROM {table} t WHERE t.id = $1 AND {rule}",
            table = Self::table(),
            rule = readable("t", "$2"),
        ))
        .bind(id.into().to_string())
        .bind(viewer_arg(viewer))
        .fetch_optional(self.pool)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(|row| from_row(&row))
    }

    /// The local copy of a remote item, by its id on its home node.
    pub async fn find_by_ap_id(&self, ap_id: &str) -> Result<Option<T>, StoreError> {
        query(format!("SELECT * FROM {} WHERE ap_id = $1", Self::table()))
            .bind(ap_id)
            .fetch_optional(self.pool)
            .await?
            .map(|row| from_row(&row))
            .transpose()
    }

    /// The ActivityPub id of a remote copy; `None` for local items.
    pub async fn ap_id(&self, id: impl Into<Uuid>) -> Result<Option<String>, StoreError> {
        query(format!("SELECT ap_id FROM {} WHERE id = $1", Self::table()))
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
            Self::table()
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
        search::refresh_item(&mut tx, T::KIND, id).await?;
        if announce {
            let organization = OrganizationId(uuid_column(&done, "organization_id")?);
            let updated = Announcement::ItemUpdated { item: T::KIND, id };
            outbox::record(&mut tx, organization, &updated, now).await?;
        }
        tx.commit().await?;
        self.get(id).await
    }

    /// Deletes a local item and announces the deletion to followers.
    pub async fn delete(&self, id: impl Into<Uuid>) -> Result<(), StoreError> {
        self.delete_row(id.into(), true).await
    }

    /// When an item of this kind with `id` was deleted, and whether by its
    /// origin (a remote copy) rather than here.
    pub async fn withdrawn(
        &self,
        id: impl Into<Uuid>,
    ) -> Result<Option<(DateTime<Utc>, bool)>, StoreError> {
        let row =
            query("SELECT remote, withdrawn_at FROM withdrawn_items WHERE id = $1 AND kind = $2")
                .bind(id.into().to_string())
                .bind(T::KIND.collection())
                .fetch_optional(self.pool)
                .await?;
        row.map(|r| Ok((r.col("withdrawn_at")?, r.col("remote")?)))
            .transpose()
    }

    /// Deletes the local copy of a remote item.
    pub async fn delete_remote(&self, id: impl Into<Uuid>) -> Result<(), StoreError> {
        self.delete_row(id.into(), false).await
    }

    async fn delete_row(&self, id: Uuid, announce: bool) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let deleted = if announce {
            Some(self.deletion_of(&mut tx, id).await?)
        } else {
            None
        };
        // Checked here (not only by the read above): a concurrent delete
        // (PostgreSQL, read committed) may have taken the row since.
        query(format!(
            "DELETE FROM {} WHERE id = $1 RETURNING id",
            Self::table()
        ))
        .bind(id.to_string())
        .fetch_optional(&mut tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        search::remove(&mut tx, T::KIND, id).await?;
        crate::groups::forget_item(&mut tx, T::KIND, id).await?;
        query(
            "INSERT INTO withdrawn_items (id, kind, remote, withdrawn_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(T::KIND.collection())
        .bind(!announce)
        .bind(Utc::now())
        .execute(&mut tx)
        .await?;
        if let Some((organization, deleted)) = deleted {
            outbox::record(&mut tx, organization, &deleted, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The announcement of a local item's deletion, read before it goes:
    /// the Delete is sent where the Create and Updates went — the
    /// audience, and the author of an accepted answer to a public question
    /// (who got the Update that accepted it).
    async fn deletion_of(
        &self,
        tx: &mut crate::db::Tx,
        id: Uuid,
    ) -> Result<(OrganizationId, Announcement), StoreError> {
        let item: T = query(format!("SELECT * FROM {} WHERE id = $1", Self::table()))
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|row| from_row(&row))?;
        let public = T::is_public(item.draft());
        let mut also = Vec::new();
        if let (true, Some(accepted)) = (public, item.accepted_answer()) {
            if let Some(row) = query("SELECT organization_id FROM answers WHERE id = $1")
                .bind(accepted.0.to_string())
                .fetch_optional(&mut *tx)
                .await?
            {
                also.push(OrganizationId(uuid_column(&row, "organization_id")?));
            }
        }
        let groups = crate::groups::of_item(&mut *tx, T::KIND, id).await?;
        let deleted = Announcement::ItemDeleted {
            item: T::KIND,
            id,
            public,
            also,
            groups,
        };
        Ok((item.organization_id(), deleted))
    }

    /// The items `filter.viewer` may read, newest first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<T>, StoreError> {
        query(format!(
            "SELECT * FROM {table} t WHERE ($1 IS NULL OR t.organization_id = $1)
             AND ($2 IS NULL OR t.themenfeld = $2)
             AND ($3 IS NULL OR t.organization_id IN
                  (SELECT target_id FROM follows WHERE follower_id = $3 AND accepted = TRUE)
                  OR t.id IN (SELECT gi.item_id FROM group_items gi JOIN follows gf
                       ON gf.target_id = gi.group_id AND gf.follower_id = $3 AND gf.accepted = TRUE
                       WHERE gi.item_kind = '{kind}'))
             AND {rule}
             ORDER BY t.created_at DESC, t.id DESC LIMIT $5 OFFSET $6",
            table = Self::table(),
            kind = T::KIND.slug(),
            rule = readable("t", "$4"),
        ))
        .bind(filter.organization_id.map(|o| o.to_string()))
        .bind(filter.themenfeld.map(|t| t.slug()))
        .bind(filter.followed_by.map(|o| o.to_string()))
        .bind(viewer_arg(filter.viewer))
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    /// How many items of `organization_id` anyone may read (an outbox's
    /// size).
    pub async fn count_public_of(
        &self,
        organization_id: OrganizationId,
    ) -> Result<i64, StoreError> {
        query(format!(
            "SELECT COUNT(*) FROM {table} t WHERE t.organization_id = $1 AND {rule}",
            table = Self::table(),
            rule = readable("t", "$2"),
        ))
        .bind(organization_id.to_string())
        .bind(viewer_arg(Viewer::Public))
        .scalar(self.pool)
        .await
    }

    /// How many items this node's organizations published.
    pub async fn count_local(&self) -> Result<i64, StoreError> {
        query(format!(
            "SELECT COUNT(*) FROM {} WHERE ap_id IS NULL",
            Self::table()
        ))
        .scalar(self.pool)
        .await
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        query(format!("SELECT COUNT(*) FROM {}", Self::table()))
            .scalar(self.pool)
            .await
    }
}

impl ItemStore<'_, allmende_domain::Solution> {
    /// The solutions kept here that are variants of the solution with the
    /// ActivityPub id `original` (by the index on `variant_of`), oldest
    /// first.
    pub async fn variants_of(
        &self,
        original: &str,
        viewer: Viewer,
    ) -> Result<Vec<allmende_domain::Solution>, StoreError> {
        let variant_of = match self.pool.engine() {
            crate::Engine::Sqlite => "json_extract(t.content, '$.variant_of')",
            crate::Engine::Postgres => "((t.content::jsonb) ->> 'variant_of')",
        };
        query(format!(
            "SELECT * FROM solutions t WHERE {variant_of} = $1 AND {rule}
             ORDER BY t.created_at, t.id LIMIT 200",
            rule = readable("t", "$2"),
        ))
        .bind(original)
        .bind(viewer_arg(viewer))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }
}

impl<T: Item> ItemStore<'_, T> {
    /// This node's organizations' public items, oldest first (for the
    /// catalogue of publiccode.yml files).
    pub async fn local_public(&self, limit: u32) -> Result<Vec<T>, StoreError> {
        query(format!(
            "SELECT * FROM {} WHERE ap_id IS NULL AND public = TRUE ORDER BY created_at, id LIMIT $1",
            Self::table()
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }
}
