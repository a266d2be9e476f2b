//! The activities this node sends, and to whom. The store records an
//! announcement with each local change; [`Outbound::build`] turns it into
//! the signed activity's body and its inboxes, which the jobs deliver.

use allmende_domain::{AnswerId, Item, ItemKind, Organization, OrganizationId, Question};
use allmende_store::{Announcement, Found, NewActivity, OutboxEvent};
use serde_json::{json, Value};
use url::Url;
use uuid::Uuid;

use super::Outbound;
use crate::error::FederationError;
use crate::objects::activity::activity;
use crate::objects::item::{audience, tombstone_json};
use crate::urls::authority;
use crate::vocabulary::PUBLIC;

/// An activity document and the inboxes it goes to.
type Addressed = (Value, Vec<String>);

impl Outbound {
    /// Builds the activity an announcement stands for, with the inboxes it
    /// goes to. `Ok(None)` if nobody is to hear of it (the remote party is
    /// no longer known); `Err(NotFound)` if what it announces is gone (an
    /// item deleted before its Create was built).
    pub async fn build(&self, event: &OutboxEvent) -> Result<Option<NewActivity>, FederationError> {
        let store = &self.core.store;
        let org = store.organizations().get(event.organization_id).await?;
        let built = match &event.announcement {
            Announcement::ItemCreated { item, id } => {
                Some(self.item_activity(&org, *item, *id, "Create").await?)
            }
            Announcement::ItemUpdated { item, id } => {
                Some(self.item_activity(&org, *item, *id, "Update").await?)
            }
            Announcement::ItemDeleted {
                item,
                id,
                public,
                also,
                groups,
            } => {
                let mut also = also.clone();
                also.extend(groups);
                Some(self.deletion(&org, *item, *id, *public, &also).await?)
            }
            Announcement::AnswerCreated { id } => {
                let answer = store.answers().get(AnswerId(*id)).await?;
                let object = self.answer_document(&org, &answer).await?;
                let question: Question = store.questions().get(answer.question_id).await?;
                // An answer to a followers-only question goes to the asker
                // alone: the answerer's followers may not read the question.
                let mut inboxes = if Question::is_public(&question.content) {
                    self.follower_inboxes(&org).await?
                } else {
                    Vec::new()
                };
                inboxes.extend(self.inbox_of(question.organization_id).await?);
                // The groups that carry the question hear of it too, and
                // pass it on (FEP-1b12: a reply in the group's thread).
                let mut concerned = Vec::new();
                let question_id = self.item_ap_id::<Question>(question.id.0).await?;
                for group in store.groups().of_object(&question_id).await? {
                    self.reach(group, &mut inboxes, &mut concerned).await?;
                }
                let (mut doc, inboxes) = self.wrap(&org, "Create", object, inboxes, &concerned);
                if let Some(audience) = doc["object"].get("audience").cloned() {
                    doc["audience"] = audience;
                }
                Some((doc, inboxes))
            }
            Announcement::GroupAnnounce { activity, hops } => {
                Some(self.group_announce(&org, activity, *hops).await?)
            }
            Announcement::GroupRemove { object } => {
                let group = self.core.urls.organization(org.handle.as_str());
                let followers = self.core.urls.followers(org.handle.as_str());
                let remove = json!({
                    "id": self.core.urls.new_activity("Remove"),
                    "type": "Remove",
                    "actor": group,
                    "object": object,
                    "target": group,
                    "audience": group,
                    "to": [PUBLIC],
                    "cc": [followers],
                });
                Some(self.group_announce(&org, &remove, 1).await?)
            }
            Announcement::AdoptionDeclared { id } => {
                Some(self.adoption_activity(&org, *id, "Create").await?)
            }
            Announcement::AdoptionUpdated { id } => {
                Some(self.adoption_activity(&org, *id, "Update").await?)
            }
            Announcement::AdoptionWithdrawn {
                ap_id,
                solution_author,
                ..
            } => Some(
                self.adoption_withdrawal(&org, ap_id, *solution_author)
                    .await?,
            ),
            Announcement::AdopterAdded { adoption } => {
                Some(self.adopter_added(&org, *adoption).await?)
            }
            Announcement::AdopterRemoved { adoption, solution } => Some(
                self.adopters_change(&org, "Remove", adoption, solution)
                    .await?,
            ),
            Announcement::ProfileUpdated => {
                let object = self.organization_document(&org).await?;
                let inboxes = self.follower_inboxes(&org).await?;
                Some(self.wrap(&org, "Update", object, inboxes, &[]))
            }
            // Mastodon's form: the actor moves itself; `target` is the new
            // home, which lists the actor in its `alsoKnownAs`.
            Announcement::Moved { to } => {
                let me = json!(self.core.urls.organization(org.handle.as_str()));
                let followers = json!([self.core.urls.followers(org.handle.as_str())]);
                let inboxes = self.follower_inboxes(&org).await?;
                let (mut doc, inboxes) =
                    self.addressed_as(&org, "Move", me, inboxes, (followers, json!([])), &[]);
                doc["target"] = json!(to);
                Some((doc, inboxes))
            }
            // The activities about a follow with a remote
            // organization all go to its inbox and name the Follow.
            Announcement::Follow {
                target,
                activity_id,
            } => {
                self.about_follow(&org, *target, |me, them| {
                    let mut follow = follow_json(activity_id, me, them);
                    follow["@context"] = crate::vocabulary::context();
                    follow["to"] = json!([them]);
                    follow
                })
                .await?
            }
            Announcement::Unfollow {
                target,
                follow_activity_id,
            } => {
                self.about_follow(&org, *target, |me, them| {
                    self.envelope("Undo", me, them, follow_json(follow_activity_id, me, them))
                })
                .await?
            }
            Announcement::AcceptFollow {
                follower,
                follow_activity_id,
            } => {
                self.about_follow(&org, *follower, |me, them| {
                    self.envelope(
                        "Accept",
                        me,
                        them,
                        follow_json(follow_activity_id, them, me),
                    )
                })
                .await?
            }
            Announcement::RejectFollow {
                follower,
                follow_activity_id,
            } => {
                self.about_follow(&org, *follower, |me, them| {
                    self.envelope(
                        "Reject",
                        me,
                        them,
                        follow_json(follow_activity_id, them, me),
                    )
                })
                .await?
            }
        };
        let Some((doc, inboxes)) = built else {
            return Ok(None);
        };
        self.addressed(&org, &doc, inboxes).map(Some)
    }

