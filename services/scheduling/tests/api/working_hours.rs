//! Working hours and schedule exceptions: setting and reading them, and the rule that a provider
//! with hours is booked (and rescheduled) only inside them and outside every exception.
//! "Now" is Sunday 22 November 2026; the 24th is a Tuesday.

use clinic_common::auth::Role;
use clinic_common::ids::ProviderId;
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, booking, local, request_id};

backend_tests!(
    working_hours_are_replaced_as_a_whole_and_read_back_by_day_then_start,
    working_hours_with_bad_intervals_name_every_offending_field_and_change_nothing,
    overlapping_intervals_of_one_day_are_refused_but_touching_ones_are_kept,
    working_hours_of_an_unknown_provider_are_not_found,
    a_provider_with_hours_is_booked_only_inside_them,
    a_clinic_holiday_refuses_providers_with_hours_but_not_those_without,
    a_provider_break_refuses_only_that_provider_and_only_its_time,
    a_reschedule_must_keep_the_working_hours,
    adding_an_exception_twice_with_one_request_id_adds_it_once,
    exceptions_are_listed_for_a_range_and_a_provider_and_can_be_deleted,
    bad_exceptions_name_every_offending_field,
    reception_may_block_time_but_not_set_hours_or_holidays,
    calls_about_hours_need_a_token_and_the_right_role,
);

const TUESDAY: u32 = 24;
const WEDNESDAY: u32 = 25;

pub(crate) fn time(text: &str) -> pb::TimeOfDay {
    let (hours, minutes) = text.split_once(':').expect("a HH:MM time");
    pb::TimeOfDay {
        hours: hours.parse().expect("hours"),
        minutes: minutes.parse().expect("minutes"),
    }
}

pub(crate) fn interval(day: pb::DayOfWeek, start: &str, end: &str) -> pb::WorkingInterval {
    pb::WorkingInterval {
        day_of_week: day.into(),
        start_time: Some(time(start)),
        end_time: Some(time(end)),
    }
}

fn set_request(
    provider_id: &str,
    intervals: Vec<pb::WorkingInterval>,
) -> pb::SetWorkingHoursRequest {
    pb::SetWorkingHoursRequest {
        working_hours: Some(pb::WorkingHours {
            provider_id: provider_id.into(),
            intervals,
        }),
    }
}

/// Tuesdays 09:00–14:00 and 16:00–20:00.
fn split_tuesdays() -> Vec<pb::WorkingInterval> {
    vec![
        interval(pb::DayOfWeek::Tuesday, "09:00", "14:00"),
        interval(pb::DayOfWeek::Tuesday, "16:00", "20:00"),
    ]
}

pub(crate) async fn set_hours(
    clinic: &TestClinic,
    provider_id: &str,
    intervals: Vec<pb::WorkingInterval>,
) {
    clinic
        .client(Role::Manager)
        .await
        .set_working_hours(set_request(provider_id, intervals))
        .await
        .expect("hours set");
}

async fn hours_of(clinic: &TestClinic, provider_id: &str) -> Vec<pb::WorkingInterval> {
    clinic
        .client(Role::Reception)
        .await
        .get_working_hours(pb::GetWorkingHoursRequest {
            provider_id: provider_id.into(),
        })
        .await
        .expect("hours read")
        .into_inner()
        .intervals
}

/// An exception of `kind` from `from` to `until` (November day, local time), for a provider or
/// (empty) the clinic.
pub(crate) fn exception(
    provider_id: &str,
    kind: pb::ScheduleExceptionKind,
    from: (u32, &str),
    until: (u32, &str),
) -> pb::AddScheduleExceptionRequest {
    pb::AddScheduleExceptionRequest {
        schedule_exception: Some(pb::ScheduleException {
            provider_id: provider_id.into(),
            start_time: Some(local(from.0, from.1)),
            end_time: Some(local(until.0, until.1)),
            kind: kind.into(),
            note: "staff meeting".into(),
            ..Default::default()
        }),
        request_id: request_id(&[
            "exception",
            provider_id,
            kind.as_str_name(),
            &from.0.to_string(),
            from.1,
            &until.0.to_string(),
            until.1,
        ]),
    }
}

