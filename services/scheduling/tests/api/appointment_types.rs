//! Appointment types: managing them, and booking with them.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, booking, local};

backend_tests!(
    a_manager_adds_a_type_and_reception_finds_it,
    a_retried_create_returns_the_first_type,
    a_bad_type_names_every_offending_field,
    two_live_types_never_share_a_name,
    booking_with_a_type_takes_its_length_and_price_code,
    what_a_booking_gives_itself_wins_over_its_type,
    changing_a_type_changes_new_bookings_only,
    deleted_types_stay_readable_but_cannot_be_booked_or_changed,
    a_booking_needs_an_end_or_a_known_type,
    only_managers_change_types_and_the_kiosk_does_not_read_them,
);

fn cleaning(name: &str, minutes: i32, price_code: &str) -> pb::AppointmentType {
    pb::AppointmentType {
        display_name: name.into(),
        duration_minutes: minutes,
        price_code: price_code.into(),
        needs_xray: false,
        ..Default::default()
    }
}

async fn add_type(
    client: &mut Client,
    appointment_type: pb::AppointmentType,
    request_id: &str,
) -> Result<pb::AppointmentType, tonic::Status> {
    client
        .create_appointment_type(pb::CreateAppointmentTypeRequest {
            appointment_type: Some(appointment_type),
            request_id: request_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// A booking request for `minutes` that names `appointment_type_id` and leaves the end and the
/// price code to it.
fn typed_booking(
    patient_id: &str,
    provider_id: &str,
    (day, time): (u32, &str),
    appointment_type_id: &str,
) -> pb::CreateAppointmentRequest {
    let mut request = booking(patient_id, provider_id, (day, time), 1);
    let appointment = request.appointment.as_mut().expect("set");
    appointment.end_time = None;
    appointment.price_code.clear();
    appointment.appointment_type_id = appointment_type_id.into();
    request.request_id = format!("{}-typed", request.request_id);
    request
}

async fn a_manager_adds_a_type_and_reception_finds_it(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let added = add_type(
        &mut manager,
        pb::AppointmentType {
            needs_xray: true,
            ..cleaning(" Limpieza dental ", 45, "LIMP-01")
        },
        "type-1",
    )
    .await
    .expect("added");
    let fetched = reception
        .get_appointment_type(pb::GetAppointmentTypeRequest {
            appointment_type_id: added.appointment_type_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    let listed = reception
        .list_appointment_types(pb::ListAppointmentTypesRequest::default())
        .await
        .expect("listed")
        .into_inner();

    // Assert
    assert_eq!(added.display_name, "Limpieza dental");
    assert_eq!(added.duration_minutes, 45);
    assert_eq!(added.price_code, "LIMP-01");
    assert!(added.needs_xray);
    assert!(added.create_time.is_some());
    assert_eq!(added.delete_time, None);
    assert_eq!(fetched, added);
    assert_eq!(listed.appointment_types, [added]);
}

async fn a_retried_create_returns_the_first_type(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let first = add_type(&mut manager, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
        .await
        .expect("added");
    let retried = add_type(&mut manager, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
        .await
        .expect("answered again");
    let reused = add_type(&mut manager, cleaning("Consulta", 30, "CONS-01"), "type-1")
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(retried, first);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    let listed = manager
        .list_appointment_types(pb::ListAppointmentTypesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .appointment_types;
    assert_eq!(listed, [first]);
}

async fn a_bad_type_names_every_offending_field(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let status = add_type(&mut manager, cleaning(" ", 0, ""), "")
        .await
        .expect_err("refused");
    let too_long = add_type(&mut manager, cleaning("Cirugía", 481, "CIR 01"), "type-2")
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        [
            "request_id",
            "appointment_type.display_name",
            "appointment_type.duration_minutes",
            "appointment_type.price_code",
        ]
    );
    assert_eq!(
        violated_fields(&too_long),
        [
            "appointment_type.duration_minutes",
            "appointment_type.price_code"
        ]
    );
    let listed = manager
        .list_appointment_types(pb::ListAppointmentTypesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .appointment_types;
    assert!(listed.is_empty());
}

async fn two_live_types_never_share_a_name(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let first = add_type(&mut manager, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
        .await
        .expect("added");
    let other = add_type(&mut manager, cleaning("Consulta", 30, "CONS-01"), "type-2")
        .await
        .expect("added");

    // Act
    let duplicate = add_type(&mut manager, cleaning("Limpieza", 60, "LIMP-02"), "type-3")
        .await
        .expect_err("refused");
    let renamed = manager
        .update_appointment_type(pb::UpdateAppointmentTypeRequest {
            appointment_type: Some(pb::AppointmentType {
                appointment_type_id: other.appointment_type_id.clone(),
                ..cleaning("Limpieza", 30, "CONS-01")
            }),
        })
        .await
        .expect_err("refused");
    manager
        .delete_appointment_type(pb::DeleteAppointmentTypeRequest {
            appointment_type_id: first.appointment_type_id.clone(),
        })
        .await
        .expect("deleted");
    let reused_name = add_type(&mut manager, cleaning("Limpieza", 60, "LIMP-02"), "type-4").await;

    // Assert
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    assert_eq!(renamed.code(), Code::AlreadyExists);
    assert_eq!(
        reused_name
            .expect("the name is free again")
            .duration_minutes,
        60
    );
}

async fn booking_with_a_type_takes_its_length_and_price_code(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut manager = clinic.client(Role::Manager).await;
    let limpieza = add_type(&mut manager, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
        .await
        .expect("added");
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let booked = reception
        .create_appointment(typed_booking(
            &maria,
            &ana,
            (23, "10:00"),
            &limpieza.appointment_type_id,
        ))
        .await
        .expect("booked")
        .into_inner();
    let moved = reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
            start_time: Some(local(24, "10:00")),
            end_time: None,
            request_id: "move-1".into(),
            provider_id: String::new(),
        })
        .await
        .expect("rescheduled")
        .into_inner()
        .appointment
        .expect("set");

    // Assert
    assert_eq!(booked.end_time, Some(local(23, "10:45")));
    assert_eq!(booked.price_code, "LIMP-01");
    assert_eq!(booked.appointment_type_id, limpieza.appointment_type_id);
    assert_eq!(moved.appointment_type_id, limpieza.appointment_type_id);
    assert_eq!(moved.end_time, Some(local(24, "10:45")));
}

async fn what_a_booking_gives_itself_wins_over_its_type(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut manager = clinic.client(Role::Manager).await;
    let limpieza = add_type(&mut manager, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
        .await
        .expect("added");
    let mut request = booking(&maria, &ana, (23, "10:00"), 20);
    request
        .appointment
        .as_mut()
        .expect("set")
        .appointment_type_id = limpieza.appointment_type_id.clone();

    // Act
    let booked = clinic
        .client(Role::Reception)
        .await
        .create_appointment(request)
        .await
        .expect("booked")
        .into_inner();

    // Assert
    assert_eq!(booked.end_time, Some(local(23, "10:20")));
    assert_eq!(booked.price_code, "CONS-01");
    assert_eq!(booked.appointment_type_id, limpieza.appointment_type_id);
}

async fn changing_a_type_changes_new_bookings_only(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut manager = clinic.client(Role::Manager).await;
    let limpieza = add_type(&mut manager, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
        .await
        .expect("added");
    let mut reception = clinic.client(Role::Reception).await;
    let earlier = typed_booking(&maria, &ana, (23, "10:00"), &limpieza.appointment_type_id);
    let before = reception
        .create_appointment(earlier.clone())
        .await
        .expect("booked")
        .into_inner();
    clinic.clock.advance(chrono::TimeDelta::minutes(1));

    // Act
    let changed = manager
        .update_appointment_type(pb::UpdateAppointmentTypeRequest {
            appointment_type: Some(pb::AppointmentType {
                appointment_type_id: limpieza.appointment_type_id.clone(),
                needs_xray: true,
                ..cleaning("Limpieza profunda", 60, "LIMP-02")
            }),
        })
        .await
        .expect("changed")
        .into_inner();
    let after = reception
        .create_appointment(typed_booking(
            &maria,
            &ana,
            (23, "12:00"),
            &limpieza.appointment_type_id,
        ))
        .await
        .expect("booked")
        .into_inner();
    let retried = reception
        .create_appointment(earlier)
        .await
        .expect("answered again")
        .into_inner();

    // Assert
    assert_eq!(changed.display_name, "Limpieza profunda");
    assert_eq!(changed.duration_minutes, 60);
    assert!(changed.needs_xray);
    assert_eq!(changed.create_time, limpieza.create_time);
    assert_ne!(changed.update_time, limpieza.update_time);
    assert_eq!(after.end_time, Some(local(23, "13:00")));
    assert_eq!(after.price_code, "LIMP-02");
    assert_eq!(retried, before);
    let unchanged = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: before.appointment_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(unchanged.end_time, Some(local(23, "10:45")));
    assert_eq!(unchanged.price_code, "LIMP-01");
}

async fn deleted_types_stay_readable_but_cannot_be_booked_or_changed(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut manager = clinic.client(Role::Manager).await;
    let limpieza = add_type(&mut manager, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
        .await
        .expect("added");
    let delete = || pb::DeleteAppointmentTypeRequest {
        appointment_type_id: limpieza.appointment_type_id.clone(),
    };

    // Act
    let deleted = manager
        .delete_appointment_type(delete())
        .await
        .expect("deleted")
        .into_inner();
    clinic.clock.advance(chrono::TimeDelta::minutes(1));
    let again = manager
        .delete_appointment_type(delete())
        .await
        .expect("deleting again changes nothing")
        .into_inner();
    let booking = clinic
        .client(Role::Reception)
        .await
        .create_appointment(typed_booking(
            &maria,
            &ana,
            (23, "10:00"),
            &limpieza.appointment_type_id,
        ))
        .await
        .expect_err("refused");
    let changing = manager
        .update_appointment_type(pb::UpdateAppointmentTypeRequest {
            appointment_type: Some(pb::AppointmentType {
                appointment_type_id: limpieza.appointment_type_id.clone(),
                ..cleaning("Limpieza", 60, "LIMP-01")
            }),
        })
        .await
        .expect_err("refused");

    // Assert
    assert!(deleted.delete_time.is_some());
    assert_eq!(again, deleted);
    assert_eq!(
        violated_fields(&booking),
        ["appointment.appointment_type_id"]
    );
    assert_eq!(changing.code(), Code::FailedPrecondition);
    let live = manager
        .list_appointment_types(pb::ListAppointmentTypesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .appointment_types;
    let all = manager
        .list_appointment_types(pb::ListAppointmentTypesRequest {
            show_deleted: true,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .appointment_types;
    assert!(live.is_empty());
    assert_eq!(all, [deleted]);
}

async fn a_booking_needs_an_end_or_a_known_type(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut untyped = booking(&maria, &ana, (23, "10:00"), 30);
    untyped.appointment.as_mut().expect("set").end_time = None;
    let unknown = clinic_common::ids::AppointmentId::new().to_string();

    // Act
    let without_end = reception
        .create_appointment(untyped)
        .await
        .expect_err("refused");
    let unknown_type = reception
        .create_appointment(typed_booking(&maria, &ana, (23, "10:00"), &unknown))
        .await
        .expect_err("refused");
    let malformed_type = reception
        .create_appointment(typed_booking(&maria, &ana, (23, "10:00"), "limpieza"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(violated_fields(&without_end), ["appointment.end_time"]);
    assert_eq!(
        violated_fields(&unknown_type),
        ["appointment.appointment_type_id"]
    );
    assert_eq!(
        violated_fields(&malformed_type),
        ["appointment.appointment_type_id", "appointment.end_time"]
    );
    assert!(crate::appointments_on(&mut reception, 23).await.is_empty());
}

async fn only_managers_change_types_and_the_kiosk_does_not_read_them(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let appointment_type_id = clinic_common::ids::AppointmentId::new().to_string();
    let mut kiosk = clinic.client(Role::Kiosk).await;

    for role in [
        Role::Reception,
        Role::Kiosk,
        Role::Collections,
        Role::Service,
    ] {
        let mut client = clinic.client(role).await;

        // Act
        let refusals = [
            add_type(&mut client, cleaning("Limpieza", 45, "LIMP-01"), "type-1")
                .await
                .map(|_| ()),
            client
                .update_appointment_type(pb::UpdateAppointmentTypeRequest::default())
                .await
                .map(|_| ()),
            client
                .delete_appointment_type(pb::DeleteAppointmentTypeRequest {
                    appointment_type_id: appointment_type_id.clone(),
                })
                .await
                .map(|_| ()),
        ];

        // Assert
        for refusal in refusals {
            assert_eq!(
                refusal.expect_err("refused").code(),
                Code::PermissionDenied,
                "{role}"
            );
        }
    }
    let listing = kiosk
        .list_appointment_types(pb::ListAppointmentTypesRequest::default())
        .await
        .expect_err("refused");
    let reading = kiosk
        .get_appointment_type(pb::GetAppointmentTypeRequest {
            appointment_type_id: appointment_type_id.clone(),
        })
        .await
        .expect_err("refused");
    assert_eq!(listing.code(), Code::PermissionDenied);
    assert_eq!(reading.code(), Code::PermissionDenied);
}
