//! `Announce` from a group a local organization follows (FEP-1b12): a
//! member's Create, Update or Delete, or the group's own Remove of an item.
//!
//! The Announce is signed by the group (checked like every activity), but
//! what it wraps was written by someone else, so nothing in it is taken on
//! trust: the inner activity must be on its actor's domain, its object on
//! the same domain and attributed to that actor, and the object is fetched
//! from that origin. The copy the Announce carries is never stored. A
//! Delete counts only for an object the announcing group carries here, and
//! only when the origin confirms it (410 Gone or a Tombstone; a 404 may
//! only mean "not for you"). An item already here is not fetched again for
//! a Create (the inner object's id is the dedup key), only linked to the
//! group.
//!
//! Local groups that follow the announcing group pass the activity on to
//! their own followers (networks following networks): with the object as
//! fetched from its origin, only public items, only once per group and
//! item, only items that changed for an Update, and only while the hop
//! count stays within [`MAX_GROUP_HOPS`].

use allmende_domain::{for_item_kind, Item, ItemKind, OrganizationId, Viewer};
use allmende_store::Found;
use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use super::group::{hops_of, Passing};
use super::{Inbound, Sender};
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::{id_of, ids_of};
use crate::resolver::FetchBudget;
use crate::urls::same_origin;

/// How many groups an activity may pass through: a member's group, a
/// network that follows it and one more. Beyond, it is not passed on.
pub const MAX_GROUP_HOPS: u8 = 3;

impl Inbound {
    /// Handles an Announce of `sender`, a group a local organization
    /// follows. `relay`: local groups following it pass the activity on
    /// (not for the backfill of what the group carried before).
    pub(crate) async fn on_announce(
        &self,
        announce: &Incoming,
        sender: &Sender,
        budget: &mut FetchBudget,
        relay: bool,
    ) -> Result<(), FederationError> {
        if sender.actor.actor_type != "Group" {
            return Err(FederationError::Forbidden(
                "Announce by an actor that is not a group".into(),
            ));
        }
        // Embedded (as Allmende and Lemmy send it) or by id.
        let inner_raw = match &announce.object {
            Value::Object(_) => announce.object.clone(),
            other => {
                let id = id_of(other).ok_or_else(|| bad("Announce without object"))?;
                self.resolver.fetch_object(&id, budget).await?
            }
        };
        // A bare object (Lemmy's compatibility Announce of a Page, a boost)
        // is not a member's activity: the Announce of its Create is.
        if inner_raw.get("actor").is_none() {
            tracing::debug!(id = %announce.id, "Announce of an object, not an activity; ignored");
            return Ok(());
        }
        let inner = Incoming::parse(inner_raw)?;
        if !same_origin(&inner.id, &inner.actor) {
            return Err(FederationError::Forbidden(format!(
                "announced activity {} claims another origin than its actor",
                inner.id
            )));
        }
        match inner.kind.as_str() {
            "Create" | "Update" | "Delete" => {}
            "Remove" => return self.on_group_remove(&inner, sender).await,
            other => {
                tracing::debug!(kind = other, "announced activity type ignored");
                return Ok(());
            }
        }
        let object_id =
            id_of(&inner.object).ok_or_else(|| bad("announced activity without object"))?;
        if !same_origin(&object_id, &inner.actor) {
            return Err(FederationError::Forbidden(format!(
                "announced object {object_id} not on its author's domain"
            )));
        }
        // Deleting an actor is its own business, never a group's.
        if object_id == inner.actor {
            return Ok(());
        }
        let store = &self.core.store;
        // Local groups that follow the announcing group, asked before a
        // Delete removes what they carry.
        let relaying = if relay {
            self.relaying_groups(sender, &inner.kind, &object_id)
                .await?
        } else {
            Vec::new()
        };
        let before = self.version_of(&object_id).await?;

        let local_author = self.core.urls.is_local(&inner.actor);
        let (author, embed) = if local_author {
            // This node's own item, come back through a group: nothing to
            // store, but local groups may pass it on.
            let Some(handle) = self.core.urls.local_handle(&inner.actor) else {
                return Ok(());
            };
            let org = store.organizations().by_handle(handle).await?;
            (org.id, Value::String(object_id.to_string()))
        } else {
            self.core.policy.check(&inner.actor)?;
            let (author_org, author_actor) = self
                .resolver
                .actor_by_id(&inner.actor, budget)
                .await
                .map_err(|e| not_at_origin(e, &inner.actor))?;
            let author = Sender::new(author_org, author_actor);
            // Kept because a local organization follows the group.
            author.admit();
            let genuine = self
                .genuine(
                    &inner,
                    &object_id,
                    &author,
                    sender,
                    before.is_some(),
                    budget,
                )
                .await?;
            let Some(genuine) = genuine else {
                return Ok(());
            };
            (author.org.id, genuine)
        };

        let stored = self.stored_item(&object_id).await?;
        if let (Some((kind, item_id)), true) = (stored, inner.kind != "Delete") {
            store
                .groups()
                .carry(
                    &allmende_store::Carried {
                        group: sender.org.id,
                        object_id: object_id.as_str(),
                        kind,
                        item_id,
                        author,
                    },
                    Utc::now(),
                )
                .await?;
        }
        if relaying.is_empty() {
            return Ok(());
        }
        let after = self.version_of(&object_id).await?;
        let pass = match inner.kind.as_str() {
            // Only public items, and an Update only when something changed.
            "Create" => self.is_public_item(stored).await?,
            "Update" => after != before && self.is_public_item(stored).await?,
            _ => true,
        };
        if !pass {
            return Ok(());
        }
        // The activity as verified here: the object as its origin serves
        // it (or its id), never the copy that came in the Announce.
        let mut verified = inner.raw.clone();
        verified["object"] = embed;
        let passing = Passing {
            activity_id: inner.id.as_str(),
            kind: &inner.kind,
            embed: verified,
            object_id: &object_id,
            item: stored,
            author,
        };
        self.announce_through(&passing, relaying, hops_of(&announce.raw).saturating_add(1))
            .await
    }

