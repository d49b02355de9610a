//! Each mode's main flow, driven through the accessibility tree with egui_kittest (no display,
//! no GPU) against the real patient registry, scheduling and billing services (and collections,
//! for the collections desk), started in-process on 127.0.0.1:0 over real gRPC, each on its own
//! SQLite file.

mod checkin;
mod collections;
mod counter;
mod display;
mod outbox;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DurationRound, TimeDelta};
use clinic_common::auth::Role;
use clinic_common::clock::{Clock, SharedClock, SystemClock};
use clinic_common::settings::ClinicSettings;
use clinic_kiosk::KioskApp;
use clinic_kiosk::backend::Backend;
use clinic_kiosk::config::{
    CheckinConfig, ClinicInfo, CollectionsConfig, CounterConfig, DisplayConfig, KioskConfig, Mode,
    PrinterConfig, ServiceUrls,
};
use clinic_kiosk::i18n::Lang;
use clinic_proto::billing::v1 as billing;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::common::v1::{Date, Money};
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_proto::timestamp_to_proto;
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, spawn, token,
};
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

/// How long a flow waits for the services to answer before failing.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The three services a front desk talks to, on a runtime of their own.
pub struct Clinic {
    pub runtime: tokio::runtime::Runtime,
    patients: Option<RunningService>,
    scheduling: Option<RunningService>,
    billing: Option<RunningService>,
    collections: Option<RunningService>,
    scheduling_addr: SocketAddr,
    billing_addr: SocketAddr,
    databases: Vec<TestDatabase>,
    pub dir: tempfile::TempDir,
}

/// The patient every flow checks in: born 1985-03-14 (unless a flow says otherwise), phone ending
/// 5678.
pub struct Booked {
    pub patient_id: String,
    pub provider_id: String,
    pub appointment_id: String,
    pub confirmation_code: String,
}

