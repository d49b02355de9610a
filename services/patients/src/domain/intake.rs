//! The first-visit intake form: what the patient tells the clinic before being seen (why they
//! come, allergies, medicines, conditions, an emergency contact), and for a patient under 18 the
//! parent or guardian who answers for them and consents. Each submission is kept; the newest is
//! the patient's form.

use chrono::{DateTime, Utc};
use clinic_common::ids::{PatientId, RequestId, request_fingerprint};
use clinic_common::validation::{FieldViolations, optional_text, required_text};

use super::{Age, Language, PersonName, Phone};

/// Free-text answers are at most this long.
pub const MAX_ANSWER_CHARS: usize = 500;

/// A health condition the form asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MedicalCondition {
    Diabetes,
    Hypertension,
    HeartDisease,
    Asthma,
    BleedingDisorder,
    Pregnancy,
}

impl MedicalCondition {
    pub const ALL: [MedicalCondition; 6] = [
        MedicalCondition::Diabetes,
        MedicalCondition::Hypertension,
        MedicalCondition::HeartDisease,
        MedicalCondition::Asthma,
        MedicalCondition::BleedingDisorder,
        MedicalCondition::Pregnancy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MedicalCondition::Diabetes => "diabetes",
            MedicalCondition::Hypertension => "hypertension",
            MedicalCondition::HeartDisease => "heart_disease",
            MedicalCondition::Asthma => "asthma",
            MedicalCondition::BleedingDisorder => "bleeding_disorder",
            MedicalCondition::Pregnancy => "pregnancy",
        }
    }

    pub fn parse(text: &str) -> Option<MedicalCondition> {
        MedicalCondition::ALL
            .into_iter()
            .find(|condition| condition.as_str() == text)
    }
}

/// When the patient last saw a dentist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastDentalVisit {
    UnderSixMonths,
    SixToTwelveMonths,
    OverAYear,
    Never,
}

impl LastDentalVisit {
    pub const ALL: [LastDentalVisit; 4] = [
        LastDentalVisit::UnderSixMonths,
        LastDentalVisit::SixToTwelveMonths,
        LastDentalVisit::OverAYear,
        LastDentalVisit::Never,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LastDentalVisit::UnderSixMonths => "under_six_months",
            LastDentalVisit::SixToTwelveMonths => "six_to_twelve_months",
            LastDentalVisit::OverAYear => "over_a_year",
            LastDentalVisit::Never => "never",
        }
    }

    pub fn parse(text: &str) -> Option<LastDentalVisit> {
        LastDentalVisit::ALL
            .into_iter()
            .find(|visit| visit.as_str() == text)
    }
}

/// How a parent or guardian is related to the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardianRelationship {
    Mother,
    Father,
    LegalGuardian,
    Other,
}

impl GuardianRelationship {
    pub const ALL: [GuardianRelationship; 4] = [
        GuardianRelationship::Mother,
        GuardianRelationship::Father,
        GuardianRelationship::LegalGuardian,
        GuardianRelationship::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GuardianRelationship::Mother => "mother",
            GuardianRelationship::Father => "father",
            GuardianRelationship::LegalGuardian => "legal_guardian",
            GuardianRelationship::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<GuardianRelationship> {
        GuardianRelationship::ALL
            .into_iter()
            .find(|relationship| relationship.as_str() == text)
    }
}

/// The parent or legal guardian who answers for a patient under 18 and consents for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardian {
    pub name: PersonName,
    pub relationship: GuardianRelationship,
    pub phone: Phone,
}

/// Someone to call in an emergency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyContact {
    pub name: PersonName,
    pub phone: Phone,
}

/// The answers, checked. Every form recorded now has a reason for the visit, an answer about
/// allergies, the last dental visit and an emergency contact; forms recorded before those were
/// required may lack them, so they stay optional here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeAnswers {
    pub reason_for_visit: Option<String>,
    /// `Some` (with the allergies) when the patient has any.
    pub allergies: Option<String>,
    pub medications: Option<String>,
    /// Sorted, each once.
    pub conditions: Vec<MedicalCondition>,
    pub last_dental_visit: Option<LastDentalVisit>,
    /// For a minor, `None` means their guardian is the one to call.
    pub emergency_contact: Option<EmergencyContact>,
    /// Always there for a patient who was under 18 when the form was recorded.
    pub guardian: Option<Guardian>,
    pub language: Language,
}

/// A guardian as they arrive, before checking: all empty when none was given.
pub struct RawGuardian<'a> {
    pub full_name: &'a str,
    /// `Err` for a value that is not a known answer.
    pub relationship: Result<Option<GuardianRelationship>, ()>,
    pub phone: &'a str,
}

