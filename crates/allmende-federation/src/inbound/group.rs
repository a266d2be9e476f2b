//! What a local group (an association or network, FEP-1b12) does with what
//! it hears: it passes its members' activities on to its followers,
//! wrapped in `Announce` exactly as received.
//!
//! - A new item (Create) is passed on when its author is an accepted
//!   member (a follower of the group), not blocked, the item is public and
//!   addressed to the group (`audience`, `to` or `cc`). The group then
//!   carries it.
//! - An answer (a Create replying to something the group carries) is
//!   passed on from anyone the group has not blocked: answers come from
//!   any node, as in a forum.
//! - An Update or Delete of an item the group carries is passed on when it
//!   comes from the item's author (the item handlers check that).
//!
//! A group announces each activity once (`group_announced`), so two
//! networks that follow each other do not pass one item back and forth.

use allmende_domain::{for_item_kind, Item, ItemKind, Organization, OrganizationId};
use allmende_store::{Announcement, Carried};
use serde_json::Value;
use url::Url;

use super::{Inbound, Sender};
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::{id_of, ids_of};
use crate::vocabulary::is_public;

/// Why a local group passes an activity on.
pub enum Intake {
    /// A member's new item for the group.
    NewItem(Organization),
    /// A reply to something the group carries.
    Reply(Organization),
    /// An Update or Delete of something the group carries.
    Change(Organization),
}

impl Intake {
    /// A local group passes on a change of an item it carried.
    pub fn change(group: Organization) -> Self {
        Intake::Change(group)
    }
}

impl Intake {
    fn group(&self) -> &Organization {
        match self {
            Intake::NewItem(g) | Intake::Reply(g) | Intake::Change(g) => g,
        }
    }
}

impl Inbound {
    /// The local groups that pass `activity` of `sender` on, once it is
    /// handled. Also marks the sender admitted when a group takes its new
    /// item, so the item is kept even if no organization here follows the
    /// sender.
    pub(crate) async fn group_intake(
        &self,
        activity: &Incoming,
        sender: &Sender,
    ) -> Result<Vec<Intake>, FederationError> {
        let intake = self.group_intake_of(activity, sender.org.id).await?;
        if intake.iter().any(|i| matches!(i, Intake::NewItem(_))) {
            sender.admit();
        }
        Ok(intake)
    }

    /// [`Inbound::group_intake`] for an activity of `author`, remote or
    /// local (a member on this node posting to a group on this node).
    pub(crate) async fn group_intake_of(
        &self,
        activity: &Incoming,
        author: OrganizationId,
    ) -> Result<Vec<Intake>, FederationError> {
        let store = &self.core.store;
        let Some(object_id) = id_of(&activity.object) else {
            return Ok(Vec::new());
        };
        let mut intake = Vec::new();
        match activity.kind.as_str() {
            "Create" => {
                let object = &activity.object;
                let mut addressed = activity.recipients.clone();
                addressed.extend(ids_of(object.get("audience")));
                addressed.extend(ids_of(object.get("to")));
                addressed.extend(ids_of(object.get("cc")));
                addressed.sort();
                addressed.dedup();
                let parent = object.get("inReplyTo").and_then(id_of);
                for group in self.local_groups(&addressed).await? {
                    if store.groups().is_blocked(group.id, author).await? {
                        continue;
                    }
                    match &parent {
                        Some(parent) => {
                            if store.groups().carries(group.id, parent.as_str()).await? {
                                intake.push(Intake::Reply(group));
                            }
                        }
                        None => {
                            let member = store
                                .follows()
                                .get(author, group.id)
                                .await?
                                .is_some_and(|f| f.accepted);
                            if member && is_public(object) {
                                intake.push(Intake::NewItem(group));
                            } else {
                                tracing::info!(group = %group.handle, id = %activity.id, "post to a group by a non-member (or not public) not passed on");
                            }
                        }
                    }
                }
            }
            "Update" | "Delete" => {
                for group in store.groups().of_object(object_id.as_str()).await? {
                    let group = store.organizations().get(group).await?;
                    if group.is_local() && !store.groups().is_blocked(group.id, author).await? {
                        intake.push(Intake::Change(group));
                    }
                }
            }
            _ => {}
        }
        Ok(intake)
    }

    /// The local groups among `actors`.
    async fn local_groups(&self, actors: &[Url]) -> Result<Vec<Organization>, FederationError> {
        let mut groups = Vec::new();
        for actor in actors {
            let Some(handle) = self.core.urls.local_handle(actor) else {
                continue;
            };
            if let Ok(org) = self.core.store.organizations().by_handle(handle).await {
                if org.profile.kind.is_group() {
                    groups.push(org);
                }
            }
        }
        Ok(groups)
    }

    /// After `activity` was handled: each group in `intake` announces it
    /// to its followers (and carries a new item).
    pub(crate) async fn pass_on(
        &self,
        activity: &Incoming,
        author: OrganizationId,
        intake: Vec<Intake>,
        hops: u8,
    ) -> Result<(), FederationError> {
        if intake.is_empty() {
            return Ok(());
        }
        let object_id = id_of(&activity.object).unwrap_or_else(|| activity.id.clone());
        let carried = self.stored_item(&object_id).await?;
        let now = chrono::Utc::now();
        for entry in &intake {
            let group = entry.group();
            let carried = match (entry, &carried) {
                (Intake::NewItem(_), Some((kind, item_id))) => Some(Carried {
                    group: group.id,
                    object_id: object_id.as_str(),
                    kind: *kind,
                    item_id: *item_id,
                    author,
                }),
                _ => None,
            };
            let announcement = Announcement::GroupAnnounce {
                activity: activity.raw.clone(),
                hops,
            };
            let fresh = self
                .core
                .store
                .groups()
                .announce(
                    group.id,
                    activity.id.as_str(),
                    carried.as_ref(),
                    &announcement,
                    now,
                )
                .await?;
            if fresh {
                tracing::debug!(group = %group.handle, id = %activity.id, "group passes activity on");
            }
        }
        self.core.wake();
        Ok(())
    }

    /// The kind and row here of the item with ActivityPub id `object_id`,
    /// if it is an item (not an answer or a post).
    pub(crate) async fn stored_item(
        &self,
        object_id: &Url,
    ) -> Result<Option<(ItemKind, uuid::Uuid)>, FederationError> {
        if let Some((kind, id)) = self.core.urls.local_item(object_id) {
            return Ok(kind.is_item().then_some((kind, id)));
        }
        for kind in ItemKind::ALL.into_iter().filter(|k| k.is_item()) {
            let found = for_item_kind!(kind,
                T => self.core.store.items::<T>().find_by_ap_id(object_id.as_str()).await?.map(|i| i.id()),
                _not_an_item => None);
            if let Some(id) = found {
                return Ok(Some((kind, id)));
            }
        }
        Ok(None)
    }
}

/// The hop count an Announce carries (`hops`, Allmende's term): how many
/// groups the inner activity passed through, 1 if absent.
pub(crate) fn hops_of(announce: &Value) -> u8 {
    announce
        .get("hops")
        .and_then(Value::as_u64)
        .map_or(1, |h| h.clamp(1, u64::from(u8::MAX)) as u8)
}
