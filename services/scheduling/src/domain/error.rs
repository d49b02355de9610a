//! What can go wrong in scheduling. Mapped to gRPC status codes in `grpc::error`.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId};
use clinic_common::validation::FieldViolations;

use super::AppointmentStatus;

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
    #[error("appointment {0} not found")]
    AppointmentNotFound(AppointmentId),
    #[error("no appointment has that confirmation code")]
    ConfirmationCodeNotFound,
    /// The provider already has an active appointment overlapping the requested time.
    #[error("the provider is already booked from {start} to {end} (appointment {appointment_id})")]
    ProviderBusy {
        appointment_id: AppointmentId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// The appointment's status does not allow `action`.
    #[error("appointment {appointment_id} is {} and cannot be {action}", status.as_str())]
    WrongStatus {
        appointment_id: AppointmentId,
        status: AppointmentStatus,
        action: &'static str,
    },
    /// Check-in is for today's appointments only.
    #[error("appointment {appointment_id} is on {day}, not today")]
    NotToday {
        appointment_id: AppointmentId,
        day: NaiveDate,
    },
    /// Identity evidence given at the kiosk did not match. Says nothing about why.
    #[error("identity could not be confirmed")]
    IdentityNotConfirmed,
    /// The patient registry could not be reached; the caller may retry.
    #[error("the patient registry is unavailable")]
    RegistryUnavailable,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<FieldViolations> for SchedulingError {
    fn from(violations: FieldViolations) -> Self {
        SchedulingError::Invalid(violations)
    }
}
