//! Allmende's ActivityPub layer, split by job:
//!
//! - [`outbound`]: what this node says — its actor and object documents,
//!   WebFinger and NodeInfo, and the activities (with their addressing)
//!   that the store's announcements of local changes become;
//! - [`inbound`]: what it hears — every POST to an inbox is checked
//!   (signature, digest, date, actor, id domains), stored, deduplicated,
//!   then handed to the handler of its type (`inbound/follow.rs`,
//!   `inbound/items.rs`);
//! - [`resolver`]: what it looks up — signed, size-limited fetches of
//!   remote documents, remote actors (fetched, checked, cached in the
//!   store) and WebFinger lookups;
//! - [`jobs`]: the background work of every server process — deliveries,
//!   building activities, inbox retries, backfills of followed
//!   organizations, probes of unreachable peers — each with an attempt
//!   cap and a dead state operators can see, retry and drop.
//!
//! All outgoing HTTP goes through one client ([`http`]) that refuses
//! private addresses at connect time.
//!
//! It is built on `http-signature-normalization` (signing strings) and
//! aws-lc-rs (RSA) rather than on `activitypub_federation`, because that
//! crate signs with the `rsa` crate (not constant time, RUSTSEC-2023-0071)
//! and queues in memory only; see `docs/architecture.md`.

pub mod addresses;
pub mod error;
pub mod http;
pub mod identity;
pub mod inbound;
pub mod jobs;
pub mod keys;
pub mod markdown;
pub mod message_signatures;
pub mod objects;
pub mod outbound;
pub mod policy;
pub mod resolver;
pub mod retry;
pub mod routes;
pub mod sanitize;
pub mod signatures;
pub mod urls;
pub mod vocabulary;
pub mod webfinger;

use std::sync::Arc;
use std::time::Duration;

use allmende_domain::OrganizationId;
use allmende_store::Store;
use url::Url;

pub use error::FederationError;
pub use inbound::Inbound;
pub use jobs::{DeliveryStats, Jobs};
pub use keys::SigningKey;
pub use outbound::Outbound;
pub use resolver::Resolver;
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
    /// Inbox requests accepted per sending host and minute (0: no limit).
    pub inbox_per_minute: u32,
    /// Allow-list mode: federate only with domains on the allow list.
    pub allowlist_only: bool,
    /// Authorized fetch: ActivityPub documents (except the instance actor,
    /// which others need to check this node's own signed fetches) only for
    /// signed GETs from servers this node federates with.
    pub authorized_fetch: bool,
    pub delivery: DeliverySettings,
    /// Software version in NodeInfo and the User-Agent.
    pub version: String,
}

/// What every part shares: the store, the node's URLs and settings, the
/// HTTP client, the signing keys, and the bell that wakes the jobs.
pub(crate) struct Core {
    /// Per peer host, the signature scheme its inbox accepted last.
    pub(crate) signature_schemes:
        std::sync::Mutex<std::collections::HashMap<String, signatures::Scheme>>,
    pub(crate) policy: Arc<policy::DomainPolicy>,
    pub(crate) store: Store,
    pub(crate) urls: Urls,
    pub(crate) settings: FederationSettings,
    pub(crate) http: http::PeerClient,
    pub(crate) keys: keys::KeyRing,
    pub(crate) wake: tokio::sync::Notify,
}