pub(crate) async fn add_exception(
    clinic: &TestClinic,
    request: pb::AddScheduleExceptionRequest,
) -> pb::ScheduleException {
    clinic
        .client(Role::Manager)
        .await
        .add_schedule_exception(request)
        .await
        .expect("exception added")
        .into_inner()
}

fn the_week() -> pb::ListScheduleExceptionsRequest {
    pb::ListScheduleExceptionsRequest {
        start_time: Some(local(23, "00:00")),
        end_time: Some(local(28, "00:00")),
        ..Default::default()
    }
}

async fn working_hours_are_replaced_as_a_whole_and_read_back_by_day_then_start(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let first = manager
        .set_working_hours(set_request(
            &ana,
            vec![
                interval(pb::DayOfWeek::Tuesday, "16:00", "20:00"),
                interval(pb::DayOfWeek::Tuesday, "09:00", "14:00"),
                interval(pb::DayOfWeek::Monday, "09:00", "17:00"),
            ],
        ))
        .await
        .expect("hours set")
        .into_inner();
    let read_after_first = hours_of(&clinic, &ana).await;
    manager
        .set_working_hours(set_request(
            &ana,
            vec![interval(pb::DayOfWeek::Saturday, "10:00", "24:00")],
        ))
        .await
        .expect("hours replaced");
    let read_after_second = hours_of(&clinic, &ana).await;

    // Assert
    let expected = vec![
        interval(pb::DayOfWeek::Monday, "09:00", "17:00"),
        interval(pb::DayOfWeek::Tuesday, "09:00", "14:00"),
        interval(pb::DayOfWeek::Tuesday, "16:00", "20:00"),
    ];
    assert_eq!(first.provider_id, ana);
    assert_eq!(first.intervals, expected);
    assert_eq!(read_after_first, expected);
    assert_eq!(
        read_after_second,
        vec![interval(pb::DayOfWeek::Saturday, "10:00", "24:00")]
    );
}

async fn working_hours_with_bad_intervals_name_every_offending_field_and_change_nothing(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(&clinic, &ana, split_tuesdays()).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let status = manager
        .set_working_hours(set_request(
            &ana,
            vec![
                interval(pb::DayOfWeek::Unspecified, "09:00", "14:00"),
                interval(pb::DayOfWeek::Monday, "14:00", "09:00"),
                interval(pb::DayOfWeek::Friday, "24:30", "25:00"),
                pb::WorkingInterval {
                    day_of_week: pb::DayOfWeek::Friday.into(),
                    start_time: None,
                    end_time: Some(time("12:00")),
                },
            ],
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        [
            "working_hours.intervals[0].day_of_week",
            "working_hours.intervals[1].end_time",
            "working_hours.intervals[2].start_time",
            "working_hours.intervals[2].end_time",
            "working_hours.intervals[3].start_time",
        ]
    );
    assert_eq!(hours_of(&clinic, &ana).await, split_tuesdays());
}

async fn overlapping_intervals_of_one_day_are_refused_but_touching_ones_are_kept(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let overlapping = manager
        .set_working_hours(set_request(
            &ana,
            vec![
                interval(pb::DayOfWeek::Monday, "09:00", "14:00"),
                interval(pb::DayOfWeek::Monday, "13:00", "18:00"),
            ],
        ))
        .await
        .expect_err("refused");
    let touching = manager
        .set_working_hours(set_request(
            &ana,
            vec![
                interval(pb::DayOfWeek::Monday, "09:00", "14:00"),
                interval(pb::DayOfWeek::Monday, "14:00", "18:00"),
            ],
        ))
        .await;

    // Assert
    assert_eq!(overlapping.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&overlapping),
        ["working_hours.intervals[1]"]
    );
    assert!(
        touching.is_ok(),
        "touching intervals are kept: {touching:?}"
    );
}

