//! What can go wrong in billing. Mapped to gRPC status codes in `grpc::error`.

use clinic_common::validation::FieldViolations;

use super::PriceCode;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The request is malformed or names something that does not exist (an unregistered
    /// patient, a code not on the price list); every offending field is listed.
    #[error("invalid request: {0}")]
    Invalid(FieldViolations),
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error("price code {0} is already on the price list")]
    PriceCodeTaken(PriceCode),
    /// The patient registry could not be asked whether a patient exists; nothing was written
    /// and the call can be retried.
    #[error("the patient registry is unavailable")]
    RegistryUnavailable,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<FieldViolations> for BillingError {
    fn from(violations: FieldViolations) -> Self {
        BillingError::Invalid(violations)
    }
}
