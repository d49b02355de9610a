//! Chairs, rooms and equipment: managing them, what appointment types need, and bookings that
//! are given free ones and never share one. "Now" is 08:00 on Sunday 22 November 2026; the
//! 24th is a Tuesday.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::DateRange;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::working_hours::interval;
use crate::{TestClinic, booking, local, november};

backend_tests!(
    resources_are_added_listed_and_updated,
    bad_resource_requests_name_every_offending_field,
    resource_hours_and_exceptions_are_kept,
    a_type_states_the_resources_it_needs,
    a_booking_is_given_a_free_chair_and_the_xray,
    the_xray_is_never_in_two_appointments_at_once,
    a_chosen_chair_must_be_free_and_cancelling_frees_it,
    maintenance_out_of_service_and_hours_keep_a_resource_from_being_booked,
    free_slots_leave_out_times_when_the_resources_are_taken,
    a_rescheduled_visit_keeps_its_chair_when_free,
    managing_resources_needs_a_manager,
);

/// Adds a resource and returns its id.
pub(crate) async fn resource(clinic: &TestClinic, name: &str, kind: pb::ResourceKind) -> String {
    clinic
        .client(Role::Manager)
        .await
        .create_resource(pb::CreateResourceRequest {
            resource: Some(pb::Resource {
                display_name: name.into(),
                kind: kind.into(),
                ..Default::default()
            }),
            request_id: crate::request_id(&["resource", name]),
        })
        .await
        .expect("resource added")
        .into_inner()
        .resource_id
}

/// Adds a 30-minute appointment type needing `requirements` and returns its id.
pub(crate) async fn type_needing(
    clinic: &TestClinic,
    name: &str,
    requirements: Vec<pb::ResourceRequirement>,
) -> String {
    let mut manager = clinic.client(Role::Manager).await;
    let type_id = manager
        .create_appointment_type(pb::CreateAppointmentTypeRequest {
            appointment_type: Some(pb::AppointmentType {
                display_name: name.into(),
                duration_minutes: 30,
                price_code: "RX-01".into(),
                ..Default::default()
            }),
            request_id: crate::request_id(&["type", name]),
        })
        .await
        .expect("type added")
        .into_inner()
        .appointment_type_id;
    manager
        .set_appointment_type_resources(pb::SetAppointmentTypeResourcesRequest {
            appointment_type_resources: Some(pb::AppointmentTypeResources {
                appointment_type_id: type_id.clone(),
                requirements,
            }),
        })
        .await
        .expect("requirements set");
    type_id
}

pub(crate) fn any(kind: pb::ResourceKind) -> pb::ResourceRequirement {
    pb::ResourceRequirement {
        kind: kind.into(),
        resource_id: String::new(),
    }
}

pub(crate) fn exactly(kind: pb::ResourceKind, resource_id: &str) -> pb::ResourceRequirement {
    pb::ResourceRequirement {
        kind: kind.into(),
        resource_id: resource_id.into(),
    }
}

