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
use crate::usecases::{accounts, organizations, UseCaseError};

#[derive(Parser, Debug)]
#[command(
    name = "allmende",
    version,
    about = "Allmende: a federated exchange network for municipalities"
)]
pub struct Cli {
    /// Configuration file (default: ./allmende.toml when present).
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
    /// Start three federating nodes with sample data on localhost (ports
    /// from `listen` on; fresh databases under ./data/demo-*.sqlite).
    Demo,
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

fn explain(e: UseCaseError) -> anyhow::Error {
    match e {
        UseCaseError::Invalid(v) => anyhow::anyhow!("{v}"),
        UseCaseError::NotFound => anyhow::anyhow!("not found"),
        other => anyhow::anyhow!(other.to_string()),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => {
            let store = Store::open(&config.database_url).await?;
            store.close().await;
            println!("database is up to date: {}", config.database_url);
            Ok(())
        }
        Command::Org(OrgCommand::Create {
            handle,
            name,
            kind,
            ags,
        }) => {
            let store = Store::open(&config.database_url).await?;
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
        Command::User(UserCommand::Create { email, org, role }) => {
            let store = Store::open(&config.database_url).await?;
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
            let store = Store::open(&config.database_url).await?;
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
            let store = Store::open(&config.database_url).await?;
            let status = store.outbox().status(chrono::Utc::now()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{}", queue_report(&status));
            }
            store.close().await;
            Ok(())
        }
        Command::Demo => crate::demo::run(config).await,
    }
}
