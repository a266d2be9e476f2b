//! Node configuration: one typed struct, read by figment from an optional
//! TOML file and then from `ALLMENDE_<KEY>` environment variables (the
//! environment wins). Every key of [`Config`] can be set either way; the
//! set of keys the environment is read for is the struct's own field list,
//! so a new setting needs no extra code. See docs/configuration.md.
//!
//! Secrets (the database URL, which may carry a password) are
//! [`SecretString`]s: their `Debug` output is redacted, so they never reach
//! a log; code that needs one calls `expose_secret`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use url::Url;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` (created if missing) or
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE` (the database must
    /// exist). Secret: it may carry a password.
    pub database_url: SecretString,
    /// Address and port the HTTP server binds to.
    pub listen: SocketAddr,
    /// The base of every public URL the node writes (links, ActivityPub
    /// ids). Scheme and host only.
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
    /// Inbox requests accepted per sending host and minute (per server
    /// process); beyond it the sender gets 429 with Retry-After. 0: no
    /// limit.
    pub inbox_requests_per_minute: u32,
    /// Allow-list mode (a closed network, say of one Land): federate only
    /// with the domains on the allow list (`allmende policy allow …`, the
    /// operations page). Off: every domain except blocked ones.
    pub federation_allowlist_only: bool,
    /// Authorized fetch (Mastodon's "secure mode"): ActivityPub documents
    /// only for signed requests of servers this node federates with, so a
    /// blocked server cannot read them either. The instance actor
    /// (`/actor`), WebFinger and NodeInfo stay open.
    pub authorized_fetch: bool,
    /// Wait before the first retry of a failed delivery (milliseconds);
    /// doubled on each further retry, up to an hour.
    pub delivery_retry_ms: u64,
    /// Longest wait between retries (seconds).
    pub delivery_retry_max_secs: u64,
    /// Attempts of one delivery before it is given up (dead, kept for
    /// operators).
    pub delivery_max_attempts: u32,
    /// Deliveries in flight at once, in all and per receiving host (per
    /// server process).
    pub delivery_concurrency: usize,
    pub delivery_per_host: usize,
    /// A peer failing this many hours without a break counts as
    /// unreachable: deliveries to it pause until it answers again.
    pub peer_unreachable_hours: u64,
    /// How often an unreachable peer is asked whether it is back (seconds).
    pub peer_probe_secs: u64,
    /// Deliveries paused this many days (their peer unreachable all along)
    /// are given up.
    pub paused_expiry_days: u64,
    /// Work given up (dead) is deleted after this many days.
    pub dead_retention_days: u64,
    /// How long a process owns the deliveries it claimed (seconds); after a
    /// crash, other processes take them over when this runs out.
    pub delivery_lease_secs: u64,
    /// How often a process looks for work queued by other processes and
    /// for retries that became due (milliseconds).
    pub delivery_poll_ms: u64,
    /// E-mail addresses of the node's operators: they see the operations
    /// page (`/admin/queue`). Organization admins are not operators. In
    /// the environment: comma-separated.
    #[serde(deserialize_with = "list_or_commas")]
    pub operators: Vec<String>,
    /// Password checks (Argon2id, 19 MiB each) running at once; further
    /// logins wait up to `login_wait_ms`, then get 503 with Retry-After.
    pub login_concurrency: usize,
    pub login_wait_ms: u64,
    /// Behind a reverse proxy: the request header that carries the client's
    /// address (`X-Forwarded-For`, of which the last entry counts, or
    /// `X-Real-IP`), for the per-client login limit. Unset: the address of
    /// the connection. Set it only when a proxy always sets the header.
    pub client_ip_header: Option<String>,
    /// The proxies allowed to name the client (`client_ip_header`): their
    /// addresses or address ranges (default: `127.0.0.1` and `::1`, a proxy
    /// on the same machine; add e.g. `10.0.0.5`, or `10.88.0.0/16` for a
    /// container network). A request from any other address counts by its
    /// connection's address, whatever its headers claim.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// Prometheus metrics at `/metrics`, for requests that carry
    /// `Authorization: Bearer <metrics_token>`. Secret. Unset (and no
    /// `metrics_listen`): no metrics are collected and `/metrics` is 404.
    pub metrics_token: Option<SecretString>,
    /// A second, separate address that serves only `/metrics`, without a
    /// token (e.g. `127.0.0.1:9464`, reachable only by the monitoring on
    /// this machine or network). Unset: none.
    pub metrics_listen: Option<SocketAddr>,
    /// Loads the districts and municipalities shipped with Allmende into
    /// an empty reference directory at start-up (see
    /// docs/data-sources.md); newer editions come by `allmende data import`.
    pub reference_data: bool,
    /// The legal pages a German public body's site needs, linked in every
    /// footer (see docs/configuration.md, "Legal pages"). The imprint
    /// (Impressum, § 5 DDG) and the privacy notice (Datenschutzerklärung,
    /// Art. 13 DSGVO) are either a link to the body's existing page
    /// (`*_url`) or text shown at `/impressum` and `/datenschutz`
    /// (`*_text`, paragraphs separated by blank lines).
    pub imprint_url: Option<Url>,
    pub imprint_text: Option<String>,
    pub privacy_url: Option<Url>,
    pub privacy_text: Option<String>,
    /// For the accessibility statement (Erklärung zur Barrierefreiheit,
    /// BITV 2.0 § 7) at `/barrierefreiheit`: where people report barriers
    /// (an e-mail address or a web form's URL) and the enforcement and
    /// arbitration body of the operator's Land (name, address, web site).
    pub accessibility_contact: Option<String>,
    pub accessibility_enforcement: Option<String>,
    /// The SMTP server for invitations, password resets and
    /// notifications: `smtp://HOST:PORT` (plain, for a relay on the same
    /// machine or tests), `smtp://USER:PASSWORD@HOST:587?tls=required`
    /// (STARTTLS) or `smtps://USER:PASSWORD@HOST:465`. Secret: it may
    /// carry a password. Unset: the node sends no e-mail (invitation links
    /// are shown to the inviting admin instead; password resets are not
    /// offered).
    pub smtp_url: Option<SecretString>,
    /// The sender of the node's e-mail, e.g. `Allmende Ulm
    /// <allmende@ulm.de>`.
    pub mail_from: Option<String>,
    /// Development and demonstrations only: instead of sending, write each
    /// mail as a file (`.eml`, readable by any mail program) into this
    /// directory. Ignored when `smtp_url` is set.
    pub mail_dir: Option<PathBuf>,
}

