//! The background jobs of one server process, all kept in the database so
//! that any process (and any restart) can take them over:
//!
//! - `announcements.rs`: local changes become signed activities and one
//!   delivery per inbox;
//! - `deliveries.rs`: due deliveries are claimed and sent, at most
//!   `per_host` at a time to one host;
//! - `inbox.rs`: received activities whose handling a crash interrupted, or
//!   that wait for a retry;
//! - `backfill.rs`: imports of followed organizations' existing items;
//! - `upkeep.rs`: probes of unreachable peers, expiry of deliveries paused
//!   too long, purge of old dead work.
//!
//! Every job has an attempt cap; when it is reached (or the job is refused
//! for good) the job is *dead*: kept with its last error, skipped by the
//! workers, shown to operators, who retry or drop it
//! (`allmende_store::Queue`). A job whose subject is gone (an item deleted
//! before its Create was built) simply ends.
//!
//! The runner sleeps until woken by a local change, a finished send, or the
//! poll interval.

mod announcements;
mod backfill;
mod deliveries;
mod inbox;
mod upkeep;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use allmende_store::Delivery;
use tokio::sync::{watch, Notify, Semaphore};

use crate::error::FederationError;
use crate::inbound::Inbound;
use crate::outbound::Outbound;
use crate::resolver::Resolver;
use crate::Core;

pub use announcements::MAX_ANNOUNCEMENT_ATTEMPTS;
pub use backfill::{MAX_BACKFILL_ATTEMPTS, MAX_ITEMS, MAX_PAGES};

/// Counters for operators, tests and benchmarks (this process only).
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub delivered: AtomicU64,
    pub refused: AtomicU64,
    pub retried: AtomicU64,
    /// Deliveries given up after their last attempt.
    pub dead: AtomicU64,
}

/// The background jobs of this process.
pub struct Jobs {
    core: Arc<Core>,
    outbound: Outbound,
    inbound: Inbound,
    resolver: Resolver,
    /// Identifies this process's claims.
    worker_id: String,
    /// A send finished and its slot is free.
    slot_freed: Notify,
    stats: DeliveryStats,
    stop: watch::Sender<bool>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    slots: Arc<Semaphore>,
    /// Finished deliveries not yet deleted from the database; written in
    /// batches. Their claims keep other workers off them meanwhile; a
    /// crash repeats them.
    finished: Mutex<Vec<Delivery>>,
    /// When upkeep last ran.
    last_upkeep: Mutex<Option<tokio::time::Instant>>,
    /// A task checking identities is running.
    identity_checks_running: std::sync::atomic::AtomicBool,
    /// The runner loop, awaited (or cancelled) on shutdown so no round
    /// outlives the store.
    runner: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Jobs {
    pub(crate) fn new(
        core: Arc<Core>,
        outbound: Outbound,
        inbound: Inbound,
        resolver: Resolver,
    ) -> Self {
        let concurrency = core.settings.delivery.concurrency.max(1);
        Self {
            core,
            outbound,
            inbound,
            resolver,
            worker_id: format!("worker-{}", uuid::Uuid::now_v7()),
            slot_freed: Notify::new(),
            stats: DeliveryStats::default(),
            stop: watch::channel(false).0,
            hosts: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(concurrency)),
            finished: Mutex::new(Vec::new()),
            last_upkeep: Mutex::new(None),
            identity_checks_running: std::sync::atomic::AtomicBool::new(false),
            runner: Mutex::new(None),
        }
    }

    pub fn stats(&self) -> &DeliveryStats {
        &self.stats
    }

