//! What this node sends: documents for its own actors and objects, and the
//! activities that tell followers (and the authors of questions) about
//! changes. The store records an announcement with each local change;
//! [`Federation::build`] turns it into the activity and its inboxes, and
//! [`crate::delivery`] sends it. A peer that is down never fails the
//! user's action: it gets the activity through the retries.

use allmende_domain::{Answer, AnswerId, Organization, Project, Question, Solution};
use allmende_store::{Announcement, NewActivity, OutboxEvent};
use serde_json::{json, Map, Value};
use url::Url;
use uuid::Uuid;

use crate::error::FederationError;
use crate::fetch::FetchBudget;
use crate::objects::activity::activity;
use crate::objects::actor::{instance_json, organization_json};
use crate::objects::item::{answer_json, item_json, tombstone_json, Federated};
use crate::urls::authority;
use crate::vocabulary::PUBLIC;
use crate::webfinger::Target;
use crate::Federation;

impl Federation {
    /// The actor document of a local organization.
    pub async fn organization_document(
        &self,
        org: &Organization,
    ) -> Result<Value, FederationError> {
        let key = self.organization_key(org.id).await?;
        Ok(organization_json(self.urls(), org, key.public_key_pem()))
    }

    pub async fn instance_document(&self) -> Result<Value, FederationError> {
        let key = self.instance_key().await?;
        Ok(instance_json(self.urls(), key.public_key_pem()))
    }

    /// The ActivityPub id of any item stored here: its URL for local items,
    /// its id at home for remote copies.
    pub async fn item_ap_id<T: Federated>(&self, id: Uuid) -> Result<String, FederationError> {
        Ok(match T::items(self.store()).ap_id(id).await? {
            Some(remote) => remote,
            None => self.urls().item(T::COLLECTION, id),
        })
    }

    pub async fn answer_ap_id(&self, answer: &Answer) -> Result<String, FederationError> {
        Ok(match self.store().answers().ap_id(answer.id).await? {
            Some(remote) => remote,
            None => self.urls().item("answers", answer.id.0),
        })
    }

    /// The actor id of any organization known here.
    pub fn actor_id_of(&self, org: &Organization) -> String {
        match &org.origin {
            Some(origin) => origin.actor_id.to_string(),
            None => self.urls().organization(org.handle.as_str()),
        }
    }

    /// The object document of a local item.
    pub async fn item_document<T: Federated>(
        &self,
        org: &Organization,
        item: &T,
    ) -> Result<Value, FederationError> {
        let handle = org.handle.as_str();
        let mut extra = Map::new();
        if let Some(accepted) = T::accepted_answer(item) {
            if let Ok(answer) = self.store().answers().get(accepted).await {
                extra.insert(
                    "acceptedAnswer".into(),
                    json!(self.answer_ap_id(&answer).await?),
                );
            }
        }
        Ok(item_json(
            &self.urls().item(T::COLLECTION, item.id()),
            &self.urls().organization(handle),
            &self.urls().followers(handle),
            item,
            extra,
        ))
    }

    /// The object document of an answer written here.
    pub async fn answer_document(
        &self,
        org: &Organization,
        answer: &Answer,
    ) -> Result<Value, FederationError> {
        let question: Question = self.store().questions().get(answer.question_id).await?;
        let asker = self
            .store()
            .organizations()
            .get(question.organization_id)
            .await?;
        let handle = org.handle.as_str();
        Ok(answer_json(
            &self.urls().item("answers", answer.id.0),
            &self.urls().organization(handle),
            &self.urls().followers(handle),
            &self.item_ap_id::<Question>(question.id.0).await?,
            &self.actor_id_of(&asker),
            answer,
        ))
    }

    /// The Tombstone of a deleted local object, if `id` is one.
    pub async fn tombstone_document(&self, ap_id: &str) -> Result<Option<Value>, FederationError> {
        Ok(self
            .store()
            .activities()
            .tombstone(ap_id)
            .await?
            .map(|(former_type, deleted)| tombstone_json(ap_id, &former_type, deleted)))
    }

