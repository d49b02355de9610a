//! One patient's visit across all four services, over real gRPC on 127.0.0.1, on SQLite and on
//! PostgreSQL: register → book → check in at the kiosk → seen on the queue watch → charge →
//! pay in cash (retried) → balance zero → collections sees another patient's unpaid balance,
//! learned only through billing's change feed.
//!
//! With the `deployed` feature the same visit also runs against services deployed elsewhere
//! (the containers of `scripts/test-image`): `CLINIC_E2E_ENDPOINTS` names them
//! (`patients=http://127.0.0.1:51051,scheduling=…,billing=…,collections=…`) and
//! `CLINIC_E2E_SIGNING_KEY_FILE` holds the deployment's signing key; the deployment must be fresh
//! (the journey expects the first ticket of the day and the first ledger entries).

use std::sync::Arc;
use std::time::Duration;

use clinic_common::auth::Role;
use clinic_common::clock::SharedClock;
use clinic_common::settings::ClinicSettings;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as billing;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::collections::v1 as collections;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::common::v1::{Date, Money};
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_proto::timestamp_to_proto;
#[cfg(feature = "deployed")]
use clinic_test_support::DeployedService;
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, backend_tests, clock_at, spawn,
};
use tokio_stream::StreamExt;
use tonic::Code;

backend_tests!(a_visit_from_booking_to_collections);

/// 10:00 in Mexico City.
const NOW: &str = "2026-11-22T16:00:00Z";

struct Clinic {
    patients: Service,
    scheduling: Service,
    billing: Service,
    collections: Service,
    /// The services' "now": the test's stopped clock, or the real time for deployed services.
    now: chrono::DateTime<chrono::Utc>,
    /// When María's visit starts: 11:00 on the test's clock; for deployed services, this minute
    /// (a slot in the past is allowed, and it is surely still today).
    visit_start: chrono::DateTime<chrono::Utc>,
    _databases: Vec<TestDatabase>,
}

/// One of the clinic's services: started by this test, or deployed elsewhere.
enum Service {
    InProcess(RunningService),
    #[cfg(feature = "deployed")]
    Deployed(DeployedService),
}

impl Service {
    async fn channel_as(
        &self,
        role: Role,
        subject: &str,
    ) -> tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        clinic_common::auth::BearerToken,
    > {
        match self {
            Service::InProcess(service) => service.channel_as(role, subject).await,
            #[cfg(feature = "deployed")]
            Service::Deployed(service) => service.channel_as(role, subject).await,
        }
    }

    async fn stop(self) {
        #[allow(irrefutable_let_patterns)] // without the `deployed` feature
        if let Service::InProcess(service) = self {
            service.stop().await;
        }
    }
}

