//! What may concern someone, and who wants to hear of it.
//!
//! An event (an answer arrived, an answer was accepted, an item arrived or
//! was shared with a group) is written in the transaction that made it,
//! whichever way it came — a form, the API, another node —, so none is
//! missed. A background job of the server claims events, finds the people
//! they concern and queues mails or digest entries. Each person hears of a
//! subject once ([`Notifications::first_time`]).

use allmende_domain::{ItemKind, OrganizationId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::{user_from_row, User, UserId};
use crate::db::{query, Pool, Row, Tx};
use crate::outbox::skip_locked;
use crate::{json_column, to_json, uuid_column, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Answer {
        answer: Uuid,
        question: Uuid,
    },
    Accepted {
        answer: Uuid,
        question: Uuid,
    },
    Item {
        kind: ItemKind,
        id: Uuid,
    },
    SharedWithGroup {
        group: Uuid,
        kind: ItemKind,
        id: Uuid,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedEvent {
    pub id: Uuid,
    pub event: Event,
    pub created_at: DateTime<Utc>,
}

/// What people watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    /// A service, by LeiKa key.
    Service,
    /// A group, by organization id.
    Group,
}

impl WatchKind {
    fn slug(self) -> &'static str {
        match self {
            WatchKind::Service => "service",
            WatchKind::Group => "group",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestEntry {
    pub line_de: String,
    pub line_en: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

pub(crate) async fn record(
    tx: &mut Tx,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    query("INSERT INTO notification_events (id, event, created_at) VALUES ($1, $2, $3)")
        .bind(Uuid::now_v7().to_string())
        .bind(to_json(event))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub struct Notifications<'a> {
    pool: &'a Pool,
}

impl<'a> Notifications<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedEvent>, StoreError> {
        let rows = query(format!(
            "UPDATE notification_events SET claimed_until = $1 WHERE id IN (
                 SELECT id FROM notification_events WHERE claimed_until IS NULL OR claimed_until <= $2
                 ORDER BY id LIMIT $3 {})
             RETURNING id, event, created_at",
            skip_locked(self.pool.engine())
        ))
        .bind(now + lease)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        let mut events = Vec::new();
        for r in &rows {
            let id = uuid_column(r, "id")?;
            match json_column::<Event>(r, "event") {
                Ok(event) => events.push(ClaimedEvent {
                    id,
                    event,
                    created_at: r.col("created_at")?,
                }),
                Err(e) => {
                    tracing::error!(error = %e, event = %id, "unreadable notification event dropped");
                    self.done(id).await?;
                }
            }
        }
        events.sort_by_key(|e| e.id);
        Ok(events)
    }

    pub async fn done(&self, id: Uuid) -> Result<(), StoreError> {
        query("DELETE FROM notification_events WHERE id = $1")
            .bind(id.to_string())
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Queues `mail` to `user` about `subject` unless they already heard
    /// of it, in one transaction; `false` if they had.
    pub async fn send_once(
        &self,
        user: UserId,
        subject: &str,
        mail: &crate::mail::OutgoingMail,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if !mark(&mut tx, user, subject, now).await? {
            return Ok(false);
        }
        crate::mail::insert(&mut tx, mail, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a line to `user`'s next digest unless they already heard of
    /// `subject`, in one transaction; `false` if they had.
    pub async fn digest_once(
        &self,
        user: UserId,
        subject: &str,
        lines: (&str, &str),
        url: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if !mark(&mut tx, user, subject, now).await? {
            return Ok(false);
        }
        query(
            "INSERT INTO digest_entries (id, user_id, line_de, line_en, url, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(user.to_string())
        .bind(lines.0)
        .bind(lines.1)
        .bind(url)
        .bind(now)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The people of an organization who want notifications, with their
    /// mode (`immediate` or `daily`).
    pub async fn recipients_in(
        &self,
        org: OrganizationId,
    ) -> Result<Vec<(User, String)>, StoreError> {
        query(
            "SELECT u.id, u.email, u.organization_id, u.role, u.created_at, u.notify FROM users u
             WHERE u.organization_id = $1 AND u.notify <> 'off' ORDER BY u.email",
        )
        .bind(org.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(with_mode)
        .collect()
    }

    /// The people watching any of `targets` of a kind, with their mode.
    pub async fn watchers(
        &self,
        kind: WatchKind,
        targets: &[String],
    ) -> Result<Vec<(User, String)>, StoreError> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let list = crate::outbox::placeholders(2, targets.len());
        let mut q = query(format!(
            "SELECT DISTINCT u.id, u.email, u.organization_id, u.role, u.created_at, u.notify
             FROM watches w JOIN users u ON u.id = w.user_id
             WHERE w.kind = $1 AND w.target IN ({list}) AND u.notify <> 'off' ORDER BY u.email"
        ))
        .bind(kind.slug());
        for t in targets {
            q = q.bind(t.as_str());
        }
        q.fetch_all(self.pool)
            .await?
            .iter()
            .map(with_mode)
            .collect()
    }

    pub async fn watch(
        &self,
        user: UserId,
        kind: WatchKind,
        target: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO watches (user_id, kind, target, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, kind, target) DO NOTHING",
        )
        .bind(user.to_string())
        .bind(kind.slug())
        .bind(target)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn unwatch(
        &self,
        user: UserId,
        kind: WatchKind,
        target: &str,
    ) -> Result<(), StoreError> {
        query("DELETE FROM watches WHERE user_id = $1 AND kind = $2 AND target = $3")
            .bind(user.to_string())
            .bind(kind.slug())
            .bind(target)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    pub async fn is_watching(
        &self,
        user: UserId,
        kind: WatchKind,
        target: &str,
    ) -> Result<bool, StoreError> {
        Ok(
            query("SELECT 1 AS one FROM watches WHERE user_id = $1 AND kind = $2 AND target = $3")
                .bind(user.to_string())
                .bind(kind.slug())
                .bind(target)
                .fetch_optional(self.pool)
                .await?
                .is_some(),
        )
    }

    /// What a person watches: (kind, target) pairs.
    pub async fn watches_of(&self, user: UserId) -> Result<Vec<(WatchKind, String)>, StoreError> {
        query("SELECT kind, target FROM watches WHERE user_id = $1 ORDER BY kind, target")
            .bind(user.to_string())
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|r| {
                let kind: String = r.col("kind")?;
                let kind = if kind == "group" {
                    WatchKind::Group
                } else {
                    WatchKind::Service
                };
                Ok((kind, r.col("target")?))
            })
            .collect()
    }

    /// People with digest entries from before `until` (the day's digest
    /// time): what came later waits for the next day's digest.
    pub async fn digests_due(&self, until: DateTime<Utc>) -> Result<Vec<User>, StoreError> {
        query(
            "SELECT u.id, u.email, u.organization_id, u.role, u.created_at FROM users u
             WHERE EXISTS (SELECT 1 FROM digest_entries d WHERE d.user_id = u.id AND d.created_at < $1)",
        )
        .bind(until)
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    /// Takes a person's digest entries from before `until` (oldest first),
    /// makes the mail of them with `compose` and queues it, in one
    /// transaction: the entries are gone only with the mail queued.
    pub async fn send_digest(
        &self,
        user: UserId,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        compose: impl FnOnce(&[DigestEntry]) -> crate::mail::OutgoingMail,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = query(
            "DELETE FROM digest_entries WHERE user_id = $1 AND created_at < $2
             RETURNING line_de, line_en, url, created_at",
        )
        .bind(user.to_string())
        .bind(until)
        .fetch_all(&mut tx)
        .await?;
        let mut entries = rows
            .iter()
            .map(|r| {
                Ok(DigestEntry {
                    line_de: r.col("line_de")?,
                    line_en: r.col("line_en")?,
                    url: r.col("url")?,
                    created_at: r.col("created_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if entries.is_empty() {
            return Ok(0);
        }
        entries.sort_by_key(|e| e.created_at);
        crate::mail::insert(&mut tx, &compose(&entries), now).await?;
        query("UPDATE users SET last_digest_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user.to_string())
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(entries.len())
    }
}

async fn mark(
    tx: &mut Tx,
    user: UserId,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = query(
        "INSERT INTO notifications_sent (user_id, subject, sent_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, subject) DO NOTHING",
    )
    .bind(user.to_string())
    .bind(subject)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn with_mode(r: &Row) -> Result<(User, String), StoreError> {
    Ok((user_from_row(r)?, r.col("notify")?))
}
