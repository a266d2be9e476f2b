//! What keeps the queues from holding anything forever (and the policy
//! copy current): unreachable peers
//! are asked whether they are back, deliveries paused too long expire
//! (dead, with a note), and dead work is purged after its retention time.

use std::sync::Arc;

use chrono::Utc;
use url::Url;

use super::Jobs;
use crate::error::FederationError;

impl Jobs {
    /// Runs the upkeep if the last run is at least a minute (or the probe
    /// interval, if shorter) ago.
    pub(super) async fn upkeep_if_due(self: &Arc<Self>) -> Result<(), FederationError> {
        let every = self
            .core
            .settings
            .delivery
            .probe_interval
            .min(std::time::Duration::from_secs(60));
        {
            let mut last = self.last_upkeep.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < every) {
                return Ok(());
            }
            *last = Some(tokio::time::Instant::now());
        }
        // Policy changes made by another process (the CLI, a second
        // server) take effect here within a minute.
        self.core.policy.reload(&self.core.store).await?;
        self.probe_unreachable_peers().await?;
        self.spawn_identity_checks();
        let settings = &self.core.settings.delivery;
        let now = Utc::now();
        let queue = self.core.store.queue();
        let expired = queue
            .expire_paused(now - duration(settings.paused_expiry), now)
            .await?;
        if expired > 0 {
            tracing::warn!(
                expired,
                "deliveries paused too long for unreachable peers were given up"
            );
        }
        let purged = queue
            .purge_dead(now - duration(settings.dead_retention))
            .await?;
        if purged > 0 {
            tracing::info!(purged, "old dead work deleted");
        }
        Ok(())
    }

    /// Checks due identities in a task of its own, one such task at a time
    /// and each within a time budget: slow websites must not hold up
    /// deliveries.
    fn spawn_identity_checks(self: &Arc<Self>) {
        if self
            .identity_checks_running
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let jobs = self.clone();
        tokio::spawn(async move {
            let checked = tokio::time::timeout(
                crate::identity::ROUND_BUDGET,
                jobs.core.check_due_identities(crate::identity::PER_ROUND),
            )
            .await;
            match checked {
                Ok(Err(e)) => tracing::warn!(error = %e, "identity checks failed"),
                Err(_) => tracing::info!("identity checks ran out of time; the rest next round"),
                Ok(Ok(_)) => {}
            }
            jobs.identity_checks_running
                .store(false, std::sync::atomic::Ordering::SeqCst);
        });
    }

    /// Asks each unreachable peer (not asked within the probe interval)
    /// for its NodeInfo; one that answers is reachable again.
    async fn probe_unreachable_peers(&self) -> Result<(), FederationError> {
        let now = Utc::now();
        let interval = duration(self.core.settings.delivery.probe_interval);
        let outbox = self.core.store.outbox();
        for (host, inbox) in outbox.peers_to_probe(now, now - interval).await? {
            let Some(mut url) = inbox.and_then(|i| Url::parse(&i).ok()) else {
                // Nothing waits for it any more: forget it.
                outbox.peer_answered(&host).await?;
                continue;
            };
            url.set_path("/.well-known/nodeinfo");
            url.set_query(None);
            let answered = match self.core.http.get(&url) {
                Ok(request) => matches!(request.send().await, Ok(r) if r.status().is_success()),
                Err(_) => false,
            };
            if answered {
                tracing::info!(%host, "unreachable peer answers again; resuming deliveries");
                outbox.peer_answered(&host).await?;
                self.core.wake();
            }
        }
        Ok(())
    }
}

fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
