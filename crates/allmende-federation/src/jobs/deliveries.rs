//! Sending deliveries: claim as many due ones as there are free slots —
//! some retries, mostly new ones — and send them, at most `per_host` at a
//! time to one host. A delivery is deleted only after the peer answered
//! 2xx, so a crash repeats at most the deliveries in flight (receivers
//! deduplicate by activity id). One the peer refuses for good, or that
//! fails `max_attempts` times, is dead.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use allmende_store::Delivery;
use chrono::Utc;
use tokio::sync::Semaphore;
use url::Url;

use super::Jobs;
use crate::error::FederationError;
use crate::http::PeerClient;
use crate::retry::{self, Outcome};
use crate::signatures::{self, Scheme};

/// Finished deliveries written to the database at once.
const FLUSH_BATCH: usize = 32;

impl Jobs {
    /// Claims and starts sends for the free slots; `true` if the claim
    /// filled them (there may be more).
    pub(super) async fn deliveries_round(
        self: &Arc<Self>,
        full: bool,
        drained: &mut bool,
    ) -> Result<bool, FederationError> {
        let settings = &self.core.settings.delivery;
        let free = i64::try_from(self.slots.available_permits()).unwrap_or(0);
        let all = i64::try_from(settings.concurrency.max(1)).unwrap_or(1);
        // After a send, claim only once half the slots are free: one claim
        // per few dozen deliveries, not one per delivery.
        let worth_claiming = full || free * 2 >= all;
        if free == 0 || *drained || !worth_claiming {
            return Ok(false);
        }
        let batch = self
            .core
            .store
            .outbox()
            .claim_deliveries(&self.worker_id, Utc::now(), self.core.lease(), free)
            .await?;
        let claimed = i64::try_from(batch.len()).unwrap_or(0);
        *drained = claimed < free;
        let claimed_at = tokio::time::Instant::now();
        for delivery in batch {
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                break;
            };
            let jobs = self.clone();
            tokio::spawn(async move {
                jobs.send_one(delivery, claimed_at).await;
                // Free the slot first: the next claim need not wait for
                // the bookkeeping below.
                drop(slot);
                jobs.slot_freed.notify_one();
                if jobs.flush_due() {
                    if let Err(e) = jobs.flush_finished().await {
                        tracing::error!(error = %e, "could not record finished deliveries");
                    }
                }
            });
        }
        Ok(claimed >= free)
    }

    /// The host's slots. Whoever holds a clone has a delivery for the host
    /// under way or waiting, so the clones count them (see
    /// [`Self::others_for`]).
    fn host_slots(&self, host: &str) -> Arc<Semaphore> {
        let per_host = self.core.settings.delivery.per_host.max(1);
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(per_host)))
            .clone()
    }

    /// Whether other deliveries to the host are under way or waiting
    /// besides the caller's (which holds `slots`).
    fn others_for(&self, slots: &Arc<Semaphore>) -> bool {
        let _hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        // The map's clone and the caller's.
        Arc::strong_count(slots) > 2
    }

    /// Forgets the host's slots once nobody else holds them, so that the
    /// map holds only the hosts with work (a fan-out to every German
    /// municipality would otherwise leave 11,000 entries behind).
    fn release_host(&self, host: &str, slots: Arc<Semaphore>) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        // Clones are only made under this lock: two means the map's and
        // ours, and nobody can take another meanwhile.
        if Arc::strong_count(&slots) == 2 {
            hosts.remove(host);
        }
    }

    /// Sends one delivery and records what became of it.
    async fn send_one(&self, delivery: Delivery, claimed_at: tokio::time::Instant) {
        let host_slots = self.host_slots(&delivery.host);
        let host = delivery.host.clone();
        self.send_with_slot(delivery, claimed_at, &host_slots).await;
        self.release_host(&host, host_slots);
    }

    async fn send_with_slot(
        &self,
        delivery: Delivery,
        claimed_at: tokio::time::Instant,
        host_slots: &Arc<Semaphore>,
    ) {
        let settings = &self.core.settings.delivery;
        let Ok(_host_slot) = host_slots.acquire().await else {
            return;
        };
        if claimed_at.elapsed() > settings.lease / 2 {
            // Waited so long that the claim may run out while sending, and
            // another process may send it too: leave it to the next claim.
            tracing::info!(inbox = %delivery.inbox, "claim nearly expired before sending; left for the next round");
            return;
        }
        // The connection is kept for the next delivery to this host only
        // if one is under way or waiting: a fan-out to thousands of hosts,
        // one delivery each, would otherwise leave an idle connection (a
        // socket and its buffers) per host behind.
        let keep_alive = self.others_for(host_slots);
        let outcome = self.attempt(&delivery, keep_alive).await;
        let peer_class = self
            .core
            .signature_scheme_for(&delivery.host)
            .metric_label();
        let count = |result: &'static str| {
            metrics::counter!("allmende_deliveries_total", "result" => result, "peer_class" => peer_class)
                .increment(1);
        };
        let outbox = self.core.store.outbox();
        let now = Utc::now();
        let recorded = match outcome {
            Err(blocked) => {
                // Not sent at all (a private address, an unusable URL):
                // nothing is known about the peer.
                tracing::warn!(inbox = %delivery.inbox, activity = %delivery.activity_id, reason = %blocked, "delivery not sent, not retried");
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                count("refused");
                outbox
                    .delivery_dead(&delivery, &format!("refused: {blocked}"), now)
                    .await
            }
            Ok(Outcome::Delivered) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                count("delivered");
                self.finished(delivery);
                return;
            }
            Ok(Outcome::Refused(reason)) => {
                tracing::warn!(inbox = %delivery.inbox, activity = %delivery.activity_id, %reason, "delivery refused by the peer, not retried");
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                count("refused");
                // The peer answered: it is reachable, whatever it thought
                // of this activity.
                match outbox
                    .delivery_dead(&delivery, &format!("refused: {reason}"), now)
                    .await
                {
                    Ok(()) => outbox.peer_answered(&delivery.host).await,
                    Err(e) => Err(e),
                }
            }
            Ok(Outcome::Failed { reason, .. })
                if delivery.attempts + 1 >= settings.max_attempts =>
            {
                tracing::warn!(inbox = %delivery.inbox, attempts = delivery.attempts + 1, %reason, "delivery given up");
                self.stats.dead.fetch_add(1, Ordering::Relaxed);
                count("dead");
                outbox
                    .delivery_dead(
                        &delivery,
                        &format!("gave up after {} attempts: {reason}", delivery.attempts + 1),
                        now,
                    )
                    .await
            }
            Ok(Outcome::Failed {
                reason,
                retry_after,
            }) => {
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
                count("retried");
                let next = retry::next_attempt(
                    settings,
                    delivery.attempts,
                    retry_after,
                    now,
                    rand::random::<f64>(),
                );
                tracing::info!(inbox = %delivery.inbox, attempt = delivery.attempts + 1, %reason, %next, "delivery failed, will retry");
                let unreachable_after = chrono::Duration::from_std(settings.unreachable_after)
                    .unwrap_or(chrono::Duration::days(1));
                outbox
                    .retry_later(&delivery, next, &reason, now, unreachable_after)
                    .await
            }
        };
        if let Err(e) = recorded {
            // The claim runs out and the delivery is sent again: at most a
            // duplicate, which the receiver ignores.
            tracing::error!(error = %e, "could not record delivery outcome");
        }
    }

    /// Records a delivered delivery, to be deleted with the next batch.
    fn finished(&self, delivery: Delivery) {
        self.finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(delivery);
    }

    /// Whether to write the finished deliveries now: a full batch, or
    /// nothing else in flight (so a quiet queue is empty at once).
    fn flush_due(&self) -> bool {
        let waiting = self
            .finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        let idle = self.slots.available_permits() == self.core.settings.delivery.concurrency.max(1);
        waiting >= FLUSH_BATCH || (waiting > 0 && idle)
    }

    /// Deletes the finished deliveries recorded so far.
    pub(super) async fn flush_finished(&self) -> Result<(), allmende_store::StoreError> {
        let batch = std::mem::take(&mut *self.finished.lock().unwrap_or_else(|p| p.into_inner()));
        if let Err(e) = self.core.store.outbox().delivered_many(&batch).await {
            // Put them back for the next flush; their claims still hold.
            self.finished
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(batch);
            return Err(e);
        }
        Ok(())
    }

    /// One attempt: the peer's answer, classified, or `Err` with the
    /// reason the delivery was not sent at all and never will be.
    ///
    /// Signed by RFC 9421 (with the sender's RSA key, which every
    /// implementation can check) first, unless the peer is known to want
    /// draft-cavage; a peer that refuses that (400, 401, 403, or fails
    /// on it with 500) gets the same delivery again at once, signed by
    /// draft-cavage ("double knock"), and whichever
    /// worked is remembered for the peer.
    async fn attempt(&self, delivery: &Delivery, keep_alive: bool) -> Result<Outcome, String> {
        let inbox = Url::parse(&delivery.inbox).map_err(|e| format!("bad inbox URL: {e}"))?;
        let first = self.core.signature_scheme_for(&delivery.host);
        // A refused first knock costs a new connection for the second, but
        // only once per peer and process.
        let response = match self
            .post_signed(delivery, &inbox, first, keep_alive)
            .await?
        {
            Ok(response) => response,
            Err(outcome) => return Ok(outcome),
        };
        // 500 too: bovine 0.5 with a current http-sf fails on an RFC 9421
        // signature with 500 instead of refusing it.
        let knocked_again =
            first == Scheme::Rfc9421 && matches!(response.status().as_u16(), 400 | 401 | 403 | 500);
        let (response, used) = if knocked_again {
            match self
                .post_signed(delivery, &inbox, Scheme::Cavage, keep_alive)
                .await?
            {
                Ok(response) => (response, Scheme::Cavage),
                Err(outcome) => return Ok(outcome),
            }
        } else {
            (response, first)
        };
        if response.status().is_success() {
            self.core.remember_signature_scheme(&delivery.host, used);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, Utc::now()));
        Ok(retry::outcome(response.status(), retry_after))
    }

    /// POSTs the delivery signed by `scheme`: the response; `Ok(Err(..))`
    /// when it could not be sent this time; `Err` when it never can be.
    async fn post_signed(
        &self,
        delivery: &Delivery,
        inbox: &Url,
        scheme: Scheme,
        keep_alive: bool,
    ) -> Result<Result<reqwest::Response, Outcome>, String> {
        let failed = |reason: String| {
            Ok(Err(Outcome::Failed {
                reason,
                retry_after: None,
            }))
        };
        // An inbox named by a remote actor must not make this node post to
        // its own network (SSRF): the client refuses such addresses, also
        // when the name resolves to one only now.
        let mut request = self.core.http.post(inbox).map_err(|e| e.to_string())?;
        if !keep_alive {
            request = request.header(reqwest::header::CONNECTION, "close");
        }
        let body = delivery.body.as_bytes();
        let headers = match scheme {
            Scheme::Cavage => {
                let key = match self.core.key(&delivery.sender).await {
                    Ok(key) => key,
                    Err(e) => return failed(format!("signing key: {e}")),
                };
                signatures::sign_post(&key, &delivery.key_id, inbox, body)
            }
            Scheme::Rfc9421 => {
                let key = match self.core.key(&delivery.sender).await {
                    Ok(key) => key,
                    Err(e) => return failed(format!("signing key: {e}")),
                };
                crate::message_signatures::sign_post(
                    &crate::message_signatures::Signer::Rsa(&key),
                    &delivery.key_id,
                    inbox,
                    body,
                )
            }
        }
        .map_err(|e| format!("cannot sign: {e}"))?;
        match request
            .headers(headers)
            .body(delivery.body.clone())
            .send()
            .await
        {
            Ok(response) => Ok(Ok(response)),
            Err(e) => match PeerClient::failure(inbox, e) {
                blocked @ FederationError::Forbidden(_) => Err(blocked.to_string()),
                other => failed(other.to_string()),
            },
        }
    }
}
