//! Check-in at the desk and at the kiosk: identity, tickets, and what may be checked in.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, maria_born};

backend_tests!(
    reception_checks_patients_in_with_tickets_in_order_of_arrival,
    checking_in_again_returns_the_same_ticket,
    a_kiosk_must_present_identity,
    a_kiosk_with_the_wrong_identity_learns_nothing_and_changes_nothing,
    a_kiosk_checks_in_by_confirmation_code_and_sees_no_clinical_notes,
    only_todays_scheduled_or_confirmed_appointments_can_be_checked_in,
    concurrent_check_ins_each_get_their_own_ticket,
);

pub fn by_id(appointment_id: &str) -> pb::CheckInAppointmentRequest {
    pb::CheckInAppointmentRequest {
        appointment_id: appointment_id.into(),
        identity: None,
        confirmation_code: String::new(),
    }
}

fn marias_identity() -> Option<pb::IdentityEvidence> {
    Some(pb::IdentityEvidence {
        date_of_birth: Some(maria_born()),
        phone_last_four: "5678".into(),
    })
}

async fn reception_checks_patients_in_with_tickets_in_order_of_arrival(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let marias = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let lucias = clinic.book(&lucia, &ana, (22, "09:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    let first = reception
        .check_in_appointment(by_id(&marias.appointment_id))
        .await
        .expect("checked in")
        .into_inner();
    clinic.clock.advance(chrono::TimeDelta::minutes(3));
    let second = reception
        .check_in_appointment(by_id(&lucias.appointment_id))
        .await
        .expect("checked in")
        .into_inner();

    let appointment = first.appointment.expect("set");
    assert_eq!(
        appointment.status,
        i32::from(pb::AppointmentStatus::Arrived)
    );
    assert_eq!(appointment.reason, "molar pain", "staff see the reason");
    let entry = first.queue_entry.expect("set");
    assert_eq!(entry.ticket_number, "A-001");
    assert_eq!(entry.initials, "M. G.");
    assert_eq!(entry.patient_id, maria);
    assert_eq!(entry.appointment_id, marias.appointment_id);
    assert_eq!(entry.provider_id, ana);
    assert_eq!(entry.status, i32::from(pb::QueueEntryStatus::Waiting));
    assert_eq!(entry.position, 1);
    assert_eq!(entry.appointment_start_time, marias.start_time);
    assert_eq!(entry.arrived_time, Some(crate::local(22, "08:00")));
    let entry = second.queue_entry.expect("set");
    assert_eq!(entry.ticket_number, "A-002");
    assert_eq!(entry.initials, "L. P.");
    assert_eq!(entry.position, 2, "first come, first served");
}

async fn checking_in_again_returns_the_same_ticket(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let first = reception
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in")
        .into_inner();
    clinic.clock.advance(chrono::TimeDelta::minutes(2));

    let mut kiosk = clinic.client(Role::Kiosk).await;
    let mut again = by_id(&booked.appointment_id);
    again.identity = marias_identity();
    let second = kiosk
        .check_in_appointment(again)
        .await
        .expect("checked in again")
        .into_inner();

    assert_eq!(second.queue_entry, first.queue_entry);
    let history = reception
        .list_appointment_status_changes(pb::ListAppointmentStatusChangesRequest {
            appointment_id: booked.appointment_id,
            page: None,
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(
        history.status_changes.len(),
        2,
        "scheduled, then arrived once"
    );
}

async fn a_kiosk_must_present_identity(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    let status = kiosk
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect_err("refused");
    let mut malformed = by_id(&booked.appointment_id);
    malformed.identity = Some(pb::IdentityEvidence {
        date_of_birth: None,
        phone_last_four: "56a8".into(),
    });
    let malformed = kiosk
        .check_in_appointment(malformed)
        .await
        .expect_err("refused");
    let neither = kiosk
        .check_in_appointment(by_id(""))
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["identity"]);
    assert_eq!(
        violated_fields(&malformed),
        ["identity.date_of_birth", "identity.phone_last_four"]
    );
    assert_eq!(violated_fields(&neither), ["appointment_id", "identity"]);
}

async fn a_kiosk_with_the_wrong_identity_learns_nothing_and_changes_nothing(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let mut wrong_phone = by_id(&booked.appointment_id);
    wrong_phone.identity = Some(pb::IdentityEvidence {
        date_of_birth: Some(maria_born()),
        phone_last_four: "0000".into(),
    });
    let mut wrong_birthday = by_id(&booked.appointment_id);
    wrong_birthday.identity = Some(pb::IdentityEvidence {
        date_of_birth: Some(crate::november(1)),
        phone_last_four: "5678".into(),
    });

    let phone = kiosk
        .check_in_appointment(wrong_phone)
        .await
        .expect_err("refused");
    let birthday = kiosk
        .check_in_appointment(wrong_birthday)
        .await
        .expect_err("refused");

    for status in [phone, birthday] {
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(
            status.message(),
            "no appointment today matches those details"
        );
    }
    let unchanged = clinic
        .client(Role::Reception)
        .await
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(unchanged, booked);
}

async fn a_kiosk_checks_in_by_confirmation_code_and_sees_no_clinical_notes(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    let checked_in = kiosk
        .check_in_appointment(pb::CheckInAppointmentRequest {
            appointment_id: String::new(),
            identity: marias_identity(),
            confirmation_code: format!(" {} ", booked.confirmation_code.to_lowercase()),
        })
        .await
        .expect("checked in")
        .into_inner();

    let appointment = checked_in.appointment.expect("set");
    assert_eq!(appointment.appointment_id, booked.appointment_id);
    assert_eq!(
        appointment.status,
        i32::from(pb::AppointmentStatus::Arrived)
    );
    assert_eq!(appointment.reason, "", "the reason is clinical: staff only");
    assert_eq!(checked_in.queue_entry.expect("set").ticket_number, "A-001");
    let unknown_code = kiosk
        .check_in_appointment(pb::CheckInAppointmentRequest {
            appointment_id: String::new(),
            identity: marias_identity(),
            confirmation_code: "ZZZZZZ".into(),
        })
        .await
        .expect_err("no such code");
    assert_eq!(unknown_code.code(), Code::NotFound);
    let mistyped = kiosk
        .check_in_appointment(pb::CheckInAppointmentRequest {
            appointment_id: String::new(),
            identity: marias_identity(),
            confirmation_code: "ABC10O".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&mistyped), ["confirmation_code"]);
}

async fn only_todays_scheduled_or_confirmed_appointments_can_be_checked_in(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let tomorrow = clinic.book(&maria, &ana, (23, "10:00"), 30).await;
    let cancelled = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: cancelled.appointment_id.clone(),
            reason: "fever".into(),
        })
        .await
        .expect("cancelled");

    let early = reception
        .check_in_appointment(by_id(&tomorrow.appointment_id))
        .await
        .expect_err("refused");
    let called_off = reception
        .check_in_appointment(by_id(&cancelled.appointment_id))
        .await
        .expect_err("refused");
    let unknown = reception
        .check_in_appointment(by_id(&clinic_common::ids::AppointmentId::new().to_string()))
        .await
        .expect_err("refused");

    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().contains("2026-11-23"),
        "{}",
        early.message()
    );
    assert_eq!(called_off.code(), Code::FailedPrecondition);
    assert!(called_off.message().contains("cancelled"));
    assert_eq!(unknown.code(), Code::NotFound);
}

