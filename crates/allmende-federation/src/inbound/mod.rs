//! Receiving activities: the checks every activity passes, then one
//! handler per activity type (`follow.rs` for Follow/Accept/Reject/Undo,
//! `items.rs` for Create/Update/Delete, `moves.rs` for Move).
//!
//! Order of checks, each failing without any change to the store: size;
//! `Signature` present, covering request-target, host, date and digest;
//! `Date` within the window; `Digest` matches the body; the signer's key
//! verifies (a key that does not is re-fetched once, for key rotation);
//! the body is an activity; its `actor` is the key's owner; its id is on
//! the actor's domain; it was not received before. Activity types this
//! node does not handle are accepted (202) and ignored.

mod adoptions;
mod announce;
mod follow;
mod group;
mod items;
mod moves;
mod rate;

pub use announce::MAX_GROUP_HOPS;
pub use group::Intake;

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::id_of;
use crate::resolver::{FetchBudget, Resolver};
use crate::signatures;
use crate::urls::same_origin;
use crate::Core;

/// Attempts to process a stored activity that fails for passing reasons
/// before it is given up (with the default backoff, hours).
pub const MAX_INBOX_ATTEMPTS: i64 = 10;

/// One POST to an inbox.
pub struct InboxRequest<'a> {
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Checks and handles what other servers send.
#[derive(Clone)]
pub struct Inbound {
    core: Arc<Core>,
    resolver: Resolver,
    rate: Arc<rate::PeerRate>,
}

/// The checked sender of an activity.
pub(crate) struct Sender {
    pub org: allmende_domain::Organization,
    pub actor: allmende_store::RemoteActor,
    /// Whether a local organization follows the sender, once asked: the
    /// inbox asks before storing an activity and again before keeping its
    /// object, and under load every round trip counts.
    followed: tokio::sync::OnceCell<bool>,
    /// A local group took the sender's new item, or a group followed here
    /// announced it: kept even if no organization follows the sender.
    admitted: std::sync::atomic::AtomicBool,
}