async fn working_hours_of_an_unknown_provider_are_not_found(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let stranger = ProviderId::new().to_string();
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let setting = manager
        .set_working_hours(set_request(&stranger, split_tuesdays()))
        .await
        .expect_err("refused");
    let reading = manager
        .get_working_hours(pb::GetWorkingHoursRequest {
            provider_id: stranger,
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(setting.code(), Code::NotFound);
    assert_eq!(reading.code(), Code::NotFound);
}

async fn a_provider_with_hours_is_booked_only_inside_them(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(&clinic, &ana, split_tuesdays()).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let morning = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "13:30"), 30))
        .await;
    let evening = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "16:00"), 60))
        .await;
    let in_the_gap = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "14:00"), 30))
        .await
        .expect_err("refused");
    let across_the_gap = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "13:00"), 240))
        .await
        .expect_err("refused");
    let on_wednesday = reception
        .create_appointment(booking(&patient_id, &ana, (WEDNESDAY, "10:00"), 30))
        .await
        .expect_err("refused");

    // Assert
    assert!(morning.is_ok(), "inside the morning: {morning:?}");
    assert!(evening.is_ok(), "inside the evening: {evening:?}");
    for refused in [&in_the_gap, &across_the_gap] {
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert_eq!(
            refused.message(),
            "the time is outside Dra. Ana Ruiz's working hours on Tuesday"
        );
    }
    assert_eq!(on_wednesday.code(), Code::FailedPrecondition);
    assert_eq!(
        on_wednesday.message(),
        "the time is outside Dra. Ana Ruiz's working hours on Wednesday"
    );
}

async fn a_clinic_holiday_refuses_providers_with_hours_but_not_those_without(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let ben = clinic.provider("Dr. Ben Soto").await;
    set_hours(&clinic, &ana, split_tuesdays()).await;
    add_exception(
        &clinic,
        exception(
            "",
            pb::ScheduleExceptionKind::Holiday,
            (TUESDAY, "00:00"),
            (WEDNESDAY, "00:00"),
        ),
    )
    .await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let with_ana = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "10:00"), 30))
        .await
        .expect_err("refused");
    // Ben has no hours defined: booking him works as it always did.
    let with_ben = reception
        .create_appointment(booking(&patient_id, &ben, (TUESDAY, "10:00"), 30))
        .await;

    // Assert
    assert_eq!(with_ana.code(), Code::FailedPrecondition);
    assert_eq!(with_ana.message(), "the time falls on a clinic holiday");
    assert!(with_ben.is_ok(), "a provider without hours: {with_ben:?}");
}

async fn a_provider_break_refuses_only_that_provider_and_only_its_time(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let ben = clinic.provider("Dr. Ben Soto").await;
    set_hours(&clinic, &ana, split_tuesdays()).await;
    set_hours(&clinic, &ben, split_tuesdays()).await;
    add_exception(
        &clinic,
        exception(
            &ana,
            pb::ScheduleExceptionKind::Break,
            (TUESDAY, "11:00"),
            (TUESDAY, "11:30"),
        ),
    )
    .await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let clipping_the_break = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "10:45"), 30))
        .await
        .expect_err("refused");
    let before_the_break = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "10:30"), 30))
        .await;
    let after_the_break = reception
        .create_appointment(booking(&patient_id, &ana, (TUESDAY, "11:30"), 30))
        .await;
    let with_ben = reception
        .create_appointment(booking(&patient_id, &ben, (TUESDAY, "11:00"), 30))
        .await;

    // Assert
    assert_eq!(clipping_the_break.code(), Code::FailedPrecondition);
    assert_eq!(
        clipping_the_break.message(),
        "the time falls on Dra. Ana Ruiz's break"
    );
    assert!(before_the_break.is_ok(), "{before_the_break:?}");
    assert!(after_the_break.is_ok(), "{after_the_break:?}");
    assert!(with_ben.is_ok(), "{with_ben:?}");
}

