//! What operators see of the background work and what they can do about
//! the part that does not finish by itself.
//!
//! Work is *stuck* when it is dead — an announcement, delivery, received
//! activity or backfill that ran out of attempts or was refused for good,
//! kept with its last error — or *paused*: a delivery to a peer that has
//! been unreachable for a while. Stuck work is grouped by peer (the host
//! it goes to or came from; announcements belong to this node); operators
//! retry it (dead work starts over, a paused peer is tried again at once)
//! or drop it. Paused deliveries expire after a configurable time, and dead
//! work is purged after another, so nothing stays forever.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{query, Pool, Row};
use crate::StoreError;

/// The queue's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct QueueStatus {
    /// Announcements not yet turned into activities.
    pub events: i64,
    /// Deliveries not yet done (including paused ones, not dead ones).
    pub deliveries: i64,
    /// Deliveries due now and not claimed.
    pub due: i64,
    /// Deliveries claimed by a worker right now.
    pub in_flight: i64,
    /// Deliveries that failed at least once and wait for a retry.
    pub retrying: i64,
    /// Deliveries paused because their peer is unreachable.
    pub paused: i64,
    /// Dead work of every kind, kept for operators.
    pub dead: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub failing_peers: Vec<PeerStatus>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PeerStatus {
    pub host: String,
    pub failing_since: DateTime<Utc>,
    pub unreachable_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Deliveries waiting for it (not dead).
    pub pending: i64,
}

/// A kind of background job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A local change not yet turned into an activity.
    Announcement,
    /// One activity for one inbox.
    Delivery,
    /// An activity received from another server.
    Activity,
    /// The import of a followed organization's items.
    Backfill,
}

impl JobKind {
    fn parse(raw: &str) -> Result<Self, StoreError> {
        match raw {
            "announcement" => Ok(Self::Announcement),
            "delivery" => Ok(Self::Delivery),
            "activity" => Ok(Self::Activity),
            "backfill" => Ok(Self::Backfill),
            other => Err(StoreError::Corrupt(format!("job kind {other:?}"))),
        }
    }
}

/// Stuck work of one kind and state for one peer.
#[derive(Clone, Debug, Serialize)]
pub struct StuckWork {
    /// The peer's host (`host[:port]`); `None` for this node's own
    /// announcements.
    pub peer: Option<String>,
    pub kind: JobKind,
    /// Paused (a delivery to an unreachable peer) rather than dead.
    pub paused: bool,
    pub count: i64,
    /// When the oldest of them died (or was queued, when paused).
    pub since: DateTime<Utc>,
    /// The error of the most recent one.
    pub last_error: Option<String>,
}

/// Which stuck work an operator acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything of one peer (`host[:port]`).
    Peer(String),
    /// This node's dead announcements.
    Local,
    /// All stuck work.
    All,
}

impl Scope {
    fn peer(&self) -> Option<String> {
        match self {
            Scope::Peer(host) => Some(host.clone()),
            _ => None,
        }
    }

    /// Whether the scope covers this node's announcements.
    fn includes_local(&self) -> bool {
        matches!(self, Scope::Local | Scope::All)
    }

    /// Whether the scope covers work of peers.
    fn includes_peers(&self) -> bool {
        matches!(self, Scope::Peer(_) | Scope::All)
    }
}

/// How much work an operator's action touched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Touched {
    pub announcements: u64,
    pub deliveries: u64,
    pub activities: u64,
    pub backfills: u64,
    /// Unreachable peers to be tried again at once (retry only).
    pub peers: u64,
}

impl Touched {
    pub fn total(&self) -> u64 {
        self.announcements + self.deliveries + self.activities + self.backfills
    }
}

/// A delivery counts as paused while its peer is unreachable.
const PAUSED: &str =
    "EXISTS (SELECT 1 FROM peers p WHERE p.host = d.host AND p.unreachable_since IS NOT NULL)";

pub struct Queue<'a> {
    pool: &'a Pool,
}

