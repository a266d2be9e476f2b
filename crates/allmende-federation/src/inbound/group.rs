//! What a local group (an association or network, FEP-1b12) does with what
//! it hears: it passes its members' activities on to its followers,
//! wrapped in `Announce` exactly as received.
//!
//! - A new item (Create) is passed on when its author is an accepted
//!   member (a follower of the group), not blocked, the item is public,
//!   addressed to the group (`audience`, `to` or `cc`) and was kept here.
//!   The group then carries it.
//! - An answer (a public Create replying to a question the group carries)
//!   is passed on from anyone the group has not blocked, once kept here:
//!   answers come from any node, as in a forum.
//! - An Update of an item the group carries is passed on when it comes
//!   from the item's author (the item handlers check that) and the item is
//!   still public; one that makes it followers-only takes it out of the
//!   group instead (`Remove`). A Delete is passed on.
//!
//! A group announces each activity once (`group_announced`), so two
//! networks that follow each other do not pass one item back and forth;
//! groups on this node that follow the group pass it on in turn, within
//! [`super::MAX_GROUP_HOPS`].

use std::collections::{HashSet, VecDeque};

use allmende_domain::{for_item_kind, Item, ItemKind, Organization, OrganizationId};
use allmende_store::{Announcement, Carried};
use serde_json::Value;
use url::Url;

use super::{Inbound, Sender, MAX_GROUP_HOPS};
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::{id_of, ids_of};
use crate::vocabulary::is_public;

/// Why a local group passes an activity on.
pub enum Intake {
    /// A member's new item for the group.
    NewItem(Organization),
    /// An answer to a question the group carries.
    Reply(Organization),
    /// An Update or Delete of something the group carries.
    Change(Organization),
    /// An Update that made an item the group carries followers-only: the
    /// group drops it.
    Withdraw(Organization),
}

impl Intake {
    /// A local group passes on a change of an item it carried.
    pub fn change(group: Organization) -> Self {
        Intake::Change(group)
    }

    fn group(&self) -> &Organization {
        match self {
            Intake::NewItem(g) | Intake::Reply(g) | Intake::Change(g) | Intake::Withdraw(g) => g,
        }
    }
}

