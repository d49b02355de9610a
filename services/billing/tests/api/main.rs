//! Billing's API over real gRPC on `127.0.0.1:0`, beside a real patient registry, on SQLite and
//! on PostgreSQL.

mod access;
mod allocations;
mod appointments;
mod charges;
mod closed_days;
mod corrections;
mod daily_close;
mod discounts;
mod drawer;
mod invoices;
mod kiosk;
mod ledger;
mod outages;
mod packages;
mod payments;
mod price_list;
mod receipts;
mod refunds;
mod split_payments;
mod statements;
mod upgrade;

use std::sync::Arc;

use clinic_billing::config::{
    DEFAULT_DISCOUNT_LIMIT_PERCENT, DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
};
use clinic_billing::{App, Settings};
use clinic_common::auth::{BearerToken, Role};
use clinic_common::settings::ClinicSettings;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::common::v1::{Date, Money};
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, clock_at, spawn,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = BillingServiceClient<InterceptedService<Channel, BearerToken>>;

/// Noon on 2026-11-22 in Mexico City, the clinic's zone.
pub const NOON: &str = "2026-11-22T18:00:00Z";

/// Billing serving on its own database, asking a patient registry that serves on another (and,
/// when a test charges appointments, scheduling on a third).
pub struct TestClinic {
    pub billing: RunningService,
    registry: Option<RunningService>,
    pub scheduling: Option<RunningService>,
    billing_database: TestDatabase,
    _registry_database: TestDatabase,
    _scheduling_database: Option<TestDatabase>,
}

impl TestClinic {
    /// Both services with their clocks at [`NOON`].
    pub async fn start(database: TestDatabase) -> TestClinic {
        TestClinic::start_at(database, NOON).await
    }

    /// Both services with their clocks stopped at `now` (RFC 3339).
    pub async fn start_at(database: TestDatabase, now: &str) -> TestClinic {
        TestClinic::start_with(database, now, DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR).await
    }

    /// Both services at [`NOON`], billing with a drawer difference limit of `limit_minor`.
    pub async fn start_with_drawer_limit(database: TestDatabase, limit_minor: i64) -> TestClinic {
        TestClinic::start_with(database, NOON, limit_minor).await
    }

    /// The registry, scheduling and billing, at [`NOON`].
    pub async fn start_with_scheduling(database: TestDatabase) -> TestClinic {
        TestClinic::start_services(
            database,
            NOON,
            DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
            true,
            None,
        )
        .await
    }

    async fn start_with(database: TestDatabase, now: &str, limit_minor: i64) -> TestClinic {
        TestClinic::start_services(database, now, limit_minor, false, None).await
    }

    /// The registry and billing at [`NOON`], billing issuing invoices as `cfdi` says.
    pub async fn start_with_cfdi(
        database: TestDatabase,
        cfdi: clinic_billing::config::CfdiSettings,
    ) -> TestClinic {
        TestClinic::start_services(
            database,
            NOON,
            DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
            false,
            Some(cfdi),
        )
        .await
    }