    /// Create or Update of a local item, to the author's followers (and,
    /// for a question with an accepted answer, to the answer's author).
    async fn item_activity(
        &self,
        org: &Organization,
        kind: ItemKind,
        id: Uuid,
        verb: &str,
    ) -> Result<Addressed, FederationError> {
        allmende_domain::for_item_kind!(kind,
            T => self.item_activity_of::<T>(org, id, verb).await,
            other => Err(not_an_item(other)))
    }

    async fn item_activity_of<T: Item>(
        &self,
        org: &Organization,
        id: Uuid,
        verb: &str,
    ) -> Result<Addressed, FederationError> {
        let item: T = self.core.store.items::<T>().get(id).await?;
        let object = self.item_document(org, &item).await?;
        let mut inboxes = self.follower_inboxes(org).await?;
        let mut concerned = Vec::new();
        // The author of the solution a variant adapts, so that the
        // original can show its variants.
        if let Some(original) = object.get("variantOf").and_then(Value::as_str) {
            if let Some(author) = self.solution_author(original).await? {
                self.reach(author, &mut inboxes, &mut concerned).await?;
            }
        }
        // The groups it was published to, which pass it on.
        let object_id = self.core.urls.item(T::KIND, id);
        for group in self.core.store.groups().of_object(&object_id).await? {
            self.reach(group, &mut inboxes, &mut concerned).await?;
        }
        // The author of an accepted answer hears of it even if they do not
        // follow the asker, but only if they may read the question; the
        // activity names them, so that a shared inbox hands it on.
        if let Some(accepted) = item.accepted_answer() {
            if let Some(answer) = self.core.store.answers().get(accepted).await.found()? {
                let question: Question =
                    self.core.store.questions().get(answer.question_id).await?;
                if self
                    .core
                    .may_read(answer.organization_id, &question)
                    .await?
                {
                    self.reach(answer.organization_id, &mut inboxes, &mut concerned)
                        .await?;
                }
            }
        }
        let (mut doc, inboxes) = self.wrap(org, verb, object, inboxes, &concerned);
        if let Some(audience) = doc["object"].get("audience").cloned() {
            doc["audience"] = audience;
        }
        Ok((doc, inboxes))
    }

