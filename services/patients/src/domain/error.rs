//! What can go wrong in the patient registry. Mapped to gRPC status codes in `grpc::error`.

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
