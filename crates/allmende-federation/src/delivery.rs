//! The delivery worker: turns outbox events into activities and sends
//! deliveries from the database, in every server process at once.
//!
//! Each round it (1) expands claimed announcements into one activity and
//! one delivery per inbox, (2) asks unreachable peers whether they are
//! back, (3) claims as many due deliveries as it has free slots — some
//! retries, mostly new ones — and sends them, at most `per_host` at a time
//! to one host. A delivery is deleted only after the peer answered 2xx (or
//! refused it for good), so a crash repeats at most the deliveries in
//! flight; receivers deduplicate by activity id. It sleeps until woken by a
//! local change, a finished send, or the poll interval.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use allmende_store::{Delivery, OutboxEvent};
use chrono::Utc;
use tokio::sync::{watch, Notify, Semaphore};
use url::Url;

use crate::retry::{self, DeliverySettings, Outcome};
use crate::signatures;
use crate::Federation;

/// Finished deliveries written to the database at once.
const FLUSH_BATCH: usize = 32;

/// Counters for operators, tests and benchmarks (this process only).
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub delivered: AtomicU64,
    pub refused: AtomicU64,
    pub retried: AtomicU64,
}

/// The running worker's handles.
pub(crate) struct Worker {
    /// Identifies this process's claims.
    pub(crate) id: String,
    pub(crate) wake: Notify,
    /// A send finished and its slot is free.
    slot_freed: Notify,
    pub(crate) stats: DeliveryStats,
    stop: watch::Sender<bool>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    slots: Arc<Semaphore>,
    /// Finished deliveries not yet deleted from the database; written in
    /// batches (see [`Federation::flush_finished`]). Their claims keep
    /// other workers off them meanwhile; a crash repeats them.
    finished: Mutex<Vec<Delivery>>,
}

impl Worker {
    pub(crate) fn new(settings: &DeliverySettings) -> Self {
        Self {
            id: format!("worker-{}", uuid::Uuid::now_v7()),
            wake: Notify::new(),
            slot_freed: Notify::new(),
            stats: DeliveryStats::default(),
            stop: watch::channel(false).0,
            hosts: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            finished: Mutex::new(Vec::new()),
        }
    }

    fn host_slots(&self, host: &str, per_host: usize) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(per_host.max(1))))
            .clone()
    }
}

impl Federation {
    /// Starts the worker loop on the current runtime.
    pub(crate) fn spawn_worker(&self) {
        let federation = self.clone();
        let mut stop = self.worker().stop.subscribe();
        tokio::spawn(async move {
            let mut last_probe = tokio::time::Instant::now();
            // A full round looks at everything; after a send frees a slot,
            // only more deliveries are claimed — and not even that when the
            // last claim found the queue empty.
            let mut full = true;
            let mut drained = false;
            loop {
                let busy = match federation.round(full, &mut drained, &mut last_probe).await {
                    Ok(busy) => busy,
                    Err(e) => {
                        tracing::error!(error = %e, "delivery round failed");
                        false
                    }
                };
                if *stop.borrow() {
                    break;
                }
                if busy {
                    full = true;
                    continue;
                }
                let poll = federation.settings().delivery.poll_interval;
                tokio::select! {
                    () = federation.worker().wake.notified() => full = true,
                    () = federation.worker().slot_freed.notified() => full = false,
                    () = tokio::time::sleep(poll) => full = true,
                    _ = stop.changed() => break,
                }
            }
        });
    }

    /// Tells the local worker there is new work (a change was recorded).
    pub fn wake(&self) {
        self.worker().wake.notify_one();
    }