/// An activity on its way through groups.
pub(crate) struct Passing<'a> {
    pub activity_id: &'a str,
    /// `Create`, `Update` or `Delete`.
    pub kind: &'a str,
    /// The activity the Announce embeds.
    pub embed: Value,
    pub object_id: &'a Url,
    /// The item here, if it is one.
    pub item: Option<(ItemKind, uuid::Uuid)>,
    pub author: OrganizationId,
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
        let object = &activity.object;
        let mut intake = Vec::new();
        match activity.kind.as_str() {
            "Create" => {
                if !is_public(object) {
                    return Ok(Vec::new());
                }
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
                            if self.is_question(parent).await?
                                && store.groups().carries(group.id, parent.as_str()).await?
                            {
                                intake.push(Intake::Reply(group));
                            }
                        }
                        None => {
                            let member = store
                                .follows()
                                .get(author, group.id)
                                .await?
                                .is_some_and(|f| f.accepted);
                            if member {
                                intake.push(Intake::NewItem(group));
                            } else {
                                tracing::info!(group = %group.handle, id = %activity.id, "post to a group by a non-member not passed on");
                            }
                        }
                    }
                }
            }
            "Update" | "Delete" => {
                for group in store.groups().of_object(object_id.as_str()).await? {
                    let group = store.organizations().get(group).await?;
                    if !group.is_local() || store.groups().is_blocked(group.id, author).await? {
                        continue;
                    }
                    if activity.kind == "Update" && !is_public(object) {
                        intake.push(Intake::Withdraw(group));
                    } else {
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

    /// Whether `url` names a question known here.
    async fn is_question(&self, url: &Url) -> Result<bool, FederationError> {
        if let Some((kind, _)) = self.core.urls.local_item(url) {
            return Ok(kind == ItemKind::Question);
        }
        Ok(self
            .core
            .store
            .questions()
            .find_by_ap_id(url.as_str())
            .await?
            .is_some())
    }

    /// After `activity` of `author` was handled: each group in `intake`
    /// announces it to its followers (and carries a new item), if what it
    /// announces was kept here.
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
        let item = self.stored_item(&object_id).await?;
        let kept = match activity.kind.as_str() {
            "Create" => item.is_some() || self.kept_other(&object_id).await?,
            _ => true,
        };
        if !kept {
            tracing::debug!(id = %activity.id, "nothing kept here; not passed on");
            return Ok(());
        }
        let now = chrono::Utc::now();
        let mut passing_groups = Vec::new();
        for entry in &intake {
            let group = entry.group();
            match entry {
                Intake::Withdraw(_) => {
                    let removed = self
                        .core
                        .store
                        .groups()
                        .remove_announced(
                            group.id,
                            object_id.as_str(),
                            &Announcement::GroupRemove {
                                object: object_id.to_string(),
                            },
                            now,
                        )
                        .await?;
                    if removed {
                        tracing::info!(group = %group.handle, object = %object_id, "item no longer public; removed from the group");
                    }
                }
                Intake::Reply(_) if !self.kept_other(&object_id).await? => {}
                _ => passing_groups.push(group.id),
            }
        }
        let passing = Passing {
            activity_id: activity.id.as_str(),
            kind: &activity.kind,
            embed: activity.raw.clone(),
            object_id: &object_id,
            item,
            author,
        };
        self.announce_through(&passing, passing_groups, hops).await
    }

    /// Whether a reply or a post of other software with this id was kept
    /// here (as an answer or a post).
    async fn kept_other(&self, object_id: &Url) -> Result<bool, FederationError> {
        let store = &self.core.store;
        if self.core.urls.local_item(object_id).is_some() {
            return Ok(true);
        }
        Ok(store
            .answers()
            .find_by_ap_id(object_id.as_str())
            .await?
            .is_some()
            || store
                .posts()
                .find_by_ap_id(object_id.as_str())
                .await?
                .is_some())
    }

    /// `groups` announce the activity (the first with `hops`), then the
    /// groups on this node that follow them do, one hop further, and so
    /// on: each group once, none blocking the author, within
    /// [`MAX_GROUP_HOPS`]. A group passing on another group's Create
    /// (`hops` > 1) skips an item it already carries.
    pub(crate) async fn announce_through(
        &self,
        passing: &Passing<'_>,
        groups: Vec<OrganizationId>,
        hops: u8,
    ) -> Result<(), FederationError> {
        let store = &self.core.store;
        let now = chrono::Utc::now();
        let mut queue: VecDeque<(OrganizationId, u8)> =
            groups.into_iter().map(|g| (g, hops)).collect();
        let mut seen = HashSet::new();
        let mut any = false;
        while let Some((group, hops)) = queue.pop_front() {
            if hops > MAX_GROUP_HOPS || !seen.insert(group) {
                continue;
            }
            if store.groups().is_blocked(group, passing.author).await? {
                continue;
            }
            let create = passing.kind == "Create";
            if create
                && hops > 1
                && store
                    .groups()
                    .carries(group, passing.object_id.as_str())
                    .await?
            {
                continue;
            }
            let carried = match (create, passing.item) {
                (true, Some((kind, item_id))) => Some(Carried {
                    group,
                    object_id: passing.object_id.as_str(),
                    kind,
                    item_id,
                    author: passing.author,
                }),
                _ => None,
            };
            let fresh = store
                .groups()
                .announce(
                    group,
                    passing.activity_id,
                    carried.as_ref(),
                    &Announcement::GroupAnnounce {
                        activity: passing.embed.clone(),
                        hops,
                    },
                    now,
                )
                .await?;
            if !fresh {
                continue;
            }
            any = true;
            // Networks on this node that follow this group pass it on.
            for follower in store.follows().local_followers(group).await? {
                let org = store.organizations().get(follower).await?;
                if org.profile.kind.is_group() {
                    queue.push_back((follower, hops.saturating_add(1)));
                }
            }
        }
        if any {
            self.core.wake();
        }
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
