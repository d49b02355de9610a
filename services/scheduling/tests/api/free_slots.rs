//! Finding time: free slots for an appointment type over a range of days, for one provider or
//! every provider with hours, honouring the patient's preferences. "Now" is 08:00 on Sunday
//! 22 November 2026; the 24th is a Tuesday, the 28th a Saturday.

use clinic_common::auth::Role;
use clinic_common::ids::ProviderId;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::{DateRange, PageRequest};
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::working_hours::{add_exception, exception, interval, set_hours, time};
use crate::{Client, TestClinic, booking, local, november};

backend_tests!(
    free_slots_fill_the_working_hours_every_quarter_hour,
    booked_time_and_exceptions_are_not_offered,
    every_provider_with_hours_is_searched_in_order_of_start_then_provider,
    preferences_narrow_the_days_and_times,
    nothing_is_offered_before_now,
    a_slot_found_can_be_booked_and_is_then_no_longer_offered,
    paging_walks_the_slots_without_repeating_any,
    bad_searches_name_every_offending_field,
    unknown_and_deleted_types_and_unknown_providers_are_refused,
    finding_time_needs_a_token_and_a_desk_role,
);

/// Adds an appointment type `minutes` long and returns its id.
async fn visit_type(clinic: &TestClinic, name: &str, minutes: i32) -> String {
    clinic
        .client(Role::Manager)
        .await
        .create_appointment_type(pb::CreateAppointmentTypeRequest {
            appointment_type: Some(pb::AppointmentType {
                display_name: name.into(),
                duration_minutes: minutes,
                price_code: "CONS-01".into(),
                ..Default::default()
            }),
            request_id: format!("type-{minutes}"),
        })
        .await
        .expect("type added")
        .into_inner()
        .appointment_type_id
}

/// A search for `appointment_type_id` over November `first..=last`.
fn search(appointment_type_id: &str, (first, last): (i32, i32)) -> pb::FindFreeSlotsRequest {
    pb::FindFreeSlotsRequest {
        appointment_type_id: appointment_type_id.into(),
        date_range: Some(DateRange {
            start_date: Some(november(first)),
            end_date: Some(november(last)),
        }),
        ..Default::default()
    }
}

async fn find(client: &mut Client, request: pb::FindFreeSlotsRequest) -> pb::FindFreeSlotsResponse {
    client
        .find_free_slots(request)
        .await
        .expect("searched")
        .into_inner()
}

/// The slots as `(provider, November day and local start)`, e.g. `(ana, (24, "09:00"))`.
fn starts(response: &pb::FindFreeSlotsResponse) -> Vec<(String, prost_types::Timestamp)> {
    response
        .slots
        .iter()
        .map(|slot| (slot.provider_id.clone(), slot.start_time.expect("a start")))
        .collect()
}

fn at(provider_id: &str, day: u32, time: &str) -> (String, prost_types::Timestamp) {
    (provider_id.to_owned(), local(day, time))
}

