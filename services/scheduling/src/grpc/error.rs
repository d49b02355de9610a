//! The one mapping from scheduling's errors to gRPC statuses.

use clinic_common::status;
use clinic_common::validation::FieldViolations;
use tonic::Status;

use super::resources;
use crate::domain::SchedulingError;

impl From<SchedulingError> for Status {
    fn from(error: SchedulingError) -> Self {
        match error {
            SchedulingError::Invalid(violations) => status::invalid_argument(&violations),
            SchedulingError::RequestIdReused => status::invalid_argument(&FieldViolations::single(
                "request_id",
                "was already used for a different request",
            )),
            SchedulingError::UnknownPatient(_) => status::invalid_argument(
                &FieldViolations::single("appointment.patient_id", "is not a registered patient"),
            ),
            SchedulingError::UnknownProvider(_) => status::invalid_argument(
                &FieldViolations::single("appointment.provider_id", "is not a known provider"),
            ),
            SchedulingError::UnusableAppointmentType(problem) => status::invalid_argument(
                &FieldViolations::single("appointment.appointment_type_id", problem),
            ),
            SchedulingError::UnusableAssistant(problem) => status::invalid_argument(
                &FieldViolations::single("provider.assistant_provider_id", problem),
            ),
            error @ SchedulingError::AppointmentTypeNameTaken => {
                Status::already_exists(error.to_string())
            }
            error @ (SchedulingError::AppointmentTypeNotFound(_)
            | SchedulingError::AppointmentNotFound(_)
            | SchedulingError::ProviderNotFound(_)
            | SchedulingError::ScheduleExceptionNotFound(_)
            | SchedulingError::ConfirmationCodeNotFound
            | SchedulingError::KioskNoMatch
            | SchedulingError::FlowNotFound { .. }
            | SchedulingError::QueueEntryNotFound(_)) => Status::not_found(error.to_string()),
            error @ SchedulingError::KioskTooManyMisses { retry_after } => status::retry_later(
                tonic::Code::ResourceExhausted,
                error.to_string(),
                retry_after.to_std().unwrap_or_default(),
            ),
            error @ (SchedulingError::ProviderBusy { .. }
            | SchedulingError::ProviderUnavailable { .. }
            | SchedulingError::WrongStatus { .. }
            | SchedulingError::NotStartedYet { .. }
            | SchedulingError::QueueEntryWrongStatus { .. }
            | SchedulingError::NobodyWaiting
            | SchedulingError::AppointmentTypeDeleted(_)
            | SchedulingError::NotToday { .. }
            | SchedulingError::HasAppointmentToday { .. }
            | SchedulingError::AlreadyQueued { .. }
            | SchedulingError::NobodyToRoute
            | SchedulingError::FlowClosed { .. }
            | SchedulingError::IdentityNotConfirmed) => {
                Status::failed_precondition(error.to_string())
            }
            error @ SchedulingError::RegistryUnavailable => Status::unavailable(error.to_string()),
            SchedulingError::Resource(error) => resources::status(error),
            SchedulingError::Unexpected(error) => status::internal(&error),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use clinic_common::ids::AppointmentId;
    use tonic::Code;

    use super::*;

    #[test]
    fn a_double_booking_names_the_appointment_in_the_way_and_its_time_in_the_clinics_zone() {
        let appointment_id = AppointmentId::new();
        let start: DateTime<Utc> = "2026-11-22T15:00:00Z".parse().expect("valid");
        let end: DateTime<Utc> = "2026-11-22T15:30:00Z".parse().expect("valid");
        let status = Status::from(SchedulingError::ProviderBusy {
            appointment_id,
            start,
            end,
            zone: chrono_tz::America::Mexico_City,
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(
            status.message(),
            format!(
                "the provider is already booked from 2026-11-22 09:00 to 09:30 CST \
                 (appointment {appointment_id})"
            )
        );
    }

    #[test]
    fn unexpected_errors_reveal_nothing() {
        let status = Status::from(SchedulingError::Unexpected(anyhow::anyhow!(
            "password authentication failed for user clinic"
        )));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
