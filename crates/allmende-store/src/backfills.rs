//! Imports of a followed organization's existing items. Following a remote
//! organization queues one (see [`crate::Follows::accept`]); a worker pages
//! through the organization's outbox, storing the position after each page,
//! so an import interrupted by a restart resumes where it stopped.

use allmende_domain::OrganizationId;
use chrono::{DateTime, Duration, Utc};

use crate::db::{query, Pool, Tx};
use crate::StoreError;

/// One import in progress.
#[derive(Clone, Debug)]
pub struct Backfill {
    pub follower_id: OrganizationId,
    pub target_id: OrganizationId,
    /// The outbox page to read next; `None` before the first.
    pub next_page: Option<String>,
    pub imported: i64,
    /// Outbox pages read so far.
    pub pages: i64,
    pub attempts: i64,
}

/// Queues the import of `target`'s items for `follower`; a dead import of
/// an earlier follow starts again from the beginning.
pub(crate) async fn start(
    tx: &mut Tx,
    follower: OrganizationId,
    target: OrganizationId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let handle: Option<String> = query("SELECT handle FROM organizations WHERE id = $1")
        .bind(target.to_string())
        .optional_scalar(&mut *tx)
        .await?;
    // A remote organization's handle is `name@host`: its peer is the host.
    let peer = handle.and_then(|h| h.split_once('@').map(|(_, host)| host.to_owned()));
    query(
        "INSERT INTO backfills (follower_id, target_id, not_before, created_at, peer) VALUES ($1, $2, $3, $3, $4)
         ON CONFLICT (follower_id, target_id) DO UPDATE SET dead_at = NULL, last_error = NULL,
           attempts = 0, next_page = NULL, imported = 0, pages = 0, not_before = excluded.not_before,
           peer = excluded.peer
         WHERE backfills.dead_at IS NOT NULL",
    )
    .bind(follower.to_string())
    .bind(target.to_string())
    .bind(now)
    .bind(peer)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub struct Backfills<'a> {
    pool: &'a Pool,
}

impl<'a> Backfills<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Claims one due import until `now + lease`.
    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Backfill>, StoreError> {
        let skip_locked = crate::outbox::skip_locked(self.pool.engine());
        let row = query(format!(
            "UPDATE backfills SET claimed_until = $1 WHERE (follower_id, target_id) IN (
                 SELECT follower_id, target_id FROM backfills WHERE dead_at IS NULL AND not_before <= $2
                   AND (claimed_until IS NULL OR claimed_until <= $2)
                 ORDER BY created_at LIMIT 1 {skip_locked})
             RETURNING follower_id, target_id, next_page, imported, pages, attempts"
        ))
        .bind(now + lease)
        .bind(now)
        .fetch_optional(self.pool)
        .await?;
        row.map(|r| {
            Ok(Backfill {
                follower_id: OrganizationId(crate::uuid_column(&r, "follower_id")?),
                target_id: OrganizationId(crate::uuid_column(&r, "target_id")?),
                next_page: r.col("next_page")?,
                imported: r.col("imported")?,
                pages: r.col("pages")?,
                attempts: r.col("attempts")?,
            })
        })
        .transpose()
    }

    /// Records a page read: continue at `next_page`, or finish on `None`.
    pub async fn advance(
        &self,
        job: &Backfill,
        next_page: Option<&str>,
        imported: i64,
    ) -> Result<(), StoreError> {
        let statement = match next_page {
            None => query("DELETE FROM backfills WHERE follower_id = $1 AND target_id = $2")
                .bind(job.follower_id.to_string())
                .bind(job.target_id.to_string()),
            Some(page) => query(
                "UPDATE backfills SET next_page = $3, imported = $4, pages = pages + 1, attempts = 0, claimed_until = NULL
                 WHERE follower_id = $1 AND target_id = $2",
            )
            .bind(job.follower_id.to_string())
            .bind(job.target_id.to_string())
            .bind(page)
            .bind(imported),
        };
        statement.execute(self.pool).await?;
        Ok(())
    }

    /// A page could not be read: try again at `retry_at`, or, with `None`,
    /// give up — the import is dead, kept with `error`.
    pub async fn failed(
        &self,
        job: &Backfill,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE backfills SET attempts = attempts + 1, last_error = $3, claimed_until = NULL,
             not_before = COALESCE($4, not_before), dead_at = CASE WHEN $4 IS NULL THEN $5 ELSE NULL END
             WHERE follower_id = $1 AND target_id = $2",
        )
        .bind(job.follower_id.to_string())
        .bind(job.target_id.to_string())
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Imports not yet finished (dead ones not counted).
    pub async fn count(&self) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM backfills WHERE dead_at IS NULL")
            .scalar(self.pool)
            .await
    }
}
