//! NodeInfo 2.1: what software a node runs and how big it is.

use serde_json::{json, Value};

use crate::error::FederationError;
use crate::Federation;

impl Federation {
    /// `/.well-known/nodeinfo`: where the document is.
    pub fn nodeinfo_links(&self) -> Value {
        json!({
            "links": [{
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": format!("{}/nodeinfo/2.1", self.urls().base()),
            }]
        })
    }

    /// The NodeInfo 2.1 document. "Users" are the organizations hosted here.
    pub async fn nodeinfo(&self) -> Result<Value, FederationError> {
        let store = self.store();
        let organizations = store.organizations().list().await?.len();
        let posts = store.projects().count_local().await?
            + store.questions().count_local().await?
            + store.solutions().count_local().await?;
        Ok(json!({
            "version": "2.1",
            "software": {
                "name": "allmende",
                "version": self.settings().version,
                "repository": env!("CARGO_PKG_REPOSITORY"),
            },
            "protocols": ["activitypub"],
            "services": { "inbound": [], "outbound": [] },
            "openRegistrations": false,
            "usage": {
                "users": { "total": organizations },
                "localPosts": posts,
            },
            "metadata": { "nodeName": self.urls().host() },
        }))
    }

    /// `/.well-known/host-meta` (XRD), for software that finds WebFinger
    /// through it.
    pub fn host_meta(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{}/.well-known/webfinger?resource={{uri}}\"/>\n</XRD>\n",
            self.urls().base()
        )
    }
}
