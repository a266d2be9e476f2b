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

    /// Records that building an announcement failed: retried with backoff
    /// while the failure is passing, dead otherwise.
    async fn failed(&self, event: &OutboxEvent, e: FederationError) {
        let outbox = self.core.store.outbox();
        let now = Utc::now();

        let retry_at =
            (e.is_transient() && event.attempts + 1 < MAX_ANNOUNCEMENT_ATTEMPTS).then(|| {
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
    }

    /// Hands an activity of a local organization to the local groups it
    /// concerns (addressed to them, or about an item they carry), which
    /// pass it on to their followers like one from another node.
    async fn local_groups_take(
        &self,
        event: &OutboxEvent,
        activity: &allmende_store::NewActivity,
    ) -> Result<(), FederationError> {
        use allmende_store::Announcement as A;
        let store = &self.core.store;
        let doc: serde_json::Value = serde_json::from_str(&activity.body)
            .map_err(|e| FederationError::Internal(e.to_string()))?;
        let incoming = crate::objects::activity::Incoming::parse(doc)?;
        let intake = match &event.announcement {
            A::ItemCreated { .. } | A::ItemUpdated { .. } | A::AnswerCreated { .. } => {
                self.inbound
                    .group_intake_of(&incoming, event.organization_id)
                    .await?
            }
            // The item is gone here, and with it what the groups carried:
            // the announcement names them.
            A::ItemDeleted { groups, .. } => {
                let mut intake = Vec::new();
                for group in groups {
                    let group = store.organizations().get(*group).await?;
                    if group.is_local() && group.profile.kind.is_group() {
                        intake.push(crate::inbound::Intake::change(group));
                    }
                }
                intake
            }
            _ => return Ok(()),
        };
        self.inbound
            .pass_on(&incoming, event.organization_id, intake, 1)
            .await
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
                self.failed(event, e).await;
                return None;
            }
        };
        if let Some(activity) = &built {
            // Groups on this node take what their members here send them
            // as if it came over the network; if that fails, the whole
            // announcement is tried again (receivers keep an item once,
            // however often a group passes it on).
            if let Err(e) = self.local_groups_take(event, activity).await {
                self.failed(event, e).await;
                return None;
            }
        }
        if built.as_ref().is_none_or(|a| a.inboxes.is_empty()) {
            return Some(event.id);
        }
        if let Err(e) = outbox.expand(event.id, built.as_ref(), now).await {
            tracing::error!(error = %e, event = %event.id, "could not store activity");
        }
        None
    }
}
