//! The collections service's API, over real gRPC on `127.0.0.1:0`, on SQLite and on PostgreSQL,
//! following a real billing service and asking a real patient registry.

mod access;
mod aging;
mod contacts;
mod desk;
mod plans;
mod promises;
mod receivables;
mod worklist;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use clinic_collections::config::ContactRulesSettings;
use clinic_common::auth::{BearerToken, Role};
use clinic_common::clock::FixedClock;
use clinic_common::settings::ClinicSettings;
use clinic_proto::billing::v1 as billing;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::common::v1::{Date, Money};
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, clock_at, spawn,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = CollectionsServiceClient<InterceptedService<Channel, BearerToken>>;
pub type BillingClient = BillingServiceClient<InterceptedService<Channel, BearerToken>>;

/// How often collections polls billing in tests: short, so tests do not wait long.
const POLL_INTERVAL_MS: u64 = 50;

/// How long a test waits for collections to catch up before failing.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(20);

/// The collections service serving on its own database.
pub struct TestCollections {
    pub service: RunningService,
    pub database: TestDatabase,
}

impl TestCollections {
    /// Collections following billing at `billing_url` and naming patients from `patients_url`;
    /// neither has to be up.
    pub async fn start(
        database: TestDatabase,
        billing_url: String,
        patients_url: String,
        poll_interval_ms: u64,
        payment_terms_days: u32,
        contact_rules: ContactRulesSettings,
        clock: Arc<FixedClock>,
    ) -> TestCollections {
        let settings = clinic_collections::Settings {
            listen: any_local_port(),
            database_url: database.url().to_owned(),
            billing_url,
            patients_url,
            ledger_poll_interval_ms: poll_interval_ms,
            payment_terms_days,
            contact_rules,
            escalation: Default::default(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
        };
        let app = clinic_collections::App::build(settings, clock)
            .await
            .expect("collections starts");
        let service = spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown));
        TestCollections { service, database }
    }

    /// Collections alone: billing and the registry are nowhere to be found.
    pub async fn alone(database: TestDatabase) -> TestCollections {
        let nowhere = "http://127.0.0.1:9".to_owned();
        TestCollections::start(
            database,
            nowhere.clone(),
            nowhere,
            POLL_INTERVAL_MS,
            0,
            ContactRulesSettings::default(),
            clock(),
        )
        .await
    }

    pub async fn client(&self, role: Role) -> Client {
        CollectionsServiceClient::new(
            self.service
                .channel_as(role, &format!("{role}:tester"))
                .await,
        )
    }
}

/// The test clinic's clock: a known afternoon in Mexico City.
pub fn clock() -> Arc<FixedClock> {
    Arc::new(clock_at("2026-11-22T18:00:00Z"))
}

/// Billing serving on `listen` from `database` (the same address and ledger after a restart).
async fn start_billing(
    database: &TestDatabase,
    listen: SocketAddr,
    patients_url: String,
    clock: Arc<FixedClock>,
) -> RunningService {
    let settings = clinic_billing::Settings {
        listen,
        database_url: database.url().to_owned(),
        patients_url,
        // Collections' tests charge no appointments: nothing needs to listen there.
        scheduling_url: "http://127.0.0.1:9".into(),
        clinic: ClinicSettings::default(),
        auth: auth_settings(),
        drawer_difference_limit_minor:
            clinic_billing::config::DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
        discount_limit_percent: clinic_billing::config::DEFAULT_DISCOUNT_LIMIT_PERCENT,
        cfdi: None,
    };
    let app = clinic_billing::App::build(settings, clock)
        .await
        .expect("billing starts");
    spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown))
}

/// Patients, billing and collections, each on its own database of the test's backend.
pub struct TestClinic {
    pub patients: RunningService,
    /// `None` while billing is stopped.
    billing: Option<RunningService>,
    billing_addr: SocketAddr,
    billing_database: TestDatabase,
    /// `None` until [`TestClinic::start_collections`].
    collections: Option<TestCollections>,
    collections_database: Option<TestDatabase>,
    pub clock: Arc<FixedClock>,
    /// Makes each charge's idempotency key unique.
    charges_posted: AtomicU32,
    _patients_database: TestDatabase,
}

