//! `allmende doctor`: checks a configuration before the node starts (or
//! while it runs) and says, for each problem, what to fix. It changes
//! nothing: it does not create a SQLite file, migrate, or send mail.
//!
//! A *failure* keeps the node from working as a member of the network
//! (no https, a name nobody can resolve, no database, unreadable keys, a
//! clock far off); a *warning* is something an operator should decide
//! about (legal pages, e-mail, pending migrations).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use allmende_federation::keys::{Ed25519Key, SigningKey};
use allmende_store::Store;
use chrono::Utc;

use crate::config::Config;

/// HTTP signatures of other servers are accepted within a few minutes of
/// this node's clock (and ours there): beyond this, federation fails.
const CLOCK_FAIL_SECS: i64 = 300;
const CLOCK_WARN_SECS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug)]
pub struct Finding {
    pub level: Level,
    pub what: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        write!(f, "{level}  {}", self.what)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n      → {fix}")?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Report(Vec<Finding>);

impl Report {
    fn ok(&mut self, what: impl Into<String>) {
        self.push(Level::Ok, what.into(), None);
    }
    fn warn(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.push(Level::Warn, what.into(), Some(fix.into()));
    }
    fn fail(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.push(Level::Fail, what.into(), Some(fix.into()));
    }
    fn push(&mut self, level: Level, what: String, fix: Option<String>) {
        self.0.push(Finding { level, what, fix });
    }
}

/// Runs every check on the configuration at `path` (or the default one)
/// and returns the findings in order.
pub async fn check(path: Option<&Path>) -> Vec<Finding> {
    let mut report = Report::default();
    let config = match Config::load(path) {
        Ok(config) => {
            report.ok("configuration read");
            config
        }
        Err(e) => {
            report.fail(
                e.to_string(),
                "correct the configuration (docs/configuration.md lists every key)",
            );
            return report.0;
        }
    };
    check_public_url(&config, &mut report).await;
    check_listen(&config, &mut report).await;
    if let Some(store) = check_database(&config, &mut report).await {
        check_keys(&store, &mut report).await;
        check_database_clock(&store, &mut report).await;
        store.close().await;
    }
    check_clock_sync(&mut report).await;
    check_legal_pages(&config, &mut report);
    check_mail(&config, &mut report);
    if config.operators.is_empty() {
        report.warn(
            "no operators: nobody sees the operations page (queue, policy, audit)",
            "set operators to the e-mail addresses of the people who run the node",
        );
    }
    report.0
}

async fn check_public_url(config: &Config, report: &mut Report) {
    let url = &config.public_url;
    let development = config.federation_development;
    if url.scheme() == "https" {
        report.ok(format!("public_url {url} uses https"));
        if development {
            report.warn(
                "federation_development is on: the node federates over plain http and with private addresses",
                "turn federation_development off on a node others reach (it allows requests into your network)",
            );
        }
    } else if development {
        report.warn(
            format!(
                "public_url {url} is plain http (accepted because federation_development is on)"
            ),
            "use https for any node that other nodes reach",
        );
    } else {
        report.fail(
            format!("public_url {url} is not https: other nodes refuse plain http"),
            "serve the node over https (a reverse proxy, docs/configuration.md) and set public_url to that address",
        );
    }
    let Some(host) = url.host_str() else {
        return;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        let problem = format!("public_url names an address ({host}), not a host name");
        let fix = "use a DNS name: ids built from an address break when it changes";
        if development {
            report.warn(problem, fix);
        } else {
            report.fail(problem, fix);
        }
        return;
    }
    let reserved = [".invalid", ".example", ".test", ".localhost", ".local"]
        .iter()
        .any(|suffix| host.ends_with(suffix))
        || host == "localhost";
    if reserved && !development {
        report.fail(
            format!("public_url's host {host} is a name reserved for tests or local use: no other node can reach it"),
            "set public_url to the node's public DNS name",
        );
        return;
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host.to_owned(), port)),
    )
    .await;
    match lookup {
        Ok(Ok(addresses)) => {
            let addresses: Vec<IpAddr> = addresses.map(|a| a.ip()).collect();
            let public = addresses.iter().any(|a| is_public(*a));
            if public || development {
                report.ok(format!("{host} resolves ({})", list(&addresses)));
            } else {
                report.warn(
                    format!(
                        "{host} resolves only to private or loopback addresses ({}): nodes outside your network cannot reach it",
                        list(&addresses)
                    ),
                    "publish a public DNS record, unless the network is meant to be internal",
                );
            }
        }
        Ok(Err(e)) => report.fail(
            format!("{host} does not resolve: {e}"),
            "create the DNS record for public_url's host",
        ),
        Err(_) => report.fail(
            format!("looking up {host} took longer than 5 s"),
            "check this machine's DNS resolver",
        ),
    }
}

