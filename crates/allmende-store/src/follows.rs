//! Where follows are stored, in both directions: local organizations
//! following remote ones, and remote actors following local organizations.

use crate::db::{query, Pool, Tx};
use crate::outbox::{self, Announcement};
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

    /// A local organization asks to follow a remote one: records the
    /// pending follow and announces the Follow.
    pub async fn request(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        activity_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let follow = Announcement::Follow {
            target,
            activity_id: activity_id.to_owned(),
        };
        self.upsert_announced(follower, target, activity_id, false, &follow, now)
            .await
    }

    /// A remote actor follows a local organization, which accepts at once:
    /// records the follow and announces the Accept.
    pub async fn accept_follower(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        activity_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let accept = Announcement::AcceptFollow {
            follower,
            follow_activity_id: activity_id.to_owned(),
        };
        self.upsert_announced(follower, target, activity_id, true, &accept, now)
            .await
    }

    /// A local organization joins a group on this node: nothing is sent;
    /// `accepted` at once, or pending until the group's admins approve.
    pub async fn join_local(
        &self,
        follower: OrganizationId,
        group: OrganizationId,
        activity_id: &str,
        accepted: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        upsert(&mut tx, follower, group, activity_id, accepted, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A remote actor asks to follow a local organization that approves its
    /// followers: records the request, pending, without sending anything.
    /// A follower already accepted stays accepted.
    pub async fn record_follow_request(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        activity_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO follows (follower_id, target_id, activity_id, accepted, created_at)
             VALUES ($1, $2, $3, FALSE, $4)
             ON CONFLICT (follower_id, target_id) DO UPDATE SET activity_id = excluded.activity_id",
        )
        .bind(follower.to_string())
        .bind(target.to_string())
        .bind(activity_id)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// An admin approves a pending follower: marks it accepted and
    /// announces the Accept. `false` if there was no pending request.
    pub async fn approve_follower(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_announced(
            "UPDATE follows SET accepted = TRUE
             WHERE follower_id = $1 AND target_id = $2 AND accepted = FALSE RETURNING activity_id",
            (follower, target),
            target,
            |follow_activity_id| Announcement::AcceptFollow {
                follower,
                follow_activity_id,
            },
            now,
        )
        .await
    }

    /// An admin refuses a follow request or removes a follower: forgets
    /// the follow and announces the Reject, so the follower's server knows.
    /// `false` if there was none.
    pub async fn refuse_follower(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_announced(
            "DELETE FROM follows WHERE follower_id = $1 AND target_id = $2 RETURNING activity_id",
            (follower, target),
            target,
            |follow_activity_id| Announcement::RejectFollow {
                follower,
                follow_activity_id,
            },
            now,
        )
        .await
    }

    /// Runs `statement` on the follow of `(follower, target)` (it returns
    /// the follow's `activity_id`) and, in the same transaction, records
    /// by `announcer` what `announce` makes of that id. `false` when the
    /// statement touched no follow (nothing is recorded then).
    async fn change_announced(
        &self,
        statement: &str,
        (follower, target): (OrganizationId, OrganizationId),
        announcer: OrganizationId,
        announce: impl FnOnce(String) -> Announcement,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = query(statement)
            .bind(follower.to_string())
            .bind(target.to_string())
            .fetch_optional(&mut tx)
            .await?
        else {
            return Ok(false);
        };
        outbox::record(&mut tx, announcer, &announce(row.col("activity_id")?), now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records a follow and, in the same transaction, what is to be sent
    /// about it: by the follower while it is pending (its request), by the
    /// target once accepted (its Accept).
    async fn upsert_announced(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        activity_id: &str,
        accepted: bool,
        announcement: &Announcement,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let announcer = if accepted { target } else { follower };
        let mut tx = self.pool.begin().await?;
        upsert(&mut tx, follower, target, activity_id, accepted, now).await?;
        outbox::record(&mut tx, announcer, announcement, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A local organization stops following a remote one: forgets the
    /// follow and announces the Undo. `false` if there was none.
    pub async fn unfollow(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_announced(
            "DELETE FROM follows WHERE follower_id = $1 AND target_id = $2 RETURNING activity_id",
            (follower, target),
            follower,
            |follow_activity_id| Announcement::Unfollow {
                target,
                follow_activity_id,
            },
            now,
        )
        .await
    }

    /// A local organization's follow of `old` goes to `new`, where `old`
    /// moved, in one transaction: the old follow is forgotten (with an
    /// `Undo` when `old` is remote) and the new one requested (a `Follow`
    /// when `new` is remote; a local group is asked to admit it, pending).
    /// Nothing changes for a follower that follows `new` already.
    pub async fn redirect(
        &self,
        follower: OrganizationId,
        old: &Organization,
        new: &Organization,
        activity_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self.get(follower, new.id).await?.is_some() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let removed = query(
            "DELETE FROM follows WHERE follower_id = $1 AND target_id = $2 RETURNING activity_id",
        )
        .bind(follower.to_string())
        .bind(old.id.to_string())
        .fetch_optional(&mut tx)
        .await?;
        if let (Some(row), false) = (removed, old.is_local()) {
            let undo = Announcement::Unfollow {
                target: old.id,
                follow_activity_id: row.col("activity_id")?,
            };
            outbox::record(&mut tx, follower, &undo, now).await?;
        }
        upsert(&mut tx, follower, new.id, activity_id, false, now).await?;
        if !new.is_local() {
            let follow = Announcement::Follow {
                target: new.id,
                activity_id: activity_id.to_owned(),
            };
            outbox::record(&mut tx, follower, &follow, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a follow as it is (tests and the demo's set-up).
    pub async fn upsert(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        activity_id: &str,
        accepted: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        upsert(&mut tx, follower, target, activity_id, accepted, now).await?;
        tx.commit().await?;
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

    /// Marks a pending follow as accepted and, in the same transaction,
    /// queues the import of the target's existing public items (backfill).
    /// `false` if there was no such follow.
    pub async fn accept(
        &self,
        follower: OrganizationId,
        target: OrganizationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done =
            query("UPDATE follows SET accepted = TRUE WHERE follower_id = $1 AND target_id = $2")
                .bind(follower.to_string())
                .bind(target.to_string())
                .execute(&mut tx)
                .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::backfills::start(&mut tx, follower, target, now).await?;
        tx.commit().await?;
        Ok(true)
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

    /// The local organizations whose follow of `target` is accepted.
    pub async fn local_followers(
        &self,
        target: OrganizationId,
    ) -> Result<Vec<OrganizationId>, StoreError> {
        query(
            "SELECT f.follower_id FROM follows f WHERE f.target_id = $1 AND f.accepted = TRUE
             AND NOT EXISTS (SELECT 1 FROM remote_actors r WHERE r.organization_id = f.follower_id)
             ORDER BY f.follower_id",
        )
        .bind(target.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| crate::uuid_column(r, "follower_id").map(OrganizationId))
        .collect()
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

async fn upsert(
    tx: &mut Tx,
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
    .execute(&mut *tx)
    .await?;
    Ok(())
}
