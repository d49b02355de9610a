//! The scheduling service's API, over real gRPC on `127.0.0.1:0`, on SQLite and on PostgreSQL,
//! with a real patient registry beside it (each on its own database).

mod access;
mod appointment_types;
mod booking;
mod cancellation;
mod check_in;
mod double_booking;
mod free_slots;
mod front_desk;
mod kiosk;
mod life_cycle;
mod listing;
mod providers;
mod queue;
mod queue_ops;
mod reminders;
mod replicas;
mod reports;
mod resources;
mod waitlist;
mod walk_ins;
mod working_hours;

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use clinic_common::auth::{BearerToken, Role};
use clinic_common::clock::FixedClock;
use clinic_common::settings::ClinicSettings;
use clinic_proto::common::v1::Date;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_scheduling::{App, Settings};
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, clock_at, spawn,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = SchedulingServiceClient<InterceptedService<Channel, BearerToken>>;

/// "Now" in every test: 08:00 on 22 November 2026 in Mexico City, the clinic's zone (UTC-6).
pub const NOW: &str = "2026-11-22T14:00:00Z";

/// A patient registry to book against, with nothing in it.
pub const NOWHERE: &str = "http://127.0.0.1:1";

/// Scheduling and the patient registry serving on their own databases, sharing a clock stopped
/// at [`NOW`].
pub struct TestClinic {
    pub scheduling: RunningService,
    registry: Option<RunningService>,
    pub clock: FixedClock,
    pub database_url: String,
    _databases: Vec<TestDatabase>,
}

impl TestClinic {
    pub async fn start(database: TestDatabase) -> TestClinic {
        Self::start_with(database, |_| {}).await
    }

    /// Scheduling with its settings changed by `configure`, and a registry beside it.
    pub async fn start_with(
        database: TestDatabase,
        configure: impl FnOnce(&mut Settings),
    ) -> TestClinic {
        let registry_database = database.sibling().await;
        let clock = clock_at(NOW);
        let registry_settings = clinic_patients::Settings {
            listen: any_local_port(),
            database_url: registry_database.url().to_owned(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
        };
        let registry_app = clinic_patients::App::build(registry_settings, Arc::new(clock.clone()))
            .await
            .expect("the registry starts");
        let registry = spawn(registry_app.local_addr(), |shutdown| {
            registry_app.run_until_stopped(shutdown)
        });
        let mut clinic = Self::start_scheduling(database, &registry.url(), clock, configure).await;
        clinic.registry = Some(registry);
        clinic._databases.push(registry_database);
        clinic
    }

    /// Scheduling alone, its registry unreachable.
    pub async fn without_registry(database: TestDatabase) -> TestClinic {
        Self::start_scheduling(database, NOWHERE, clock_at(NOW), |_| {}).await
    }

    async fn start_scheduling(
        database: TestDatabase,
        patients_url: &str,
        clock: FixedClock,
        configure: impl FnOnce(&mut Settings),
    ) -> TestClinic {
        let scheduling = serve_scheduling(database.url(), patients_url, &clock, configure).await;
        TestClinic {
            scheduling,
            registry: None,
            clock,
            database_url: database.url().to_owned(),
            _databases: vec![database],
        }
    }

    /// A scheduling client calling as `role`, subject `<role>:tester`.
    pub async fn client(&self, role: Role) -> Client {
        self.client_as(role, &format!("{role}:tester")).await
    }

    /// A scheduling client calling as `role` with the token subject `subject`.
    pub async fn client_as(&self, role: Role, subject: &str) -> Client {
        SchedulingServiceClient::new(self.scheduling.channel_as(role, subject).await)
    }

    /// A second scheduling service on the same database and registry: another replica.
    pub async fn another_replica(&self) -> RunningService {
        self.another_replica_with(|_| {}).await
    }

    /// Another replica with its settings changed by `configure`.
    pub async fn another_replica_with(
        &self,
        configure: impl FnOnce(&mut Settings),
    ) -> RunningService {
        let registry = self.registry.as_ref().expect("the registry is running");
        serve_scheduling(&self.database_url, &registry.url(), &self.clock, configure).await
    }

    pub async fn stop_registry(&mut self) {
        self.registry
            .take()
            .expect("the registry is running")
            .stop()
            .await;
    }

    /// Registers a patient at the registry and returns their id.
    pub async fn register(&self, given: &str, family: &str, phone: &str) -> String {
        let registry = self.registry.as_ref().expect("the registry is running");
        let mut client = PatientServiceClient::new(
            registry
                .channel_as(Role::Reception, "reception:tester")
                .await,
        );
        client
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    given_name: given.into(),
                    family_name: family.into(),
                    date_of_birth: Some(maria_born()),
                    phone: phone.into(),
                    ..Default::default()
                }),
                request_id: request_id(&["register", phone]),
            })
            .await
            .expect("registered")
            .into_inner()
            .patient_id
    }

    /// The registry's access log of a patient, as a manager reads it.
    pub async fn access_log(&self, patient_id: &str) -> Vec<patients::PatientAccess> {
        let registry = self.registry.as_ref().expect("the registry is running");
        let mut client =
            PatientServiceClient::new(registry.channel_as(Role::Manager, "manager:tester").await);
        client
            .list_patient_access_log(patients::ListPatientAccessLogRequest {
                patient_id: patient_id.into(),
                page: None,
            })
            .await
            .expect("the access log")
            .into_inner()
            .entries
    }

    /// Registers `patient` as given (contact details, consents, language) and returns their id.
    pub async fn register_patient(&self, patient: patients::Patient, key: &str) -> String {
        let registry = self.registry.as_ref().expect("the registry is running");
        let mut client = PatientServiceClient::new(
            registry
                .channel_as(Role::Reception, "reception:tester")
                .await,
        );
        client
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    date_of_birth: Some(maria_born()),
                    ..patient
                }),
                request_id: request_id(&["register", key]),
            })
            .await
            .expect("registered")
            .into_inner()
            .patient_id
    }

    /// Registers María García (born 1985-03-14, phone ending 5678).
    pub async fn maria(&self) -> String {
        self.register("María", "García", "+52 55 1234 5678").await
    }

    /// Adds a dentist and returns their id.
    pub async fn provider(&self, name: &str) -> String {
        self.provider_of_kind(name, pb::ProviderKind::Dentist).await
    }

    /// Adds a provider of `kind` and returns their id.
    pub async fn provider_of_kind(&self, name: &str, kind: pb::ProviderKind) -> String {
        self.client(Role::Manager)
            .await
            .create_provider(pb::CreateProviderRequest {
                provider: Some(pb::Provider {
                    display_name: name.into(),
                    kind: kind.into(),
                    ..Default::default()
                }),
                request_id: request_id(&["provider", name]),
            })
            .await
            .expect("provider added")
            .into_inner()
            .provider_id
    }

    /// Books `minutes` with `provider_id` from `day` at `time` (clinic-local), as reception.
    pub async fn book(
        &self,
        patient_id: &str,
        provider_id: &str,
        (day, time): (u32, &str),
        minutes: i64,
    ) -> pb::Appointment {
        self.client(Role::Reception)
            .await
            .create_appointment(booking(patient_id, provider_id, (day, time), minutes))
            .await
            .expect("booked")
            .into_inner()
    }
}