fn list(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether other servers on the internet could reach this address.
fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

async fn check_listen(config: &Config, report: &mut Report) {
    match tokio::net::TcpListener::bind(config.listen).await {
        Ok(_) => report.ok(format!("listen address {} is free", config.listen)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => report.warn(
            format!("listen address {} is in use", config.listen),
            "if the node is not already running there, stop what is, or choose another listen address",
        ),
        Err(e) => report.fail(
            format!("cannot listen on {}: {e}", config.listen),
            "choose an address of this machine (ports below 1024 need privileges: use 8080 behind a proxy)",
        ),
    }
}

async fn check_database(config: &Config, report: &mut Report) -> Option<Store> {
    let shown = config.database_for_display();
    let url = config.database_url();
    if let Some(file) = allmende_store::sqlite_path(url) {
        match file.try_exists() {
            Ok(true) => {}
            Ok(false) => {
                report.warn(
                    format!("database {shown} does not exist: the node creates a new, empty one at its first start"),
                    "fine for a new node; if this node has data, database_url names the wrong file (relative paths count from the working directory)",
                );
                return None;
            }
            Err(e) => {
                report.fail(
                    format!("cannot look at the database file {}: {e}", file.display()),
                    "run the doctor as the node's user (sudo -u allmende allmende doctor)",
                );
                return None;
            }
        }
    }
    let connected = tokio::time::timeout(Duration::from_secs(10), Store::connect(url)).await;
    let store = match connected {
        Ok(Ok(store)) => store,
        Ok(Err(e)) => {
            report.fail(
                format!("cannot open the database {shown}: {e}"),
                "check database_url, that the database server runs and that this user may use the database",
            );
            return None;
        }
        Err(_) => {
            report.fail(
                format!("the database {shown} did not answer within 10 s"),
                "check database_url and the database server",
            );
            return None;
        }
    };
    match store.migration_state().await {
        Ok(state) if state.unknown > 0 => report.fail(
            format!(
                "the database {shown} has {} migrations this version does not know: a newer Allmende wrote it",
                state.unknown
            ),
            "run the newer version again, or restore a backup made before the upgrade (migrations only go forward)",
        ),
        Ok(state) if state.pending > 0 => report.warn(
            format!(
                "the database {shown} lacks {} of this version's {} migrations",
                state.pending,
                state.pending + state.applied
            ),
            "back up, then `allmende migrate` (or let `allmende serve` apply them at start)",
        ),
        Ok(state) => report.ok(format!(
            "database {shown} answers; schema up to date ({} migrations)",
            state.applied
        )),
        Err(e) => report.fail(
            format!("cannot read the schema version of {shown}: {e}"),
            "check that database_url names an Allmende database",
        ),
    }
    Some(store)
}

async fn check_keys(store: &Store, report: &mut Report) {
    let keys = match store.keys().all().await {
        Ok(keys) => keys,
        // An empty or half-migrated database: said above.
        Err(_) => return,
    };
    let unreadable: Vec<&str> = keys
        .iter()
        .filter(|(_, key)| {
            SigningKey::from_stored(key).is_err() && Ed25519Key::from_stored(key).is_err()
        })
        .map(|(owner, _)| owner.as_str())
        .collect();
    if unreadable.is_empty() {
        report.ok(format!("{} signing keys readable", keys.len()));
    } else {
        report.fail(
            format!("unreadable signing keys of: {}", unreadable.join(", ")),
            "restore the keys from a backup: other nodes know these actors by them (docs/operations.md, \"Backup and restore\")",
        );
    }
}

async fn check_database_clock(store: &Store, report: &mut Report) {
    let Ok(Some(theirs)) = store.database_clock().await else {
        return;
    };
    let skew = (Utc::now() - theirs).num_seconds().abs();
    let what = format!("this machine's clock and the database server's differ by {skew} s");
    let fix = "run time synchronisation (NTP, e.g. systemd-timesyncd or chrony) on both machines";
    if skew > CLOCK_FAIL_SECS {
        report.fail(what, fix);
    } else if skew > CLOCK_WARN_SECS {
        report.warn(what, fix);
    } else {
        report.ok(what);
    }
}

/// HTTP signatures carry the time: a clock minutes off makes other nodes
/// refuse every delivery. Where systemd keeps time, ask it.
async fn check_clock_sync(report: &mut Report) {
    let asked = tokio::process::Command::new("timedatectl")
        .args(["show", "--property=NTPSynchronized", "--value"])
        .output()
        .await;
    match asked {
        Ok(out) if out.status.success() => {
            if String::from_utf8_lossy(&out.stdout).trim() == "yes" {
                report.ok("the clock is synchronised (NTP)");
            } else {
                report.warn(
                    "the clock is not synchronised: other nodes refuse signatures dated minutes off",
                    "enable time synchronisation (timedatectl set-ntp true, or chrony)",
                );
            }
        }
        _ => report.warn(
            "could not ask timedatectl whether the clock is synchronised",
            "make sure this machine keeps time by NTP: HTTP signatures are refused when the clock is minutes off",
        ),
    }
}

fn check_legal_pages(config: &Config, report: &mut Report) {
    let missing = config.legal_missing();
    if missing.is_empty() {
        report.ok("legal pages set (imprint, privacy notice, accessibility statement)");
    } else {
        report.warn(
            format!("legal pages not set: {}", missing.join(", ")),
            "a public body's site needs them: set these keys (docs/configuration.md, \"Legal pages\")",
        );
    }
}

fn check_mail(config: &Config, report: &mut Report) {
    if let Err(e) = crate::mail::Mailer::from_config(config) {
        report.fail(
            format!("e-mail settings: {e}"),
            "correct smtp_url or mail_from (docs/configuration.md, \"E-mail\")",
        );
        return;
    }
    match (&config.smtp_url, &config.mail_dir) {
        (Some(_), _) => report.ok("e-mail goes out over SMTP"),
        (None, Some(dir)) => report.warn(
            format!("e-mail is written to files in {} instead of sent", dir.display()),
            "set smtp_url on a real node",
        ),
        (None, None) => report.warn(
            "no e-mail: invitations are shown as links to pass on, and nobody can reset a forgotten password",
            "set smtp_url and mail_from",
        ),
    }
}

/// Prints the report; an error when anything failed.
pub async fn run(path: Option<&Path>) -> anyhow::Result<()> {
    let findings = check(path).await;
    for finding in &findings {
        println!("{finding}");
    }
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    let (warnings, failures) = (count(Level::Warn), count(Level::Fail));
    println!("{warnings} warnings, {failures} failures");
    if failures > 0 {
        anyhow::bail!(
            "{failures} problems keep this node from working; fix them before starting it"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_are_found_in_urls() {
        use allmende_store::sqlite_path;
        assert_eq!(
            sqlite_path("sqlite:///var/lib/allmende/allmende.sqlite"),
            Some(Path::new("/var/lib/allmende/allmende.sqlite"))
        );
        assert_eq!(
            sqlite_path("sqlite://data/allmende.sqlite?mode=rwc"),
            Some(Path::new("data/allmende.sqlite"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://db/allmende"), None);
    }

    #[test]
    fn private_addresses_are_not_public() {
        for private in [
            "10.1.2.3",
            "192.168.0.1",
            "127.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "100.64.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["141.76.1.1", "2a00:1450::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
