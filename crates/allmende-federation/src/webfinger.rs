//! WebFinger (RFC 7033): `acct:handle@host` to actor URL, served for this
//! node's organizations and looked up for others'.

use serde_json::{json, Value};
use url::Url;

use crate::error::FederationError;
use crate::fetch::read_json;
use crate::vocabulary::ACTIVITY_JSON;
use crate::{Federation, INSTANCE_HANDLE};

/// What a user may type to name a remote organization.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// `name@host`, `@name@host` or `acct:name@host`.
    Account { name: String, host: String },
    /// An actor URL.
    Url(Url),
}

impl Target {
    pub fn parse(input: &str) -> Result<Self, FederationError> {
        let input = input.trim();
        if input.starts_with("https://") || input.starts_with("http://") {
            return Url::parse(input)
                .map(Target::Url)
                .map_err(|_| FederationError::BadRequest("not a URL".into()));
        }
        let acct = input.trim_start_matches("acct:").trim_start_matches('@');
        match acct.split_once('@') {
            Some((name, host))
                if !name.is_empty()
                    && !host.is_empty()
                    && !host.contains(['/', '@', '?', '#', ' ']) =>
            {
                Ok(Target::Account {
                    name: name.to_owned(),
                    host: host.to_ascii_lowercase(),
                })
            }
            _ => Err(FederationError::BadRequest(
                "expected name@host or an actor URL".into(),
            )),
        }
    }
}

impl Federation {
    /// The JRD for `resource` if it names one of this node's actors.
    pub async fn webfinger(&self, resource: &str) -> Result<Value, FederationError> {
        let urls = self.urls();
        let handle = match Target::parse(resource)? {
            Target::Account { name, host } if host == urls.host() => name,
            Target::Url(url) => urls
                .local_handle(&url)
                .map(str::to_owned)
                .or_else(|| (url.as_str() == urls.instance_actor()).then(|| INSTANCE_HANDLE.into()))
                .ok_or(FederationError::NotFound)?,
            _ => return Err(FederationError::NotFound),
        };
        let actor = if handle == INSTANCE_HANDLE {
            urls.instance_actor()
        } else {
            self.store().organizations().by_handle(&handle).await?;
            urls.organization(&handle)
        };
        Ok(json!({
            "subject": format!("acct:{handle}@{}", urls.host()),
            "aliases": [actor],
            "links": [
                { "rel": "self", "type": ACTIVITY_JSON, "href": actor },
                { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor },
            ]
        }))
    }

    /// Finds the actor URL of a remote organization named by handle or URL.
    pub async fn resolve_target(&self, target: &Target) -> Result<Url, FederationError> {
        let (name, host) = match target {
            Target::Url(url) => return Ok(url.clone()),
            Target::Account { name, host } => (name, host),
        };
        let scheme = if self.settings().allow_private_peers {
            "http"
        } else {
            "https"
        };
        let mut url = Url::parse(&format!("{scheme}://{host}/.well-known/webfinger"))
            .map_err(|_| FederationError::BadRequest("not a host".into()))?;
        url.query_pairs_mut()
            .append_pair("resource", &format!("acct:{name}@{host}"));
        self.check_peer_url(&url).await?;
        let mut response = self
            .client()
            .get(url.clone())
            .header("accept", "application/jrd+json, application/json")
            .send()
            .await
            .map_err(|e| FederationError::fetch(&url, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let ulm = Target::Account {
            name: "ulm".into(),
            host: "node-a:4001".into(),
        };
        assert_eq!(Target::parse("@ulm@node-a:4001").ok(), Some(ulm));
        assert!(
            matches!(Target::parse("acct:ulm@Node-B"), Ok(Target::Account { host, .. }) if host == "node-b")
        );
        assert!(matches!(
            Target::parse("https://b.example/orgs/x"),
            Ok(Target::Url(_))
        ));
        for bad in ["ulm", "@ulm", "ulm@", "a@b/c", ""] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
