//! Protobuf ⇄ domain conversions for the patient registry. Requests become domain commands here,
//! with every invalid field reported at once; nothing past this module sees a protobuf type.

use chrono::NaiveDate;
use chrono_tz::Tz;
use clinic_common::ids::{PatientId, RequestId};
use clinic_common::validation::{FieldViolations, echo};
use clinic_proto::patients::v1 as pb;
use clinic_proto::{date_from_proto, date_to_proto, timestamp_to_proto};

use crate::domain::{
    Age, ContactConsent, Email, FiscalData, Language, NewIntakeForm, NewPatient, Patient,
    PatientChanges, PatientDetails, PersonName, Phone, parse_date_of_birth,
};

/// The context a request is read in: what "today" is and the clinic's zone, for defaults.
pub struct Reading {
    pub today: NaiveDate,
    pub clinic_time_zone: Tz,
}

pub fn patient_id(text: &str, field: &str) -> Result<PatientId, FieldViolations> {
    PatientId::parse(text)
        .map_err(|_| FieldViolations::single(field, "must be a patient id (UUID)"))
}

pub fn new_patient(
    request: pb::CreatePatientRequest,
    reading: &Reading,
) -> Result<NewPatient, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let details = match request.patient {
        Some(patient) => details(&patient, reading, &mut violations),
        None => {
            violations.add("patient", "is required");
            None
        }
    };
    match (details, request_id) {
        (Some(details), Some(request_id)) if violations.is_empty() => Ok(NewPatient {
            details,
            request_id,
        }),
        _ => Err(violations),
    }
}

fn details(
    patient: &pb::Patient,
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Option<PatientDetails> {
    let given_name = violations.check("patient.given_name", PersonName::parse(&patient.given_name));
    let family_name = violations.check(
        "patient.family_name",
        PersonName::parse(&patient.family_name),
    );
    let date_of_birth = violations.check(
        "patient.date_of_birth",
        date_from_proto(patient.date_of_birth.as_ref())
            .and_then(|date| parse_date_of_birth(date, reading.today).map_err(String::from)),
    );
    let phone = violations.check("patient.phone", Phone::parse(&patient.phone));
    let email = violations.check("patient.email", optional_email(&patient.email));
    let language = violations.check(
        "patient.preferred_language",
        Language::parse(&patient.preferred_language),
    );
    let time_zone = violations.check(
        "patient.time_zone",
        time_zone(&patient.time_zone, reading.clinic_time_zone),
    );
    let details = PatientDetails {
        given_name: given_name?,
        family_name: family_name?,
        date_of_birth: date_of_birth?,
        phone: phone?,
        email: email?,
        language: language?,
        time_zone: time_zone?,
        consent: consent(patient.consent.as_ref()),
    };
    details.validate(violations, "patient.");
    Some(details)
}

pub fn changes(
    request: pb::UpdatePatientRequest,
    reading: &Reading,
) -> Result<(PatientId, PatientChanges), FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(patient) = request.patient else {
        return Err(FieldViolations::single("patient", "is required"));
    };
    let patient_id = violations.check(
        "patient.patient_id",
        patient_id(&patient.patient_id, "patient.patient_id").map_err(|v| v.to_string()),
    );
    let paths = request
        .update_mask
        .map(|mask| mask.paths)
        .unwrap_or_default();
    if paths.is_empty() {
        violations.add("update_mask", "must name at least one field");
    }
    let mut changes = PatientChanges::default();
    for path in &paths {
        let field = format!("patient.{path}");
        match path.as_str() {
            "given_name" => {
                changes.given_name =
                    violations.check(&field, PersonName::parse(&patient.given_name))
            }
            "family_name" => {
                changes.family_name =
                    violations.check(&field, PersonName::parse(&patient.family_name))
            }
            "date_of_birth" => {
                changes.date_of_birth = violations.check(
                    &field,
                    date_from_proto(patient.date_of_birth.as_ref()).and_then(|date| {
                        parse_date_of_birth(date, reading.today).map_err(String::from)
                    }),
                )
            }
            "phone" => changes.phone = violations.check(&field, Phone::parse(&patient.phone)),
            "email" => changes.email = violations.check(&field, optional_email(&patient.email)),
            "preferred_language" => {
                changes.language =
                    violations.check(&field, Language::parse(&patient.preferred_language))
            }
            "time_zone" => {
                changes.time_zone = violations.check(
                    &field,
                    time_zone(&patient.time_zone, reading.clinic_time_zone),
                )
            }
            "consent" => changes.consent = Some(consent(patient.consent.as_ref())),
            _ => violations.add(
                "update_mask",
                format!("{} is not a field that can be updated", echo(path)),
            ),
        }
    }
    match patient_id {
        Some(patient_id) if violations.is_empty() => Ok((patient_id, changes)),
        _ => Err(violations),
    }
}

