//! Cancelling and confirming appointments, and the status history every change leaves.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, maria_born};

backend_tests!(
    cancelling_less_than_a_day_ahead_is_late_and_earlier_is_not,
    cancelling_needs_a_reason_in_plain_text,
    only_active_appointments_can_be_cancelled,
    confirming_twice_changes_nothing_and_a_cancelled_visit_cannot_be_confirmed,
    every_status_change_is_recorded_with_who_made_it_and_when,
);

fn cancel(appointment_id: &str, reason: &str) -> pb::CancelAppointmentRequest {
    pb::CancelAppointmentRequest {
        appointment_id: appointment_id.into(),
        reason: reason.into(),
    }
}

async fn cancelling_less_than_a_day_ahead_is_late_and_earlier_is_not(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    // Now is 08:00 on the 22nd.
    let tomorrow_early = clinic.book(&maria, &provider_id, (23, "07:59"), 30).await;
    let tomorrow_later = clinic.book(&maria, &provider_id, (23, "08:30"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    let late = reception
        .cancel_appointment(cancel(&tomorrow_early.appointment_id, "fever"))
        .await
        .expect("cancelled")
        .into_inner();
    let in_time = reception
        .cancel_appointment(cancel(&tomorrow_later.appointment_id, "travelling"))
        .await
        .expect("cancelled")
        .into_inner();

    assert_eq!(late.status, i32::from(pb::AppointmentStatus::Cancelled));
    assert!(late.late_cancellation);
    assert_eq!(late.cancel_reason, "fever");
    assert!(!in_time.late_cancellation);
    let fetched = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: late.appointment_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(fetched, late);
}

async fn cancelling_needs_a_reason_in_plain_text(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &provider_id, (22, "09:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    let status = reception
        .cancel_appointment(cancel(&booked.appointment_id, "  "))
        .await
        .expect_err("refused");
    let both = reception
        .cancel_appointment(cancel("", &"x".repeat(501)))
        .await
        .expect_err("refused");
    // PostgreSQL cannot store a NUL: it is refused as bad input, not met as a database error.
    let with_nul = reception
        .cancel_appointment(cancel(&booked.appointment_id, "fever\0"))
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["reason"]);
    assert_eq!(violated_fields(&both), ["appointment_id", "reason"]);
    assert_eq!(with_nul.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&with_nul), ["reason"]);
    let unchanged = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: booked.appointment_id,
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(
        unchanged.status,
        i32::from(pb::AppointmentStatus::Scheduled)
    );
}

async fn only_active_appointments_can_be_cancelled(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &provider_id, (22, "09:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let first = reception
        .cancel_appointment(cancel(&booked.appointment_id, "fever"))
        .await
        .expect("cancelled")
        .into_inner();

    let again = reception
        .cancel_appointment(cancel(&booked.appointment_id, "changed my mind"))
        .await
        .expect_err("refused");

    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(again.message().contains("cancelled"), "{}", again.message());
    let fetched = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: booked.appointment_id,
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(fetched, first, "the first cancellation stands");
    let unknown = reception
        .cancel_appointment(cancel(
            &clinic_common::ids::AppointmentId::new().to_string(),
            "fever",
        ))
        .await
        .expect_err("not found");
    assert_eq!(unknown.code(), Code::NotFound);
}

async fn confirming_twice_changes_nothing_and_a_cancelled_visit_cannot_be_confirmed(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &provider_id, (23, "09:00"), 30).await;
    let cancelled = clinic.book(&maria, &provider_id, (23, "10:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .cancel_appointment(cancel(&cancelled.appointment_id, "fever"))
        .await
        .expect("cancelled");
    let confirm = |appointment_id: &str| pb::ConfirmAppointmentRequest {
        appointment_id: appointment_id.into(),
    };

    let first = reception
        .confirm_appointment(confirm(&booked.appointment_id))
        .await
        .expect("confirmed")
        .into_inner();
    let second = reception
        .confirm_appointment(confirm(&booked.appointment_id))
        .await
        .expect("confirmed again")
        .into_inner();
    let refused = reception
        .confirm_appointment(confirm(&cancelled.appointment_id))
        .await
        .expect_err("refused");

    assert_eq!(first.status, i32::from(pb::AppointmentStatus::Confirmed));
    assert_eq!(second, first);
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let history = reception
        .list_appointment_status_changes(pb::ListAppointmentStatusChangesRequest {
            appointment_id: booked.appointment_id,
            page: None,
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(history.status_changes.len(), 2, "one confirmation recorded");
}

async fn every_status_change_is_recorded_with_who_made_it_and_when(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &provider_id, (22, "09:00"), 30).await;
    clinic.clock.advance(chrono::TimeDelta::minutes(5));
    clinic
        .client(Role::Service)
        .await
        .confirm_appointment(pb::ConfirmAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
        })
        .await
        .expect("confirmed");
    clinic.clock.advance(chrono::TimeDelta::minutes(5));
    clinic
        .client(Role::Kiosk)
        .await
        .check_in_appointment(pb::CheckInAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
            identity: Some(pb::IdentityEvidence {
                date_of_birth: Some(maria_born()),
                phone_last_four: "5678".into(),
            }),
            confirmation_code: String::new(),
        })
        .await
        .expect("checked in");
    clinic.clock.advance(chrono::TimeDelta::minutes(5));
    clinic
        .client(Role::Manager)
        .await
        .cancel_appointment(cancel(&booked.appointment_id, "emergency at home"))
        .await
        .expect("cancelled");

    let history = clinic
        .client(Role::Reception)
        .await
        .list_appointment_status_changes(pb::ListAppointmentStatusChangesRequest {
            appointment_id: booked.appointment_id,
            page: None,
        })
        .await
        .expect("listed")
        .into_inner()
        .status_changes;

    let entries: Vec<(pb::AppointmentStatus, String, i64)> = history
        .into_iter()
        .map(|change| {
            (
                change.status(),
                change.changed_by,
                change.change_time.expect("set").seconds,
            )
        })
        .collect();
    let start = crate::local(22, "08:00").seconds;
    assert_eq!(
        entries,
        [
            (
                pb::AppointmentStatus::Scheduled,
                "reception:tester".to_owned(),
                start
            ),
            (
                pb::AppointmentStatus::Confirmed,
                "service:tester".to_owned(),
                start + 300
            ),
            (
                pb::AppointmentStatus::Arrived,
                "kiosk:tester".to_owned(),
                start + 600
            ),
            (
                pb::AppointmentStatus::Cancelled,
                "manager:tester".to_owned(),
                start + 900
            ),
        ]
    );
}