impl Default for RawGuardian<'_> {
    /// No guardian given.
    fn default() -> Self {
        RawGuardian {
            full_name: "",
            relationship: Ok(None),
            phone: "",
        }
    }
}

/// The raw answers as they arrive, before checking.
pub struct RawIntake<'a> {
    pub reason_for_visit: &'a str,
    /// `None` when the question was not answered.
    pub has_allergies: Option<bool>,
    pub allergies: &'a str,
    pub medications: &'a str,
    pub conditions: Vec<Option<MedicalCondition>>,
    /// `Err` for a value that is not a known answer.
    pub last_dental_visit: Result<Option<LastDentalVisit>, ()>,
    pub emergency_contact_name: &'a str,
    pub emergency_contact_phone: &'a str,
    pub consent_to_assessment: bool,
    pub language: &'a str,
    pub guardian: RawGuardian<'a>,
}

impl IntakeAnswers {
    /// Checks every answer of a patient of `age`, naming each missing or bad field under
    /// `prefix` (e.g. `form.`).
    ///
    /// A dental first visit needs: why the patient comes, whether they have allergies (and which
    /// when they do), when they last saw a dentist, someone to call in an emergency (name and
    /// phone), and consent. Medicines and conditions may be left empty (none). For a minor a
    /// parent or guardian answers and consents: they must be named, with how they are related
    /// and their phone, and they stand as the emergency contact when none is given.
    pub fn parse(
        raw: &RawIntake<'_>,
        age: Age,
        prefix: &str,
        violations: &mut FieldViolations,
    ) -> Option<IntakeAnswers> {
        let field = |name: &str| format!("{prefix}{name}");
        let reason_for_visit = violations.check(
            &field("reason_for_visit"),
            required_text(raw.reason_for_visit, MAX_ANSWER_CHARS),
        );
        let allergies_text = violations.check(
            &field("allergies"),
            optional_text(raw.allergies, MAX_ANSWER_CHARS),
        );
        let allergies = match (raw.has_allergies, allergies_text) {
            (None, _) => {
                violations.add(field("has_allergies"), "is required: yes or no");
                None
            }
            (Some(true), Some(Some(text))) => Some(Some(text)),
            (Some(true), Some(None)) => {
                violations.add(field("allergies"), "is required when has_allergies is true");
                None
            }
            (Some(false), Some(Some(_))) => {
                violations.add(
                    field("allergies"),
                    "must be empty when has_allergies is false",
                );
                None
            }
            (Some(false), Some(None)) => Some(None),
            (Some(_), None) => None,
        };
        let medications = violations.check(
            &field("medications"),
            optional_text(raw.medications, MAX_ANSWER_CHARS),
        );
        let mut conditions = Vec::new();
        for condition in &raw.conditions {
            match condition {
                Some(condition) if conditions.contains(condition) => {
                    violations.add(field("conditions"), "names a condition twice");
                }
                Some(condition) => conditions.push(*condition),
                None => violations.add(field("conditions"), "has a value that is not a condition"),
            }
        }
        conditions.sort();
        let last_dental_visit = match raw.last_dental_visit {
            Ok(Some(visit)) => Some(visit),
            Ok(None) => {
                violations.add(field("last_dental_visit"), "is required");
                None
            }
            Err(()) => {
                violations.add(field("last_dental_visit"), "is not a known answer");
                None
            }
        };
        let guardian = parse_guardian(&raw.guardian, age, &field("guardian."), violations);
        let contact_given = !raw.emergency_contact_name.trim().is_empty()
            || !raw.emergency_contact_phone.trim().is_empty();
        let emergency_contact = if age == Age::Minor && !contact_given {
            Some(None)
        } else {
            let name = violations.check(
                &field("emergency_contact_name"),
                PersonName::parse(raw.emergency_contact_name),
            );
            let phone = violations.check(
                &field("emergency_contact_phone"),
                Phone::parse(raw.emergency_contact_phone),
            );
            match (name, phone) {
                (Some(name), Some(phone)) => Some(Some(EmergencyContact { name, phone })),
                _ => None,
            }
        };
        violations.require(
            raw.consent_to_assessment,
            &field("consent_to_assessment"),
            "must be true: the patient confirms the answers",
        );
        let language = violations.check(&field("language"), Language::parse(raw.language));
        Some(IntakeAnswers {
            reason_for_visit: Some(reason_for_visit?),
            allergies: allergies?,
            medications: medications?,
            conditions,
            last_dental_visit: Some(last_dental_visit?),
            emergency_contact: emergency_contact?,
            guardian: guardian?,
            language: language?,
        })
    }

