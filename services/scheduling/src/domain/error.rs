//! What can go wrong in scheduling. Mapped to gRPC status codes in `grpc::error`.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::idempotency::{Attempt, KeyError};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId};
use clinic_common::validation::FieldViolations;

use super::{
    AppointmentStatus, AppointmentTypeId, QueueEntryStatus, ScheduleExceptionId, Unavailable,
    weekday_name,
};

#[derive(Debug, thiserror::Error)]
pub enum SchedulingError {
    #[error("invalid request: {0}")]
    Invalid(FieldViolations),
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    /// The patient registry does not know the patient an appointment is for.
    #[error("patient {0} is not registered")]
    UnknownPatient(PatientId),
    /// An appointment names a provider this service does not know.
    #[error("provider {0} does not exist")]
    UnknownProvider(ProviderId),
    /// A booking names an appointment type it cannot use; says why.
    #[error("the appointment type {0}")]
    UnusableAppointmentType(&'static str),
    /// A provider named as the subject of a request (not as part of a booking) does not exist.
    #[error("provider {0} not found")]
    ProviderNotFound(ProviderId),
    #[error("schedule exception {0} not found")]
    ScheduleExceptionNotFound(ScheduleExceptionId),
    /// The time asked for is outside the provider's working hours or on an exception. Names the
    /// provider as the schedule shows them (not personal data of a patient).
    #[error("{}", unavailable_message(provider, reason))]
    ProviderUnavailable {
        provider: String,
        reason: Unavailable,
    },
    #[error("appointment type {0} not found")]
    AppointmentTypeNotFound(AppointmentTypeId),
    /// Deleted types stay on record but cannot be changed.
    #[error("appointment type {0} is deleted and cannot be changed")]
    AppointmentTypeDeleted(AppointmentTypeId),
    /// Another type that is not deleted already has the name.
    #[error("another appointment type already has that name")]
    AppointmentTypeNameTaken,
    #[error("appointment {0} not found")]
    AppointmentNotFound(AppointmentId),
    #[error("no appointment has that confirmation code")]
    ConfirmationCodeNotFound,
    /// The provider already has an active appointment overlapping the requested time, which
    /// the message gives in the clinic's time.
    #[error(
        "the provider is already booked {} (appointment {appointment_id})",
        booked_span(*start, *end, *zone)
    )]
    ProviderBusy {
        appointment_id: AppointmentId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        /// The clinic's time zone, that the message gives the times in.
        zone: Tz,
    },
    /// The appointment's status does not allow `action`.
    #[error("appointment {appointment_id} is {} and cannot be {action}", status.as_str())]
    WrongStatus {
        appointment_id: AppointmentId,
        status: AppointmentStatus,
        action: &'static str,
    },
    /// A no-show can only be recorded once the appointment's start has passed.
    #[error(
        "appointment {appointment_id} starts at {start} and cannot be marked as a no-show before then"
    )]
    NotStartedYet {
        appointment_id: AppointmentId,
        start: DateTime<Utc>,
    },
    #[error("queue entry {0} not found")]
    QueueEntryNotFound(QueueEntryId),
    /// The queue entry's status does not allow `action`.
    #[error("queue entry {queue_entry_id} is {} and cannot be {action}", status.as_str())]
    QueueEntryWrongStatus {
        queue_entry_id: QueueEntryId,
        status: QueueEntryStatus,
        action: &'static str,
    },
    /// "Call next" found nobody waiting (for that provider, when one was named).
    #[error("nobody is waiting to be called")]
    NobodyWaiting,
    /// Check-in is for today's appointments only.
    #[error("appointment {appointment_id} is on {day}, not today")]
    NotToday {
        appointment_id: AppointmentId,
        day: NaiveDate,
    },
    /// Identity evidence given at the kiosk did not match. Says nothing about why.
    #[error("identity could not be confirmed")]
    IdentityNotConfirmed,
    /// A kiosk lookup found nothing. The same answer for every miss, whatever did not match.
    #[error("no appointment today matches those details")]
    KioskNoMatch,
    /// The kiosk, or lookups of this patient, missed too often recently: lookups wait
    /// `retry_after`.
    #[error(
        "too many attempts; please try again in {} minutes or ask at reception",
        retry_after.num_minutes() + 1
    )]
    KioskTooManyMisses { retry_after: chrono::TimeDelta },
    /// A walk-in for a patient who has an appointment today still to check in.
    #[error(
        "the patient has an appointment today (appointment {appointment_id}): check it in instead"
    )]
    HasAppointmentToday { appointment_id: AppointmentId },
    /// A walk-in for a patient already in today's queue, not yet seated.
    #[error("the patient is already in the queue with ticket {ticket}")]
    AlreadyQueued { ticket: String },
    /// Triage found nobody to receive a walk-in.
    #[error(
        "nobody can receive the patient: no consultant is on duty and no provider was named or \
         has seen the patient before"
    )]
    NobodyToRoute,
    /// An assistant named for a provider does not fit (not an assistant, or the provider).
    #[error("the assistant {0}")]
    UnusableAssistant(&'static str),
    /// The patient registry could not be reached; the caller may retry.
    #[error("the patient registry is unavailable")]
    RegistryUnavailable,
    /// Chairs, rooms and equipment (see `resources`).
    #[error(transparent)]
    Resource(#[from] super::ResourceError),
    /// A waitlist entry or offer, planned visit or call task that does not exist.
    #[error("{what} {id} not found")]
    FlowNotFound { what: &'static str, id: String },
    /// A waitlist offer, planned visit or call task whose state does not allow `action`.
    #[error("{what} {id} is {state} and cannot be {action}")]
    FlowClosed {
        what: &'static str,
        id: String,
        state: &'static str,
        action: &'static str,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// "from 2026-11-23 09:00 to 09:30 CST": a booking's time as the clinic reads it (the day
/// repeated only when it ends on another).
pub fn booked_span(start: DateTime<Utc>, end: DateTime<Utc>, zone: Tz) -> String {
    let (start, end) = (start.with_timezone(&zone), end.with_timezone(&zone));
    let until = if start.date_naive() == end.date_naive() {
        end.format("%H:%M")
    } else {
        end.format("%Y-%m-%d %H:%M")
    };
    format!(
        "from {} to {until} {}",
        start.format("%Y-%m-%d %H:%M"),
        end.format("%Z")
    )
}

/// "the time is outside Dra. Ana Ruiz's working hours on Tuesday", "the time falls on a clinic
/// holiday", "the time falls on Dra. Ana Ruiz's break".
fn unavailable_message(provider: &str, reason: &Unavailable) -> String {
    match reason {
        Unavailable::OutsideHours { weekday } => format!(
            "the time is outside {provider}'s working hours on {}",
            weekday_name(*weekday)
        ),
        Unavailable::Exception {
            kind,
            clinic_wide: true,
        } => format!("the time falls on a clinic {}", kind.as_str()),
        Unavailable::Exception {
            kind,
            clinic_wide: false,
        } => format!("the time falls on {provider}'s {}", kind.as_str()),
    }
}

impl From<FieldViolations> for SchedulingError {
    fn from(violations: FieldViolations) -> Self {
        SchedulingError::Invalid(violations)
    }
}

impl From<KeyError> for SchedulingError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Reused => SchedulingError::RequestIdReused,
            KeyError::Lost => SchedulingError::Unexpected(anyhow::anyhow!(
                "an idempotency key was lost to another call outside any retry"
            )),
            KeyError::Unexpected(error) => SchedulingError::Unexpected(error),
        }
    }
}

impl From<SchedulingError> for Attempt<SchedulingError> {
    fn from(error: SchedulingError) -> Self {
        Attempt::Failed(error)
    }
}
