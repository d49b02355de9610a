//! The day's waiting-room queue: tickets, entries and their positions.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clinic_common::ids::{
    AppointmentId, PatientId, ProviderId, QueueEntryId, RequestId, request_fingerprint,
};

use super::{Initials, ResourceKind, SchedulingError};

/// Where a checked-in patient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueEntryStatus {
    /// In the waiting room.
    Waiting,
    /// Called to a chair, on their way.
    Called,
    /// In the chair.
    Seated,
    /// Gone from the queue: the patient left without being seen, or the visit was cancelled
    /// after arrival.
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

    /// The queue's life cycle: the status `step` leads to from this one, or `None` when the step
    /// is not allowed here.
    ///
    /// ```text
    /// waiting ─call→ called ─recall→ called
    /// waiting | called ─seat→ seated        (the desk may seat a patient it did not call)
    /// waiting | called ─leave→ left
    /// ```
    pub fn after(self, step: QueueStep) -> Option<QueueEntryStatus> {
        use QueueEntryStatus as S;
        match (self, step) {
            (S::Waiting, QueueStep::Call) | (S::Called, QueueStep::Recall) => Some(S::Called),
            (S::Waiting | S::Called, QueueStep::Seat) => Some(S::Seated),
            (S::Waiting | S::Called, QueueStep::Leave) => Some(S::Left),
            _ => None,
        }
    }
}

/// A step a queue entry takes after check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueStep {
    Call,
    Recall,
    Seat,
    Leave,
}

impl QueueStep {
    pub const ALL: [QueueStep; 4] = [
        QueueStep::Call,
        QueueStep::Recall,
        QueueStep::Seat,
        QueueStep::Leave,
    ];

    /// How an error message words the step: "queue entry … is seated and cannot be {this}".
    pub fn as_action(self) -> &'static str {
        match self {
            QueueStep::Call => "called",
            QueueStep::Recall => "called again",
            QueueStep::Seat => "seated",
            QueueStep::Leave => "marked as left",
        }
    }
}

/// "Call next": the next waiting patient, of one provider or of anyone.
#[derive(Debug, Clone)]
pub struct CallNext {
    pub provider_id: Option<ProviderId>,
    pub request_id: RequestId,
}

impl CallNext {
    /// A digest of the request, to recognise a retry.
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[&self
            .provider_id
            .map(|id| id.to_string())
            .unwrap_or_default()])
    }
}

/// Why a patient is in the queue, which also decides their ticket's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueEntryKind {
    /// Checked in for an appointment: tickets `A-…`.
    Appointment,
    /// Came without one: tickets `W-…`.
    WalkIn,
}

impl QueueEntryKind {
    pub const ALL: [QueueEntryKind; 2] = [QueueEntryKind::Appointment, QueueEntryKind::WalkIn];

    /// The stored form.
    pub fn as_str(&self) -> &'static str {
        match self {
            QueueEntryKind::Appointment => "appointment",
            QueueEntryKind::WalkIn => "walk_in",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The letter of the kind's ticket series, as stored and shown.
    pub fn series(&self) -> &'static str {
        match self {
            QueueEntryKind::Appointment => "A",
            QueueEntryKind::WalkIn => "W",
        }
    }
}

/// A ticket, counted per clinic-local day and series from 1. Shown as `A-001` (appointments)
/// or `W-001` (walk-ins), so the desk can tell at a glance who had a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket {
    pub kind: QueueEntryKind,
    pub number: u32,
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:03}", self.kind.series(), self.number)
    }
}

/// Where a called patient goes, as far as scheduling knows: who receives them, and the chairs
/// and rooms their appointment holds. Nothing about the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalledTo {
    pub queue_entry_id: QueueEntryId,
    /// The display name of the provider who receives the patient (the entry's `routed_to`).
    pub receiver: String,
    /// A consultant other than the booked provider receives the patient (triage's route for a
    /// first visit).
    pub consultant_first: bool,
    /// What the appointment holds, by kind and display name; none for a walk-in.
    pub holds: Vec<(ResourceKind, String)>,
}

impl CalledTo {
    /// The chair or room to send the patient to: a chair before a room, then the first by name.
    /// None when a consultant other than the booked provider receives the patient, since the
    /// consultant does not see them at the booked chair.
    pub fn room(&self) -> Option<&str> {
        if self.consultant_first {
            return None;
        }
        self.holds
            .iter()
            .filter(|(kind, _)| matches!(kind, ResourceKind::Chair | ResourceKind::Room))
            .min_by_key(|(kind, name)| (*kind != ResourceKind::Chair, name.as_str()))
            .map(|(_, name)| name.as_str())
    }
}

