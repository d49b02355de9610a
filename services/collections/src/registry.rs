//! What collections learns from the patient registry about how a patient may be reached: their
//! time zone, per-channel consent, and whether a phone number and an email address are on file
//! (never the values themselves); and asking it about a patient.

use chrono_tz::Tz;
use clinic_common::client::ServiceChannel;
use clinic_common::ids::PatientId;
use clinic_proto::patients::v1 as pb;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use tonic::Code;

use crate::domain::ContactProfile;

/// What the registry answered when asked about a patient.
#[derive(Debug)]
pub enum Lookup {
    Found(Box<pb::Patient>),
    /// The registry does not know the patient.
    Unknown,
    /// The registry could not be reached, or failed to answer.
    Unanswered(Code),
}

/// Asks the registry about a patient.
pub async fn look_up(
    patients: &PatientServiceClient<ServiceChannel>,
    patient_id: PatientId,
) -> Lookup {
    let request = pb::GetPatientRequest {
        patient_id: patient_id.to_string(),
    };
    match patients.clone().get_patient(request).await {
        Ok(patient) => Lookup::Found(Box::new(patient.into_inner())),
        Err(status) if status.code() == Code::NotFound => Lookup::Unknown,
        Err(status) => Lookup::Unanswered(status.code()),
    }
}

/// The contact profile of a patient as the registry has them. A patient without a (known) zone
/// is reached by the clinic's hours, as the registry itself defaults to the clinic's zone.
pub fn contact_profile(patient: &pb::Patient, clinic_zone: Tz) -> ContactProfile {
    let time_zone = patient.time_zone.parse().unwrap_or(clinic_zone);
    let consent = patient.consent.unwrap_or_default();
    ContactProfile {
        time_zone,
        consent_sms: consent.sms,
        consent_whatsapp: consent.whatsapp,
        consent_email: consent.email,
        consent_phone_call: consent.phone_call,
        has_phone: !patient.phone.trim().is_empty(),
        has_email: !patient.email.trim().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_without_a_zone_is_reached_in_the_clinic_s_hours() {
        let patient = pb::Patient {
            phone: "+525511110001".into(),
            consent: Some(pb::ContactConsent {
                sms: true,
                ..Default::default()
            }),
            ..Default::default()
        };

        let profile = contact_profile(&patient, chrono_tz::America::Mexico_City);

        assert_eq!(profile.time_zone, chrono_tz::America::Mexico_City);
        assert!(profile.consent_sms && !profile.consent_phone_call);
        assert!(profile.has_phone && !profile.has_email);
    }
}