    /// A digest of the answers, to tell a retry from a different submission under one key.
    pub fn fingerprint(&self, patient_id: PatientId) -> String {
        let conditions: Vec<&str> = self.conditions.iter().map(|c| c.as_str()).collect();
        let contact = self.emergency_contact.as_ref();
        let guardian = self.guardian.as_ref();
        request_fingerprint(&[
            &patient_id.to_string(),
            self.reason_for_visit.as_deref().unwrap_or(""),
            self.allergies.as_deref().unwrap_or("\u{0}none"),
            self.medications.as_deref().unwrap_or(""),
            &conditions.join(","),
            self.last_dental_visit.map_or("", LastDentalVisit::as_str),
            contact.map_or("", |c| c.name.as_str()),
            contact.map_or("", |c| c.phone.as_str()),
            self.language.tag(),
            guardian.map_or("", |g| g.name.as_str()),
            guardian.map_or("", |g| g.relationship.as_str()),
            guardian.map_or("", |g| g.phone.as_str()),
        ])
    }
}

/// The guardian, checked: required for a minor, and complete whenever one is given (`fields`
/// is the prefix of its fields, e.g. `form.guardian.`). `Some(None)` when there is none.
fn parse_guardian(
    raw: &RawGuardian<'_>,
    age: Age,
    fields: &str,
    violations: &mut FieldViolations,
) -> Option<Option<Guardian>> {
    let given = !raw.full_name.trim().is_empty()
        || !matches!(raw.relationship, Ok(None))
        || !raw.phone.trim().is_empty();
    if !given && age == Age::Adult {
        return Some(None);
    }
    let required = match age {
        Age::Minor => "is required for a patient under 18",
        Age::Adult => "is required for a guardian",
    };
    let field = |name: &str| format!("{fields}{name}");
    let name = match PersonName::parse(raw.full_name) {
        _ if raw.full_name.trim().is_empty() => {
            violations.add(field("full_name"), required);
            None
        }
        parsed => violations.check(&field("full_name"), parsed),
    };
    let relationship = match raw.relationship {
        Ok(Some(relationship)) => Some(relationship),
        Ok(None) => {
            violations.add(field("relationship"), required);
            None
        }
        Err(()) => {
            violations.add(field("relationship"), "is not a known answer");
            None
        }
    };
    let phone = match Phone::parse(raw.phone) {
        _ if raw.phone.trim().is_empty() => {
            violations.add(field("phone"), required);
            None
        }
        parsed => violations.check(&field("phone"), parsed),
    };
    Some(Some(Guardian {
        name: name?,
        relationship: relationship?,
        phone: phone?,
    }))
}

/// A submission to record.
#[derive(Debug, Clone)]
pub struct NewIntakeForm {
    pub patient_id: PatientId,
    pub answers: IntakeAnswers,
    pub request_id: RequestId,
}