    /// A local group's Announce of `activity` (FEP-1b12: the activity as
    /// received, unchanged) to its followers, public, with the number of
    /// groups it has passed through (`hops`). The author's own server gets
    /// it too when it follows the group: a network there that follows the
    /// group passes it on.
    async fn group_announce(
        &self,
        group: &Organization,
        activity: &Value,
        hops: u8,
    ) -> Result<Addressed, FederationError> {
        let inboxes = self.follower_inboxes(group).await?;
        let followers = self.core.urls.followers(group.handle.as_str());
        let actor = self.core.urls.organization(group.handle.as_str());
        let mut doc = json!({
            "@context": crate::vocabulary::context(),
            "id": self.core.urls.new_activity("Announce"),
            "type": "Announce",
            "actor": actor,
            "object": activity,
            "to": [PUBLIC],
            "cc": [followers],
            "audience": actor,
        });
        if hops > 1 {
            doc["hops"] = json!(hops);
        }
        Ok((doc, inboxes))
    }

    /// Delete of a local item, with the Tombstone it leaves, addressed
    /// and sent as its Create and Updates were: to the item's audience and
    /// to `also` (the author of an accepted answer).
    async fn deletion(
        &self,
        org: &Organization,
        kind: ItemKind,
        id: Uuid,
        public: bool,
        also: &[OrganizationId],
    ) -> Result<Addressed, FederationError> {
        if !kind.is_item() {
            return Err(not_an_item(kind));
        }
        let ap_id = self.core.urls.item(kind, id);
        let now = chrono::Utc::now();
        self.core
            .store
            .activities()
            .add_tombstone(&ap_id, kind.as_type(), now)
            .await?;
        let object = tombstone_json(&ap_id, kind.as_type(), now);
        let mut inboxes = self.follower_inboxes(org).await?;
        let mut concerned = Vec::new();
        for other in also {
            self.reach(*other, &mut inboxes, &mut concerned).await?;
        }
        let followers = self.core.urls.followers(org.handle.as_str());
        let addressing = audience(public, &followers);
        Ok(self.addressed_as(org, "Delete", object, inboxes, addressing, &concerned))
    }

    /// An activity of `org` about a follow with the remote organization
    /// `remote`, addressed to its inbox; `make` gets both actor ids (`org`'s
    /// first). `None` if `remote` is no longer known.
    async fn about_follow(
        &self,
        org: &Organization,
        remote: OrganizationId,
        make: impl FnOnce(&str, &str) -> Value,
    ) -> Result<Option<Addressed>, FederationError> {
        let Some(actor) = self
            .core
            .store
            .remote_actors()
            .of_organization(remote)
            .await?
        else {
            return Ok(None);
        };
        let me = self.core.urls.organization(org.handle.as_str());
        Ok(Some((make(&me, &actor.actor_id), vec![actor.inbox])))
    }

    /// `kind` (Undo, Accept, Reject) by `actor` of `object`, to `to`,
    /// with a new id.
    fn envelope(&self, kind: &str, actor: &str, to: &str, object: Value) -> Value {
        json!({
            "@context": crate::vocabulary::context(),
            "id": self.core.urls.new_activity(kind),
            "type": kind,
            "actor": actor,
            "object": object,
            "to": [to],
        })
    }

    /// Inboxes of the remote followers of `org`, one per shared inbox.
    async fn follower_inboxes(&self, org: &Organization) -> Result<Vec<String>, FederationError> {
        Ok(self.core.store.follows().follower_inboxes(org.id).await?)
    }