    /// Starts the runner loop on the current runtime.
    pub(crate) fn spawn(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        let jobs = self.clone();
        let runner = tokio::spawn(async move {
            // A full round looks at everything; after a send frees a slot,
            // only more deliveries are claimed — and not even that when the
            // last claim found the queue empty.
            let mut full = true;
            let mut drained = false;
            loop {
                // Failures are logged in the round; the loop goes on.
                let busy = self.round(full, &mut drained).await;
                if *stop.borrow() {
                    break;
                }
                if busy {
                    full = true;
                    continue;
                }
                let poll = self.core.settings.delivery.poll_interval;
                tokio::select! {
                    () = self.core.wake.notified() => full = true,
                    () = self.slot_freed.notified() => full = false,
                    () = tokio::time::sleep(poll) => full = true,
                    _ = stop.changed() => break,
                }
            }
        });
        *jobs.runner.lock().unwrap_or_else(|p| p.into_inner()) = Some(runner);
    }

    /// One full round of every job, waiting for the sends it starts; `true`
    /// if there may be more work right away.
    pub(crate) async fn run_once(self: &Arc<Self>) -> Result<bool, FederationError> {
        let mut drained = false;
        let busy = self.round(true, &mut drained).await;
        let all = u32::try_from(self.core.settings.delivery.concurrency.max(1)).unwrap_or(1);
        // Every slot free again: the sends of this round are done.
        drop(self.slots.acquire_many(all).await);
        self.flush_finished().await?;
        Ok(busy)
    }

    /// Stops claiming, waits a little for sends in flight, and hands back
    /// this process's claims so other processes can take them at once.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let runner = self.runner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut runner) = runner {
            // The current round stops at its next job (its sends go on in
            // their tasks); one stuck in a slow fetch is cancelled, so no
            // round outlives the store. What it claimed is released below
            // or runs out with its lease.
            if tokio::time::timeout(std::time::Duration::from_secs(5), &mut runner)
                .await
                .is_err()
            {
                runner.abort();
                let _ = runner.await;
            }
        }
        let all = u32::try_from(self.core.settings.delivery.concurrency.max(1)).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            self.slots.acquire_many(all),
        )
        .await;
        if let Err(e) = self.flush_finished().await {
            tracing::warn!(error = %e, "could not record finished deliveries");
        }
        if let Err(e) = self.core.store.outbox().release(&self.worker_id).await {
            tracing::warn!(error = %e, "could not release delivery claims");
        }
        tracing::info!(
            delivered = self.stats.delivered.load(Ordering::Relaxed),
            refused = self.stats.refused.load(Ordering::Relaxed),
            retried = self.stats.retried.load(Ordering::Relaxed),
            dead = self.stats.dead.load(Ordering::Relaxed),
            "background jobs stopped"
        );
    }

    /// One round of work; `true` if there may be more right away. Each job
    /// runs on its own: one that fails (the database away, a row that
    /// cannot be read) is logged and does not keep the others from
    /// running. Between jobs the round stops if the node is shutting down.
    async fn round(self: &Arc<Self>, full: bool, drained: &mut bool) -> bool {
        let mut busy = false;
        let mut note = |job: &'static str, outcome: Result<bool, FederationError>| {
            let result = if outcome.is_ok() { "ok" } else { "error" };
            metrics::counter!("allmende_job_runs_total", "job" => job, "result" => result)
                .increment(1);
            match outcome {
                Ok(more) => busy |= more,
                Err(e) => tracing::error!(error = %e, job, "background job failed"),
            }
        };
        if full {
            *drained = false;
            let flushed = self.flush_finished().await.map(|()| false);
            note("finished deliveries", flushed.map_err(Into::into));
            if !self.stopping() {
                note("received activities", self.inbox_round().await);
            }
            if !self.stopping() {
                note("backfill", self.backfill_round().await);
            }
            if !self.stopping() {
                note("announcements", self.announcements_round().await);
            }
            if !self.stopping() {
                note("upkeep", self.upkeep_if_due().await.map(|()| false));
            }
        }
        if !self.stopping() {
            note("deliveries", self.deliveries_round(full, drained).await);
        }
        busy
    }

    /// Whether the node is shutting down.
    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }
}
