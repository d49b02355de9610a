//! What can go wrong in the patient registry. Mapped to gRPC status codes in `grpc::error`.

use clinic_common::idempotency::{Attempt, KeyError};
use clinic_common::ids::PatientId;
use clinic_common::validation::FieldViolations;

#[derive(Debug, thiserror::Error)]
pub enum PatientsError {
    #[error("invalid request: {0}")]
    Invalid(FieldViolations),
    #[error("patient {0} not found")]
    NotFound(PatientId),
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<FieldViolations> for PatientsError {
    fn from(violations: FieldViolations) -> Self {
        PatientsError::Invalid(violations)
    }
}

impl From<KeyError> for PatientsError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Reused => PatientsError::RequestIdReused,
            KeyError::Lost => PatientsError::Unexpected(anyhow::anyhow!(
                "an idempotency key was lost to another call outside any retry"
            )),
            KeyError::Unexpected(error) => PatientsError::Unexpected(error),
        }
    }
}

impl From<PatientsError> for Attempt<PatientsError> {
    fn from(error: PatientsError) -> Self {
        Attempt::Failed(error)
    }
}
