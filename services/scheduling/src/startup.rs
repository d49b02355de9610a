//! Building and running the scheduling service: connect and migrate the database, bind the
//! listener, then serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use clinic_common::auth::{Authenticate, TokenKey};
use clinic_common::client::service_channel;
use clinic_common::clock::SharedClock;
use clinic_common::db::Database;
use clinic_common::server::{BoundService, GrpcService};
use clinic_proto::scheduling::v1::scheduling_service_server::SchedulingServiceServer;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::config::Settings;
use crate::feed::QueueFeed;
use crate::grpc::{PatientRegistry, SchedulingGrpc};
use crate::store::SchedulingStore;

/// The fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "clinic.scheduling.v1.SchedulingService";

/// The scheduling service, bound to its port and ready to serve.
pub struct App {
    bound: BoundService,
    /// Cancelled when shutdown begins, to end the queue watches (see `feed`).
    stopping: CancellationToken,
}

impl App {
    /// Connects to the database, applies migrations and binds the listen address. The patient
    /// registry is connected to lazily, so the two can start in any order.
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<App> {
        let database = Database::connect(&settings.database_url).await?;
        let store = SchedulingStore::new(database.clone());
        store.migrate().await?;
        let key = TokenKey::from_secret(&settings.auth.signing_key)?;
        let registry = PatientRegistry::new(service_channel(
            &settings.patients_url,
            "scheduling",
            &key,
            clock.as_ref(),
        )?);
        let listen = settings.listen;
        let stopping = CancellationToken::new();
        // On PostgreSQL several replicas may share the database, and each tells the others of its
        // queue changes; SQLite has one process.
        let feed = match &database {
            Database::Postgres(pool) => {
                QueueFeed::across_replicas(stopping.clone(), pool.clone()).await?
            }
            Database::Sqlite(_) => QueueFeed::new(stopping.clone()),
        };
        let settings = Arc::new(settings);
        crate::metrics::watch(store.clone(), clock.clone(), settings.clinic.time_zone);
        crate::front_desk::spawn_messages(
            store.clone(),
            registry.clone(),
            clock.clone(),
            settings.clone(),
            stopping.clone(),
        );
        crate::front_desk::spawn(
            store.clone(),
            clock.clone(),
            settings.front_desk.clone(),
            stopping.clone(),
        );
        let grpc = SchedulingGrpc::new(store, registry, feed, clock.clone(), settings);
        let server = SchedulingServiceServer::with_interceptor(grpc, Authenticate::new(key, clock));
        let service = GrpcService {
            name: SERVICE_NAME,
            routes: Routes::new(server),
            file_descriptor_set: clinic_proto::FILE_DESCRIPTOR_SET,
            database,
        };
        Ok(App {
            bound: BoundService::bind(listen, service).await?,
            stopping,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.bound.local_addr()
    }

    /// Serves until `shutdown` resolves, then closes the database. Open queue watches end as
    /// shutdown begins; other calls in flight finish first.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        let stopping = self.stopping;
        let shutdown = async move {
            shutdown.await;
            stopping.cancel();
        };
        self.bound.run_until_stopped(shutdown).await
    }
}