impl TestClinic {
    /// The three services, collections polling every [`POLL_INTERVAL_MS`].
    pub async fn start(database: TestDatabase) -> TestClinic {
        let mut clinic = TestClinic::start_upstream(database).await;
        clinic.start_collections(POLL_INTERVAL_MS).await;
        clinic
    }

    /// The registry and billing; collections is started later, on `database`.
    pub async fn start_upstream(database: TestDatabase) -> TestClinic {
        let clock = clock();
        let patients_database = database.sibling().await;
        let billing_database = database.sibling().await;

        let registry = clinic_patients::App::build(
            clinic_patients::Settings {
                listen: any_local_port(),
                database_url: patients_database.url().to_owned(),
                clinic: ClinicSettings::default(),
                auth: auth_settings(),
            },
            clock.clone(),
        )
        .await
        .expect("the registry starts");
        let patients = spawn(registry.local_addr(), |shutdown| {
            registry.run_until_stopped(shutdown)
        });
        let billing = start_billing(
            &billing_database,
            any_local_port(),
            patients.url(),
            clock.clone(),
        )
        .await;
        TestClinic {
            billing_addr: billing.addr,
            billing: Some(billing),
            billing_database,
            patients,
            collections: None,
            collections_database: Some(database),
            clock,
            charges_posted: AtomicU32::new(0),
            _patients_database: patients_database,
        }
    }

    /// Starts collections, following this clinic's billing and registry.
    pub async fn start_collections(&mut self, poll_interval_ms: u64) {
        self.start_collections_with_terms(poll_interval_ms, 0).await;
    }

    /// Starts collections with charges falling due `payment_terms_days` after the service day.
    pub async fn start_collections_with_terms(
        &mut self,
        poll_interval_ms: u64,
        payment_terms_days: u32,
    ) {
        self.start_collections_with(poll_interval_ms, payment_terms_days, Default::default())
            .await;
    }

    /// Starts collections under the clinic's own contact rules.
    pub async fn start_collections_with(
        &mut self,
        poll_interval_ms: u64,
        payment_terms_days: u32,
        contact_rules: ContactRulesSettings,
    ) {
        let database = self
            .collections_database
            .take()
            .expect("collections starts once");
        let collections = TestCollections::start(
            database,
            format!("http://{}", self.billing_addr),
            self.patients.url(),
            poll_interval_ms,
            payment_terms_days,
            contact_rules,
            self.clock.clone(),
        )
        .await;
        self.collections = Some(collections);
    }

    pub fn collections(&self) -> &TestCollections {
        self.collections.as_ref().expect("collections is running")
    }

    /// Stops billing, as a crash or a deploy would; its database stays.
    pub async fn stop_billing(&mut self) {
        if let Some(billing) = self.billing.take() {
            billing.stop().await;
        }
    }

    /// Starts billing again on the address collections knows, with the ledger it had.
    pub async fn restart_billing(&mut self) {
        let billing = start_billing(
            &self.billing_database,
            self.billing_addr,
            self.patients.url(),
            self.clock.clone(),
        )
        .await;
        self.billing = Some(billing);
    }

    pub async fn billing(&self, role: Role) -> BillingClient {
        let billing = self.billing.as_ref().expect("billing is running");
        BillingServiceClient::new(billing.channel_as(role, &format!("{role}:tester")).await)
    }

