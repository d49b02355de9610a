//! The patient registry, as scheduling sees it: does a patient exist (and what are their
//! initials), and does evidence given at the kiosk match them. Calls carry this service's own
//! token; the registry's answers are turned into scheduling's terms here.

use clinic_common::client::{ServiceChannel, is_unreachable};
use clinic_common::ids::PatientId;
use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as pb;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use tonic::{Code, Status};

use crate::domain::{IdentityEvidence, Initials, SchedulingError};

#[derive(Debug, Clone)]
pub struct PatientRegistry {
    client: PatientServiceClient<ServiceChannel>,
}

impl PatientRegistry {
    pub fn new(channel: ServiceChannel) -> Self {
        PatientRegistry {
            client: PatientServiceClient::new(channel),
        }
    }

    /// The initials of a registered patient. Only the initials are kept; the names go no further.
    pub async fn initials(&self, patient_id: PatientId) -> Result<Initials, SchedulingError> {
        let request = pb::GetPatientRequest {
            patient_id: patient_id.to_string(),
        };
        match self.client.clone().get_patient(request).await {
            Ok(response) => {
                let patient = response.into_inner();
                Ok(Initials::of(&patient.given_name, &patient.family_name))
            }
            Err(status) if status.code() == Code::NotFound => {
                Err(SchedulingError::UnknownPatient(patient_id))
            }
            Err(status) => Err(registry_failure(status)),
        }
    }

    /// Whether `evidence` matches the patient. The registry answers only yes or no.
    pub async fn identity_matches(
        &self,
        patient_id: PatientId,
        evidence: &IdentityEvidence,
    ) -> Result<bool, SchedulingError> {
        let request = pb::VerifyPatientIdentityRequest {
            patient_id: patient_id.to_string(),
            date_of_birth: Some(date_to_proto(evidence.date_of_birth)),
            phone_last_four: evidence.phone_last_four.clone(),
        };
        match self.client.clone().verify_patient_identity(request).await {
            Ok(response) => Ok(response.into_inner().matches),
            Err(status) => Err(registry_failure(status)),
        }
    }
}

/// A registry that cannot be reached (or answers too slowly) is worth retrying later; any other
/// failure is a bug or a misconfiguration, and is reported as internal.
fn registry_failure(status: Status) -> SchedulingError {
    if is_unreachable(&status) {
        tracing::warn!(code = ?status.code(), "the patient registry did not answer");
        return SchedulingError::RegistryUnavailable;
    }
    SchedulingError::Unexpected(anyhow::anyhow!(
        "the patient registry answered {:?}: {}",
        status.code(),
        status.message()
    ))
}
