//! The one mapping from the registry's errors to gRPC statuses.

use clinic_common::status;
use clinic_common::validation::FieldViolations;
use tonic::Status;

use crate::domain::PatientsError;

impl From<PatientsError> for Status {
    fn from(error: PatientsError) -> Self {
        match error {
            PatientsError::Invalid(violations) => status::invalid_argument(&violations),
            PatientsError::NotFound(patient_id) => {
                Status::not_found(format!("patient {patient_id} not found"))
            }
            PatientsError::RequestIdReused => status::invalid_argument(&FieldViolations::single(
                "request_id",
                "was already used for a different request",
            )),
            PatientsError::Unexpected(error) => status::internal(&error),
        }
    }
}