fn optional_email(text: &str) -> Result<Option<Email>, &'static str> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        Email::parse(text).map(Some)
    }
}

fn time_zone(name: &str, clinic_default: Tz) -> Result<Tz, String> {
    if name.trim().is_empty() {
        return Ok(clinic_default);
    }
    name.trim()
        .parse()
        .map_err(|_| format!("{} is not an IANA time zone", echo(name)))
}

fn consent(consent: Option<&pb::ContactConsent>) -> ContactConsent {
    consent.map_or_else(ContactConsent::default, |consent| ContactConsent {
        sms: consent.sms,
        whatsapp: consent.whatsapp,
        email: consent.email,
        phone_call: consent.phone_call,
    })
}

pub fn patient_to_proto(patient: &Patient) -> pb::Patient {
    let details = &patient.details;
    pb::Patient {
        patient_id: patient.patient_id.to_string(),
        given_name: details.given_name.as_str().to_owned(),
        family_name: details.family_name.as_str().to_owned(),
        date_of_birth: Some(date_to_proto(details.date_of_birth)),
        phone: details.phone.as_str().to_owned(),
        email: details
            .email
            .as_ref()
            .map(|email| email.as_str().to_owned())
            .unwrap_or_default(),
        preferred_language: details.language.tag().to_owned(),
        time_zone: details.time_zone.name().to_owned(),
        consent: Some(pb::ContactConsent {
            sms: details.consent.sms,
            whatsapp: details.consent.whatsapp,
            email: details.consent.email,
            phone_call: details.consent.phone_call,
        }),
        create_time: Some(timestamp_to_proto(patient.created_at)),
        update_time: Some(timestamp_to_proto(patient.updated_at)),
        // Read apart from the record; only GetPatient and SetFiscalData fill it in.
        fiscal_data: None,
    }
}

/// The patient and fiscal data of a `SetFiscalData` request; unset data removes it.
pub fn fiscal_data(
    request: &pb::SetFiscalDataRequest,
) -> Result<(PatientId, Option<FiscalData>), FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check(
        "patient_id",
        patient_id(&request.patient_id, "patient_id").map_err(|v| v.to_string()),
    );
    let fiscal = match &request.fiscal_data {
        None => Some(None),
        Some(data) => FiscalData::parse(
            &data.rfc,
            &data.legal_name,
            &data.postal_code,
            &data.tax_regime,
            &data.cfdi_use,
            "fiscal_data.",
            &mut violations,
        )
        .map(Some),
    };
    match (patient_id, fiscal) {
        (Some(patient_id), Some(fiscal)) if violations.is_empty() => Ok((patient_id, fiscal)),
        _ => Err(violations),
    }
}

pub fn fiscal_data_to_proto(fiscal: &FiscalData) -> pb::FiscalData {
    pb::FiscalData {
        rfc: fiscal.rfc.clone(),
        legal_name: fiscal.legal_name.clone(),
        postal_code: fiscal.postal_code.clone(),
        tax_regime: fiscal.tax_regime.clone(),
        cfdi_use: fiscal.cfdi_use.clone().unwrap_or_default(),
    }
}

