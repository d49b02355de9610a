//! Prometheus metrics, one registry per service, served on the service's admin port.
//!
//! Every metric of a service carries the label `service="<name>"`, so one Prometheus scrapes
//! four processes (or `clinic up`'s four admin ports in one process) without clashes. What every
//! service has — calls by method and status code, their latency, calls in flight, the database
//! pool and transaction times, health, its background tasks' last success — is registered
//! here; a service adds its own gauges (the outbox, the queue, the follower's lag) once with
//! [`ServiceMetrics::own`] and keeps them current with a sampler
//! ([`ServiceMetrics::set_sampler`]), which runs just before each scrape.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

/// A gauge holding a floating-point value (seconds, timestamps).
pub type FloatGauge = Gauge<f64, AtomicU64>;

/// Latency buckets in seconds, from a cached read to a call that waited on a lock or a PAC.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A sampler's longest run before the scrape goes on without it: a scrape must answer even
/// while the database does not.
const SAMPLER_TIMEOUT: Duration = Duration::from_secs(2);

/// The labels of a call's metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    /// `Service/Method`, e.g. `clinic.billing.v1.BillingService/PostPayment`.
    pub method: String,
    /// The gRPC status code's name, e.g. `OK`, `INVALID_ARGUMENT`.
    pub code: String,
}

/// The labels of the database pool's connection counts.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    /// `idle` or `in_use`.
    state: &'static str,
}

/// The labels of a background task's metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    /// e.g. `ledger_follower`, `messages`.
    task: &'static str,
}

type Sampler = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// One service's metrics.
pub struct ServiceMetrics {
    service: &'static str,
    registry: Mutex<Registry>,
    /// By name: a service built again in the same process (tests) replaces its samplers.
    samplers: Mutex<Vec<(&'static str, Sampler)>>,
    /// A service's own metrics, registered once per process (see [`ServiceMetrics::own`]).
    owned: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// Calls answered, by method and code.
    pub rpc_requests: Family<RpcLabels, Counter>,
    /// Time from a call's arrival to its response headers, by method and code.
    pub rpc_duration: Family<RpcLabels, Histogram>,
    /// Calls being handled now.
    pub rpc_in_flight: Gauge,
    /// Time from `BEGIN` to `COMMIT` (or rollback) of the service's transactions.
    pub transaction_duration: Histogram,
    /// 1 while the service reports SERVING (its database answers), else 0.
    pub health_serving: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max_connections: Gauge,
    task_last_success: Family<TaskLabels, FloatGauge>,
}

impl ServiceMetrics {
    fn new(service: &'static str) -> ServiceMetrics {
        let mut registry = Registry::with_labels([("service".into(), service.into())].into_iter());
        let latency = || Histogram::new(LATENCY_BUCKETS);
        let rpc_requests = Family::<RpcLabels, Counter>::default();
        let rpc_duration =
            Family::<RpcLabels, Histogram>::new_with_constructor(latency as fn() -> Histogram);
        let rpc_in_flight = Gauge::default();
        let transaction_duration = latency();
        let health_serving = Gauge::default();
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        let pool_max_connections = Gauge::default();
        let task_last_success = Family::<TaskLabels, FloatGauge>::default();
        registry.register(
            "clinic_rpc_requests",
            "gRPC calls answered, by method and status code",
            rpc_requests.clone(),
        );
        registry.register(
            "clinic_rpc_duration_seconds",
            "time from a call's arrival to its response, by method and status code",
            rpc_duration.clone(),
        );
        registry.register(
            "clinic_rpc_in_flight",
            "gRPC calls being handled now",
            rpc_in_flight.clone(),
        );
        registry.register(
            "clinic_db_transaction_duration_seconds",
            "time from the start of a database transaction to its commit or rollback",
            transaction_duration.clone(),
        );
        registry.register(
            "clinic_health_serving",
            "1 while the service reports SERVING (its database answers), else 0",
            health_serving.clone(),
        );
        registry.register(
            "clinic_db_pool_connections",
            "database connections open, idle or in use",
            pool_connections.clone(),
        );
        registry.register(
            "clinic_db_pool_max_connections",
            "the most connections the database pool opens",
            pool_max_connections.clone(),
        );
        registry.register(
            "clinic_background_task_last_success_timestamp_seconds",
            "when a background task last finished a round without an error (Unix time)",
            task_last_success.clone(),
        );
        ServiceMetrics {
            service,
            registry: Mutex::new(registry),
            samplers: Mutex::new(Vec::new()),
            owned: Mutex::new(HashMap::new()),
            rpc_requests,
            rpc_duration,
            rpc_in_flight,
            transaction_duration,
            health_serving,
            pool_connections,
            pool_max_connections,
            task_last_success,
        }
    }

    /// The service these metrics describe.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// The service's own metrics of type `T`, registered by `register` the first time they are
    /// asked for in this process and shared from then on, so a service built twice (tests) does
    /// not register its gauges twice.
    pub fn own<T>(&self, register: impl FnOnce(&mut Registry) -> T) -> Arc<T>
    where
        T: Send + Sync + 'static,
    {
        let mut owned = lock(&self.owned);
        if let Some(existing) = owned.get(&TypeId::of::<T>())
            && let Ok(metrics) = Arc::clone(existing).downcast::<T>()
        {
            return metrics;
        }
        let metrics = Arc::new(register(&mut lock(&self.registry)));
        owned.insert(TypeId::of::<T>(), metrics.clone());
        metrics
    }

