//! What this node sends: documents for its own actors and objects, and the
//! activities that tell followers (and the authors of questions) about
//! changes. Sending never fails the user's action: a peer that is down gets
//! the activity through the retries of [`crate::delivery`].

use allmende_domain::{Answer, Organization, Question};
use serde_json::{json, Map, Value};
use url::Url;
use uuid::Uuid;

use crate::error::FederationError;
use crate::fetch::FetchBudget;
use crate::objects::activity::activity;
use crate::objects::actor::{instance_json, organization_json};
use crate::objects::item::{answer_json, item_json, tombstone_json, Federated};
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

    /// Tells followers about a new item.
    pub async fn item_created<T: Federated>(&self, org: &Organization, item: &T) {
        self.announce_item(org, item, "Create").await
    }

    /// Tells followers about a changed item (or a newly accepted answer).
    pub async fn item_updated<T: Federated>(&self, org: &Organization, item: &T) {
        self.announce_item(org, item, "Update").await
    }

    async fn announce_item<T: Federated>(&self, org: &Organization, item: &T, kind: &str) {
        let result = async {
            let object = self.item_document(org, item).await?;
            let mut inboxes = self.follower_inboxes(org).await?;
            // The author of an accepted answer hears of it even if they do
            // not follow the asker.
            if let Some(accepted) = T::accepted_answer(item) {
                if let Ok(answer) = self.store().answers().get(accepted).await {
                    inboxes.extend(self.inbox_of(answer.organization_id).await?);
                }
            }
            self.send(org, kind, object, inboxes).await
        }
        .await;
        log_failure(kind, result);
    }

    /// Tells followers an item is gone, and leaves a tombstone.
    pub async fn item_deleted<T: Federated>(&self, org: &Organization, id: Uuid) {
        let result = async {
            let ap_id = self.urls().item(T::COLLECTION, id);
            let now = chrono::Utc::now();
            self.store()
                .activities()
                .add_tombstone(&ap_id, T::AS_TYPE, now)
                .await?;
            let object = tombstone_json(&ap_id, T::AS_TYPE, now);
            let inboxes = self.follower_inboxes(org).await?;
            self.send(org, "Delete", object, inboxes).await
        }
        .await;
        log_failure("Delete", result);
    }

    /// Sends a new answer to the asking organization and to the answering
    /// organization's followers.
    pub async fn answer_created(&self, org: &Organization, answer: &Answer) {
        let result = async {
            let object = self.answer_document(org, answer).await?;
            let question: Question = self.store().questions().get(answer.question_id).await?;
            let mut inboxes = self.follower_inboxes(org).await?;
            inboxes.extend(self.inbox_of(question.organization_id).await?);
            self.send(org, "Create", object, inboxes).await
        }
        .await;
        log_failure("Create answer", result);
    }

    /// Sends an organization's changed profile (Update of its actor) to
    /// its followers.
    pub async fn organization_updated(&self, org: &Organization) {
        let result = async {
            let object = self.organization_document(org).await?;
            let inboxes = self.follower_inboxes(org).await?;
            self.send(org, "Update", object, inboxes).await
        }
        .await;
        log_failure("Update actor", result);
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
        let (remote, actor) = self
            .actor_by_id(&actor_url, &mut FetchBudget::new())
            .await?;
        let activity_id = self.urls().new_activity("follow");
        self.store()
            .follows()
            .upsert(org.id, remote.id, &activity_id, false, chrono::Utc::now())
            .await?;
        let follow = json!({
            "@context": crate::vocabulary::context(),
            "id": activity_id,
            "type": "Follow",
            "actor": self.urls().organization(org.handle.as_str()),
            "object": actor.actor_id,
        });
        self.deliver(org, &follow, vec![actor.inbox.clone()])
            .await?;
        Ok(remote)
    }

    /// Stops following: sends Undo(Follow) and forgets the follow.
    pub async fn unfollow(
        &self,
        org: &Organization,
        target: &Organization,
    ) -> Result<(), FederationError> {
        let follow = self
            .store()
            .follows()
            .get(org.id, target.id)
            .await?
            .ok_or(FederationError::NotFound)?;
        self.store().follows().remove(org.id, target.id).await?;
        if let Some(actor) = self
            .store()
            .remote_actors()
            .of_organization(target.id)
            .await?
        {
            let me = self.urls().organization(org.handle.as_str());
            let undo = json!({
                "@context": crate::vocabulary::context(),
                "id": self.urls().new_activity("undo"),
                "type": "Undo",
                "actor": me,
                "object": {
                    "id": follow.activity_id,
                    "type": "Follow",
                    "actor": me,
                    "object": actor.actor_id,
                },
            });
            self.deliver(org, &undo, vec![actor.inbox]).await?;
        }
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
    /// object, and delivers it.
    async fn send(
        &self,
        org: &Organization,
        kind: &str,
        object: Value,
        inboxes: Vec<String>,
    ) -> Result<(), FederationError> {
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
        self.deliver(org, &doc, inboxes).await
    }

    /// Signs as `org` and queues `doc` for each distinct inbox.
    pub(crate) async fn deliver(
        &self,
        org: &Organization,
        doc: &Value,
        inboxes: Vec<String>,
    ) -> Result<(), FederationError> {
        let mut targets: Vec<Url> = inboxes
            .iter()
            .filter_map(|i| Url::parse(i).ok())
            .filter(|u| !self.urls().is_local(u))
            .collect();
        targets.sort();
        targets.dedup();
        if targets.is_empty() {
            return Ok(());
        }
        let key = self.organization_key(org.id).await?;
        let body = serde_json::to_vec(doc).map_err(|e| FederationError::Key(e.to_string()))?;
        self.inner_deliveries().enqueue(
            targets,
            body,
            key,
            &self.urls().key_id(org.handle.as_str()),
        );
        Ok(())
    }
}

fn log_failure(what: &str, result: Result<(), FederationError>) {
    if let Err(e) = result {
        tracing::error!(error = %e, "could not send {what}");
    }
}
