//! Starting, watching and stopping services.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::TimeDelta;
use clinic_common::auth::{Role, TokenKey};
use clinic_common::clock::{Clock, SharedClock, SystemClock};
use clinic_common::metrics::AdminServer;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::config::{Config, Service};
use crate::demo;

/// How long `clinic up` waits for every service to report SERVING.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Tokens printed by `clinic up --demo` stay valid this long.
const DEMO_TOKEN_TTL_DAYS: i64 = 30;

/// Runs all four services until Ctrl-C or SIGTERM.
pub async fn up(config: Config, seed_demo: bool, started: Instant) -> anyhow::Result<()> {
    let mut signals = ShutdownSignals::install()?;
    clinic_common::db::set_migration_mode(config.migrations);
    let clock: SharedClock = Arc::new(SystemClock);
    let auth = config.auth_settings(true)?;
    let (stop, stopped) = watch::channel(false);
    let mut services = JoinSet::new();
    for service in Service::ALL {
        let (addr, run) = build(&config, service, &auth, clock.clone(), stopped.clone()).await?;
        tracing::info!(service = service.name(), %addr, "listening");
        services.spawn(async move { (service, run.await) });
    }

    wait_until_serving(&config).await?;
    let ready = started.elapsed();
    tracing::info!(
        elapsed_ms = ready.as_millis() as u64,
        "all four services are serving"
    );

    let key = TokenKey::from_secret(&auth.signing_key)?;
    let mut device_configs = Vec::new();
    if seed_demo {
        demo::seed_once(&config, &key, clock.as_ref()).await?;
        device_configs = demo::write_device_configs(&config, &key, clock.as_ref())?;
    }
    if !device_configs.is_empty() {
        println!(
            "Kiosk devices are configured: run `kiosk --mode checkin|counter|display|collections` in {}.",
            config.data_dir.display()
        );
    }
    print_banner(&config, seed_demo.then_some((&key, clock.as_ref())));

    let outcome = tokio::select! {
        signal = signals.received() => signal,
        Some(exited) = services.join_next() => Err(match exited {
            Ok((service, Ok(()))) => anyhow::anyhow!("{} stopped unexpectedly", service.name()),
            Ok((service, Err(error))) => error.context(format!("{} failed", service.name())),
            Err(panic) => anyhow::anyhow!("a service panicked: {panic}"),
        }),
    };
    tracing::info!("shutting down");
    let _ = stop.send(true);
    while let Some(exited) = services.join_next().await {
        if let Ok((service, Err(error))) = exited {
            tracing::error!(service = service.name(), error = ?error, "service failed while stopping");
        }
    }
    outcome
}

/// Runs one service until Ctrl-C or SIGTERM.
pub async fn serve_one(config: Config, service: Service) -> anyhow::Result<()> {
    let mut signals = ShutdownSignals::install()?;
    clinic_common::db::set_migration_mode(config.migrations);
    let clock: SharedClock = Arc::new(SystemClock);
    let auth = config.auth_settings(false)?;
    let (stop, stopped) = watch::channel(false);
    let (addr, run) = build(&config, service, &auth, clock, stopped).await?;
    tracing::info!(service = service.name(), %addr, "listening");
    let mut run = tokio::spawn(run);
    tokio::select! {
        signal = signals.received() => {
            signal?;
            let _ = stop.send(true);
            run.await.context("the service task panicked")?
        }
        exited = &mut run => exited.context("the service task panicked")?,
    }
}

/// Applies migrations for `services` (all when empty).
pub async fn migrate(config: Config, services: &[Service]) -> anyhow::Result<()> {
    let services = if services.is_empty() {
        &Service::ALL[..]
    } else {
        services
    };
    for service in services {
        let url = config.database_url(*service);
        if let Some(path) = url.strip_prefix("sqlite://") {
            ensure_parent_dir(path)?;
        }
        match service {
            Service::Patients => clinic_patients::migrate(&url).await,
            Service::Scheduling => clinic_scheduling::migrate(&url).await,
            Service::Billing => clinic_billing::migrate(&url).await,
            Service::Collections => clinic_collections::migrate(&url).await,
        }
        .with_context(|| format!("failed to migrate {}", service.name()))?;
        println!("{}: migrations applied", service.name());
    }
    Ok(())
}

