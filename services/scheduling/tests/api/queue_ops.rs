//! Running the queue: calling the next patient, calling again, seating, and patients who leave.

use std::collections::HashSet;

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::check_in::by_id;
use crate::{Client, TestClinic};

backend_tests!(
    calling_next_calls_the_first_waiting_patient_and_the_watch_shows_it,
    calling_next_for_a_provider_passes_over_other_providers_patients,
    calling_next_with_nobody_waiting_is_refused,
    a_retried_call_next_calls_nobody_else,
    desks_calling_at_once_each_call_a_different_patient,
    calling_again_restamps_the_call_and_counts_it,
    seating_a_patient_seats_their_appointment,
    a_patient_who_leaves_unseen_keeps_their_arrival_on_record,
    queue_steps_name_the_entry_they_need,
    only_reception_and_managers_run_the_queue_and_the_visit,
);

/// Checks `patient_id` in for a fresh 30-minute visit with `provider_id` at `time` today, then
/// lets a minute pass so arrivals are ordered.
async fn arrive(
    clinic: &TestClinic,
    patient_id: &str,
    provider_id: &str,
    time: &str,
) -> pb::QueueEntry {
    let booked = clinic.book(patient_id, provider_id, (22, time), 30).await;
    let entry = clinic
        .client(Role::Reception)
        .await
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in")
        .into_inner()
        .queue_entry
        .expect("set");
    clinic.clock.advance(TimeDelta::minutes(1));
    entry
}

fn call_next(provider_id: &str, request_id: &str) -> pb::CallNextRequest {
    pb::CallNextRequest {
        provider_id: provider_id.into(),
        request_id: request_id.into(),
    }
}

async fn queue(client: &mut Client) -> Vec<(String, pb::QueueEntryStatus, i32)> {
    let mut stream = client
        .watch_queue(pb::WatchQueueRequest {})
        .await
        .expect("watching")
        .into_inner();
    let snapshot = tokio::time::timeout(std::time::Duration::from_secs(5), stream.message())
        .await
        .expect("promptly")
        .expect("healthy")
        .expect("open");
    snapshot
        .entries
        .into_iter()
        .map(|entry| (entry.ticket_number.clone(), entry.status(), entry.position))
        .collect()
}

async fn calling_next_calls_the_first_waiting_patient_and_the_watch_shows_it(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    arrive(&clinic, &maria, &ana, "08:00").await;
    arrive(&clinic, &lucia, &ana, "08:30").await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut watch = reception
        .watch_queue(pb::WatchQueueRequest {})
        .await
        .expect("watching")
        .into_inner();
    watch.message().await.expect("healthy").expect("a snapshot");

    // Act
    let called = reception
        .call_next(call_next("", "call-1"))
        .await
        .expect("called")
        .into_inner();

    // Assert
    assert_eq!(called.ticket_number, "A-001");
    assert_eq!(called.status(), pb::QueueEntryStatus::Called);
    assert_eq!(called.position, 0);
    assert_eq!(called.call_count, 1);
    assert_eq!(
        called.called_time.map(|time| time.seconds),
        Some(crate::local(22, "08:02").seconds)
    );
    let changed = tokio::time::timeout(std::time::Duration::from_secs(5), watch.message())
        .await
        .expect("promptly")
        .expect("healthy")
        .expect("open");
    assert_eq!(changed.changed_queue_entry_id, called.queue_entry_id);
    let order: Vec<(String, pb::QueueEntryStatus, i32)> = changed
        .entries
        .iter()
        .map(|entry| (entry.ticket_number.clone(), entry.status(), entry.position))
        .collect();
    assert_eq!(
        order,
        [
            ("A-002".into(), pb::QueueEntryStatus::Waiting, 1),
            ("A-001".into(), pb::QueueEntryStatus::Called, 0),
        ]
    );
}

async fn calling_next_for_a_provider_passes_over_other_providers_patients(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let eva = clinic.provider("Dra. Eva Soto").await;
    arrive(&clinic, &maria, &ana, "08:00").await;
    let lucias = arrive(&clinic, &lucia, &eva, "08:00").await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let called = reception
        .call_next(call_next(&eva, "call-eva"))
        .await
        .expect("called")
        .into_inner();

    // Assert
    assert_eq!(called.queue_entry_id, lucias.queue_entry_id);
    assert_eq!(
        queue(&mut reception).await,
        [
            ("A-001".into(), pb::QueueEntryStatus::Waiting, 1),
            ("A-002".into(), pb::QueueEntryStatus::Called, 0),
        ]
    );
}