/// One patient's place in a day's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub queue_entry_id: QueueEntryId,
    pub day: NaiveDate,
    pub ticket: Ticket,
    /// `None` for walk-ins.
    pub appointment_id: Option<AppointmentId>,
    pub patient_id: PatientId,
    /// The appointment's provider; for a walk-in, the provider asked for or routed to.
    pub provider_id: ProviderId,
    /// Triage: who receives the patient first.
    pub routed_to: ProviderId,
    /// Nobody had seen the patient in the chair before.
    pub first_visit: bool,
    pub initials: Initials,
    pub status: QueueEntryStatus,
    pub arrived_at: DateTime<Utc>,
    /// The booked start; `None` for walk-ins.
    pub appointment_start: Option<DateTime<Utc>>,
    /// How long the visit is expected to take: the booked length, or a walk-in's type's.
    pub expected_length: TimeDelta,
    /// When the patient was last called, and how many times in all.
    pub called_at: Option<DateTime<Utc>>,
    pub call_count: u32,
    /// 1 for the next patient to be called; 0 when no longer waiting. Set by [`arrange`].
    pub position: u32,
}

impl QueueEntry {
    pub fn kind(&self) -> QueueEntryKind {
        self.ticket.kind
    }
}

impl QueueEntry {
    /// The status `step` takes the entry to, or `QueueEntryWrongStatus` naming the current one.
    pub fn advance(&self, step: QueueStep) -> Result<QueueEntryStatus, SchedulingError> {
        self.status
            .after(step)
            .ok_or(SchedulingError::QueueEntryWrongStatus {
                queue_entry_id: self.queue_entry_id,
                status: self.status,
                action: step.as_action(),
            })
    }
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

/// How long a waiting patient has waited, and is likely still to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Whole minutes since check-in.
    pub waited_minutes: u32,
    /// Whole minutes until the provider is likely to call them (see [`waits`]).
    pub estimated_minutes: u32,
    /// Waited at least the alert threshold: someone at the desk should look.
    pub overdue: bool,
}

/// The waits of a day's `entries` at `now`, in the order given (queue order, as [`arrange`]
/// leaves it): `Some` for each waiting entry, `None` for the rest.
///
/// The estimate follows whoever will call the patient: the provider triage routed them to
/// (a consultant for a first visit, an assistant), as "call next" does. It is that provider's
/// running lateness plus the expected lengths (booked, or a walk-in's type's) of the patients
/// waiting for them ahead of this one, and never earlier than the patient's own appointment: an
/// early arrival is told their appointment time, not how soon the provider would be free. The
/// running lateness is how long ago the appointment the provider should be seeing now began:
/// the earliest start among the provider's patients in the queue not yet seated (waiting or
/// called) whose start has passed, or nothing when none has. A patient is overdue once they
/// have waited `alert_after`.
pub fn waits(
    entries: &[QueueEntry],
    now: DateTime<Utc>,
    alert_after: TimeDelta,
) -> Vec<Option<Wait>> {
    let mut lateness: HashMap<ProviderId, TimeDelta> = HashMap::new();
    for entry in entries {
        let unseated = matches!(
            entry.status,
            QueueEntryStatus::Waiting | QueueEntryStatus::Called
        );
        // Walk-ins have no booked start: they make nobody late.
        if let Some(start) = entry.appointment_start
            && unseated
            && start <= now
        {
            let late = now - start;
            let running = lateness.entry(entry.routed_to).or_default();
            *running = (*running).max(late);
        }
    }
    let mut booked_ahead: HashMap<ProviderId, TimeDelta> = HashMap::new();
    let mut result = Vec::with_capacity(entries.len());
    for entry in entries {
        if entry.status != QueueEntryStatus::Waiting {
            result.push(None);
            continue;
        }
        let waited = (now - entry.arrived_at).max(TimeDelta::zero());
        let ahead = booked_ahead.entry(entry.routed_to).or_default();
        let free_in = lateness.get(&entry.routed_to).copied().unwrap_or_default() + *ahead;
        let until_start = entry
            .appointment_start
            .map_or(TimeDelta::zero(), |start| start - now);
        let estimate = free_in.max(until_start);
        *ahead += entry.expected_length;
        result.push(Some(Wait {
            waited_minutes: whole_minutes(waited),
            estimated_minutes: whole_minutes(estimate),
            overdue: waited >= alert_after,
        }));
    }
    result
}