/// The identity evidence a kiosk gave, when it is well formed: the date of birth and the phone's
/// last four digits.
pub fn identity_evidence(identity: Option<&pb::IdentityEvidence>) -> Option<(NaiveDate, String)> {
    let identity = identity?;
    let born = date_from_proto(identity.date_of_birth.as_ref()).ok()?;
    is_last_four(&identity.phone_last_four).then(|| (born, identity.phone_last_four.clone()))
}

/// Whether `text` is exactly four digits, as the phone's last four are given.
fn is_last_four(text: &str) -> bool {
    text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A submission to record, its answers checked for a patient of `age` (their evidence, when a
/// kiosk must give it, only checked for form here: whether it matches is the caller's to judge).
pub fn intake_submission(
    request: pb::SubmitIntakeFormRequest,
    needs_identity: bool,
    age: Age,
) -> Result<NewIntakeForm, FieldViolations> {
    use crate::domain::{
        GuardianRelationship, IntakeAnswers, LastDentalVisit, MedicalCondition, RawGuardian,
        RawIntake,
    };
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (&request.identity, needs_identity) {
        (_, false) => {}
        (None, true) => violations.add("identity", "is required at a kiosk"),
        (Some(identity), true) => {
            violations.check(
                "identity.date_of_birth",
                date_from_proto(identity.date_of_birth.as_ref()),
            );
            violations.require(
                is_last_four(&identity.phone_last_four),
                "identity.phone_last_four",
                "must be exactly four digits",
            );
        }
    }
    let Some(form) = request.form else {
        violations.add("form", "is required");
        return Err(violations);
    };
    let patient_id = violations.check(
        "form.patient_id",
        patient_id(&form.patient_id, "form.patient_id").map_err(|v| v.to_string()),
    );
    let raw = RawIntake {
        reason_for_visit: &form.reason_for_visit,
        has_allergies: form.has_allergies,
        allergies: &form.allergies,
        medications: &form.medications,
        conditions: form
            .conditions
            .iter()
            .map(|value| match pb::MedicalCondition::try_from(*value) {
                Ok(pb::MedicalCondition::Diabetes) => Some(MedicalCondition::Diabetes),
                Ok(pb::MedicalCondition::Hypertension) => Some(MedicalCondition::Hypertension),
                Ok(pb::MedicalCondition::HeartDisease) => Some(MedicalCondition::HeartDisease),
                Ok(pb::MedicalCondition::Asthma) => Some(MedicalCondition::Asthma),
                Ok(pb::MedicalCondition::BleedingDisorder) => {
                    Some(MedicalCondition::BleedingDisorder)
                }
                Ok(pb::MedicalCondition::Pregnancy) => Some(MedicalCondition::Pregnancy),
                Ok(pb::MedicalCondition::Unspecified) | Err(_) => None,
            })
            .collect(),
        last_dental_visit: match pb::LastDentalVisit::try_from(form.last_dental_visit) {
            Ok(pb::LastDentalVisit::Unspecified) => Ok(None),
            Ok(pb::LastDentalVisit::UnderSixMonths) => Ok(Some(LastDentalVisit::UnderSixMonths)),
            Ok(pb::LastDentalVisit::SixToTwelveMonths) => {
                Ok(Some(LastDentalVisit::SixToTwelveMonths))
            }
            Ok(pb::LastDentalVisit::OverAYear) => Ok(Some(LastDentalVisit::OverAYear)),
            Ok(pb::LastDentalVisit::Never) => Ok(Some(LastDentalVisit::Never)),
            Err(_) => Err(()),
        },
        emergency_contact_name: &form.emergency_contact_name,
        emergency_contact_phone: &form.emergency_contact_phone,
        consent_to_assessment: form.consent_to_assessment,
        language: &form.language,
        guardian: match &form.guardian {
            None => RawGuardian::default(),
            Some(guardian) => RawGuardian {
                full_name: &guardian.full_name,
                relationship: match pb::GuardianRelationship::try_from(guardian.relationship) {
                    Ok(pb::GuardianRelationship::Unspecified) => Ok(None),
                    Ok(pb::GuardianRelationship::Mother) => Ok(Some(GuardianRelationship::Mother)),
                    Ok(pb::GuardianRelationship::Father) => Ok(Some(GuardianRelationship::Father)),
                    Ok(pb::GuardianRelationship::LegalGuardian) => {
                        Ok(Some(GuardianRelationship::LegalGuardian))
                    }
                    Ok(pb::GuardianRelationship::Other) => Ok(Some(GuardianRelationship::Other)),
                    Err(_) => Err(()),
                },
                phone: &guardian.phone,
            },
        },
    };
    let answers = IntakeAnswers::parse(&raw, age, "form.", &mut violations);
    match (patient_id, answers, request_id) {
        (Some(patient_id), Some(answers), Some(request_id)) if violations.is_empty() => {
            Ok(NewIntakeForm {
                patient_id,
                answers,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn intake_to_proto(form: &crate::domain::IntakeForm) -> pb::IntakeForm {
    use crate::domain::{GuardianRelationship, LastDentalVisit, MedicalCondition};
    let answers = &form.answers;
    let contact = answers.emergency_contact.as_ref();
    pb::IntakeForm {
        patient_id: form.patient_id.to_string(),
        reason_for_visit: answers.reason_for_visit.clone().unwrap_or_default(),
        has_allergies: Some(answers.allergies.is_some()),
        allergies: answers.allergies.clone().unwrap_or_default(),
        medications: answers.medications.clone().unwrap_or_default(),
        conditions: answers
            .conditions
            .iter()
            .map(|condition| match condition {
                MedicalCondition::Diabetes => pb::MedicalCondition::Diabetes,
                MedicalCondition::Hypertension => pb::MedicalCondition::Hypertension,
                MedicalCondition::HeartDisease => pb::MedicalCondition::HeartDisease,
                MedicalCondition::Asthma => pb::MedicalCondition::Asthma,
                MedicalCondition::BleedingDisorder => pb::MedicalCondition::BleedingDisorder,
                MedicalCondition::Pregnancy => pb::MedicalCondition::Pregnancy,
            } as i32)
            .collect(),
        last_dental_visit: match answers.last_dental_visit {
            None => pb::LastDentalVisit::Unspecified,
            Some(LastDentalVisit::UnderSixMonths) => pb::LastDentalVisit::UnderSixMonths,
            Some(LastDentalVisit::SixToTwelveMonths) => pb::LastDentalVisit::SixToTwelveMonths,
            Some(LastDentalVisit::OverAYear) => pb::LastDentalVisit::OverAYear,
            Some(LastDentalVisit::Never) => pb::LastDentalVisit::Never,
        } as i32,
        emergency_contact_name: contact
            .map(|c| c.name.as_str().to_owned())
            .unwrap_or_default(),
        emergency_contact_phone: contact
            .map(|c| c.phone.as_str().to_owned())
            .unwrap_or_default(),
        consent_to_assessment: true,
        language: answers.language.tag().to_owned(),
        submit_time: Some(timestamp_to_proto(form.submitted_at)),
        submitted_by: form.submitted_by.clone(),
        guardian: answers.guardian.as_ref().map(|guardian| pb::Guardian {
            full_name: guardian.name.as_str().to_owned(),
            relationship: match guardian.relationship {
                GuardianRelationship::Mother => pb::GuardianRelationship::Mother,
                GuardianRelationship::Father => pb::GuardianRelationship::Father,
                GuardianRelationship::LegalGuardian => pb::GuardianRelationship::LegalGuardian,
                GuardianRelationship::Other => pb::GuardianRelationship::Other,
            } as i32,
            phone: guardian.phone.as_str().to_owned(),
        }),
    }
}
