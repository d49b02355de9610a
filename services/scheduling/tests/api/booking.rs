//! Booking: the rules a booking must follow, idempotency, and no double booking.

use clinic_common::auth::Role;
use clinic_common::ids::{PatientId, ProviderId};
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, appointments_on, booking, local};

backend_tests!(
    booking_schedules_the_appointment_with_a_confirmation_code,
    retrying_a_booking_returns_the_first_appointment_even_with_the_registry_down,
    reusing_a_request_id_for_another_booking_is_refused,
    invalid_bookings_name_every_bad_field_and_store_nothing,
    booking_for_an_unregistered_patient_is_refused_on_patient_id,
    booking_with_an_unknown_provider_is_refused_on_provider_id,
    booking_while_the_registry_is_unreachable_is_unavailable,
    an_overlapping_booking_is_refused_naming_the_appointment_in_the_way,
    back_to_back_bookings_and_other_providers_do_not_conflict,
    a_cancelled_appointment_frees_its_time,
    thirty_concurrent_bookings_of_one_slot_yield_exactly_one_appointment,
    concurrent_retries_of_one_booking_all_return_the_same_appointment,
);

async fn booking_schedules_the_appointment_with_a_confirmation_code(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;

    let booked = clinic
        .book(&patient_id, &provider_id, (22, "09:00"), 45)
        .await;

    assert_eq!(booked.status, i32::from(pb::AppointmentStatus::Scheduled));
    assert_eq!(booked.start_time, Some(local(22, "09:00")));
    assert_eq!(booked.end_time, Some(local(22, "09:45")));
    assert_eq!(booked.price_code, "CONS-01");
    assert_eq!(booked.reason, "molar pain");
    assert!(!booked.late_cancellation);
    let code = &booked.confirmation_code;
    assert_eq!(code.len(), 6);
    assert!(
        code.chars()
            .all(|c| "23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c)),
        "{code}"
    );
    let fetched = clinic
        .client(Role::Reception)
        .await
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(fetched, booked);
}

async fn retrying_a_booking_returns_the_first_appointment_even_with_the_registry_down(
    database: TestDatabase,
) {
    let mut clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let request = booking(&patient_id, &provider_id, (22, "09:00"), 30);
    let first = reception
        .create_appointment(request.clone())
        .await
        .expect("booked")
        .into_inner();
    clinic.stop_registry().await;

    let retry = reception
        .create_appointment(request)
        .await
        .expect("retried")
        .into_inner();

    assert_eq!(retry, first);
    assert_eq!(appointments_on(&mut reception, 22).await, [first]);
}

async fn reusing_a_request_id_for_another_booking_is_refused(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let request = booking(&patient_id, &provider_id, (22, "09:00"), 30);
    reception
        .create_appointment(request.clone())
        .await
        .expect("booked");

    let mut later = booking(&patient_id, &provider_id, (22, "11:00"), 30);
    later.request_id = request.request_id;
    let status = reception
        .create_appointment(later)
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["request_id"]);
    assert_eq!(appointments_on(&mut reception, 22).await.len(), 1);
}

async fn invalid_bookings_name_every_bad_field_and_store_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut request = booking("not-a-uuid", "", (22, "09:00"), 30);
    let appointment = request.appointment.as_mut().expect("set");
    appointment.start_time.as_mut().expect("set").seconds += 30;
    appointment.end_time = Some(local(22, "08:30"));
    appointment.price_code = "CONS 01".into();
    appointment.reason = "x".repeat(501);
    request.request_id = "has spaces".into();

    let status = reception
        .create_appointment(request)
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        [
            "request_id",
            "appointment.patient_id",
            "appointment.provider_id",
            "appointment.start_time",
            "appointment.end_time",
            "appointment.price_code",
            "appointment.reason",
        ]
    );
    assert!(appointments_on(&mut reception, 22).await.is_empty());

    let too_long = booking(
        &PatientId::new().to_string(),
        &ProviderId::new().to_string(),
        (22, "09:00"),
        8 * 60 + 1,
    );
    let status = reception
        .create_appointment(too_long)
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&status), ["appointment.end_time"]);
}

async fn booking_for_an_unregistered_patient_is_refused_on_patient_id(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;

    let status = reception
        .create_appointment(booking(
            &PatientId::new().to_string(),
            &provider_id,
            (22, "09:00"),
            30,
        ))
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["appointment.patient_id"]);
    assert!(appointments_on(&mut reception, 22).await.is_empty());
}