impl<'a> Queue<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn status(&self, now: DateTime<Utc>) -> Result<QueueStatus, StoreError> {
        let row = query(format!(
            "SELECT (SELECT COUNT(*) FROM outbox_events WHERE dead_at IS NULL) AS events,
                    (SELECT COUNT(*) FROM deliveries WHERE dead_at IS NULL) AS deliveries,
                    (SELECT COUNT(*) FROM deliveries d WHERE d.dead_at IS NULL AND d.next_attempt_at <= $1
                       AND (d.claimed_until IS NULL OR d.claimed_until <= $1) AND NOT {PAUSED}) AS due,
                    (SELECT COUNT(*) FROM deliveries WHERE dead_at IS NULL AND claimed_until > $1) AS in_flight,
                    (SELECT COUNT(*) FROM deliveries WHERE dead_at IS NULL AND attempts > 0) AS retrying,
                    (SELECT COUNT(*) FROM deliveries d WHERE d.dead_at IS NULL AND {PAUSED}) AS paused,
                    (SELECT COUNT(*) FROM deliveries WHERE dead_at IS NOT NULL)
                      + (SELECT COUNT(*) FROM outbox_events WHERE dead_at IS NOT NULL)
                      + (SELECT COUNT(*) FROM inbox_queue WHERE dead_at IS NOT NULL)
                      + (SELECT COUNT(*) FROM backfills WHERE dead_at IS NOT NULL) AS dead,
                    (SELECT MIN(created_at) FROM deliveries WHERE dead_at IS NULL) AS oldest_delivery,
                    (SELECT MIN(created_at) FROM outbox_events WHERE dead_at IS NULL) AS oldest_event"
        ))
        .bind(now)
        .fetch_one(self.pool)
        .await?;
        let oldest: Option<DateTime<Utc>> = row.col("oldest_delivery")?;
        let oldest_event: Option<DateTime<Utc>> = row.col("oldest_event")?;
        let peers = query(
            "SELECT p.host, p.failing_since, p.unreachable_since, p.last_error,
                    (SELECT COUNT(*) FROM deliveries d WHERE d.host = p.host AND d.dead_at IS NULL) AS pending
             FROM peers p ORDER BY p.failing_since, p.host",
        )
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(PeerStatus {
                host: r.col("host")?,
                failing_since: r.col("failing_since")?,
                unreachable_since: r.col("unreachable_since")?,
                last_error: r.col("last_error")?,
                pending: r.col("pending")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
        Ok(QueueStatus {
            events: row.col("events")?,
            deliveries: row.col("deliveries")?,
            due: row.col("due")?,
            in_flight: row.col("in_flight")?,
            retrying: row.col("retrying")?,
            paused: row.col("paused")?,
            dead: row.col("dead")?,
            oldest_pending: match (oldest, oldest_event) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            failing_peers: peers,
        })
    }

    /// Stuck work, by peer (this node's announcements first), kind and
    /// state.
    pub async fn stuck(&self) -> Result<Vec<StuckWork>, StoreError> {
        let rows = query(format!(
            "WITH stuck AS (
                 SELECT CAST(NULL AS TEXT) AS peer, 'announcement' AS kind, CAST(0 AS BIGINT) AS paused,
                        dead_at AS since, last_error AS error
                   FROM outbox_events WHERE dead_at IS NOT NULL
                 UNION ALL
                 SELECT d.host, 'delivery', CAST(CASE WHEN d.dead_at IS NULL THEN 1 ELSE 0 END AS BIGINT),
                        COALESCE(d.dead_at, d.created_at), d.last_error
                   FROM deliveries d WHERE d.dead_at IS NOT NULL OR {PAUSED}
                 UNION ALL
                 SELECT peer, 'activity', CAST(0 AS BIGINT), dead_at, last_error
                   FROM inbox_queue WHERE dead_at IS NOT NULL
                 UNION ALL
                 SELECT peer, 'backfill', CAST(0 AS BIGINT), dead_at, last_error
                   FROM backfills WHERE dead_at IS NOT NULL
             ), ranked AS (
                 SELECT peer, kind, paused, since, error,
                        ROW_NUMBER() OVER (PARTITION BY peer, kind, paused ORDER BY since DESC) AS position,
                        COUNT(*) OVER (PARTITION BY peer, kind, paused) AS n,
                        MIN(since) OVER (PARTITION BY peer, kind, paused) AS first_since
                   FROM stuck
             )
             SELECT peer, kind, paused, n, first_since, error FROM ranked WHERE position = 1
             ORDER BY peer IS NOT NULL, peer, kind, paused"
        ))
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(stuck_from_row).collect()
    }

    /// Dead work in `scope` starts over (attempts reset, due now), and
    /// paused deliveries in it are tried again at once (their peers no
    /// longer count as unreachable until they fail again).
    pub async fn retry(&self, scope: &Scope, now: DateTime<Utc>) -> Result<Touched, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut touched = Touched::default();
        if scope.includes_local() {
            touched.announcements = query(
                "UPDATE outbox_events SET dead_at = NULL, attempts = 0, next_attempt_at = NULL,
                 claimed_until = NULL WHERE dead_at IS NOT NULL",
            )
            .execute(&mut tx)
            .await?
            .rows_affected();
        }
        if !scope.includes_peers() {
            tx.commit().await?;
            return Ok(touched);
        }
        let now = Some(now);
        touched.deliveries = for_peers(
            &mut tx,
            scope,
            now,
            "UPDATE deliveries SET dead_at = NULL, attempts = 0, next_attempt_at = $2,
             claimed_until = NULL, claimed_by = NULL WHERE dead_at IS NOT NULL AND {peer}",
            "host",
        )
        .await?;
        // Paused deliveries are due at once, their peers no longer
        // unreachable (until they fail again).
        for_peers(
            &mut tx,
            scope,
            now,
            "UPDATE deliveries SET next_attempt_at = $2 WHERE dead_at IS NULL AND {peer} AND host IN
               (SELECT host FROM peers WHERE unreachable_since IS NOT NULL)",
            "host",
        )
        .await?;
        touched.peers = for_peers(
            &mut tx,
            scope,
            None,
            "DELETE FROM peers WHERE unreachable_since IS NOT NULL AND {peer}",
            "host",
        )
        .await?;
        // A received activity counts as received again: a redelivery by
        // its sender meanwhile is then a duplicate.
        for_peers(
            &mut tx,
            scope,
            now,
            "INSERT INTO received_activities (activity_id, received_at)
             SELECT activity_id, $2 FROM inbox_queue WHERE dead_at IS NOT NULL AND {peer}
             ON CONFLICT (activity_id) DO NOTHING",
            "peer",
        )
        .await?;
        touched.activities = for_peers(
            &mut tx,
            scope,
            now,
            "UPDATE inbox_queue SET dead_at = NULL, attempts = 0, next_attempt_at = $2,
             claimed_until = NULL WHERE dead_at IS NOT NULL AND {peer}",
            "peer",
        )
        .await?;
        touched.backfills = for_peers(
            &mut tx,
            scope,
            now,
            "UPDATE backfills SET dead_at = NULL, attempts = 0, not_before = $2,
             claimed_until = NULL WHERE dead_at IS NOT NULL AND {peer}",
            "peer",
        )
        .await?;
        tx.commit().await?;
        Ok(touched)
    }

    /// Deletes the dead work and paused deliveries in `scope`; work that
    /// is still being tried is left alone.
    pub async fn drop_stuck(&self, scope: &Scope) -> Result<Touched, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut touched = Touched::default();
        if scope.includes_local() {
            touched.announcements = query("DELETE FROM outbox_events WHERE dead_at IS NOT NULL")
                .execute(&mut tx)
                .await?
                .rows_affected();
        }
        if !scope.includes_peers() {
            tx.commit().await?;
            return Ok(touched);
        }
        touched.deliveries = for_peers(
            &mut tx,
            scope,
            None,
            &format!(
                "DELETE FROM deliveries WHERE id IN (SELECT d.id FROM deliveries d
                   WHERE (d.dead_at IS NOT NULL OR {PAUSED}) AND {{peer}})"
            ),
            "d.host",
        )
        .await?;
        delete_orphaned_activities(&mut tx).await?;
        touched.activities = for_peers(
            &mut tx,
            scope,
            None,
            "DELETE FROM inbox_queue WHERE dead_at IS NOT NULL AND {peer}",
            "peer",
        )
        .await?;
        touched.backfills = for_peers(
            &mut tx,
            scope,
            None,
            "DELETE FROM backfills WHERE dead_at IS NOT NULL AND {peer}",
            "peer",
        )
        .await?;
        tx.commit().await?;
        Ok(touched)
    }

    /// Gives up deliveries paused since before `paused_before`: queued then
    /// or earlier, and their peer unreachable since then all along. They
    /// are dead, with a note.
    pub async fn expire_paused(
        &self,
        paused_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = query(
            "UPDATE deliveries SET dead_at = $1, claimed_until = NULL, claimed_by = NULL,
               last_error = 'expired while paused (peer unreachable): ' || COALESCE(last_error, '')
             WHERE id IN (SELECT d.id FROM deliveries d
                          WHERE d.dead_at IS NULL AND d.created_at <= $2
                            AND EXISTS (SELECT 1 FROM peers p WHERE p.host = d.host
                                        AND p.unreachable_since <= $2))",
        )
        .bind(now)
        .bind(paused_before)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes work that died before `dead_before`.
    pub async fn purge_dead(&self, dead_before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut purged = 0;
        for table in ["outbox_events", "deliveries", "inbox_queue", "backfills"] {
            purged += query(format!("DELETE FROM {table} WHERE dead_at <= $1"))
                .bind(dead_before)
                .execute(&mut tx)
                .await?
                .rows_affected();
        }
        delete_orphaned_activities(&mut tx).await?;
        tx.commit().await?;
        Ok(purged)
    }
}