impl Core {
    /// How long a worker (or an inbox request) owns what it claimed.
    pub(crate) fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.delivery.lease)
            .unwrap_or(chrono::Duration::minutes(5))
    }

    /// The key of a local organization (`id`) or of the instance actor
    /// (`instance`).
    pub(crate) async fn key(&self, owner: &str) -> Result<Arc<SigningKey>, FederationError> {
        self.keys.get(&self.store, owner).await
    }

    /// How to sign the next delivery to `host`: what it accepted last, or
    /// RFC 9421 to begin with.
    pub(crate) fn signature_scheme_for(&self, host: &str) -> signatures::Scheme {
        self.signature_schemes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
            .copied()
            .unwrap_or(signatures::Scheme::Rfc9421)
    }

    pub(crate) fn remember_signature_scheme(&self, host: &str, scheme: signatures::Scheme) {
        let mut known = self
            .signature_schemes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if known.len() > 100_000 {
            known.clear(); // bounded; everyone is simply asked again
        }
        known.insert(host.to_owned(), scheme);
    }

    /// The Ed25519 key of a local organization (`id`).
    pub(crate) async fn ed25519_key(
        &self,
        owner: &str,
    ) -> Result<Arc<keys::Ed25519Key>, FederationError> {
        self.keys.get_ed25519(&self.store, owner).await
    }

    /// Whether the organization `reader` may read `question` (and so
    /// answer it, and hear that its answer was accepted): a public one
    /// anyone; a followers-only one its author and, for a question of this
    /// node, its accepted followers. Of a followers-only question of
    /// another node this node cannot know the audience: only the author.
    pub(crate) async fn may_read(
        &self,
        reader: OrganizationId,
        question: &allmende_domain::Question,
    ) -> Result<bool, FederationError> {
        use allmende_domain::Item;
        if allmende_domain::Question::is_public(&question.content)
            || reader == question.organization_id
        {
            return Ok(true);
        }
        let asker = self
            .store
            .organizations()
            .get(question.organization_id)
            .await?;
        if !asker.is_local() {
            return Ok(false);
        }
        Ok(self
            .store
            .follows()
            .get(reader, question.organization_id)
            .await?
            .is_some_and(|f| f.accepted))
    }

    /// Tells the jobs of this process there is new work.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The federation layer of one node: a handle on its four parts; cheap to
/// clone.
#[derive(Clone)]
pub struct Federation {
    core: Arc<Core>,
    outbound: Outbound,
    inbound: Inbound,
    resolver: Resolver,
    jobs: Arc<Jobs>,
}

impl Federation {
    /// Sets up federation without starting the background jobs (tools and
    /// tests run them with [`Federation::run_jobs_once`]).
    pub fn new(store: Store, settings: FederationSettings) -> Result<Self, FederationError> {
        let policy = Arc::new(policy::DomainPolicy::new(settings.allowlist_only));
        let http = http::PeerClient::new(
            &format!("Allmende/{} (+{})", settings.version, settings.public_url),
            settings.allow_private_peers,
            policy.clone(),
        )?;
        let core = Arc::new(Core {
            signature_schemes: std::sync::Mutex::default(),
            policy,
            store,
            urls: Urls::new(&settings.public_url),
            settings,
            http,
            keys: keys::KeyRing::new(),
            wake: tokio::sync::Notify::new(),
        });
        let outbound = Outbound::new(core.clone());
        let resolver = Resolver::new(core.clone());
        let inbound = Inbound::new(core.clone(), resolver.clone());
        let jobs = Arc::new(Jobs::new(
            core.clone(),
            outbound.clone(),
            inbound.clone(),
            resolver.clone(),
        ));
        Ok(Self {
            core,
            outbound,
            inbound,
            resolver,
            jobs,
        })
    }

    /// Sets up federation and starts the background jobs; call inside a
    /// tokio runtime.
    pub async fn start(
        store: Store,
        settings: FederationSettings,
    ) -> Result<Self, FederationError> {
        let federation = Self::new(store, settings)?;
        // The policy is in force before the first job sends anything.
        federation.reload_policy().await?;
        federation.jobs.clone().spawn();
        Ok(federation)
    }

    /// Reads the operators' federation policy from the store again (after
    /// a change; the upkeep job also does it now and then).
    pub async fn reload_policy(&self) -> Result<(), FederationError> {
        self.core.policy.reload(&self.core.store).await
    }

