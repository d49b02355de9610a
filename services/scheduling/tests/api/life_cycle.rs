//! The rest of an appointment's life: completing, checking out, no-shows and rescheduling.

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::check_in::by_id;
use crate::{Client, TestClinic, appointments_on, local};

backend_tests!(
    a_visit_goes_from_booking_to_check_out_with_every_step_in_its_history,
    a_step_out_of_order_is_refused_naming_the_current_status,
    a_no_show_is_marked_only_once_the_start_has_passed,
    rescheduling_links_the_old_appointment_to_a_new_one_at_the_new_time,
    rescheduling_may_overlap_its_own_old_time_but_never_another_booking,
    a_retried_reschedule_returns_the_first_result_and_books_nothing_more,
    rescheduling_is_only_for_visits_not_yet_begun,
    a_bad_reschedule_request_names_every_offending_field,
    concurrent_reschedules_into_one_slot_move_exactly_one_appointment,
    concurrent_retries_of_one_reschedule_all_return_the_same_result,
    rescheduling_to_another_provider_books_them_only_when_they_are_free,
);

fn id(appointment_id: &str) -> String {
    appointment_id.to_owned()
}

async fn history(
    client: &mut Client,
    appointment_id: &str,
) -> Vec<(pb::AppointmentStatus, String)> {
    client
        .list_appointment_status_changes(pb::ListAppointmentStatusChangesRequest {
            appointment_id: appointment_id.into(),
            page: None,
        })
        .await
        .expect("listed")
        .into_inner()
        .status_changes
        .into_iter()
        .map(|change| (change.status(), change.changed_by))
        .collect()
}

fn reschedule(
    appointment_id: &str,
    (day, time): (u32, &str),
    request_id: &str,
) -> pb::RescheduleAppointmentRequest {
    pb::RescheduleAppointmentRequest {
        appointment_id: appointment_id.into(),
        start_time: Some(local(day, time)),
        end_time: None,
        request_id: request_id.into(),
        provider_id: String::new(),
    }
}

async fn a_visit_goes_from_booking_to_check_out_with_every_step_in_its_history(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "08:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut manager = clinic.client(Role::Manager).await;
    let entry = reception
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in")
        .into_inner()
        .queue_entry
        .expect("set");

    // Act
    let seated = manager
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: entry.queue_entry_id.clone(),
        })
        .await
        .expect("seated")
        .into_inner();
    let completed = reception
        .complete_appointment(pb::CompleteAppointmentRequest {
            appointment_id: id(&booked.appointment_id),
        })
        .await
        .expect("completed")
        .into_inner();
    let checked_out = reception
        .check_out_appointment(pb::CheckOutAppointmentRequest {
            appointment_id: id(&booked.appointment_id),
        })
        .await
        .expect("checked out")
        .into_inner();

    // Assert
    assert_eq!(
        seated.appointment.expect("set").status(),
        pb::AppointmentStatus::Seated
    );
    assert_eq!(completed.status(), pb::AppointmentStatus::Completed);
    assert_eq!(checked_out.status(), pb::AppointmentStatus::CheckedOut);
    assert_eq!(
        history(&mut reception, &booked.appointment_id).await,
        [
            (pb::AppointmentStatus::Scheduled, "reception:tester".into()),
            (pb::AppointmentStatus::Arrived, "reception:tester".into()),
            (pb::AppointmentStatus::Seated, "manager:tester".into()),
            (pb::AppointmentStatus::Completed, "reception:tester".into()),
            (pb::AppointmentStatus::CheckedOut, "reception:tester".into()),
        ]
    );
}

