//! Building and running the patient registry: connect and migrate the database, bind the
//! listener, then serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use clinic_common::auth::{Authenticate, TokenKey};
use clinic_common::clock::SharedClock;
use clinic_common::db::Database;
use clinic_common::server::{BoundService, GrpcService};
use clinic_proto::patients::v1::patient_service_server::PatientServiceServer;
use tonic::service::Routes;

use crate::config::Settings;
use crate::grpc::PatientsGrpc;
use crate::store::PatientStore;

/// The fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "clinic.patients.v1.PatientService";

/// A patient registry, bound to its port and ready to serve.
pub struct App {
    bound: BoundService,
}

impl App {
    /// Connects to the database, applies migrations and binds the listen address.
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<App> {
        let database = Database::connect(&settings.database_url).await?;
        let store = PatientStore::new(database.clone());
        store.migrate().await?;
        store.refresh_search_text().await?;
        let key = TokenKey::from_secret(&settings.auth.signing_key)?;
        let listen = settings.listen;
        let grpc = PatientsGrpc::new(store, clock.clone(), Arc::new(settings));
        let server = PatientServiceServer::with_interceptor(grpc, Authenticate::new(key, clock));
        let service = GrpcService {
            name: SERVICE_NAME,
            routes: Routes::new(server),
            file_descriptor_set: clinic_proto::FILE_DESCRIPTOR_SET,
            database,
        };
        Ok(App {
            bound: BoundService::bind(listen, service).await?,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.bound.local_addr()
    }

    /// Serves until `shutdown` resolves, then closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        self.bound.run_until_stopped(shutdown).await
    }
}
