//! Building gRPC statuses the same way in every service. Each service maps its own error enum to
//! a [`Status`] in one `From` impl; these helpers keep the two cases that need care uniform:
//! invalid input carries field-level `BadRequest` details, and internal errors are logged with
//! their cause chain but never shown to the caller.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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

/// `INTERNAL` with no detail for the caller; the full error is logged here, once.
pub fn internal(error: &anyhow::Error) -> Status {
    tracing::error!(error = ?error, "internal error");
    Status::internal("internal error")
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
    fn internal_hides_the_cause() {
        let status = internal(&anyhow::anyhow!("connection refused to 10.0.0.5:5432"));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