/// Starts a scheduling service on `database_url`.
async fn serve_scheduling(
    database_url: &str,
    patients_url: &str,
    clock: &FixedClock,
    configure: impl FnOnce(&mut Settings),
) -> RunningService {
    let mut settings = Settings {
        listen: any_local_port(),
        database_url: database_url.to_owned(),
        patients_url: patients_url.to_owned(),
        clinic: ClinicSettings::default(),
        auth: auth_settings(),
        queue_alert_after_minutes: 10,
        triage: Default::default(),
        kiosk: Default::default(),
        front_desk: Default::default(),
    };
    configure(&mut settings);
    let app = App::build(settings, Arc::new(clock.clone()))
        .await
        .expect("scheduling starts");
    spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown))
}

/// An idempotency key made of `parts`, with anything but ASCII letters and digits replaced.
pub fn request_id(parts: &[&str]) -> String {
    parts
        .join("-")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// María's date of birth.
pub fn maria_born() -> Date {
    Date {
        year: 1985,
        month: 3,
        day: 14,
    }
}

/// `time` ("09:30") on November `day` 2026 in Mexico City, as a protobuf timestamp.
pub fn local(day: u32, time: &str) -> prost_types::Timestamp {
    let time = chrono::NaiveTime::parse_from_str(time, "%H:%M").expect("a HH:MM time");
    let date = NaiveDate::from_ymd_opt(2026, 11, day).expect("a November day");
    let instant = chrono_tz::America::Mexico_City
        .from_local_datetime(&date.and_time(time))
        .single()
        .expect("an unambiguous local time");
    prost_types::Timestamp {
        seconds: instant.timestamp(),
        nanos: 0,
    }
}

/// A booking request with a request id unique to its content.
pub fn booking(
    patient_id: &str,
    provider_id: &str,
    (day, time): (u32, &str),
    minutes: i64,
) -> pb::CreateAppointmentRequest {
    let start = local(day, time);
    let end = prost_types::Timestamp {
        seconds: start.seconds + minutes * 60,
        nanos: 0,
    };
    pb::CreateAppointmentRequest {
        appointment: Some(pb::Appointment {
            patient_id: patient_id.into(),
            provider_id: provider_id.into(),
            start_time: Some(start),
            end_time: Some(end),
            price_code: "CONS-01".into(),
            reason: "molar pain".into(),
            ..Default::default()
        }),
        request_id: format!("book-{patient_id}-{provider_id}-{day}-{time}-{minutes}"),
    }
}

/// November `day`, 2026, as a protobuf date.
pub fn november(day: i32) -> Date {
    Date {
        year: 2026,
        month: 11,
        day,
    }
}

/// The appointments on November `day`, as reception sees them.
pub async fn appointments_on(client: &mut Client, day: i32) -> Vec<pb::Appointment> {
    client
        .list_appointments(pb::ListAppointmentsRequest {
            day: Some(november(day)),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .appointments
}
