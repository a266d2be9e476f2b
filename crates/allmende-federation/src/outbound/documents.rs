//! The ActivityPub documents of this node's actors and objects, served at
//! their page URLs and embedded in activities.

use allmende_domain::{Answer, Item, ItemKind, Organization, Question};
use allmende_store::Found;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::Outbound;
use crate::error::FederationError;
use crate::objects::actor::{instance_json, organization_json};
use crate::objects::item::{answer_json, item_json, tombstone_json};
use crate::urls::Urls;

impl Outbound {
    fn urls(&self) -> &Urls {
        &self.core.urls
    }

    /// The actor document of a local organization.
    pub async fn organization_document(
        &self,
        org: &Organization,
    ) -> Result<Value, FederationError> {
        let key = self.core.key(&org.id.to_string()).await?;
        let ed25519 = self.core.ed25519_key(&org.id.to_string()).await?;
        let approval = self
            .core
            .store
            .organizations()
            .follower_approval(org.id)
            .await?;
        let keys = crate::objects::actor::PublishedKeys {
            rsa_pem: key.public_key_pem(),
            ed25519_multibase: &ed25519.public_key_multibase(),
        };
        let mut doc = organization_json(
            self.urls(),
            org,
            &keys,
            approval != allmende_domain::FollowerApproval::Everyone,
        );
        // The logo, as the node re-encoded it, is the actor's icon.
        let branding = self.core.store.branding().get(org.id).await?;
        if branding.has_logo {
            let version = branding.updated_at.map_or(0, |t| t.timestamp());
            doc["icon"] = serde_json::json!({
                "type": "Image",
                "mediaType": "image/png",
                "url": format!("{}/logo.png?v={version}", self.urls().organization(org.handle.as_str())),
            });
        }
        Ok(doc)
    }

    pub async fn instance_document(&self) -> Result<Value, FederationError> {
        let key = self.core.key(crate::INSTANCE_HANDLE).await?;
        Ok(instance_json(self.urls(), key.public_key_pem()))
    }

    /// The ActivityPub id of any item stored here: its URL for local items,
    /// its id at home for remote copies.
    pub async fn item_ap_id<T: Item>(&self, id: Uuid) -> Result<String, FederationError> {
        Ok(match self.core.store.items::<T>().ap_id(id).await? {
            Some(remote) => remote,
            None => self.urls().item(T::KIND, id),
        })
    }

    pub async fn answer_ap_id(&self, answer: &Answer) -> Result<String, FederationError> {
        Ok(match self.core.store.answers().ap_id(answer.id).await? {
            Some(remote) => remote,
            None => self.urls().item(ItemKind::Answer, answer.id.0),
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
    pub async fn item_document<T: Item>(
        &self,
        org: &Organization,
        item: &T,
    ) -> Result<Value, FederationError> {
        let handle = org.handle.as_str();
        let mut extra = Map::new();
        if let Some(accepted) = item.accepted_answer() {
            if let Some(answer) = self.core.store.answers().get(accepted).await.found()? {
                extra.insert(
                    "acceptedAnswer".into(),
                    json!(self.answer_ap_id(&answer).await?),
                );
            }
        }
        let id = self.urls().item(T::KIND, item.id());
        // The groups it was published to (FEP-1b12 `audience`).
        if let Some(audience) = self.audience_of(&id).await? {
            extra.insert("audience".into(), audience);
        }
        Ok(item_json(
            &id,
            &self.urls().organization(handle),
            &self.urls().followers(handle),
            item,
            extra,
        ))
    }

    /// The `audience` of the object `object_id`: the actor of the group
    /// that carries it, or a list when several do; `None` for none.
    pub(crate) async fn audience_of(
        &self,
        object_id: &str,
    ) -> Result<Option<Value>, FederationError> {
        let mut actors = Vec::new();
        for group in self.core.store.groups().of_object(object_id).await? {
            if let Some(group) = self.core.store.organizations().get(group).await.found()? {
                actors.push(Value::String(self.actor_id_of(&group)));
            }
        }
        Ok(match actors.len() {
            0 => None,
            1 => actors.pop(),
            _ => Some(Value::Array(actors)),
        })
    }

    /// The object document of an answer written here.
    pub async fn answer_document(
        &self,
        org: &Organization,
        answer: &Answer,
    ) -> Result<Value, FederationError> {
        let store = &self.core.store;
        let question: Question = store.questions().get(answer.question_id).await?;
        let asker = store.organizations().get(question.organization_id).await?;
        let handle = org.handle.as_str();
        let mut doc = answer_json(
            &self.urls().item(ItemKind::Answer, answer.id.0),
            &self.urls().organization(handle),
            &self.urls().followers(handle),
            &self.item_ap_id::<Question>(question.id.0).await?,
            &self.actor_id_of(&asker),
            Question::audience(&question.content),
            answer,
        );
        let question_id = self.item_ap_id::<Question>(question.id.0).await?;
        if let Some(audience) = self.audience_of(&question_id).await? {
            doc["audience"] = audience;
        }
        Ok(doc)
    }

    /// The Tombstone of a deleted local object, if `ap_id` is one.
    pub async fn tombstone_document(&self, ap_id: &str) -> Result<Option<Value>, FederationError> {
        Ok(self
            .core
            .store
            .activities()
            .tombstone(ap_id)
            .await?
            .map(|(former_type, deleted)| tombstone_json(ap_id, &former_type, deleted)))
    }
}
