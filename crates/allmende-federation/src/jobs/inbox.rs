//! Received activities whose handling a crash interrupted, or that wait
//! for a retry after a passing failure.

use std::sync::Arc;

use serde_json::Value;

use super::Jobs;
use crate::error::FederationError;
use crate::inbound::Sender;
use crate::objects::activity::Incoming;
use crate::resolver::FetchBudget;

/// Stored activities claimed per round.
const BATCH: i64 = 16;

impl Jobs {
    /// Processes claimed stored activities; `true` if there may be more.
    pub(super) async fn inbox_round(self: &Arc<Self>) -> Result<bool, FederationError> {
        let store = &self.core.store;
        let claimed = store
            .activities()
            .claim_stored(chrono::Utc::now(), self.core.lease(), BATCH)
            .await?;
        let more = claimed.len() as i64 == BATCH;
        for stored in claimed {
            let parsed = serde_json::from_str::<Value>(&stored.body)
                .map_err(|e| FederationError::BadRequest(e.to_string()))
                .and_then(Incoming::parse);
            let sender = store.remote_actors().by_actor_id(&stored.actor_id).await?;
            let (activity, (org, actor)) = match (parsed, sender) {
                (Ok(activity), Some(sender)) => (activity, sender),
                (Err(e), _) => {
                    store
                        .activities()
                        .dead(
                            stored.id,
                            &stored.activity_id,
                            &e.to_string(),
                            chrono::Utc::now(),
                        )
                        .await?;
                    continue;
                }
                (Ok(_), None) => {
                    // Its sender was deleted meanwhile, with all it sent.
                    store.activities().processed(stored.id).await?;
                    continue;
                }
            };
            let sender = Sender::new(org, actor);
            self.inbound
                .handle_stored(
                    stored.id,
                    &activity,
                    &sender,
                    Some(stored.attempts),
                    &mut FetchBudget::new(),
                )
                .await?;
        }
        Ok(more)
    }
}
