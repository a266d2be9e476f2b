//! The `allmende` command line.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use allmende_domain::{Email, OrganizationInput};
use allmende_store::Store;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::app::{shutdown_signal, Application};
use crate::auth::{password, token};
use crate::config::Config;
use crate::usecases::{accounts, organizations, relocation, UseCaseError};
use allmende_federation::Federation;

#[derive(Parser, Debug)]
#[command(
    name = "allmende",
    version,
    about = "Allmende: a federated exchange network for municipalities"
)]
pub struct Cli {
    /// Configuration file (default: ./allmende.toml, else
    /// /etc/allmende/allmende.toml, when present).
    #[arg(long, global = true, env = "ALLMENDE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the node.
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Check the configuration before starting the node (public URL and
    /// its name, database and schema, keys, clock, legal pages, e-mail) and
    /// say what to fix. Changes nothing; fails when the node could not work.
    Doctor,
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect the delivery queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// The federation policy: blocked, allowed and trusted domains, and the
    /// audit log of changes.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Reference data: services and places.
    #[command(subcommand)]
    Data(DataCommand),
    /// The search index.
    #[command(subcommand)]
    Search(SearchCommand),
    /// Start three federating nodes with sample data on localhost (ports
    /// from `listen` on; fresh databases under ./data/demo-*.sqlite).
    Demo,
    /// Ask the node on this machine (at `listen`) whether it is healthy:
    /// exit status 0 if `/healthz` answers 200. For container health
    /// checks, where no curl is at hand.
    Health,
    /// Copy the database, the organizations' private keys included, into a
    /// new file while the node runs (SQLite; PostgreSQL: pg_dump).
    Backup {
        /// Where the copy goes; must not exist yet.
        path: PathBuf,
    },
    /// Copy this node's SQLite database, every row, into a new, empty
    /// PostgreSQL database (for a node that outgrows one machine). Stop the
    /// node first; then set database_url to the PostgreSQL URL.
    CopyToPostgres {
        /// postgres://USER:PASSWORD@HOST/DATABASE (or set
        /// ALLMENDE_COPY_TARGET, to keep the password out of the process
        /// list).
        #[arg(env = "ALLMENDE_COPY_TARGET", hide_env_values = true)]
        target: String,
    },
    /// Replace the SQLite database with a backup made by `allmende backup`,
    /// then bring its schema up to date. Stop the node first.
    Restore {
        /// The backup file.
        path: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Import an official publication: Destatis' municipality directory
    /// (GV100AD), a LeiKa or an OZG catalogue export (CSV). The file is
    /// checked whole first; any wrong line and nothing is imported.
    Import {
        file: PathBuf,
        /// gv100ad, leika, ozg, districts or regions; guessed from the
        /// first line when not given.
        #[arg(long)]
        format: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SearchCommand {
    /// Rebuild the whole search index now (it is rebuilt by itself at
    /// start-up when a new version analyses text differently).
    Reindex,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Lists the entries and the latest changes.
    List,
    /// Adds a domain (`example.org` covers its subdomains; `host:port`
    /// exactly that) to a list: `block` (no exchange at all), `allow` (in
    /// allow-list mode only these federate) or `trust` (its organizations
    /// follow without approval).
    Add {
        kind: String,
        domain: String,
        /// Why, for the audit log.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Removes a domain from a list.
    Remove { kind: String, domain: String },
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization.
    Create {
        /// Short name in URLs, e.g. `ulm`.
        handle: String,
        #[arg(long)]
        name: String,
        /// municipality, district, association, network or it-provider.
        #[arg(long)]
        kind: String,
        /// Amtlicher Gemeindeschlüssel (8 digits).
        #[arg(long)]
        ags: Option<String>,
    },
    /// List the organizations on this node (groups marked).
    List,
    /// Write everything an organization takes to another node into FILE:
    /// profile, logo, keys, items, answers, people (with password hashes),
    /// followers and follows. The file holds private keys: keep it like a
    /// backup and delete it after the import.
    Export {
        handle: String,
        /// Where the archive goes; must not exist yet (written mode 600).
        file: PathBuf,
    },
    /// Make an organization exported from another node one of this
    /// node's, under its old handle or --handle; it asks to follow again
    /// whom it followed. Then run `org move` on the old node.
    Import {
        file: PathBuf,
        /// A new handle, when the old one is taken here.
        #[arg(long)]
        handle: Option<String>,
    },
    /// Announce to the organization's followers that it moved to its new
    /// home (the actor URL the import printed): they follow it there.
    Move {
        handle: String,
        /// The organization's actor URL on the new node, e.g.
        /// https://neu.example/orgs/ulm.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input when it is
    /// not a terminal; otherwise one is generated and printed once.
    Create {
        email: String,
        #[arg(long)]
        org: String,
        /// admin or editor.
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (shown once).
    Create {
        email: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Depth of the delivery queue, its oldest entry and failing peers.
    Status {
        /// Print JSON instead of text (for monitoring).
        #[arg(long)]
        json: bool,
    },
    /// Work that does not finish by itself: dead jobs (out of attempts or
    /// refused, with their last error) and deliveries paused for
    /// unreachable peers, per peer.
    Stuck {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Start dead work over and try paused peers again at once.
    Retry(QueueScope),
    /// Delete dead work and paused deliveries.
    Drop(QueueScope),
}

/// Which stuck work a queue command acts on.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct QueueScope {
    /// The work of one peer (host or host:port, as `queue stuck` lists it).
    #[arg(long)]
    peer: Option<String>,
    /// This node's dead announcements (changes no activity could be built for).
    #[arg(long)]
    local: bool,
    /// All stuck work.
    #[arg(long)]
    all: bool,
}

impl QueueScope {
    fn scope(&self) -> allmende_store::Scope {
        match (&self.peer, self.local) {
            (Some(peer), _) => allmende_store::Scope::Peer(peer.trim().to_ascii_lowercase()),
            (None, true) => allmende_store::Scope::Local,
            (None, false) => allmende_store::Scope::All,
        }
    }
}

/// Stuck work as text for a terminal.
fn stuck_report(stuck: &[allmende_store::StuckWork]) -> String {
    use std::fmt::Write;
    if stuck.is_empty() {
        return "nothing stuck\n".into();
    }
    let mut out = String::new();
    for work in stuck {
        let _ = writeln!(
            out,
            "{}  {} {:?} x{}  since {}  last error: {}",
            work.peer.as_deref().unwrap_or("(this node)"),
            if work.paused { "paused" } else { "dead" },
            work.kind,
            work.count,
            work.since.to_rfc3339(),
            work.last_error.as_deref().unwrap_or("-"),
        );
    }
    out
}

/// The queue status as text for a terminal.
fn queue_report(status: &allmende_store::QueueStatus) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "announcements waiting  {}", status.events);
    let _ = writeln!(
        out,
        "deliveries pending     {} (due {}, in flight {}, retrying {}, paused {})",
        status.deliveries, status.due, status.in_flight, status.retrying, status.paused
    );
    let _ = writeln!(
        out,
        "dead work              {} (see `allmende queue stuck`)",
        status.dead
    );
    match status.oldest_pending {
        Some(t) => {
            let age = chrono::Utc::now() - t;
            let _ = writeln!(
                out,
                "oldest pending         {} ({} s ago)",
                t.to_rfc3339(),
                age.num_seconds()
            );
        }
        None => {
            let _ = writeln!(out, "oldest pending         -");
        }
    }
    if status.failing_peers.is_empty() {
        let _ = writeln!(out, "failing peers          none");
    } else {
        let _ = writeln!(out, "failing peers:");
        for peer in &status.failing_peers {
            let _ = writeln!(
                out,
                "  {}  failing since {}  {}  pending {}  last error: {}",
                peer.host,
                peer.failing_since.to_rfc3339(),
                match peer.unreachable_since {
                    Some(t) => format!("UNREACHABLE since {}", t.to_rfc3339()),
                    None => "reachable".into(),
                },
                peer.pending,
                peer.last_error.as_deref().unwrap_or("-"),
            );
        }
    }
    out
}

/// `GET /healthz` on the node's own listen address (a wildcard address is
/// asked on loopback).
async fn health(config: &Config) -> anyhow::Result<()> {
    let mut address = config.listen;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let response = reqwest::Client::new()
        .get(format!("http://{address}/healthz"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .with_context(|| format!("cannot reach the node at {address}"))?;
    if response.status() == reqwest::StatusCode::OK {
        println!("healthy: {address}");
        Ok(())
    } else {
        bail!("unhealthy: {address} answered {}", response.status())
    }
}

fn explain(e: UseCaseError) -> anyhow::Error {
    match e {
        UseCaseError::Invalid(v) => anyhow::anyhow!("{v}"),
        UseCaseError::NotFound => anyhow::anyhow!("not found"),
        other => anyhow::anyhow!(other.to_string()),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Command::Doctor) {
        // The doctor reports a configuration that does not load, too.
        return crate::doctor::run(cli.config.as_deref()).await;
    }
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run_until(shutdown_signal()).await
        }
        // Answered above, before the configuration is loaded.
        Command::Doctor => crate::doctor::run(cli.config.as_deref()).await,
        Command::Migrate => {
            let store = Store::open(config.database_url()).await?;
            store.close().await;
            println!("database is up to date: {}", config.database_for_display());
            Ok(())
        }
        Command::Org(OrgCommand::Create {
            handle,
            name,
            kind,
            ags,
        }) => {
            let store = Store::open(config.database_url()).await?;
            let input = OrganizationInput {
                name: Some(name),
                kind: Some(kind),
                ags,
                ..Default::default()
            };
            let org = organizations::create(&store, &handle, &input)
                .await
                .map_err(explain)?;
            println!("created organization {} ({})", org.handle, org.profile.name);
            store.close().await;
            Ok(())
        }
        Command::Org(OrgCommand::List) => {
            let store = Store::open(config.database_url()).await?;
            for org in store.organizations().list().await? {
                let kind = org.profile.kind;
                let group = if kind.is_group() { " (group)" } else { "" };
                println!(
                    "{}\t{}{group}\t{}",
                    org.handle,
                    kind.slug(),
                    org.profile.name
                );
            }
            store.close().await;
            Ok(())
        }
        Command::Org(OrgCommand::Export { handle, file }) => {
            let (store, federation) = federation_for_tools(&config).await?;
            let archive = relocation::export(&store, &federation, &handle)
                .await
                .map_err(explain)?;
            store.close().await;
            write_private_file(&file, &serde_json::to_vec_pretty(&archive)?)?;
            println!(
                "exported {handle}: {} items, {} answers, {} people, {} followers, {} follows into {}",
                archive.items.len(),
                archive.answers.len(),
                archive.people.len(),
                archive.followers.len(),
                archive.following.len(),
                file.display()
            );
            println!("the file holds the organization's private keys and password hashes: move it safely and delete it after the import");
            Ok(())
        }
        Command::Org(OrgCommand::Import { file, handle }) => {
            let text =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let archive: allmende_store::OrganizationArchive = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not an organization archive", file.display()))?;
            let (store, federation) = federation_for_tools(&config).await?;
            let imported = relocation::import(
                &store,
                &federation,
                &archive,
                handle.as_deref(),
                &config.operators,
            )
            .await
            .map_err(explain);
            store.close().await;
            let imported = imported?;
            let stored = &imported.stored;
            let org = &imported.organization;
            println!(
                "imported {}: {} items, {} answers, {} people; {} followers will be accepted when they follow",
                org.handle, stored.items, stored.answers, stored.people, stored.expected_followers
            );
            if stored.answers_skipped > 0 {
                println!(
                    "{} answers not imported: their questions are not known on this node",
                    stored.answers_skipped
                );
            }
            println!(
                "asked to follow {} organizations again",
                imported.follows_requested
            );
            for (target, reason) in &imported.follows_failed {
                println!("could not follow {target} again: {reason}");
            }
            println!(
                "now, on the old node: allmende org move {} --to {}",
                archive.organization.handle,
                federation.urls().organization(org.handle.as_str())
            );
            Ok(())
        }
        Command::Org(OrgCommand::Move { handle, to }) => {
            let (store, federation) = federation_for_tools(&config).await?;
            let moved = relocation::announce_move(&store, &federation, &handle, &to)
                .await
                .map_err(explain);
            store.close().await;
            let moved = moved?;
            println!(
                "{} moved to {to}; its followers are told when the node delivers (it must be running)",
                moved.handle
            );
            Ok(())
        }
        Command::User(UserCommand::Create { email, org, role }) => {
            let store = Store::open(config.database_url()).await?;
            let stdin = std::io::stdin();
            let mut typed = String::new();
            if !stdin.is_terminal() {
                stdin
                    .lock()
                    .read_line(&mut typed)
                    .context("reading the password from stdin")?;
            }
            let typed = typed.trim_end_matches(['\r', '\n']).to_owned();
            let (pw, generated) = if typed.is_empty() {
                (password::generate(), true)
            } else {
                (typed, false)
            };
            let user = accounts::create_user(&store, &email, &org, &role, &pw)
                .await
                .map_err(|e| match e {
                    UseCaseError::NotFound => {
                        anyhow::anyhow!("no organization with handle {org:?}")
                    }
                    other => explain(other),
                })?;
            println!("created user {} ({}) for {org}", user.email, user.role);
            if generated {
                println!("password (shown once): {pw}");
            }
            store.close().await;
            Ok(())
        }
        Command::Token(TokenCommand::Create { email, label }) => {
            let store = Store::open(config.database_url()).await?;
            let email =
                Email::parse(&email).map_err(|p| anyhow::anyhow!("email {}", p.message_en()))?;
            let Some((user, _)) = store.accounts().credentials(&email).await? else {
                bail!("no user with e-mail {email}");
            };
            let (secret, _) = token::create(&store, user.id, &label).await?;
            println!("{secret}");
            store.close().await;
            Ok(())
        }
        Command::Queue(QueueCommand::Status { json }) => {
            let store = Store::open(config.database_url()).await?;
            let status = store.queue().status(chrono::Utc::now()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{}", queue_report(&status));
            }
            store.close().await;
            Ok(())
        }
        Command::Queue(QueueCommand::Stuck { json }) => {
            let store = Store::open(config.database_url()).await?;
            let stuck = store.queue().stuck().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stuck)?);
            } else {
                print!("{}", stuck_report(&stuck));
            }
            store.close().await;
            Ok(())
        }
        Command::Queue(QueueCommand::Retry(scope)) => {
            let store = Store::open(config.database_url()).await?;
            let touched = store
                .queue()
                .retry(&scope.scope(), chrono::Utc::now())
                .await?;
            println!(
                "retrying {} dead jobs ({} announcements, {} deliveries, {} received activities, {} imports); {} paused peers tried again",
                touched.total(), touched.announcements, touched.deliveries, touched.activities, touched.backfills, touched.peers
            );
            store.close().await;
            Ok(())
        }
        Command::Queue(QueueCommand::Drop(scope)) => {
            let store = Store::open(config.database_url()).await?;
            let touched = store.queue().drop_stuck(&scope.scope()).await?;
            println!(
                "dropped {} jobs ({} announcements, {} deliveries, {} received activities, {} imports)",
                touched.total(), touched.announcements, touched.deliveries, touched.activities, touched.backfills
            );
            store.close().await;
            Ok(())
        }
        Command::Policy(command) => {
            let store = Store::open(config.database_url()).await?;
            // Who made a change, for the audit log: the operator's login
            // name on this machine, if known.
            let actor = format!(
                "cli ({})",
                std::env::var("SUDO_USER")
                    .or_else(|_| std::env::var("USER"))
                    .unwrap_or_else(|_| "unknown".into())
            );
            match command {
                PolicyCommand::List => {
                    let (entries, log) = crate::usecases::policy::overview(&store)
                        .await
                        .map_err(explain)?;
                    if config.federation_allowlist_only {
                        println!("allow-list mode: only allowed domains federate");
                    }
                    for e in &entries {
                        println!("{:<6} {:<40} {}", e.kind.slug(), e.domain, e.note);
                    }
                    if entries.is_empty() {
                        println!("no entries");
                    }
                    println!("\nlatest changes:");
                    for a in log.iter().take(20) {
                        println!(
                            "{} {} {} {} {} {}",
                            a.at.format("%Y-%m-%d %H:%M"),
                            a.actor,
                            a.action,
                            a.kind.slug(),
                            a.domain,
                            a.note
                        );
                    }
                }
                PolicyCommand::Add { kind, domain, note } => {
                    let domain = crate::usecases::policy::add_entry(
                        &store,
                        config.public_url.host_str(),
                        &actor,
                        &domain,
                        &kind,
                        &note,
                    )
                    .await
                    .map_err(explain)?;
                    println!("added {domain} to {kind}; running nodes apply it within a minute");
                }
                PolicyCommand::Remove { kind, domain } => {
                    crate::usecases::policy::remove_entry(&store, &actor, &domain, &kind)
                        .await
                        .map_err(|e| match e {
                            UseCaseError::NotFound => {
                                anyhow::anyhow!("{domain} is not on the {kind} list")
                            }
                            other => explain(other),
                        })?;
                    println!(
                        "removed {domain} from {kind}; running nodes apply it within a minute"
                    );
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Data(DataCommand::Import { file, format }) => {
            let format = match format.as_deref() {
                None => None,
                Some(name) => Some(allmende_domain::reference::Format::parse(name).ok_or_else(
                    || {
                        anyhow::anyhow!(
                            "--format {name}: use gv100ad, leika, ozg, districts or regions"
                        )
                    },
                )?),
            };
            let store = Store::open(config.database_url()).await?;
            let result = crate::usecases::reference::import_file(&store, &file, format).await;
            store.close().await;
            let imported = result?;
            println!(
                "imported {} services and {} places from {} ({:?})",
                imported.services,
                imported.places,
                file.display(),
                imported.format
            );
            Ok(())
        }
        Command::Search(SearchCommand::Reindex) => {
            let store = Store::open(config.database_url()).await?;
            let written = store.search().rebuild().await;
            store.close().await;
            println!("search index rebuilt: {} rows", written?);
            Ok(())
        }
        Command::Demo => crate::demo::run(config).await,
        Command::Health => health(&config).await,
        Command::CopyToPostgres { target } => {
            // Never a new, empty SQLite file copied by mistake.
            match allmende_store::sqlite_path(config.database_url()) {
                Some(file) if !file.try_exists().unwrap_or(false) => bail!(
                    "no database at {} (database_url {}): nothing to copy",
                    file.display(),
                    config.database_for_display()
                ),
                _ => {}
            }
            let from = Store::connect(config.database_url()).await?;
            if from.engine() != allmende_store::Engine::Sqlite {
                bail!(
                    "database_url is {}, not SQLite: nothing to copy",
                    config.database_for_display()
                );
            }
            let shown = allmende_store::redacted_url(&target);
            let to = Store::connect(&target)
                .await
                .with_context(|| format!("cannot open {shown}"))?;
            let report = from.copy_into_postgres(&to).await;
            from.close().await;
            to.close().await;
            let report = report.with_context(|| format!("copying into {shown}"))?;
            let rows: u64 = report.tables.iter().map(|(_, n)| n).sum();
            for (table, count) in &report.tables {
                println!("{count:>9}  {table}");
            }
            println!(
                "copied {rows} rows in {} tables into {shown}; search index rebuilt ({} entries)",
                report.tables.len(),
                report.search_entries
            );
            println!("now set database_url to that URL (ALLMENDE_DATABASE_URL) and start the node; keep the SQLite file as a backup");
            Ok(())
        }
        Command::Backup { path } => {
            backup(&config, &path).await?;
            println!(
                "backup written: {} (it holds the organizations' private keys: keep it as safe as the database)",
                path.display()
            );
            Ok(())
        }
        Command::Restore { path, force } => {
            let target = restore(&config, &path, force).await?;
            println!("restored {} into {}", path.display(), target.display());
            Ok(())
        }
    }
}

/// The store and federation layer for a command that needs the node's
/// names or fetches from other nodes, without serving or running jobs
/// (the running node delivers what the command records).
async fn federation_for_tools(config: &Config) -> anyhow::Result<(Store, Federation)> {
    config.check()?;
    let store = Store::open(config.database_url()).await?;
    let federation = Federation::new(store.clone(), config.federation())?;
    federation.reload_policy().await?;
    Ok((store, federation))
}

/// Writes `bytes` into a new file only its owner can read.
fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("{} (it must not exist yet)", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// The file of a `sqlite://PATH[?…]` database URL.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && file != ":memory:").then(|| PathBuf::from(file))
}

/// `allmende backup PATH`: a consistent copy of a running node's SQLite
/// database.
pub async fn backup(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    if path.exists() {
        bail!("{} exists already; choose a new file", path.display());
    }
    let store = Store::open(config.database_url()).await?;
    let done = store.backup_into(path).await;
    store.close().await;
    done.with_context(|| format!("backup into {}", path.display()))
}

/// `allmende restore PATH`: the backup is checked (a SQLite database of
/// Allmende, intact), copied over the configured database (only with
/// `force` if one exists) and migrated. Returns the database file.
pub async fn restore(
    config: &Config,
    path: &std::path::Path,
    force: bool,
) -> anyhow::Result<PathBuf> {
    let Some(target) = sqlite_file(config.database_url()) else {
        bail!("restore replaces a SQLite database file; a PostgreSQL database is restored with pg_restore (see docs/operations.md)");
    };
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    if target.exists() && !force {
        bail!(
            "{} exists; stop the node and run restore again with --force to replace it",
            target.display()
        );
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // The backup is checked as a copy beside the database (opening a file
    // may change its journal mode; the backup itself stays as it was).
    let incoming = PathBuf::from(format!("{}.restoring", target.display()));
    std::fs::copy(path, &incoming)?;
    let checked = match Store::connect(&format!("sqlite://{}", incoming.display())).await {
        Ok(store) => {
            let verdict = store.check_backup().await;
            store.close().await;
            verdict.map_err(anyhow::Error::from)
        }
        Err(e) => Err(e.into()),
    };
    if let Err(e) = checked {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", incoming.display()));
        }
        return Err(e.context(format!(
            "{} is not an intact Allmende backup",
            path.display()
        )));
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
    }
    std::fs::rename(&incoming, &target)?;
    let store = Store::open(config.database_url()).await?;
    store.close().await;
    Ok(target)
}
