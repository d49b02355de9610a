//! The day's waiting-room queue: tickets, entries and their positions.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId};

use super::Initials;

/// Where a checked-in patient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueEntryStatus {
    /// In the waiting room.
    Waiting,
    /// Called to a chair, on their way.
    Called,
    /// In the chair.
    Seated,
    /// Gone from the queue (the visit was cancelled after arrival).
    Left,
}

impl QueueEntryStatus {
    pub const ALL: [QueueEntryStatus; 4] = [
        QueueEntryStatus::Waiting,
        QueueEntryStatus::Called,
        QueueEntryStatus::Seated,
        QueueEntryStatus::Left,
    ];

    /// The stored form.
    pub fn as_str(&self) -> &'static str {
        match self {
            QueueEntryStatus::Waiting => "waiting",
            QueueEntryStatus::Called => "called",
            QueueEntryStatus::Seated => "seated",
            QueueEntryStatus::Left => "left",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// A ticket number, counted per clinic-local day from 1. Shown as `A-001`: "A" marks tickets
/// issued for appointments (walk-ins would get their own letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TicketNumber(pub u32);

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "A-{:03}", self.0)
    }
}

/// One patient's place in a day's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub queue_entry_id: QueueEntryId,
    pub day: NaiveDate,
    pub ticket: TicketNumber,
    pub appointment_id: AppointmentId,
    pub patient_id: PatientId,
    pub provider_id: ProviderId,
    pub initials: Initials,
    pub status: QueueEntryStatus,
    pub arrived_at: DateTime<Utc>,
    pub appointment_start: DateTime<Utc>,
    /// 1 for the next patient to be called; 0 when no longer waiting. Set by [`arrange`].
    pub position: u32,
}

/// Puts a day's entries in queue order and numbers the waiting ones: first come, first served
/// (by arrival, then ticket), 1 being next. Entries no longer waiting follow, by arrival, with
/// position 0.
pub fn arrange(mut entries: Vec<QueueEntry>) -> Vec<QueueEntry> {
    entries.sort_by_key(|entry| {
        (
            entry.status != QueueEntryStatus::Waiting,
            entry.arrived_at,
            entry.ticket,
        )
    });
    let mut next_position = 1;
    for entry in &mut entries {
        if entry.status == QueueEntryStatus::Waiting {
            entry.position = next_position;
            next_position += 1;
        } else {
            entry.position = 0;
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ticket: u32, arrived: &str, status: QueueEntryStatus) -> QueueEntry {
        QueueEntry {
            queue_entry_id: QueueEntryId::new(),
            day: NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid"),
            ticket: TicketNumber(ticket),
            appointment_id: AppointmentId::new(),
            patient_id: PatientId::new(),
            provider_id: ProviderId::new(),
            initials: Initials::of("Ana", "Ruiz"),
            status,
            arrived_at: arrived.parse().expect("valid instant"),
            appointment_start: arrived.parse().expect("valid instant"),
            position: 99,
        }
    }

    #[test]
    fn tickets_have_three_digits_at_least() {
        assert_eq!(TicketNumber(1).to_string(), "A-001");
        assert_eq!(TicketNumber(14).to_string(), "A-014");
        assert_eq!(TicketNumber(1000).to_string(), "A-1000");
    }

    #[test]
    fn waiting_patients_are_numbered_by_arrival_and_the_rest_get_zero() {
        let arranged = arrange(vec![
            entry(3, "2026-11-22T15:10:00Z", QueueEntryStatus::Waiting),
            entry(1, "2026-11-22T15:00:00Z", QueueEntryStatus::Seated),
            entry(2, "2026-11-22T15:05:00Z", QueueEntryStatus::Waiting),
            entry(4, "2026-11-22T15:05:00Z", QueueEntryStatus::Waiting),
            entry(5, "2026-11-22T15:20:00Z", QueueEntryStatus::Left),
        ]);
        let order: Vec<(String, u32)> = arranged
            .iter()
            .map(|entry| (entry.ticket.to_string(), entry.position))
            .collect();
        assert_eq!(
            order,
            [
                ("A-002".to_owned(), 1),
                ("A-004".to_owned(), 2),
                ("A-003".to_owned(), 3),
                ("A-001".to_owned(), 0),
                ("A-005".to_owned(), 0),
            ]
        );
    }

    #[test]
    fn queue_statuses_round_trip_through_their_stored_form() {
        for status in QueueEntryStatus::ALL {
            assert_eq!(QueueEntryStatus::parse(status.as_str()), Some(status));
        }
    }
}
