//! The one mapping from scheduling's errors to gRPC statuses.

use std::collections::HashMap;

use clinic_common::status;
use clinic_common::validation::FieldViolations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::resources;
use crate::domain::{SchedulingError, Unavailable};

/// The `ErrorInfo.domain` of this service's errors.
pub const ERROR_DOMAIN: &str = "clinic.scheduling";

/// A booking or move refused because the provider is busy or away then: FAILED_PRECONDITION
/// with the message for people, and an `ErrorInfo` a client can word in its own language —
/// `PROVIDER_BUSY` (`appointment_id`, `from` and `until` in clinic-local time) or
/// `PROVIDER_UNAVAILABLE` (`provider`, `why`: `outside_hours` with `weekday` 1 = Monday to 7,
/// or the exception's kind `holiday`, `block`, `break` with `clinic_wide`).
fn refusal_with_reason(error: &SchedulingError) -> Option<Status> {
    let (reason, metadata) = match error {
        SchedulingError::ProviderBusy {
            appointment_id,
            start,
            end,
            zone,
        } => (
            "PROVIDER_BUSY",
            HashMap::from([
                ("appointment_id".to_owned(), appointment_id.to_string()),
                (
                    "from".to_owned(),
                    start
                        .with_timezone(zone)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                ),
                (
                    "until".to_owned(),
                    end.with_timezone(zone).format("%H:%M").to_string(),
                ),
            ]),
        ),
        SchedulingError::ProviderUnavailable { provider, reason } => {
            let mut metadata = HashMap::from([("provider".to_owned(), provider.clone())]);
            match reason {
                Unavailable::OutsideHours { weekday } => {
                    metadata.insert("why".into(), "outside_hours".into());
                    metadata.insert("weekday".into(), weekday.number_from_monday().to_string());
                }
                Unavailable::Exception { kind, clinic_wide } => {
                    metadata.insert("why".into(), kind.as_str().into());
                    metadata.insert("clinic_wide".into(), clinic_wide.to_string());
                }
            }
            ("PROVIDER_UNAVAILABLE", metadata)
        }
        _ => return None,
    };
    Some(Status::with_error_details(
        Code::FailedPrecondition,
        error.to_string(),
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata),
    ))
}

impl From<SchedulingError> for Status {
    fn from(error: SchedulingError) -> Self {
        if let Some(status) = refusal_with_reason(&error) {
            return status;
        }
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
        let details = status.get_error_details();
        let info = details.error_info().expect("a reason");
        assert_eq!(info.reason, "PROVIDER_BUSY");
        assert_eq!(info.domain, ERROR_DOMAIN);
        assert_eq!(info.metadata["from"], "2026-11-22 09:00");
        assert_eq!(info.metadata["until"], "09:30");
        assert_eq!(info.metadata["appointment_id"], appointment_id.to_string());
    }

    #[test]
    fn time_a_provider_is_away_says_why_in_words_a_client_can_translate() {
        use crate::domain::{ExceptionKind, Unavailable};
        let outside = Status::from(SchedulingError::ProviderUnavailable {
            provider: "Dra. Ana Ruiz".into(),
            reason: Unavailable::OutsideHours {
                weekday: chrono::Weekday::Tue,
            },
        });
        let holiday = Status::from(SchedulingError::ProviderUnavailable {
            provider: "Dra. Ana Ruiz".into(),
            reason: Unavailable::Exception {
                kind: ExceptionKind::Holiday,
                clinic_wide: true,
            },
        });

        let outside = outside.get_error_details();
        let outside = outside.error_info().expect("a reason");
        assert_eq!(outside.reason, "PROVIDER_UNAVAILABLE");
        assert_eq!(outside.metadata["provider"], "Dra. Ana Ruiz");
        assert_eq!(outside.metadata["why"], "outside_hours");
        assert_eq!(outside.metadata["weekday"], "2");
        let holiday = holiday.get_error_details();
        let holiday = holiday.error_info().expect("a reason");
        assert_eq!(holiday.metadata["why"], "holiday");
        assert_eq!(holiday.metadata["clinic_wide"], "true");
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