async fn a_reschedule_must_keep_the_working_hours(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    set_hours(&clinic, &ana, split_tuesdays()).await;
    let booked = clinic.book(&patient_id, &ana, (TUESDAY, "10:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let reschedule = |time: &str| pb::RescheduleAppointmentRequest {
        appointment_id: booked.appointment_id.clone(),
        start_time: Some(local(TUESDAY, time)),
        end_time: None,
        request_id: request_id(&["move", time]),
        provider_id: String::new(),
    };

    // Act
    let into_the_gap = reception
        .reschedule_appointment(reschedule("15:00"))
        .await
        .expect_err("refused");
    let still_booked = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    let into_the_evening = reception.reschedule_appointment(reschedule("16:00")).await;

    // Assert
    assert_eq!(into_the_gap.code(), Code::FailedPrecondition);
    assert_eq!(
        into_the_gap.message(),
        "the time is outside Dra. Ana Ruiz's working hours on Tuesday"
    );
    assert_eq!(still_booked.status(), pb::AppointmentStatus::Scheduled);
    let moved = into_the_evening.expect("moved").into_inner();
    assert_eq!(
        moved.appointment.expect("the new appointment").start_time,
        Some(local(TUESDAY, "16:00"))
    );
}

async fn adding_an_exception_twice_with_one_request_id_adds_it_once(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let request = exception(
        &ana,
        pb::ScheduleExceptionKind::Block,
        (TUESDAY, "09:00"),
        (TUESDAY, "10:00"),
    );
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let first = add_exception(&clinic, request.clone()).await;
    let retry = add_exception(&clinic, request.clone()).await;
    let mut changed = request;
    changed.schedule_exception.as_mut().expect("set").end_time = Some(local(TUESDAY, "11:00"));
    let reused = manager
        .add_schedule_exception(changed)
        .await
        .expect_err("refused");
    let listed = manager
        .list_schedule_exceptions(the_week())
        .await
        .expect("listed")
        .into_inner()
        .schedule_exceptions;

    // Assert
    assert_eq!(retry, first);
    assert_eq!(first.created_by, "manager:tester");
    assert_eq!(first.kind(), pb::ScheduleExceptionKind::Block);
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_eq!(listed, vec![first]);
}

async fn exceptions_are_listed_for_a_range_and_a_provider_and_can_be_deleted(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let ben = clinic.provider("Dr. Ben Soto").await;
    let ben_block = add_exception(
        &clinic,
        exception(
            &ben,
            pb::ScheduleExceptionKind::Block,
            (26, "09:00"),
            (26, "10:00"),
        ),
    )
    .await;
    let ana_break = add_exception(
        &clinic,
        exception(
            &ana,
            pb::ScheduleExceptionKind::Break,
            (WEDNESDAY, "13:00"),
            (WEDNESDAY, "14:00"),
        ),
    )
    .await;
    let holiday = add_exception(
        &clinic,
        exception(
            "",
            pb::ScheduleExceptionKind::Holiday,
            (TUESDAY, "00:00"),
            (WEDNESDAY, "00:00"),
        ),
    )
    .await;
    let next_month = add_exception(
        &clinic,
        exception(
            "",
            pb::ScheduleExceptionKind::Holiday,
            (30, "20:00"),
            (30, "22:00"),
        ),
    )
    .await;
    let mut manager = clinic.client(Role::Manager).await;
    let mut list = async |request: pb::ListScheduleExceptionsRequest| {
        manager
            .list_schedule_exceptions(request)
            .await
            .expect("listed")
            .into_inner()
            .schedule_exceptions
    };

    // Act
    let everyone = list(the_week()).await;
    let for_ana = list(pb::ListScheduleExceptionsRequest {
        provider_id: ana.clone(),
        ..the_week()
    })
    .await;
    let deleted = clinic
        .client(Role::Manager)
        .await
        .delete_schedule_exception(pb::DeleteScheduleExceptionRequest {
            schedule_exception_id: ana_break.schedule_exception_id.clone(),
        })
        .await
        .expect("deleted")
        .into_inner();
    let for_ana_after = list(pb::ListScheduleExceptionsRequest {
        provider_id: ana.clone(),
        ..the_week()
    })
    .await;
    let deleted_again = clinic
        .client(Role::Manager)
        .await
        .delete_schedule_exception(pb::DeleteScheduleExceptionRequest {
            schedule_exception_id: ana_break.schedule_exception_id.clone(),
        })
        .await
        .expect_err("already gone");

    // Assert
    assert_eq!(
        everyone,
        vec![holiday.clone(), ana_break.clone(), ben_block]
    );
    assert_eq!(for_ana, vec![holiday.clone(), ana_break.clone()]);
    assert_eq!(deleted, ana_break);
    assert_eq!(for_ana_after, vec![holiday]);
    assert_eq!(deleted_again.code(), Code::NotFound);
    assert!(!everyone.contains(&next_month));
}

async fn bad_exceptions_name_every_offending_field(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let mut request = exception(
        "not-a-uuid",
        pb::ScheduleExceptionKind::Unspecified,
        (TUESDAY, "10:00"),
        (TUESDAY, "09:00"),
    );
    request.request_id = String::new();
    let unknown_provider = exception(
        &ProviderId::new().to_string(),
        pb::ScheduleExceptionKind::Block,
        (TUESDAY, "09:00"),
        (TUESDAY, "10:00"),
    );

    // Act
    let invalid = manager
        .add_schedule_exception(request)
        .await
        .expect_err("refused");
    let unknown = manager
        .add_schedule_exception(unknown_provider)
        .await
        .expect_err("refused");
    let bad_range = manager
        .list_schedule_exceptions(pb::ListScheduleExceptionsRequest {
            start_time: Some(local(28, "00:00")),
            end_time: Some(local(23, "00:00")),
            provider_id: "nobody".into(),
            page: None,
        })
        .await
        .expect_err("refused");
    let listed = manager
        .list_schedule_exceptions(the_week())
        .await
        .expect("listed")
        .into_inner()
        .schedule_exceptions;

    // Assert
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&invalid),
        [
            "request_id",
            "schedule_exception.provider_id",
            "schedule_exception.kind",
            "schedule_exception.end_time",
        ]
    );
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(bad_range.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad_range), ["end_time", "provider_id"]);
    assert!(listed.is_empty(), "nothing stored: {listed:?}");
}

