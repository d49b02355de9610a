//! The patient registry's API, over real gRPC on `127.0.0.1:0`, on SQLite and on PostgreSQL.

mod access;
mod fiscal;
mod intake;
mod registration;
mod search;

use std::sync::Arc;

use clinic_common::auth::{BearerToken, Role};
use clinic_common::settings::ClinicSettings;
use clinic_patients::{App, Settings};
use clinic_proto::common::v1::Date;
use clinic_proto::patients::v1 as pb;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, clock_at, spawn,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = PatientServiceClient<InterceptedService<Channel, BearerToken>>;

/// The registry serving on its own database, with its clock at a known afternoon in Mexico City.
pub struct TestRegistry {
    pub service: RunningService,
    _database: TestDatabase,
}

impl TestRegistry {
    pub async fn start(database: TestDatabase) -> TestRegistry {
        TestRegistry::start_at(database, "2026-11-22T18:00:00Z").await
    }

    /// The registry with its clock stopped at `now` (RFC 3339).
    pub async fn start_at(database: TestDatabase, now: &str) -> TestRegistry {
        Self::start_with(database, now, |_| async {}).await
    }

    /// Stops the registry, lets `meanwhile` change its database as an older version would have
    /// left it, and starts it again.
    pub async fn restart<F>(self, meanwhile: impl FnOnce(String) -> F) -> TestRegistry
    where
        F: std::future::Future<Output = ()>,
    {
        self.service.stop().await;
        Self::start_with(self._database, "2026-11-22T18:00:00Z", meanwhile).await
    }

    async fn start_with<F>(
        database: TestDatabase,
        now: &str,
        before: impl FnOnce(String) -> F,
    ) -> TestRegistry
    where
        F: std::future::Future<Output = ()>,
    {
        before(database.url().to_owned()).await;
        let settings = Settings {
            listen: any_local_port(),
            database_url: database.url().to_owned(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
        };
        let clock = Arc::new(clock_at(now));
        let app = App::build(settings, clock)
            .await
            .expect("the registry starts");
        let service = spawn(app.local_addr(), |shutdown| app.run_until_stopped(shutdown));
        TestRegistry {
            service,
            _database: database,
        }
    }

    pub async fn client(&self, role: Role) -> Client {
        PatientServiceClient::new(
            self.service
                .channel_as(role, &format!("{role}:tester"))
                .await,
        )
    }
}

/// A valid registration for María García.
pub fn maria(request_id: &str) -> pb::CreatePatientRequest {
    pb::CreatePatientRequest {
        patient: Some(pb::Patient {
            given_name: "María".into(),
            family_name: "García".into(),
            date_of_birth: Some(Date {
                year: 1985,
                month: 3,
                day: 14,
            }),
            phone: "+52 55 1234 5678".into(),
            email: "maria.garcia@example.mx".into(),
            preferred_language: "es".into(),
            consent: Some(pb::ContactConsent {
                sms: true,
                whatsapp: true,
                email: true,
                phone_call: true,
            }),
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}
