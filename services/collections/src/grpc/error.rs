//! The one mapping from the collections service's errors to gRPC statuses.

use clinic_common::status;
use tonic::Status;

use crate::domain::CollectionsError;

impl From<CollectionsError> for Status {
    fn from(error: CollectionsError) -> Self {
        match error {
            CollectionsError::Invalid(violations) => status::invalid_argument(&violations),
            CollectionsError::Unexpected(error) => status::internal(&error),
        }
    }
}
