//! The durable outbox: announcements of local changes, the activities made
//! of them and their deliveries, with the state of failing peers.
//!
//! A local change records its [`Announcement`] in the same transaction as
//! the change itself (see [`record`]), so a crash can never keep the change
//! and lose the news of it. Workers — in any number of server processes —
//! then *claim* rows for a lease: an event is turned into one activity and
//! one delivery per inbox ([`Outbox::expand`], one transaction), a delivery
//! is sent and then deleted or rescheduled. A process that dies holding a
//! claim loses it when the lease runs out, so nothing is orphaned; on
//! PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so no two workers send
//! the same delivery.

use allmende_domain::{ItemKind, OrganizationId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{query, Engine, Pool, Row, Tx};
use crate::{to_json, StoreError};

/// What a local organization has to tell other nodes about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Announcement {
    /// A new item. (Earlier versions named the field `collection` and
    /// wrote `projects`; both are read.)
    ItemCreated {
        #[serde(alias = "collection")]
        item: ItemKind,
        id: Uuid,
    },
    /// A changed item, or a question whose accepted answer changed.
    ItemUpdated {
        #[serde(alias = "collection")]
        item: ItemKind,
        id: Uuid,
    },
    /// A deleted item, with the audience it had (announcements recorded
    /// before this was kept are taken as public).
    ItemDeleted {
        #[serde(alias = "collection")]
        item: ItemKind,
        id: Uuid,
        #[serde(default = "public_by_default")]
        public: bool,
        /// Organizations beyond the audience that heard of the item: the
        /// author of its accepted answer.
        #[serde(default)]
        also: Vec<OrganizationId>,
        /// The groups it was published to (their followers heard of it
        /// through them).
        #[serde(default)]
        groups: Vec<OrganizationId>,
    },
    AnswerCreated {
        id: Uuid,
    },
    /// The organization's own profile changed.
    ProfileUpdated,
    /// The organization moved to another node: `to` is its new actor id
    /// there (`Move` to its followers).
    Moved {
        to: String,
    },
    /// The organization asks to follow a remote one.
    Follow {
        target: OrganizationId,
        activity_id: String,
    },
    /// The organization stops following a remote one.
    Unfollow {
        target: OrganizationId,
        follow_activity_id: String,
    },
    /// The organization accepts a remote follower.
    AcceptFollow {
        follower: OrganizationId,
        follow_activity_id: String,
    },
    /// The organization refuses a follow request, or removes a follower.
    RejectFollow {
        follower: OrganizationId,
        follow_activity_id: String,
    },
    /// A local group passes a member's activity on to its followers
    /// (FEP-1b12): `activity` exactly as received or built, `hops` the
    /// groups it passed through so far, counting this one.
    GroupAnnounce {
        activity: serde_json::Value,
        hops: u8,
    },
    /// A local group's admins removed an item (by its ActivityPub id)
    /// from the group.
    GroupRemove {
        object: String,
    },
    /// The organization declared that it uses a solution.
    AdoptionDeclared {
        id: Uuid,
    },
    AdoptionUpdated {
        id: Uuid,
    },
    /// The organization withdrew its declaration (stored rows are gone,
    /// so what the Delete needs travels here).
    AdoptionWithdrawn {
        ap_id: String,
        solution: String,
        /// The solution's author, told even if it does not follow.
        solution_author: Option<OrganizationId>,
    },
    /// A declaration (by its row here) joined the adopters of one of the
    /// organization's solutions: its followers hear of it (`Add`).
    AdopterAdded {
        adoption: Uuid,
    },
    /// A declaration (by its ActivityPub id) left the adopters of one of
    /// the organization's solutions (`Remove`).
    AdopterRemoved {
        adoption: String,
        solution: String,
    },
}

fn public_by_default() -> bool {
    true
}