/// The peer (`host[:port]`) of an actor or object URL.
pub(crate) fn peer_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Gives work queued before the `peer` columns existed its peer, so that
/// operators can act on it per peer. Runs after the migrations; touches
/// only rows without one.
pub(crate) async fn fill_missing_peers(pool: &Pool) -> Result<(), StoreError> {
    let rows = query("SELECT id, actor_id FROM inbox_queue WHERE peer IS NULL")
        .fetch_all(pool)
        .await?;
    for row in &rows {
        let id: String = row.col("id")?;
        let actor: String = row.col("actor_id")?;
        query("UPDATE inbox_queue SET peer = $1 WHERE id = $2")
            .bind(peer_of(&actor))
            .bind(id)
            .execute(pool)
            .await?;
    }
    let rows = query(
        "SELECT b.follower_id, b.target_id, o.handle FROM backfills b
         JOIN organizations o ON o.id = b.target_id WHERE b.peer IS NULL",
    )
    .fetch_all(pool)
    .await?;
    for row in &rows {
        let handle: String = row.col("handle")?;
        let peer = handle.split_once('@').map(|(_, host)| host.to_owned());
        query("UPDATE backfills SET peer = $1 WHERE follower_id = $2 AND target_id = $3")
            .bind(peer)
            .bind(row.col::<String>("follower_id")?)
            .bind(row.col::<String>("target_id")?)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Runs `sql` for the peers of `scope`: `{peer}` in it becomes the
/// condition on the peer column `column`, with the scope's peer bound as
/// `$1` (NULL: every peer) and `now`, if given, as `$2`. The rows touched.
async fn for_peers(
    tx: &mut crate::db::Tx,
    scope: &Scope,
    now: Option<DateTime<Utc>>,
    sql: &str,
    column: &str,
) -> Result<u64, StoreError> {
    let sql = sql.replace("{peer}", &format!("($1 IS NULL OR {column} = $1)"));
    let mut statement = query(sql).bind(scope.peer());
    if let Some(now) = now {
        statement = statement.bind(now);
    }
    Ok(statement.execute(&mut *tx).await?.rows_affected())
}

/// Signed activities no delivery needs any more.
async fn delete_orphaned_activities(tx: &mut crate::db::Tx) -> Result<(), StoreError> {
    query(
        "DELETE FROM outgoing_activities WHERE NOT EXISTS
         (SELECT 1 FROM deliveries d WHERE d.activity_id = outgoing_activities.id)",
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn stuck_from_row(row: &Row) -> Result<StuckWork, StoreError> {
    let kind: String = row.col("kind")?;
    let paused: i64 = row.col("paused")?;
    Ok(StuckWork {
        peer: row.col("peer")?,
        kind: JobKind::parse(&kind)?,
        paused: paused != 0,
        count: row.col("n")?,
        since: row.col("first_since")?,
        last_error: row.col("error")?,
    })
}