async fn a_step_out_of_order_is_refused_naming_the_current_status(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "08:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let completing = reception
        .complete_appointment(pb::CompleteAppointmentRequest {
            appointment_id: id(&booked.appointment_id),
        })
        .await
        .expect_err("refused");
    let checking_out = reception
        .check_out_appointment(pb::CheckOutAppointmentRequest {
            appointment_id: id(&booked.appointment_id),
        })
        .await
        .expect_err("refused");
    let unknown = reception
        .complete_appointment(pb::CompleteAppointmentRequest {
            appointment_id: clinic_common::ids::AppointmentId::new().to_string(),
        })
        .await
        .expect_err("refused");
    let malformed = reception
        .check_out_appointment(pb::CheckOutAppointmentRequest {
            appointment_id: "nope".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(completing.code(), Code::FailedPrecondition);
    assert!(
        completing
            .message()
            .contains("is scheduled and cannot be completed"),
        "{}",
        completing.message()
    );
    assert_eq!(checking_out.code(), Code::FailedPrecondition);
    assert!(
        checking_out
            .message()
            .contains("is scheduled and cannot be checked out")
    );
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(violated_fields(&malformed), ["appointment_id"]);
    assert_eq!(
        history(&mut reception, &booked.appointment_id).await,
        [(pb::AppointmentStatus::Scheduled, "reception:tester".into())]
    );
}

async fn a_no_show_is_marked_only_once_the_start_has_passed(database: TestDatabase) {
    // Arrange: now is 08:00; the visit is at 08:30.
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "08:30"), 30).await;
    let arrived = clinic.book(&maria, &ana, (22, "09:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .check_in_appointment(by_id(&arrived.appointment_id))
        .await
        .expect("checked in");
    let mark = |appointment_id: &str| pb::MarkNoShowRequest {
        appointment_id: appointment_id.into(),
    };

    // Act
    let too_early = reception
        .mark_no_show(mark(&booked.appointment_id))
        .await
        .expect_err("refused");
    clinic.clock.advance(TimeDelta::minutes(30));
    let no_show = reception
        .mark_no_show(mark(&booked.appointment_id))
        .await
        .expect("marked")
        .into_inner();
    clinic.clock.advance(TimeDelta::minutes(60));
    let came = reception
        .mark_no_show(mark(&arrived.appointment_id))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(too_early.code(), Code::FailedPrecondition);
    assert!(
        too_early.message().contains("before then"),
        "{}",
        too_early.message()
    );
    assert_eq!(no_show.status(), pb::AppointmentStatus::NoShow);
    assert_eq!(came.code(), Code::FailedPrecondition);
    assert!(came.message().contains("is arrived"), "{}", came.message());
    assert_eq!(
        history(&mut reception, &booked.appointment_id).await,
        [
            (pb::AppointmentStatus::Scheduled, "reception:tester".into()),
            (pb::AppointmentStatus::NoShow, "reception:tester".into()),
        ]
    );
}

async fn rescheduling_links_the_old_appointment_to_a_new_one_at_the_new_time(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 45).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let moved = reception
        .reschedule_appointment(reschedule(&booked.appointment_id, (23, "11:00"), "move-1"))
        .await
        .expect("rescheduled")
        .into_inner();

    // Assert
    let old = moved.rescheduled_appointment.expect("set");
    let new = moved.appointment.expect("set");
    assert_eq!(old.status(), pb::AppointmentStatus::Rescheduled);
    assert_eq!(old.rescheduled_to_appointment_id, new.appointment_id);
    assert_eq!(old.start_time, booked.start_time);
    assert_eq!(new.status(), pb::AppointmentStatus::Scheduled);
    assert_eq!(new.rescheduled_from_appointment_id, booked.appointment_id);
    assert_eq!(new.start_time, Some(local(23, "11:00")));
    assert_eq!(new.end_time, Some(local(23, "11:45")));
    assert_eq!(
        (
            &new.patient_id,
            &new.provider_id,
            &new.price_code,
            &new.reason
        ),
        (
            &booked.patient_id,
            &booked.provider_id,
            &booked.price_code,
            &booked.reason
        )
    );
    assert_ne!(new.confirmation_code, booked.confirmation_code);
    assert_eq!(
        appointments_on(&mut reception, 23).await,
        std::slice::from_ref(&new)
    );
    let fetched = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(fetched, old);
    assert_eq!(
        history(&mut reception, &booked.appointment_id).await,
        [
            (pb::AppointmentStatus::Scheduled, "reception:tester".into()),
            (
                pb::AppointmentStatus::Rescheduled,
                "reception:tester".into()
            ),
        ]
    );
    assert_eq!(
        history(&mut reception, &new.appointment_id).await,
        [(pb::AppointmentStatus::Scheduled, "reception:tester".into())]
    );
}

async fn rescheduling_may_overlap_its_own_old_time_but_never_another_booking(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let marias = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let lucias = clinic.book(&lucia, &ana, (22, "11:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let later = reception
        .reschedule_appointment(reschedule(&marias.appointment_id, (22, "10:15"), "move-1"))
        .await
        .expect("rescheduled over its own old time")
        .into_inner()
        .appointment
        .expect("set");
    let clash = reception
        .reschedule_appointment(reschedule(&later.appointment_id, (22, "11:15"), "move-2"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(clash.code(), Code::FailedPrecondition);
    assert!(
        clash.message().contains(&lucias.appointment_id),
        "{}",
        clash.message()
    );
    let day: Vec<(String, pb::AppointmentStatus)> = appointments_on(&mut reception, 22)
        .await
        .into_iter()
        .map(|appointment| (appointment.appointment_id.clone(), appointment.status()))
        .collect();
    assert_eq!(
        day,
        [
            (marias.appointment_id, pb::AppointmentStatus::Rescheduled),
            (later.appointment_id, pb::AppointmentStatus::Scheduled),
            (lucias.appointment_id, pb::AppointmentStatus::Scheduled),
        ]
    );
}

async fn a_retried_reschedule_returns_the_first_result_and_books_nothing_more(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let request = reschedule(&booked.appointment_id, (23, "09:00"), "move-1");

    // Act
    let first = reception
        .reschedule_appointment(request.clone())
        .await
        .expect("rescheduled")
        .into_inner();
    clinic.clock.advance(TimeDelta::minutes(1));
    let retried = reception
        .reschedule_appointment(request)
        .await
        .expect("answered again")
        .into_inner();
    let reused = reception
        .reschedule_appointment(reschedule(&booked.appointment_id, (24, "09:00"), "move-1"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(retried, first);
    assert_eq!(appointments_on(&mut reception, 23).await.len(), 1);
    assert!(appointments_on(&mut reception, 24).await.is_empty());
    assert_eq!(violated_fields(&reused), ["request_id"]);
}

async fn rescheduling_is_only_for_visits_not_yet_begun(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in");

    // Act
    let refused = reception
        .reschedule_appointment(reschedule(&booked.appointment_id, (23, "10:00"), "move-1"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .contains("is arrived and cannot be rescheduled"),
        "{}",
        refused.message()
    );
    assert!(appointments_on(&mut reception, 23).await.is_empty());
}

async fn a_bad_reschedule_request_names_every_offending_field(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let start = local(23, "10:00");

    // Act
    let nothing = reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest::default())
        .await
        .expect_err("refused");
    let backwards = reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
            start_time: Some(prost_types::Timestamp {
                seconds: start.seconds + 30,
                nanos: 0,
            }),
            end_time: Some(local(23, "09:00")),
            request_id: "move-1".into(),
            provider_id: String::new(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(nothing.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&nothing),
        ["appointment_id", "request_id", "start_time"]
    );
    assert_eq!(violated_fields(&backwards), ["start_time", "end_time"]);
    assert!(appointments_on(&mut reception, 23).await.is_empty());
}

async fn concurrent_reschedules_into_one_slot_move_exactly_one_appointment(database: TestDatabase) {
    // Arrange: ten visits on the 22nd, all asked to move to 10:00 on the 23rd at once.
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut booked = Vec::new();
    for hour in 8..18 {
        let time = format!("{hour:02}:00");
        booked.push(clinic.book(&maria, &ana, (22, &time), 30).await);
    }
    let reception = clinic.client(Role::Reception).await;
    let mut calls = Vec::new();
    for appointment in &booked {
        let mut client = reception.clone();
        let request = reschedule(
            &appointment.appointment_id,
            (23, "10:00"),
            &format!("race-{}", appointment.appointment_id),
        );
        calls.push(tokio::spawn(async move {
            client.reschedule_appointment(request).await
        }));
    }

    // Act
    let mut moved = Vec::new();
    let mut refused = Vec::new();
    for call in calls {
        match call.await.expect("the call task finished") {
            Ok(response) => moved.push(response.into_inner()),
            Err(status) => refused.push(status),
        }
    }

    // Assert
    assert_eq!(moved.len(), 1, "exactly one reschedule wins: {refused:?}");
    let winner = moved[0].appointment.clone().expect("set");
    assert_eq!(refused.len(), 9);
    for status in &refused {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(status.message().contains(&winner.appointment_id));
    }
    let mut reception = reception;
    assert_eq!(appointments_on(&mut reception, 23).await, [winner]);
    let still_scheduled = appointments_on(&mut reception, 22)
        .await
        .into_iter()
        .filter(|appointment| appointment.status() == pb::AppointmentStatus::Scheduled)
        .count();
    assert_eq!(still_scheduled, 9);
}

async fn concurrent_retries_of_one_reschedule_all_return_the_same_result(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let reception = clinic.client(Role::Reception).await;
    let request = reschedule(&booked.appointment_id, (23, "10:00"), "move-1");
    let mut calls = Vec::new();
    for _ in 0..10 {
        let mut client = reception.clone();
        let request = request.clone();
        calls.push(tokio::spawn(async move {
            client.reschedule_appointment(request).await
        }));
    }

    // Act
    let mut results = Vec::new();
    for call in calls {
        results.push(
            call.await
                .expect("the call task finished")
                .expect("every retry succeeds")
                .into_inner(),
        );
    }

    // Assert
    results.dedup();
    assert_eq!(results.len(), 1, "one result: {results:?}");
    let mut reception = reception;
    assert_eq!(appointments_on(&mut reception, 23).await.len(), 1);
}

async fn rescheduling_to_another_provider_books_them_only_when_they_are_free(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let wei = clinic.provider("Dr. Wei Zhang").await;
    let marias = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let _lucias = clinic.book(&lucia, &wei, (22, "11:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let to_wei = |appointment_id: &str, time: &str, key: &str| pb::RescheduleAppointmentRequest {
        provider_id: wei.clone(),
        ..reschedule(appointment_id, (22, time), key)
    };

    // Act
    let busy = reception
        .reschedule_appointment(to_wei(&marias.appointment_id, "11:15", "move-1"))
        .await
        .expect_err("Dr. Zhang sees Lucía then");
    let moved = reception
        .reschedule_appointment(to_wei(&marias.appointment_id, "10:00", "move-2"))
        .await
        .expect("Dr. Zhang is free at 10:00")
        .into_inner();
    let retried = reception
        .reschedule_appointment(to_wei(&marias.appointment_id, "10:00", "move-2"))
        .await
        .expect("a retry")
        .into_inner();
    let nobody = reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest {
            provider_id: "not-an-id".into(),
            ..reschedule(&marias.appointment_id, (22, "12:00"), "move-3")
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(busy.code(), Code::FailedPrecondition, "{busy:?}");
    let new = moved.appointment.expect("the new appointment");
    assert_eq!(new.provider_id, wei);
    assert_eq!(new.patient_id, maria);
    assert_eq!(new.start_time, Some(local(22, "10:00")));
    assert_eq!(
        retried.appointment.map(|a| a.appointment_id),
        Some(new.appointment_id.clone())
    );
    assert_eq!(nobody.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&nobody), ["provider_id"]);
    let weis: Vec<String> = appointments_on(&mut reception, 22)
        .await
        .into_iter()
        .filter(|a| a.provider_id == wei)
        .map(|a| a.patient_id)
        .collect();
    assert_eq!(weis, [maria, lucia]);
}
