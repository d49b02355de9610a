//! The patient registry, as scheduling sees it: does a patient exist (and what are their
//! initials), and does evidence given at the kiosk match them. Calls carry this service's own
//! token; the registry's answers are turned into scheduling's terms here.

use clinic_common::client::{ServiceChannel, is_unreachable};
use clinic_common::ids::PatientId;
use clinic_common::rpc::for_the_person;
use clinic_proto::patients::v1 as pb;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::{date_from_proto, date_to_proto};
use tonic::{Code, Status};

use crate::domain::{IdentityEvidence, Initials, PatientFacts, SchedulingError};

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

    /// Whether `evidence` matches the patient. With the phone's last four digits the registry
    /// answers only yes or no; without them (an appointment named by its confirmation code) the
    /// date of birth is compared here.
    pub async fn identity_matches(
        &self,
        patient_id: PatientId,
        evidence: &IdentityEvidence,
    ) -> Result<bool, SchedulingError> {
        let Some(phone_last_four) = &evidence.phone_last_four else {
            let facts = self.patient_facts(patient_id).await?;
            return Ok(facts.is_some_and(|facts| facts.date_of_birth == evidence.date_of_birth));
        };
        let request = pb::VerifyPatientIdentityRequest {
            patient_id: patient_id.to_string(),
            date_of_birth: Some(date_to_proto(evidence.date_of_birth)),
            phone_last_four: phone_last_four.as_str().to_owned(),
        };
        match self.client.clone().verify_patient_identity(request).await {
            Ok(response) => Ok(response.into_inner().matches),
            Err(status) => Err(registry_failure(status)),
        }
    }

    /// What the registry knows of a patient that the kiosk's checks compare against; `None`
    /// when the registry does not know the patient. Stays in memory for the one check.
    pub async fn patient_facts(
        &self,
        patient_id: PatientId,
    ) -> Result<Option<PatientFacts>, SchedulingError> {
        // The kiosk's read: audited as the kiosk's.
        let request = for_the_person(pb::GetPatientRequest {
            patient_id: patient_id.to_string(),
        });
        match self.client.clone().get_patient(request).await {
            Ok(response) => {
                let patient = response.into_inner();
                let Ok(date_of_birth) = date_from_proto(patient.date_of_birth.as_ref()) else {
                    return Err(SchedulingError::Unexpected(anyhow::anyhow!(
                        "the patient registry returned a patient without a date of birth"
                    )));
                };
                Ok(Some(PatientFacts {
                    given_name: patient.given_name,
                    family_name: patient.family_name,
                    date_of_birth,
                    phone: patient.phone,
                }))
            }
            Err(status) if status.code() == Code::NotFound => Ok(None),
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

/// How to reach a patient, for confirming visits and sending reminders. Stays in memory.
#[derive(Clone, Default)]
pub struct PatientContact {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub sms: bool,
    pub whatsapp: bool,
    pub email_consent: bool,
    /// es, en, zh or ru; empty when the registry has none.
    pub language: String,
}

impl std::fmt::Debug for PatientContact {
    // Personal data: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientContact(..)")
    }
}

impl PatientRegistry {
    /// A patient's contact details and consents; `None` when the registry does not know them.
    pub async fn contact(
        &self,
        patient_id: PatientId,
    ) -> Result<Option<PatientContact>, SchedulingError> {
        // Shown to the person at the desk (tomorrow's list): audited as their read. The
        // reminder task reads for nobody.
        let request = for_the_person(pb::GetPatientRequest {
            patient_id: patient_id.to_string(),
        });
        match self.client.clone().get_patient(request).await {
            Ok(response) => {
                let patient = response.into_inner();
                let consent = patient.consent.unwrap_or_default();
                Ok(Some(PatientContact {
                    name: format!("{} {}", patient.given_name, patient.family_name),
                    phone: patient.phone,
                    email: patient.email,
                    sms: consent.sms,
                    whatsapp: consent.whatsapp,
                    email_consent: consent.email,
                    language: patient.preferred_language,
                }))
            }
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(registry_failure(status)),
        }
    }
}
