//! Where e-mail waits to be sent. Written before anything is sent, deleted
//! once the SMTP server accepted it; a server that is down or refuses
//! leaves the row for a later attempt, so nothing is lost. Claims work like
//! the delivery queue's: a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::db::{query, Pool, Row};
use crate::outbox::skip_locked;
use crate::{uuid_column, StoreError};

/// A mail to send: one recipient, plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// For `List-Unsubscribe` (notifications only).
    pub unsubscribe_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: Uuid,
    pub mail: OutgoingMail,
    pub attempts: i64,
}

/// How many mails wait, and how many were given up, for the operations
/// page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailCounts {
    pub waiting: i64,
    pub failing: i64,
    pub dead: i64,
    pub oldest: Option<DateTime<Utc>>,
}

pub struct MailQueue<'a> {
    pool: &'a Pool,
}

impl<'a> MailQueue<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn enqueue(
        &self,
        mail: &OutgoingMail,
        now: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = insert(&mut tx, mail, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Mails due now, leased for `lease`.
    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let rows = query(format!(
            "UPDATE mail_queue SET claimed_until = $1 WHERE id IN (
                 SELECT id FROM mail_queue WHERE dead_at IS NULL AND next_attempt_at <= $2
                   AND (claimed_until IS NULL OR claimed_until <= $2)
                 ORDER BY next_attempt_at LIMIT $3 {})
             RETURNING id, recipient, subject, body, unsubscribe_url, attempts",
            skip_locked(self.pool.engine())
        ))
        .bind(now + lease)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// The SMTP server took it.
    pub async fn sent(&self, id: Uuid) -> Result<(), StoreError> {
        query("DELETE FROM mail_queue WHERE id = $1")
            .bind(id.to_string())
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// It could not be sent: retry at `retry_at`, or (`None`) give up.
    pub async fn failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        query(
            "UPDATE mail_queue SET attempts = attempts + 1, last_error = $1, claimed_until = NULL,
                 next_attempt_at = COALESCE($2, next_attempt_at), dead_at = CASE WHEN $3 THEN $4 ELSE NULL END
             WHERE id = $5",
        )
        .bind(error)
        .bind(retry_at)
        .bind(retry_at.is_none())
        .bind(now)
        .bind(id.to_string())
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Given-up mails older than `before` are deleted.
    pub async fn purge_dead(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(
            query("DELETE FROM mail_queue WHERE dead_at IS NOT NULL AND dead_at < $1")
                .bind(before)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn counts(&self) -> Result<MailCounts, StoreError> {
        let r = query(
            "SELECT COUNT(*) FILTER (WHERE dead_at IS NULL) AS waiting,
                    COUNT(*) FILTER (WHERE dead_at IS NULL AND attempts > 0) AS failing,
                    COUNT(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
                    MIN(CASE WHEN dead_at IS NULL THEN created_at END) AS oldest
             FROM mail_queue",
        )
        .fetch_one(self.pool)
        .await?;
        Ok(MailCounts {
            waiting: r.col("waiting")?,
            failing: r.col("failing")?,
            dead: r.col("dead")?,
            oldest: r.col("oldest")?,
        })
    }
}

/// Queues a mail inside the caller's transaction.
pub(crate) async fn insert(
    tx: &mut crate::db::Tx,
    mail: &OutgoingMail,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    query(
        "INSERT INTO mail_queue (id, recipient, subject, body, unsubscribe_url, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.to_string())
    .bind(&mail.recipient)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(mail.unsubscribe_url.as_deref())
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

fn mail_from_row(r: &Row) -> Result<QueuedMail, StoreError> {
    Ok(QueuedMail {
        id: uuid_column(r, "id")?,
        mail: OutgoingMail {
            recipient: r.col("recipient")?,
            subject: r.col("subject")?,
            body: r.col("body")?,
            unsubscribe_url: r.col("unsubscribe_url")?,
        },
        attempts: r.col("attempts")?,
    })
}