    /// Applies `inner` as its author's own activity, with the object
    /// fetched from its origin; returns what a relay embeds (the fetched
    /// object, or its id), or `None` when there is nothing to do.
    async fn genuine(
        &self,
        inner: &Incoming,
        object_id: &Url,
        author: &Sender,
        group: &Sender,
        known: bool,
        budget: &mut FetchBudget,
    ) -> Result<Option<Value>, FederationError> {
        let checked = |object: Value| Incoming {
            id: inner.id.clone(),
            kind: inner.kind.clone(),
            actor: inner.actor.clone(),
            object,
            recipients: inner.recipients.clone(),
            raw: Value::Null,
        };
        match inner.kind.as_str() {
            "Delete" => {
                // Only what this group brought here, and only once its
                // origin confirms the deletion.
                if !self
                    .core
                    .store
                    .groups()
                    .carries(group.org.id, object_id.as_str())
                    .await?
                {
                    return Ok(None);
                }
                if self.resolver.confirms_deleted(object_id, budget).await? {
                    self.on_delete(&checked(Value::String(object_id.to_string())), author)
                        .await?;
                    Ok(Some(Value::String(object_id.to_string())))
                } else {
                    Err(FederationError::Forbidden(format!(
                        "announced Delete of {object_id}, which its origin does not confirm"
                    )))
                }
            }
            "Create" if known => {
                // Known already: only its author may have it in a group.
                let owner = self.owner_of(object_id).await?;
                if owner.is_some_and(|o| o != author.org.id) {
                    return Err(FederationError::Forbidden(
                        "announced Create of an item by someone else".into(),
                    ));
                }
                Ok(Some(Value::String(object_id.to_string())))
            }
            _ => {
                let doc = self
                    .resolver
                    .fetch_object(object_id, budget)
                    .await
                    .map_err(|e| not_at_origin(e, object_id))?;
                if id_of(&doc).as_ref() != Some(object_id) {
                    return Err(FederationError::Forbidden(format!(
                        "{object_id} answers with another object"
                    )));
                }
                if !ids_of(doc.get("attributedTo")).contains(&inner.actor) {
                    return Err(FederationError::Forbidden(format!(
                        "{object_id} is not attributed to {}",
                        inner.actor
                    )));
                }
                self.on_create_or_update(&checked(doc.clone()), author, budget)
                    .await?;
                Ok(Some(doc))
            }
        }
    }