async fn booking_with_an_unknown_provider_is_refused_on_provider_id(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let mut reception = clinic.client(Role::Reception).await;

    let status = reception
        .create_appointment(booking(
            &patient_id,
            &ProviderId::new().to_string(),
            (22, "09:00"),
            30,
        ))
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["appointment.provider_id"]);
}

async fn booking_while_the_registry_is_unreachable_is_unavailable(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;

    let status = reception
        .create_appointment(booking(
            &PatientId::new().to_string(),
            &provider_id,
            (22, "09:00"),
            30,
        ))
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(appointments_on(&mut reception, 22).await.is_empty());
}

async fn an_overlapping_booking_is_refused_naming_the_appointment_in_the_way(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let first = clinic.book(&maria, &provider_id, (22, "09:00"), 60).await;
    let mut reception = clinic.client(Role::Reception).await;

    let status = reception
        .create_appointment(booking(&lucia, &provider_id, (22, "09:30"), 60))
        .await
        .expect_err("double booking refused");

    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains(&first.appointment_id),
        "{}",
        status.message()
    );
    assert!(
        status
            .message()
            .contains("from 2026-11-22 09:00 to 10:00 CST"),
        "{}",
        status.message()
    );
    let inside = reception
        .create_appointment(booking(&lucia, &provider_id, (22, "09:15"), 15))
        .await
        .expect_err("a slot inside another is refused");
    assert_eq!(inside.code(), Code::FailedPrecondition);
    let around = reception
        .create_appointment(booking(&lucia, &provider_id, (22, "08:30"), 120))
        .await
        .expect_err("a slot around another is refused");
    assert_eq!(around.code(), Code::FailedPrecondition);
    assert_eq!(appointments_on(&mut reception, 22).await, [first]);
}

async fn back_to_back_bookings_and_other_providers_do_not_conflict(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    clinic.book(&maria, &ana, (22, "09:00"), 60).await;

    clinic.book(&lucia, &ana, (22, "10:00"), 30).await;
    clinic.book(&lucia, &ana, (22, "08:30"), 30).await;
    clinic.book(&lucia, &luis, (22, "09:00"), 60).await;

    let mut reception = clinic.client(Role::Reception).await;
    assert_eq!(appointments_on(&mut reception, 22).await.len(), 4);
}

async fn a_cancelled_appointment_frees_its_time(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let first = clinic.book(&maria, &provider_id, (22, "09:00"), 60).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: first.appointment_id,
            reason: "patient travelling".into(),
        })
        .await
        .expect("cancelled");

    let second = reception
        .create_appointment(booking(&lucia, &provider_id, (22, "09:00"), 60))
        .await;

    assert!(second.is_ok(), "{second:?}");
}

async fn thirty_concurrent_bookings_of_one_slot_yield_exactly_one_appointment(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let reception = clinic.client(Role::Reception).await;

    let mut calls = Vec::new();
    for attempt in 0..30 {
        let mut client = reception.clone();
        let mut request = booking(&patient_id, &provider_id, (22, "10:00"), 30);
        request.request_id = format!("race-{attempt}");
        calls.push(tokio::spawn(async move {
            client.create_appointment(request).await
        }));
    }
    let mut booked = Vec::new();
    let mut refused = Vec::new();
    for call in calls {
        match call.await.expect("the call task finished") {
            Ok(response) => booked.push(response.into_inner()),
            Err(status) => refused.push(status),
        }
    }

    assert_eq!(booked.len(), 1, "exactly one booking wins: {refused:?}");
    assert_eq!(refused.len(), 29);
    for status in &refused {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(status.message().contains(&booked[0].appointment_id));
    }
    let mut reception = reception;
    assert_eq!(appointments_on(&mut reception, 22).await, booked);
}

async fn concurrent_retries_of_one_booking_all_return_the_same_appointment(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let request = booking(&patient_id, &provider_id, (22, "10:00"), 30);

    let mut calls = Vec::new();
    for _ in 0..10 {
        let mut client = reception.clone();
        let request = request.clone();
        calls.push(tokio::spawn(async move {
            client.create_appointment(request).await
        }));
    }
    let mut booked = Vec::new();
    for call in calls {
        let appointment = call
            .await
            .expect("the call task finished")
            .expect("every retry succeeds")
            .into_inner();
        booked.push(appointment.appointment_id);
    }

    booked.dedup();
    assert_eq!(booked.len(), 1, "one appointment: {booked:?}");
    assert_eq!(appointments_on(&mut reception, 22).await.len(), 1);
}