    /// Builds the activity an announcement stands for, with the inboxes it
    /// goes to. `None` if there is nothing to send (the object or the
    /// remote party is gone); `Err(NotFound)` means the same.
    pub async fn build(&self, event: &OutboxEvent) -> Result<Option<NewActivity>, FederationError> {
        let org = self
            .store()
            .organizations()
            .get(event.organization_id)
            .await?;
        let built = match &event.announcement {
            Announcement::ItemCreated { collection, id } => {
                self.item_activity(&org, collection, *id, "Create").await?
            }
            Announcement::ItemUpdated { collection, id } => {
                self.item_activity(&org, collection, *id, "Update").await?
            }
            Announcement::ItemDeleted { collection, id } => {
                let as_type = match collection.as_str() {
                    "projects" => Project::AS_TYPE,
                    "questions" => Question::AS_TYPE,
                    "solutions" => Solution::AS_TYPE,
                    _ => return Ok(None),
                };
                let ap_id = self.urls().item(collection, *id);
                let now = chrono::Utc::now();
                self.store()
                    .activities()
                    .add_tombstone(&ap_id, as_type, now)
                    .await?;
                let object = tombstone_json(&ap_id, as_type, now);
                let inboxes = self.follower_inboxes(&org).await?;
                Some(self.wrap(&org, "Delete", object, inboxes))
            }
            Announcement::AnswerCreated { id } => {
                let answer = self.store().answers().get(AnswerId(*id)).await?;
                let object = self.answer_document(&org, &answer).await?;
                let question: Question = self.store().questions().get(answer.question_id).await?;
                let mut inboxes = self.follower_inboxes(&org).await?;
                inboxes.extend(self.inbox_of(question.organization_id).await?);
                Some(self.wrap(&org, "Create", object, inboxes))
            }
            Announcement::ProfileUpdated => {
                let object = self.organization_document(&org).await?;
                let inboxes = self.follower_inboxes(&org).await?;
                Some(self.wrap(&org, "Update", object, inboxes))
            }
            // The three activities about a follow with a remote
            // organization all go to its inbox and name the Follow.
            Announcement::Follow {
                target,
                activity_id,
            } => {
                self.about_follow(&org, *target, |me, them| {
                    let mut follow = follow_json(activity_id, me, them);
                    follow["@context"] = crate::vocabulary::context();
                    follow
                })
                .await?
            }
            Announcement::Unfollow {
                target,
                follow_activity_id,
            } => {
                self.about_follow(&org, *target, |me, them| {
                    self.envelope("Undo", me, follow_json(follow_activity_id, me, them))
                })
                .await?
            }
            Announcement::AcceptFollow {
                follower,
                follow_activity_id,
            } => {
                self.about_follow(&org, *follower, |me, them| {
                    self.envelope("Accept", me, follow_json(follow_activity_id, them, me))
                })
                .await?
            }
        };
        let Some((doc, inboxes)) = built else {
            return Ok(None);
        };
        self.addressed(&org, &doc, inboxes).map(Some)
    }

    /// An activity of `org` about a follow with the remote organization
    /// `remote`, addressed to its inbox; `make` gets both actor ids (`org`'s
    /// first). `None` if `remote` is no longer known.
    async fn about_follow(
        &self,
        org: &Organization,
        remote: allmende_domain::OrganizationId,
        make: impl FnOnce(&str, &str) -> Value,
    ) -> Result<Option<(Value, Vec<String>)>, FederationError> {
        let Some(actor) = self.store().remote_actors().of_organization(remote).await? else {
            return Ok(None);
        };
        let me = self.urls().organization(org.handle.as_str());
        Ok(Some((make(&me, &actor.actor_id), vec![actor.inbox])))
    }

    /// `kind` (Undo, Accept) by `actor` of `object`, with a new id.
    fn envelope(&self, kind: &str, actor: &str, object: Value) -> Value {
        json!({
            "@context": crate::vocabulary::context(),
            "id": self.urls().new_activity(&kind.to_lowercase()),
            "type": kind,
            "actor": actor,
            "object": object,
        })
    }