async fn reception_may_block_time_but_not_set_hours_or_holidays(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let block = reception
        .add_schedule_exception(exception(
            &ana,
            pb::ScheduleExceptionKind::Block,
            (TUESDAY, "09:00"),
            (TUESDAY, "10:00"),
        ))
        .await;
    let holiday = reception
        .add_schedule_exception(exception(
            "",
            pb::ScheduleExceptionKind::Holiday,
            (TUESDAY, "00:00"),
            (WEDNESDAY, "00:00"),
        ))
        .await
        .expect_err("refused");
    let hours = reception
        .set_working_hours(set_request(&ana, split_tuesdays()))
        .await
        .expect_err("refused");
    let block_id = block
        .expect("reception blocks time")
        .into_inner()
        .schedule_exception_id;
    let deleting = reception
        .delete_schedule_exception(pb::DeleteScheduleExceptionRequest {
            schedule_exception_id: block_id,
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(holiday.code(), Code::PermissionDenied);
    assert_eq!(hours.code(), Code::PermissionDenied);
    assert_eq!(deleting.code(), Code::PermissionDenied);
}

async fn calls_about_hours_need_a_token_and_the_right_role(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut anonymous = SchedulingServiceClient::new(clinic.scheduling.channel().await);
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let mut collections = clinic.client(Role::Collections).await;

    // Act
    let unauthenticated = anonymous
        .get_working_hours(pb::GetWorkingHoursRequest {
            provider_id: ana.clone(),
        })
        .await
        .expect_err("refused");
    let refusals = [
        kiosk
            .get_working_hours(pb::GetWorkingHoursRequest {
                provider_id: ana.clone(),
            })
            .await
            .map(|_| ()),
        kiosk.list_schedule_exceptions(the_week()).await.map(|_| ()),
        collections
            .add_schedule_exception(exception(
                &ana,
                pb::ScheduleExceptionKind::Block,
                (TUESDAY, "09:00"),
                (TUESDAY, "10:00"),
            ))
            .await
            .map(|_| ()),
        collections
            .set_working_hours(set_request(&ana, split_tuesdays()))
            .await
            .map(|_| ()),
    ];

    // Assert
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    for refusal in refusals {
        assert_eq!(refusal.expect_err("refused").code(), Code::PermissionDenied);
    }
}