impl Config {
    /// The legal settings still unset, by key, for the operators' reminder
    /// and the start-up log.
    pub fn legal_missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.imprint_url.is_none() && is_blank(&self.imprint_text) {
            missing.push("imprint_url / imprint_text");
        }
        if self.privacy_url.is_none() && is_blank(&self.privacy_text) {
            missing.push("privacy_url / privacy_text");
        }
        if is_blank(&self.accessibility_contact) {
            missing.push("accessibility_contact");
        }
        if is_blank(&self.accessibility_enforcement) {
            missing.push("accessibility_enforcement");
        }
        missing
    }
}

/// A `trusted_proxies` entry as a range: `10.0.0.0/8`, or one address.
fn proxy_range(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

fn is_blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
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
            inbox_requests_per_minute: 1_200,
            federation_allowlist_only: false,
            authorized_fetch: false,
            delivery_retry_ms: 10_000,
            delivery_retry_max_secs: 60 * 60,
            delivery_max_attempts: 50,
            delivery_concurrency: 64,
            delivery_per_host: 8,
            peer_unreachable_hours: 24,
            peer_probe_secs: 60 * 60,
            paused_expiry_days: 30,
            dead_retention_days: 30,
            delivery_lease_secs: 60,
            delivery_poll_ms: 1_000,
            operators: Vec::new(),
            login_concurrency: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            login_wait_ms: 2_000,
            client_ip_header: None,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            metrics_token: None,
            metrics_listen: None,
            reference_data: true,
            imprint_url: None,
            imprint_text: None,
            privacy_url: None,
            privacy_text: None,
            accessibility_contact: None,
            accessibility_enforcement: None,
            smtp_url: None,
            mail_from: None,
            mail_dir: None,
        }
    }
}

