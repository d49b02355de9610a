//! Serving one clinic service over gRPC: the service itself, gRPC health and server reflection,
//! what [`crate::rpc`] adds around every call (request ids, a span and a log line, metrics), and
//! a clean stop when `shutdown` resolves.
//!
//! Health answers for three names: the service's own and the empty name (the server as a whole)
//! report SERVING only while the database answers — a load balancer's readiness check — and
//! [`LIVENESS`] reports SERVING as long as the process runs, so that a database outage takes a
//! service out of rotation without getting it restarted.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_stream::StreamExt as _;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::connections::{IDLE_TIMEOUT, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT, TrackedStream};
use crate::db::Database;
use crate::metrics::ServiceMetrics;
use crate::rpc::RpcLayer;

/// The health service name that reports whether the process is alive, whatever its database
/// says (for liveness probes).
pub const LIVENESS: &str = "liveness";

/// How often health re-checks the database. A service whose database is unreachable reports
/// NOT_SERVING, so a load balancer stops sending it traffic.
const HEALTH_PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// A clinic service ready to serve.
pub struct GrpcService {
    /// Fully qualified, e.g. `clinic.patients.v1.PatientService`: the name health reports on
    /// and reflection advertises.
    pub name: &'static str,
    /// The service, wrapped in its authentication interceptor.
    pub routes: Routes,
    /// The encoded descriptor set that describes the service, for reflection.
    pub file_descriptor_set: &'static [u8],
    /// The service's database, probed for health.
    pub database: Database,
}

/// A clinic service bound to its listen address: its port is known (tests bind port 0) before
/// it starts serving.
pub struct BoundService {
    listener: TcpListener,
    service: GrpcService,
    idle_timeout: Duration,
}

impl BoundService {
    pub async fn bind(listen: SocketAddr, service: GrpcService) -> anyhow::Result<BoundService> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("failed to listen on {listen}"))?;
        Ok(BoundService {
            listener,
            service,
            idle_timeout: IDLE_TIMEOUT,
        })
    }

    /// Closes connections with no call in flight after `idle` instead of [`IDLE_TIMEOUT`].
    pub fn with_idle_timeout(self, idle: Duration) -> BoundService {
        BoundService {
            idle_timeout: idle,
            ..self
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// Serves until `shutdown` resolves and calls in flight have finished, then closes the
    /// service's database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        let database = self.service.database.clone();
        let served = serve(self.listener, self.service, self.idle_timeout, shutdown).await;
        database.close().await;
        served
    }
}

/// Serves `service` on `listener` until `shutdown` resolves, then lets calls in flight finish.
/// A connection with no call in flight for `idle_timeout` is closed.
async fn serve(
    listener: TcpListener,
    service: GrpcService,
    idle_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(service.file_descriptor_set)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name(service.name)
        .with_service_name("grpc.health.v1.Health")
        .with_service_name("grpc.reflection.v1.ServerReflection")
        .build_v1()
        .context("failed to build the reflection service")?;

    let metrics = crate::metrics::for_service(short_name(service.name));
    metrics.watch_pool(&service.database);
    // Report real status from the first call on, then keep it current.
    reporter
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;
    report_database_health(&reporter, service.name, &service.database, &metrics).await;
    let probe = tokio::spawn(probe_database_health(
        reporter.clone(),
        service.name,
        service.database.clone(),
        metrics.clone(),
    ));

    let routes = service.routes.add_service(health).add_service(reflection);
    // Without TCP_NODELAY a response written in several small frames (headers, data,
    // trailers) waits on the caller's delayed ACK: some 40 ms per call.
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(KEEPALIVE_INTERVAL))
        .map(move |accepted| accepted.map(|stream| TrackedStream::new(stream, idle_timeout)));
    let served = Server::builder()
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .layer(RpcLayer::new(metrics, service.name))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;

    probe.abort();
    served.with_context(|| format!("{} stopped with an error", service.name))
}

async fn probe_database_health(
    reporter: HealthReporter,
    name: &'static str,
    database: Database,
    metrics: std::sync::Arc<ServiceMetrics>,
) {
    let mut interval = tokio::time::interval(HEALTH_PROBE_INTERVAL);
    interval.tick().await;
    loop {
        interval.tick().await;
        report_database_health(&reporter, name, &database, &metrics).await;
    }
}

async fn report_database_health(
    reporter: &HealthReporter,
    name: &str,
    database: &Database,
    metrics: &ServiceMetrics,
) {
    let status = match database.ping().await {
        Ok(()) => ServingStatus::Serving,
        Err(error) => {
            tracing::warn!(error = ?error, "database unreachable; reporting NOT_SERVING");
            ServingStatus::NotServing
        }
    };
    metrics
        .health_serving
        .set(i64::from(status == ServingStatus::Serving));
    // The empty name is the server as a whole, which is as healthy as its one service.
    reporter.set_service_status(name, status).await;
    reporter.set_service_status("", status).await;
}

/// `billing` for `clinic.billing.v1.BillingService`: the name metrics and logs use.
pub fn short_name(grpc_name: &'static str) -> &'static str {
    grpc_name.split('.').nth(1).unwrap_or(grpc_name)
}
