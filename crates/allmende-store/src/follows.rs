//! Where follows are stored, in both directions: local organizations
//! following remote ones, and remote actors following local organizations.

use crate::db::{query, Pool};
use allmende_domain::{Organization, OrganizationId};
use chrono::{DateTime, Utc};

use crate::organizations::from_row as organization_from_row;
use crate::StoreError;

/// One follow relation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Follow {
    pub follower_id: OrganizationId,
    pub target_id: OrganizationId,
    /// The id of the Follow activity, which Accept, Reject and Undo name.
    pub activity_id: String,
    pub accepted: bool,
}

pub struct Follows<'a> {
    pool: &'a Pool,
}

impl<'a> Follows<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Records a follow (or renews it under a new activity id).
    pub async fn upsert(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        activity_id: &str,
        accepted: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO follows (follower_id, target_id, activity_id, accepted, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (follower_id, target_id) DO UPDATE SET activity_id = excluded.activity_id,
             accepted = excluded.accepted",
        )
        .bind(follower.to_string())
        .bind(target.to_string())
        .bind(activity_id)
        .bind(accepted)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn get(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
    ) -> Result<Option<Follow>, StoreError> {
        let row = query("SELECT * FROM follows WHERE follower_id = $1 AND target_id = $2")
            .bind(follower.to_string())
            .bind(target.to_string())
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| {
            let id = |c: &str| -> Result<OrganizationId, StoreError> {
                crate::uuid_column(&r, c).map(OrganizationId)
            };
            Ok(Follow {
                follower_id: id("follower_id")?,
                target_id: id("target_id")?,
                activity_id: r.col("activity_id")?,
                accepted: r.col("accepted")?,
            })
        })
        .transpose()
    }

    /// The follow a Follow activity created, by the activity's id.
    pub async fn by_activity_id(&self, activity_id: &str) -> Result<Option<Follow>, StoreError> {
        let Some(row) = query("SELECT follower_id, target_id FROM follows WHERE activity_id = $1")
            .bind(activity_id)
            .fetch_optional(self.pool)
            .await?
        else {
            return Ok(None);
        };
        let (follower, target): (String, String) = (row.col("follower_id")?, row.col("target_id")?);
        let parse = |s: &str| {
            s.parse()
                .map(OrganizationId)
                .map_err(|_| StoreError::Corrupt(format!("follow id {s:?}")))
        };
        self.get(parse(&follower)?, parse(&target)?).await
    }

    /// Whether any local organization follows (or asked to follow) `target`.
    pub async fn has_local_follower(&self, target: OrganizationId) -> Result<bool, StoreError> {
        query(
            "SELECT EXISTS (SELECT 1 FROM follows f WHERE f.target_id = $1
             AND NOT EXISTS (SELECT 1 FROM remote_actors r WHERE r.organization_id = f.follower_id))",
        )
        .bind(target.to_string())
        .scalar(self.pool)
        .await
    }

    /// Whether users of `reader` may read the restricted (followers-only)
    /// items of `author`: their own, those of organizations on this node,
    /// and those of remote organizations `reader` follows.
    pub async fn may_read_restricted(
        &self,
        reader: OrganizationId,
        author: OrganizationId,
    ) -> Result<bool, StoreError> {
        if reader == author {
            return Ok(true);
        }
        query(
            "SELECT NOT EXISTS (SELECT 1 FROM remote_actors WHERE organization_id = $2)
             OR EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND target_id = $2 AND accepted = TRUE)",
        )
        .bind(reader.to_string())
        .bind(author.to_string())
        .scalar(self.pool)
        .await
    }

    /// Marks a pending follow as accepted; `false` if there was none.
    pub async fn accept(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
    ) -> Result<bool, StoreError> {
        let done =
            query("UPDATE follows SET accepted = TRUE WHERE follower_id = $1 AND target_id = $2")
                .bind(follower.to_string())
                .bind(target.to_string())
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends a follow; `false` if there was none.
    pub async fn remove(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
    ) -> Result<bool, StoreError> {
        let done = query("DELETE FROM follows WHERE follower_id = $1 AND target_id = $2")
            .bind(follower.to_string())
            .bind(target.to_string())
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The distinct inboxes that receive what `target` publishes: one per
    /// shared inbox, one per follower without.
    pub async fn follower_inboxes(
        &self,
        target: OrganizationId,
    ) -> Result<Vec<String>, StoreError> {
        query(
            "SELECT DISTINCT COALESCE(r.shared_inbox, r.inbox) AS inbox FROM follows f
             JOIN remote_actors r ON r.organization_id = f.follower_id
             WHERE f.target_id = $1 AND f.accepted = TRUE ORDER BY 1",
        )
        .bind(target.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| r.col("inbox"))
        .collect::<Result<_, _>>()
    }

    /// Who follows `target`, with whether the follow is accepted.
    pub async fn followers(
        &self,
        target: OrganizationId,
    ) -> Result<Vec<(Organization, bool)>, StoreError> {
        self.related("f.follower_id", "f.target_id", target).await
    }

    /// Whom `follower` follows, with whether the follow is accepted.
    pub async fn following(
        &self,
        follower: OrganizationId,
    ) -> Result<Vec<(Organization, bool)>, StoreError> {
        self.related("f.target_id", "f.follower_id", follower).await
    }

    async fn related(
        &self,
        other: &'static str,
        this: &'static str,
        id: OrganizationId,
    ) -> Result<Vec<(Organization, bool)>, StoreError> {
        query(format!(
            "SELECT o.*, r.actor_id, r.profile_url, f.accepted FROM organizations o
             LEFT JOIN remote_actors r ON r.organization_id = o.id
             JOIN follows f ON {other} = o.id WHERE {this} = $1 ORDER BY lower(o.name), o.name",
        ))
        .bind(id.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| Ok((organization_from_row(r)?, r.col("accepted")?)))
        .collect()
    }

    pub async fn count_following(&self, follower: OrganizationId) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM follows WHERE follower_id = $1 AND accepted = TRUE")
            .bind(follower.to_string())
            .scalar(self.pool)
            .await
    }

    pub async fn count_followers(&self, target: OrganizationId) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM follows WHERE target_id = $1 AND accepted = TRUE")
            .bind(target.to_string())
            .scalar(self.pool)
            .await
    }
}