/// Minutes, rounded down; a wait too long for `u32` minutes is not a real wait.
fn whole_minutes(span: TimeDelta) -> u32 {
    u32::try_from(span.num_minutes().max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(number: u32) -> Ticket {
        Ticket {
            kind: QueueEntryKind::Appointment,
            number,
        }
    }

    fn entry(number: u32, arrived: &str, status: QueueEntryStatus) -> QueueEntry {
        let provider_id = ProviderId::new();
        QueueEntry {
            queue_entry_id: QueueEntryId::new(),
            day: NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid"),
            ticket: ticket(number),
            appointment_id: Some(AppointmentId::new()),
            patient_id: PatientId::new(),
            provider_id,
            routed_to: provider_id,
            first_visit: false,
            initials: Initials::of("Ana", "Ruiz"),
            status,
            arrived_at: arrived.parse().expect("valid instant"),
            appointment_start: Some(arrived.parse().expect("valid instant")),
            expected_length: TimeDelta::zero(),
            called_at: None,
            call_count: 0,
            position: 99,
        }
    }

    #[test]
    fn tickets_have_three_digits_at_least_and_a_letter_per_series() {
        assert_eq!(ticket(1).to_string(), "A-001");
        assert_eq!(ticket(14).to_string(), "A-014");
        assert_eq!(ticket(1000).to_string(), "A-1000");
        let walk_in = Ticket {
            kind: QueueEntryKind::WalkIn,
            number: 7,
        };
        assert_eq!(walk_in.to_string(), "W-007");
        for kind in QueueEntryKind::ALL {
            assert_eq!(QueueEntryKind::parse(kind.as_str()), Some(kind));
        }
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

    #[test]
    fn the_queue_allows_exactly_the_listed_steps_from_every_status() {
        use QueueEntryStatus as S;
        let allowed = [
            (S::Waiting, QueueStep::Call, S::Called),
            (S::Waiting, QueueStep::Seat, S::Seated),
            (S::Waiting, QueueStep::Leave, S::Left),
            (S::Called, QueueStep::Recall, S::Called),
            (S::Called, QueueStep::Seat, S::Seated),
            (S::Called, QueueStep::Leave, S::Left),
        ];
        for status in QueueEntryStatus::ALL {
            for step in QueueStep::ALL {
                let expected = allowed
                    .iter()
                    .find(|(from, by, _)| *from == status && *by == step)
                    .map(|(_, _, to)| *to);
                assert_eq!(status.after(step), expected, "{status:?} by {step:?}");
            }
        }
    }

    #[test]
    fn a_refused_queue_step_names_the_current_status() {
        let seated = entry(1, "2026-11-22T15:00:00Z", QueueEntryStatus::Seated);
        let error = seated.advance(QueueStep::Recall).expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!(
                "queue entry {} is seated and cannot be called again",
                seated.queue_entry_id
            )
        );
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().expect("valid instant")
    }

    /// An entry for `provider` booked `start`..`start + minutes`, arrived at `arrived`.
    fn booked(
        provider: ProviderId,
        (start, minutes): (&str, i64),
        arrived: &str,
        status: QueueEntryStatus,
    ) -> QueueEntry {
        QueueEntry {
            provider_id: provider,
            routed_to: provider,
            appointment_start: Some(at(start)),
            expected_length: TimeDelta::minutes(minutes),
            arrived_at: at(arrived),
            ..entry(1, arrived, status)
        }
    }

    #[test]
    fn the_estimate_is_the_providers_lateness_plus_the_visits_booked_ahead() {
        let (ana, eva) = (ProviderId::new(), ProviderId::new());
        let now = at("2026-11-22T14:11:00Z");
        let entries = arrange(vec![
            // Ana should have started this one at 14:00: she is running 11 minutes late.
            booked(
                ana,
                ("2026-11-22T14:00:00Z", 30),
                "2026-11-22T13:55:00Z",
                QueueEntryStatus::Called,
            ),
            booked(
                ana,
                ("2026-11-22T14:30:00Z", 45),
                "2026-11-22T14:01:00Z",
                QueueEntryStatus::Waiting,
            ),
            booked(
                eva,
                ("2026-11-22T15:00:00Z", 20),
                "2026-11-22T14:02:00Z",
                QueueEntryStatus::Waiting,
            ),
            booked(
                ana,
                ("2026-11-22T15:15:00Z", 30),
                "2026-11-22T14:03:00Z",
                QueueEntryStatus::Waiting,
            ),
            booked(
                ana,
                ("2026-11-22T13:00:00Z", 30),
                "2026-11-22T12:55:00Z",
                QueueEntryStatus::Seated,
            ),
        ]);

        let waits = waits(&entries, now, TimeDelta::minutes(10));

        let shown: Vec<Option<(u32, u32, bool)>> = waits
            .iter()
            .map(|wait| wait.map(|w| (w.waited_minutes, w.estimated_minutes, w.overdue)))
            .collect();
        assert_eq!(
            shown,
            [
                // Ana's first waiting patient: her lateness (11 minutes), but booked for 14:30.
                Some((10, 19, true)),
                // Eva is not late and nobody waits ahead for her: her patient's time, 15:00.
                Some((9, 49, false)),
                // Ana's second waiting patient: lateness plus the 45 minutes booked ahead.
                Some((8, 64, false)),
                None,
                None,
            ]
        );
    }

    #[test]
    fn walk_ins_make_nobody_late_but_count_their_expected_length() {
        let ana = ProviderId::new();
        let walk_in = QueueEntry {
            ticket: Ticket {
                kind: QueueEntryKind::WalkIn,
                number: 1,
            },
            appointment_id: None,
            appointment_start: None,
            ..booked(
                ana,
                ("2026-11-22T13:00:00Z", 20),
                "2026-11-22T13:00:00Z",
                QueueEntryStatus::Waiting,
            )
        };
        let entries = arrange(vec![
            walk_in,
            booked(
                ana,
                ("2026-11-22T15:00:00Z", 30),
                "2026-11-22T13:30:00Z",
                QueueEntryStatus::Waiting,
            ),
        ]);

        let waits = waits(&entries, at("2026-11-22T14:00:00Z"), TimeDelta::minutes(10));

        let estimates: Vec<Option<u32>> = waits
            .iter()
            .map(|wait| wait.map(|w| w.estimated_minutes))
            .collect();
        // The walk-in is next; the booked patient waits for their own time, 15:00.
        assert_eq!(estimates, [Some(0), Some(60)]);
    }

    #[test]
    fn an_early_arrival_is_estimated_until_their_appointment_not_until_the_provider_is_free() {
        let ana = ProviderId::new();
        // Booked for 09:15 local (15:15Z), checked in at 07:58.
        let entries = arrange(vec![booked(
            ana,
            ("2026-11-22T15:15:00Z", 30),
            "2026-11-22T13:58:00Z",
            QueueEntryStatus::Waiting,
        )]);

        let waits = waits(&entries, at("2026-11-22T14:00:00Z"), TimeDelta::minutes(10));

        assert_eq!(waits[0].map(|w| w.estimated_minutes), Some(75));
    }

    #[test]
    fn the_estimate_follows_the_provider_triage_routed_the_patient_to() {
        let (ruiz, eva, consultant) = (ProviderId::new(), ProviderId::new(), ProviderId::new());
        let now = "2026-11-22T14:00:00Z";
        let routed = |booked_with, arrived: &str, minutes| QueueEntry {
            routed_to: consultant,
            first_visit: true,
            ..booked(
                booked_with,
                (now, minutes),
                arrived,
                QueueEntryStatus::Waiting,
            )
        };
        // Two first visits booked with Eva already wait for the consultant; a third arrives,
        // booked with Ruiz, and is routed to the consultant too.
        let entries = arrange(vec![
            routed(eva, "2026-11-22T13:50:00Z", 20),
            routed(eva, "2026-11-22T13:52:00Z", 25),
            routed(ruiz, "2026-11-22T13:59:00Z", 30),
        ]);

        let waits = waits(&entries, at(now), TimeDelta::minutes(10));

        let estimates: Vec<Option<u32>> = waits
            .iter()
            .map(|wait| wait.map(|w| w.estimated_minutes))
            .collect();
        // The consultant is not late (their patients' time is now): 0, 20, then 20 + 25.
        assert_eq!(estimates, [Some(0), Some(20), Some(45)]);
    }

    #[test]
    fn a_provider_whose_patients_have_not_yet_started_is_not_late() {
        let ana = ProviderId::new();
        let entries = arrange(vec![booked(
            ana,
            ("2026-11-22T15:00:00Z", 30),
            "2026-11-22T14:40:00Z",
            QueueEntryStatus::Waiting,
        )]);

        let waits = waits(&entries, at("2026-11-22T14:50:00Z"), TimeDelta::minutes(10));

        // Not late: the patient's own time, 15:00, is what they wait for.
        assert_eq!(
            waits,
            [Some(Wait {
                waited_minutes: 10,
                estimated_minutes: 10,
                overdue: true
            })]
        );
    }

    #[test]
    fn a_called_patient_goes_to_a_chair_before_a_room_unless_a_consultant_sees_them_first() {
        let called = |consultant_first, holds: &[(ResourceKind, &str)]| CalledTo {
            queue_entry_id: QueueEntryId::new(),
            receiver: "Dra. Ana Ruiz".into(),
            consultant_first,
            holds: holds
                .iter()
                .map(|(kind, name)| (*kind, (*name).to_owned()))
                .collect(),
        };
        let held = [
            (ResourceKind::Equipment, "Rayos X"),
            (ResourceKind::Room, "Consultorio 1"),
            (ResourceKind::Chair, "Sillón 2"),
            (ResourceKind::Chair, "Sillón 1"),
        ];

        assert_eq!(called(false, &held).room(), Some("Sillón 1"));
        assert_eq!(called(false, &held[..2]).room(), Some("Consultorio 1"));
        assert_eq!(called(false, &held[..1]).room(), None);
        assert_eq!(called(false, &[]).room(), None);
        assert_eq!(called(true, &held).room(), None);
    }
}