    /// Stops claiming, waits a little for sends in flight, and hands back
    /// this process's claims so other processes can take them at once.
    pub async fn shutdown(&self) {
        let worker = self.worker();
        let _ = worker.stop.send(true);
        let all = u32::try_from(self.settings().delivery.concurrency.max(1)).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            worker.slots.acquire_many(all),
        )
        .await;
        if let Err(e) = self.flush_finished().await {
            tracing::warn!(error = %e, "could not record finished deliveries");
        }
        if let Err(e) = self.store().outbox().release(&worker.id).await {
            tracing::warn!(error = %e, "could not release delivery claims");
        }
        tracing::info!(
            delivered = worker.stats.delivered.load(Ordering::Relaxed),
            refused = worker.stats.refused.load(Ordering::Relaxed),
            retried = worker.stats.retried.load(Ordering::Relaxed),
            "delivery worker stopped"
        );
    }

    /// One round of work; `true` if there may be more right away.
    async fn round(
        &self,
        full: bool,
        drained: &mut bool,
        last_probe: &mut tokio::time::Instant,
    ) -> Result<bool, crate::FederationError> {
        let settings = &self.settings().delivery;
        let lease = self.lease();
        let outbox = self.store().outbox();
        let mut busy = false;

        if full {
            *drained = false;
            self.flush_finished().await?;
            busy |= self.process_stored().await?;
            busy |= self.backfill_round().await?;
            let events = outbox.claim_events(Utc::now(), lease, 32).await?;
            busy |= !events.is_empty();
            for event in events {
                self.expand(&event).await;
            }
            if last_probe.elapsed()
                >= settings
                    .probe_interval
                    .min(std::time::Duration::from_secs(60))
            {
                *last_probe = tokio::time::Instant::now();
                self.probe_unreachable_peers().await?;
            }
        }

        let free = i64::try_from(self.worker().slots.available_permits()).unwrap_or(0);
        let all = i64::try_from(settings.concurrency.max(1)).unwrap_or(1);
        // After a send, claim only once half the slots are free: one claim
        // per few dozen deliveries, not one per delivery.
        let worth_claiming = full || free * 2 >= all;
        if free > 0 && !*drained && worth_claiming {
            let batch = outbox
                .claim_deliveries(&self.worker().id, Utc::now(), lease, free)
                .await?;
            let claimed = i64::try_from(batch.len()).unwrap_or(0);
            busy |= claimed >= free;
            *drained = claimed < free;
            let claimed_at = tokio::time::Instant::now();
            for delivery in batch {
                let Ok(slot) = self.worker().slots.clone().acquire_owned().await else {
                    break;
                };
                let federation = self.clone();
                tokio::spawn(async move {
                    federation.send_one(delivery, claimed_at).await;
                    // Free the slot first: the next claim need not wait
                    // for the bookkeeping below.
                    drop(slot);
                    federation.worker().slot_freed.notify_one();
                    if federation.flush_due() {
                        if let Err(e) = federation.flush_finished().await {
                            tracing::error!(error = %e, "could not record finished deliveries");
                        }
                    }
                });
            }
        }
        Ok(busy)
    }

    /// Turns one announcement into its activity and deliveries.
    async fn expand(&self, event: &OutboxEvent) {
        let built = match self.build(event).await {
            Ok(built) => built,
            Err(crate::FederationError::NotFound) => None,
            Err(e) => {
                // Left claimed: tried again when the lease runs out.
                tracing::warn!(error = %e, event = %event.id, "could not build activity, will retry");
                return;
            }
        };
        if let Err(e) = self
            .store()
            .outbox()
            .expand(event.id, built.as_ref(), Utc::now())
            .await
        {
            tracing::error!(error = %e, event = %event.id, "could not store activity");
        }
    }

    /// Sends one delivery and records what became of it.
    async fn send_one(&self, delivery: Delivery, claimed_at: tokio::time::Instant) {
        let settings = &self.settings().delivery;
        let host_slots = self.worker().host_slots(&delivery.host, settings.per_host);
        let Ok(_host_slot) = host_slots.acquire().await else {
            return;
        };
        if claimed_at.elapsed() > settings.lease / 2 {
            // Waited so long that the claim may run out while sending, and
            // another process may send it too: leave it to the next claim.
            tracing::info!(inbox = %delivery.inbox, "claim nearly expired before sending; left for the next round");
            return;
        }
        let outcome = self.attempt(&delivery).await;
        let inbox = delivery.inbox.clone();
        let outbox = self.store().outbox();
        let now = Utc::now();
        let recorded = match &outcome {
            Outcome::Delivered => {
                self.worker()
                    .stats
                    .delivered
                    .fetch_add(1, Ordering::Relaxed);
                self.finished(delivery);
                Ok(())
            }
            Outcome::Refused(reason) => {
                tracing::warn!(inbox = %delivery.inbox, activity = %delivery.activity_id, %reason, "delivery refused by the peer, not retried");
                self.worker().stats.refused.fetch_add(1, Ordering::Relaxed);
                self.finished(delivery);
                Ok(())
            }
            Outcome::Failed {
                reason,
                retry_after,
            } => {
                self.worker().stats.retried.fetch_add(1, Ordering::Relaxed);
                let next = retry::next_attempt(
                    settings,
                    delivery.attempts,
                    *retry_after,
                    now,
                    rand::random::<f64>(),
                );
                tracing::info!(inbox = %delivery.inbox, attempt = delivery.attempts + 1, %reason, %next, "delivery failed, will retry");
                let unreachable_after = chrono::Duration::from_std(settings.unreachable_after)
                    .unwrap_or(chrono::Duration::days(7));
                outbox
                    .retry_later(&delivery, next, reason, now, unreachable_after)
                    .await
            }
        };
        if let Err(e) = recorded {
            // The claim runs out and the delivery is sent again: at most a
            // duplicate, which the receiver ignores.
            tracing::error!(error = %e, %inbox, "could not record delivery outcome");
        }
    }

    /// Records a finished delivery, to be deleted with the next batch.
    fn finished(&self, delivery: Delivery) {
        self.worker()
            .finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(delivery);
    }

    /// Whether to write the finished deliveries now: a full batch, or
    /// nothing else in flight (so a quiet queue is empty at once).
    fn flush_due(&self) -> bool {
        let waiting = self
            .worker()
            .finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        let idle =
            self.worker().slots.available_permits() == self.settings().delivery.concurrency.max(1);
        waiting >= FLUSH_BATCH || (waiting > 0 && idle)
    }

    /// Deletes the finished deliveries recorded so far.
    pub(crate) async fn flush_finished(&self) -> Result<(), allmende_store::StoreError> {
        let batch = std::mem::take(
            &mut *self
                .worker()
                .finished
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        if let Err(e) = self.store().outbox().delivered_many(&batch).await {
            // Put them back for the next flush; their claims still hold.
            self.worker()
                .finished
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(batch);
            return Err(e);
        }
        Ok(())
    }

    async fn attempt(&self, delivery: &Delivery) -> Outcome {
        let failed = |reason: String| Outcome::Failed {
            reason,
            retry_after: None,
        };
        let inbox = match Url::parse(&delivery.inbox) {
            Ok(url) => url,
            Err(e) => return Outcome::Refused(format!("bad inbox URL: {e}")),
        };
        // An inbox named by a remote actor must not make this node post to
        // its own network (SSRF); checked when sending, as names can move.
        match self.check_peer_url(&inbox).await {
            Ok(()) => {}
            Err(e @ crate::FederationError::Forbidden(_)) => {
                return Outcome::Refused(e.to_string())
            }
            Err(e) => return failed(e.to_string()),
        }
        let key = match self.key_of(&delivery.sender).await {
            Ok(key) => key,
            Err(e) => return failed(format!("signing key: {e}")),
        };
        let body = delivery.body.as_bytes();
        let headers = match signatures::sign_post(&key, &delivery.key_id, &inbox, body) {
            Ok(headers) => headers,
            Err(e) => return Outcome::Refused(format!("cannot sign: {e}")),
        };
        let response = match self
            .client()
            .post(inbox)
            .headers(headers)
            .body(delivery.body.clone())
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) => return failed(e.to_string()),
        };
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, Utc::now()));
        retry::outcome(response.status(), retry_after)
    }

    /// Asks each unreachable peer (not asked within the probe interval)
    /// for its NodeInfo; one that answers is reachable again.
    async fn probe_unreachable_peers(&self) -> Result<(), crate::FederationError> {
        let settings = &self.settings().delivery;
        let now = Utc::now();
        let interval = chrono::Duration::from_std(settings.probe_interval)
            .unwrap_or(chrono::Duration::hours(1));
        let hosts = self
            .store()
            .outbox()
            .peers_to_probe(now, now - interval)
            .await?;
        for (host, inbox) in hosts {
            let Some(mut url) = inbox.and_then(|i| Url::parse(&i).ok()) else {
                // Nothing waits for it any more: forget it.
                self.store().outbox().peer_answered(&host).await?;
                continue;
            };
            url.set_path("/.well-known/nodeinfo");
            url.set_query(None);
            let answered = matches!(
                self.client().get(url).send().await,
                Ok(r) if r.status().is_success()
            );
            if answered {
                tracing::info!(%host, "unreachable peer answers again; resuming deliveries");
                self.store().outbox().peer_answered(&host).await?;
                self.wake();
            }
        }
        Ok(())
    }
}