type Run = std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// Builds `service` (database connected and migrated, port bound, and its metrics endpoint when
/// configured) and returns its address and the future that serves it until `stopped` turns true.
async fn build(
    config: &Config,
    service: Service,
    auth: &clinic_common::settings::AuthSettings,
    clock: SharedClock,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, Run)> {
    if let Some(path) = config.database_url(service).strip_prefix("sqlite://") {
        ensure_parent_dir(path)?;
    }
    let admin = match config.service(service).admin_listen()? {
        Some(listen) => {
            let metrics = clinic_common::metrics::for_service(service.name());
            let admin = AdminServer::bind(listen, metrics).await?;
            tracing::info!(service = service.name(), addr = %admin.local_addr(), "metrics at /metrics");
            Some(admin)
        }
        None => None,
    };
    let (addr, run) = build_service(config, service, auth, clock, until(stopped.clone())).await?;
    let Some(admin) = admin else {
        return Ok((addr, run));
    };
    let both: Run = Box::pin(async move {
        let (served, admin) = tokio::join!(run, admin.run_until_stopped(until(stopped)));
        served.and(admin)
    });
    Ok((addr, both))
}

/// Resolves once `stopped` turns true.
async fn until(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

async fn build_service(
    config: &Config,
    service: Service,
    auth: &clinic_common::settings::AuthSettings,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(SocketAddr, Run)> {
    let built: (SocketAddr, Run) = match service {
        Service::Patients => {
            let app = clinic_patients::App::build(config.patients_settings(auth), clock).await?;
            (app.local_addr(), Box::pin(app.run_until_stopped(shutdown)))
        }
        Service::Scheduling => {
            let app =
                clinic_scheduling::App::build(config.scheduling_settings(auth), clock).await?;
            (app.local_addr(), Box::pin(app.run_until_stopped(shutdown)))
        }
        Service::Billing => {
            let app = clinic_billing::App::build(config.billing_settings(auth), clock).await?;
            (app.local_addr(), Box::pin(app.run_until_stopped(shutdown)))
        }
        Service::Collections => {
            let app =
                clinic_collections::App::build(config.collections_settings(auth), clock).await?;
            (app.local_addr(), Box::pin(app.run_until_stopped(shutdown)))
        }
    };
    Ok(built)
}

/// Asks each service's gRPC health endpoint until all four answer SERVING.
async fn wait_until_serving(config: &Config) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    for service in Service::ALL {
        let url = config.service(service).url.clone();
        loop {
            if health_of(&url).await == Some(ServingStatus::Serving) {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} did not become ready at {url}",
                service.name()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok(())
}

async fn health_of(url: &str) -> Option<ServingStatus> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .ok()?
        .connect()
        .await
        .ok()?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .ok()?;
    ServingStatus::try_from(response.into_inner().status).ok()
}

fn print_banner(config: &Config, demo_tokens: Option<(&TokenKey, &dyn Clock)>) {
    println!();
    println!("{} is open.", config.clinic.name);
    for service in Service::ALL {
        println!("  {:<12} {}", service.name(), config.service(service).url);
    }
    if let Some((key, clock)) = demo_tokens {
        let ttl = Some(TimeDelta::days(DEMO_TOKEN_TTL_DAYS));
        println!();
        println!(
            "Demo tokens (send as `authorization: Bearer <token>`; valid {DEMO_TOKEN_TTL_DAYS} days):"
        );
        for (role, subject) in [
            (Role::Kiosk, "kiosk:lobby-1"),
            (Role::Reception, "reception:recepcion-1"),
            (Role::Collections, "collections:cobranza-1"),
            (Role::Manager, "manager:gerencia"),
        ] {
            println!(
                "  {:<12} {}",
                role.as_str(),
                key.issue(subject, role, clock.now(), ttl)
            );
        }
    }
    println!();
    println!("Press Ctrl-C to stop.");
}

/// Ctrl-C and SIGTERM (how containers are stopped). The handlers are installed when this is
/// created, before anything starts, so a signal that arrives during start-up is not lost and
/// never kills the process ungracefully.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt())
                    .context("failed to listen for Ctrl-C")?,
                terminate: signal(SignalKind::terminate())
                    .context("failed to listen for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignals {})
        }
    }

    /// Resolves at the first Ctrl-C or SIGTERM.
    async fn received(&mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
            Ok(())
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c()
                .await
                .context("failed to listen for Ctrl-C")
        }
    }
}

fn ensure_parent_dir(sqlite_path: &str) -> anyhow::Result<()> {
    let path = std::path::Path::new(sqlite_path.split('?').next().unwrap_or(sqlite_path));
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create {}", parent.display()))?;
    }
    Ok(())
}
