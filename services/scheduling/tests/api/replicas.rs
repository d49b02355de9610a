//! Several replicas of the service on one PostgreSQL database: a change made on one reaches the
//! queue watches on another (PostgreSQL `LISTEN/NOTIFY`). SQLite serves one process, so these
//! run on PostgreSQL only.

use std::time::Duration;

use clinic_common::auth::Role;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_test_support::{RunningService, TestDatabase, postgres_tests};
use sqlx::Connection;
use tokio::time::timeout;
use tonic::Streaming;

use crate::TestClinic;
use crate::check_in::by_id;

postgres_tests!(
    a_check_in_on_one_replica_reaches_the_watches_on_another,
    a_replica_that_lost_its_notifications_reads_the_queue_again_and_hears_later_changes,
);

/// How long a change may take to reach another replica's watch before the test gives up.
const EVENTUALLY: Duration = Duration::from_secs(10);

async fn next<T>(stream: &mut Streaming<T>) -> T {
    timeout(EVENTUALLY, stream.message())
        .await
        .expect("a message arrives")
        .expect("the stream is healthy")
        .expect("the stream is open")
}

async fn watch_queue(replica: &RunningService) -> Streaming<pb::WatchQueueResponse> {
    SchedulingServiceClient::new(
        replica
            .channel_as(Role::Reception, "reception:tester")
            .await,
    )
    .watch_queue(pb::WatchQueueRequest {})
    .await
    .expect("watching")
    .into_inner()
}

async fn watch_waiting_room(replica: &RunningService) -> Streaming<pb::WatchWaitingRoomResponse> {
    SchedulingServiceClient::new(replica.channel_as(Role::Kiosk, "kiosk:tester").await)
        .watch_waiting_room(pb::WatchWaitingRoomRequest {})
        .await
        .expect("watching")
        .into_inner()
}

/// Checks in `appointment_id` on the clinic's first replica and returns the queue entry.
async fn check_in(clinic: &TestClinic, appointment_id: &str) -> pb::QueueEntry {
    clinic
        .client(Role::Reception)
        .await
        .check_in_appointment(by_id(appointment_id))
        .await
        .expect("checked in")
        .into_inner()
        .queue_entry
        .expect("set")
}

/// A check-in's entry as the queue watch shows it at 08:00, for a 10:00 appointment.
fn early_by_two_hours(entry: pb::QueueEntry) -> pb::QueueEntry {
    pb::QueueEntry {
        estimated_wait_minutes: 120,
        ..entry
    }
}

fn ticket_numbers(display: &pb::WatchWaitingRoomResponse) -> Vec<&str> {
    display
        .tickets
        .iter()
        .map(|ticket| ticket.ticket_number.as_str())
        .collect()
}

async fn a_check_in_on_one_replica_reaches_the_watches_on_another(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let replica = clinic.another_replica().await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut queue = watch_queue(&replica).await;
    let mut waiting_room = watch_waiting_room(&replica).await;
    assert!(next(&mut queue).await.entries.is_empty());
    assert!(next(&mut waiting_room).await.tickets.is_empty());

    let entry = check_in(&clinic, &booked.appointment_id).await;

    let staff_view = next(&mut queue).await;
    assert_eq!(staff_view.changed_queue_entry_id, entry.queue_entry_id);
    // The watch adds the wait: two hours early, María waits for her time.
    assert_eq!(staff_view.entries, [early_by_two_hours(entry)]);
    let display = next(&mut waiting_room).await;
    assert_eq!(ticket_numbers(&display), ["A-001"]);
    assert_eq!(display.tickets[0].initials, "M. G.");
    replica.stop().await;
}

async fn a_replica_that_lost_its_notifications_reads_the_queue_again_and_hears_later_changes(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let replica = clinic.another_replica().await;
    let maria = clinic.maria().await;
    let juan = clinic.register("Juan", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let marias = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let juans = clinic.book(&juan, &ana, (22, "10:30"), 30).await;
    let mut queue = watch_queue(&replica).await;
    let mut waiting_room = watch_waiting_room(&replica).await;
    assert!(next(&mut queue).await.entries.is_empty());
    assert!(next(&mut waiting_room).await.tickets.is_empty());
    let marias_entry = check_in(&clinic, &marias.appointment_id).await;
    assert_eq!(
        next(&mut queue).await.changed_queue_entry_id,
        marias_entry.queue_entry_id
    );
    assert_eq!(ticket_numbers(&next(&mut waiting_room).await), ["A-001"]);

    // Both replicas' listening connections are cut, as by a network failure or a restart of a
    // connection pooler.
    let mut admin = sqlx::PgConnection::connect(&clinic.database_url)
        .await
        .expect("connected");
    let cut: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN %') AS terminated",
    )
    .fetch_one(&mut admin)
    .await
    .expect("terminated");
    assert_eq!(cut, 2, "each replica listens on a connection of its own");
    admin.close().await.expect("closed");

    // Changes may have been missed meanwhile, so the watches read the queue again once the
    // replica listens again, without naming a change.
    let reread = next(&mut queue).await;
    assert_eq!(reread.changed_queue_entry_id, "");
    assert_eq!(reread.entries, [early_by_two_hours(marias_entry.clone())]);
    assert_eq!(ticket_numbers(&next(&mut waiting_room).await), ["A-001"]);

    let juans_entry = check_in(&clinic, &juans.appointment_id).await;

    let staff_view = next(&mut queue).await;
    assert_eq!(
        staff_view.changed_queue_entry_id,
        juans_entry.queue_entry_id
    );
    let queued: Vec<&str> = staff_view
        .entries
        .iter()
        .map(|entry| entry.queue_entry_id.as_str())
        .collect();
    assert_eq!(
        queued,
        [marias_entry.queue_entry_id, juans_entry.queue_entry_id]
    );
    assert_eq!(
        ticket_numbers(&next(&mut waiting_room).await),
        ["A-001", "A-002"]
    );
    replica.stop().await;
}
