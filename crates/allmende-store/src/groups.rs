//! Where groups keep what they carry: which items are in which group (on
//! the author's node, the group's node and a follower's node alike), which
//! activities a local group has announced (so none twice), whom its admins
//! blocked, and the log of their moderation. Membership itself is a
//! follow of the group (`follows.rs`).
//!
//! Every change a group announces is written with its announcement in one
//! transaction, as items are.

use allmende_domain::{ItemKind, OrganizationId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::db::{query, Pool, Row};
use crate::outbox::{self, Announcement};
use crate::{uuid_column, StoreError};

/// An item a group carries, as this node stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupItem {
    pub group_id: OrganizationId,
    /// The item's ActivityPub id.
    pub object_id: String,
    pub kind: ItemKind,
    /// The row here: a local item or the copy of a remote one.
    pub item_id: Uuid,
    pub author_id: OrganizationId,
    pub added_at: DateTime<Utc>,
}

/// One moderation action of a local group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModerationEntry {
    pub at: DateTime<Utc>,
    /// The admin's e-mail address, or `cli`.
    pub moderator: String,
    /// `remove-item`, `block-member`, `unblock-member`, `remove-member`.
    pub action: String,
    /// The item's id or the member's handle.
    pub subject: String,
}

/// How an item came into a group, for [`Groups::carry`].
pub struct Carried<'a> {
    pub group: OrganizationId,
    pub object_id: &'a str,
    pub kind: ItemKind,
    pub item_id: Uuid,
    pub author: OrganizationId,
}

pub struct Groups<'a> {
    pool: &'a Pool,
}

