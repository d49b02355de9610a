//! Building gRPC statuses the same way in every service. Each service maps its own error enum to
//! a [`Status`] in one `From` impl; these helpers keep the two cases that need care uniform:
//! invalid input carries field-level `BadRequest` details, and internal errors are logged with
//! their cause chain but never shown to the caller.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::db::Failure;
use crate::validation::FieldViolations;

/// `INVALID_ARGUMENT` naming every offending field in `google.rpc.BadRequest` details.
pub fn invalid_argument(violations: &FieldViolations) -> Status {
    let mut details = ErrorDetails::new();
    for violation in violations.iter() {
        details.add_bad_request_violation(&violation.field, &violation.description);
    }
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid request: {violations}"),
        details,
    )
}

/// The status of an unexpected error, with no detail for the caller; the full error, its
/// causes included, is logged here, once. A database that is briefly away answers `UNAVAILABLE`
/// and a transaction PostgreSQL aborted for a conflicting one `ABORTED`, so that clients retry
/// (a write with its same request id, which makes the retry safe whether or not the first
/// attempt committed); anything else is `INTERNAL`.
pub fn internal(error: &anyhow::Error) -> Status {
    match crate::db::failure_of(error) {
        Failure::Unreachable => {
            tracing::warn!(error = ?error, "the database is unavailable");
            Status::unavailable(
                "the service's database is unavailable; try again (a write with the same \
                 request_id)",
            )
        }
        Failure::Conflict => {
            tracing::warn!(error = ?error, "a transaction was aborted by a conflicting one");
            Status::aborted(
                "the call met a conflicting one; try again (a write with the same request_id)",
            )
        }
        Failure::Other => {
            tracing::error!(error = ?error, "internal error");
            Status::internal("internal error")
        }
    }
}

/// A refusal to be retried after `after`, which `google.rpc.RetryInfo` details carry for a
/// client to count down.
pub fn retry_later(code: Code, message: String, after: std::time::Duration) -> Status {
    Status::with_error_details(code, message, ErrorDetails::with_retry_info(Some(after)))
}

/// How long a status's `RetryInfo` details ask the caller to wait, if they do.
pub fn retry_after(status: &Status) -> Option<std::time::Duration> {
    status.get_error_details().retry_info()?.retry_delay
}

/// The fields named in a status's `BadRequest` details (for clients and tests).
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|bad_request| {
            bad_request
                .field_violations
                .iter()
                .map(|violation| violation.field.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_each_field() {
        let mut violations = FieldViolations::new();
        violations.add("amount", "must be positive");
        violations.add("request_id", "is required");
        let status = invalid_argument(&violations);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["amount", "request_id"]);
    }

    #[test]
    fn a_database_that_cannot_be_reached_answers_unavailable_without_the_cause() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "10.0.0.5:5432");
        for cause in [sqlx::Error::Io(refused), sqlx::Error::PoolTimedOut] {
            let error = anyhow::Error::new(cause).context("failed to post a payment");
            let status = internal(&error);
            assert_eq!(status.code(), Code::Unavailable);
            assert!(!status.message().contains("10.0.0.5"), "{status:?}");
        }
    }

    #[test]
    fn internal_hides_the_cause() {
        let status = internal(&anyhow::anyhow!("connection refused to 10.0.0.5:5432"));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
