//! The live queue: the staff watch and the waiting-room display.

use std::time::Duration;

use clinic_common::auth::Role;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tokio::time::timeout;
use tonic::Streaming;

use crate::TestClinic;
use crate::check_in::by_id;

backend_tests!(
    a_check_in_appears_on_both_watches,
    the_waiting_room_shows_tickets_and_initials_but_never_who_the_patient_is,
    a_patient_who_leaves_gives_up_their_place,
    watches_end_when_the_service_stops,
    waits_show_the_providers_lateness_and_the_visits_booked_ahead,
    a_called_ticket_says_which_provider_and_chair_to_go_to,
);

/// How long a watch may take to show a change.
const PROMPTLY: Duration = Duration::from_secs(5);

async fn next<T>(stream: &mut Streaming<T>) -> T {
    timeout(PROMPTLY, stream.message())
        .await
        .expect("a message arrives promptly")
        .expect("the stream is healthy")
        .expect("the stream is open")
}

async fn watch_queue(clinic: &TestClinic) -> Streaming<pb::WatchQueueResponse> {
    clinic
        .client(Role::Reception)
        .await
        .watch_queue(pb::WatchQueueRequest {})
        .await
        .expect("watching")
        .into_inner()
}

async fn watch_waiting_room(clinic: &TestClinic) -> Streaming<pb::WatchWaitingRoomResponse> {
    clinic
        .client(Role::Kiosk)
        .await
        .watch_waiting_room(pb::WatchWaitingRoomRequest {})
        .await
        .expect("watching")
        .into_inner()
}

fn tickets(response: &pb::WatchWaitingRoomResponse) -> Vec<(String, String, i32)> {
    response
        .tickets
        .iter()
        .map(|ticket| {
            (
                ticket.ticket_number.clone(),
                ticket.initials.clone(),
                ticket.position,
            )
        })
        .collect()
}

async fn a_check_in_appears_on_both_watches(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut queue = watch_queue(&clinic).await;
    let mut waiting_room = watch_waiting_room(&clinic).await;
    let first = next(&mut queue).await;
    assert_eq!(first.day, Some(crate::november(22)));
    assert!(first.entries.is_empty());
    assert_eq!(first.changed_queue_entry_id, "");
    assert!(next(&mut waiting_room).await.tickets.is_empty());

    let checked_in = clinic
        .client(Role::Reception)
        .await
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in")
        .into_inner();

    let entry = checked_in.queue_entry.expect("set");
    let staff_view = next(&mut queue).await;
    // The watch adds the wait: two hours early, María waits for her time.
    let watched = pb::QueueEntry {
        estimated_wait_minutes: 120,
        ..entry.clone()
    };
    assert_eq!(staff_view.entries, [watched]);
    assert_eq!(staff_view.changed_queue_entry_id, entry.queue_entry_id);
    assert!(staff_view.event_time.is_some());
    let display = next(&mut waiting_room).await;
    assert_eq!(
        display.tickets,
        [pb::WaitingRoomTicket {
            ticket_number: "A-001".into(),
            initials: "M. G.".into(),
            status: pb::QueueEntryStatus::Waiting.into(),
            position: 1,
            // The same number as reception's: María waits for her time, 10:00.
            estimated_wait_minutes: 120,
            // Not called yet: nowhere to go.
            provider_display_name: String::new(),
            room_display_name: String::new(),
        }]
    );
}

async fn the_waiting_room_shows_tickets_and_initials_but_never_who_the_patient_is(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let checked_in = clinic
        .client(Role::Reception)
        .await
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in")
        .into_inner();
    let entry = checked_in.queue_entry.expect("set");

    let display = next(&mut watch_waiting_room(&clinic).await).await;

    assert_eq!(tickets(&display), [("A-001".into(), "M. G.".into(), 1)]);
    let wire = prost::Message::encode_to_vec(&display);
    let wire = String::from_utf8_lossy(&wire);
    for identifying in [
        maria.as_str(),
        booked.appointment_id.as_str(),
        entry.queue_entry_id.as_str(),
        ana.as_str(),
        "María",
        "García",
    ] {
        assert!(
            !wire.contains(identifying),
            "the display must not carry {identifying}"
        );
    }
}

async fn a_called_ticket_says_which_provider_and_chair_to_go_to(database: TestDatabase) {
    // Arrange: María booked with Dra. Ruiz in chair 2, checked in and waiting.
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let chair = crate::resources::resource(&clinic, "Sillón 2", pb::ResourceKind::Chair).await;
    let xray = crate::resources::resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let mut request = crate::booking(&maria, &ana, (22, "10:00"), 30);
    if let Some(appointment) = request.appointment.as_mut() {
        appointment.resource_ids = vec![xray, chair];
    }
    let mut reception = clinic.client(Role::Reception).await;
    let booked = reception
        .create_appointment(request)
        .await
        .expect("booked")
        .into_inner();
    reception
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in");
    let mut waiting_room = watch_waiting_room(&clinic).await;
    let waiting = next(&mut waiting_room).await;
    assert_eq!(waiting.tickets.len(), 1);
    assert_eq!(waiting.tickets[0].provider_display_name, "");
    assert_eq!(waiting.tickets[0].room_display_name, "");

    // Act: the desk calls her.
    reception
        .call_next(pb::CallNextRequest {
            provider_id: String::new(),
            request_id: "call-maria".into(),
        })
        .await
        .expect("called");

    // Assert: the display is told where she goes, and still nothing about who she is.
    let called = next(&mut waiting_room).await;
    let ticket = &called.tickets[0];
    assert_eq!(ticket.status, i32::from(pb::QueueEntryStatus::Called));
    assert_eq!(ticket.provider_display_name, "Dra. Ana Ruiz");
    assert_eq!(ticket.room_display_name, "Sillón 2");
    let wire = prost::Message::encode_to_vec(&called);
    let wire = String::from_utf8_lossy(&wire);
    for identifying in [maria.as_str(), "María", "García"] {
        assert!(
            !wire.contains(identifying),
            "the display must not carry {identifying}"
        );
    }
    assert!(!wire.contains("Rayos X"), "equipment is no place to go");
}