    async fn start_services(
        database: TestDatabase,
        now: &str,
        limit_minor: i64,
        with_scheduling: bool,
        cfdi: Option<clinic_billing::config::CfdiSettings>,
    ) -> TestClinic {
        let registry_database = database.sibling().await;
        let registry_app = clinic_patients::App::build(
            clinic_patients::Settings {
                listen: any_local_port(),
                database_url: registry_database.url().to_owned(),
                clinic: ClinicSettings::default(),
                auth: auth_settings(),
            },
            Arc::new(clock_at(now)),
        )
        .await
        .expect("the registry starts");
        let registry = spawn(registry_app.local_addr(), |shutdown| {
            registry_app.run_until_stopped(shutdown)
        });
        let (scheduling, scheduling_database) = if with_scheduling {
            let scheduling_database = database.sibling().await;
            let app = clinic_scheduling::App::build(
                clinic_scheduling::Settings {
                    listen: any_local_port(),
                    database_url: scheduling_database.url().to_owned(),
                    patients_url: registry.url(),
                    queue_alert_after_minutes:
                        clinic_scheduling::config::DEFAULT_QUEUE_ALERT_AFTER_MINUTES,
                    clinic: ClinicSettings::default(),
                    auth: auth_settings(),
                    triage: Default::default(),
                    kiosk: Default::default(),
                    front_desk: Default::default(),
                },
                Arc::new(clock_at(now)),
            )
            .await
            .expect("scheduling starts");
            let scheduling = spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown));
            (Some(scheduling), Some(scheduling_database))
        } else {
            (None, None)
        };

        let settings = Settings {
            listen: any_local_port(),
            database_url: database.url().to_owned(),
            patients_url: registry.url(),
            // Without scheduling nothing listens there: appointment charges are unavailable.
            scheduling_url: scheduling
                .as_ref()
                .map_or_else(|| "http://127.0.0.1:9".to_owned(), RunningService::url),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
            drawer_difference_limit_minor: limit_minor,
            discount_limit_percent: DEFAULT_DISCOUNT_LIMIT_PERCENT,
            cfdi,
        };
        let app = App::build(settings, Arc::new(clock_at(now)))
            .await
            .expect("billing starts");
        let billing = spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown));
        TestClinic {
            billing,
            registry: Some(registry),
            scheduling,
            billing_database: database,
            _registry_database: registry_database,
            _scheduling_database: scheduling_database,
        }
    }

    /// Another billing, on this one's database and registry, its clock at `now`, issuing
    /// invoices as `cfdi` says (a restart with another configuration, or a second replica).
    pub async fn another_billing(
        &self,
        cfdi: clinic_billing::config::CfdiSettings,
        now: &str,
    ) -> RunningService {
        let registry = self.registry.as_ref().expect("the registry is running");
        let settings = Settings {
            listen: any_local_port(),
            database_url: self.billing_database.url().to_owned(),
            patients_url: registry.url(),
            scheduling_url: "http://127.0.0.1:9".to_owned(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
            drawer_difference_limit_minor: DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
            discount_limit_percent: DEFAULT_DISCOUNT_LIMIT_PERCENT,
            cfdi: Some(cfdi),
        };
        let app = App::build(settings, Arc::new(clock_at(now)))
            .await
            .expect("billing starts");
        spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown))
    }

    /// Another billing, on this one's registry, its database reached at `database_url` (this
    /// one's database through a proxy).
    pub async fn billing_on(&self, database_url: &str) -> RunningService {
        let registry = self.registry.as_ref().expect("the registry is running");
        let settings = Settings {
            listen: any_local_port(),
            database_url: database_url.to_owned(),
            patients_url: registry.url(),
            scheduling_url: "http://127.0.0.1:9".to_owned(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
            drawer_difference_limit_minor: DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
            discount_limit_percent: DEFAULT_DISCOUNT_LIMIT_PERCENT,
            cfdi: None,
        };
        let app = App::build(settings, Arc::new(clock_at(NOON)))
            .await
            .expect("billing starts");
        spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown))
    }

    /// A billing client calling as `role`, with subject `<role>:tester`.
    pub async fn client(&self, role: Role) -> Client {
        self.client_as(role, &format!("{role}:tester")).await
    }

    /// A billing client calling as `role` with subject `subject`.
    pub async fn client_as(&self, role: Role, subject: &str) -> Client {
        BillingServiceClient::new(self.billing.channel_as(role, subject).await)
    }

    /// Registers a new patient at the registry and returns their id.
    pub async fn register_patient(&self) -> String {
        let registry = self.registry.as_ref().expect("the registry is running");
        let mut reception =
            PatientServiceClient::new(registry.channel_as(Role::Reception, "reception:desk").await);
        reception
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    given_name: "Lucía".into(),
                    family_name: "Hernández".into(),
                    date_of_birth: Some(Date {
                        year: 1990,
                        month: 7,
                        day: 2,
                    }),
                    phone: "+525511112222".into(),
                    ..Default::default()
                }),
                request_id: clinic_common::ids::PatientId::new().to_string(),
            })
            .await
            .expect("the patient is registered")
            .into_inner()
            .patient_id
    }

    /// Records the patient's fiscal data at the registry.
    pub async fn set_fiscal_data(&self, patient_id: &str, fiscal: patients::FiscalData) {
        let registry = self.registry.as_ref().expect("the registry is running");
        PatientServiceClient::new(registry.channel_as(Role::Reception, "reception:desk").await)
            .set_fiscal_data(patients::SetFiscalDataRequest {
                patient_id: patient_id.into(),
                fiscal_data: Some(fiscal),
            })
            .await
            .expect("the fiscal data is recorded");
    }

    /// Stops the patient registry; billing keeps running.
    pub async fn stop_registry(&mut self) {
        self.registry
            .take()
            .expect("the registry is running")
            .stop()
            .await;
    }

    /// Puts `code` on the price list at `unit_minor` centavos, as a manager.
    pub async fn add_item(&self, code: &str, unit_minor: i64) -> pb::PriceListItem {
        self.client(Role::Manager)
            .await
            .create_price_list_item(item(code, unit_minor, &format!("item-{code}")))
            .await
            .expect("the item is added")
            .into_inner()
    }

    /// Billing's database, for tests that reach behind the API.
    pub fn billing_database_url(&self) -> &str {
        self.billing_database.url()
    }
}

