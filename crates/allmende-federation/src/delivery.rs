//! Sending activities to inboxes: one signed POST per distinct inbox, many
//! at once but a bounded number per peer, with retries and backoff.
//!
//! The queue lives in memory: an activity still waiting for a retry is lost
//! when the process stops. The interface (`enqueue` an activity for a set
//! of inboxes) is what a durable outbox will implement next.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::{mpsc, Notify, Semaphore};
use url::Url;

use crate::keys::SigningKey;
use crate::signatures;
use crate::urls::authority;

/// How deliveries are paced.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// Deliveries in flight at once, over all peers.
    pub concurrency: usize,
    /// Deliveries in flight at once to one host.
    pub per_host: usize,
    /// Wait before the first retry; doubled for each further one.
    pub retry_base: Duration,
    /// Longest wait between retries.
    pub retry_max: Duration,
    /// Attempts before a delivery is given up.
    pub max_attempts: u32,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            concurrency: 64,
            per_host: 8,
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(60 * 60),
            max_attempts: 12,
        }
    }
}

/// One activity for one inbox.
struct Job {
    inbox: Url,
    body: Arc<Vec<u8>>,
    key: Arc<SigningKey>,
    key_id: Arc<str>,
    attempt: u32,
}

/// Counters for operators, tests and benchmarks.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
}

pub(crate) struct Deliveries {
    queue: mpsc::UnboundedSender<Job>,
    pending: Arc<AtomicUsize>,
    idle: Arc<Notify>,
    stats: Arc<DeliveryStats>,
}

impl Deliveries {
    /// Starts the dispatcher on the current tokio runtime.
    pub(crate) fn start(client: reqwest::Client, settings: DeliverySettings) -> Self {
        let (queue, mut jobs) = mpsc::unbounded_channel::<Job>();
        let pending = Arc::new(AtomicUsize::new(0));
        let idle = Arc::new(Notify::new());
        let stats = Arc::new(DeliveryStats::default());
        let retry_queue = queue.downgrade();
        let worker = Worker {
            client,
            settings: settings.clone(),
            global: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            hosts: Arc::new(Mutex::new(HashMap::new())),
            pending: pending.clone(),
            idle: idle.clone(),
            stats: stats.clone(),
        };
        tokio::spawn(async move {
            while let Some(job) = jobs.recv().await {
                let worker = worker.clone();
                let retry_queue = retry_queue.clone();
                let Ok(permit) = worker.global.clone().acquire_owned().await else {
                    break;
                };
                tokio::spawn(async move {
                    let retry = worker.deliver(job).await;
                    drop(permit);
                    match retry {
                        Some(job) => {
                            let wait = worker.backoff(job.attempt);
                            tokio::time::sleep(wait).await;
                            match retry_queue.upgrade() {
                                Some(queue) if queue.send(job).is_ok() => {}
                                _ => worker.finish(),
                            }
                        }
                        None => worker.finish(),
                    }
                });
            }
        });
        Self {
            queue,
            pending,
            idle,
            stats,
        }
    }

    pub(crate) fn enqueue(
        &self,
        inboxes: Vec<Url>,
        body: Vec<u8>,
        key: Arc<SigningKey>,
        key_id: &str,
    ) {
        let body = Arc::new(body);
        let key_id: Arc<str> = Arc::from(key_id);
        for inbox in inboxes {
            self.pending.fetch_add(1, Ordering::SeqCst);
            let job = Job {
                inbox,
                body: body.clone(),
                key: key.clone(),
                key_id: key_id.clone(),
                attempt: 0,
            };
            if self.queue.send(job).is_err() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Deliveries queued, in flight or waiting for a retry.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Waits until nothing is pending.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.pending() == 0 {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn stats(&self) -> &DeliveryStats {
        &self.stats
    }
}

#[derive(Clone)]
struct Worker {
    client: reqwest::Client,
    settings: DeliverySettings,
    global: Arc<Semaphore>,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    pending: Arc<AtomicUsize>,
    idle: Arc<Notify>,
    stats: Arc<DeliveryStats>,
}

impl Worker {
    fn host_limit(&self, inbox: &Url) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(authority(inbox))
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_host.max(1))))
            .clone()
    }

    /// Sends once; returns the job if it should be tried again.
    async fn deliver(&self, mut job: Job) -> Option<Job> {
        let limit = self.host_limit(&job.inbox);
        let _slot = limit.acquire().await.ok()?;
        job.attempt += 1;
        let outcome = self.send(&job).await;
        match outcome {
            Ok(()) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err((retryable, reason)) if retryable && job.attempt < self.settings.max_attempts => {
                tracing::info!(inbox = %job.inbox, attempt = job.attempt, %reason, "delivery failed, will retry");
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
                Some(job)
            }
            Err((_, reason)) => {
                tracing::warn!(inbox = %job.inbox, attempt = job.attempt, %reason, "delivery given up");
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// `Err((retryable, reason))` on failure.
    async fn send(&self, job: &Job) -> Result<(), (bool, String)> {
        let headers = signatures::sign_post(&job.key, &job.key_id, &job.inbox, &job.body)
            .map_err(|e| (false, e.to_string()))?;
        let response = self
            .client
            .post(job.inbox.clone())
            .headers(headers)
            .body(job.body.as_ref().clone())
            .send()
            .await
            .map_err(|e| (true, e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // A peer that refuses the request itself will refuse it again.
        let retryable = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT;
        Err((retryable, format!("status {status}")))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        let wait = self.settings.retry_base.saturating_mul(factor);
        // Up to a quarter of jitter, so retries to one peer spread out.
        let jitter = wait.mul_f64(rand::random::<f64>() * 0.25);
        (wait + jitter).min(self.settings.retry_max)
    }

    fn finish(&self) {
        if self.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}