impl Clinic {
    /// Starts the four services, each on its own database on the backend `database` is on.
    async fn open(database: TestDatabase) -> Clinic {
        let clock: SharedClock = Arc::new(clock_at(NOW));
        let clinic = ClinicSettings::default();
        let (scheduling_db, billing_db, collections_db) = (
            database.sibling().await,
            database.sibling().await,
            database.sibling().await,
        );

        let app = clinic_patients::App::build(
            clinic_patients::Settings {
                listen: any_local_port(),
                database_url: database.url().into(),
                clinic: clinic.clone(),
                auth: auth_settings(),
            },
            clock.clone(),
        )
        .await
        .expect("patients starts");
        let patients = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));

        let app = clinic_scheduling::App::build(
            clinic_scheduling::Settings {
                listen: any_local_port(),
                database_url: scheduling_db.url().into(),
                patients_url: patients.url(),
                queue_alert_after_minutes:
                    clinic_scheduling::config::DEFAULT_QUEUE_ALERT_AFTER_MINUTES,
                triage: Default::default(),
                kiosk: Default::default(),
                front_desk: Default::default(),
                clinic: clinic.clone(),
                auth: auth_settings(),
            },
            clock.clone(),
        )
        .await
        .expect("scheduling starts");
        let scheduling = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));

        let app = clinic_billing::App::build(
            clinic_billing::Settings {
                listen: any_local_port(),
                database_url: billing_db.url().into(),
                patients_url: patients.url(),
                scheduling_url: scheduling.url(),
                clinic: clinic.clone(),
                auth: auth_settings(),
                drawer_difference_limit_minor:
                    clinic_billing::config::DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
                discount_limit_percent: clinic_billing::config::DEFAULT_DISCOUNT_LIMIT_PERCENT,
                cfdi: None,
            },
            clock.clone(),
        )
        .await
        .expect("billing starts");
        let billing = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));

        let app = clinic_collections::App::build(
            clinic_collections::Settings {
                listen: any_local_port(),
                database_url: collections_db.url().into(),
                billing_url: billing.url(),
                patients_url: patients.url(),
                ledger_poll_interval_ms: 50,
                payment_terms_days: 0,
                contact_rules: Default::default(),
                escalation: Default::default(),
                clinic,
                auth: auth_settings(),
            },
            clock,
        )
        .await
        .expect("collections starts");
        let collections = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));

        Clinic {
            patients: Service::InProcess(patients),
            scheduling: Service::InProcess(scheduling),
            billing: Service::InProcess(billing),
            collections: Service::InProcess(collections),
            now: NOW.parse().expect("valid instant"),
            visit_start: "2026-11-22T17:00:00Z".parse().expect("valid instant"),
            _databases: vec![database, scheduling_db, billing_db, collections_db],
        }
    }

    /// The services named by `CLINIC_E2E_ENDPOINTS`, called with tokens signed by the key in
    /// `CLINIC_E2E_SIGNING_KEY_FILE`.
    #[cfg(feature = "deployed")]
    fn deployed() -> Clinic {
        let endpoints = std::env::var("CLINIC_E2E_ENDPOINTS").expect(
            "set CLINIC_E2E_ENDPOINTS=patients=URL,scheduling=URL,billing=URL,collections=URL",
        );
        let key_file = std::env::var("CLINIC_E2E_SIGNING_KEY_FILE")
            .expect("set CLINIC_E2E_SIGNING_KEY_FILE to the deployment's signing key file");
        let service = |name: &str| {
            let url = endpoints
                .split(',')
                .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("CLINIC_E2E_ENDPOINTS names no {name}"));
            Service::Deployed(
                DeployedService::new(url, key_file.as_ref()).expect("the signing key is usable"),
            )
        };
        let now = chrono::Utc::now();
        Clinic {
            patients: service("patients"),
            scheduling: service("scheduling"),
            billing: service("billing"),
            collections: service("collections"),
            now,
            visit_start: chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::minutes(1))
                .expect("a whole minute"),
            _databases: Vec::new(),
        }
    }

    /// Today in the clinic's time zone.
    fn today(&self) -> Date {
        let day = clinic_common::time::local_date(self.now, ClinicSettings::default().time_zone);
        Date {
            year: chrono::Datelike::year(&day),
            month: chrono::Datelike::month(&day) as i32,
            day: chrono::Datelike::day(&day) as i32,
        }
    }

    async fn stop(self) {
        self.collections.stop().await;
        self.billing.stop().await;
        self.scheduling.stop().await;
        self.patients.stop().await;
    }
}

fn mxn(minor_units: i64) -> Option<Money> {
    Some(Money {
        minor_units,
        currency_code: "MXN".into(),
    })
}