/// Records `announcement` by `organization` inside the transaction of the
/// change it announces.
pub(crate) async fn record(
    tx: &mut Tx,
    organization: OrganizationId,
    announcement: &Announcement,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO outbox_events (id, organization_id, announcement, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(organization.to_string())
    .bind(to_json(announcement))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// An announcement waiting to become an activity.
#[derive(Clone, Debug)]
pub struct OutboxEvent {
    pub id: Uuid,
    pub organization_id: OrganizationId,
    pub announcement: Announcement,
    /// Failed attempts to build it so far.
    pub attempts: i64,
}

/// A signed activity to deliver, made from an event.
#[derive(Clone, Debug)]
pub struct NewActivity {
    pub activity_id: String,
    /// Owner of the signing key: an organization id or `instance`.
    pub sender: String,
    pub key_id: String,
    pub body: String,
    /// `(inbox URL, host)` pairs, one per distinct inbox.
    pub inboxes: Vec<(String, String)>,
}

/// One activity for one inbox, claimed by a worker.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: Uuid,
    pub activity_id: String,
    pub sender: String,
    pub key_id: String,
    pub body: String,
    pub inbox: String,
    pub host: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

pub struct Outbox<'a> {
    pool: &'a Pool,
}

/// `FOR UPDATE SKIP LOCKED` where the engine has it. SQLite has one writer
/// at a time, so its claims cannot overlap anyway.
pub(crate) fn skip_locked(engine: Engine) -> &'static str {
    match engine {
        Engine::Postgres => "FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    }
}

/// `$first, $first+1, …` for `count` arguments.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn uuid_of(row: &Row, column: &str) -> Result<Uuid, StoreError> {
    crate::uuid_column(row, column)
}

