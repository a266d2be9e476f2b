//! `Announce` from a group a local organization follows (FEP-1b12): a
//! member's Create, Update or Delete, or the group's own Remove of an item.
//!
//! The Announce is signed by the group (checked like every activity), but
//! what it wraps was written by someone else, so nothing in it is taken on
//! trust: the inner activity must be on its actor's domain, its object on
//! the same domain, and the object is fetched from that origin (a Delete
//! must find it gone there). The copy the Announce carries is never
//! stored. An item already here is not fetched again for a Create (the
//! inner object's id is the dedup key), only linked to the group.
//!
//! Local groups that follow the announcing group pass the inner activity
//! on to their own followers (networks following networks), each once,
//! and only while the hop count stays within [`MAX_GROUP_HOPS`].

use allmende_store::{Announcement, Carried};
use serde_json::Value;

use super::group::hops_of;
use super::{Inbound, Sender};
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::{id_of, type_of};
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
        // This node's own item, come back through a group.
        if self.core.urls.is_local(&inner.actor) {
            return Ok(());
        }
        self.core.policy.check(&inner.actor)?;
        let (author_org, author_actor) = self
            .resolver
            .actor_by_id(&inner.actor, budget)
            .await
            .map_err(|e| not_at_origin(e, &inner.actor))?;
        let author = Sender::new(author_org, author_actor);
        // Kept because a local organization follows the group.
        author.admit();

        let store = &self.core.store;
        // Local groups that follow the announcing group and will pass this
        // on: asked before a Delete removes what they carry.
        let relaying = if relay {
            self.relaying_groups(sender, &inner, &object_id).await?
        } else {
            Vec::new()
        };
        let known = self.stored_item(&object_id).await?;
        let genuine = match inner.kind.as_str() {
            "Delete" => match self.resolver.fetch_object(&object_id, budget).await {
                Err(FederationError::NotFound) => Value::String(object_id.to_string()),
                Ok(doc) if type_of(&doc) == Some("Tombstone") => {
                    Value::String(object_id.to_string())
                }
                Ok(_) => {
                    return Err(FederationError::Forbidden(format!(
                        "announced Delete of {object_id}, which its origin still serves"
                    )))
                }
                Err(e) => return Err(e),
            },
            "Create" if known.is_some() => Value::Null,
            _ => {
                let doc = self
                    .resolver
                    .fetch_object(&object_id, budget)
                    .await
                    .map_err(|e| not_at_origin(e, &object_id))?;
                if id_of(&doc).as_ref() != Some(&object_id) {
                    return Err(FederationError::Forbidden(format!(
                        "{object_id} answers with another object"
                    )));
                }
                doc
            }
        };
        let checked = Incoming {
            id: inner.id.clone(),
            kind: inner.kind.clone(),
            actor: inner.actor.clone(),
            object: genuine,
            recipients: inner.recipients.clone(),
            raw: Value::Null,
        };
        match checked.kind.as_str() {
            "Delete" => self.on_delete(&checked, &author).await?,
            "Create" if checked.object.is_null() => {
                // Known already: only its author may have it in a group.
                let owner = self.owner_of(&object_id).await?;
                if owner.is_some_and(|o| o != author.org.id) {
                    return Err(FederationError::Forbidden(
                        "announced Create of an item by someone else".into(),
                    ));
                }
            }
            _ => self.on_create_or_update(&checked, &author, budget).await?,
        }

        let now = chrono::Utc::now();
        let stored = self.stored_item(&object_id).await?;
        if let (Some((kind, item_id)), true) = (stored, checked.kind != "Delete") {
            store
                .groups()
                .carry(
                    &Carried {
                        group: sender.org.id,
                        object_id: object_id.as_str(),
                        kind,
                        item_id,
                        author: author.org.id,
                    },
                    now,
                )
                .await?;
        }
        let hops = hops_of(&announce.raw).saturating_add(1);
        if relaying.is_empty() {
            return Ok(());
        }
        if hops > MAX_GROUP_HOPS {
            tracing::info!(id = %inner.id, hops, "not passed on: too many groups on the way");
            return Ok(());
        }
        for group in relaying {
            let carried = match (stored, inner.kind.as_str()) {
                (Some((kind, item_id)), "Create") => Some(Carried {
                    group,
                    object_id: object_id.as_str(),
                    kind,
                    item_id,
                    author: author.org.id,
                }),
                _ => None,
            };
            store
                .groups()
                .announce(
                    group,
                    inner.id.as_str(),
                    carried.as_ref(),
                    &Announcement::GroupAnnounce {
                        activity: inner.raw.clone(),
                        hops,
                    },
                    now,
                )
                .await?;
        }
        self.core.wake();
        Ok(())
    }

    /// The local groups that follow `group` and pass `inner` on: every one
    /// for a Create, those that carry the object for an Update or Delete.
    async fn relaying_groups(
        &self,
        group: &Sender,
        inner: &Incoming,
        object_id: &url::Url,
    ) -> Result<Vec<allmende_domain::OrganizationId>, FederationError> {
        let store = &self.core.store;
        let mut relaying = Vec::new();
        for follower in store.follows().local_followers(group.org.id).await? {
            let org = store.organizations().get(follower).await?;
            if !org.profile.kind.is_group() {
                continue;
            }
            if inner.kind == "Create" || store.groups().carries(org.id, object_id.as_str()).await? {
                relaying.push(org.id);
            }
        }
        Ok(relaying)
    }

    /// The organization that owns the item or answer `object_id` here.
    async fn owner_of(
        &self,
        object_id: &url::Url,
    ) -> Result<Option<allmende_domain::OrganizationId>, FederationError> {
        if let Some(answer) = self
            .core
            .store
            .answers()
            .find_by_ap_id(object_id.as_str())
            .await?
        {
            return Ok(Some(answer.organization_id));
        }
        for kind in allmende_domain::ItemKind::ALL
            .into_iter()
            .filter(|k| k.is_item())
        {
            let owner = allmende_domain::for_item_kind!(kind,
                T => self.core.store.items::<T>().find_by_ap_id(object_id.as_str()).await?
                    .map(|i| allmende_domain::Item::organization_id(&i)),
                _not_an_item => None);
            if owner.is_some() {
                return Ok(owner);
            }
        }
        Ok(None)
    }

    /// The group removed an item (moderation): it no longer carries it
    /// here, and the copy goes if nothing else keeps it (its author is
    /// not followed here and no other group carries it).
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
        allmende_domain::for_item_kind!(kind,
            T => store.items::<T>().delete_remote(item_id).await?,
            _not_an_item => {});
        Ok(())
    }
}

/// Something an Announce names that its origin does not have: the
/// Announce is refused (403), not answered as if this node lacked it.
fn not_at_origin(e: FederationError, what: &url::Url) -> FederationError {
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
