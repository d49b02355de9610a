//! What collections learns from the patient registry about how a patient may be reached: their
//! time zone, per-channel consent, and whether a phone number and an email address are on file
//! (never the values themselves).

use chrono_tz::Tz;
use clinic_proto::patients::v1 as pb;

use crate::domain::ContactProfile;

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