fn new_patient(
    given: &str,
    family: &str,
    phone: &str,
    request_id: &str,
) -> patients::CreatePatientRequest {
    patients::CreatePatientRequest {
        patient: Some(patients::Patient {
            given_name: given.into(),
            family_name: family.into(),
            date_of_birth: Some(Date {
                year: 1988,
                month: 7,
                day: 9,
            }),
            phone: phone.into(),
            preferred_language: "es".into(),
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

async fn a_visit_from_booking_to_collections(database: TestDatabase) {
    journey(Clinic::open(database).await).await;
}

/// The visit against deployed services (see the module's documentation).
#[cfg(feature = "deployed")]
mod deployed {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_visit_from_booking_to_collections() {
        super::journey(super::Clinic::deployed()).await;
    }
}

async fn journey(clinic: Clinic) {
    let mut reception_patients = PatientServiceClient::new(
        clinic
            .patients
            .channel_as(Role::Reception, "reception:lupita")
            .await,
    );
    let mut manager_scheduling = SchedulingServiceClient::new(
        clinic
            .scheduling
            .channel_as(Role::Manager, "manager:ana")
            .await,
    );
    let mut reception_scheduling = SchedulingServiceClient::new(
        clinic
            .scheduling
            .channel_as(Role::Reception, "reception:lupita")
            .await,
    );
    let mut kiosk = SchedulingServiceClient::new(
        clinic
            .scheduling
            .channel_as(Role::Kiosk, "kiosk:lobby-1")
            .await,
    );
    let mut manager_billing = BillingServiceClient::new(
        clinic
            .billing
            .channel_as(Role::Manager, "manager:ana")
            .await,
    );
    let mut reception_billing = BillingServiceClient::new(
        clinic
            .billing
            .channel_as(Role::Reception, "reception:lupita")
            .await,
    );
    let mut collector = CollectionsServiceClient::new(
        clinic
            .collections
            .channel_as(Role::Collections, "collections:remote-1")
            .await,
    );

    // Register the patient and book her with a dentist at 11:00 today.
    let maria = reception_patients
        .create_patient(new_patient(
            "María",
            "García",
            "+52 55 1234 5678",
            "journey-maria",
        ))
        .await
        .expect("María is registered")
        .into_inner();
    let dentist = manager_scheduling
        .create_provider(scheduling::CreateProviderRequest {
            provider: Some(scheduling::Provider {
                display_name: "Dra. Ana Ruiz".into(),
                kind: scheduling::ProviderKind::Dentist as i32,
                ..Default::default()
            }),
            request_id: "journey-dentist".into(),
        })
        .await
        .expect("the dentist is added")
        .into_inner();
    let start = clinic.visit_start;
    let appointment = reception_scheduling
        .create_appointment(scheduling::CreateAppointmentRequest {
            appointment: Some(scheduling::Appointment {
                patient_id: maria.patient_id.clone(),
                provider_id: dentist.provider_id.clone(),
                start_time: Some(timestamp_to_proto(start)),
                end_time: Some(timestamp_to_proto(start + chrono::TimeDelta::minutes(45))),
                price_code: "CONS-01".into(),
                ..Default::default()
            }),
            request_id: "journey-appointment".into(),
        })
        .await
        .expect("the appointment is booked")
        .into_inner();

    // Reception watches the queue; the first message is the queue as it is.
    let mut queue = reception_scheduling
        .watch_queue(scheduling::WatchQueueRequest {})
        .await
        .expect("the watch opens")
        .into_inner();
    let first = next_within(&mut queue, "the initial queue").await;
    assert!(first.entries.is_empty());

    // A wrong date of birth at the kiosk is refused; the right evidence checks her in.
    let evidence = |day: i32| scheduling::IdentityEvidence {
        date_of_birth: Some(Date {
            year: 1988,
            month: 7,
            day,
        }),
        phone_last_four: "5678".into(),
    };
    let refused = kiosk
        .check_in_appointment(scheduling::CheckInAppointmentRequest {
            appointment_id: appointment.appointment_id.clone(),
            identity: Some(evidence(10)),
            confirmation_code: String::new(),
        })
        .await
        .expect_err("the wrong date of birth is refused");
    assert_eq!(refused.code(), Code::NotFound, "answered as any kiosk miss");
    let checked_in = kiosk
        .check_in_appointment(scheduling::CheckInAppointmentRequest {
            appointment_id: appointment.appointment_id.clone(),
            identity: Some(evidence(9)),
            confirmation_code: String::new(),
        })
        .await
        .expect("María checks in")
        .into_inner();
    let ticket = checked_in.queue_entry.expect("a queue entry").ticket_number;
    assert_eq!(ticket, "A-001");

    let update = next_within(&mut queue, "the check-in").await;
    let entry = update
        .entries
        .iter()
        .find(|entry| entry.appointment_id == appointment.appointment_id)
        .expect("the watch shows María's check-in");
    assert_eq!(entry.ticket_number, ticket);
    assert_eq!(entry.position, 1);

    // Billing posts the visit's charge from the price list.
    manager_billing
        .create_price_list_item(billing::CreatePriceListItemRequest {
            item: Some(billing::PriceListItem {
                code: "CONS-01".into(),
                description: "Consulta de valoración".into(),
                unit_price: mxn(50_000),
                kind: billing::PriceListItemKind::Service as i32,
                ..Default::default()
            }),
            request_id: "journey-price".into(),
        })
        .await
        .expect("the price list has the consultation");
    let charge = reception_billing
        .post_charge(billing::PostChargeRequest {
            patient_id: maria.patient_id.clone(),
            price_code: appointment.price_code.clone(),
            quantity: 1,
            appointment_id: appointment.appointment_id.clone(),
            service_date: None,
            request_id: "journey-charge".into(),
            ..Default::default()
        })
        .await
        .expect("the visit is charged")
        .into_inner();
    assert_eq!(charge.amount, mxn(50_000));

    // Bad input is refused field by field and moves no money.
    let status = reception_billing
        .post_payment(billing::PostPaymentRequest {
            patient_id: maria.patient_id.clone(),
            amount: mxn(-100),
            method: None,
            request_id: "journey-bad-payment".into(),
            terminal_id: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("a negative payment with no method is refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["amount", "method"]);

    // She pays $500.00 in cash with a $1,000 note; the desk's retry posts nothing new.
    let pay = || billing::PostPaymentRequest {
        patient_id: maria.patient_id.clone(),
        amount: mxn(50_000),
        method: Some(billing::post_payment_request::Method::Cash(
            billing::CashPayment {
                tendered: mxn(100_000),
            },
        )),
        request_id: "journey-payment-1".into(),
        terminal_id: String::new(),
        ..Default::default()
    };
    let payment = reception_billing
        .post_payment(pay())
        .await
        .expect("paid")
        .into_inner();
    assert_eq!(payment.change, mxn(50_000));
    let retried = reception_billing
        .post_payment(pay())
        .await
        .expect("the retry answers")
        .into_inner();
    assert_eq!(retried, payment, "the retry returns the first payment");

    let balance = reception_billing
        .get_account_balance(billing::GetAccountBalanceRequest {
            patient_id: maria.patient_id.clone(),
            ..Default::default()
        })
        .await
        .expect("balance")
        .into_inner();
    assert_eq!(balance.balance, mxn(0));
    assert_eq!(balance.total_paid, mxn(50_000), "one payment, not two");

    // Another patient leaves without paying; collections learns of it from billing's feed.
    let jose = reception_patients
        .create_patient(new_patient(
            "José",
            "Hernández",
            "+52 55 8765 4321",
            "journey-jose",
        ))
        .await
        .expect("José is registered")
        .into_inner();
    reception_billing
        .post_charge(billing::PostChargeRequest {
            patient_id: jose.patient_id.clone(),
            price_code: "CONS-01".into(),
            quantity: 2,
            appointment_id: String::new(),
            service_date: None,
            request_id: "journey-charge-jose".into(),
            ..Default::default()
        })
        .await
        .expect("José is charged");

    let ledger = manager_billing
        .list_ledger_entries(billing::ListLedgerEntriesRequest {
            after_sequence: 0,
            page_size: 100,
        })
        .await
        .expect("the ledger")
        .into_inner();
    let sequences: Vec<i64> = ledger.entries.iter().map(|entry| entry.sequence).collect();
    assert_eq!(
        sequences,
        [1, 2, 3],
        "two charges and one payment, no duplicate"
    );

    let receivables = receivables_once_caught_up(&mut collector, ledger.head_sequence).await;
    assert_eq!(receivables.accounts.len(), 1, "only José owes anything");
    let owed = &receivables.accounts[0];
    assert_eq!(owed.patient_id, jose.patient_id);
    assert_eq!(owed.patient_name, "José Hernández");
    assert_eq!(owed.balance, mxn(100_000));
    assert_eq!(owed.oldest_open_charge_date, Some(clinic.today()));
    assert_eq!(receivables.total_open, mxn(100_000));

    // The remote collector opens José's account: balances and contact data, never a visit's
    // reasons; scheduling refuses them the appointment itself.
    let account = collector
        .get_account(collections::GetAccountRequest {
            patient_id: jose.patient_id.clone(),
        })
        .await
        .expect("the collector opens the account")
        .into_inner();
    assert_eq!(account.balance, mxn(100_000));
    assert_eq!(account.phone, jose.phone);
    let mut collector_scheduling = SchedulingServiceClient::new(
        clinic
            .scheduling
            .channel_as(Role::Collections, "collections:remote-1")
            .await,
    );
    let refused = collector_scheduling
        .get_appointment(scheduling::GetAppointmentRequest {
            appointment_id: appointment.appointment_id.clone(),
        })
        .await
        .expect_err("collections staff do not read appointments");
    assert_eq!(refused.code(), Code::PermissionDenied);

    drop(queue);
    clinic.stop().await;
}

/// The next message on a watch, failing the test if none comes within two seconds.
async fn next_within<T>(stream: &mut tonic::Streaming<T>, what: &str) -> T {
    tokio::time::timeout(Duration::from_secs(2), stream.next())
        .await
        .unwrap_or_else(|_| panic!("no queue message for {what} within 2 s"))
        .expect("the watch is still open")
        .expect("the watch message is valid")
}

/// Receivables once collections has applied billing's ledger up to `head`, patient names
/// included.
async fn receivables_once_caught_up(
    collector: &mut CollectionsServiceClient<
        tonic::service::interceptor::InterceptedService<
            tonic::transport::Channel,
            clinic_common::auth::BearerToken,
        >,
    >,
    head: i64,
) -> collections::ListReceivablesResponse {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = collector
            .get_ledger_sync_status(collections::GetLedgerSyncStatusRequest {})
            .await
            .expect("sync status")
            .into_inner();
        if status.applied_sequence >= head {
            let receivables = collector
                .list_receivables(collections::ListReceivablesRequest { page: None })
                .await
                .expect("receivables")
                .into_inner();
            if receivables
                .accounts
                .iter()
                .all(|account| !account.patient_name.is_empty())
            {
                return receivables;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "collections did not catch up with billing within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