    /// The inbox of an organization if it is a remote one.
    async fn inbox_of(&self, id: OrganizationId) -> Result<Option<String>, FederationError> {
        Ok(self
            .core
            .store
            .remote_actors()
            .of_organization(id)
            .await?
            .map(|a| a.delivery_inbox().to_owned()))
    }

    /// Adds an organization an activity concerns beyond its audience: its
    /// inbox (if it is remote) to `inboxes`, its actor id to `concerned`
    /// (for `cc`). One gone since (a remote actor deleted) is skipped: the
    /// activity still goes to everyone else.
    pub(super) async fn reach(
        &self,
        id: OrganizationId,
        inboxes: &mut Vec<String>,
        concerned: &mut Vec<String>,
    ) -> Result<(), FederationError> {
        let Some(org) = self.core.store.organizations().get(id).await.found()? else {
            return Ok(());
        };
        inboxes.extend(self.inbox_of(org.id).await?);
        concerned.push(self.actor_id_of(&org));
        Ok(())
    }

    /// Wraps `object` in an activity of `verb` by `org`, addressed like the
    /// object (an object without addressing, such as a profile, is public
    /// with the followers in copy), and also to `concerned` actors.
    pub(super) fn wrap(
        &self,
        org: &Organization,
        verb: &str,
        object: Value,
        inboxes: Vec<String>,
        concerned: &[String],
    ) -> Addressed {
        let followers = self.core.urls.followers(org.handle.as_str());
        let to = object.get("to").cloned().unwrap_or_else(|| json!([PUBLIC]));
        let cc = object
            .get("cc")
            .cloned()
            .unwrap_or_else(|| json!([followers]));
        self.addressed_as(org, verb, object, inboxes, (to, cc), concerned)
    }

    /// An activity of `verb` by `org` about `object`, to `to` and `cc`,
    /// with the `concerned` actors added to `cc`.
    pub(super) fn addressed_as(
        &self,
        org: &Organization,
        verb: &str,
        object: Value,
        inboxes: Vec<String>,
        (to, cc): (Value, Value),
        concerned: &[String],
    ) -> Addressed {
        let mut cc: Vec<Value> = match cc {
            Value::Array(list) => list,
            Value::Null => Vec::new(),
            one => vec![one],
        };
        let named_in_to = |actor: &Value| match &to {
            Value::Array(list) => list.contains(actor),
            one => one == actor,
        };
        for actor in concerned {
            let actor = Value::String(actor.clone());
            if !cc.contains(&actor) && !named_in_to(&actor) {
                cc.push(actor);
            }
        }
        let doc = activity(
            &self.core.urls.new_activity(verb),
            verb,
            &self.core.urls.organization(org.handle.as_str()),
            object,
            to,
            Value::Array(cc),
        );
        (doc, inboxes)
    }

    /// The activity as the outbox stores it: signed as `org`, for each
    /// distinct remote inbox.
    fn addressed(
        &self,
        org: &Organization,
        doc: &Value,
        inboxes: Vec<String>,
    ) -> Result<NewActivity, FederationError> {
        let mut targets: Vec<Url> = inboxes
            .iter()
            .filter_map(|i| Url::parse(i).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .filter(|u| !self.core.urls.is_local(u))
            .collect();
        targets.sort();
        targets.dedup();
        let activity_id = doc
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| FederationError::Internal("activity without id".into()))?
            .to_owned();
        Ok(NewActivity {
            activity_id,
            sender: org.id.to_string(),
            key_id: self.core.urls.key_id(org.handle.as_str()),
            body: doc.to_string(),
            inboxes: targets
                .into_iter()
                .map(|u| {
                    let host = authority(&u);
                    (u.to_string(), host)
                })
                .collect(),
        })
    }
}

/// An announcement about an item names a kind that is not one: a bug, kept
/// as the job's last error rather than dropped.
fn not_an_item(kind: ItemKind) -> FederationError {
    FederationError::Internal(format!("announcement of a {kind}, which is not an item"))
}

/// The Follow with id `id` of `follower` for `followed`.
fn follow_json(id: &str, follower: &str, followed: &str) -> Value {
    json!({ "id": id, "type": "Follow", "actor": follower, "object": followed })
}