async fn a_patient_who_leaves_gives_up_their_place(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let marias = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let lucias = clinic.book(&lucia, &ana, (22, "10:30"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    for appointment in [&marias, &lucias] {
        reception
            .check_in_appointment(by_id(&appointment.appointment_id))
            .await
            .expect("checked in");
        clinic.clock.advance(chrono::TimeDelta::minutes(1));
    }
    let mut queue = watch_queue(&clinic).await;
    let mut waiting_room = watch_waiting_room(&clinic).await;
    next(&mut queue).await;
    assert_eq!(
        tickets(&next(&mut waiting_room).await),
        [
            ("A-001".into(), "M. G.".into(), 1),
            ("A-002".into(), "L. P.".into(), 2)
        ]
    );

    reception
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: marias.appointment_id.clone(),
            reason: "called away to work".into(),
        })
        .await
        .expect("cancelled");

    let staff_view = next(&mut queue).await;
    let order: Vec<(String, pb::QueueEntryStatus, i32)> = staff_view
        .entries
        .iter()
        .map(|entry| (entry.ticket_number.clone(), entry.status(), entry.position))
        .collect();
    assert_eq!(
        order,
        [
            ("A-002".into(), pb::QueueEntryStatus::Waiting, 1),
            ("A-001".into(), pb::QueueEntryStatus::Left, 0),
        ]
    );
    assert_eq!(
        tickets(&next(&mut waiting_room).await),
        [("A-002".into(), "L. P.".into(), 1)]
    );
}

async fn watches_end_when_the_service_stops(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut queue = watch_queue(&clinic).await;
    let mut waiting_room = watch_waiting_room(&clinic).await;
    next(&mut queue).await;
    next(&mut waiting_room).await;

    timeout(PROMPTLY, clinic.scheduling.stop())
        .await
        .expect("open watches do not hold the service up");

    let ended = timeout(PROMPTLY, queue.message())
        .await
        .expect("the watch ends promptly");
    assert!(matches!(ended, Ok(None)), "{ended:?}");
    let ended = timeout(PROMPTLY, waiting_room.message())
        .await
        .expect("the watch ends promptly");
    assert!(matches!(ended, Ok(None)), "{ended:?}");
}

async fn waits_show_the_providers_lateness_and_the_visits_booked_ahead(database: TestDatabase) {
    // Arrange: now is 08:00. María (08:00, 30 min) and Lucía (08:30, 45 min) see Dra. Ruiz,
    // Pedro (09:00, 20 min) sees Dra. Soto; they check in a minute apart.
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let pedro = clinic.register("Pedro", "Soto", "+52 55 1111 2222").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let eva = clinic.provider("Dra. Eva Soto").await;
    let mut reception = clinic.client(Role::Reception).await;
    for (patient, provider, time, minutes) in [
        (&maria, &ana, "08:00", 30),
        (&lucia, &ana, "08:30", 45),
        (&pedro, &eva, "09:00", 20),
    ] {
        let booked = clinic.book(patient, provider, (22, time), minutes).await;
        reception
            .check_in_appointment(by_id(&booked.appointment_id))
            .await
            .expect("checked in");
        clinic.clock.advance(chrono::TimeDelta::minutes(1));
    }
    // 08:11: Dra. Ruiz should have started María's visit 11 minutes ago.
    clinic.clock.advance(chrono::TimeDelta::minutes(8));

    // Act
    let staff_view = next(&mut watch_queue(&clinic).await).await;
    let display = next(&mut watch_waiting_room(&clinic).await).await;

    // Assert
    let waits: Vec<(String, i32, i32, bool)> = staff_view
        .entries
        .iter()
        .map(|entry| {
            (
                entry.ticket_number.clone(),
                entry.waited_minutes,
                entry.estimated_wait_minutes,
                entry.overdue,
            )
        })
        .collect();
    assert_eq!(
        waits,
        [
            // Dra. Ruiz's lateness, nobody ahead; waited the 10-minute threshold.
            ("A-001".into(), 11, 11, true),
            // Her lateness plus María's 30 booked minutes.
            ("A-002".into(), 10, 41, true),
            // Dra. Soto is not late and nobody waits ahead for her: Pedro waits for his time,
            // 09:00.
            ("A-003".into(), 9, 49, false),
        ]
    );
    let estimates: Vec<i32> = display
        .tickets
        .iter()
        .map(|ticket| ticket.estimated_wait_minutes)
        .collect();
    assert_eq!(estimates, [11, 41, 49]);
}
