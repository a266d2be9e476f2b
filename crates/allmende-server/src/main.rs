use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Logs go to stderr so that stdout carries only what commands print for
/// people and scripts (tokens, passwords, demo logins).
#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("ALLMENDE_LOG_FORMAT").is_ok_and(|f| f == "json");
    if json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .json()
            .init();
    } else {
        // Colours only on a terminal, not in log files and journals.
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    let cli = allmende_server::cli::Cli::parse();
    match allmende_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
