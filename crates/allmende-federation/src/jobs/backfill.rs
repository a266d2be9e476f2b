//! Backfill: when a follow is accepted, this node reads the followed
//! organization's outbox, page by page, and imports its public items, so a
//! newly joined node is not empty. Bounded ([`MAX_ITEMS`], [`MAX_PAGES`])
//! and resumable: the store keeps the next page after each one.
//!
//! Outbox pages are fetched from the organization's own server, and every
//! entry passes the checks an inbox applies (actor is the organization,
//! object on its domain, item valid), then the same handler stores it, so
//! an item already known is updated, never duplicated.

use std::sync::Arc;

use allmende_store::Backfill;
use chrono::Utc;
use serde_json::Value;
use url::Url;

use super::Jobs;
use crate::error::FederationError;
use crate::inbound::Sender;
use crate::objects::activity::Incoming;
use crate::objects::{id_of, type_of};
use crate::resolver::FetchBudget;
use crate::urls::same_origin;

/// Items imported per followed organization at most.
pub const MAX_ITEMS: i64 = 200;
/// Outbox pages read per followed organization at most.
pub const MAX_PAGES: i64 = 20;
/// Failed page reads before an import is dead.
pub const MAX_BACKFILL_ATTEMPTS: i64 = 5;

impl Jobs {
    /// Works on one claimed import, one page; `true` if one was claimed.
    pub(super) async fn backfill_round(self: &Arc<Self>) -> Result<bool, FederationError> {
        let Some(job) = self
            .core
            .store
            .backfills()
            .claim(Utc::now(), self.core.lease())
            .await?
        else {
            return Ok(false);
        };
        if let Err(e) = self.backfill_page(&job).await {
            let now = Utc::now();
            let retry_at =
                (e.is_transient() && job.attempts + 1 < MAX_BACKFILL_ATTEMPTS).then(|| {
                    let wait = crate::retry::backoff(
                        &self.core.settings.delivery,
                        job.attempts,
                        rand::random::<f64>(),
                    );
                    now + chrono::Duration::from_std(wait).unwrap_or_default()
                });
            match retry_at {
                Some(_) => tracing::info!(error = %e, "backfill page failed, will retry"),
                None => tracing::warn!(error = %e, "backfill given up"),
            }
            self.core
                .store
                .backfills()
                .failed(&job, &e.to_string(), retry_at, now)
                .await?;
        }
        Ok(true)
    }

    async fn backfill_page(&self, job: &Backfill) -> Result<(), FederationError> {
        let store = &self.core.store;
        let Some((org, actor)) = store
            .remote_actors()
            .with_organization(job.target_id)
            .await?
        else {
            // Unfollowed or deleted meanwhile.
            return store
                .backfills()
                .advance(job, None, job.imported)
                .await
                .map_err(Into::into);
        };
        let actor_url =
            Url::parse(&actor.actor_id).map_err(|e| FederationError::BadRequest(e.to_string()))?;
        let mut budget = FetchBudget::new();
        let page = match &job.next_page {
            Some(url) => self.fetch_page(url, &actor_url, &mut budget).await?,
            None => {
                let doc = self.resolver.fetch_object(&actor_url, &mut budget).await?;
                let Some(outbox) = doc.get("outbox").and_then(id_of) else {
                    return store
                        .backfills()
                        .advance(job, None, 0)
                        .await
                        .map_err(Into::into);
                };
                let collection = self
                    .fetch_page(outbox.as_str(), &actor_url, &mut budget)
                    .await?;
                match collection.get("first") {
                    Some(Value::String(first)) => {
                        self.fetch_page(first, &actor_url, &mut budget).await?
                    }
                    Some(first @ Value::Object(_)) => first.clone(),
                    // An outbox without pages lists its items itself.
                    _ => collection,
                }
            }
        };
        let sender = Sender::new(org, actor);
        let entries = page
            .get("orderedItems")
            .or_else(|| page.get("items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let room = usize::try_from(MAX_ITEMS - job.imported).unwrap_or(0);
        let mut imported = job.imported;
        for entry in entries.into_iter().take(room) {
            match self.import_entry(entry, &sender, &actor_url).await {
                Ok(true) => imported += 1,
                Ok(false) => {}
                Err(e) => tracing::info!(error = %e, "backfill entry skipped"),
            }
        }
        let next = page
            .get("next")
            .and_then(id_of)
            .filter(|next| same_origin(next, &actor_url))
            .filter(|_| imported < MAX_ITEMS && job.pages + 1 < MAX_PAGES);
        store
            .backfills()
            .advance(job, next.as_ref().map(Url::as_str), imported)
            .await?;
        Ok(())
    }

    async fn fetch_page(
        &self,
        url: &str,
        actor: &Url,
        budget: &mut FetchBudget,
    ) -> Result<Value, FederationError> {
        let url = Url::parse(url).map_err(|e| FederationError::BadRequest(e.to_string()))?;
        if !same_origin(&url, actor) {
            return Err(FederationError::Forbidden(format!(
                "outbox page {url} not on the actor's domain"
            )));
        }
        self.resolver.fetch_object(&url, budget).await
    }

    /// Imports one outbox entry (a Create, or a group's Announce); `false`
    /// if it is neither.
    async fn import_entry(
        &self,
        entry: Value,
        sender: &Sender,
        actor: &Url,
    ) -> Result<bool, FederationError> {
        let kind = type_of(&entry);
        if kind != Some("Create") && kind != Some("Announce") {
            return Ok(false);
        }
        let activity = Incoming::parse(entry)?;
        if &activity.actor != actor {
            return Err(FederationError::Forbidden(
                "outbox entry by another actor".into(),
            ));
        }
        if activity.kind == "Announce" {
            // What a group carries: checked and fetched from each origin
            // like a live Announce, but not passed on by groups here.
            self.inbound
                .on_announce(&activity, sender, &mut FetchBudget::new(), false)
                .await?;
            return Ok(true);
        }
        self.inbound
            .on_create_or_update(&activity, sender, &mut FetchBudget::new())
            .await?;
        Ok(true)
    }
}