pub fn mxn(minor_units: i64) -> Money {
    Money {
        minor_units,
        currency_code: "MXN".into(),
    }
}

pub fn item(code: &str, unit_minor: i64, request_id: &str) -> pb::CreatePriceListItemRequest {
    pb::CreatePriceListItemRequest {
        item: Some(pb::PriceListItem {
            code: code.into(),
            description: format!("Servicio {code}"),
            unit_price: Some(mxn(unit_minor)),
            kind: pb::PriceListItemKind::Service.into(),
            create_time: None,
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

pub fn charge(patient_id: &str, code: &str, request_id: &str) -> pb::PostChargeRequest {
    pb::PostChargeRequest {
        patient_id: patient_id.into(),
        price_code: code.into(),
        quantity: 1,
        request_id: request_id.into(),
        ..Default::default()
    }
}

pub fn cash(
    patient_id: &str,
    amount_minor: i64,
    tendered_minor: i64,
    request_id: &str,
) -> pb::PostPaymentRequest {
    pb::PostPaymentRequest {
        patient_id: patient_id.into(),
        amount: Some(mxn(amount_minor)),
        method: Some(pb::post_payment_request::Method::Cash(pb::CashPayment {
            tendered: Some(mxn(tendered_minor)),
        })),
        request_id: request_id.into(),
        ..Default::default()
    }
}

pub fn card(patient_id: &str, amount_minor: i64, request_id: &str) -> pb::PostPaymentRequest {
    pb::PostPaymentRequest {
        patient_id: patient_id.into(),
        amount: Some(mxn(amount_minor)),
        method: Some(pb::post_payment_request::Method::Card(pb::CardPayment {
            authorization_code: "A1B2C3".into(),
            last_four: "4242".into(),
            card_type: pb::CardType::Debit.into(),
        })),
        request_id: request_id.into(),
        ..Default::default()
    }
}

pub fn transfer(patient_id: &str, amount_minor: i64, request_id: &str) -> pb::PostPaymentRequest {
    pb::PostPaymentRequest {
        patient_id: patient_id.into(),
        amount: Some(mxn(amount_minor)),
        method: Some(pb::post_payment_request::Method::BankTransfer(
            pb::BankTransferPayment {
                reference: "SPEI 20261122 0001".into(),
            },
        )),
        request_id: request_id.into(),
        ..Default::default()
    }
}

pub async fn balance(client: &mut Client, patient_id: &str) -> pb::AccountBalance {
    client
        .get_account_balance(pb::GetAccountBalanceRequest {
            patient_id: patient_id.into(),
            ..Default::default()
        })
        .await
        .expect("the balance is read")
        .into_inner()
}

/// Every ledger entry, read from the start in pages of 1000.
pub async fn whole_ledger(client: &mut Client) -> Vec<pb::LedgerEntry> {
    let mut entries = Vec::new();
    let mut after_sequence = 0;
    loop {
        let page = client
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                after_sequence,
                page_size: 1000,
            })
            .await
            .expect("the ledger is read")
            .into_inner();
        if page.entries.is_empty() {
            return entries;
        }
        after_sequence = page.last_sequence;
        entries.extend(page.entries);
    }
}