impl<'a> Outbox<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Claims up to `limit` announcements, oldest first, until `now + lease`.
    pub async fn claim_events(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = query(format!(
            "UPDATE outbox_events SET claimed_until = $1 WHERE id IN (
                 SELECT id FROM outbox_events WHERE dead_at IS NULL
                   AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
                   AND (claimed_until IS NULL OR claimed_until <= $2)
                 ORDER BY id LIMIT $3 {})
             RETURNING id, organization_id, announcement, attempts",
            skip_locked(self.pool.engine())
        ))
        .bind(now + lease)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = uuid_of(r, "id")?;
            let read = || -> Result<OutboxEvent, StoreError> {
                Ok(OutboxEvent {
                    id,
                    organization_id: OrganizationId(uuid_of(r, "organization_id")?),
                    announcement: crate::json_column(r, "announcement")?,
                    attempts: r.col("attempts")?,
                })
            };
            match read() {
                Ok(event) => events.push(event),
                // One unreadable row (written by a newer version, or by
                // hand) is dead work, not a stop for all the others.
                Err(e) => {
                    tracing::error!(error = %e, event = %id, "unreadable announcement given up");
                    self.event_failed(id, &format!("unreadable: {e}"), None, now)
                        .await?;
                }
            }
        }
        // RETURNING does not keep the order of the subquery.
        events.sort_by_key(|e| e.id);
        Ok(events)
    }

    /// Replaces a claimed event by its activity and deliveries, in one
    /// transaction; `None` drops an event with nothing to send (its object
    /// is gone, or nobody is to hear of it).
    pub async fn expand(
        &self,
        event: Uuid,
        activity: Option<&NewActivity>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        tx.relax_durability().await?;
        let gone = query("DELETE FROM outbox_events WHERE id = $1")
            .bind(event.to_string())
            .execute(&mut tx)
            .await?;
        if gone.rows_affected() == 0 {
            // Another worker expanded it after our lease ran out.
            return Ok(());
        }
        if let Some(activity) = activity.filter(|a| !a.inboxes.is_empty()) {
            query(
                "INSERT INTO outgoing_activities (id, sender, key_id, body, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&activity.activity_id)
            .bind(&activity.sender)
            .bind(&activity.key_id)
            .bind(&activity.body)
            .bind(now)
            .execute(&mut tx)
            .await?;
            // Many rows per statement: a fan-out to hundreds of inboxes is a
            // handful of round trips, not hundreds.
            for chunk in activity.inboxes.chunks(100) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|i| {
                        let p = 3 + i * 3;
                        format!("(${}, $1, ${}, ${}, $2, $2)", p, p + 1, p + 2)
                    })
                    .collect();
                let mut statement = query(format!(
                    "INSERT INTO deliveries (id, activity_id, inbox, host, next_attempt_at, created_at)
                     VALUES {} ON CONFLICT (activity_id, inbox) DO NOTHING",
                    rows.join(", ")
                ))
                .bind(&activity.activity_id)
                .bind(now);
                for (inbox, host) in chunk {
                    statement = statement
                        .bind(Uuid::now_v7().to_string())
                        .bind(inbox)
                        .bind(host);
                }
                statement.execute(&mut tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops claimed events that turned out to have nothing to send (their
    /// object is gone, or nobody is to hear of it), all in one statement:
    /// an organization without followers publishing a thousand items a
    /// second should not cost the writer a thousand transactions more.
    pub async fn drop_events(&self, events: &[Uuid]) -> Result<(), StoreError> {
        for chunk in events.chunks(100) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut statement = query(format!(
                "DELETE FROM outbox_events WHERE id IN ({})",
                placeholders.join(", ")
            ));
            for id in chunk {
                statement = statement.bind(id.to_string());
            }
            statement.execute(self.pool).await?;
        }
        Ok(())
    }

    /// Building the event's activity failed: try again at `retry_at`, or,
    /// with `None`, give up — the event is dead, kept with `error`.
    pub async fn event_failed(
        &self,
        event: Uuid,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE outbox_events SET attempts = attempts + 1, last_error = $2, claimed_until = NULL,
             next_attempt_at = $3, dead_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END
             WHERE id = $1",
        )
        .bind(event.to_string())
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` due deliveries for `worker` until
    /// `now + lease`: at most a quarter retries of earlier failures, then
    /// new ones, then retries again if there is room — so a backlog of
    /// retries cannot starve new deliveries, nor the reverse. Deliveries
    /// to unreachable peers are paused.
    pub async fn claim_deliveries(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut claimed = Vec::new();
        let retry_share = limit / 4;
        let mut tx = self.pool.begin().await?;
        tx.relax_durability().await?;
        for (condition, share) in [
            ("d.attempts > 0", Some(retry_share)),
            ("d.attempts = 0", None),
            ("d.attempts > 0", None),
        ] {
            let room = limit - i64::try_from(claimed.len()).unwrap_or(limit);
            let wanted = share.map_or(room, |s| s.min(room));
            if wanted <= 0 {
                continue;
            }
            let rows = query(format!(
                "UPDATE deliveries SET claimed_until = $1, claimed_by = $2 WHERE id IN (
                     SELECT d.id FROM deliveries d
                     WHERE d.dead_at IS NULL AND {condition} AND d.next_attempt_at <= $3
                       AND (d.claimed_until IS NULL OR d.claimed_until <= $3)
                       AND NOT EXISTS (SELECT 1 FROM peers p
                                       WHERE p.host = d.host AND p.unreachable_since IS NOT NULL)
                     ORDER BY d.next_attempt_at, d.id LIMIT $4 {})
                 RETURNING id",
                skip_locked(self.pool.engine())
            ))
            .bind(now + lease)
            .bind(worker)
            .bind(now)
            .bind(wanted)
            .fetch_all(&mut tx)
            .await?;
            for row in &rows {
                claimed.push(uuid_of(row, "id")?);
            }
        }
        tx.commit().await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = query(format!(
            "SELECT d.id, d.activity_id, d.inbox, d.host, d.attempts, a.sender, a.key_id, a.body
             FROM deliveries d JOIN outgoing_activities a ON a.id = d.activity_id
             WHERE d.id IN ({}) ORDER BY d.next_attempt_at, d.id",
            placeholders(1, claimed.len())
        ));
        for id in &claimed {
            statement = statement.bind(id.to_string());
        }
        statement
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Delivery {
                    id: uuid_of(r, "id")?,
                    activity_id: r.col("activity_id")?,
                    sender: r.col("sender")?,
                    key_id: r.col("key_id")?,
                    body: r.col("body")?,
                    inbox: r.col("inbox")?,
                    host: r.col("host")?,
                    attempts: r.col("attempts")?,
                })
            })
            .collect()
    }

    /// Several deliveries arrived: deletes them,
    /// activities with no delivery left, and the failure records of their
    /// peers, in one transaction — a worker reports its finished
    /// deliveries in batches, so a busy fan-out does not commit once per
    /// inbox.
    pub async fn delivered_many(&self, done: &[Delivery]) -> Result<(), StoreError> {
        if done.is_empty() {
            return Ok(());
        }
        let mut activities: Vec<&str> = done.iter().map(|d| d.activity_id.as_str()).collect();
        activities.sort_unstable();
        activities.dedup();
        let mut hosts: Vec<&str> = done.iter().map(|d| d.host.as_str()).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut tx = self.pool.begin().await?;
        tx.relax_durability().await?;
        let mut statement = query(format!(
            "DELETE FROM deliveries WHERE id IN ({})",
            placeholders(1, done.len())
        ));
        for d in done {
            statement = statement.bind(d.id.to_string());
        }
        statement.execute(&mut tx).await?;
        let mut statement = query(format!(
            "DELETE FROM outgoing_activities WHERE id IN ({}) AND NOT EXISTS
             (SELECT 1 FROM deliveries d WHERE d.activity_id = outgoing_activities.id)",
            placeholders(1, activities.len())
        ));
        for a in &activities {
            statement = statement.bind(*a);
        }
        statement.execute(&mut tx).await?;
        let mut statement = query(format!(
            "DELETE FROM peers WHERE host IN ({})",
            placeholders(1, hosts.len())
        ));
        for h in &hosts {
            statement = statement.bind(*h);
        }
        statement.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A delivery failed in a way worth retrying: try again at `next`.
    /// The peer counts as failing from its first failure on, and as
    /// unreachable once it has failed for `unreachable_after`.
    pub async fn retry_later(
        &self,
        delivery: &Delivery,
        next: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
        unreachable_after: Duration,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        tx.relax_durability().await?;
        query(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $1,
             claimed_until = NULL, claimed_by = NULL, last_error = $2 WHERE id = $3",
        )
        .bind(next)
        .bind(error)
        .bind(delivery.id.to_string())
        .execute(&mut tx)
        .await?;
        query(
            "INSERT INTO peers (host, failing_since, last_error) VALUES ($1, $2, $3)
             ON CONFLICT (host) DO UPDATE SET last_error = excluded.last_error",
        )
        .bind(&delivery.host)
        .bind(now)
        .bind(error)
        .execute(&mut tx)
        .await?;
        query(
            "UPDATE peers SET unreachable_since = $1
             WHERE host = $2 AND unreachable_since IS NULL AND failing_since <= $3",
        )
        .bind(now)
        .bind(&delivery.host)
        .bind(now - unreachable_after)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A delivery is given up — refused, or out of attempts:
    /// it is dead, kept with `error` until an operator retries or drops
    /// it, or it is purged.
    pub async fn delivery_dead(
        &self,
        delivery: &Delivery,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE deliveries SET attempts = attempts + 1, dead_at = $1, last_error = $2,
             claimed_until = NULL, claimed_by = NULL WHERE id = $3",
        )
        .bind(now)
        .bind(error)
        .bind(delivery.id.to_string())
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The peer answered (a delivery, a probe, or an activity of its own):
    /// it is no longer failing, and paused deliveries to it resume.
    /// Called for every activity received, so it only reads unless the
    /// peer was failing (a DELETE would take SQLite's write lock each time).
    pub async fn peer_answered(&self, host: &str) -> Result<(), StoreError> {
        let failing: bool = query("SELECT EXISTS (SELECT 1 FROM peers WHERE host = $1)")
            .bind(host)
            .scalar(self.pool)
            .await?;
        if failing {
            query("DELETE FROM peers WHERE host = $1")
                .bind(host)
                .execute(self.pool)
                .await?;
        }
        Ok(())
    }

    /// Unreachable peers not probed since `before`, each with one of the
    /// inboxes waiting for it (whose origin the probe asks); marks them
    /// probed now.
    pub async fn peers_to_probe(
        &self,
        now: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let rows = query(
            "UPDATE peers SET probed_at = $1 WHERE unreachable_since IS NOT NULL
             AND (probed_at IS NULL OR probed_at <= $2)
             RETURNING host, (SELECT d.inbox FROM deliveries d WHERE d.host = peers.host
                              AND d.dead_at IS NULL LIMIT 1) AS inbox",
        )
        .bind(now)
        .bind(before)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.col("host")?, r.col("inbox")?)))
            .collect()
    }

    /// Gives up the claims of `worker` (a process shutting down), so other
    /// workers need not wait for the lease to run out.
    pub async fn release(&self, worker: &str) -> Result<(), StoreError> {
        query(
            "UPDATE deliveries SET claimed_until = NULL, claimed_by = NULL WHERE claimed_by = $1",
        )
        .bind(worker)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Gives up every claim. Only for a SQLite server starting up, before
    /// it serves: one process owns a SQLite file, so any claim found then
    /// belongs to a process that died. (Not in `Store::open`: the CLI opens
    /// the store while the server runs.)
    pub async fn release_all(&self) -> Result<(), StoreError> {
        query("UPDATE deliveries SET claimed_until = NULL, claimed_by = NULL WHERE claimed_until IS NOT NULL")
            .execute(self.pool)
            .await?;
        query("UPDATE outbox_events SET claimed_until = NULL WHERE claimed_until IS NOT NULL")
            .execute(self.pool)
            .await?;
        query("UPDATE inbox_queue SET claimed_until = NULL WHERE claimed_until IS NOT NULL")
            .execute(self.pool)
            .await?;
        query("UPDATE backfills SET claimed_until = NULL WHERE claimed_until IS NOT NULL")
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Events, received activities not yet processed, imports of followed
    /// organizations' items, and deliveries: all that will still happen
    /// without anyone doing anything (deliveries to unreachable peers and
    /// dead work do not count).
    pub async fn pending(&self) -> Result<i64, StoreError> {
        query(
            "SELECT (SELECT COUNT(*) FROM outbox_events WHERE dead_at IS NULL)
               + (SELECT COUNT(*) FROM inbox_queue WHERE dead_at IS NULL)
               + (SELECT COUNT(*) FROM backfills WHERE dead_at IS NULL)
               + (SELECT COUNT(*) FROM deliveries d WHERE d.dead_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM peers p
                                  WHERE p.host = d.host AND p.unreachable_since IS NOT NULL))",
        )
        .scalar(self.pool)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Delete announced before the audience was kept reads as it was
    /// sent then: public, nobody else named.
    #[test]
    fn deletions_recorded_before_audiences_read_as_public() {
        let id = Uuid::now_v7();
        let stored = format!(r#"{{"kind":"item_deleted","item":"project","id":"{id}"}}"#);
        let read: Announcement = serde_json::from_str(&stored).expect("old announcement");
        assert_eq!(
            read,
            Announcement::ItemDeleted {
                item: ItemKind::Project,
                id,
                public: true,
                also: Vec::new(),
                groups: Vec::new(),
            }
        );
        let followers_only = Announcement::ItemDeleted {
            item: ItemKind::Question,
            id,
            public: false,
            also: vec![OrganizationId(Uuid::now_v7())],
            groups: vec![OrganizationId(Uuid::now_v7())],
        };
        let again: Announcement =
            serde_json::from_str(&serde_json::to_string(&followers_only).expect("json"))
                .expect("new announcement");
        assert_eq!(again, followers_only);
    }
}