    /// The local groups whose accepted follow of `group` makes them pass
    /// its activities on: every one for a Create, those that carry the
    /// object for an Update or Delete.
    async fn relaying_groups(
        &self,
        group: &Sender,
        kind: &str,
        object_id: &Url,
    ) -> Result<Vec<OrganizationId>, FederationError> {
        let store = &self.core.store;
        let mut relaying = Vec::new();
        for follower in store.follows().local_followers(group.org.id).await? {
            let org = store.organizations().get(follower).await?;
            if !org.profile.kind.is_group() {
                continue;
            }
            if kind == "Create" || store.groups().carries(org.id, object_id.as_str()).await? {
                relaying.push(org.id);
            }
        }
        Ok(relaying)
    }

    /// When the item `object_id` here was last changed, if it is here.
    async fn version_of(&self, object_id: &Url) -> Result<Option<DateTime<Utc>>, FederationError> {
        let Some((kind, id)) = self.stored_item(object_id).await? else {
            return Ok(None);
        };
        let store = &self.core.store;
        Ok(for_item_kind!(kind,
            T => store.items::<T>().get(id).await.found()?.map(|i: T| i.updated_at()),
            _not_an_item => None))
    }

    /// Whether the stored item is one the public may read.
    async fn is_public_item(
        &self,
        item: Option<(ItemKind, uuid::Uuid)>,
    ) -> Result<bool, FederationError> {
        let Some((kind, id)) = item else {
            return Ok(false);
        };
        let store = &self.core.store;
        let found = for_item_kind!(kind,
            T => store.items::<T>().read(Viewer::Public, id).await.map(|_: T| ()),
            _not_an_item => Err(allmende_store::StoreError::NotFound));
        match found {
            Ok(()) => Ok(true),
            Err(allmende_store::StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The organization that owns the item or answer `object_id` here.
    async fn owner_of(&self, object_id: &Url) -> Result<Option<OrganizationId>, FederationError> {
        if let Some(answer) = self
            .core
            .store
            .answers()
            .find_by_ap_id(object_id.as_str())
            .await?
        {
            return Ok(Some(answer.organization_id));
        }
        let Some((kind, id)) = self.stored_item(object_id).await? else {
            return Ok(None);
        };
        let store = &self.core.store;
        Ok(for_item_kind!(kind,
            T => store.items::<T>().get(id).await.found()?.map(|i: T| i.organization_id()),
            _not_an_item => None))
    }

    /// The group removed an item (moderation): it no longer carries it
    /// here, and the copy goes if nothing else keeps it — its author is
    /// not followed here, no other group carries it, and (for a question)
    /// no organization here answered it.
    async fn on_group_remove(
        &self,
        inner: &Incoming,
        group: &Sender,
    ) -> Result<(), FederationError> {
        if inner.actor.as_str() != group.actor.actor_id {
            return Err(FederationError::Forbidden(
                "a Remove announced by a group must be the group's own".into(),
            ));
        }
        let object_id = id_of(&inner.object).ok_or_else(|| bad("Remove without object"))?;
        let store = &self.core.store;
        if !store
            .groups()
            .uncarry(group.org.id, object_id.as_str())
            .await?
        {
            return Ok(());
        }
        let Some((kind, item_id)) = self.stored_item(&object_id).await? else {
            return Ok(());
        };
        if self.core.urls.is_local(&object_id)
            || !store
                .groups()
                .of_object(object_id.as_str())
                .await?
                .is_empty()
        {
            return Ok(());
        }
        let Some(owner) = self.owner_of(&object_id).await? else {
            return Ok(());
        };
        if store.follows().has_local_follower(owner).await? {
            return Ok(());
        }
        if kind == ItemKind::Question {
            let answers = store
                .answers()
                .for_question(allmende_domain::QuestionId(item_id))
                .await?;
            let answered_here = store
                .organizations()
                .by_ids(answers.iter().map(|a| a.organization_id))
                .await?
                .values()
                .any(|o| o.is_local());
            if answered_here {
                return Ok(());
            }
        }
        for_item_kind!(kind,
            T => store.items::<T>().delete_remote(item_id).await?,
            _not_an_item => {});
        Ok(())
    }
}

/// Something an Announce names that its origin does not have: the
/// Announce is refused (403), not answered as if this node lacked it.
fn not_at_origin(e: FederationError, what: &Url) -> FederationError {
    match e {
        FederationError::NotFound => {
            FederationError::Forbidden(format!("announced {what} does not exist at its origin"))
        }
        other => other,
    }
}

fn bad(message: &str) -> FederationError {
    FederationError::BadRequest(message.to_owned())
}