impl Sender {
    pub(crate) fn new(
        org: allmende_domain::Organization,
        actor: allmende_store::RemoteActor,
    ) -> Self {
        Self {
            org,
            actor,
            followed: tokio::sync::OnceCell::new(),
            admitted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Marks the sender's new objects as wanted here (see `admitted`).
    pub(crate) fn admit(&self) {
        self.admitted
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn is_admitted(&self) -> bool {
        self.admitted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a local organization follows the sender.
    pub(crate) async fn followed_here(
        &self,
        store: &allmende_store::Store,
    ) -> Result<bool, FederationError> {
        self.followed
            .get_or_try_init(|| async {
                Ok::<_, FederationError>(store.follows().has_local_follower(self.org.id).await?)
            })
            .await
            .copied()
    }
}

impl Inbound {
    pub(crate) fn new(core: Arc<Core>, resolver: Resolver) -> Self {
        let rate = Arc::new(rate::PeerRate::new(core.settings.inbox_per_minute));
        Self {
            core,
            resolver,
            rate,
        }
    }

    /// Checks and processes one incoming activity. `Ok` carries the status
    /// to answer: 202 for processed, duplicate, ignored and unwanted
    /// activities (the last two are not stored).
    pub async fn receive(&self, request: InboxRequest<'_>) -> Result<StatusCode, FederationError> {
        let mut kind = "unknown";
        let received = self.receive_counted(request, &mut kind).await;
        let result = match &received {
            Ok(Received::Handled) => "handled",
            Ok(Received::Duplicate) => "duplicate",
            Ok(Received::Unwanted) => "unwanted",
            Err(e) => e.metric_label(),
        };
        metrics::counter!("allmende_inbox_activities_total", "type" => kind, "result" => result)
            .increment(1);
        received.map(|_| StatusCode::ACCEPTED)
    }

    /// [`receive`](Self::receive), telling what became of the activity and
    /// setting `kind` to its type once it is known.
    async fn receive_counted(
        &self,
        request: InboxRequest<'_>,
        kind: &mut &'static str,
    ) -> Result<Received, FederationError> {
        if request.body.len() > self.core.settings.max_inbox_bytes {
            return Err(FederationError::TooLarge);
        }
        // The signature must name this node's host: a request signed for
        // another node cannot be replayed here.
        let pending = signatures::check_any(
            "POST",
            request.path_and_query,
            request.headers,
            Some(request.body),
            &self.core.settings.public_url,
        )?;
        let key_url = url::Url::parse(pending.key_id()).map_err(|_| {
            FederationError::Unauthorized(format!("key id {} is not a URL", pending.key_id()))
        })?;
        // A server the operators do not federate with is refused before
        // anything is looked up.
        self.core.policy.check(&key_url)?;
        let doc: Value = serde_json::from_slice(request.body)
            .map_err(|e| FederationError::BadRequest(format!("not JSON: {e}")))?;
        *kind = activity_type_label(&doc);
        let mut budget = FetchBudget::new();

        let known = self
            .core
            .store
            .remote_actors()
            .by_key_id(pending.key_id())
            .await?;
        let (org, actor) = match known {
            Some((org, actor)) if pending.verify_actor(&actor).is_ok() => (org, actor),
            // A known actor may have a new key.
            Some(_) => self.fetch_signer(&pending, &mut budget).await?,
            // Someone unknown: only a follow of a local organization or a
            // reply to something local can concern anyone here. Anything
            // else is dropped before any fetch (and a deleted actor's key
            // could not be fetched anyway).
            None if !concerns_this_node(&doc, &self.core.urls) => return Ok(Received::Unwanted),
            None => self.fetch_signer(&pending, &mut budget).await?,
        };

        // Counted once the signature verified: a forger cannot use up
        // another server's share by naming its key.
        self.rate.check(&crate::urls::authority(&key_url))?;
        let activity = Incoming::parse(doc)?;
        if activity.actor.as_str() != actor.actor_id {
            return Err(FederationError::Forbidden(format!(
                "signed by {} but claims actor {}",
                actor.actor_id, activity.actor
            )));
        }
        if !same_origin(&activity.id, &activity.actor) {
            return Err(FederationError::Forbidden(format!(
                "activity id {} not on the actor's domain",
                activity.id
            )));
        }
        // It answered: if deliveries to it were failing, they resume. Beside
        // the request, not in its way: bookkeeping of our deliveries, not a
        // check of this activity.
        let host = crate::urls::authority(&activity.actor);
        let store = self.core.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.outbox().peer_answered(&host).await {
                tracing::warn!(error = %e, %host, "could not resume deliveries to a peer that answered");
            }
        });
        let sender = Sender::new(org, actor);
        if !self.wanted(&activity, &sender).await? {
            tracing::debug!(id = %activity.id, kind = %activity.kind, "activity concerns nobody here; dropped");
            return Ok(Received::Unwanted);
        }

        // Stored before anything else happens, so an activity we answer
        // 2xx is never lost, even if the process dies while handling it.
        let body = String::from_utf8_lossy(request.body);
        let Some(stored) = self
            .core
            .store
            .activities()
            .accept(
                activity.id.as_str(),
                &sender.actor.actor_id,
                &body,
                chrono::Utc::now(),
                self.core.lease(),
            )
            .await?
        else {
            tracing::debug!(id = %activity.id, "duplicate activity ignored");
            return Ok(Received::Duplicate);
        };
        // Handled in a task of its own: if the sender hangs up (or times
        // out) meanwhile, the work still finishes instead of waiting in
        // the queue for its claim to run out.
        let inbound = self.clone();
        let handled = tokio::spawn(async move {
            inbound
                .handle_stored(stored, &activity, &sender, None, &mut budget)
                .await
        });
        match handled.await {
            Ok(outcome) => outcome?,
            Err(e) => {
                tracing::error!(error = %e, "handling an activity panicked");
                return Err(FederationError::Internal(e.to_string()));
            }
        }
        Ok(Received::Handled)
    }

    /// Authorized fetch: checks the HTTP signature of a GET for an
    /// ActivityPub document, as for an inbox POST (host and request target
    /// covered, date window, a key we know or fetch within the budget, the
    /// signer's domain federated with). Returns the signer.
    pub async fn check_fetch(
        &self,
        path_and_query: &str,
        headers: &HeaderMap,
    ) -> Result<allmende_store::RemoteActor, FederationError> {
        let pending = signatures::check_any(
            "GET",
            path_and_query,
            headers,
            None,
            &self.core.settings.public_url,
        )?;
        let key_url = url::Url::parse(pending.key_id()).map_err(|_| {
            FederationError::Unauthorized(format!("key id {} is not a URL", pending.key_id()))
        })?;
        self.core.policy.check(&key_url)?;
        let known = self
            .core
            .store
            .remote_actors()
            .by_key_id(pending.key_id())
            .await?;
        let (_, actor) = match known {
            Some((org, actor)) if pending.verify_actor(&actor).is_ok() => (org, actor),
            _ => self.fetch_signer(&pending, &mut FetchBudget::new()).await?,
        };
        self.rate.check(&crate::urls::authority(&key_url))?;
        Ok(actor)
    }

    /// Fetches the signer's key within [`KEY_FETCH_BUDGET`], checks the
    /// signature with it, and only then stores the actor: a request that
    /// fails the check leaves nothing behind, and a slow key URL cannot
    /// hold the request.
    async fn fetch_signer(
        &self,
        pending: &signatures::PendingSignature,
        budget: &mut FetchBudget,
    ) -> Result<(allmende_domain::Organization, allmende_store::RemoteActor), FederationError> {
        let fetched = tokio::time::timeout(
            KEY_FETCH_BUDGET,
            self.resolver.fetch_actor_for_key(pending.key_id(), budget),
        )
        .await
        .map_err(|_| {
            FederationError::Unauthorized(format!("key {} not fetched in time", pending.key_id()))
        })??;
        pending.verify_actor(&fetched.actor)?;
        self.resolver.store_parsed(fetched).await
    }

    /// Whether a checked activity concerns anyone here: a follow-protocol
    /// activity, a profile update, or an object from an actor a local
    /// organization follows, or replying to something local. Anything else
    /// (posts of strangers addressed here, likes, boosts) is not stored.
    async fn wanted(&self, activity: &Incoming, sender: &Sender) -> Result<bool, FederationError> {
        Ok(match activity.kind.as_str() {
            "Follow" | "Accept" | "Reject" | "Undo" | "Delete" => true,
            "Create" | "Update" => {
                id_of(&activity.object).as_ref() == Some(&activity.actor)
                    || replies_here(&activity.object, &self.core.urls)
                    || refers_to_local_solution(&activity.object, &self.core.urls)
                    || (activity.kind == "Update" && self.keeps_copy_of(&activity.object).await?)
                    || sender.followed_here(&self.core.store).await?
                    || !self.group_intake(activity, sender).await?.is_empty()
            }
            // A solution's author changing its adopters; an organization
            // moving to another node.
            "Add" | "Remove" | "Move" => sender.followed_here(&self.core.store).await?,
            // Only groups announce; only what someone here follows matters.
            "Announce" => {
                sender.actor.actor_type == "Group"
                    && !self
                        .core
                        .store
                        .follows()
                        .local_followers(sender.org.id)
                        .await?
                        .is_empty()
            }
            _ => false,
        })
    }

    /// Whether a solution object is kept here already (a variant kept
    /// from an author nobody follows): its Update must be heard, to keep
    /// it current or to drop it when it stops being a variant.
    async fn keeps_copy_of(&self, object: &Value) -> Result<bool, FederationError> {
        let Some(id) = id_of(object) else {
            return Ok(false);
        };
        Ok(self
            .core
            .store
            .solutions()
            .find_by_ap_id(id.as_str())
            .await?
            .is_some())
    }

    /// Processes a stored activity and settles its queue entry: dropped when
    /// done. When it fails while the sender waits for the answer
    /// (`attempts_before` is `None`), the entry is dropped and its id
    /// forgotten, and the error goes back to the sender (whose retry then
    /// counts). One the jobs took over (after a crash, or for a retry) is
    /// retried with backoff while the failure is passing, up to
    /// [`MAX_INBOX_ATTEMPTS`]; then, or at once for a refusal, it is dead:
    /// kept with its error for operators.
    pub(crate) async fn handle_stored(
        &self,
        stored: uuid::Uuid,
        activity: &Incoming,
        sender: &Sender,
        attempts_before: Option<i64>,
        budget: &mut FetchBudget,
    ) -> Result<(), FederationError> {
        let activities = self.core.store.activities();
        let mut outcome = self.dispatch(activity, sender, budget).await;
        if let Err(FederationError::Store(allmende_store::StoreError::Conflict(_))) = outcome {
            // Two deliveries about one object raced (a Create and an Update
            // arriving together); the second sees the first's row now.
            outcome = self.dispatch(activity, sender, budget).await;
        }
        let error = match outcome {
            Ok(()) => {
                activities.processed(stored).await?;
                self.core.wake();
                return Ok(());
            }
            Err(e) => e,
        };
        let Some(attempts_before) = attempts_before else {
            activities.refused(stored, activity.id.as_str()).await?;
            return Err(error);
        };
        if error.is_transient() && attempts_before + 1 < MAX_INBOX_ATTEMPTS {
            let next = crate::retry::next_attempt(
                &self.core.settings.delivery,
                attempts_before,
                None,
                chrono::Utc::now(),
                rand::random::<f64>(),
            );
            tracing::info!(id = %activity.id, error = %error, %next, "activity stored, processing will be retried");
            activities
                .retry_stored(stored, next, &error.to_string())
                .await?;
        } else {
            tracing::warn!(id = %activity.id, error = %error, "stored activity given up");
            activities
                .dead(
                    stored,
                    activity.id.as_str(),
                    &error.to_string(),
                    chrono::Utc::now(),
                )
                .await?;
        }
        Ok(())
    }

    /// Hands a checked activity to the handler of its type.
    async fn dispatch(
        &self,
        activity: &Incoming,
        sender: &Sender,
        budget: &mut FetchBudget,
    ) -> Result<(), FederationError> {
        match activity.kind.as_str() {
            "Follow" => self.on_follow(activity, sender).await,
            "Accept" => self.on_follow_answer(activity, sender, true).await,
            "Reject" => self.on_follow_answer(activity, sender, false).await,
            "Undo" => self.on_undo(activity, sender).await,
            "Create" | "Update" | "Delete" => {
                // Asked before: a Delete takes the item out of its groups.
                let intake = self.group_intake(activity, sender).await?;
                if activity.kind == "Delete" {
                    self.on_delete(activity, sender).await?;
                } else {
                    self.on_create_or_update(activity, sender, budget).await?;
                }
                self.pass_on(activity, sender.org.id, intake, 1).await
            }
            "Announce" => self.on_announce(activity, sender, budget, true).await,
            "Add" | "Remove" => self.on_adopters_change(activity, sender, budget).await,
            "Move" => self.on_move(activity, sender, budget).await,
            other => {
                tracing::debug!(kind = other, id = %activity.id, "activity type ignored");
                Ok(())
            }
        }
    }
}

/// How long an inbox request may spend fetching an unknown signer's key.
pub const KEY_FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether an activity of an actor nobody here knows can concern this
/// node, judged from the unchecked document before anything is fetched:
/// a Follow of a local actor, or a Create replying to something local.
fn concerns_this_node(doc: &Value, urls: &crate::urls::Urls) -> bool {
    match doc.get("type").and_then(Value::as_str) {
        Some("Follow") => doc
            .get("object")
            .and_then(id_of)
            .is_some_and(|o| urls.local_handle(&o).is_some()),
        Some("Create") => doc
            .get("object")
            .is_some_and(|o| replies_here(o, urls) || refers_to_local_solution(o, urls)),
        _ => false,
    }
}

/// Whether an (embedded) object replies to a question or an answer on
/// this node (an answer to a thread here).
fn replies_here(object: &Value, urls: &crate::urls::Urls) -> bool {
    object.get("inReplyTo").and_then(id_of).is_some_and(|r| {
        urls.is_local(&r)
            && (r.path().starts_with("/questions/") || r.path().starts_with("/answers/"))
    })
}

/// Whether an (embedded) object declares the use of a solution on this
/// node, or is a variant of one: the solution's node keeps those from
/// anyone, so that the solution shows its adopters and variants.
fn refers_to_local_solution(object: &Value, urls: &crate::urls::Urls) -> bool {
    let is_local_solution = |u: &url::Url| urls.local_solution(u).is_some();
    crate::objects::adoption::adopted_solution(object).is_some_and(|s| is_local_solution(&s))
        || variant_of(object).is_some_and(|s| is_local_solution(&s))
}

/// The original a solution object says it adapts.
pub(crate) fn variant_of(object: &Value) -> Option<url::Url> {
    object
        .get("item")
        .and_then(|i| i.get("variant_of"))
        .and_then(Value::as_str)
        .and_then(|u| url::Url::parse(u).ok())
}

/// What became of an activity that was answered 202.
enum Received {
    /// Stored and handled.
    Handled,
    /// Seen before; nothing done again.
    Duplicate,
    /// Concerns nobody here; not stored.
    Unwanted,
}

/// The activity's type as a metric label: one of the types this node
/// knows, else `other` (a sender must not be able to mint labels).
fn activity_type_label(doc: &Value) -> &'static str {
    const KNOWN: [&str; 12] = [
        "Create", "Update", "Delete", "Follow", "Accept", "Reject", "Undo", "Announce", "Add",
        "Remove", "Move", "Flag",
    ];
    let kind = doc.get("type").and_then(Value::as_str).unwrap_or_default();
    KNOWN.into_iter().find(|k| *k == kind).unwrap_or("other")
}
