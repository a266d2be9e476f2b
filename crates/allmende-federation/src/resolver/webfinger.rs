//! WebFinger lookups: the actor URL of `name@host`.

use serde_json::Value;
use url::Url;

use super::Resolver;
use crate::error::FederationError;
use crate::http::{read_json, PeerClient};
use crate::vocabulary::ACTIVITY_JSON;
use crate::webfinger::Target;

impl Resolver {
    /// Finds the actor URL of a remote organization named by handle or URL.
    pub async fn resolve_target(&self, target: &Target) -> Result<Url, FederationError> {
        let (name, host) = match target {
            Target::Url(url) => return Ok(url.clone()),
            Target::Account { name, host } => (name, host),
        };
        let scheme = if self.core.settings.allow_private_peers {
            "http"
        } else {
            "https"
        };
        let mut url = Url::parse(&format!("{scheme}://{host}/.well-known/webfinger"))
            .map_err(|_| FederationError::BadRequest("not a host".into()))?;
        url.query_pairs_mut()
            .append_pair("resource", &format!("acct:{name}@{host}"));
        let mut response = self
            .core
            .http
            .get(&url)?
            .header("accept", "application/jrd+json, application/json")
            .send()
            .await
            .map_err(|e| PeerClient::failure(&url, e))?;
        if !response.status().is_success() {
            return Err(FederationError::fetch(
                &url,
                format!("status {}", response.status()),
            ));
        }
        let jrd = read_json(&mut response, &url).await?;
        jrd.get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|link| {
                link.get("rel").and_then(Value::as_str) == Some("self")
                    && link.get("type").and_then(Value::as_str).is_some_and(|t| {
                        t.starts_with(ACTIVITY_JSON) || t.starts_with("application/ld+json")
                    })
            })
            .and_then(|link| link.get("href")?.as_str()?.parse().ok())
            .ok_or_else(|| FederationError::fetch(&url, "no ActivityPub actor link"))
    }
}
