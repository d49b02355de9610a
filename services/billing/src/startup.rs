//! Building and running billing: connect and migrate the database, open the (lazy) channels to
//! the patient registry and scheduling, load the CSD and the PAC, put the application layer
//! together behind the gRPC service, bind the listener, then serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clinic_common::auth::{Authenticate, TokenKey};
use clinic_common::client::service_channel;
use clinic_common::clock::SharedClock;
use clinic_common::db::Database;
use clinic_common::server::{BoundService, GrpcService};
use clinic_proto::billing::v1::billing_service_server::BillingServiceServer;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use tonic::service::Routes;

use crate::app::{Billing, PatientRegistry, Scheduling};
use crate::config::{PacSettings, Settings};
use crate::grpc::BillingGrpc;
use crate::pac::{Pac, SandboxPac};
use crate::seal::Csd;
use crate::store::BillingStore;

/// The fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "clinic.billing.v1.BillingService";

/// The subject billing's service token names when it calls other services.
const CALLER_NAME: &str = "billing";

/// Billing, bound to its port and ready to serve.
pub struct App {
    bound: BoundService,
}

impl App {
    /// Connects to the database, applies migrations and binds the listen address. The registry
    /// and scheduling are connected lazily, so billing starts even while they are down.
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<App> {
        anyhow::ensure!(
            settings.drawer_difference_limit_minor >= 0,
            "drawer_difference_limit_minor must not be negative"
        );
        anyhow::ensure!(
            settings.discount_limit_percent <= 100,
            "discount_limit_percent must be 0 to 100"
        );
        let database = Database::connect(&settings.database_url).await?;
        let store = BillingStore::new(database.clone());
        store.migrate().await?;
        let key = TokenKey::from_secret(&settings.auth.signing_key)?;
        let channel = service_channel(&settings.patients_url, CALLER_NAME, &key, clock.as_ref())
            .context("failed to set up the patient registry client")?;
        let registry = PatientRegistry::new(PatientServiceClient::new(channel));
        let channel = service_channel(&settings.scheduling_url, CALLER_NAME, &key, clock.as_ref())
            .context("failed to set up the scheduling client")?;
        let scheduling = Scheduling::new(SchedulingServiceClient::new(channel));
        // A CSD that cannot be read stops billing from starting, rather than every invoice.
        let csd = match &settings.cfdi {
            Some(cfdi) => Some(Arc::new(
                Csd::load(
                    &cfdi.certificate_path,
                    &cfdi.key_path,
                    secrecy::ExposeSecret::expose_secret(&cfdi.key_password),
                )
                .context("failed to load the CSD (billing.cfdi)")?,
            )),
            None => None,
        };
        let pac: Option<Arc<dyn Pac>> = match settings.cfdi.as_ref().and_then(|c| c.pac.as_ref()) {
            Some(PacSettings::Sandbox(sandbox)) => {
                let certificate = Csd::load(
                    &sandbox.certificate_path,
                    &sandbox.key_path,
                    secrecy::ExposeSecret::expose_secret(&sandbox.key_password),
                )
                .context("failed to load the sandbox PAC's certificate (billing.cfdi.pac)")?;
                tracing::warn!(
                    "CFDI are stamped by the sandbox PAC: its stamps have no fiscal value"
                );
                Some(Arc::new(SandboxPac::new(
                    sandbox.rfc.clone(),
                    certificate,
                    settings.clinic.time_zone,
                )))
            }
            None => None,
        };
        let listen = settings.listen;
        let settings = Arc::new(settings);
        let billing = Billing::new(
            store.clone(),
            registry,
            scheduling,
            key.clone(),
            csd,
            pac,
            settings.clone(),
        );
        let grpc = BillingGrpc::new(store, billing, clock.clone(), settings);
        let server = BillingServiceServer::with_interceptor(grpc, Authenticate::new(key, clock));
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
