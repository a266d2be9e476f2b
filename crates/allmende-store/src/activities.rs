//! Where the traces of federation traffic are stored: ids of activities
//! already received (so a redelivery is a no-op) and tombstones of deleted
//! local objects (so a fetch answers 410 Gone).

use chrono::{DateTime, Utc};
use sqlx::{Row, SqlitePool};

use crate::StoreError;

pub struct Activities<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Activities<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    /// Records that `activity_id` arrived. `false` means it had arrived
    /// before and must not take effect again.
    pub async fn record_received(
        &self,
        activity_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO received_activities (activity_id, received_at) VALUES (?, ?)
             ON CONFLICT (activity_id) DO NOTHING",
        )
        .bind(activity_id)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets a received activity whose processing failed, so that the
    /// sender's retry is processed.
    pub async fn forget_received(&self, activity_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM received_activities WHERE activity_id = ?")
            .bind(activity_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    pub async fn add_tombstone(
        &self,
        ap_id: &str,
        former_type: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tombstones (ap_id, former_type, deleted_at) VALUES (?, ?, ?)
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
        let row = sqlx::query("SELECT former_type, deleted_at FROM tombstones WHERE ap_id = ?")
            .bind(ap_id)
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("former_type")?, r.try_get("deleted_at")?)))
            .transpose()
    }
}
