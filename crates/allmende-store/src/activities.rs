//! Where the traces of federation traffic are stored: ids of activities
//! already received (so a redelivery is a no-op), activities accepted but
//! not yet processed (the inbox queue), and tombstones of deleted local
//! objects (so a fetch answers 410 Gone).

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::db::{query, Pool};
use crate::StoreError;

/// An accepted activity waiting to take effect.
#[derive(Clone, Debug)]
pub struct StoredActivity {
    pub id: Uuid,
    pub activity_id: String,
    pub actor_id: String,
    pub body: String,
    pub attempts: i64,
}

pub struct Activities<'a> {
    pool: &'a Pool,
}

impl<'a> Activities<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Stores a checked activity before the inbox answers: records its id
    /// (deduplication) and queues it, claimed by the caller until
    /// `now + lease`, in one transaction. `None` if it arrived before (or
    /// is queued already). A dead entry of an earlier delivery under the
    /// same id gives way to the new one.
    pub async fn accept(
        &self,
        activity_id: &str,
        actor_id: &str,
        body: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Uuid>, StoreError> {
        let peer = url::Url::parse(actor_id).ok().and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(port) => format!("{h}:{port}"),
                None => h.to_owned(),
            })
        });
        let mut tx = self.pool.begin().await?;
        let fresh = query(
            "INSERT INTO received_activities (activity_id, received_at) VALUES ($1, $2)
             ON CONFLICT (activity_id) DO NOTHING",
        )
        .bind(activity_id)
        .bind(now)
        .execute(&mut tx)
        .await?;
        if fresh.rows_affected() == 0 {
            return Ok(None);
        }
        let id = Uuid::now_v7();
        let queue = || {
            query(
                "INSERT INTO inbox_queue (id, activity_id, actor_id, body, next_attempt_at, claimed_until, received_at, peer)
                 VALUES ($1, $2, $3, $4, $5, $6, $5, $7) ON CONFLICT (activity_id) DO NOTHING",
            )
            .bind(id.to_string())
            .bind(activity_id)
            .bind(actor_id)
            .bind(body)
            .bind(now)
            .bind(now + lease)
            .bind(peer.clone())
        };
        let mut queued = queue().execute(&mut tx).await?.rows_affected();
        if queued == 0 {
            // Rarely: an entry under this id is there. A dead one (of an
            // earlier delivery) gives way; a live one is an operator's
            // retry of the same activity, queued meanwhile.
            let dead =
                query("DELETE FROM inbox_queue WHERE activity_id = $1 AND dead_at IS NOT NULL")
                    .bind(activity_id)
                    .execute(&mut tx)
                    .await?;
            if dead.rows_affected() > 0 {
                queued = queue().execute(&mut tx).await?.rows_affected();
            }
        }
        if queued == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The stored activity took effect (or never will): drop it.
    pub async fn processed(&self, id: Uuid) -> Result<(), StoreError> {
        query("DELETE FROM inbox_queue WHERE id = $1")
            .bind(id.to_string())
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// The stored activity was refused: drop it and forget its id, so a
    /// corrected delivery under the same id is processed.
    pub async fn refused(&self, id: Uuid, activity_id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        query("DELETE FROM inbox_queue WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut tx)
            .await?;
        query("DELETE FROM received_activities WHERE activity_id = $1")
            .bind(activity_id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Processing is given up (out of attempts, or refused for good): the
    /// entry is dead, kept with `error` for operators, and its id is
    /// forgotten, so a later delivery of it by the sender is processed.
    pub async fn dead(
        &self,
        id: Uuid,
        activity_id: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        query(
            "UPDATE inbox_queue SET attempts = attempts + 1, dead_at = $1, last_error = $2,
             claimed_until = NULL WHERE id = $3",
        )
        .bind(now)
        .bind(error)
        .bind(id.to_string())
        .execute(&mut tx)
        .await?;
        query("DELETE FROM received_activities WHERE activity_id = $1")
            .bind(activity_id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Processing failed for a passing reason: try again at `next`.
    pub async fn retry_stored(
        &self,
        id: Uuid,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE inbox_queue SET attempts = attempts + 1, next_attempt_at = $1,
             claimed_until = NULL, last_error = $2 WHERE id = $3",
        )
        .bind(next)
        .bind(error)
        .bind(id.to_string())
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Claims stored activities that are due and not being processed
    /// (their processing was interrupted, or is to be retried).
    pub async fn claim_stored(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<StoredActivity>, StoreError> {
        let skip_locked = crate::outbox::skip_locked(self.pool.engine());
        let rows = query(format!(
            "UPDATE inbox_queue SET claimed_until = $1 WHERE id IN (
                 SELECT id FROM inbox_queue WHERE dead_at IS NULL AND next_attempt_at <= $2
                   AND (claimed_until IS NULL OR claimed_until <= $2)
                 ORDER BY id LIMIT $3 {skip_locked})
             RETURNING id, activity_id, actor_id, body, attempts"
        ))
        .bind(now + lease)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                Ok(StoredActivity {
                    id: crate::uuid_column(r, "id")?,
                    activity_id: r.col("activity_id")?,
                    actor_id: r.col("actor_id")?,
                    body: r.col("body")?,
                    attempts: r.col("attempts")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        claimed.sort_by_key(|a| a.id);
        Ok(claimed)
    }

    /// Activities accepted but not yet processed (dead ones not counted).
    pub async fn stored_count(&self) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM inbox_queue WHERE dead_at IS NULL")
            .scalar(self.pool)
            .await
    }

    pub async fn add_tombstone(
        &self,
        ap_id: &str,
        former_type: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO tombstones (ap_id, former_type, deleted_at) VALUES ($1, $2, $3)
             ON CONFLICT (ap_id) DO NOTHING",
        )
        .bind(ap_id)
        .bind(former_type)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The former type and deletion time of a deleted local object.
    pub async fn tombstone(
        &self,
        ap_id: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row = query("SELECT former_type, deleted_at FROM tombstones WHERE ap_id = $1")
            .bind(ap_id)
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| Ok((r.col("former_type")?, r.col("deleted_at")?)))
            .transpose()
    }
}