    /// Registers a patient and returns their id.
    pub async fn register(&self, given_name: &str, family_name: &str, phone: &str) -> String {
        let mut reception = PatientServiceClient::new(
            self.patients
                .channel_as(Role::Reception, "reception:tester")
                .await,
        );
        reception
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    given_name: given_name.into(),
                    family_name: family_name.into(),
                    date_of_birth: Some(Date {
                        year: 1988,
                        month: 6,
                        day: 9,
                    }),
                    phone: phone.into(),
                    ..Default::default()
                }),
                request_id: format!("register-{phone}"),
            })
            .await
            .expect("registered")
            .into_inner()
            .patient_id
    }

    /// Registers a patient living in `time_zone` who consented to the channels given, and
    /// returns their id.
    pub async fn register_reachable(
        &self,
        phone: &str,
        time_zone: &str,
        consent: patients::ContactConsent,
    ) -> String {
        let mut reception = PatientServiceClient::new(
            self.patients
                .channel_as(Role::Reception, "reception:tester")
                .await,
        );
        reception
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    given_name: "Paciente".into(),
                    family_name: "Contacto".into(),
                    date_of_birth: Some(Date {
                        year: 1990,
                        month: 1,
                        day: 15,
                    }),
                    phone: phone.into(),
                    // The registry takes email consent only with an address to use it on.
                    email: if consent.email {
                        format!("paciente{}@example.com", phone.trim_start_matches('+'))
                    } else {
                        String::new()
                    },
                    time_zone: time_zone.into(),
                    consent: Some(consent),
                    ..Default::default()
                }),
                request_id: format!("register-{phone}"),
            })
            .await
            .expect("registered")
            .into_inner()
            .patient_id
    }

    /// Adds a consultation at $500.00 to the price list.
    pub async fn price_consultation(&self) {
        self.billing(Role::Manager)
            .await
            .create_price_list_item(billing::CreatePriceListItemRequest {
                item: Some(billing::PriceListItem {
                    code: "CONS-01".into(),
                    description: "Consulta".into(),
                    unit_price: Some(mxn(50_000)),
                    kind: billing::PriceListItemKind::Service as i32,
                    create_time: None,
                    ..Default::default()
                }),
                request_id: "price-cons-01".into(),
            })
            .await
            .expect("priced");
    }

    /// Charges `quantity` consultations to a patient, for the service day given.
    pub async fn charge(&self, patient_id: &str, quantity: i32, service_date: Date) {
        self.billing(Role::Reception)
            .await
            .post_charge(billing::PostChargeRequest {
                patient_id: patient_id.into(),
                price_code: "CONS-01".into(),
                quantity,
                appointment_id: String::new(),
                service_date: Some(service_date),
                request_id: format!(
                    "charge-{}",
                    self.charges_posted.fetch_add(1, Ordering::Relaxed)
                ),
                ..Default::default()
            })
            .await
            .expect("charged");
    }

    /// Takes a cash payment of exactly `minor_units`.
    pub async fn pay(&self, patient_id: &str, minor_units: i64, request_id: &str) {
        self.billing(Role::Reception)
            .await
            .post_payment(billing::PostPaymentRequest {
                patient_id: patient_id.into(),
                amount: Some(mxn(minor_units)),
                method: Some(billing::post_payment_request::Method::Cash(
                    billing::CashPayment {
                        tendered: Some(mxn(minor_units)),
                    },
                )),
                request_id: request_id.into(),
                // Optional fields billing may add over time keep their defaults.
                ..Default::default()
            })
            .await
            .expect("paid");
    }

    /// Waits until collections has applied everything billing reported, and billing has nothing
    /// newer; returns the sync status then.
    pub async fn caught_up(&self) -> pb::LedgerSyncStatus {
        let head = self
            .billing(Role::Service)
            .await
            .list_ledger_entries(billing::ListLedgerEntriesRequest {
                after_sequence: 0,
                page_size: 1,
            })
            .await
            .expect("billing answers")
            .into_inner()
            .head_sequence;
        let collections = self.collections().client(Role::Manager).await;
        eventually("collections catches up with billing's ledger", || {
            let mut collections = collections.clone();
            async move {
                let status = collections
                    .get_ledger_sync_status(pb::GetLedgerSyncStatusRequest {})
                    .await
                    .expect("status answers")
                    .into_inner();
                (status.applied_sequence == head && status.billing_head_sequence == head)
                    .then_some(status)
            }
        })
        .await
    }

    /// Moves the clinic's clock on.
    pub fn advance(&self, delta: TimeDelta) {
        self.clock.advance(delta);
    }
}

/// Polls `check` until it returns `Some`, failing the test after [`CATCH_UP_TIMEOUT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + CATCH_UP_TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn mxn(minor_units: i64) -> Money {
    Money {
        minor_units,
        currency_code: "MXN".into(),
    }
}

pub fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}
