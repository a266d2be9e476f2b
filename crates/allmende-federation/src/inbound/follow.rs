//! Follow, Accept, Reject and Undo(Follow).
//!
//! Followers receive an organization's followers-only questions, so a
//! follow is an admission: each organization says who is accepted at once
//! ([`FollowerApproval`]: everyone, organizations on domains the operators
//! trust, or nobody); everyone else waits, pending, until one of its admins
//! approves (Accept) or refuses (Reject) on the network page. A follower
//! already accepted that follows again gets its Accept again.

use allmende_domain::{FollowerApproval, Organization};
use serde_json::Value;

use super::Inbound;
use super::Sender;
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::{id_of, type_of};

impl Inbound {
    /// The local organization an actor URL names.
    async fn local_organization(&self, value: &Value) -> Result<Organization, FederationError> {
        let url = id_of(value).ok_or_else(|| FederationError::BadRequest("no object".into()))?;
        let handle = self
            .core
            .urls
            .local_handle(&url)
            .ok_or(FederationError::NotFound)?;
        Ok(self.core.store.organizations().by_handle(handle).await?)
    }

    pub(super) async fn on_follow(
        &self,
        activity: &Incoming,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        let target = self.local_organization(&activity.object).await?;
        let follows = self.core.store.follows();
        let now = chrono::Utc::now();
        // Blocked by a group's admins, or moved to another node (it is
        // followed at its new home): refused (Reject), not even pending.
        if target.moved_to.is_some()
            || self
                .core
                .store
                .groups()
                .is_blocked(target.id, sender.org.id)
                .await?
        {
            follows
                .record_follow_request(sender.org.id, target.id, activity.id.as_str(), now)
                .await?;
            follows
                .refuse_follower(sender.org.id, target.id, now)
                .await?;
            self.core.wake();
            return Ok(());
        }
        let already = follows
            .get(sender.org.id, target.id)
            .await?
            .is_some_and(|f| f.accepted);
        // A follower it had before it moved here was admitted there.
        let relocations = self.core.store.relocations();
        let followed_before = !already
            && relocations
                .is_expected_follower(target.id, activity.actor.as_str())
                .await?;
        let at_once = already
            || followed_before
            || match self
                .core
                .store
                .organizations()
                .follower_approval(target.id)
                .await?
            {
                FollowerApproval::Everyone => true,
                FollowerApproval::Trusted => self.core.policy.trusts(&activity.actor),
                FollowerApproval::Manual => false,
            };
        if at_once {
            // The follow and the Accept to send are one write.
            follows
                .accept_follower(sender.org.id, target.id, activity.id.as_str(), now)
                .await?;
            if followed_before {
                relocations
                    .forget_expected_follower(target.id, activity.actor.as_str())
                    .await?;
            }
            self.core.wake();
        } else {
            follows
                .record_follow_request(sender.org.id, target.id, activity.id.as_str(), now)
                .await?;
            tracing::info!(follower = %activity.actor, target = %target.handle, "follow request waits for approval");
        }
        Ok(())
    }

    /// The local follower and the follow an Accept or Reject answers.
    async fn answered_follow(
        &self,
        activity: &Incoming,
        sender: &Sender,
    ) -> Result<Option<allmende_store::Follow>, FederationError> {
        let follows = self.core.store.follows();
        // By the Follow's id when we know it…
        if let Some(follow_id) = id_of(&activity.object) {
            if let Some(follow) = follows.by_activity_id(follow_id.as_str()).await? {
                return Ok((follow.target_id == sender.org.id).then_some(follow));
            }
        }
        // …or by the embedded Follow's actor (some servers send their own id).
        if type_of(&activity.object) == Some("Follow") {
            if let Some(actor) = activity.object.get("actor") {
                let follower = self.local_organization(actor).await?;
                return Ok(follows.get(follower.id, sender.org.id).await?);
            }
        }
        Ok(None)
    }

    /// Accept marks our follow accepted; Reject removes it.
    pub(super) async fn on_follow_answer(
        &self,
        activity: &Incoming,
        sender: &Sender,
        accepted: bool,
    ) -> Result<(), FederationError> {
        let Some(follow) = self.answered_follow(activity, sender).await? else {
            return Ok(());
        };
        let follows = self.core.store.follows();
        if accepted {
            follows
                .accept(follow.follower_id, follow.target_id, chrono::Utc::now())
                .await?;
            self.core.wake();
        } else {
            follows.remove(follow.follower_id, follow.target_id).await?;
        }
        Ok(())
    }

    pub(super) async fn on_undo(
        &self,
        activity: &Incoming,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        let follows = self.core.store.follows();
        match type_of(&activity.object) {
            Some("Follow") => {
                // Only the sender's own follow can be undone. Some servers
                // (activitypub-bot) leave the actor out of the embedded
                // Follow (or send null): then it is the sender's.
                if let Some(actor) = activity.object.get("actor").filter(|a| !a.is_null()) {
                    if id_of(actor).as_ref().map(|a| a.as_str())
                        != Some(sender.actor.actor_id.as_str())
                    {
                        return Err(FederationError::Forbidden(
                            "undoing someone else's follow".into(),
                        ));
                    }
                }
                match activity.object.get("object") {
                    Some(target) => {
                        let target = self.local_organization(target).await?;
                        follows.remove(sender.org.id, target.id).await?;
                    }
                    // Without its object, the Follow is known by its id.
                    None => self.undo_follow_by_id(&activity.object, sender).await?,
                }
            }
            Some(_) => {} // Undo of a Like, Announce, …: nothing kept, nothing to undo.
            None => self.undo_follow_by_id(&activity.object, sender).await?,
        }
        Ok(())
    }

    /// Undoes the sender's follow whose id `follow` names (a bare id, or a
    /// Follow without its object); another's follow is left alone.
    async fn undo_follow_by_id(
        &self,
        follow: &Value,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        let follows = self.core.store.follows();
        if let Some(id) = id_of(follow) {
            if let Some(found) = follows.by_activity_id(id.as_str()).await? {
                if found.follower_id == sender.org.id {
                    follows.remove(found.follower_id, found.target_id).await?;
                }
            }
        }
        Ok(())
    }
}