    /// The federation policy in force.
    pub fn policy(&self) -> &policy::DomainPolicy {
        &self.core.policy
    }

    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    pub fn inbound(&self) -> &Inbound {
        &self.inbound
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    pub fn urls(&self) -> &Urls {
        &self.core.urls
    }

    pub(crate) fn store(&self) -> &Store {
        &self.core.store
    }

    pub fn settings(&self) -> &FederationSettings {
        &self.core.settings
    }

    /// With authorized fetch on, checks a GET for an ActivityPub document:
    /// `Ok` when it may be served (always, with the mode off).
    pub async fn authorize_fetch(
        &self,
        path_and_query: &str,
        headers: &axum::http::HeaderMap,
    ) -> Result<(), FederationError> {
        if !self.core.settings.authorized_fetch {
            return Ok(());
        }
        self.inbound
            .check_fetch(path_and_query, headers)
            .await
            .map(|_| ())
    }

    /// Checks the identities that are due now (the upkeep job does it a
    /// few at a time); returns how many were checked.
    pub async fn check_identities_now(&self, limit: u32) -> Result<usize, FederationError> {
        self.core.check_due_identities(limit).await
    }

    /// Tells the jobs a change was recorded that has something to send.
    pub fn wake(&self) {
        self.core.wake();
    }

    /// One full round of the background jobs, waiting for the sends it
    /// starts; `true` if there may be more work right away. For tools and
    /// tests that run federation without the background loop
    /// ([`Federation::new`]).
    pub async fn run_jobs_once(&self) -> Result<bool, FederationError> {
        self.jobs.run_once().await
    }

    /// Stops the jobs after the sends in flight (see [`Jobs::shutdown`]).
    pub async fn shutdown(&self) {
        self.jobs.shutdown().await;
    }

    /// The key of a local organization, made on first use.
    pub async fn organization_key(
        &self,
        id: OrganizationId,
    ) -> Result<Arc<SigningKey>, FederationError> {
        self.core.key(&id.to_string()).await
    }

    /// The Ed25519 key of a local organization (its FEP-521a Multikey),
    /// made on first use.
    pub async fn organization_ed25519_key(
        &self,
        id: OrganizationId,
    ) -> Result<Arc<keys::Ed25519Key>, FederationError> {
        self.core.ed25519_key(&id.to_string()).await
    }

    /// Work still to be done (by any process on this database), not
    /// counting deliveries paused for unreachable peers nor dead work.
    pub async fn pending_work(&self) -> Result<i64, FederationError> {
        Ok(self.core.store.outbox().pending().await?)
    }

    /// Waits until none of `nodes` has anything pending. A delivery is
    /// done only once its receiver has answered, and a receiver records
    /// what it will send in reply (an Accept) before it answers, so when
    /// every queue is empty twice in a row the nodes have settled. Polls
    /// the databases; for the demo and tests, where all nodes share a
    /// process.
    pub async fn settle(nodes: &[&Federation]) {
        let mut quiet_rounds = 0;
        while quiet_rounds < 2 {
            let mut quiet = true;
            for node in nodes {
                node.wake();
                if node.pending_work().await.map_or(true, |n| n > 0) {
                    quiet = false;
                }
            }
            quiet_rounds = if quiet { quiet_rounds + 1 } else { 0 };
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Federation {
    /// Fetches a text file (a publiccode.yml) from `url` through the
    /// node's HTTP client: the same address checks as for other servers
    /// (no private addresses, no redirects, the operators' domain policy),
    /// and at most the size of an ActivityPub document. `NotFound` for
    /// anything but 200.
    pub async fn fetch_text(&self, url: &url::Url) -> Result<String, FederationError> {
        let mut response = self
            .core
            .http
            .get(url)?
            .send()
            .await
            .map_err(|e| http::PeerClient::failure(url, e))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FederationError::NotFound);
        }
        let body = http::read_body(&mut response, url).await?;
        String::from_utf8(body).map_err(|_| FederationError::fetch(url, "not UTF-8 text"))
    }
}
