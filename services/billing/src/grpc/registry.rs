//! The patient registry as billing asks it: does this patient exist? Billing keeps no copy of
//! the registry; it asks before anything is posted to an account.

use clinic_common::client::{ServiceChannel, is_unreachable};
use clinic_common::ids::PatientId;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use tonic::Code;

use crate::domain::BillingError;

/// A client for `clinic.patients.v1.PatientService`, calling with billing's service token.
#[derive(Clone)]
pub struct PatientRegistry {
    client: PatientServiceClient<ServiceChannel>,
}

impl PatientRegistry {
    pub fn new(client: PatientServiceClient<ServiceChannel>) -> Self {
        PatientRegistry { client }
    }

    /// Whether `patient_id` is a registered patient. A registry that cannot be reached (or does
    /// not answer in time) is `RegistryUnavailable`, which the caller may retry; any other
    /// failure (a rejected service token, say) is a deployment fault.
    pub async fn is_registered(&self, patient_id: PatientId) -> Result<bool, BillingError> {
        let request = patients::GetPatientRequest {
            patient_id: patient_id.to_string(),
        };
        // The answer carries the patient's details; only its existence is used, and none of it
        // is logged.
        match self.client.clone().get_patient(request).await {
            Ok(_) => Ok(true),
            Err(status) if status.code() == Code::NotFound => Ok(false),
            Err(status) if is_unreachable(&status) => {
                tracing::warn!(code = ?status.code(), "the patient registry is unavailable");
                Err(BillingError::RegistryUnavailable)
            }
            Err(status) => Err(anyhow::anyhow!(
                "the patient registry refused a lookup: {:?} {}",
                status.code(),
                status.message()
            )
            .into()),
        }
    }
}
