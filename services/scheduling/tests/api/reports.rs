//! The schedule report: a known day of appointments and queue waits, and the figures it must
//! give for the day, its week and its month. "Now" starts at 08:00 on Sunday 22 November 2026
//! in Mexico City (UTC-6).

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::DateRange;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::check_in::by_id;
use crate::{Client, TestClinic, local, november};

backend_tests!(
    the_report_counts_a_known_day_week_and_month,
    bad_report_requests_name_every_field_and_need_a_desk_role,
);

/// Sets the shared clock to `time` (clinic-local) on November `day`.
fn at(clinic: &TestClinic, day: u32, time: &str) {
    let stamp = local(day, time);
    clinic
        .clock
        .set(chrono::DateTime::from_timestamp(stamp.seconds, 0).expect("a valid instant"));
}

async fn report(client: &mut Client, period: pb::ReportPeriod, day: i32) -> pb::ScheduleReport {
    client
        .get_schedule_report(pb::GetScheduleReportRequest {
            period: period.into(),
            date: Some(november(day)),
        })
        .await
        .expect("reported")
        .into_inner()
}

async fn the_report_counts_a_known_day_week_and_month(database: TestDatabase) {
    // Arrange: seven patients, two providers.
    let clinic = TestClinic::start(database).await;
    let mut patients = Vec::new();
    for n in 1..=7 {
        patients.push(
            clinic
                .register(
                    "Paciente",
                    &format!("Número {n}"),
                    &format!("+52 55 2000 000{n}"),
                )
                .await,
        );
    }
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    let mut reception = clinic.client(Role::Reception).await;
    // Today, the 22nd.
    let confirmed_and_seated = clinic.book(&patients[0], &ana, (22, "09:00"), 30).await;
    let seated_without_a_call = clinic.book(&patients[1], &luis, (22, "09:00"), 30).await;
    let confirmed_no_show = clinic.book(&patients[2], &ana, (22, "10:00"), 30).await;
    let cancelled_late = clinic.book(&patients[3], &ana, (22, "11:00"), 30).await;
    // Later in November.
    let cancelled_early = clinic.book(&patients[4], &ana, (25, "09:00"), 30).await;
    let moved = clinic.book(&patients[5], &ana, (26, "10:00"), 30).await;
    // The month's last day.
    clinic.book(&patients[6], &ana, (30, "09:00"), 30).await;
    for appointment in [&confirmed_and_seated, &confirmed_no_show] {
        reception
            .confirm_appointment(pb::ConfirmAppointmentRequest {
                appointment_id: appointment.appointment_id.clone(),
            })
            .await
            .expect("confirmed");
    }
    for appointment in [&cancelled_late, &cancelled_early] {
        reception
            .cancel_appointment(pb::CancelAppointmentRequest {
                appointment_id: appointment.appointment_id.clone(),
                reason: "patient asked".into(),
            })
            .await
            .expect("cancelled");
    }
    reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest {
            appointment_id: moved.appointment_id.clone(),
            start_time: Some(local(26, "11:00")),
            end_time: None,
            request_id: "move".into(),
            provider_id: String::new(),
        })
        .await
        .expect("rescheduled");
    // 08:50 and 08:55: two arrivals.
    at(&clinic, 22, "08:50");
    let first = reception
        .check_in_appointment(by_id(&confirmed_and_seated.appointment_id))
        .await
        .expect("checked in")
        .into_inner()
        .queue_entry
        .expect("an entry");
    at(&clinic, 22, "08:55");
    let second = reception
        .check_in_appointment(by_id(&seated_without_a_call.appointment_id))
        .await
        .expect("checked in")
        .into_inner()
        .queue_entry
        .expect("an entry");
    // 09:02 the first is called (a 12-minute wait), 09:05 seated; 09:10 the second is seated
    // without being called (a 15-minute wait).
    at(&clinic, 22, "09:02");
    let called = reception
        .call_next(pb::CallNextRequest {
            provider_id: ana.clone(),
            request_id: "call-ana".into(),
        })
        .await
        .expect("called")
        .into_inner();
    assert_eq!(called.queue_entry_id, first.queue_entry_id);
    at(&clinic, 22, "09:05");
    reception
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: first.queue_entry_id.clone(),
        })
        .await
        .expect("seated");
    at(&clinic, 22, "09:10");
    reception
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: second.queue_entry_id.clone(),
        })
        .await
        .expect("seated");
    // 10:20: the 10:00 patient never came.
    at(&clinic, 22, "10:20");
    reception
        .mark_no_show(pb::MarkNoShowRequest {
            appointment_id: confirmed_no_show.appointment_id.clone(),
        })
        .await
        .expect("no-show");
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let day = report(&mut reception, pb::ReportPeriod::Day, 22).await;
    let week = report(&mut manager, pb::ReportPeriod::Week, 18).await;
    let month = report(&mut manager, pb::ReportPeriod::Month, 3).await;
    let empty = report(&mut reception, pb::ReportPeriod::Day, 21).await;

    // Assert: four appointments today, two of them confirmed; two came, one did not; one late
    // cancellation; waits of 12 and 15 minutes.
    let today = pb::ScheduleReport {
        date_range: Some(DateRange {
            start_date: Some(november(22)),
            end_date: Some(november(22)),
        }),
        scheduled: 4,
        confirmed: 2,
        confirmed_basis_points: 5000,
        attended: 2,
        attendance_basis_points: 6667,
        no_shows: 1,
        no_show_basis_points: 3333,
        late_cancellations: 1,
        early_cancellations: 0,
        seated_from_queue: 2,
        average_wait_seconds: 810,
    };
    assert_eq!(day, today);
    // Monday 16th to Sunday 22nd: the same appointments.
    assert_eq!(
        week,
        pb::ScheduleReport {
            date_range: Some(DateRange {
                start_date: Some(november(16)),
                end_date: Some(november(22)),
            }),
            ..today
        }
    );
    // November adds the early cancellation and the moved visit (counted once, at its new time);
    // the visit of 30 November 09:00 is still in November in Mexico City.
    assert_eq!(
        month,
        pb::ScheduleReport {
            date_range: Some(DateRange {
                start_date: Some(november(1)),
                end_date: Some(november(30)),
            }),
            scheduled: 7,
            confirmed_basis_points: 2857,
            early_cancellations: 1,
            ..today
        }
    );
    assert_eq!(
        empty,
        pb::ScheduleReport {
            date_range: Some(DateRange {
                start_date: Some(november(21)),
                end_date: Some(november(21)),
            }),
            ..Default::default()
        }
    );
}

async fn bad_report_requests_name_every_field_and_need_a_desk_role(database: TestDatabase) {
    let clinic = TestClinic::without_registry(database).await;
    let status = clinic
        .client(Role::Manager)
        .await
        .get_schedule_report(pb::GetScheduleReportRequest::default())
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["period", "date"]);
    let status = clinic
        .client(Role::Kiosk)
        .await
        .get_schedule_report(pb::GetScheduleReportRequest {
            period: pb::ReportPeriod::Day.into(),
            date: Some(november(22)),
        })
        .await
        .expect_err("a kiosk sees no reports");
    assert_eq!(status.code(), Code::PermissionDenied);
}
