//! Move: an organization followed here tells its followers that it lives
//! on another node now (after `allmende org export`/`import` there). The
//! follows of local organizations go with it, as in Mastodon: each stops
//! following the old actor and asks to follow the new one, whose node
//! accepts them at once because they followed before.
//!
//! Only the actor itself can announce its move, and only to an actor that
//! names it in `alsoKnownAs`, read fresh from the new home: a forged or
//! hijacked Move cannot send followers to someone who did not agree.

use allmende_domain::Organization;
use serde_json::Value;
use url::Url;

use super::{Inbound, Sender};
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::id_of;
use crate::resolver::FetchBudget;
use allmende_store::Found;

impl Inbound {
    pub(super) async fn on_move(
        &self,
        activity: &Incoming,
        sender: &Sender,
        budget: &mut FetchBudget,
    ) -> Result<(), FederationError> {
        if id_of(&activity.object).as_ref() != Some(&activity.actor) {
            return Err(FederationError::Forbidden(
                "a Move must move its own actor".into(),
            ));
        }
        let target = activity
            .raw
            .get("target")
            .and_then(id_of)
            .filter(|t| matches!(t.scheme(), "http" | "https"))
            .ok_or_else(|| FederationError::BadRequest("Move without an http(s) target".into()))?;
        let new_home = self
            .verified_new_home(&sender.actor.actor_id, &target, budget)
            .await?;
        self.core
            .store
            .organizations()
            .remote_moved(sender.org.id, &target)
            .await?;
        let moved = self.move_local_follows(&sender.org, &new_home).await?;
        tracing::info!(from = %activity.actor, to = %target, follows = moved, "organization moved; follows moved with it");
        Ok(())
    }

    /// The organization at `new_home` as known here, once it is certain
    /// that it names `old_actor_id` in its `alsoKnownAs`: read fresh from
    /// its node (a stored copy may predate the alias), or from the store
    /// when it is one of this node's own. The document must be exactly the
    /// actor `new_home` names: a document at that URL about another actor
    /// of its host is refused, so nobody can move followers to (or change
    /// the stored key of) an actor that did not agree. Every refusal is
    /// `Forbidden`.
    pub async fn verified_new_home(
        &self,
        old_actor_id: &str,
        new_home: &Url,
        budget: &mut FetchBudget,
    ) -> Result<Organization, FederationError> {
        if new_home.as_str() == old_actor_id {
            return Err(FederationError::BadRequest(
                "an actor cannot move to itself".into(),
            ));
        }
        let refused = |why: &str| FederationError::Forbidden(format!("{new_home}: {why}"));
        let not_aliased = || refused(&format!("does not name {old_actor_id} in alsoKnownAs"));
        if self.core.urls.is_local(new_home) {
            let org = match self.core.urls.local_handle(new_home) {
                Some(handle) => self
                    .core
                    .store
                    .organizations()
                    .by_handle(handle)
                    .await
                    .found()?,
                None => None,
            }
            .ok_or_else(|| refused("no organization of this node"))?;
            if !org.also_known_as.iter().any(|a| a.as_str() == old_actor_id) {
                return Err(not_aliased());
            }
            return Ok(org);
        }
        let doc = match self.resolver.fetch_object(new_home, budget).await {
            Err(FederationError::NotFound) => return Err(refused("not found")),
            other => other?,
        };
        if id_of(&doc).as_ref() != Some(new_home) {
            return Err(refused("the document there is about another actor"));
        }
        if !also_known_as(&doc)
            .iter()
            .any(|a| a.as_str() == old_actor_id)
        {
            return Err(not_aliased());
        }
        let (org, _) = self.resolver.store_actor(&doc, new_home).await?;
        Ok(org)
    }

    /// Moves every follow of `old` by an organization of this node to
    /// `new`, each in one transaction: the old follow is undone and the new
    /// one requested. A group on this node is asked to admit the follower
    /// (pending, for its admins; not at all if it blocked it); another
    /// organization here needs no follow. Returns how many follows moved.
    pub async fn move_local_follows(
        &self,
        old: &Organization,
        new: &Organization,
    ) -> Result<usize, FederationError> {
        let store = &self.core.store;
        let follows = store.follows();
        let now = chrono::Utc::now();
        let mut moved = 0;
        for (follower, _) in follows.followers(old.id).await? {
            if !follower.is_local() || follower.id == new.id {
                continue;
            }
            let joins = !new.is_local()
                || (new.profile.kind.is_group()
                    && !store.groups().is_blocked(new.id, follower.id).await?);
            if joins {
                let activity_id = self.core.urls.new_activity("Follow");
                follows
                    .redirect(follower.id, old, new, &activity_id, now)
                    .await?;
            } else if old.is_local() {
                follows.remove(follower.id, old.id).await?;
            } else {
                follows.unfollow(follower.id, old.id, now).await?;
            }
            moved += 1;
        }
        self.core.wake();
        Ok(moved)
    }
}

/// The actor ids an actor document lists in `alsoKnownAs` (one, or a
/// list; ids or embedded objects).
fn also_known_as(doc: &Value) -> Vec<Url> {
    match doc.get("alsoKnownAs") {
        Some(Value::Array(list)) => list.iter().filter_map(id_of).collect(),
        Some(one) => id_of(one).into_iter().collect(),
        None => Vec::new(),
    }
}