/// A booking of `type_id` (30 minutes) for the patient with the provider at November `day`
/// `time`, with a request id unique to its content.
pub(crate) fn typed_booking(
    patient_id: &str,
    provider_id: &str,
    type_id: &str,
    (day, time): (u32, &str),
) -> pb::CreateAppointmentRequest {
    let mut request = booking(patient_id, provider_id, (day, time), 30);
    let appointment = request.appointment.as_mut().expect("an appointment");
    appointment.appointment_type_id = type_id.into();
    appointment.end_time = None;
    // The type's price code applies.
    appointment.price_code = String::new();
    request.request_id = format!("{}-{type_id}", request.request_id);
    request
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn resources_are_added_listed_and_updated(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let request = pb::CreateResourceRequest {
        resource: Some(pb::Resource {
            display_name: "Sillón 1".into(),
            kind: pb::ResourceKind::Chair.into(),
            ..Default::default()
        }),
        request_id: "chair-1".into(),
    };
    let chair = manager
        .create_resource(request.clone())
        .await
        .expect("added")
        .into_inner();
    assert_eq!(chair.display_name, "Sillón 1");
    assert_eq!(chair.kind, i32::from(pb::ResourceKind::Chair));
    assert!(chair.in_service);
    let retry = manager.create_resource(request).await.expect("retried");
    assert_eq!(retry.into_inner(), chair);
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;

    let taken = manager
        .create_resource(pb::CreateResourceRequest {
            resource: Some(pb::Resource {
                display_name: "Sillón 1".into(),
                kind: pb::ResourceKind::Room.into(),
                ..Default::default()
            }),
            request_id: "chair-1-again".into(),
        })
        .await
        .expect_err("name taken");
    assert_eq!(taken.code(), Code::AlreadyExists);

    let mut reception = clinic.client(Role::Reception).await;
    let all = reception
        .list_resources(pb::ListResourcesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .resources;
    let names: Vec<&str> = all.iter().map(|r| r.display_name.as_str()).collect();
    assert_eq!(names, ["Rayos X", "Sillón 1"]);
    let equipment = reception
        .list_resources(pb::ListResourcesRequest {
            kind: pb::ResourceKind::Equipment.into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .resources;
    assert_eq!(equipment.len(), 1);
    assert_eq!(equipment[0].resource_id, xray);

    let updated = manager
        .update_resource(pb::UpdateResourceRequest {
            resource: Some(pb::Resource {
                resource_id: chair.resource_id.clone(),
                display_name: "Sillón A".into(),
                in_service: false,
                // The kind never changes: this is ignored.
                kind: pb::ResourceKind::Room.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("updated")
        .into_inner();
    assert_eq!(updated.display_name, "Sillón A");
    assert!(!updated.in_service);
    assert_eq!(updated.kind, i32::from(pb::ResourceKind::Chair));
    let missing = manager
        .update_resource(pb::UpdateResourceRequest {
            resource: Some(pb::Resource {
                resource_id: uuid::Uuid::now_v7().to_string(),
                display_name: "Nada".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("no such resource");
    assert_eq!(missing.code(), Code::NotFound);
}

async fn bad_resource_requests_name_every_offending_field(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let status = manager
        .create_resource(pb::CreateResourceRequest {
            resource: Some(pb::Resource::default()),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        ["request_id", "resource.display_name", "resource.kind"]
    );

    let status = manager
        .set_appointment_type_resources(pb::SetAppointmentTypeResourcesRequest {
            appointment_type_resources: Some(pb::AppointmentTypeResources {
                appointment_type_id: "nope".into(),
                requirements: vec![pb::ResourceRequirement {
                    kind: 0,
                    resource_id: "x".into(),
                }],
            }),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        violated_fields(&status),
        [
            "appointment_type_resources.appointment_type_id",
            "appointment_type_resources.requirements[0].kind",
            "appointment_type_resources.requirements[0].resource_id",
        ]
    );

    let status = manager
        .set_resource_hours(pb::SetResourceHoursRequest {
            resource_hours: Some(pb::ResourceHours {
                resource_id: String::new(),
                intervals: vec![interval(pb::DayOfWeek::Tuesday, "10:00", "09:00")],
            }),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        violated_fields(&status),
        [
            "resource_hours.resource_id",
            "resource_hours.intervals[0].end_time",
        ]
    );

    let status = manager
        .add_resource_exception(pb::AddResourceExceptionRequest {
            resource_exception: Some(pb::ResourceException::default()),
            request_id: "r".into(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        violated_fields(&status),
        [
            "resource_exception.resource_id",
            "resource_exception.start_time",
            "resource_exception.end_time",
            "resource_exception.kind",
        ]
    );

    let mut reception = clinic.client(Role::Reception).await;
    let status = reception
        .create_appointment(pb::CreateAppointmentRequest {
            appointment: Some(pb::Appointment {
                resource_ids: vec!["chair".into()],
                ..booking(
                    &uuid::Uuid::now_v7().to_string(),
                    &uuid::Uuid::now_v7().to_string(),
                    (24, "09:00"),
                    30,
                )
                .appointment
                .expect("an appointment")
            }),
            request_id: "bad-resource".into(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(violated_fields(&status), ["appointment.resource_ids[0]"]);
}

async fn resource_hours_and_exceptions_are_kept(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let mut manager = clinic.client(Role::Manager).await;
    let hours = vec![
        interval(pb::DayOfWeek::Tuesday, "16:00", "20:00"),
        interval(pb::DayOfWeek::Tuesday, "09:00", "14:00"),
    ];
    let set = manager
        .set_resource_hours(pb::SetResourceHoursRequest {
            resource_hours: Some(pb::ResourceHours {
                resource_id: xray.clone(),
                intervals: hours.clone(),
            }),
        })
        .await
        .expect("set")
        .into_inner();
    assert_eq!(set.intervals, [hours[1], hours[0]]);
    let read = clinic
        .client(Role::Reception)
        .await
        .get_resource_hours(pb::GetResourceHoursRequest {
            resource_id: xray.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read, set);

    let request = pb::AddResourceExceptionRequest {
        resource_exception: Some(pb::ResourceException {
            resource_id: xray.clone(),
            start_time: Some(local(24, "10:00")),
            end_time: Some(local(24, "12:00")),
            kind: pb::ScheduleExceptionKind::Block.into(),
            note: "mantenimiento".into(),
            ..Default::default()
        }),
        request_id: "xray-maintenance".into(),
    };
    let added = manager
        .add_resource_exception(request.clone())
        .await
        .expect("added")
        .into_inner();
    assert_eq!(added.created_by, "manager:tester");
    let retry = manager
        .add_resource_exception(request)
        .await
        .expect("retried");
    assert_eq!(retry.into_inner(), added);
    let listed = manager
        .list_resource_exceptions(pb::ListResourceExceptionsRequest {
            resource_id: xray.clone(),
            start_time: Some(local(24, "00:00")),
            end_time: Some(local(25, "00:00")),
        })
        .await
        .expect("listed")
        .into_inner()
        .resource_exceptions;
    assert_eq!(listed, std::slice::from_ref(&added));
    let deleted = manager
        .delete_resource_exception(pb::DeleteResourceExceptionRequest {
            resource_exception_id: added.resource_exception_id.clone(),
        })
        .await
        .expect("deleted")
        .into_inner();
    assert_eq!(deleted, added);
    let again = manager
        .delete_resource_exception(pb::DeleteResourceExceptionRequest {
            resource_exception_id: added.resource_exception_id,
        })
        .await
        .expect_err("gone");
    assert_eq!(again.code(), Code::NotFound);
}

async fn a_type_states_the_resources_it_needs(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let requirements = vec![
        any(pb::ResourceKind::Chair),
        exactly(pb::ResourceKind::Equipment, &xray),
    ];
    let type_id = type_needing(&clinic, "Radiografía", requirements.clone()).await;
    let read = clinic
        .client(Role::Reception)
        .await
        .get_appointment_type_resources(pb::GetAppointmentTypeResourcesRequest {
            appointment_type_id: type_id.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read.requirements, requirements);

    let mut manager = clinic.client(Role::Manager).await;
    let wrong_kind = manager
        .set_appointment_type_resources(pb::SetAppointmentTypeResourcesRequest {
            appointment_type_resources: Some(pb::AppointmentTypeResources {
                appointment_type_id: type_id.clone(),
                requirements: vec![exactly(pb::ResourceKind::Chair, &xray)],
            }),
        })
        .await
        .expect_err("the x-ray is no chair");
    assert_eq!(wrong_kind.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&wrong_kind),
        ["appointment_type_resources.requirements"]
    );
    let unknown_type = manager
        .set_appointment_type_resources(pb::SetAppointmentTypeResourcesRequest {
            appointment_type_resources: Some(pb::AppointmentTypeResources {
                appointment_type_id: uuid::Uuid::now_v7().to_string(),
                requirements: vec![],
            }),
        })
        .await
        .expect_err("no such type");
    assert_eq!(unknown_type.code(), Code::NotFound);
}

async fn a_booking_is_given_a_free_chair_and_the_xray(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let juan = clinic.register("Juan", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    let chair_1 = resource(&clinic, "Sillón 1", pb::ResourceKind::Chair).await;
    let chair_2 = resource(&clinic, "Sillón 2", pb::ResourceKind::Chair).await;
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let cleaning = type_needing(&clinic, "Limpieza", vec![any(pb::ResourceKind::Chair)]).await;
    let mut reception = clinic.client(Role::Reception).await;

    let first = reception
        .create_appointment(typed_booking(&maria, &ana, &cleaning, (24, "09:00")))
        .await
        .expect("booked")
        .into_inner();
    let second = reception
        .create_appointment(typed_booking(&juan, &luis, &cleaning, (24, "09:00")))
        .await
        .expect("booked")
        .into_inner();

    assert_eq!(first.resource_ids.len(), 1);
    assert_eq!(second.resource_ids.len(), 1);
    assert_eq!(
        sorted(vec![
            first.resource_ids[0].clone(),
            second.resource_ids[0].clone()
        ]),
        sorted(vec![chair_1.clone(), chair_2.clone()])
    );
    assert_eq!(first.price_code, "RX-01");
    // A third provider finds no chair left.
    let eva = clinic.provider("Dra. Eva Sol").await;
    let third = reception
        .create_appointment(typed_booking(&maria, &eva, &cleaning, (24, "09:15")))
        .await
        .expect_err("no chair");
    assert_eq!(third.code(), Code::FailedPrecondition);
    assert!(
        third
            .message()
            .starts_with("no chair is free at that time: Sillón"),
        "{}",
        third.message()
    );
    // A chosen x-ray is held besides the chair; the appointment shows both.
    let with_xray = reception
        .create_appointment(pb::CreateAppointmentRequest {
            appointment: Some(pb::Appointment {
                resource_ids: vec![xray.clone()],
                ..typed_booking(&maria, &eva, &cleaning, (24, "10:00"))
                    .appointment
                    .expect("an appointment")
            }),
            request_id: "with-xray".into(),
        })
        .await
        .expect("booked")
        .into_inner();
    assert_eq!(with_xray.resource_ids.len(), 2);
    assert!(with_xray.resource_ids.contains(&xray));
    let fetched = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: with_xray.appointment_id.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(fetched, with_xray);
}

async fn the_xray_is_never_in_two_appointments_at_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let radiograph = type_needing(
        &clinic,
        "Radiografía",
        vec![exactly(pb::ResourceKind::Equipment, &xray)],
    )
    .await;
    let mut reception = clinic.client(Role::Reception).await;
    let first = reception
        .create_appointment(typed_booking(&maria, &ana, &radiograph, (24, "09:00")))
        .await
        .expect("booked")
        .into_inner();
    assert_eq!(first.resource_ids, std::slice::from_ref(&xray));

    let clash = reception
        .create_appointment(typed_booking(&maria, &luis, &radiograph, (24, "09:15")))
        .await
        .expect_err("the x-ray is taken");

    assert_eq!(clash.code(), Code::FailedPrecondition);
    assert!(
        clash
            .message()
            .starts_with("the equipment Rayos X is already booked from"),
        "{}",
        clash.message()
    );
    assert!(clash.message().contains(&first.appointment_id));
    // Back to back is fine.
    reception
        .create_appointment(typed_booking(&maria, &luis, &radiograph, (24, "09:30")))
        .await
        .expect("booked after");
}

async fn a_chosen_chair_must_be_free_and_cancelling_frees_it(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    let chair = resource(&clinic, "Sillón 1", pb::ResourceKind::Chair).await;
    let mut reception = clinic.client(Role::Reception).await;
    let in_chair = |provider: &str, request_id: &str| {
        let mut request = booking(&maria, provider, (24, "09:00"), 30);
        request
            .appointment
            .as_mut()
            .expect("an appointment")
            .resource_ids = vec![chair.clone()];
        request.request_id = request_id.into();
        request
    };
    let first = reception
        .create_appointment(in_chair(&ana, "first"))
        .await
        .expect("booked")
        .into_inner();
    assert_eq!(first.resource_ids, std::slice::from_ref(&chair));

    let clash = reception
        .create_appointment(in_chair(&luis, "second"))
        .await
        .expect_err("the chair is taken");
    assert_eq!(clash.code(), Code::FailedPrecondition);
    assert!(
        clash
            .message()
            .starts_with("the chair Sillón 1 is already booked"),
        "{}",
        clash.message()
    );

    let mut unknown = in_chair(&luis, "unknown");
    unknown
        .appointment
        .as_mut()
        .expect("an appointment")
        .resource_ids = vec![uuid::Uuid::now_v7().to_string()];
    let status = reception
        .create_appointment(unknown)
        .await
        .expect_err("no such resource");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["appointment.resource_ids"]);

    reception
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: first.appointment_id,
            reason: "patient asked".into(),
        })
        .await
        .expect("cancelled");
    let after = reception
        .create_appointment(in_chair(&luis, "third"))
        .await
        .expect("the chair is free again")
        .into_inner();
    assert_eq!(after.resource_ids, [chair]);
}

async fn maintenance_out_of_service_and_hours_keep_a_resource_from_being_booked(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let radiograph = type_needing(
        &clinic,
        "Radiografía",
        vec![any(pb::ResourceKind::Equipment)],
    )
    .await;
    let mut manager = clinic.client(Role::Manager).await;
    manager
        .add_resource_exception(pb::AddResourceExceptionRequest {
            resource_exception: Some(pb::ResourceException {
                resource_id: xray.clone(),
                start_time: Some(local(24, "09:00")),
                end_time: Some(local(24, "10:00")),
                kind: pb::ScheduleExceptionKind::Block.into(),
                ..Default::default()
            }),
            request_id: "maintenance".into(),
        })
        .await
        .expect("added");
    manager
        .set_resource_hours(pb::SetResourceHoursRequest {
            resource_hours: Some(pb::ResourceHours {
                resource_id: xray.clone(),
                intervals: vec![interval(pb::DayOfWeek::Tuesday, "09:00", "12:00")],
            }),
        })
        .await
        .expect("hours set");
    let mut reception = clinic.client(Role::Reception).await;

    let on_block = reception
        .create_appointment(typed_booking(&maria, &ana, &radiograph, (24, "09:30")))
        .await
        .expect_err("under maintenance");
    assert_eq!(
        on_block.message(),
        "no equipment is free at that time: Rayos X is on a block"
    );
    let after_hours = reception
        .create_appointment(typed_booking(&maria, &ana, &radiograph, (24, "12:00")))
        .await
        .expect_err("after hours");
    assert_eq!(
        after_hours.message(),
        "no equipment is free at that time: Rayos X is outside its hours on Tuesday"
    );
    reception
        .create_appointment(typed_booking(&maria, &ana, &radiograph, (24, "10:00")))
        .await
        .expect("inside hours, after the block");

    manager
        .update_resource(pb::UpdateResourceRequest {
            resource: Some(pb::Resource {
                resource_id: xray,
                display_name: "Rayos X".into(),
                in_service: false,
                ..Default::default()
            }),
        })
        .await
        .expect("taken out of service");
    let out = reception
        .create_appointment(typed_booking(&maria, &ana, &radiograph, (24, "11:00")))
        .await
        .expect_err("out of service");
    assert_eq!(
        out.message(),
        "no equipment is free at that time: Rayos X is out of service"
    );
}

async fn free_slots_leave_out_times_when_the_resources_are_taken(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    for provider in [&ana, &luis] {
        crate::working_hours::set_hours(
            &clinic,
            provider,
            vec![interval(pb::DayOfWeek::Tuesday, "09:00", "10:00")],
        )
        .await;
    }
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let radiograph = type_needing(
        &clinic,
        "Radiografía",
        vec![exactly(pb::ResourceKind::Equipment, &xray)],
    )
    .await;
    let mut reception = clinic.client(Role::Reception).await;
    // Ana takes the x-ray 09:00-09:30.
    reception
        .create_appointment(typed_booking(&maria, &ana, &radiograph, (24, "09:00")))
        .await
        .expect("booked");

    let found = reception
        .find_free_slots(pb::FindFreeSlotsRequest {
            appointment_type_id: radiograph,
            date_range: Some(DateRange {
                start_date: Some(november(24)),
                end_date: Some(november(24)),
            }),
            provider_id: luis.clone(),
            ..Default::default()
        })
        .await
        .expect("searched")
        .into_inner();

    // Luis is free all hour, but the x-ray only from 09:30.
    let starts: Vec<_> = found.slots.iter().map(|slot| slot.start_time).collect();
    assert_eq!(starts, [Some(local(24, "09:30"))]);
}

async fn a_rescheduled_visit_keeps_its_chair_when_free(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    resource(&clinic, "Sillón 1", pb::ResourceKind::Chair).await;
    resource(&clinic, "Sillón 2", pb::ResourceKind::Chair).await;
    let cleaning = type_needing(&clinic, "Limpieza", vec![any(pb::ResourceKind::Chair)]).await;
    let mut reception = clinic.client(Role::Reception).await;
    let first = reception
        .create_appointment(typed_booking(&maria, &ana, &cleaning, (24, "09:00")))
        .await
        .expect("booked")
        .into_inner();
    let chair = first.resource_ids[0].clone();

    let moved = reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest {
            appointment_id: first.appointment_id.clone(),
            start_time: Some(local(24, "09:15")),
            end_time: None,
            request_id: "move-1".into(),
            provider_id: String::new(),
        })
        .await
        .expect("moved")
        .into_inner();
    let new = moved.appointment.expect("the new appointment");
    assert_eq!(
        new.resource_ids,
        std::slice::from_ref(&chair),
        "its own time does not count"
    );

    // Luis takes that chair at 11:00; moving there gives Ana's visit the other chair.
    let mut request = booking(&maria, &luis, (24, "11:00"), 30);
    request
        .appointment
        .as_mut()
        .expect("an appointment")
        .resource_ids = vec![chair.clone()];
    reception.create_appointment(request).await.expect("booked");
    let moved = reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest {
            appointment_id: new.appointment_id,
            start_time: Some(local(24, "11:00")),
            end_time: None,
            request_id: "move-2".into(),
            provider_id: String::new(),
        })
        .await
        .expect("moved")
        .into_inner();
    let newest = moved.appointment.expect("the new appointment");
    assert_eq!(newest.resource_ids.len(), 1);
    assert_ne!(newest.resource_ids[0], chair);
}

async fn managing_resources_needs_a_manager(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    let status = reception
        .create_resource(pb::CreateResourceRequest {
            resource: Some(pb::Resource {
                display_name: "Sillón 1".into(),
                kind: pb::ResourceKind::Chair.into(),
                ..Default::default()
            }),
            request_id: "chair".into(),
        })
        .await
        .expect_err("reception cannot add resources");
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let status = kiosk
        .list_resources(pb::ListResourcesRequest::default())
        .await
        .expect_err("a kiosk cannot list resources");
    assert_eq!(status.code(), Code::PermissionDenied);
}
