//! Fetching remote documents: signed by the instance actor (servers with
//! "authorized fetch" demand it), size-limited, without redirects, and
//! through the node's [`crate::http::PeerClient`], which refuses private
//! addresses outside development mode.

use axum::http::StatusCode;
use serde_json::Value;
use url::Url;

use super::Resolver;
use crate::error::FederationError;
use crate::http::{read_json, PeerClient};
use crate::objects::id_of;
use crate::signatures;
use crate::urls::same_origin;
use crate::vocabulary::{ACTIVITY_JSON, LD_JSON_PROFILE};

/// How many documents one incoming activity may make this node fetch: an
/// activity cannot send it chasing a chain of links.
pub const FETCHES_PER_ACTIVITY: u8 = 5;

#[derive(Debug)]
pub struct FetchBudget(u8);

impl FetchBudget {
    pub fn new() -> Self {
        Self(FETCHES_PER_ACTIVITY)
    }
    fn spend(&mut self, url: &Url) -> Result<(), FederationError> {
        if self.0 == 0 {
            return Err(FederationError::fetch(url, "fetch limit reached"));
        }
        self.0 -= 1;
        Ok(())
    }
}

impl Default for FetchBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl Resolver {
    /// Fetches an ActivityPub document. Its `id` must be on the same domain
    /// as `url`; 404 and 410 Gone are reported as
    /// [`FederationError::NotFound`].
    pub async fn fetch_object(
        &self,
        url: &Url,
        budget: &mut FetchBudget,
    ) -> Result<Value, FederationError> {
        match self.fetch_or_gone(url, budget).await? {
            Fetched::Document(doc) => Ok(doc),
            Fetched::Gone | Fetched::Missing => Err(FederationError::NotFound),
        }
    }

    /// Whether the origin says the object at `url` was deleted: 410 Gone,
    /// or a `Tombstone`. A plain 404 is no proof (origins answer 404 for
    /// what a signer may not read), nor is a document still served.
    pub async fn confirms_deleted(
        &self,
        url: &Url,
        budget: &mut FetchBudget,
    ) -> Result<bool, FederationError> {
        Ok(match self.fetch_or_gone(url, budget).await? {
            Fetched::Gone => true,
            Fetched::Document(doc) => crate::objects::type_of(&doc) == Some("Tombstone"),
            Fetched::Missing => false,
        })
    }

    async fn fetch_or_gone(
        &self,
        url: &Url,
        budget: &mut FetchBudget,
    ) -> Result<Fetched, FederationError> {
        budget.spend(url)?;
        let request = self.core.http.get(url)?;
        let key = self.core.key(crate::INSTANCE_HANDLE).await?;
        let headers = signatures::sign_get(&key, &self.core.urls.instance_key_id(), url)?;
        let mut response = request
            .headers(headers)
            .header("accept", format!("{ACTIVITY_JSON}, {LD_JSON_PROFILE}"))
            .send()
            .await
            .map_err(|e| PeerClient::failure(url, e))?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::GONE => return Ok(Fetched::Gone),
            StatusCode::NOT_FOUND => return Ok(Fetched::Missing),
            s => return Err(FederationError::fetch(url, format!("status {s}"))),
        }
        let doc = read_json(&mut response, url).await?;
        let id = id_of(&doc).ok_or_else(|| FederationError::fetch(url, "document without id"))?;
        if !same_origin(&id, url) {
            return Err(FederationError::fetch(url, "document id on another domain"));
        }
        Ok(Fetched::Document(doc))
    }
}

/// What a fetch found.
enum Fetched {
    Document(Value),
    /// 410: deleted.
    Gone,
    /// 404: unknown, or not for this signer.
    Missing,
}