    /// Create or Update of a local item, to the author's followers (and,
    /// for a question with an accepted answer, to the answer's author).
    async fn item_activity(
        &self,
        org: &Organization,
        collection: &str,
        id: Uuid,
        kind: &str,
    ) -> Result<Option<(Value, Vec<String>)>, FederationError> {
        match collection {
            "projects" => self.item_activity_of::<Project>(org, id, kind).await,
            "questions" => self.item_activity_of::<Question>(org, id, kind).await,
            "solutions" => self.item_activity_of::<Solution>(org, id, kind).await,
            _ => Ok(None),
        }
    }

    async fn item_activity_of<T: Federated>(
        &self,
        org: &Organization,
        id: Uuid,
        kind: &str,
    ) -> Result<Option<(Value, Vec<String>)>, FederationError> {
        let item: T = T::items(self.store()).get(id).await?;
        let object = self.item_document(org, &item).await?;
        let mut inboxes = self.follower_inboxes(org).await?;
        // The author of an accepted answer hears of it even if they do not
        // follow the asker.
        if let Some(accepted) = T::accepted_answer(&item) {
            if let Ok(answer) = self.store().answers().get(accepted).await {
                inboxes.extend(self.inbox_of(answer.organization_id).await?);
            }
        }
        Ok(Some(self.wrap(org, kind, object, inboxes)))
    }

    /// Asks a remote organization (by handle or URL) to let `org` follow it.
    /// Returns the remote organization; the follow is pending until it
    /// answers with Accept.
    pub async fn follow(
        &self,
        org: &Organization,
        target: &str,
    ) -> Result<Organization, FederationError> {
        let target = Target::parse(target)?;
        let actor_url = self.resolve_target(&target).await?;
        if self.urls().is_local(&actor_url) {
            return Err(FederationError::BadRequest(
                "organizations on this node see each other's items already".into(),
            ));
        }
        let (remote, _actor) = self
            .actor_by_id(&actor_url, &mut FetchBudget::new())
            .await?;
        let activity_id = self.urls().new_activity("follow");
        self.store()
            .follows()
            .request(org.id, remote.id, &activity_id, chrono::Utc::now())
            .await?;
        self.wake();
        Ok(remote)
    }

    /// Stops following: forgets the follow and sends Undo(Follow).
    pub async fn unfollow(
        &self,
        org: &Organization,
        target: &Organization,
    ) -> Result<(), FederationError> {
        if !self
            .store()
            .follows()
            .unfollow(org.id, target.id, chrono::Utc::now())
            .await?
        {
            return Err(FederationError::NotFound);
        }
        self.wake();
        Ok(())
    }

    /// Inboxes of the remote followers of `org`, one per shared inbox.
    async fn follower_inboxes(&self, org: &Organization) -> Result<Vec<String>, FederationError> {
        Ok(self.store().follows().follower_inboxes(org.id).await?)
    }

    /// The inbox of an organization if it is a remote one.
    pub(crate) async fn inbox_of(
        &self,
        id: allmende_domain::OrganizationId,
    ) -> Result<Option<String>, FederationError> {
        Ok(self
            .store()
            .remote_actors()
            .of_organization(id)
            .await?
            .map(|a| a.delivery_inbox().to_owned()))
    }

    /// Wraps `object` in an activity of `kind` by `org`, addressed like the
    /// object.
    fn wrap(
        &self,
        org: &Organization,
        kind: &str,
        object: Value,
        inboxes: Vec<String>,
    ) -> (Value, Vec<String>) {
        let to = object.get("to").cloned().unwrap_or_else(|| json!([PUBLIC]));
        let cc = object.get("cc").cloned().unwrap_or_else(|| json!([]));
        let doc = activity(
            &self.urls().new_activity(kind),
            kind,
            &self.urls().organization(org.handle.as_str()),
            object,
            to,
            cc,
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
            .filter(|u| !self.urls().is_local(u))
            .collect();
        targets.sort();
        targets.dedup();
        let activity_id = doc
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| FederationError::Key("activity without id".into()))?
            .to_owned();
        Ok(NewActivity {
            activity_id,
            sender: org.id.to_string(),
            key_id: self.urls().key_id(org.handle.as_str()),
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

/// The Follow with id `id` of `follower` for `followed`.
fn follow_json(id: &str, follower: &str, followed: &str) -> Value {
    json!({ "id": id, "type": "Follow", "actor": follower, "object": followed })
}