/// A recorded intake form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeForm {
    pub patient_id: PatientId,
    pub answers: IntakeAnswers,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawIntake<'static> {
        RawIntake {
            reason_for_visit: "  Dolor de muela ",
            has_allergies: Some(true),
            allergies: "Penicilina",
            medications: "",
            conditions: vec![
                Some(MedicalCondition::Asthma),
                Some(MedicalCondition::Diabetes),
            ],
            last_dental_visit: Ok(Some(LastDentalVisit::OverAYear)),
            emergency_contact_name: "Luis García",
            emergency_contact_phone: "+52 55 1111 2222",
            consent_to_assessment: true,
            language: "es",
            guardian: RawGuardian::default(),
        }
    }

    fn mother() -> RawGuardian<'static> {
        RawGuardian {
            full_name: " Rosa Pérez ",
            relationship: Ok(Some(GuardianRelationship::Mother)),
            phone: "+52 55 3333 4444",
        }
    }

    #[test]
    fn a_complete_form_is_trimmed_and_sorted() {
        let mut violations = FieldViolations::new();
        let answers =
            IntakeAnswers::parse(&raw(), Age::Adult, "form.", &mut violations).expect("valid");
        assert!(violations.is_empty(), "{violations}");
        assert_eq!(answers.reason_for_visit.as_deref(), Some("Dolor de muela"));
        assert_eq!(
            answers.conditions,
            [MedicalCondition::Diabetes, MedicalCondition::Asthma]
        );
        assert_eq!(
            answers.emergency_contact.expect("given").phone.as_str(),
            "+525511112222"
        );
    }

    #[test]
    fn every_bad_answer_is_named() {
        let mut bad = raw();
        bad.allergies = " ";
        bad.conditions.push(Some(MedicalCondition::Asthma));
        bad.conditions.push(None);
        bad.last_dental_visit = Err(());
        bad.emergency_contact_phone = "";
        bad.consent_to_assessment = false;
        bad.language = "fr";
        let mut violations = FieldViolations::new();
        assert!(IntakeAnswers::parse(&bad, Age::Adult, "form.", &mut violations).is_none());
        let text = violations.to_string();
        for field in [
            "form.allergies",
            "form.conditions",
            "form.last_dental_visit",
            "form.emergency_contact_phone",
            "form.consent_to_assessment",
            "form.language",
        ] {
            assert!(text.contains(field), "{field} missing from {text}");
        }
    }

    #[test]
    fn an_empty_form_is_refused_naming_each_answer_it_needs() {
        let empty = RawIntake {
            reason_for_visit: " ",
            has_allergies: None,
            allergies: "",
            medications: "",
            conditions: Vec::new(),
            last_dental_visit: Ok(None),
            emergency_contact_name: "",
            emergency_contact_phone: "",
            consent_to_assessment: false,
            language: "",
            guardian: RawGuardian::default(),
        };
        let mut violations = FieldViolations::new();
        assert!(IntakeAnswers::parse(&empty, Age::Adult, "form.", &mut violations).is_none());
        let mut fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "form.consent_to_assessment",
                "form.emergency_contact_name",
                "form.emergency_contact_phone",
                "form.has_allergies",
                "form.last_dental_visit",
                "form.reason_for_visit",
            ]
        );
    }

    #[test]
    fn no_allergies_and_no_medicines_or_conditions_is_a_complete_answer() {
        let mut none = raw();
        none.has_allergies = Some(false);
        none.allergies = "";
        none.conditions.clear();
        let mut violations = FieldViolations::new();
        let answers = IntakeAnswers::parse(&none, Age::Adult, "", &mut violations).expect("valid");
        assert_eq!((answers.allergies, answers.medications), (None, None));
        assert!(answers.conditions.is_empty());
    }

    #[test]
    fn a_minors_form_needs_a_parent_or_guardian() {
        let mut violations = FieldViolations::new();
        assert!(IntakeAnswers::parse(&raw(), Age::Minor, "form.", &mut violations).is_none());
        let mut fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "form.guardian.full_name",
                "form.guardian.phone",
                "form.guardian.relationship",
            ]
        );
        assert!(
            violations
                .to_string()
                .contains("is required for a patient under 18")
        );
    }

    #[test]
    fn a_minors_guardian_stands_as_the_emergency_contact() {
        let mut minor = raw();
        minor.guardian = mother();
        minor.emergency_contact_name = "";
        minor.emergency_contact_phone = "";
        let mut violations = FieldViolations::new();

        let answers =
            IntakeAnswers::parse(&minor, Age::Minor, "form.", &mut violations).expect("valid");

        assert!(violations.is_empty(), "{violations}");
        assert_eq!(answers.emergency_contact, None);
        let guardian = answers.guardian.expect("the guardian");
        assert_eq!(guardian.name.as_str(), "Rosa Pérez");
        assert_eq!(guardian.relationship, GuardianRelationship::Mother);
        assert_eq!(guardian.phone.as_str(), "+525533334444");
        // An adult still needs someone to call.
        let mut adult = minor;
        let mut violations = FieldViolations::new();
        adult.guardian = RawGuardian::default();
        assert!(IntakeAnswers::parse(&adult, Age::Adult, "form.", &mut violations).is_none());
        assert!(
            violations
                .to_string()
                .contains("form.emergency_contact_name")
        );
    }

    #[test]
    fn a_guardian_given_must_be_complete_at_any_age() {
        let mut adult = raw();
        adult.guardian = RawGuardian {
            relationship: Err(()),
            phone: "5512345678",
            ..mother()
        };
        let mut violations = FieldViolations::new();
        assert!(IntakeAnswers::parse(&adult, Age::Adult, "form.", &mut violations).is_none());
        let mut fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["form.guardian.phone", "form.guardian.relationship"]
        );
    }

    #[test]
    fn a_retry_has_the_same_fingerprint_and_a_change_does_not() {
        let patient_id = PatientId::new();
        let mut violations = FieldViolations::new();
        let answers = IntakeAnswers::parse(&raw(), Age::Adult, "", &mut violations).expect("valid");
        let mut other = answers.clone();
        other.medications = Some("Metformina".into());
        assert_eq!(
            answers.fingerprint(patient_id),
            answers.fingerprint(patient_id)
        );
        assert_ne!(
            answers.fingerprint(patient_id),
            other.fingerprint(patient_id)
        );
    }
}