async fn free_slots_fill_the_working_hours_every_quarter_hour(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(
        &clinic,
        &ana,
        vec![interval(pb::DayOfWeek::Tuesday, "09:00", "10:00")],
    )
    .await;
    let checkup = visit_type(&clinic, "Revisión", 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let found = find(&mut reception, search(&checkup, (22, 30))).await;

    // Assert
    assert_eq!(
        starts(&found),
        [
            at(&ana, 24, "09:00"),
            at(&ana, 24, "09:15"),
            at(&ana, 24, "09:30"),
        ]
    );
    assert_eq!(found.slots[0].end_time, Some(local(24, "09:30")));
    assert_eq!(found.next_page_token, "");
}

async fn booked_time_and_exceptions_are_not_offered(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(
        &clinic,
        &ana,
        vec![interval(pb::DayOfWeek::Tuesday, "09:00", "11:00")],
    )
    .await;
    let checkup = visit_type(&clinic, "Revisión", 30).await;
    clinic.book(&patient_id, &ana, (24, "09:30"), 30).await;
    add_exception(
        &clinic,
        exception(
            &ana,
            pb::ScheduleExceptionKind::Break,
            (24, "10:30"),
            (24, "11:00"),
        ),
    )
    .await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let found = find(&mut reception, search(&checkup, (24, 24))).await;

    // Assert
    assert_eq!(
        starts(&found),
        [at(&ana, 24, "09:00"), at(&ana, 24, "10:00")]
    );
}

async fn every_provider_with_hours_is_searched_in_order_of_start_then_provider(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let ben = clinic.provider("Dr. Ben Soto").await;
    // Carla has no hours: she has no time to offer.
    clinic.provider("Dra. Carla Paz").await;
    set_hours(
        &clinic,
        &ana,
        vec![interval(pb::DayOfWeek::Tuesday, "09:00", "09:45")],
    )
    .await;
    set_hours(
        &clinic,
        &ben,
        vec![interval(pb::DayOfWeek::Tuesday, "09:15", "10:00")],
    )
    .await;
    let checkup = visit_type(&clinic, "Revisión", 30).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let found = find(&mut manager, search(&checkup, (24, 24))).await;
    let only_ben = find(
        &mut manager,
        pb::FindFreeSlotsRequest {
            provider_id: ben.clone(),
            ..search(&checkup, (24, 24))
        },
    )
    .await;

    // Assert
    let (first, second) = if ana < ben {
        (&ana, &ben)
    } else {
        (&ben, &ana)
    };
    let nine_fifteen: Vec<_> = [first, second]
        .into_iter()
        .map(|provider| at(provider, 24, "09:15"))
        .collect();
    let mut expected = vec![at(&ana, 24, "09:00")];
    expected.extend(nine_fifteen);
    expected.push(at(&ben, 24, "09:30"));
    assert_eq!(starts(&found), expected);
    assert_eq!(
        starts(&only_ben),
        [at(&ben, 24, "09:15"), at(&ben, 24, "09:30")]
    );
}

async fn preferences_narrow_the_days_and_times(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(
        &clinic,
        &ana,
        vec![
            interval(pb::DayOfWeek::Tuesday, "17:00", "20:00"),
            interval(pb::DayOfWeek::Saturday, "10:00", "11:00"),
        ],
    )
    .await;
    let cleaning = visit_type(&clinic, "Limpieza", 60).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let after_six = find(
        &mut reception,
        pb::FindFreeSlotsRequest {
            preferences: Some(pb::SlotPreferences {
                earliest_start_time: Some(time("18:00")),
                ..Default::default()
            }),
            ..search(&cleaning, (22, 30))
        },
    )
    .await;
    let saturdays = find(
        &mut reception,
        pb::FindFreeSlotsRequest {
            preferences: Some(pb::SlotPreferences {
                days_of_week: vec![pb::DayOfWeek::Saturday.into()],
                ..Default::default()
            }),
            ..search(&cleaning, (22, 30))
        },
    )
    .await;
    let done_by_half_past_six = find(
        &mut reception,
        pb::FindFreeSlotsRequest {
            preferences: Some(pb::SlotPreferences {
                latest_end_time: Some(time("18:30")),
                days_of_week: vec![pb::DayOfWeek::Tuesday.into()],
                ..Default::default()
            }),
            ..search(&cleaning, (22, 30))
        },
    )
    .await;

    // Assert
    assert_eq!(
        starts(&after_six),
        [
            at(&ana, 24, "18:00"),
            at(&ana, 24, "18:15"),
            at(&ana, 24, "18:30"),
            at(&ana, 24, "18:45"),
            at(&ana, 24, "19:00"),
        ]
    );
    assert_eq!(starts(&saturdays), [at(&ana, 28, "10:00")]);
    assert_eq!(
        starts(&done_by_half_past_six),
        [
            at(&ana, 24, "17:00"),
            at(&ana, 24, "17:15"),
            at(&ana, 24, "17:30"),
        ]
    );
}

async fn nothing_is_offered_before_now(database: TestDatabase) {
    // Arrange: "now" is 08:00 on Sunday the 22nd.
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(
        &clinic,
        &ana,
        vec![interval(pb::DayOfWeek::Sunday, "07:00", "09:00")],
    )
    .await;
    let checkup = visit_type(&clinic, "Revisión", 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let found = find(&mut reception, search(&checkup, (22, 22))).await;

    // Assert
    assert_eq!(
        starts(&found),
        [
            at(&ana, 22, "08:00"),
            at(&ana, 22, "08:15"),
            at(&ana, 22, "08:30"),
        ]
    );
}

async fn a_slot_found_can_be_booked_and_is_then_no_longer_offered(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(
        &clinic,
        &ana,
        vec![interval(pb::DayOfWeek::Tuesday, "09:00", "10:00")],
    )
    .await;
    let cleaning = visit_type(&clinic, "Limpieza", 60).await;
    let mut reception = clinic.client(Role::Reception).await;
    let before = find(&mut reception, search(&cleaning, (24, 24))).await;

    // Act
    let booked = reception
        .create_appointment(booking(&patient_id, &ana, (24, "09:00"), 60))
        .await;
    let after = find(&mut reception, search(&cleaning, (24, 24))).await;

    // Assert
    assert_eq!(starts(&before), [at(&ana, 24, "09:00")]);
    assert!(booked.is_ok(), "the slot found is bookable: {booked:?}");
    assert!(after.slots.is_empty());
}

async fn paging_walks_the_slots_without_repeating_any(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(
        &clinic,
        &ana,
        vec![interval(pb::DayOfWeek::Tuesday, "09:00", "10:15")],
    )
    .await;
    let checkup = visit_type(&clinic, "Revisión", 15).await;
    let mut reception = clinic.client(Role::Reception).await;
    let page = |token: &str| pb::FindFreeSlotsRequest {
        page: Some(PageRequest {
            page_size: 2,
            page_token: token.into(),
        }),
        ..search(&checkup, (24, 24))
    };

    // Act
    let first = find(&mut reception, page("")).await;
    let second = find(&mut reception, page(&first.next_page_token)).await;
    let third = find(&mut reception, page(&second.next_page_token)).await;

    // Assert
    let mut walked = starts(&first);
    walked.extend(starts(&second));
    walked.extend(starts(&third));
    assert_eq!(
        walked,
        [
            at(&ana, 24, "09:00"),
            at(&ana, 24, "09:15"),
            at(&ana, 24, "09:30"),
            at(&ana, 24, "09:45"),
            at(&ana, 24, "10:00"),
        ]
    );
    assert_eq!(third.next_page_token, "");
}

async fn bad_searches_name_every_offending_field(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    let request = pb::FindFreeSlotsRequest {
        provider_id: "nobody".into(),
        preferences: Some(pb::SlotPreferences {
            earliest_start_time: Some(time("18:00")),
            latest_end_time: Some(time("09:00")),
            days_of_week: vec![pb::DayOfWeek::Unspecified.into()],
        }),
        ..search("not-a-type", (1, 30))
    };
    let mut too_long = search(&uuid_text(), (1, 1));
    too_long.date_range.as_mut().expect("set").end_date = Some(clinic_proto::common::v1::Date {
        year: 2026,
        month: 12,
        day: 2,
    });

    // Act
    let invalid = reception
        .find_free_slots(request)
        .await
        .expect_err("refused");
    let too_many_days = reception
        .find_free_slots(too_long)
        .await
        .expect_err("refused");
    let without_range = reception
        .find_free_slots(pb::FindFreeSlotsRequest {
            appointment_type_id: uuid_text(),
            ..Default::default()
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&invalid),
        [
            "appointment_type_id",
            "provider_id",
            "preferences.latest_end_time",
            "preferences.days_of_week[0]",
        ]
    );
    assert_eq!(violated_fields(&too_many_days), ["date_range.end_date"]);
    assert_eq!(violated_fields(&without_range), ["date_range"]);
}

fn uuid_text() -> String {
    ProviderId::new().to_string()
}

async fn unknown_and_deleted_types_and_unknown_providers_are_refused(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let checkup = visit_type(&clinic, "Revisión", 30).await;
    let old = visit_type(&clinic, "Antigua", 45).await;
    let mut manager = clinic.client(Role::Manager).await;
    manager
        .delete_appointment_type(pb::DeleteAppointmentTypeRequest {
            appointment_type_id: old.clone(),
        })
        .await
        .expect("deleted");

    // Act
    let unknown_type = manager
        .find_free_slots(search(&uuid_text(), (24, 24)))
        .await
        .expect_err("refused");
    let deleted_type = manager
        .find_free_slots(search(&old, (24, 24)))
        .await
        .expect_err("refused");
    let unknown_provider = manager
        .find_free_slots(pb::FindFreeSlotsRequest {
            provider_id: uuid_text(),
            ..search(&checkup, (24, 24))
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(unknown_type.code(), Code::NotFound);
    assert_eq!(deleted_type.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&deleted_type), ["appointment_type_id"]);
    assert_eq!(unknown_provider.code(), Code::NotFound);
}

async fn finding_time_needs_a_token_and_a_desk_role(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let checkup = visit_type(&clinic, "Revisión", 30).await;
    let mut anonymous = SchedulingServiceClient::new(clinic.scheduling.channel().await);
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let mut collections = clinic.client(Role::Collections).await;
    let mut service = clinic.client(Role::Service).await;

    // Act
    let unauthenticated = anonymous
        .find_free_slots(search(&checkup, (24, 24)))
        .await
        .expect_err("refused");
    let from_kiosk = kiosk
        .find_free_slots(search(&checkup, (24, 24)))
        .await
        .expect_err("refused");
    let from_collections = collections
        .find_free_slots(search(&checkup, (24, 24)))
        .await
        .expect_err("refused");
    let from_service = service.find_free_slots(search(&checkup, (24, 24))).await;

    // Assert
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    assert_eq!(from_kiosk.code(), Code::PermissionDenied);
    assert_eq!(from_collections.code(), Code::PermissionDenied);
    assert!(from_service.is_ok(), "{from_service:?}");
}
