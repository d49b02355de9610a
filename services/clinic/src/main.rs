//! `clinic`: runs the clinic's services — all four in one process (`clinic up`) or one at a time
//! (`clinic serve billing`) — applies migrations, seeds a demo clinic and issues bearer tokens.

mod config;
mod demo;
mod run;
mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::TimeDelta;
use clap::{Parser, Subcommand};
use clinic_common::auth::{Role, TokenKey};
use clinic_common::clock::{Clock, SystemClock};

use config::{Config, Service};

#[derive(Debug, Parser)]
#[command(
    name = "clinic",
    version,
    about = "Run the clinic front-office services"
)]
struct Cli {
    /// Configuration file (TOML); defaults are built in, see deploy/config/clinic.toml.
    #[arg(long, global = true, env = "CLINIC_CONFIG")]
    config: Option<PathBuf>,
    /// Where SQLite files and the generated signing key live (overrides `data_dir`).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run all four services in this process, each on its own port, until Ctrl-C.
    Up {
        /// Seed a demo clinic (once per data directory) and print ready-made tokens.
        #[arg(long)]
        demo: bool,
    },
    /// Run one service until Ctrl-C or SIGTERM.
    Serve {
        #[arg(value_enum)]
        service: Service,
    },
    /// Apply database migrations and exit (all services unless some are named).
    Migrate {
        #[arg(value_enum)]
        services: Vec<Service>,
    },
    /// Ask every configured service for its health and the gRPC services it advertises.
    Status,
    /// Ask one service at ADDRESS (host:port) for its health; exit 0 only when SERVING. For
    /// container health checks and scripts.
    Health {
        /// The service's address, e.g. 127.0.0.1:50053.
        address: String,
        /// The health service name to ask about: empty for the service as a whole (its database
        /// answers), `liveness` for the process alone.
        #[arg(long, default_value = "")]
        service: String,
    },
    /// Bearer tokens for staff, kiosks and services.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Sign a token and print it.
    Issue {
        /// kiosk, reception, collections, manager or service.
        #[arg(long)]
        role: Role,
        /// Who the token speaks for, e.g. `reception:maria` or `kiosk:lobby-1`.
        #[arg(long)]
        subject: String,
        /// Hours the token stays valid.
        #[arg(long, default_value_t = 12, conflicts_with = "no_expiry")]
        ttl_hours: i64,
        /// Never expire (enrolled kiosks and services).
        #[arg(long)]
        no_expiry: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(data_dir) = cli.data_dir {
        config.data_dir = data_dir;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async move {
        // Inside the runtime: the span exporter's gRPC channel lives on it.
        let _telemetry = clinic_common::telemetry::init_with(
            "info,sqlx=warn",
            config.log_format,
            &config.telemetry,
        )?;
        match cli.command {
            Command::Up { demo } => run::up(config, demo, started).await,
            Command::Serve { service } => run::serve_one(config, service).await,
            Command::Migrate { services } => run::migrate(config, &services).await,
            Command::Status => status::print(&config).await,
            Command::Health { address, service } => status::check(&address, &service).await,
            Command::Token { command } => issue_token(&config, command),
        }
    })
}

fn issue_token(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Issue {
        role,
        subject,
        ttl_hours,
        no_expiry,
    } = command;
    anyhow::ensure!(!subject.trim().is_empty(), "--subject must not be empty");
    anyhow::ensure!(ttl_hours > 0, "--ttl-hours must be positive");
    let key = TokenKey::from_secret(&config.signing_key(false)?)?;
    let ttl = (!no_expiry).then(|| TimeDelta::hours(ttl_hours));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    println!("{}", key.issue(subject.trim(), role, clock.now(), ttl));
    Ok(())
}
