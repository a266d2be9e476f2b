//! Where the traces of federation traffic are stored: ids of activities
//! already received (so a redelivery is a no-op) and tombstones of deleted
//! local objects (so a fetch answers 410 Gone).

use crate::db::{query, Pool};
use chrono::{DateTime, Utc};

use crate::StoreError;

pub struct Activities<'a> {
    pool: &'a Pool,
}

impl<'a> Activities<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Records that `activity_id` arrived. `false` means it had arrived
    /// before and must not take effect again.
    pub async fn record_received(
        &self,
        activity_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = query(
            "INSERT INTO received_activities (activity_id, received_at) VALUES ($1, $2)
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
        query("DELETE FROM received_activities WHERE activity_id = $1")
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
