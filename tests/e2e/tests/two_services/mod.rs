//! The patient registry and scheduling on SQLite, and one booking that makes scheduling ask the
//! registry: a call that crosses a service boundary, for the tests of what travels with calls.

use std::sync::Arc;

use clinic_common::auth::Role;
use clinic_common::clock::SharedClock;
use clinic_common::settings::ClinicSettings;
use clinic_proto::common::v1::Date;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_proto::timestamp_to_proto;
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, clock_at, spawn,
};

/// The family name the booked patient is registered with: it must never reach a log or a span.
pub const FAMILY_NAME: &str = "Zumárraga";

pub struct TwoServices {
    pub patients: RunningService,
    pub scheduling: RunningService,
    _databases: (TestDatabase, TestDatabase),
}

impl TwoServices {
    pub async fn start() -> TwoServices {
        let clock: SharedClock = Arc::new(clock_at("2026-11-22T16:00:00Z"));
        let (patients_db, scheduling_db) =
            (TestDatabase::sqlite().await, TestDatabase::sqlite().await);
        let app = clinic_patients::App::build(
            clinic_patients::Settings {
                listen: any_local_port(),
                database_url: patients_db.url().into(),
                clinic: ClinicSettings::default(),
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
                clinic: ClinicSettings::default(),
                auth: auth_settings(),
            },
            clock,
        )
        .await
        .expect("scheduling starts");
        let scheduling = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));
        TwoServices {
            patients,
            scheduling,
            _databases: (patients_db, scheduling_db),
        }
    }

    /// A booking request for a newly registered patient with a new dentist.
    pub async fn booking(&self) -> scheduling::CreateAppointmentRequest {
        let mut registry = PatientServiceClient::new(
            self.patients
                .channel_as(Role::Reception, "reception:ana")
                .await,
        );
        let patient = registry
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    given_name: "Ximena".into(),
                    family_name: FAMILY_NAME.into(),
                    date_of_birth: Some(Date {
                        year: 1990,
                        month: 3,
                        day: 14,
                    }),
                    phone: "+52 55 2468 1357".into(),
                    preferred_language: "es".into(),
                    ..Default::default()
                }),
                request_id: "observed-patient".into(),
            })
            .await
            .expect("the patient is registered")
            .into_inner();
        let dentist = self
            .scheduling_as(Role::Manager, "manager:luz")
            .await
            .create_provider(scheduling::CreateProviderRequest {
                provider: Some(scheduling::Provider {
                    display_name: "Dr. Iván Soto".into(),
                    kind: scheduling::ProviderKind::Dentist as i32,
                    ..Default::default()
                }),
                request_id: "observed-dentist".into(),
            })
            .await
            .expect("the dentist is added")
            .into_inner();
        let start: chrono::DateTime<chrono::Utc> =
            "2026-11-23T17:00:00Z".parse().expect("a valid instant");
        scheduling::CreateAppointmentRequest {
            appointment: Some(scheduling::Appointment {
                patient_id: patient.patient_id,
                provider_id: dentist.provider_id,
                start_time: Some(timestamp_to_proto(start)),
                end_time: Some(timestamp_to_proto(start + chrono::TimeDelta::minutes(30))),
                ..Default::default()
            }),
            request_id: "observed-appointment".into(),
        }
    }

    pub async fn scheduling_as(
        &self,
        role: Role,
        subject: &str,
    ) -> SchedulingServiceClient<
        tonic::service::interceptor::InterceptedService<
            tonic::transport::Channel,
            clinic_common::auth::BearerToken,
        >,
    > {
        SchedulingServiceClient::new(self.scheduling.channel_as(role, subject).await)
    }

    pub async fn stop(self) {
        self.scheduling.stop().await;
        self.patients.stop().await;
    }
}
