//! Building and running the collections service: connect and migrate the database, bind the
//! listener, then serve, with the ledger follower running beside the server, until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use clinic_common::auth::{Authenticate, TokenKey};
use clinic_common::client::service_channel;
use clinic_common::clock::SharedClock;
use clinic_common::db::Database;
use clinic_common::server::{BoundService, GrpcService};
use clinic_proto::collections::v1::collections_service_server::CollectionsServiceServer;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::app::{ClinicTerms, Desk, Upstream};
use crate::config::Settings;
use crate::follower::LedgerFollower;
use crate::grpc::CollectionsGrpc;
use crate::store::{self, ReceivablesStore};

/// The fully qualified gRPC service name.
pub const SERVICE_NAME: &str = "clinic.collections.v1.CollectionsService";

/// The name this service signs its calls to other services with.
const CALLER_NAME: &str = "collections";

/// A collections service, bound to its port and ready to serve.
pub struct App {
    bound: BoundService,
    follower: LedgerFollower,
}

impl App {
    /// Connects to the database, applies migrations and binds the listen address. Billing and the
    /// patient registry are connected lazily, so they may start later or be down.
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<App> {
        let database = Database::connect(&settings.database_url).await?;
        store::migrate(&database).await?;
        let store = ReceivablesStore::new(database.clone(), settings.clinic.currency);
        crate::metrics::watch(store.clone());
        let key = TokenKey::from_secret(&settings.auth.signing_key)?;
        let billing = service_channel(&settings.billing_url, CALLER_NAME, &key, clock.as_ref())?;
        let patients = service_channel(&settings.patients_url, CALLER_NAME, &key, clock.as_ref())?;
        let follower = LedgerFollower::new(
            store.clone(),
            billing,
            patients.clone(),
            clock.clone(),
            Duration::from_millis(settings.ledger_poll_interval_ms),
            settings.clinic.currency,
            settings.clinic.time_zone,
        );
        let listen = settings.listen;
        let terms = ClinicTerms {
            time_zone: settings.clinic.time_zone,
            currency: settings.clinic.currency,
            payment_terms_days: settings.payment_terms_days,
        };
        let rules = settings.contact_rules.rules()?;
        let billing_on_behalf =
            tonic::transport::Endpoint::from_shared(settings.billing_url.clone())
                .with_context(|| format!("invalid billing URL {:?}", settings.billing_url))?
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .connect_lazy();
        let upstream = Upstream {
            patients,
            billing: service_channel(&settings.billing_url, CALLER_NAME, &key, clock.as_ref())?,
            billing_on_behalf,
        };
        let grpc = CollectionsGrpc::new(Desk::new(
            store,
            clock.clone(),
            terms,
            rules,
            settings.escalation.policy(),
            settings.clinic.name.clone(),
            upstream,
        ));
        let server =
            CollectionsServiceServer::with_interceptor(grpc, Authenticate::new(key, clock));
        let service = GrpcService {
            name: SERVICE_NAME,
            routes: Routes::new(server),
            file_descriptor_set: clinic_proto::FILE_DESCRIPTOR_SET,
            database,
        };
        Ok(App {
            bound: BoundService::bind(listen, service).await?,
            follower,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.bound.local_addr()
    }

    /// Serves, and follows billing's ledger, until `shutdown` resolves; then stops the follower,
    /// waits for it, and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        let stop_following = CancellationToken::new();
        let follower = tokio::spawn(self.follower.run(stop_following.clone()));
        let shutdown = async move {
            shutdown.await;
            // The follower stops before the database closes; its last page commits or rolls back.
            stop_following.cancel();
            if let Err(error) = follower.await {
                tracing::error!(error = ?error, "the ledger follower panicked");
            }
        };
        self.bound.run_until_stopped(shutdown).await
    }
}