    /// Runs `sampler` before every scrape (at most [`SAMPLER_TIMEOUT`]), to bring gauges that
    /// are read from the database up to date. A sampler set under the same `name` before is
    /// replaced.
    pub fn set_sampler<F, Fut>(&self, name: &'static str, sampler: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let sampler: Sampler = Arc::new(move || Box::pin(sampler()));
        let mut samplers = lock(&self.samplers);
        match samplers.iter_mut().find(|(existing, _)| *existing == name) {
            Some(slot) => slot.1 = sampler,
            None => samplers.push((name, sampler)),
        }
    }

    /// Notes that background `task` just finished a round without an error.
    pub fn task_succeeded(&self, task: &'static str) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        self.task_last_success
            .get_or_create(&TaskLabels { task })
            .set(now);
    }

    /// Follows the connection counts of `database`'s pool.
    pub fn watch_pool(self: &Arc<Self>, database: &crate::db::Database) {
        let database = database.clone();
        let metrics = Arc::clone(self);
        self.set_sampler("database pool", move || {
            let (open, idle, max) = database.pool_stats();
            metrics
                .pool_connections
                .get_or_create(&PoolLabels { state: "idle" })
                .set(i64::from(idle));
            metrics
                .pool_connections
                .get_or_create(&PoolLabels { state: "in_use" })
                .set(i64::from(open.saturating_sub(idle)));
            metrics.pool_max_connections.set(i64::from(max));
            std::future::ready(())
        });
    }

    /// The metrics in the Prometheus (OpenMetrics) text format, samplers run first.
    pub async fn render(&self) -> String {
        let samplers: Vec<Sampler> = lock(&self.samplers)
            .iter()
            .map(|(_, sampler)| Arc::clone(sampler))
            .collect();
        for sampler in samplers {
            if tokio::time::timeout(SAMPLER_TIMEOUT, sampler())
                .await
                .is_err()
            {
                tracing::warn!(
                    service = self.service,
                    "a metrics sampler took too long; its gauges are stale"
                );
            }
        }
        let mut text = String::new();
        if let Err(error) =
            prometheus_client::encoding::text::encode(&mut text, &lock(&self.registry))
        {
            tracing::error!(%error, "failed to encode metrics");
        }
        text
    }
}

/// Every service's metrics in this process, by service name.
fn all() -> &'static Mutex<HashMap<&'static str, Arc<ServiceMetrics>>> {
    static ALL: OnceLock<Mutex<HashMap<&'static str, Arc<ServiceMetrics>>>> = OnceLock::new();
    ALL.get_or_init(Default::default)
}

/// The metrics of `service` (e.g. `billing`), created on first use. Services in one process
/// (`clinic up`, tests) each have their own.
pub fn for_service(service: &'static str) -> Arc<ServiceMetrics> {
    Arc::clone(
        lock(all())
            .entry(service)
            .or_insert_with(|| Arc::new(ServiceMetrics::new(service))),
    )
}

/// Records a transaction's duration under the service handling the current call, if any (see
/// [`crate::rpc::current_service`]); work outside a call (background tasks) is recorded under
/// the process's only service when it has one.
pub fn observe_transaction(elapsed: Duration) {
    let service = crate::rpc::current_service().or_else(|| {
        let all = lock(all());
        (all.len() == 1)
            .then(|| all.keys().next().copied())
            .flatten()
    });
    if let Some(service) = service {
        for_service(service)
            .transaction_duration
            .observe(elapsed.as_secs_f64());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves nothing half-written that matters for metrics.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An admin endpoint bound to its address: `GET /metrics` answers with `metrics`.
pub struct AdminServer {
    listener: TcpListener,
    metrics: Arc<ServiceMetrics>,
}

impl AdminServer {
    pub async fn bind(listen: SocketAddr, metrics: Arc<ServiceMetrics>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("failed to listen on {listen} for metrics"))?;
        Ok(AdminServer { listener, metrics })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let metrics = self.metrics;
        let router = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = Arc::clone(&metrics);
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.render().await,
                    )
                }
            }),
        );
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the metrics endpoint stopped with an error")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Depth(Gauge);

    fn depth_of(metrics: &ServiceMetrics) -> Arc<Depth> {
        metrics.own(|registry| {
            let depth = Depth::default();
            registry.register("clinic_test_depth", "a test gauge", depth.0.clone());
            depth
        })
    }

    #[tokio::test]
    async fn a_services_metrics_carry_its_name_and_run_its_samplers() {
        let metrics = for_service("metrics-test");
        let depth = depth_of(&metrics);
        metrics.set_sampler("depth", move || {
            depth.0.set(7);
            std::future::ready(())
        });
        metrics
            .rpc_requests
            .get_or_create(&RpcLabels {
                method: "test.v1.Test/Do".into(),
                code: "OK".into(),
            })
            .inc();
        metrics.task_succeeded("sweeper");

        let text = metrics.render().await;

        assert!(
            text.contains(r#"clinic_test_depth{service="metrics-test"} 7"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"clinic_rpc_requests_total{service="metrics-test",method="test.v1.Test/Do",code="OK"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"clinic_background_task_last_success_timestamp_seconds{service="metrics-test",task="sweeper"} 1"#
            ),
            "a Unix time in seconds: {text}"
        );
    }

    #[tokio::test]
    async fn a_service_built_again_shares_its_gauges_and_replaces_its_sampler() {
        let metrics = for_service("metrics-rebuilt");
        let first = depth_of(&metrics);
        let second = depth_of(&metrics);
        assert!(Arc::ptr_eq(&first, &second));
        metrics.set_sampler("depth", move || {
            first.0.set(1);
            std::future::ready(())
        });
        metrics.set_sampler("depth", move || {
            second.0.set(2);
            std::future::ready(())
        });

        let text = metrics.render().await;

        assert_eq!(
            text.matches("# TYPE clinic_test_depth gauge").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains(r#"clinic_test_depth{service="metrics-rebuilt"} 2"#),
            "{text}"
        );
    }
}
