//! Call tasks: calls reception should make. A patient not checked in `late_after` past the
//! start of today's appointment (still scheduled or confirmed) gets a `late_arrival` task, once
//! per appointment; reception records how the call went.

use chrono::{DateTime, TimeDelta, Utc};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId};
use uuid::Uuid;

/// The kind of task made for a late patient.
pub const LATE_ARRIVAL: &str = "late_arrival";

/// How far back late appointments are looked for: a visit missed yesterday is a no-show for the
/// desk to record, not a call to make now.
pub const LATE_LOOKBACK: TimeDelta = TimeDelta::hours(12);

/// The starts of appointments late at `now`: those starting in `(now - lookback, now - late_after]`.
pub fn late_window(now: DateTime<Utc>, late_after: TimeDelta) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - LATE_LOOKBACK, now - late_after)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Coming,
    Reschedule,
    NotComing,
    NoAnswer,
    LeftMessage,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Coming => "coming",
            CallOutcome::Reschedule => "reschedule",
            CallOutcome::NotComing => "not_coming",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::LeftMessage => "left_message",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "coming" => Some(CallOutcome::Coming),
            "reschedule" => Some(CallOutcome::Reschedule),
            "not_coming" => Some(CallOutcome::NotComing),
            "no_answer" => Some(CallOutcome::NoAnswer),
            "left_message" => Some(CallOutcome::LeftMessage),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTask {
    pub call_task_id: Uuid,
    pub kind: String,
    pub appointment_id: AppointmentId,
    pub patient_id: PatientId,
    pub provider_id: ProviderId,
    pub appointment_start: DateTime<Utc>,
    pub patient_initials: String,
    pub done: bool,
    pub outcome: Option<CallOutcome>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appointment_is_late_once_the_delay_has_passed_since_its_start() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("an instant");
        let (from, until) = late_window(now, TimeDelta::minutes(10));
        assert_eq!(until, now - TimeDelta::minutes(10));
        assert_eq!(from, now - LATE_LOOKBACK);
        for outcome in [
            CallOutcome::Coming,
            CallOutcome::Reschedule,
            CallOutcome::NotComing,
            CallOutcome::NoAnswer,
            CallOutcome::LeftMessage,
        ] {
            assert_eq!(CallOutcome::parse(outcome.as_str()), Some(outcome));
        }
    }
}
