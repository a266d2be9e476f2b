//! The one HTTP client this node talks to other servers with: deliveries,
//! signed fetches, WebFinger lookups and probes all go through
//! [`PeerClient`].
//!
//! Remote input names the URLs this node requests (an actor's inbox, an
//! object id, an outbox page), so the client must not be steered at the
//! node's own network (SSRF). Outside development mode:
//! - only `https://` URLs are requested, never redirected;
//! - a literal IP address in a URL must be public ([`PeerClient::check`],
//!   before the request);
//! - host names are resolved by [`PublicOnly`], the client's own resolver,
//!   which drops every private, loopback or otherwise non-public address.
//!   The connection is made to exactly the addresses it returns, so a name
//!   that resolves to a public address for a check and to a private one
//!   for the connection (DNS rebinding) cannot get through.
//!
//! With an HTTP(S) proxy configured in the environment, the proxy resolves
//! names; it must then refuse private addresses itself.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;
use url::{Host, Url};

use crate::error::FederationError;

/// How long an idle connection to another server is kept for reuse.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle connections kept per host (the delivery worker's default bound on
/// concurrent deliveries to one host).
pub const MAX_IDLE_PER_HOST: usize = 8;

/// The largest remote document read.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

pub use crate::addresses::is_public;

/// The resolver's refusal: the name has no public address.
#[derive(Debug)]
pub struct NoPublicAddress(pub String);

impl std::fmt::Display for NoPublicAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} has no public address", self.0)
    }
}

impl StdError for NoPublicAddress {}

/// Resolves names like the system does, then keeps only public addresses.
#[derive(Debug, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NoPublicAddress(host)) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The node's HTTP client for other servers.
#[derive(Clone, Debug)]
pub struct PeerClient {
    client: reqwest::Client,
    allow_private: bool,
    policy: Arc<crate::policy::DomainPolicy>,
}

impl PeerClient {
    /// `allow_private` (development and tests only) permits `http://` and
    /// private or loopback addresses.
    pub fn new(
        user_agent: &str,
        allow_private: bool,
        policy: Arc<crate::policy::DomainPolicy>,
    ) -> Result<Self, FederationError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            // Idle connections are kept only briefly and few per host: a
            // node talks to thousands of hosts, most of them rarely. (The
            // delivery worker also closes a connection when no other
            // delivery to its host waits.)
            .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST);
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .build()
            .map_err(|e| FederationError::Key(format!("HTTP client (TLS set-up): {e}")))?;
        Ok(Self {
            client,
            allow_private,
            policy,
        })
    }

    /// Refuses (`Forbidden`) URLs this node must not request: hosts the
    /// operators' policy excludes, other schemes than https (and http in
    /// development mode) and, outside development mode, literal non-public
    /// IP addresses. Names are checked by the resolver when the connection
    /// is made.
    pub fn check(&self, url: &Url) -> Result<(), FederationError> {
        self.policy.check(url)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            _ => {
                return Err(FederationError::Forbidden(format!(
                    "{url}: scheme not allowed"
                )))
            }
        }
        if self.allow_private {
            return Ok(());
        }
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(Host::Domain(_)) => None,
            None => return Err(FederationError::Forbidden(format!("{url}: no host"))),
        };
        if literal.is_some_and(|ip| !is_public(ip)) {
            return Err(FederationError::Forbidden(format!(
                "{url}: not a public address"
            )));
        }
        Ok(())
    }

    /// A GET of a checked URL.
    pub fn get(&self, url: &Url) -> Result<reqwest::RequestBuilder, FederationError> {
        self.check(url)?;
        Ok(self.client.get(url.clone()))
    }

    /// A POST to a checked URL.
    pub fn post(&self, url: &Url) -> Result<reqwest::RequestBuilder, FederationError> {
        self.check(url)?;
        Ok(self.client.post(url.clone()))
    }

    /// What a failed request means: `Forbidden` when the resolver refused
    /// the host's addresses (not worth retrying), a passing `Fetch` error
    /// otherwise.
    pub fn failure(url: &Url, error: reqwest::Error) -> FederationError {
        let mut source: Option<&(dyn StdError + 'static)> = Some(&error);
        while let Some(e) = source {
            if let Some(refused) = e.downcast_ref::<NoPublicAddress>() {
                return FederationError::Forbidden(format!("{url}: {refused}"));
            }
            source = e.source();
        }
        FederationError::fetch(url, error)
    }
}

/// Reads a JSON response body of at most [`MAX_DOCUMENT_BYTES`].
pub(crate) async fn read_json(
    response: &mut reqwest::Response,
    url: &Url,
) -> Result<Value, FederationError> {
    let body = read_body(response, url).await?;
    serde_json::from_slice(&body).map_err(|e| FederationError::fetch(url, e))
}

/// Reads a response body of at most [`MAX_DOCUMENT_BYTES`], chunk by
/// chunk, so a hostile server cannot make this node buffer more.
pub(crate) async fn read_body(
    response: &mut reqwest::Response,
    url: &Url,
) -> Result<Vec<u8>, FederationError> {
    let too_large = || FederationError::fetch(url, "document too large");
    if response
        .content_length()
        .is_some_and(|l| l > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FederationError::fetch(url, e))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:5",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:a00:1::1",
            "2002:7f00:1::1",
            "::10.0.0.1",
            "fec0::1",
            "2001::1",
            "2001:db8::1",
            "100::1",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
        ] {
            assert!(
                !is_public(ip.parse().unwrap_or_else(|_| panic!("{ip}"))),
                "{ip}"
            );
        }
        for ip in [
            "93.184.216.34",
            "2a00:1450:4001::1",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert!(
                is_public(ip.parse().unwrap_or_else(|_| panic!("{ip}"))),
                "{ip}"
            );
        }
    }

    #[test]
    fn urls_are_checked_before_any_request() {
        let strict = PeerClient::new(
            "test",
            false,
            Arc::new(crate::policy::DomainPolicy::new(false)),
        )
        .unwrap();
        for refused in [
            "http://example.org/inbox",
            "ftp://example.org/x",
            "https://127.0.0.1/inbox",
            "https://127.1/inbox",
            "https://2130706433/inbox",
            "https://[::1]/inbox",
            "https://[::ffff:7f00:1]/inbox",
            "https://10.0.0.1:8443/inbox",
        ] {
            let url = Url::parse(refused).unwrap();
            assert!(
                matches!(strict.check(&url), Err(FederationError::Forbidden(_))),
                "{refused}"
            );
        }
        for allowed in ["https://example.org/inbox", "https://93.184.216.34/inbox"] {
            assert!(strict.check(&Url::parse(allowed).unwrap()).is_ok());
        }
        let dev = PeerClient::new(
            "test",
            true,
            Arc::new(crate::policy::DomainPolicy::new(false)),
        )
        .unwrap();
        assert!(dev
            .check(&Url::parse("http://127.0.0.1:4000/inbox").unwrap())
            .is_ok());
    }

    /// Names resolving to loopback are refused by the resolver itself: the
    /// connection is never attempted.
    #[tokio::test]
    async fn the_resolver_drops_private_addresses() {
        let refused = PublicOnly
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost has no public address");
        assert!(refused.downcast_ref::<NoPublicAddress>().is_some());
    }
}
