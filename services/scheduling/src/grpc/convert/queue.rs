//! The queue: calling the next patient, walk-ins, and the queue as staff and the waiting room
//! see it.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_to_proto, timestamp_to_proto};

use super::{optional, patient_id, provider_id};
use crate::domain::{
    AppointmentTypeId, CallNext, CalledTo, KioskLock, LockScope, QueueEntry, QueueEntryKind,
    QueueEntryStatus, Wait, WalkInRequest, waits,
};

pub fn call_next(request: &pb::CallNextRequest) -> Result<CallNext, FieldViolations> {
    let mut violations = FieldViolations::new();
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (provider_id, request_id) {
        (Some(provider_id), Some(request_id)) => Ok(CallNext {
            provider_id,
            request_id,
        }),
        _ => Err(violations),
    }
}

pub fn walk_in(request: &pb::RegisterWalkInRequest) -> Result<WalkInRequest, FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let provider = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let appointment_type_id = violations.check(
        "appointment_type_id",
        optional(&request.appointment_type_id, AppointmentTypeId::parse),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, provider, appointment_type_id, request_id) {
        (Some(patient_id), Some(provider_id), Some(appointment_type_id), Some(request_id)) => {
            Ok(WalkInRequest {
                patient_id,
                provider_id,
                appointment_type_id,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

fn queue_status_to_proto(status: QueueEntryStatus) -> pb::QueueEntryStatus {
    match status {
        QueueEntryStatus::Waiting => pb::QueueEntryStatus::Waiting,
        QueueEntryStatus::Called => pb::QueueEntryStatus::Called,
        QueueEntryStatus::Seated => pb::QueueEntryStatus::Seated,
        QueueEntryStatus::Left => pb::QueueEntryStatus::Left,
    }
}

fn position(entry: &QueueEntry) -> i32 {
    i32::try_from(entry.position).unwrap_or(i32::MAX)
}

pub fn queue_entry_to_proto(entry: &QueueEntry) -> pb::QueueEntry {
    pb::QueueEntry {
        queue_entry_id: entry.queue_entry_id.to_string(),
        ticket_number: entry.ticket.to_string(),
        patient_id: entry.patient_id.to_string(),
        appointment_id: entry
            .appointment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        provider_id: entry.provider_id.to_string(),
        initials: entry.initials.as_str().to_owned(),
        status: queue_status_to_proto(entry.status).into(),
        arrived_time: Some(timestamp_to_proto(entry.arrived_at)),
        appointment_start_time: entry.appointment_start.map(timestamp_to_proto),
        kind: match entry.kind() {
            QueueEntryKind::Appointment => pb::QueueEntryKind::Appointment,
            QueueEntryKind::WalkIn => pb::QueueEntryKind::WalkIn,
        }
        .into(),
        first_visit: entry.first_visit,
        routed_to_provider_id: entry.routed_to.to_string(),
        position: position(entry),
        called_time: entry.called_at.map(timestamp_to_proto),
        call_count: i32::try_from(entry.call_count).unwrap_or(i32::MAX),
        waited_minutes: 0,
        estimated_wait_minutes: 0,
        overdue: false,
    }
}

fn minutes(minutes: u32) -> i32 {
    i32::try_from(minutes).unwrap_or(i32::MAX)
}

/// An entry as the staff watch shows it, with its wait when it is waiting.
fn watched_entry(entry: &QueueEntry, wait: Option<Wait>) -> pb::QueueEntry {
    let mut shown = queue_entry_to_proto(entry);
    if let Some(wait) = wait {
        shown.waited_minutes = minutes(wait.waited_minutes);
        shown.estimated_wait_minutes = minutes(wait.estimated_minutes);
        shown.overdue = wait.overdue;
    }
    shown
}

/// The waiting-room display's view of the queue: tickets and initials, and where each called
/// patient goes (`called_to`), nothing that identifies a patient. Entries that left are not
/// shown.
pub fn waiting_room(
    entries: &[QueueEntry],
    called_to: &[CalledTo],
    alert_after: TimeDelta,
    now: DateTime<Utc>,
) -> pb::WatchWaitingRoomResponse {
    let mut tickets = Vec::with_capacity(entries.len());
    for (entry, wait) in entries.iter().zip(waits(entries, now, alert_after)) {
        if entry.status == QueueEntryStatus::Left {
            continue;
        }
        let mut ticket = pb::WaitingRoomTicket {
            ticket_number: entry.ticket.to_string(),
            initials: entry.initials.as_str().to_owned(),
            status: queue_status_to_proto(entry.status).into(),
            position: position(entry),
            estimated_wait_minutes: wait.map_or(0, |wait| minutes(wait.estimated_minutes)),
            ..Default::default()
        };
        let destination = called_to
            .iter()
            .find(|called| called.queue_entry_id == entry.queue_entry_id);
        if entry.status == QueueEntryStatus::Called
            && let Some(destination) = destination
        {
            ticket.provider_display_name = destination.receiver.clone();
            ticket.room_display_name = destination.room().unwrap_or_default().to_owned();
        }
        tickets.push(ticket);
    }
    pb::WatchWaitingRoomResponse {
        tickets,
        event_time: Some(timestamp_to_proto(now)),
    }
}

/// A lock on kiosk lookups, as reception is told of it.
fn kiosk_lock_to_proto(lock: &KioskLock) -> pb::KioskLock {
    pb::KioskLock {
        kiosk: lock.kiosk.clone(),
        whole_kiosk: lock.scope == LockScope::Kiosk,
        until: Some(timestamp_to_proto(lock.until)),
    }
}

pub fn staff_queue(
    day: NaiveDate,
    entries: &[QueueEntry],
    kiosk_locks: &[KioskLock],
    changed: Option<clinic_common::ids::QueueEntryId>,
    alert_after: TimeDelta,
    now: DateTime<Utc>,
) -> pb::WatchQueueResponse {
    let waits = waits(entries, now, alert_after);
    pb::WatchQueueResponse {
        day: Some(date_to_proto(day)),
        entries: entries
            .iter()
            .zip(waits)
            .map(|(entry, wait)| watched_entry(entry, wait))
            .collect(),
        changed_queue_entry_id: changed.map(|id| id.to_string()).unwrap_or_default(),
        event_time: Some(timestamp_to_proto(now)),
        kiosk_locks: kiosk_locks.iter().map(kiosk_lock_to_proto).collect(),
    }
}
