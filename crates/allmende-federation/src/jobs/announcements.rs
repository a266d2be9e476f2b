//! Announcements of local changes become signed activities with one
//! delivery per inbox.

use std::sync::Arc;

use allmende_store::OutboxEvent;
use chrono::Utc;

use super::Jobs;
use crate::error::FederationError;

/// Attempts to build an announcement's activity before it is dead. A
/// failure here is the database or the node's keys, not a peer: a few
/// tries over some minutes tell a passing problem from a lasting one.
pub const MAX_ANNOUNCEMENT_ATTEMPTS: i64 = 8;

/// Announcements claimed per round.
const BATCH: i64 = 32;

impl Jobs {
    /// Expands claimed announcements; `true` if there were any.
    pub(super) async fn announcements_round(self: &Arc<Self>) -> Result<bool, FederationError> {
        let events = self
            .core
            .store
            .outbox()
            .claim_events(Utc::now(), self.core.lease(), BATCH)
            .await?;
        let any = !events.is_empty();
        let mut nothing_to_send = Vec::new();
        for event in events {
            if let Some(done) = self.expand(&event).await {
                nothing_to_send.push(done);
            }
        }
        self.core
            .store
            .outbox()
            .drop_events(&nothing_to_send)
            .await?;
        Ok(any)
    }

    /// Turns one announcement into its activity and deliveries. One whose
    /// subject is gone (an item deleted before its Create was built, an
    /// organization deleted meanwhile) or that nobody is to hear of ends
    /// with nothing sent: its id is returned, for the caller to drop with
    /// the others of its round.
    async fn expand(&self, event: &OutboxEvent) -> Option<uuid::Uuid> {
        let outbox = self.core.store.outbox();
        let now = Utc::now();
        let built = match self.outbound.build(event).await {
            Ok(built) => built,
            Err(FederationError::NotFound) => {
                tracing::debug!(event = %event.id, "announced object is gone; nothing to send");
                None
            }
            Err(e) => {
                let retry_at = (e.is_transient() && event.attempts + 1 < MAX_ANNOUNCEMENT_ATTEMPTS)
                    .then(|| {
                        let wait = crate::retry::backoff(
                            &self.core.settings.delivery,
                            event.attempts,
                            rand::random::<f64>(),
                        );
                        now + chrono::Duration::from_std(wait).unwrap_or_default()
                    });
                match retry_at {
                    Some(at) => {
                        tracing::warn!(error = %e, event = %event.id, %at, "could not build activity, will retry")
                    }
                    None => {
                        tracing::error!(error = %e, event = %event.id, "could not build activity, given up")
                    }
                }
                if let Err(e) = outbox
                    .event_failed(event.id, &e.to_string(), retry_at, now)
                    .await
                {
                    // Left claimed: tried again when the lease runs out.
                    tracing::error!(error = %e, event = %event.id, "could not record the failure");
                }
                return None;
            }
        };
        if built.as_ref().is_none_or(|a| a.inboxes.is_empty()) {
            return Some(event.id);
        }
        if let Err(e) = outbox.expand(event.id, built.as_ref(), now).await {
            tracing::error!(error = %e, event = %event.id, "could not store activity");
        }
        None
    }
}
