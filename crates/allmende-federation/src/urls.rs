//! The ActivityPub ids of this node's actors and objects. Every id is also
//! the URL of the human page (content negotiation on one URL), so these
//! paths are the same as the web routes.

use allmende_domain::ItemKind;
use url::Url;
use uuid::Uuid;

/// Builds and recognises this node's URLs.
#[derive(Clone, Debug)]
pub struct Urls {
    /// The public URL without a trailing slash.
    base: String,
    origin: Url,
}

impl Urls {
    pub fn new(public_url: &Url) -> Self {
        Self {
            base: public_url.as_str().trim_end_matches('/').to_owned(),
            origin: public_url.clone(),
        }
    }

    /// `host` or `host:port`, as in `acct:handle@host`.
    pub fn host(&self) -> String {
        authority(&self.origin)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn organization(&self, handle: &str) -> String {
        format!("{}/orgs/{handle}", self.base)
    }
    pub fn key_id(&self, handle: &str) -> String {
        format!("{}#main-key", self.organization(handle))
    }
    /// The organization's Ed25519 Multikey (FEP-521a).
    pub fn ed25519_key_id(&self, handle: &str) -> String {
        format!("{}#ed25519-key", self.organization(handle))
    }
    pub fn inbox(&self, handle: &str) -> String {
        format!("{}/inbox", self.organization(handle))
    }
    pub fn outbox(&self, handle: &str) -> String {
        format!("{}/outbox", self.organization(handle))
    }
    pub fn followers(&self, handle: &str) -> String {
        format!("{}/followers", self.organization(handle))
    }
    pub fn following(&self, handle: &str) -> String {
        format!("{}/following", self.organization(handle))
    }
    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }
    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.base)
    }
    pub fn instance_key_id(&self) -> String {
        format!("{}#main-key", self.instance_actor())
    }
    /// A published item, answer or post of this node.
    pub fn item(&self, kind: ItemKind, id: Uuid) -> String {
        format!("{}/{}/{id}", self.base, kind.collection())
    }
    /// A declaration of use made on this node.
    pub fn adoption(&self, id: Uuid) -> String {
        format!("{}/adoptions/{id}", self.base)
    }
    /// A new activity id. Activities are not stored, so they are not
    /// fetchable; their ids only need to be unique.
    pub fn new_activity(&self, kind: &str) -> String {
        format!(
            "{}/activities/{}-{}",
            self.base,
            kind.to_ascii_lowercase(),
            Uuid::now_v7()
        )
    }
    pub fn context(&self) -> String {
        format!("{}/ns", self.base)
    }

    /// Whether `url` points at this node.
    pub fn is_local(&self, url: &Url) -> bool {
        same_origin(url, &self.origin)
    }

    /// The handle in a local organization's actor id.
    pub fn local_handle<'u>(&self, url: &'u Url) -> Option<&'u str> {
        if !self.is_local(url) {
            return None;
        }
        let mut segments = url.path_segments()?;
        match (segments.next(), segments.next(), segments.next()) {
            (Some("orgs"), Some(handle), None) if !handle.is_empty() => Some(handle),
            _ => None,
        }
    }

    /// The kind and id of a local item URL.
    pub fn local_item(&self, url: &Url) -> Option<(ItemKind, Uuid)> {
        if !self.is_local(url) {
            return None;
        }
        let mut segments = url.path_segments()?;
        match (segments.next(), segments.next(), segments.next()) {
            (Some(collection), Some(id), None) => {
                Some((ItemKind::from_collection(collection)?, id.parse().ok()?))
            }
            _ => None,
        }
    }

    /// The id of a local solution named by exactly its ActivityPub id (no
    /// query, fragment or other spelling of the UUID): what adoptions and
    /// variants must name, so that one solution has one name.
    pub fn local_solution(&self, url: &Url) -> Option<Uuid> {
        match self.local_item(url) {
            Some((ItemKind::Solution, id)) if self.item(ItemKind::Solution, id) == url.as_str() => {
                Some(id)
            }
            _ => None,
        }
    }
}

/// `host[:port]` of a URL (the port only when it is not the default).
pub fn authority(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}

/// Same scheme, host and port: the "domain" an id must share with its actor.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}