/// A list from a TOML array, or from a comma-separated string (as an
/// environment variable carries it).
fn list_or_commas<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Items(Vec<String>),
        Commas(String),
    }
    Ok(match List::deserialize(deserializer)? {
        List::Items(items) => items,
        List::Commas(text) => text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} not found")]
    Missing { path: PathBuf },
    /// A file that is not TOML, an unknown key, a value of the wrong type:
    /// each problem names the key as it was set — `listen` in a file, or
    /// `ALLMENDE_LISTEN` — and where.
    #[error("configuration: {}", describe(.0))]
    Invalid(Box<figment::Error>),
    #[error("public_url must be an http(s) URL without path, query or fragment, e.g. https://allmende.example.de")]
    PublicUrl,
    #[error("max_body_bytes must be at least 1024")]
    BodyLimit,
    #[error("trusted_proxies: {0:?} is neither an IP address nor a range (e.g. 127.0.0.1, ::1, 10.88.0.0/16)")]
    TrustedProxy(String),
    #[error("metrics_token must be at least 16 characters (e.g. from `openssl rand -hex 32`)")]
    MetricsToken,
}

/// Every problem figment found, each with the key as the operator set it.
fn describe(errors: &figment::Error) -> String {
    errors
        .clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let key = match e.metadata.as_ref().and_then(|m| m.source.as_ref()) {
                _ if key.is_empty() => key,
                Some(figment::Source::File(path)) => format!("{key} in {}", path.display()),
                // Not from a file: from the environment.
                _ => format!("{ENV_PREFIX}{}", key.to_ascii_uppercase()),
            };
            if key.is_empty() {
                e.kind.to_string()
            } else {
                format!("{key}: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The upstream repository (the workspace's `repository`), linked from every
/// page unless configured.
pub const DEFAULT_SOURCE_URL: &str = env!("CARGO_PKG_REPOSITORY");

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_FILE: &str = "allmende.toml";

/// The file read when no `--config` is given and there is no
/// `./allmende.toml`: where the Debian package installs it, so that
/// `sudo -u allmende allmende …` manages the installed node.
pub const SYSTEM_FILE: &str = "/etc/allmende/allmende.toml";

/// The prefix of the environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "ALLMENDE_";

impl Config {
    /// Reads `path` (or `./allmende.toml`, or `/etc/allmende/allmende.toml`,
    /// the first present), then applies the environment. A missing explicit file is an error; a missing default
    /// file is not.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match path {
            Some(p) if !p.exists() => return Err(ConfigError::Missing { path: p.into() }),
            Some(p) => Some(p),
            None => [DEFAULT_FILE, SYSTEM_FILE]
                .into_iter()
                .map(Path::new)
                .find(|p| p.exists()),
        };
        let mut config: Config = Self::figment(file)
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.blank_is_unset();
        config.check()?;
        Ok(config)
    }

    /// The sources, in order: the file (if any), then every
    /// `ALLMENDE_<KEY>` variable whose key is a field of [`Config`] (other
    /// `ALLMENDE_*` variables, such as `ALLMENDE_LOG_FORMAT`, belong to
    /// other parts).
    pub fn figment(file: Option<&Path>) -> Figment {
        let keys = serde_aux::serde_introspection::serde_introspect::<Config>();
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment.merge(Env::prefixed(ENV_PREFIX).only(keys))
    }

    /// An empty value means "not set": compose files and unit files pass
    /// `ALLMENDE_X=` for variables the operator left out.
    fn blank_is_unset(&mut self) {
        fn text(value: &mut Option<String>) {
            if is_blank(value) {
                *value = None;
            }
        }
        fn secret(value: &mut Option<SecretString>) {
            if value
                .as_ref()
                .is_some_and(|v| v.expose_secret().trim().is_empty())
            {
                *value = None;
            }
        }
        secret(&mut self.metrics_token);
        secret(&mut self.smtp_url);
        text(&mut self.client_ip_header);
        text(&mut self.mail_from);
        text(&mut self.imprint_text);
        text(&mut self.privacy_text);
        text(&mut self.accessibility_contact);
        text(&mut self.accessibility_enforcement);
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
        if let Some(bad) = self
            .trusted_proxies
            .iter()
            .find(|p| proxy_range(p).is_none())
        {
            return Err(ConfigError::TrustedProxy(bad.clone()));
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().len() < 16)
        {
            return Err(ConfigError::MetricsToken);
        }
        Ok(())
    }

    /// The database URL, to connect with. Never log or print it; see
    /// [`Config::database_for_display`].
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// The database URL without its password, for messages.
    pub fn database_for_display(&self) -> String {
        allmende_store::redacted_url(self.database_url())
    }

    /// An absolute public URL for `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }

    /// How this node federates.
    pub fn federation(&self) -> allmende_federation::FederationSettings {
        let hours = |h: u64| Duration::from_secs(h.saturating_mul(60 * 60));
        allmende_federation::FederationSettings {
            public_url: self.public_url.clone(),
            allow_private_peers: self.federation_development,
            max_inbox_bytes: self.max_inbox_bytes,
            inbox_per_minute: self.inbox_requests_per_minute,
            allowlist_only: self.federation_allowlist_only,
            authorized_fetch: self.authorized_fetch,
            delivery: allmende_federation::DeliverySettings {
                concurrency: self.delivery_concurrency.max(1),
                per_host: self.delivery_per_host.max(1),
                retry_base: Duration::from_millis(self.delivery_retry_ms),
                retry_max: Duration::from_secs(self.delivery_retry_max_secs.max(1)),
                max_attempts: i64::from(self.delivery_max_attempts.max(1)),
                unreachable_after: hours(self.peer_unreachable_hours),
                probe_interval: Duration::from_secs(self.peer_probe_secs.max(1)),
                paused_expiry: hours(self.paused_expiry_days.saturating_mul(24)),
                dead_retention: hours(self.dead_retention_days.saturating_mul(24)),
                lease: Duration::from_secs(self.delivery_lease_secs.max(1)),
                poll_interval: Duration::from_millis(self.delivery_poll_ms.max(10)),
                ..Default::default()
            },
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Whether metrics are collected: someone may read them.
    pub fn metrics_enabled(&self) -> bool {
        self.metrics_token.is_some() || self.metrics_listen.is_some()
    }

    /// Whether `client_ip_header` may be believed for a connection from
    /// `peer`.
    pub fn is_trusted_proxy(&self, peer: std::net::IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.trusted_proxies
            .iter()
            .filter_map(|p| proxy_range(p))
            .any(|range| range.contains(&peer))
    }

    /// Whether the user with this e-mail address operates the node.
    pub fn is_operator(&self, email: &str) -> bool {
        self.operators.iter().any(|o| o.eq_ignore_ascii_case(email))
    }

    /// The name this node gives the cookie `base`. Browsers keep cookies
    /// per host, not per port: nodes on one host with different ports (the
    /// demo's three) would share — and overwrite — each other's session and
    /// CSRF cookies. So a node whose public URL names a port adds it to the
    /// name (`allmende_session_8081`); on the default port the name is
    /// `base` itself. On HTTPS the name starts with `__Host-`: browsers then
    /// accept the cookie only from this host over HTTPS, without a `Domain`,
    /// so a sibling subdomain cannot plant one.
    pub fn cookie_name(&self, base: &str) -> String {
        let prefix = if self.secure_cookies() { "__Host-" } else { "" };
        match self.public_url.port() {
            Some(port) => format!("{prefix}{base}_{port}"),
            None => format!("{prefix}{base}"),
        }
    }

    /// Cookies get `Secure` when the node is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

#[cfg(test)]
// figment's `Jail` closures return its (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn load(jail: &Jail) -> Result<Config, ConfigError> {
        Config::load(Some(&jail.directory().join("allmende.toml")))
    }

    #[test]
    fn the_environment_overrides_the_file_for_every_key() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "allmende.toml",
                "listen = \"0.0.0.0:9000\"\npublic_url = \"https://allmende.ulm.de\"\noperators = [\"a@ulm.de\"]\ndelivery_max_attempts = 7",
            )?;
            let c = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 9000);
            assert_eq!(c.operators, ["a@ulm.de"]);
            assert_eq!(c.delivery_max_attempts, 7);
            assert!(c.secure_cookies());
            assert_eq!(c.url("/projects/1"), "https://allmende.ulm.de/projects/1");

            jail.set_env("ALLMENDE_LISTEN", "127.0.0.1:7000");
            jail.set_env("ALLMENDE_OPERATORS", "b@ulm.de, c@ulm.de");
            jail.set_env("ALLMENDE_DEAD_RETENTION_DAYS", "3");
            jail.set_env("ALLMENDE_FEDERATION_DEVELOPMENT", "true");
            // Variables of other parts are not configuration keys.
            jail.set_env("ALLMENDE_LOG_FORMAT", "json");
            jail.set_env("ALLMENDE_REQUIRE_INTEROP", "1");
            let c = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 7000);
            assert_eq!(c.operators, ["b@ulm.de", "c@ulm.de"]);
            assert_eq!(c.dead_retention_days, 3);
            assert!(c.federation_development);
            assert_eq!(c.public_url.as_str(), "https://allmende.ulm.de/");
            Ok(())
        });
    }

    /// Every key of `Config` can be set from the environment, including
    /// keys added later: the environment provider reads the struct's own
    /// field list.
    #[test]
    fn blank_values_are_unset_and_proxies_may_be_ranges() {
        Jail::expect_with(|jail| {
            jail.create_file("allmende.toml", "")?;
            // As compose passes variables the operator did not set.
            jail.set_env("ALLMENDE_METRICS_TOKEN", "");
            jail.set_env("ALLMENDE_CLIENT_IP_HEADER", " ");
            jail.set_env("ALLMENDE_TRUSTED_PROXIES", "10.88.0.0/16, ::1");
            let c = load(jail).map_err(|e| e.to_string())?;
            assert!(c.metrics_token.is_none() && !c.metrics_enabled());
            assert!(c.client_ip_header.is_none());
            assert!(c.is_trusted_proxy("10.88.3.4".parse().unwrap()));
            assert!(c.is_trusted_proxy("::ffff:10.88.0.1".parse().unwrap()));
            assert!(!c.is_trusted_proxy("10.89.0.1".parse().unwrap()));
            jail.set_env("ALLMENDE_TRUSTED_PROXIES", "10.88.0.0/40");
            let refused = load(jail).map(|_| ()).unwrap_err().to_string();
            assert!(refused.contains("10.88.0.0/40"), "{refused}");
            Ok(())
        });
    }

    #[test]
    fn every_key_is_read_from_the_environment() {
        Jail::expect_with(|jail| {
            let keys = serde_aux::serde_introspection::serde_introspect::<Config>();
            assert!(keys.len() >= 20, "{keys:?}");
            for key in keys {
                jail.set_env(format!("{ENV_PREFIX}{}", key.to_ascii_uppercase()), "1");
            }
            let figment = Config::figment(None);
            for key in keys {
                assert!(
                    figment.find_value(key).is_ok(),
                    "{key} not read from the environment"
                );
            }
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_reported_with_their_source() {
        Jail::expect_with(|jail| {
            jail.set_env("ALLMENDE_LISTEN", "nope");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(
                err.contains("ALLMENDE_LISTEN: invalid socket address"),
                "{err}"
            );

            jail.clear_env();
            jail.create_file("allmende.toml", "listen = 8080\ndatabse_url = \"x\"")?;
            let err = load(jail).unwrap_err().to_string();
            assert!(
                err.contains("databse_url") && err.contains("allmende.toml"),
                "{err}"
            );
            jail.create_file("allmende.toml", "listen = 8080")?;
            let err = load(jail).unwrap_err().to_string();
            assert!(
                err.contains("listen in ") && err.contains("allmende.toml"),
                "{err}"
            );

            jail.create_file("allmende.toml", "public_url = \"https://x.de/sub/path\"")?;
            assert!(matches!(load(jail), Err(ConfigError::PublicUrl)));

            let missing = Config::load(Some(Path::new("nope.toml"))).unwrap_err();
            assert!(missing.to_string().contains("nope.toml"));
            Ok(())
        });
    }

    #[test]
    fn cookies_are_named_per_node_when_nodes_share_a_host() {
        let mut c = Config {
            public_url: Url::parse("https://allmende.ulm.de").unwrap(),
            ..Config::default()
        };
        // On HTTPS only this host may set it (no sibling subdomain).
        assert_eq!(c.cookie_name("allmende_session"), "__Host-allmende_session");
        c.public_url = Url::parse("https://allmende.ulm.de:8443").unwrap();
        assert_eq!(c.cookie_name("allmende_csrf"), "__Host-allmende_csrf_8443");
        c.public_url = Url::parse("http://localhost:8081").unwrap();
        assert_eq!(c.cookie_name("allmende_session"), "allmende_session_8081");
    }

    #[test]
    fn the_database_password_is_never_shown() {
        Jail::expect_with(|jail| {
            jail.set_env(
                "ALLMENDE_DATABASE_URL",
                "postgres://allmende:geheim@db.example:5432/allmende",
            );
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                c.database_url(),
                "postgres://allmende:geheim@db.example:5432/allmende"
            );
            assert!(!format!("{c:?}").contains("geheim"), "Debug redacts it");
            let shown = c.database_for_display();
            assert!(!shown.contains("geheim"), "{shown}");
            assert!(shown.contains("db.example"), "{shown}");
            Ok(())
        });
    }
}