async fn calling_next_with_nobody_waiting_is_refused(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let eva = clinic.provider("Dra. Eva Soto").await;
    arrive(&clinic, &maria, &ana, "08:00").await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let for_eva = reception
        .call_next(call_next(&eva, "call-eva"))
        .await
        .expect_err("refused");
    reception
        .call_next(call_next("", "call-1"))
        .await
        .expect("called");
    let for_anyone = reception
        .call_next(call_next("", "call-2"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(for_eva.code(), Code::FailedPrecondition);
    assert_eq!(for_anyone.code(), Code::FailedPrecondition);
    assert_eq!(for_anyone.message(), "nobody is waiting to be called");
}

async fn a_retried_call_next_calls_nobody_else(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    arrive(&clinic, &maria, &ana, "08:00").await;
    arrive(&clinic, &lucia, &ana, "08:30").await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let first = reception
        .call_next(call_next("", "call-1"))
        .await
        .expect("called")
        .into_inner();
    let retried = reception
        .call_next(call_next("", "call-1"))
        .await
        .expect("answered again")
        .into_inner();
    let reused = reception
        .call_next(call_next(&ana, "call-1"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(retried, first);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_eq!(
        queue(&mut reception).await,
        [
            ("A-002".into(), pb::QueueEntryStatus::Waiting, 1),
            ("A-001".into(), pb::QueueEntryStatus::Called, 0),
        ]
    );
}

async fn desks_calling_at_once_each_call_a_different_patient(database: TestDatabase) {
    // Arrange: six patients waiting, six desks calling at the same moment.
    let clinic = TestClinic::start(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    for (index, time) in ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"]
        .into_iter()
        .enumerate()
    {
        let patient = clinic
            .register("Paciente", "Prueba", &format!("+52 55 0000 100{index}"))
            .await;
        arrive(&clinic, &patient, &ana, time).await;
    }
    let mut calls = Vec::new();
    for desk in 0..6 {
        let mut client = clinic.client(Role::Reception).await;
        calls.push(tokio::spawn(async move {
            client
                .call_next(call_next("", &format!("desk-{desk}")))
                .await
                .map(|response| response.into_inner().queue_entry_id)
        }));
    }

    // Act
    let mut called = HashSet::new();
    for call in calls {
        called.insert(call.await.expect("joined").expect("called"));
    }

    // Assert
    assert_eq!(called.len(), 6);
    let waiting = queue(&mut clinic.client(Role::Reception).await)
        .await
        .into_iter()
        .filter(|(_, status, _)| *status == pb::QueueEntryStatus::Waiting)
        .count();
    assert_eq!(waiting, 0);
}

async fn calling_again_restamps_the_call_and_counts_it(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    arrive(&clinic, &maria, &ana, "08:00").await;
    let lucias = arrive(&clinic, &lucia, &ana, "08:30").await;
    let mut reception = clinic.client(Role::Reception).await;
    let called = reception
        .call_next(call_next("", "call-1"))
        .await
        .expect("called")
        .into_inner();
    clinic.clock.advance(TimeDelta::minutes(3));

    // Act
    let recalled = reception
        .recall_queue_entry(pb::RecallQueueEntryRequest {
            queue_entry_id: called.queue_entry_id.clone(),
        })
        .await
        .expect("called again")
        .into_inner();
    let still_waiting = reception
        .recall_queue_entry(pb::RecallQueueEntryRequest {
            queue_entry_id: lucias.queue_entry_id.clone(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(recalled.status(), pb::QueueEntryStatus::Called);
    assert_eq!(recalled.call_count, 2);
    assert_eq!(
        recalled.called_time.map(|time| time.seconds),
        Some(crate::local(22, "08:05").seconds)
    );
    assert_eq!(still_waiting.code(), Code::FailedPrecondition);
    assert!(
        still_waiting
            .message()
            .contains("is waiting and cannot be called again"),
        "{}",
        still_waiting.message()
    );
}

async fn seating_a_patient_seats_their_appointment(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let entry = arrive(&clinic, &maria, &ana, "08:00").await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .call_next(call_next("", "call-1"))
        .await
        .expect("called");
    let seat = || pb::SeatQueueEntryRequest {
        queue_entry_id: entry.queue_entry_id.clone(),
    };

    // Act
    let seated = reception
        .seat_queue_entry(seat())
        .await
        .expect("seated")
        .into_inner();
    let again = reception
        .seat_queue_entry(seat())
        .await
        .expect_err("refused");

    // Assert
    let queue_entry = seated.queue_entry.expect("set");
    assert_eq!(queue_entry.status(), pb::QueueEntryStatus::Seated);
    assert_eq!(queue_entry.call_count, 1);
    let appointment = seated.appointment.expect("set");
    assert_eq!(appointment.appointment_id, entry.appointment_id);
    assert_eq!(appointment.status(), pb::AppointmentStatus::Seated);
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(again.message().contains("is seated"), "{}", again.message());
}

async fn a_patient_who_leaves_unseen_keeps_their_arrival_on_record(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let entry = arrive(&clinic, &maria, &ana, "08:00").await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let left = reception
        .mark_queue_entry_left(pb::MarkQueueEntryLeftRequest {
            queue_entry_id: entry.queue_entry_id.clone(),
        })
        .await
        .expect("marked")
        .into_inner();
    let seating = reception
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: entry.queue_entry_id.clone(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(left.status(), pb::QueueEntryStatus::Left);
    assert_eq!(left.position, 0);
    assert_eq!(seating.code(), Code::FailedPrecondition);
    let appointment = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: entry.appointment_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(appointment.status(), pb::AppointmentStatus::Arrived);
    assert_eq!(
        queue(&mut reception).await,
        [("A-001".into(), pb::QueueEntryStatus::Left, 0)]
    );
}

async fn queue_steps_name_the_entry_they_need(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let malformed = reception
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: "A-001".into(),
        })
        .await
        .expect_err("refused");
    let unknown = reception
        .mark_queue_entry_left(pb::MarkQueueEntryLeftRequest {
            queue_entry_id: clinic_common::ids::QueueEntryId::new().to_string(),
        })
        .await
        .expect_err("refused");
    let bad_call = reception
        .call_next(call_next("dr-ana", ""))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(violated_fields(&malformed), ["queue_entry_id"]);
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(violated_fields(&bad_call), ["provider_id", "request_id"]);
}

async fn only_reception_and_managers_run_the_queue_and_the_visit(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::without_registry(database).await;
    let appointment_id = clinic_common::ids::AppointmentId::new().to_string();
    let queue_entry_id = clinic_common::ids::QueueEntryId::new().to_string();

    for role in [Role::Kiosk, Role::Collections, Role::Service] {
        let mut client = clinic.client(role).await;

        // Act
        let refusals = [
            client.call_next(call_next("", "call-1")).await.map(|_| ()),
            client
                .recall_queue_entry(pb::RecallQueueEntryRequest {
                    queue_entry_id: queue_entry_id.clone(),
                })
                .await
                .map(|_| ()),
            client
                .seat_queue_entry(pb::SeatQueueEntryRequest {
                    queue_entry_id: queue_entry_id.clone(),
                })
                .await
                .map(|_| ()),
            client
                .mark_queue_entry_left(pb::MarkQueueEntryLeftRequest {
                    queue_entry_id: queue_entry_id.clone(),
                })
                .await
                .map(|_| ()),
            client
                .complete_appointment(pb::CompleteAppointmentRequest {
                    appointment_id: appointment_id.clone(),
                })
                .await
                .map(|_| ()),
            client
                .check_out_appointment(pb::CheckOutAppointmentRequest {
                    appointment_id: appointment_id.clone(),
                })
                .await
                .map(|_| ()),
            client
                .mark_no_show(pb::MarkNoShowRequest {
                    appointment_id: appointment_id.clone(),
                })
                .await
                .map(|_| ()),
            client
                .reschedule_appointment(pb::RescheduleAppointmentRequest::default())
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
    // Allowed roles get past the role check (and find nothing).
    for role in [Role::Reception, Role::Manager] {
        let status = clinic
            .client(role)
            .await
            .complete_appointment(pb::CompleteAppointmentRequest {
                appointment_id: appointment_id.clone(),
            })
            .await
            .expect_err("nothing to complete");
        assert_eq!(status.code(), Code::NotFound, "{role}");
    }
}
