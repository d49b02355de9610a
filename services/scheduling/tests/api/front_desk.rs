//! Planned visits and recalls, late-arrival call tasks (made on listing and by the background
//! task, on the service's clock) and the list of tomorrow's visits to confirm.

use std::time::Duration;

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::db::Database;
use clinic_common::status::violated_fields;
use clinic_common::with_db;
use clinic_proto::common::v1::{Date, DateRange};
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, local, november};

backend_tests!(
    a_planned_visit_is_due_in_its_month_and_booking_it_links_the_appointment,
    planning_a_visit_checks_every_field_and_a_retry_plans_it_once,
    a_patient_not_checked_in_ten_minutes_after_the_start_gets_one_call_task,
    the_delay_before_a_call_is_configurable,
    the_background_task_makes_call_tasks_without_anyone_listing,
    tomorrow_lists_the_visits_to_confirm_with_phone_and_confirmation,
    reading_tomorrows_list_is_in_the_registrys_audit_as_the_persons_read,
    the_clinics_day_is_reckoned_in_its_zone_for_every_client,
);

fn february_2027(day: i32) -> Date {
    Date {
        year: 2027,
        month: 2,
        day,
    }
}

async fn plan(
    client: &mut Client,
    patient_id: &str,
    provider_id: &str,
    key: &str,
) -> Result<pb::PlannedVisit, tonic::Status> {
    client
        .create_planned_visit(pb::CreatePlannedVisitRequest {
            planned_visit: Some(pb::PlannedVisit {
                patient_id: patient_id.into(),
                provider_id: provider_id.into(),
                due_date: Some(february_2027(22)),
                note: "check-up after the filling, about 3 months".into(),
                ..Default::default()
            }),
            request_id: key.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn due_in(
    client: &mut Client,
    (from, to): (Date, Date),
    show_booked: bool,
) -> Vec<pb::PlannedVisit> {
    client
        .list_planned_visits(pb::ListPlannedVisitsRequest {
            due_range: Some(DateRange {
                start_date: Some(from),
                end_date: Some(to),
            }),
            show_booked,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .planned_visits
}

async fn a_planned_visit_is_due_in_its_month_and_booking_it_links_the_appointment(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let planned = plan(&mut reception, &maria, &ruiz, "plan-1")
        .await
        .expect("planned");

    let february = due_in(&mut reception, (february_2027(1), february_2027(28)), false).await;
    let november_list = due_in(&mut reception, (november(1), november(30)), false).await;
    assert_eq!(february.len(), 1);
    assert_eq!(february[0], planned);
    assert!(november_list.is_empty());
    assert_eq!(planned.status, i32::from(pb::PlannedVisitStatus::Planned));

    // Act: the schedule for February exists now; the patient chooses the 23rd at 10:00.
    let start = prost_types::Timestamp {
        seconds: local(23, "10:00").seconds + 92 * 24 * 3600,
        nanos: 0,
    };
    let end = prost_types::Timestamp {
        seconds: start.seconds + 45 * 60,
        nanos: 0,
    };
    let book = pb::BookPlannedVisitRequest {
        planned_visit_id: planned.planned_visit_id.clone(),
        provider_id: String::new(),
        start_time: Some(start),
        end_time: Some(end),
        request_id: "book-plan-1".into(),
    };
    let booked = reception
        .book_planned_visit(book.clone())
        .await
        .expect("booked")
        .into_inner();
    let again = reception
        .book_planned_visit(book)
        .await
        .expect("booked again")
        .into_inner();

    // Assert
    let appointment = booked.appointment.expect("an appointment");
    let plan_now = booked.planned_visit.expect("the plan");
    assert_eq!(appointment.patient_id, maria);
    assert_eq!(appointment.provider_id, ruiz);
    assert_eq!(appointment.start_time, Some(start));
    assert_eq!(plan_now.status, i32::from(pb::PlannedVisitStatus::Booked));
    assert_eq!(plan_now.appointment_id, appointment.appointment_id);
    assert_eq!(
        again.appointment.expect("the same").appointment_id,
        appointment.appointment_id
    );
    assert!(
        due_in(&mut reception, (february_2027(1), february_2027(28)), false)
            .await
            .is_empty()
    );
    assert_eq!(
        due_in(&mut reception, (february_2027(1), february_2027(28)), true).await,
        [plan_now]
    );
}

async fn planning_a_visit_checks_every_field_and_a_retry_plans_it_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let mut reception = clinic.client(Role::Reception).await;

    let first = plan(&mut reception, &maria, "", "plan-1")
        .await
        .expect("planned");
    let retry = plan(&mut reception, &maria, "", "plan-1")
        .await
        .expect("planned");
    let bad = reception
        .create_planned_visit(pb::CreatePlannedVisitRequest {
            planned_visit: Some(pb::PlannedVisit {
                patient_id: "x".into(),
                provider_id: "y".into(),
                note: "n".repeat(501),
                ..Default::default()
            }),
            request_id: "plan-2".into(),
        })
        .await
        .expect_err("refused");
    let no_provider = reception
        .book_planned_visit(pb::BookPlannedVisitRequest {
            planned_visit_id: first.planned_visit_id.clone(),
            start_time: Some(local(24, "10:00")),
            end_time: Some(local(24, "10:30")),
            request_id: "book-1".into(),
            ..Default::default()
        })
        .await
        .expect_err("who with?");
    let unknown = reception
        .book_planned_visit(pb::BookPlannedVisitRequest {
            planned_visit_id: uuid::Uuid::new_v4().to_string(),
            start_time: Some(local(24, "10:00")),
            request_id: "book-2".into(),
            ..Default::default()
        })
        .await
        .expect_err("no such plan");

    assert_eq!(first.planned_visit_id, retry.planned_visit_id);
    assert_eq!(
        violated_fields(&bad),
        [
            "planned_visit.patient_id",
            "planned_visit.provider_id",
            "planned_visit.due_date",
            "planned_visit.note",
        ]
    );
    assert_eq!(violated_fields(&no_provider), ["provider_id"]);
    assert_eq!(unknown.code(), Code::NotFound);
}

async fn call_tasks(client: &mut Client, show_done: bool) -> Vec<pb::CallTask> {
    client
        .list_call_tasks(pb::ListCallTasksRequest {
            show_done,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .call_tasks
}

async fn a_patient_not_checked_in_ten_minutes_after_the_start_gets_one_call_task(
    database: TestDatabase,
) {
    // Arrange: María at 09:00 with Dr. Ruiz; Luis at 09:00 with Dr. Soto arrives early.
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let luis = clinic.register("Luis", "Pérez", "+52 55 2222 0001").await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let soto = clinic.provider("Dr. Luis Soto").await;
    let marias = clinic.book(&maria, &ruiz, (22, "09:00"), 30).await;
    let luiss = clinic.book(&luis, &soto, (22, "09:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    clinic
        .clock
        .set(chrono::DateTime::from_timestamp(local(22, "08:55").seconds, 0).expect("t"));
    reception
        .check_in_appointment(pb::CheckInAppointmentRequest {
            appointment_id: luiss.appointment_id.clone(),
            ..Default::default()
        })
        .await
        .expect("checked in");

    // Nine minutes late: nothing yet.
    clinic
        .clock
        .set(chrono::DateTime::from_timestamp(local(22, "09:09").seconds, 0).expect("t"));
    assert!(call_tasks(&mut reception, false).await.is_empty());

    // Ten minutes late: one task, however often the list is read.
    clinic.clock.advance(TimeDelta::minutes(1));
    let tasks = call_tasks(&mut reception, false).await;
    assert_eq!(call_tasks(&mut reception, false).await, tasks);
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!(task.kind, "late_arrival");
    assert_eq!(task.appointment_id, marias.appointment_id);
    assert_eq!(task.patient_id, maria);
    assert_eq!(task.patient_initials, "M. G.");
    assert_eq!(task.appointment_start_time, Some(local(22, "09:00")));
    assert_eq!(task.status, i32::from(pb::CallTaskStatus::Open));

    // Act: reception calls; María is on her way.
    let missing = reception
        .complete_call_task(pb::CompleteCallTaskRequest {
            call_task_id: task.call_task_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("an outcome is needed");
    let done = reception
        .complete_call_task(pb::CompleteCallTaskRequest {
            call_task_id: task.call_task_id.clone(),
            outcome: pb::CallOutcome::Coming.into(),
            note: "in traffic, 10 minutes".into(),
        })
        .await
        .expect("completed")
        .into_inner();
    let changed = reception
        .complete_call_task(pb::CompleteCallTaskRequest {
            call_task_id: task.call_task_id.clone(),
            outcome: pb::CallOutcome::NoAnswer.into(),
            note: String::new(),
        })
        .await
        .expect_err("already done");

    // Assert
    assert_eq!(violated_fields(&missing), ["outcome"]);
    assert_eq!(done.status, i32::from(pb::CallTaskStatus::Done));
    assert_eq!(done.outcome, i32::from(pb::CallOutcome::Coming));
    assert_eq!(done.note, "in traffic, 10 minutes");
    assert_eq!(done.completed_by, "reception:tester");
    assert_eq!(changed.code(), Code::FailedPrecondition);
    assert!(call_tasks(&mut reception, false).await.is_empty());
    assert_eq!(call_tasks(&mut reception, true).await, [done]);
}

async fn the_delay_before_a_call_is_configurable(database: TestDatabase) {
    let clinic = TestClinic::start_with(database, |settings| {
        settings.front_desk.late_after_minutes = 15;
    })
    .await;
    let maria = clinic.maria().await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    clinic.book(&maria, &ruiz, (22, "09:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    clinic
        .clock
        .set(chrono::DateTime::from_timestamp(local(22, "09:14").seconds, 0).expect("t"));
    let before = call_tasks(&mut reception, false).await;
    clinic.clock.advance(TimeDelta::minutes(1));
    let after = call_tasks(&mut reception, false).await;

    assert!(before.is_empty());
    assert_eq!(after.len(), 1);
}

async fn the_background_task_makes_call_tasks_without_anyone_listing(database: TestDatabase) {
    let clinic = TestClinic::start_with(database, |settings| {
        settings.front_desk.late_check_every_seconds = 1;
    })
    .await;
    let maria = clinic.maria().await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    clinic.book(&maria, &ruiz, (22, "09:00"), 30).await;

    clinic
        .clock
        .set(chrono::DateTime::from_timestamp(local(22, "09:12").seconds, 0).expect("t"));

    // Read the table itself: listing would make the task too.
    let database = Database::connect(&clinic.database_url)
        .await
        .expect("connects");
    let mut made = 0;
    for _ in 0..100 {
        made = with_db!(&database, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM call_tasks")
                .fetch_one(pool)
                .await
        })
        .expect("counted");
        if made > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    database.close().await;
    assert_eq!(made, 1);
}

async fn tomorrow_lists_the_visits_to_confirm_with_phone_and_confirmation(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let luis = clinic.register("Luis", "Pérez", "+52 55 2222 0001").await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let marias = clinic.book(&maria, &ruiz, (23, "09:00"), 30).await;
    let luiss = clinic.book(&luis, &ruiz, (23, "10:00"), 30).await;
    let cancelled = clinic.book(&luis, &ruiz, (23, "11:00"), 30).await;
    clinic.book(&maria, &ruiz, (24, "09:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .confirm_appointment(pb::ConfirmAppointmentRequest {
            appointment_id: marias.appointment_id.clone(),
        })
        .await
        .expect("confirmed");
    reception
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: cancelled.appointment_id.clone(),
            reason: "moving".into(),
        })
        .await
        .expect("cancelled");

    let tomorrow = reception
        .list_tomorrow(pb::ListTomorrowRequest {})
        .await
        .expect("listed")
        .into_inner();

    assert_eq!(tomorrow.day, Some(november(23)));
    let listed: Vec<(&str, bool)> = tomorrow
        .appointments
        .iter()
        .map(|a| {
            (
                a.appointment.as_ref().expect("set").appointment_id.as_str(),
                a.confirmed,
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (marias.appointment_id.as_str(), true),
            (luiss.appointment_id.as_str(), false)
        ]
    );
    assert_eq!(tomorrow.appointments[0].patient_name, "María García");
    assert!(
        tomorrow.appointments[0].phone.contains("5678"),
        "{}",
        tomorrow.appointments[0].phone
    );
    let kiosk = clinic
        .client(Role::Kiosk)
        .await
        .list_tomorrow(pb::ListTomorrowRequest {})
        .await
        .expect_err("not for kiosks");
    assert_eq!(kiosk.code(), Code::PermissionDenied);
}

async fn reading_tomorrows_list_is_in_the_registrys_audit_as_the_persons_read(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    clinic.book(&maria, &ruiz, (23, "10:00"), 30).await;
    let before = clinic.access_log(&maria).await.len();

    // Act: Ana at the desk reads tomorrow's list, with María's name and phone.
    clinic
        .client_as(Role::Reception, "reception:ana")
        .await
        .list_tomorrow(pb::ListTomorrowRequest {})
        .await
        .expect("listed");

    // Assert: the registry recorded Ana's read, made through scheduling.
    let log = clinic.access_log(&maria).await;
    let read: Vec<(&str, &str, &str, &str)> = log[before..]
        .iter()
        .map(|e| {
            (
                e.subject.as_str(),
                e.role.as_str(),
                e.action.as_str(),
                e.via.as_str(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [("reception:ana", "reception", "read", "service:scheduling")]
    );
}

async fn the_clinics_day_is_reckoned_in_its_zone_for_every_client(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let day = |mut client: Client| async move {
        client
            .get_clinic_day(pb::GetClinicDayRequest {})
            .await
            .expect("answered")
            .into_inner()
    };

    // 14:00 UTC is 08:00 in Mexico City; 05:30 UTC the next day is still 23:30 there.
    let morning = day(clinic.client(Role::Kiosk).await).await;
    clinic
        .clock
        .set("2026-11-23T05:30:00Z".parse().expect("valid"));
    let late = day(clinic.client(Role::Collections).await).await;

    assert_eq!(morning.today, Some(november(22)));
    assert_eq!(morning.time_zone, "America/Mexico_City");
    assert_eq!(morning.utc_offset_minutes, -360);
    assert_eq!(morning.currency_code, "MXN");
    assert_eq!(
        morning.now.map(|t| t.seconds),
        Some(local(22, "08:00").seconds)
    );
    assert!(!morning.clinic_name.is_empty());
    assert_eq!(
        late.today,
        Some(november(22)),
        "23:30 local is still the 22nd"
    );
}
