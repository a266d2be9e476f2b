//! Node configuration: an optional TOML file, then `ALLMENDE_*` environment
//! variables on top. See docs/configuration.md.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` (created if missing) or
    /// `postgres://USER@HOST:PORT/DATABASE` (the database must exist).
    pub database_url: String,
    /// Address and port the HTTP server binds to.
    pub listen: SocketAddr,
    /// The base of every public URL the node writes (links, later
    /// ActivityPub ids). Scheme and host only.
    pub public_url: Url,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// How long a login lasts.
    pub session_days: u32,
    /// Where this node's source code can be downloaded. The AGPL requires
    /// offering it to the node's users; the footer links here. Operators
    /// who change the code must point this to their version.
    pub source_url: Url,
    /// Development and tests only: federate with `http://` nodes and
    /// private or loopback addresses. Off on any public node, where it
    /// would let remote input make the node fetch internal addresses.
    pub federation_development: bool,
    /// Largest activity an inbox accepts; larger ones get 413.
    pub max_inbox_bytes: usize,
    /// Wait before the first retry of a failed delivery (milliseconds);
    /// doubled on each further retry, up to an hour.
    pub delivery_retry_ms: u64,
    /// Longest wait between retries (seconds).
    pub delivery_retry_max_secs: u64,
    /// Deliveries in flight at once, in all and per receiving host (per
    /// server process).
    pub delivery_concurrency: usize,
    pub delivery_per_host: usize,
    /// A peer failing this many hours without a break counts as
    /// unreachable: deliveries to it pause until it answers again.
    pub peer_unreachable_hours: u64,
    /// How often an unreachable peer is asked whether it is back (seconds).
    pub peer_probe_secs: u64,
    /// How long a process owns the deliveries it claimed (seconds); after a
    /// crash, other processes take them over when this runs out.
    pub delivery_lease_secs: u64,
    /// How often a process looks for work queued by other processes and
    /// for retries that became due (milliseconds).
    pub delivery_poll_ms: u64,
    /// E-mail addresses of the node's operators: they see the operations
    /// page (`/admin/queue`). Organization admins are not operators.
    pub operators: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/allmende.sqlite".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: Url::parse("http://localhost:8080").expect("valid default"),
            max_body_bytes: 1024 * 1024,
            session_days: 14,
            source_url: Url::parse(DEFAULT_SOURCE_URL).expect("valid default"),
            federation_development: false,
            max_inbox_bytes: 256 * 1024,
            delivery_retry_ms: 10_000,
            delivery_retry_max_secs: 60 * 60,
            delivery_concurrency: 64,
            delivery_per_host: 8,
            peer_unreachable_hours: 7 * 24,
            peer_probe_secs: 60 * 60,
            delivery_lease_secs: 60,
            delivery_poll_ms: 1_000,
            operators: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
    #[error("public_url must be an http(s) URL without path, query or fragment, e.g. https://allmende.example.de")]
    PublicUrl,
    #[error("max_body_bytes must be at least 1024")]
    BodyLimit,
}

/// The upstream repository (the workspace's `repository`), linked from every
/// page unless configured.
pub const DEFAULT_SOURCE_URL: &str = env!("CARGO_PKG_REPOSITORY");

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_FILE: &str = "allmende.toml";

