//! The patient registry as billing asks it: does this patient exist, and does the evidence a
//! kiosk was given match them? Billing keeps no copy of the registry; it asks before anything is
//! posted to an account or shown at the kiosk.

use clinic_common::client::{ServiceChannel, is_unreachable};
use clinic_common::ids::PatientId;
use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use tonic::{Code, Status};

use crate::domain::{BillingError, FiscalData, IdentityEvidence};

/// A client for `clinic.patients.v1.PatientService`, calling with billing's service token.
#[derive(Clone)]
pub struct PatientRegistry {
    client: PatientServiceClient<ServiceChannel>,
}

impl PatientRegistry {
    pub fn new(client: PatientServiceClient<ServiceChannel>) -> Self {
        PatientRegistry { client }
    }

    /// Whether `patient_id` is a registered patient.
    pub async fn is_registered(&self, patient_id: PatientId) -> Result<bool, BillingError> {
        let request = patients::GetPatientRequest {
            patient_id: patient_id.to_string(),
        };
        // The answer carries the patient's details; only its existence is used, and none of it
        // is logged.
        match self.client.clone().get_patient(request).await {
            Ok(_) => Ok(true),
            Err(status) if status.code() == Code::NotFound => Ok(false),
            Err(status) => Err(registry_failure(status)),
        }
    }

    /// The fiscal data the patient's invoices are made out to, if recorded; `None` for a patient
    /// the registry does not know either.
    pub async fn fiscal_data(
        &self,
        patient_id: PatientId,
    ) -> Result<Option<FiscalData>, BillingError> {
        // The invoice shows them to the person issuing it: audited as their read.
        let request = clinic_common::rpc::for_the_person(patients::GetPatientRequest {
            patient_id: patient_id.to_string(),
        });
        match self.client.clone().get_patient(request).await {
            Ok(response) => Ok(response.into_inner().fiscal_data.map(|fiscal| FiscalData {
                rfc: fiscal.rfc,
                legal_name: fiscal.legal_name,
                tax_regime: fiscal.tax_regime,
                postal_code: fiscal.postal_code,
                cfdi_use: fiscal.cfdi_use,
            })),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(registry_failure(status)),
        }
    }

    /// Whether `evidence` matches the patient. The registry answers only yes or no, and no for
    /// a patient it does not know.
    pub async fn identity_matches(
        &self,
        patient_id: PatientId,
        evidence: &IdentityEvidence,
    ) -> Result<bool, BillingError> {
        let request = patients::VerifyPatientIdentityRequest {
            patient_id: patient_id.to_string(),
            date_of_birth: Some(date_to_proto(evidence.date_of_birth)),
            phone_last_four: evidence.phone_last_four.as_str().to_owned(),
        };
        match self.client.clone().verify_patient_identity(request).await {
            Ok(response) => Ok(response.into_inner().matches),
            Err(status) if status.code() == Code::NotFound => Ok(false),
            Err(status) => Err(registry_failure(status)),
        }
    }
}

/// A registry that cannot be reached (or does not answer in time) is `RegistryUnavailable`,
/// which the caller may retry; any other failure (a rejected service token, say) is a deployment
/// fault.
fn registry_failure(status: Status) -> BillingError {
    if is_unreachable(&status) {
        tracing::warn!(code = ?status.code(), "the patient registry is unavailable");
        return BillingError::RegistryUnavailable;
    }
    anyhow::anyhow!(
        "the patient registry refused a call: {:?} {}",
        status.code(),
        status.message()
    )
    .into()
}
