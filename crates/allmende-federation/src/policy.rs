//! The operators' federation policy as the federation layer applies it:
//! blocked domains (nothing received, fetched or sent), allow-list mode
//! (only allowed domains federate, for a closed Land network) and trusted
//! domains (their organizations become followers without approval).
//!
//! The entries live in the store (`allmende_store::policy`, changed by the
//! operations page and the CLI, each change audited); this is the copy
//! every request consults without a database round trip. It is reloaded
//! after a change in this process and by the upkeep job for changes made
//! by other processes.

use std::sync::RwLock;

use allmende_store::{PolicyKind, Store};
use url::Url;

use crate::error::FederationError;

#[derive(Debug, Default)]
struct Entries {
    block: Vec<String>,
    allow: Vec<String>,
    trust: Vec<String>,
}

/// The policy in force.
#[derive(Debug)]
pub struct DomainPolicy {
    allowlist_only: bool,
    entries: RwLock<Entries>,
}

impl DomainPolicy {
    pub fn new(allowlist_only: bool) -> Self {
        Self {
            allowlist_only,
            entries: RwLock::default(),
        }
    }

    /// Reads the entries from the store.
    pub async fn reload(&self, store: &Store) -> Result<(), FederationError> {
        let mut fresh = Entries::default();
        for entry in store.policy().entries().await? {
            match entry.kind {
                PolicyKind::Block => fresh.block.push(entry.domain),
                PolicyKind::Allow => fresh.allow.push(entry.domain),
                PolicyKind::Trust => fresh.trust.push(entry.domain),
            }
        }
        *self.entries.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// Whether this node federates with the server of `url` at all.
    pub fn permits(&self, url: &Url) -> bool {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        if entries.block.iter().any(|d| covers(d, url)) {
            return false;
        }
        !self.allowlist_only || entries.allow.iter().any(|d| covers(d, url))
    }

    /// [`permits`](Self::permits) as a `Forbidden` error naming the host.
    pub fn check(&self, url: &Url) -> Result<(), FederationError> {
        if self.permits(url) {
            Ok(())
        } else {
            Err(FederationError::Forbidden(format!(
                "{} is not federated with (operators' policy)",
                crate::urls::authority(url)
            )))
        }
    }

    /// Whether organizations on the server of `url` are trusted.
    pub fn trusts(&self, url: &Url) -> bool {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        self.permits(url) && entries.trust.iter().any(|d| covers(d, url))
    }

    pub fn allowlist_only(&self) -> bool {
        self.allowlist_only
    }
}

/// Whether the entry `domain` covers `url`: with a port, exactly that host
/// and port; without, the host and every subdomain of it.
fn covers(domain: &str, url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match domain
        .rsplit_once(':')
        .filter(|(_, p)| p.parse::<u16>().is_ok())
    {
        Some((name, port)) => {
            host == name
                && url
                    .port_or_known_default()
                    .map(|p| p.to_string())
                    .as_deref()
                    == Some(port)
        }
        None => host == domain || host.ends_with(&format!(".{domain}")),
    }
}

/// An operator's input (`Example.org`, `https://example.org/`,
/// `münchen.de`, `localhost:8081`) as the entry that is stored: the host
/// in lowercase ASCII (IDNA), with a port only when one was given.
pub fn normalise_domain(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.len() > 253 || trimmed.chars().any(char::is_whitespace) {
        return Err("a domain such as example.org".into());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| format!("{trimmed:?} is not a domain"))?;
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(format!("{trimmed:?}: only the domain, without a path"));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{trimmed:?} has no domain"))?
        .trim_end_matches('.')
        .to_owned();
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn entries_cover_their_host_and_subdomains_or_one_port() {
        assert!(covers("example.org", &url("https://example.org/inbox")));
        assert!(covers("example.org", &url("https://social.example.org/x")));
        assert!(!covers("example.org", &url("https://badexample.org/x")));
        assert!(!covers("example.org", &url("https://example.org.evil/x")));
        assert!(covers("localhost:8081", &url("http://localhost:8081/x")));
        assert!(!covers("localhost:8081", &url("http://localhost:8082/x")));
        assert!(covers("localhost", &url("http://localhost:8082/x")));
        assert!(covers("example.org:443", &url("https://example.org/x")));
    }

    #[test]
    fn operator_input_is_normalised() {
        assert_eq!(normalise_domain(" Example.ORG ").unwrap(), "example.org");
        assert_eq!(
            normalise_domain("https://example.org/").unwrap(),
            "example.org"
        );
        assert_eq!(normalise_domain("münchen.de").unwrap(), "xn--mnchen-3ya.de");
        assert_eq!(
            normalise_domain("localhost:8081").unwrap(),
            "localhost:8081"
        );
        for bad in [
            "",
            "a b",
            "https://example.org/path",
            "user@example.org",
            "http://",
        ] {
            assert!(normalise_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn blocks_win_and_allowlist_mode_admits_only_allowed() {
        let open = DomainPolicy::new(false);
        {
            let mut e = open.entries.write().unwrap();
            e.block.push("evil.example".into());
            e.trust.push("ulm.de".into());
            e.trust.push("evil.example".into());
        }
        assert!(!open.permits(&url("https://x.evil.example/")));
        assert!(open.permits(&url("https://anywhere.example/")));
        assert!(open.trusts(&url("https://allmende.ulm.de/")));
        assert!(
            !open.trusts(&url("https://evil.example/")),
            "a block beats trust"
        );
        let closed = DomainPolicy::new(true);
        closed.entries.write().unwrap().allow.push("bw.de".into());
        assert!(closed.permits(&url("https://kreis.bw.de/")));
        assert!(!closed.permits(&url("https://anywhere.example/")));
    }
}