impl<'a> Groups<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Records that a group carries an item (again: nothing changes).
    pub async fn carry(&self, item: &Carried<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_item(&mut tx, item, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A local group announces the activity `activity_id`: records it (and,
    /// with `item`, that the group now carries the item) with the
    /// announcement, in one transaction. `false`, recording nothing, if the
    /// group announced that activity before.
    pub async fn announce(
        &self,
        group: OrganizationId,
        activity_id: &str,
        item: Option<&Carried<'_>>,
        announcement: &Announcement,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let fresh = query(
            "INSERT INTO group_announced (group_id, activity_id, announced_at) VALUES ($1, $2, $3)
             ON CONFLICT (group_id, activity_id) DO NOTHING",
        )
        .bind(group.to_string())
        .bind(activity_id)
        .bind(now)
        .execute(&mut tx)
        .await?
        .rows_affected()
            > 0;
        if !fresh {
            return Ok(false);
        }
        if let Some(item) = item {
            insert_item(&mut tx, item, now).await?;
        }
        outbox::record(&mut tx, group, announcement, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A local group drops an item (its admins removed it, or its author
    /// was blocked) and announces that, in one transaction. `false` if the
    /// group did not carry it.
    pub async fn remove_announced(
        &self,
        group: OrganizationId,
        object_id: &str,
        announcement: &Announcement,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let removed = query("DELETE FROM group_items WHERE group_id = $1 AND object_id = $2")
            .bind(group.to_string())
            .bind(object_id)
            .execute(&mut tx)
            .await?
            .rows_affected()
            > 0;
        if removed {
            outbox::record(&mut tx, group, announcement, now).await?;
            tx.commit().await?;
        }
        Ok(removed)
    }

    /// Forgets that `group` carries `object_id`; `true` if it did.
    pub async fn uncarry(
        &self,
        group: OrganizationId,
        object_id: &str,
    ) -> Result<bool, StoreError> {
        let done = query("DELETE FROM group_items WHERE group_id = $1 AND object_id = $2")
            .bind(group.to_string())
            .bind(object_id)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The groups that carry an item.
    pub async fn of_object(&self, object_id: &str) -> Result<Vec<OrganizationId>, StoreError> {
        query("SELECT group_id FROM group_items WHERE object_id = $1 ORDER BY group_id")
            .bind(object_id)
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|r| uuid_column(r, "group_id").map(OrganizationId))
            .collect()
    }

    /// Whether `group` carries `object_id`.
    pub async fn carries(
        &self,
        group: OrganizationId,
        object_id: &str,
    ) -> Result<bool, StoreError> {
        let n: i64 =
            query("SELECT COUNT(*) FROM group_items WHERE group_id = $1 AND object_id = $2")
                .bind(group.to_string())
                .bind(object_id)
                .scalar(self.pool)
                .await?;
        Ok(n > 0)
    }

    /// The items a group carries, newest first.
    pub async fn items(
        &self,
        group: OrganizationId,
        limit: u32,
    ) -> Result<Vec<GroupItem>, StoreError> {
        query(
            "SELECT * FROM group_items WHERE group_id = $1 ORDER BY added_at DESC, object_id LIMIT $2",
        )
        .bind(group.to_string())
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(item_from_row)
        .collect()
    }

    /// The items a group carries by one author.
    pub async fn items_by(
        &self,
        group: OrganizationId,
        author: OrganizationId,
    ) -> Result<Vec<GroupItem>, StoreError> {
        query("SELECT * FROM group_items WHERE group_id = $1 AND author_id = $2 ORDER BY added_at")
            .bind(group.to_string())
            .bind(author.to_string())
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(item_from_row)
            .collect()
    }

    /// How many activities a local group has announced (for operators).
    pub async fn count_announced(&self, group: OrganizationId) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM group_announced WHERE group_id = $1")
            .bind(group.to_string())
            .scalar(self.pool)
            .await
    }

    /// How many items `group` carries.
    pub async fn count_of(&self, group: OrganizationId) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM group_items WHERE group_id = $1")
            .bind(group.to_string())
            .scalar(self.pool)
            .await
    }

    /// Blocks `member` in `group`: it can no longer join or post.
    pub async fn block(
        &self,
        group: OrganizationId,
        member: OrganizationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO group_blocks (group_id, organization_id, blocked_at) VALUES ($1, $2, $3)
             ON CONFLICT (group_id, organization_id) DO NOTHING",
        )
        .bind(group.to_string())
        .bind(member.to_string())
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Lifts a block; `false` if there was none.
    pub async fn unblock(
        &self,
        group: OrganizationId,
        member: OrganizationId,
    ) -> Result<bool, StoreError> {
        let done = query("DELETE FROM group_blocks WHERE group_id = $1 AND organization_id = $2")
            .bind(group.to_string())
            .bind(member.to_string())
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn is_blocked(
        &self,
        group: OrganizationId,
        member: OrganizationId,
    ) -> Result<bool, StoreError> {
        let n: i64 =
            query("SELECT COUNT(*) FROM group_blocks WHERE group_id = $1 AND organization_id = $2")
                .bind(group.to_string())
                .bind(member.to_string())
                .scalar(self.pool)
                .await?;
        Ok(n > 0)
    }

    /// The organizations blocked in `group`.
    pub async fn blocked(&self, group: OrganizationId) -> Result<Vec<OrganizationId>, StoreError> {
        query("SELECT organization_id FROM group_blocks WHERE group_id = $1 ORDER BY blocked_at")
            .bind(group.to_string())
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|r| uuid_column(r, "organization_id").map(OrganizationId))
            .collect()
    }

    /// Records a moderation action.
    pub async fn log(
        &self,
        group: OrganizationId,
        moderator: &str,
        action: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO group_moderation (id, group_id, at, moderator, action, subject)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(group.to_string())
        .bind(now)
        .bind(moderator)
        .bind(action)
        .bind(subject)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The moderation log of `group`, newest first.
    pub async fn moderation_log(
        &self,
        group: OrganizationId,
        limit: u32,
    ) -> Result<Vec<ModerationEntry>, StoreError> {
        query(
            "SELECT at, moderator, action, subject FROM group_moderation WHERE group_id = $1
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(group.to_string())
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ModerationEntry {
                at: r.col("at")?,
                moderator: r.col("moderator")?,
                action: r.col("action")?,
                subject: r.col("subject")?,
            })
        })
        .collect()
    }
}

/// The groups that carry the item `(kind, id)` of this node.
pub(crate) async fn of_item(
    tx: &mut crate::db::Tx,
    kind: ItemKind,
    id: Uuid,
) -> Result<Vec<OrganizationId>, StoreError> {
    query(
        "SELECT group_id FROM group_items WHERE item_kind = $1 AND item_id = $2 ORDER BY group_id",
    )
    .bind(kind.slug())
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| uuid_column(r, "group_id").map(OrganizationId))
    .collect()
}

/// Forgets the item `(kind, id)` in every group (it was deleted here).
pub(crate) async fn forget_item(
    tx: &mut crate::db::Tx,
    kind: ItemKind,
    id: Uuid,
) -> Result<(), StoreError> {
    query("DELETE FROM group_items WHERE item_kind = $1 AND item_id = $2")
        .bind(kind.slug())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(crate) async fn insert_item(
    tx: &mut crate::db::Tx,
    item: &Carried<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let done = query(
        "INSERT INTO group_items (group_id, object_id, item_kind, item_id, author_id, added_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (group_id, object_id) DO NOTHING",
    )
    .bind(item.group.to_string())
    .bind(item.object_id)
    .bind(item.kind.slug())
    .bind(item.item_id.to_string())
    .bind(item.author.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        let shared = crate::notifications::Event::SharedWithGroup {
            group: item.group.0,
            kind: item.kind,
            id: item.item_id,
        };
        crate::notifications::record(tx, &shared, now).await?;
    }
    Ok(())
}

fn item_from_row(r: &Row) -> Result<GroupItem, StoreError> {
    let kind: String = r.col("item_kind")?;
    Ok(GroupItem {
        group_id: OrganizationId(uuid_column(r, "group_id")?),
        object_id: r.col("object_id")?,
        kind: ItemKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("group item kind {kind:?}")))?,
        item_id: uuid_column(r, "item_id")?,
        author_id: OrganizationId(uuid_column(r, "author_id")?),
        added_at: r.col("added_at")?,
    })
}