async fn concurrent_check_ins_each_get_their_own_ticket(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut appointment_ids = Vec::new();
    for time in [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30",
    ] {
        appointment_ids.push(
            clinic
                .book(&maria, &ana, (22, time), 30)
                .await
                .appointment_id,
        );
    }
    let reception = clinic.client(Role::Reception).await;

    let mut calls = Vec::new();
    for appointment_id in appointment_ids.iter().chain(appointment_ids.iter()) {
        let mut client = reception.clone();
        let request = by_id(appointment_id);
        calls.push(tokio::spawn(async move {
            client.check_in_appointment(request).await
        }));
    }
    let mut tickets = std::collections::BTreeMap::new();
    for call in calls {
        let entry = call
            .await
            .expect("the call task finished")
            .expect("checked in")
            .into_inner()
            .queue_entry
            .expect("set");
        let previous = tickets.insert(entry.appointment_id.clone(), entry.ticket_number.clone());
        if let Some(previous) = previous {
            assert_eq!(previous, entry.ticket_number, "one ticket per appointment");
        }
    }

    let mut issued: Vec<String> = tickets.into_values().collect();
    issued.sort();
    assert_eq!(
        issued,
        [
            "A-001", "A-002", "A-003", "A-004", "A-005", "A-006", "A-007", "A-008"
        ]
    );
}