impl Clinic {
    pub fn start() -> Clinic {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (patients, scheduling, billing, databases) = runtime.block_on(async {
            let databases = vec![
                TestDatabase::sqlite().await,
                TestDatabase::sqlite().await,
                TestDatabase::sqlite().await,
            ];
            let app = clinic_patients::App::build(
                clinic_patients::Settings {
                    listen: any_local_port(),
                    database_url: databases[0].url().into(),
                    clinic: ClinicSettings::default(),
                    auth: auth_settings(),
                },
                clock(),
            )
            .await
            .expect("patients starts");
            let patients = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));
            let scheduling =
                start_scheduling(any_local_port(), &databases[1], &patients.url()).await;
            let billing = start_billing(
                any_local_port(),
                &databases[2],
                &patients.url(),
                &scheduling.url(),
            )
            .await;
            (patients, scheduling, billing, databases)
        });
        Clinic {
            runtime,
            scheduling_addr: scheduling.addr,
            billing_addr: billing.addr,
            patients: Some(patients),
            scheduling: Some(scheduling),
            billing: Some(billing),
            collections: None,
            databases,
            dir,
        }
    }

    fn patients_url(&self) -> String {
        self.patients.as_ref().expect("patients runs").url()
    }

    pub fn stop_billing(&mut self) {
        let billing = self.billing.take().expect("billing runs");
        self.runtime.block_on(billing.stop());
    }

    /// Billing again, on its old address and database, as after a restart.
    pub fn restart_billing(&mut self) {
        let url = self.patients_url();
        let scheduling_url = format!("http://{}", self.scheduling_addr);
        let billing = self.runtime.block_on(start_billing(
            self.billing_addr,
            &self.databases[2],
            &url,
            &scheduling_url,
        ));
        self.billing = Some(billing);
    }

    pub fn stop_scheduling(&mut self) {
        let scheduling = self.scheduling.take().expect("scheduling runs");
        self.runtime.block_on(scheduling.stop());
    }

    pub fn restart_scheduling(&mut self) {
        let url = self.patients_url();
        let scheduling = self.runtime.block_on(start_scheduling(
            self.scheduling_addr,
            &self.databases[1],
            &url,
        ));
        self.scheduling = Some(scheduling);
    }

    /// Starts collections, following billing's ledger, with contact hours that span the whole day
    /// so that a flow's outcome does not depend on when it runs.
    pub fn start_collections(&mut self) {
        let database = self.runtime.block_on(TestDatabase::sqlite());
        let settings = clinic_collections::Settings {
            listen: any_local_port(),
            database_url: database.url().into(),
            billing_url: format!("http://{}", self.billing_addr),
            patients_url: self.patients_url(),
            ledger_poll_interval_ms: 100,
            payment_terms_days: 0,
            contact_rules: clinic_collections::config::ContactRulesSettings {
                earliest: chrono::NaiveTime::MIN,
                latest: chrono::NaiveTime::from_hms_opt(23, 59, 59).expect("a time"),
                ..Default::default()
            },
            escalation: Default::default(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
        };
        let collections = self.runtime.block_on(async {
            let app = clinic_collections::App::build(settings, clock())
                .await
                .expect("collections starts");
            spawn(app.local_addr(), |stop| app.run_until_stopped(stop))
        });
        self.databases.push(database);
        self.collections = Some(collections);
    }

    pub fn urls(&self) -> ServiceUrls {
        ServiceUrls {
            patients: self.patients_url(),
            scheduling: format!("http://{}", self.scheduling_addr),
            billing: format!("http://{}", self.billing_addr),
            collections: self
                .collections
                .as_ref()
                .map(RunningService::url)
                .unwrap_or_default(),
        }
    }

    pub fn config(&self, mode: Mode, lang: Lang) -> KioskConfig {
        let role = match mode {
            Mode::Counter => Role::Reception,
            Mode::Checkin | Mode::Display => Role::Kiosk,
            Mode::Collections => Role::Collections,
        };
        KioskConfig {
            mode,
            token: token(role, &format!("{}:{}-test", role, mode.name())),
            language: lang,
            clinic: ClinicInfo {
                name: "Clínica Demo".into(),
                time_zone: "America/Mexico_City".into(),
                currency: "MXN".into(),
            },
            services: self.urls(),
            checkin: CheckinConfig::default(),
            counter: CounterConfig {
                terminal_id: "counter-1".into(),
                printer: PrinterConfig::Pdf {
                    directory: self.dir.path().join("receipts"),
                },
                exports_dir: self.dir.path().join("exports"),
            },
            display: DisplayConfig { fullscreen: false },
            collections: CollectionsConfig {
                collector: format!("{role}:{}-test", mode.name()),
                notices_dir: self.dir.path().join("notices"),
            },
            outbox_dir: self.dir.path().join(format!("outbox-{}", mode.name())),
            fonts: Vec::new(),
        }
    }

    /// The client in `mode`, in a window of a kiosk's size.
    pub fn harness(&self, mode: Mode, lang: Lang) -> Harness<'static, KioskApp> {
        self.harness_sized(mode, lang, egui::vec2(1280.0, 800.0))
    }

    /// The client in `mode`, on a screen of `size`.
    pub fn harness_sized(
        &self,
        mode: Mode,
        lang: Lang,
        size: egui::Vec2,
    ) -> Harness<'static, KioskApp> {
        let config = self.config(mode, lang);
        let backend = Backend::new(
            self.runtime.handle().clone(),
            &config.services,
            &config.token,
        )
        .expect("clients");
        Harness::builder().with_size(size).build_ui_state(
            |ui, app: &mut KioskApp| app.ui(ui),
            KioskApp::new(config, backend, clock()),
        )
    }

    pub fn patients(&self, role: Role) -> PatientServiceClient<clinic_kiosk::backend::AuthChannel> {
        let backend = Backend::new(
            self.runtime.handle().clone(),
            &self.urls(),
            &token(role, &format!("{role}:seeder")),
        )
        .expect("clients");
        backend.patients
    }

    pub fn scheduling(
        &self,
        role: Role,
    ) -> SchedulingServiceClient<clinic_kiosk::backend::AuthChannel> {
        Backend::new(
            self.runtime.handle().clone(),
            &self.urls(),
            &token(role, &format!("{role}:seeder")),
        )
        .expect("clients")
        .scheduling
    }

    pub fn billing(&self, role: Role) -> BillingServiceClient<clinic_kiosk::backend::AuthChannel> {
        Backend::new(
            self.runtime.handle().clone(),
            &self.urls(),
            &token(role, &format!("{role}:seeder")),
        )
        .expect("clients")
        .billing
    }

    /// Ana Prueba's date of birth, as the flows type it at the kiosk.
    const ANA_BORN: Date = Date {
        year: 1985,
        month: 3,
        day: 14,
    };

    /// Registers Ana Prueba and books her with a provider for the current minute, today.
    pub fn book(&self) -> Booked {
        self.book_holding(Vec::new())
    }

    /// [`Clinic::book`], the appointment holding `resource_ids` (chairs, rooms, equipment).
    pub fn book_holding(&self, resource_ids: Vec<String>) -> Booked {
        self.book_as(("Ana", "Prueba"), Self::ANA_BORN, resource_ids)
    }

    /// [`Clinic::book`] for a patient of another name (the same birth date, 1985-03-14, and
    /// phone ending 5678).
    pub fn book_patient(&self, names: (&str, &str), resource_ids: Vec<String>) -> Booked {
        self.book_as(names, Self::ANA_BORN, resource_ids)
    }

    /// [`Clinic::book_holding`], Ana Prueba born on `date_of_birth` (a child, say).
    pub fn book_born(&self, date_of_birth: Date, resource_ids: Vec<String>) -> Booked {
        self.book_as(("Ana", "Prueba"), date_of_birth, resource_ids)
    }

    /// Registers a patient named `given` `family`, born on `date_of_birth`, with a phone ending
    /// 5678, and books them with a provider for the current minute, today.
    fn book_as(
        &self,
        (given, family): (&str, &str),
        date_of_birth: Date,
        resource_ids: Vec<String>,
    ) -> Booked {
        let mut registry = self.patients(Role::Reception);
        let mut scheduling = self.scheduling(Role::Manager);
        let mut billing = self.billing(Role::Manager);
        self.runtime.block_on(async {
            let patient = registry
                .create_patient(patients::CreatePatientRequest {
                    patient: Some(patients::Patient {
                        given_name: given.into(),
                        family_name: family.into(),
                        date_of_birth: Some(date_of_birth),
                        phone: "+525512345678".into(),
                        preferred_language: "es".into(),
                        ..Default::default()
                    }),
                    request_id: "flow-patient".into(),
                })
                .await
                .expect("registered")
                .into_inner();
            let provider = scheduling
                .create_provider(scheduling::CreateProviderRequest {
                    provider: Some(scheduling::Provider {
                        display_name: "Dra. Ana Ruiz".into(),
                        kind: scheduling::ProviderKind::Dentist as i32,
                        ..Default::default()
                    }),
                    request_id: "flow-provider".into(),
                })
                .await
                .expect("provider")
                .into_inner();
            // A provider without working hours can be booked at any time, so the flow works
            // whenever it runs; a start in the current minute is always today.
            let start = SystemClock
                .now()
                .duration_trunc(TimeDelta::minutes(1))
                .expect("a minute");
            let appointment = scheduling
                .create_appointment(scheduling::CreateAppointmentRequest {
                    appointment: Some(scheduling::Appointment {
                        patient_id: patient.patient_id.clone(),
                        provider_id: provider.provider_id.clone(),
                        resource_ids,
                        start_time: Some(timestamp_to_proto(start)),
                        end_time: Some(timestamp_to_proto(start + TimeDelta::minutes(30))),
                        price_code: "CONS-01".into(),
                        ..Default::default()
                    }),
                    request_id: "flow-appointment".into(),
                })
                .await
                .expect("booked")
                .into_inner();
            billing
                .create_price_list_item(billing::CreatePriceListItemRequest {
                    item: Some(billing::PriceListItem {
                        code: "CONS-01".into(),
                        description: "Consulta".into(),
                        unit_price: Some(mxn(50_000)),
                        kind: billing::PriceListItemKind::Service as i32,
                        ..Default::default()
                    }),
                    request_id: "flow-price".into(),
                })
                .await
                .expect("price list");
            Booked {
                patient_id: patient.patient_id,
                provider_id: provider.provider_id,
                appointment_id: appointment.appointment_id,
                confirmation_code: appointment.confirmation_code,
            }
        })
    }

    /// Posts a consultation to the patient's account.
    pub fn charge(&self, patient_id: &str) {
        self.charge_on(patient_id, None);
    }

    /// Posts a consultation given on `service_date` (today when `None`).
    pub fn charge_on(&self, patient_id: &str, service_date: Option<Date>) {
        let mut billing = self.billing(Role::Reception);
        self.runtime
            .block_on(billing.post_charge(billing::PostChargeRequest {
                patient_id: patient_id.into(),
                price_code: "CONS-01".into(),
                quantity: 1,
                appointment_id: String::new(),
                request_id: match &service_date {
                    Some(day) => format!(
                        "flow-charge-{patient_id}-{}-{}-{}",
                        day.year, day.month, day.day
                    ),
                    None => format!("flow-charge-{patient_id}"),
                },
                service_date,
                ..Default::default()
            }))
            .expect("charged");
    }

    pub fn statement(&self, patient_id: &str) -> billing::Statement {
        let mut billing = self.billing(Role::Reception);
        self.runtime
            .block_on(billing.get_statement(billing::GetStatementRequest {
                patient_id: patient_id.into(),
                from_date: None,
                to_date: None,
            }))
            .expect("statement")
            .into_inner()
    }
}

fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

pub fn mxn(minor_units: i64) -> Money {
    Money {
        minor_units,
        currency_code: "MXN".into(),
    }
}

async fn start_scheduling(
    listen: SocketAddr,
    database: &TestDatabase,
    patients_url: &str,
) -> RunningService {
    let app = clinic_scheduling::App::build(
        clinic_scheduling::Settings {
            listen,
            database_url: database.url().into(),
            patients_url: patients_url.into(),
            queue_alert_after_minutes: clinic_scheduling::config::DEFAULT_QUEUE_ALERT_AFTER_MINUTES,
            triage: Default::default(),
            kiosk: Default::default(),
            front_desk: Default::default(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
        },
        clock(),
    )
    .await
    .expect("scheduling starts");
    spawn(app.local_addr(), |stop| app.run_until_stopped(stop))
}

async fn start_billing(
    listen: SocketAddr,
    database: &TestDatabase,
    patients_url: &str,
    scheduling_url: &str,
) -> RunningService {
    let app = clinic_billing::App::build(
        clinic_billing::Settings {
            listen,
            database_url: database.url().into(),
            patients_url: patients_url.into(),
            scheduling_url: scheduling_url.into(),
            discount_limit_percent: clinic_billing::config::DEFAULT_DISCOUNT_LIMIT_PERCENT,
            cfdi: None,
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
            drawer_difference_limit_minor: 5_000,
        },
        clock(),
    )
    .await
    .expect("billing starts");
    spawn(app.local_addr(), |stop| app.run_until_stopped(stop))
}

/// Steps the UI until a node whose label contains `text` shows, as the services answer.
pub fn wait_for(harness: &mut Harness<'_, KioskApp>, text: &str) {
    wait_until(harness, text, |harness| {
        harness.query_all_by_label_contains(text).next().is_some()
    });
}

/// Steps the UI until `done` holds.
pub fn wait_until(
    harness: &mut Harness<'_, KioskApp>,
    what: &str,
    done: impl Fn(&Harness<'_, KioskApp>) -> bool,
) {
    let started = Instant::now();
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "gave up waiting for {what:?}; the screen shows: {:?}",
            labels(harness)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every label on screen, for failure messages.
pub fn labels(harness: &Harness<'_, KioskApp>) -> Vec<String> {
    harness
        .query_all(egui_kittest::kittest::By::new())
        .filter_map(|node| {
            let node = node.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .collect()
}

/// Clicks the button labelled exactly `label` (scrolled into sight first, as a person would,
/// when it lies below the window), then draws a frame.
pub fn click(harness: &mut Harness<'_, KioskApp>, label: &str) {
    let window = harness.ctx.content_rect();
    for _ in 0..10 {
        let button = harness.get_by_role_and_label(egui::accesskit::Role::Button, label);
        if window.contains_rect(button.rect()) {
            break;
        }
        button.scroll_to_me();
        harness.step();
    }
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, label)
        .click();
    harness.step();
    harness.step();
}

/// Shows the counter's schedule as a list, one row an appointment with its next steps as
/// buttons (the counter opens on the appointment book).
pub fn schedule_as_list(harness: &mut Harness<'_, KioskApp>) {
    harness.step();
    let list = clinic_kiosk::i18n::T::AsList;
    let label = clinic_kiosk::i18n::Lang::ALL
        .into_iter()
        .map(|lang| list.get(lang))
        .find(|label| harness.query_by_label(label).is_some())
        .expect("the schedule's views");
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// Types into the text field a caption labels.
pub fn type_into(harness: &mut Harness<'_, KioskApp>, label: &str, text: &str) {
    let field = harness.get_by_label(label);
    field.focus();
    field.type_text(text);
    harness.step();
    harness.step();
}

/// Replaces the text of the field a caption labels.
pub fn set_text(harness: &mut Harness<'_, KioskApp>, label: &str, text: &str) {
    harness.get_by_label(label).set_text_value_accesskit(text);
    harness.step();
    harness.step();
}

pub fn outbox_files(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default()
}
