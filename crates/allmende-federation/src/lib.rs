//! Allmende's ActivityPub layer.
//!
//! - what is sent: [`publish`] builds the activities (Create/Update/Delete
//!   of items, answers, accepting an answer, Follow/Undo/Accept) from the
//!   announcements the store records with each local change; [`delivery`]
//!   sends them from the database, with the [`retry`] policy;
//! - what is received: [`inbox`] checks signatures, digest, date, actor and
//!   id domains, deduplicates by activity id, then hands each activity type
//!   to its handler (`inbox/follow.rs`, `inbox/items.rs`, …);
//! - what is served: actor and object documents ([`objects`]), WebFinger,
//!   NodeInfo, host-meta, outbox and collections ([`routes`]).
//!
//! It is built on `http-signature-normalization` (signing strings) and
//! aws-lc-rs (RSA) rather than on `activitypub_federation`, because that
//! crate signs deliveries and fetches with the `rsa` crate (not constant
//! time, RUSTSEC-2023-0071) and queues in memory only (this node's outbox is in the database); see
//! `docs/architecture.md`.

pub mod actors;
pub mod backfill;
pub mod delivery;
pub mod error;
pub mod fetch;
pub mod inbox;
pub mod keys;
pub mod nodeinfo;
pub mod objects;
pub mod publish;
pub mod retry;
pub mod routes;
pub mod sanitize;
pub mod signatures;
pub mod urls;
pub mod vocabulary;
pub mod webfinger;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use allmende_domain::OrganizationId;
use allmende_store::Store;
use chrono::Utc;
use url::Url;

pub use delivery::DeliveryStats;
pub use error::FederationError;
pub use keys::SigningKey;
pub use retry::DeliverySettings;
pub use urls::Urls;

/// The instance actor's `preferredUsername` (and a handle organizations
/// cannot take).
pub const INSTANCE_HANDLE: &str = "instance";

/// How this node federates.
#[derive(Clone, Debug)]
pub struct FederationSettings {
    pub public_url: Url,
    /// Development and tests: allow `http://` peers and private or loopback
    /// addresses. Never on a public node (it opens the node to SSRF).
    pub allow_private_peers: bool,
    /// Largest activity an inbox reads.
    pub max_inbox_bytes: usize,
    pub delivery: DeliverySettings,
    /// Software version in NodeInfo and the User-Agent.
    pub version: String,
}

/// The federation layer of one node; cheap to clone.
#[derive(Clone)]
pub struct Federation {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    urls: Urls,
    settings: FederationSettings,
    client: reqwest::Client,
    keys: Mutex<HashMap<String, Arc<SigningKey>>>,
    key_loading: tokio::sync::Mutex<()>,
    worker: delivery::Worker,
}

impl Federation {
    /// Sets up federation and starts the delivery workers; call inside a
    /// tokio runtime.
    pub fn start(store: Store, settings: FederationSettings) -> Result<Self, FederationError> {
        let client = reqwest::Client::builder()
            .user_agent(format!(
                "Allmende/{} (+{})",
                settings.version, settings.public_url
            ))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| FederationError::Key(format!("HTTP client (TLS set-up): {e}")))?;
        let worker = delivery::Worker::new(&settings.delivery);
        let federation = Self {
            inner: Arc::new(Inner {
                store,
                urls: Urls::new(&settings.public_url),
                settings,
                client,
                keys: Mutex::new(HashMap::new()),
                key_loading: tokio::sync::Mutex::new(()),
                worker,
            }),
        };
        federation.spawn_worker();
        Ok(federation)
    }

    pub fn urls(&self) -> &Urls {
        &self.inner.urls
    }

    pub fn settings(&self) -> &FederationSettings {
        &self.inner.settings
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// How long a worker (or an inbox request) owns what it claimed.
    pub(crate) fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings().delivery.lease)
            .unwrap_or(chrono::Duration::minutes(5))
    }

    pub(crate) fn worker(&self) -> &delivery::Worker {
        &self.inner.worker
    }

    /// Announcements and deliveries still to be sent (by any process on
    /// this database), not counting those paused for unreachable peers.
    pub async fn pending_deliveries(&self) -> Result<i64, FederationError> {
        Ok(self.store().outbox().pending().await?)
    }

    /// Waits until none of `nodes` has anything pending. A delivery is
    /// done only once its receiver has answered, and a receiver records
    /// what it will send in reply (an Accept) before it answers, so when
    /// every outbox is empty twice in a row the nodes have settled. Polls
    /// the databases; for the demo and tests, where all nodes share a
    /// process.
    pub async fn settle(nodes: &[&Federation]) {
        let mut quiet_rounds = 0;
        while quiet_rounds < 2 {
            let mut quiet = true;
            for node in nodes {
                node.wake();
                if node.pending_deliveries().await.map_or(true, |n| n > 0) {
                    quiet = false;
                }
            }
            quiet_rounds = if quiet { quiet_rounds + 1 } else { 0 };
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn delivery_stats(&self) -> &DeliveryStats {
        &self.inner.worker.stats
    }

    /// The key of a local organization, made on first use.
    pub async fn organization_key(
        &self,
        id: OrganizationId,
    ) -> Result<Arc<SigningKey>, FederationError> {
        self.key_of(&id.to_string()).await
    }

    pub async fn instance_key(&self) -> Result<Arc<SigningKey>, FederationError> {
        self.key_of("instance").await
    }

    pub(crate) async fn key_of(&self, owner: &str) -> Result<Arc<SigningKey>, FederationError> {
        if let Some(key) = self.cached_key(owner) {
            return Ok(key);
        }
        // One task loads (or makes) a key; the others wait and find it
        // cached, instead of all asking the database and generating keys.
        let _loading = self.inner.key_loading.lock().await;
        if let Some(key) = self.cached_key(owner) {
            return Ok(key);
        }
        let stored = match self.store().keys().get(owner).await? {
            Some(stored) => stored,
            None => {
                let fresh = SigningKey::generate()?.to_stored()?;
                self.store()
                    .keys()
                    .insert_if_missing(owner, &fresh, Utc::now())
                    .await?
            }
        };
        let key = Arc::new(SigningKey::from_stored(&stored)?);
        self.inner
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(owner.to_owned(), key.clone());
        Ok(key)
    }

    fn cached_key(&self, owner: &str) -> Option<Arc<SigningKey>> {
        self.inner
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(owner)
            .cloned()
    }
}
