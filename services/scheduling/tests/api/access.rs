//! Who may call what, and what a caller learns when something breaks.

use clinic_common::auth::Role;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_test_support::{TestDatabase, backend_tests};
use sqlx::Connection;
use tonic::Code;

use crate::{TestClinic, november};

backend_tests!(
    calls_without_a_valid_token_are_unauthenticated,
    each_role_may_call_only_what_its_work_needs,
    internal_errors_reveal_nothing,
);

async fn calls_without_a_valid_token_are_unauthenticated(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let mut anonymous = SchedulingServiceClient::new(clinic.scheduling.channel().await);

    let listing = anonymous
        .list_providers(pb::ListProvidersRequest { page: None })
        .await
        .expect_err("refused");
    let watching = anonymous
        .watch_waiting_room(pb::WatchWaitingRoomRequest {})
        .await
        .expect_err("refused");

    assert_eq!(listing.code(), Code::Unauthenticated);
    assert_eq!(watching.code(), Code::Unauthenticated);
}

async fn each_role_may_call_only_what_its_work_needs(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let appointment_id = clinic_common::ids::AppointmentId::new().to_string();
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut collections = clinic.client(Role::Collections).await;
    let mut service = clinic.client(Role::Service).await;

    let refusals = [
        kiosk
            .create_appointment(pb::CreateAppointmentRequest::default())
            .await
            .map(|_| ()),
        kiosk
            .get_appointment(pb::GetAppointmentRequest {
                appointment_id: appointment_id.clone(),
            })
            .await
            .map(|_| ()),
        kiosk
            .list_appointments(pb::ListAppointmentsRequest {
                day: Some(november(22)),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        kiosk
            .watch_queue(pb::WatchQueueRequest {})
            .await
            .map(|_| ()),
        kiosk
            .cancel_appointment(pb::CancelAppointmentRequest::default())
            .await
            .map(|_| ()),
        reception
            .create_provider(pb::CreateProviderRequest::default())
            .await
            .map(|_| ()),
        collections
            .get_appointment(pb::GetAppointmentRequest {
                appointment_id: appointment_id.clone(),
            })
            .await
            .map(|_| ()),
        collections
            .watch_waiting_room(pb::WatchWaitingRoomRequest {})
            .await
            .map(|_| ()),
        service
            .cancel_appointment(pb::CancelAppointmentRequest::default())
            .await
            .map(|_| ()),
        service
            .check_in_appointment(pb::CheckInAppointmentRequest::default())
            .await
            .map(|_| ()),
    ];

    for (index, refusal) in refusals.into_iter().enumerate() {
        let status = refusal.expect_err("refused");
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "call {index}: {status:?}"
        );
    }
    let allowed = collections
        .list_providers(pb::ListProvidersRequest { page: None })
        .await;
    assert!(allowed.is_ok(), "collections may list providers");
}

/// Renames a table under the running service, so that its next query fails.
async fn sabotage(database_url: &str) {
    let statement = "ALTER TABLE providers RENAME TO providers_gone";
    if database_url.starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(database_url)
            .await
            .expect("connected");
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .expect("renamed");
    } else {
        let mut connection = sqlx::PgConnection::connect(database_url)
            .await
            .expect("connected");
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .expect("renamed");
    }
}

async fn internal_errors_reveal_nothing(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    sabotage(&clinic.database_url).await;

    let status = clinic
        .client(Role::Reception)
        .await
        .list_providers(pb::ListProvidersRequest { page: None })
        .await
        .expect_err("the query fails");

    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "internal error");
}