impl Config {
    /// Reads `path` (or `./allmende.toml` when present), then applies the
    /// environment. A missing explicit file is an error; a missing default
    /// file is not.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(p) => Self::from_file(p)?,
            None if Path::new(DEFAULT_FILE).exists() => Self::from_file(Path::new(DEFAULT_FILE))?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.check()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source,
        })
    }

    /// Applies `ALLMENDE_*` overrides read through `var` (injectable for tests).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &'static str, raw: &str) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            raw.parse().map_err(|e: T::Err| ConfigError::Env {
                name,
                message: e.to_string(),
            })
        }
        if let Some(v) = var("ALLMENDE_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("ALLMENDE_LISTEN") {
            self.listen = parse("ALLMENDE_LISTEN", &v)?;
        }
        if let Some(v) = var("ALLMENDE_PUBLIC_URL") {
            self.public_url = parse("ALLMENDE_PUBLIC_URL", &v)?;
        }
        if let Some(v) = var("ALLMENDE_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("ALLMENDE_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = var("ALLMENDE_SOURCE_URL") {
            self.source_url = parse("ALLMENDE_SOURCE_URL", &v)?;
        }
        if let Some(v) = var("ALLMENDE_SESSION_DAYS") {
            self.session_days = parse("ALLMENDE_SESSION_DAYS", &v)?;
        }
        if let Some(v) = var("ALLMENDE_FEDERATION_DEVELOPMENT") {
            self.federation_development = parse("ALLMENDE_FEDERATION_DEVELOPMENT", &v)?;
        }
        if let Some(v) = var("ALLMENDE_MAX_INBOX_BYTES") {
            self.max_inbox_bytes = parse("ALLMENDE_MAX_INBOX_BYTES", &v)?;
        }
        if let Some(v) = var("ALLMENDE_DELIVERY_RETRY_MS") {
            self.delivery_retry_ms = parse("ALLMENDE_DELIVERY_RETRY_MS", &v)?;
        }
        if let Some(v) = var("ALLMENDE_DELIVERY_CONCURRENCY") {
            self.delivery_concurrency = parse("ALLMENDE_DELIVERY_CONCURRENCY", &v)?;
        }
        if let Some(v) = var("ALLMENDE_DELIVERY_PER_HOST") {
            self.delivery_per_host = parse("ALLMENDE_DELIVERY_PER_HOST", &v)?;
        }
        if let Some(v) = var("ALLMENDE_DELIVERY_RETRY_MAX_SECS") {
            self.delivery_retry_max_secs = parse("ALLMENDE_DELIVERY_RETRY_MAX_SECS", &v)?;
        }
        if let Some(v) = var("ALLMENDE_PEER_UNREACHABLE_HOURS") {
            self.peer_unreachable_hours = parse("ALLMENDE_PEER_UNREACHABLE_HOURS", &v)?;
        }
        if let Some(v) = var("ALLMENDE_PEER_PROBE_SECS") {
            self.peer_probe_secs = parse("ALLMENDE_PEER_PROBE_SECS", &v)?;
        }
        if let Some(v) = var("ALLMENDE_DELIVERY_LEASE_SECS") {
            self.delivery_lease_secs = parse("ALLMENDE_DELIVERY_LEASE_SECS", &v)?;
        }
        if let Some(v) = var("ALLMENDE_OPERATORS") {
            self.operators = v
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = var("ALLMENDE_DELIVERY_POLL_MS") {
            self.delivery_poll_ms = parse("ALLMENDE_DELIVERY_POLL_MS", &v)?;
        }
        Ok(())
    }

    pub fn check(&self) -> Result<(), ConfigError> {
        let u = &self.public_url;
        if !matches!(u.scheme(), "http" | "https")
            || u.host_str().is_none()
            || u.path() != "/"
            || u.query().is_some()
            || u.fragment().is_some()
        {
            return Err(ConfigError::PublicUrl);
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::BodyLimit);
        }
        Ok(())
    }

    /// An absolute public URL for `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }

    /// How this node federates.
    pub fn federation(&self) -> allmende_federation::FederationSettings {
        allmende_federation::FederationSettings {
            public_url: self.public_url.clone(),
            allow_private_peers: self.federation_development,
            max_inbox_bytes: self.max_inbox_bytes,
            delivery: allmende_federation::DeliverySettings {
                concurrency: self.delivery_concurrency.max(1),
                per_host: self.delivery_per_host.max(1),
                retry_base: Duration::from_millis(self.delivery_retry_ms),
                retry_max: Duration::from_secs(self.delivery_retry_max_secs.max(1)),
                unreachable_after: Duration::from_secs(self.peer_unreachable_hours * 60 * 60),
                probe_interval: Duration::from_secs(self.peer_probe_secs.max(1)),
                lease: Duration::from_secs(self.delivery_lease_secs.max(1)),
                poll_interval: Duration::from_millis(self.delivery_poll_ms.max(10)),
                ..Default::default()
            },
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Whether the user with this e-mail address operates the node.
    pub fn is_operator(&self, email: &str) -> bool {
        self.operators.iter().any(|o| o.eq_ignore_ascii_case(email))
    }

    /// Cookies get `Secure` when the node is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_values() {
        let mut c: Config =
            toml::from_str("listen = \"0.0.0.0:9000\"\npublic_url = \"https://allmende.ulm.de\"")
                .unwrap();
        assert_eq!(c.listen.port(), 9000);
        c.apply_env(|n| (n == "ALLMENDE_LISTEN").then(|| "127.0.0.1:7000".into()))
            .unwrap();
        assert_eq!(c.listen.port(), 7000);
        assert!(c.check().is_ok());
        assert!(c.secure_cookies());
        assert_eq!(c.url("/projects/1"), "https://allmende.ulm.de/projects/1");
    }

    #[test]
    fn bad_values_are_reported() {
        let mut c = Config::default();
        let err = c
            .apply_env(|n| (n == "ALLMENDE_LISTEN").then(|| "nope".into()))
            .unwrap_err();
        assert!(err.to_string().contains("ALLMENDE_LISTEN"));
        c.public_url = Url::parse("https://x.de/sub/path").unwrap();
        assert!(c.check().is_err());
        assert!(toml::from_str::<Config>("unknown = 1").is_err());
    }
}
