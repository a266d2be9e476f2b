//! Remote actors: found in the store, or fetched, checked and stored.

use allmende_domain::Organization;
use allmende_store::RemoteActor;
use chrono::Utc;
use serde_json::Value;
use url::Url;

use super::{FetchBudget, Resolver};
use crate::error::FederationError;
use crate::objects::actor::{parse_remote, ParsedActor};
use crate::objects::{id_of, str_field};

impl Resolver {
    /// The actor with id `url`, from the store or fetched.
    pub async fn actor_by_id(
        &self,
        url: &Url,
        budget: &mut FetchBudget,
    ) -> Result<(Organization, RemoteActor), FederationError> {
        if let Some(found) = self
            .core
            .store
            .remote_actors()
            .by_actor_id(url.as_str())
            .await?
        {
            return Ok(found);
        }
        self.refresh_actor(url, budget).await
    }

    /// Fetches an actor document and stores what it says.
    pub async fn refresh_actor(
        &self,
        url: &Url,
        budget: &mut FetchBudget,
    ) -> Result<(Organization, RemoteActor), FederationError> {
        let doc = self.fetch_object(url, budget).await?;
        self.store_actor(&doc, url).await
    }

    /// Stores an actor document that came from `source` (fetched from there,
    /// or embedded in an activity signed by that actor).
    pub(crate) async fn store_actor(
        &self,
        doc: &Value,
        source: &Url,
    ) -> Result<(Organization, RemoteActor), FederationError> {
        let parsed = self.parse_actor(doc, source)?;
        self.store_parsed(parsed).await
    }

    /// Reads an actor document without storing it; a document claiming to
    /// be one of this node's actors is refused.
    fn parse_actor(&self, doc: &Value, source: &Url) -> Result<ParsedActor, FederationError> {
        let parsed = parse_remote(doc, source)?;
        let id: Url = parsed
            .actor
            .actor_id
            .parse()
            .map_err(|_| FederationError::fetch(source, "bad id"))?;
        if self.core.urls.is_local(&id) {
            return Err(FederationError::Forbidden(
                "a remote document claims a local actor".into(),
            ));
        }
        Ok(parsed)
    }

    /// Stores a read actor document.
    pub(crate) async fn store_parsed(
        &self,
        parsed: ParsedActor,
    ) -> Result<(Organization, RemoteActor), FederationError> {
        let actors = self.core.store.remote_actors();
        let stored = actors
            .upsert(&parsed.handle, &parsed.profile, &parsed.actor, Utc::now())
            .await;
        let org = match stored {
            // Another actor already has this name@host (a renamed account,
            // say): this one is stored under its stand-in name.
            Err(allmende_store::StoreError::Conflict("organization handle")) => {
                let id: Url = parsed
                    .actor
                    .actor_id
                    .parse()
                    .map_err(|_| FederationError::Internal("stored actor id".into()))?;
                let handle = allmende_domain::Handle::remote(
                    &crate::objects::actor::fallback_name(&id),
                    &crate::urls::authority(&id),
                )
                .map_err(|_| FederationError::fetch(&id, "unusable host"))?;
                actors
                    .upsert(&handle, &parsed.profile, &parsed.actor, Utc::now())
                    .await?
            }
            other => other?,
        };
        Ok((org, parsed.actor))
    }

    /// Fetches the document of the key `key_id` (an actor with the key,
    /// or a key naming its owner) and reads its actor, without storing it:
    /// the caller stores it once a signature made with the key verifies.
    pub(crate) async fn fetch_actor_for_key(
        &self,
        key_id: &str,
        budget: &mut FetchBudget,
    ) -> Result<ParsedActor, FederationError> {
        let unknown = || FederationError::Unauthorized(format!("key {key_id} unknown"));
        let mut url = Url::parse(key_id).map_err(|_| unknown())?;
        url.set_fragment(None);
        if self.core.urls.is_local(&url) {
            return Err(FederationError::Unauthorized(
                "a local key id from outside".into(),
            ));
        }
        let doc = self.fetch_object(&url, budget).await?;
        let (actor_doc, actor_url) = if doc.get("publicKey").is_some() {
            (doc, url)
        } else {
            // A key document: `owner` names the actor.
            let owner = doc.get("owner").and_then(id_of).ok_or_else(unknown)?;
            if str_field(&doc, "publicKeyPem").is_none() {
                return Err(unknown());
            }
            (self.fetch_object(&owner, budget).await?, owner)
        };
        let parsed = self.parse_actor(&actor_doc, &actor_url)?;
        let owns = parsed.actor.public_key_id == key_id
            || parsed.actor.ed25519_key_id.as_deref() == Some(key_id);
        if !owns {
            return Err(FederationError::Unauthorized(format!(
                "actor {} does not own key {key_id}",
                parsed.actor.actor_id
            )));
        }
        Ok(parsed)
    }
}
