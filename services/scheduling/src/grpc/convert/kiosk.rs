//! Check-in and the kiosk's lookup, and what the kiosk shows of an appointment.

use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_from_proto, timestamp_to_proto};

use super::{appointment_id, status_to_proto};
use crate::domain::{
    Appointment, CheckInCommand, CheckInTarget, ConfirmationCode, IdentityEvidence, KioskLookup,
    NameKey, PhoneLastFour,
};

/// A check-in request. `identity_required` holds for kiosk callers.
pub fn check_in(
    request: &pb::CheckInAppointmentRequest,
    identity_required: bool,
) -> Result<CheckInCommand, FieldViolations> {
    let mut violations = FieldViolations::new();
    let target = match (
        request.appointment_id.is_empty(),
        request.confirmation_code.is_empty(),
    ) {
        (false, true) => violations
            .check("appointment_id", appointment_id(&request.appointment_id))
            .map(CheckInTarget::Id),
        (true, false) => violations
            .check(
                "confirmation_code",
                ConfirmationCode::parse(&request.confirmation_code),
            )
            .map(CheckInTarget::Code),
        (true, true) => {
            violations.add(
                "appointment_id",
                "is required unless confirmation_code is given",
            );
            None
        }
        (false, false) => {
            violations.add("confirmation_code", "must not be given with appointment_id");
            None
        }
    };
    let identity = match &request.identity {
        Some(identity) => {
            let date_of_birth = violations.check(
                "identity.date_of_birth",
                date_from_proto(identity.date_of_birth.as_ref()),
            );
            // The confirmation code is itself a secret from the patient's reminder: with it,
            // the date of birth is enough.
            let by_code =
                request.appointment_id.is_empty() && !request.confirmation_code.is_empty();
            let last_four = if identity.phone_last_four.is_empty() && by_code {
                Some(None)
            } else {
                violations
                    .check(
                        "identity.phone_last_four",
                        PhoneLastFour::parse(&identity.phone_last_four),
                    )
                    .map(Some)
            };
            match (date_of_birth, last_four) {
                (Some(date_of_birth), Some(phone_last_four)) => Some(IdentityEvidence {
                    date_of_birth,
                    phone_last_four,
                }),
                _ => None,
            }
        }
        None => {
            if identity_required {
                violations.add("identity", "is required at a kiosk");
            }
            None
        }
    };
    match target {
        Some(target) if violations.is_empty() => Ok(CheckInCommand { target, identity }),
        _ => Err(violations),
    }
}

pub fn kiosk_lookup(
    request: &pb::FindTodaysAppointmentRequest,
) -> Result<KioskLookup, FieldViolations> {
    use pb::find_todays_appointment_request::Lookup;
    let mut violations = FieldViolations::new();
    let lookup = match &request.lookup {
        Some(Lookup::ByCode(by_code)) => {
            let code = violations.check(
                "by_code.confirmation_code",
                ConfirmationCode::parse(&by_code.confirmation_code),
            );
            let date_of_birth = violations.check(
                "by_code.date_of_birth",
                date_from_proto(by_code.date_of_birth.as_ref()),
            );
            match (code, date_of_birth) {
                (Some(code), Some(date_of_birth)) => Some(KioskLookup::ByCode {
                    code,
                    date_of_birth,
                }),
                _ => None,
            }
        }
        Some(Lookup::ByName(by_name)) => {
            let family_name =
                violations.check("by_name.family_name", NameKey::parse(&by_name.family_name));
            let given_name =
                violations.check("by_name.given_name", NameKey::parse(&by_name.given_name));
            let date_of_birth = violations.check(
                "by_name.date_of_birth",
                date_from_proto(by_name.date_of_birth.as_ref()),
            );
            let phone_last_four = violations.check(
                "by_name.phone_last_four",
                PhoneLastFour::parse(&by_name.phone_last_four),
            );
            match (family_name, given_name, date_of_birth, phone_last_four) {
                (
                    Some(family_name),
                    Some(given_name),
                    Some(date_of_birth),
                    Some(phone_last_four),
                ) => Some(KioskLookup::ByName {
                    family_name,
                    given_name,
                    date_of_birth,
                    phone_last_four,
                }),
                _ => None,
            }
        }
        None => {
            violations.add("lookup", "is required: by_code or by_name");
            None
        }
    };
    match lookup {
        Some(lookup) if violations.is_empty() => Ok(lookup),
        _ => Err(violations),
    }
}

/// What the kiosk shows of a found appointment.
pub struct KioskView<'a> {
    pub appointment: &'a Appointment,
    pub provider_display_name: &'a str,
    pub given_name: &'a str,
    pub first_visit: bool,
}

pub fn kiosk_appointment_to_proto(view: &KioskView<'_>) -> pb::KioskAppointment {
    let appointment = view.appointment;
    pb::KioskAppointment {
        appointment_id: appointment.appointment_id.to_string(),
        patient_id: appointment.patient_id.to_string(),
        start_time: Some(timestamp_to_proto(appointment.slot.start())),
        provider_display_name: view.provider_display_name.to_owned(),
        patient_given_name: view.given_name.to_owned(),
        patient_initials: appointment.patient_initials.as_str().to_owned(),
        status: status_to_proto(appointment.status).into(),
        first_visit: view.first_visit,
    }
}
