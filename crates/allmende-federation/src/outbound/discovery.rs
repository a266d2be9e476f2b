//! How other servers find this node's actors and learn what it runs:
//! WebFinger (RFC 7033), NodeInfo 2.1 and host-meta.

use allmende_domain::ItemKind;
use serde_json::{json, Value};

use super::Outbound;
use crate::error::FederationError;
use crate::vocabulary::ACTIVITY_JSON;
use crate::webfinger::Target;
use crate::INSTANCE_HANDLE;

impl Outbound {
    /// The JRD for `resource` if it names one of this node's actors.
    pub async fn webfinger(&self, resource: &str) -> Result<Value, FederationError> {
        let urls = &self.core.urls;
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
            self.core.store.organizations().by_handle(&handle).await?;
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

    /// `/.well-known/nodeinfo`: where the document is.
    pub fn nodeinfo_links(&self) -> Value {
        json!({
            "links": [{
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": format!("{}/nodeinfo/2.1", self.core.urls.base()),
            }]
        })
    }

    /// The NodeInfo 2.1 document. "Users" are the organizations hosted here.
    pub async fn nodeinfo(&self) -> Result<Value, FederationError> {
        let store = &self.core.store;
        let organizations = store.organizations().list().await?.len();
        let mut posts = 0;
        for kind in ItemKind::ALL.into_iter().filter(|k| k.is_item()) {
            posts += allmende_domain::for_item_kind!(kind,
                T => store.items::<T>().count_local().await?,
                _not_an_item => 0);
        }
        Ok(json!({
            "version": "2.1",
            "software": {
                "name": "allmende",
                "version": self.core.settings.version,
                "repository": env!("CARGO_PKG_REPOSITORY"),
            },
            "protocols": ["activitypub"],
            "services": { "inbound": [], "outbound": [] },
            "openRegistrations": false,
            "usage": {
                "users": { "total": organizations },
                "localPosts": posts,
            },
            "metadata": { "nodeName": self.core.urls.host() },
        }))
    }

    /// `/.well-known/host-meta` (XRD), for software that finds WebFinger
    /// through it.
    pub fn host_meta(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{}/.well-known/webfinger?resource={{uri}}\"/>\n</XRD>\n",
            self.core.urls.base()
        )
    }
}
