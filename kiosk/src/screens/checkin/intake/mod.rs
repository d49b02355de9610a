//! The first-visit form on the check-in kiosk: the questions a dentist reads before seeing a new
//! patient, the check made before sending, and the request the answers become.
//!
//! A touch-only kiosk has no keyboard: tapping a written answer opens it full screen, with the
//! question as the heading, the text so far in large type and an on-screen keyboard in the
//! patient's language (a phone pad for a phone number) under it; "Done" goes back to the form
//! with the answer kept. Nothing moves under the finger while typing, and a physical keyboard or
//! an input method types into the same answer.
//!
//! A patient under 18 on the clinic's date (by the date of birth they gave to check in) is
//! answered for by a parent or guardian: the form opens with them (name, relationship, phone),
//! consent is theirs, and the emergency contact may be left to them.
//!
//! Here: the answers, the registry's rules checked before sending, refusals and the request;
//! [`editor`] draws an answer open full screen, [`form`] the questions.

use super::Visit;
use crate::backend::CallError;
use crate::format;
use crate::i18n::{Lang, T};
use crate::keyboard::TextKind;
use chrono::NaiveDate;
use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as patients;

mod editor;
mod form;

/// The first-visit form as the patient fills it in.
#[derive(Debug, Clone, Default)]
struct IntakeAnswers {
    reason: String,
    has_allergies: Option<bool>,
    allergies: String,
    medications: String,
    conditions: [bool; 6],
    last_visit: Option<patients::LastDentalVisit>,
    emergency_name: String,
    emergency_phone: String,
    consent: bool,
    guardian_name: String,
    guardian_relationship: Option<patients::GuardianRelationship>,
    guardian_phone: String,
}

/// The age from which a patient answers for themselves, as the registry reckons it.
const AGE_OF_MAJORITY: u32 = 18;

/// Whether a patient born on `date_of_birth` is under 18 on `today` (the clinic's date).
fn minor_on(date_of_birth: NaiveDate, today: NaiveDate) -> bool {
    today
        .years_since(date_of_birth)
        .is_none_or(|years| years < AGE_OF_MAJORITY)
}

const RELATIONSHIPS: [(T, patients::GuardianRelationship); 4] = [
    (T::Mother, patients::GuardianRelationship::Mother),
    (T::Father, patients::GuardianRelationship::Father),
    (
        T::LegalGuardian,
        patients::GuardianRelationship::LegalGuardian,
    ),
    (T::OtherRelation, patients::GuardianRelationship::Other),
];

/// A question answered in the patient's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Reason,
    Allergies,
    Medications,
    EmergencyName,
    EmergencyPhone,
    GuardianName,
    GuardianPhone,
}

impl Written {
    fn caption(self) -> T {
        match self {
            Written::GuardianName => T::GuardianName,
            Written::GuardianPhone => T::GuardianPhone,
            Written::Reason => T::ReasonForVisit,
            Written::Allergies => T::WhichAllergies,
            Written::Medications => T::Medications,
            Written::EmergencyName => T::EmergencyContact,
            Written::EmergencyPhone => T::EmergencyPhone,
        }
    }

    fn kind(self) -> TextKind {
        match self {
            Written::Reason | Written::Allergies | Written::Medications => TextKind::Prose,
            Written::EmergencyName | Written::GuardianName => TextKind::Name,
            Written::EmergencyPhone | Written::GuardianPhone => TextKind::Phone,
        }
    }
}

/// A question of the form, in the order the form asks them: the first refused is the one the
/// form scrolls to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Question {
    GuardianName,
    GuardianRelationship,
    GuardianPhone,
    Reason,
    HasAllergies,
    Allergies,
    Medications,
    LastVisit,
    EmergencyName,
    EmergencyPhone,
    Consent,
}

impl Question {
    /// The question a field of the registry's `IntakeForm` answers.
    fn of_field(field: &str) -> Option<Question> {
        let name = field.strip_prefix("form.").unwrap_or(field);
        Some(match name {
            "reason_for_visit" => Question::Reason,
            "has_allergies" => Question::HasAllergies,
            "allergies" => Question::Allergies,
            "medications" => Question::Medications,
            "last_dental_visit" => Question::LastVisit,
            "emergency_contact_name" => Question::EmergencyName,
            "emergency_contact_phone" => Question::EmergencyPhone,
            "consent_to_assessment" => Question::Consent,
            "guardian.full_name" => Question::GuardianName,
            "guardian.relationship" => Question::GuardianRelationship,
            "guardian.phone" => Question::GuardianPhone,
            _ => return None,
        })
    }

    /// What the patient is told beside the question when the registry refuses its answer.
    fn refused(self) -> T {
        match self {
            Question::EmergencyPhone => T::EmergencyPhoneInvalid,
            Question::GuardianPhone => T::PhoneInvalid,
            Question::Consent => T::ConsentNeeded,
            _ => T::CheckThisAnswer,
        }
    }
}

impl From<Written> for Question {
    fn from(written: Written) -> Question {
        match written {
            Written::Reason => Question::Reason,
            Written::Allergies => Question::Allergies,
            Written::Medications => Question::Medications,
            Written::EmergencyName => Question::EmergencyName,
            Written::EmergencyPhone => Question::EmergencyPhone,
            Written::GuardianName => Question::GuardianName,
            Written::GuardianPhone => Question::GuardianPhone,
        }
    }
}

impl IntakeAnswers {
    /// What is missing or wrong, by question, in the form's order; empty when it can be sent.
    /// The registry's own rules, checked before sending so that every refusal shows at once:
    /// for a `minor`, a parent or guardian, who stands as the emergency contact when none is
    /// given.
    fn problems(&self, minor: bool) -> Vec<(Question, T)> {
        let mut problems = Vec::new();
        let blank = |text: &str| text.trim().is_empty();
        if minor {
            if blank(&self.guardian_name) {
                problems.push((Question::GuardianName, T::AnswerNeeded));
            }
            if self.guardian_relationship.is_none() {
                problems.push((Question::GuardianRelationship, T::AnswerNeeded));
            }
            if blank(&self.guardian_phone) {
                problems.push((Question::GuardianPhone, T::AnswerNeeded));
            } else if !format::is_international_phone(&self.guardian_phone) {
                problems.push((Question::GuardianPhone, T::PhoneInvalid));
            }
        }
        if blank(&self.reason) {
            problems.push((Question::Reason, T::AnswerNeeded));
        }
        match self.has_allergies {
            None => problems.push((Question::HasAllergies, T::AnswerNeeded)),
            Some(true) if blank(&self.allergies) => {
                problems.push((Question::Allergies, T::WhichNeeded));
            }
            Some(_) => {}
        }
        if self.last_visit.is_none() {
            problems.push((Question::LastVisit, T::AnswerNeeded));
        }
        // A minor's emergency contact may be left empty (the guardian is called), not half given.
        let contact_needed =
            !minor || !blank(&self.emergency_name) || !blank(&self.emergency_phone);
        if contact_needed && blank(&self.emergency_name) {
            problems.push((Question::EmergencyName, T::AnswerNeeded));
        }
        if contact_needed && blank(&self.emergency_phone) {
            problems.push((Question::EmergencyPhone, T::AnswerNeeded));
        } else if contact_needed && !format::is_international_phone(&self.emergency_phone) {
            problems.push((Question::EmergencyPhone, T::EmergencyPhoneInvalid));
        }
        if !self.consent {
            problems.push((Question::Consent, T::ConsentNeeded));
        }
        problems
    }

    /// The answer to `question` as it stands, to notice when the patient changes it.
    fn answer(&self, question: Question) -> String {
        match question {
            Question::Reason => self.reason.clone(),
            Question::HasAllergies => format!("{:?}", self.has_allergies),
            Question::Allergies => self.allergies.clone(),
            Question::Medications => self.medications.clone(),
            Question::LastVisit => format!("{:?}", self.last_visit),
            Question::EmergencyName => self.emergency_name.clone(),
            Question::EmergencyPhone => self.emergency_phone.clone(),
            Question::Consent => self.consent.to_string(),
            Question::GuardianName => self.guardian_name.clone(),
            Question::GuardianRelationship => format!("{:?}", self.guardian_relationship),
            Question::GuardianPhone => self.guardian_phone.clone(),
        }
    }

    fn text(&self, question: Written) -> &str {
        match question {
            Written::Reason => &self.reason,
            Written::Allergies => &self.allergies,
            Written::Medications => &self.medications,
            Written::EmergencyName => &self.emergency_name,
            Written::EmergencyPhone => &self.emergency_phone,
            Written::GuardianName => &self.guardian_name,
            Written::GuardianPhone => &self.guardian_phone,
        }
    }

    fn text_mut(&mut self, question: Written) -> &mut String {
        match question {
            Written::Reason => &mut self.reason,
            Written::Allergies => &mut self.allergies,
            Written::Medications => &mut self.medications,
            Written::EmergencyName => &mut self.emergency_name,
            Written::EmergencyPhone => &mut self.emergency_phone,
            Written::GuardianName => &mut self.guardian_name,
            Written::GuardianPhone => &mut self.guardian_phone,
        }
    }
}

const CONDITIONS: [(T, patients::MedicalCondition); 6] = [
    (T::Diabetes, patients::MedicalCondition::Diabetes),
    (T::Hypertension, patients::MedicalCondition::Hypertension),
    (T::HeartDisease, patients::MedicalCondition::HeartDisease),
    (T::Asthma, patients::MedicalCondition::Asthma),
    (
        T::BleedingDisorder,
        patients::MedicalCondition::BleedingDisorder,
    ),
    (T::Pregnancy, patients::MedicalCondition::Pregnancy),
];

const LAST_VISITS: [(T, patients::LastDentalVisit); 4] = [
    (
        T::VisitUnder6Months,
        patients::LastDentalVisit::UnderSixMonths,
    ),
    (
        T::Visit6To12Months,
        patients::LastDentalVisit::SixToTwelveMonths,
    ),
    (T::VisitOver1Year, patients::LastDentalVisit::OverAYear),
    (T::VisitNever, patients::LastDentalVisit::Never),
];

/// A written answer open full screen.
#[derive(Debug, Clone)]
struct Editor {
    question: Written,
    /// Whether the next letter is a capital (the shift key, or the start of a sentence or name).
    shifted: bool,
    /// What an input method is composing, not yet part of the answer.
    composing: String,
}

/// A refusal beside a question, from the last time the patient tapped Send.
#[derive(Debug, Clone)]
struct Refusal {
    question: Question,
    /// What is wrong; `None` once the patient has changed the answer (the space stays until the
    /// next Send, so that nothing below moves under their finger).
    text: Option<T>,
    /// The answer as it was refused.
    refused: String,
}

/// The form's state while the patient fills it in.
#[derive(Debug, Default)]
pub(super) struct IntakePanel {
    answers: IntakeAnswers,
    editing: Option<Editor>,
    /// In the form's order.
    refusals: Vec<Refusal>,
    /// Scroll to the first refusal on the next frame.
    scroll_to_refusal: bool,
    /// Whether the patient is under 18 on the clinic's date: a parent or guardian answers.
    minor: bool,
}

impl IntakePanel {
    /// Whether the form can be sent as it stands; if not, each problem shows beside its
    /// question and the form scrolls to the first.
    pub(super) fn ready(&mut self) -> bool {
        let problems = self.answers.problems(self.minor);
        self.refuse(problems);
        self.refusals.is_empty()
    }

    /// Shows the registry's refusal of the answers beside the questions it names; false when it
    /// names none of them (the screen then says what went wrong in its own words).
    pub(super) fn refused_by_registry(&mut self, error: &CallError) -> bool {
        let CallError::Invalid(fields) = error else {
            return false;
        };
        let mut problems = Vec::new();
        for (field, _) in fields {
            if let Some(question) = Question::of_field(field) {
                problems.push((question, question.refused()));
            }
        }
        problems.sort_by_key(|(question, _)| *question);
        problems.dedup_by_key(|(question, _)| *question);
        self.refuse(problems);
        !self.refusals.is_empty()
    }

    fn refuse(&mut self, problems: Vec<(Question, T)>) {
        self.refusals = problems
            .into_iter()
            .map(|(question, text)| Refusal {
                question,
                text: Some(text),
                refused: self.answers.answer(question),
            })
            .collect();
        self.scroll_to_refusal = !self.refusals.is_empty();
    }

    /// A refusal whose answer the patient has since changed is taken back (its space is kept).
    fn settle_refusals(&mut self) {
        for refusal in &mut self.refusals {
            if refusal.text.is_some() && self.answers.answer(refusal.question) != refusal.refused {
                refusal.text = None;
            }
        }
    }

    /// The answers as the registry takes them, with the patient's evidence (the idempotency key
    /// is the caller's to set).
    pub(super) fn request(&self, visit: &Visit, lang: Lang) -> patients::SubmitIntakeFormRequest {
        let answers = &self.answers;
        patients::SubmitIntakeFormRequest {
            form: Some(patients::IntakeForm {
                patient_id: visit.patient_id.clone(),
                reason_for_visit: answers.reason.trim().to_owned(),
                has_allergies: answers.has_allergies,
                allergies: answers.allergies.trim().to_owned(),
                medications: answers.medications.trim().to_owned(),
                conditions: CONDITIONS
                    .iter()
                    .zip(answers.conditions)
                    .filter(|(_, ticked)| *ticked)
                    .map(|((_, condition), _)| *condition as i32)
                    .collect(),
                last_dental_visit: answers.last_visit.map_or(0, |visit| visit as i32),
                emergency_contact_name: answers.emergency_name.trim().to_owned(),
                emergency_contact_phone: answers.emergency_phone.trim().to_owned(),
                consent_to_assessment: true,
                language: lang.tag().into(),
                guardian: self.minor.then(|| patients::Guardian {
                    full_name: answers.guardian_name.trim().to_owned(),
                    relationship: answers.guardian_relationship.map_or(0, |r| r as i32),
                    phone: answers.guardian_phone.trim().to_owned(),
                }),
                ..Default::default()
            }),
            identity: Some(patients::IdentityEvidence {
                date_of_birth: Some(date_to_proto(visit.identity.date_of_birth)),
                phone_last_four: visit.identity.phone_last_four.clone(),
            }),
            request_id: String::new(),
        }
    }

    /// Learns who the form is for: a patient born on `date_of_birth`, on the clinic's `today`.
    pub(super) fn for_patient(&mut self, date_of_birth: NaiveDate, today: NaiveDate) {
        self.minor = minor_on(date_of_birth, today);
    }

    /// Whether a written answer is open full screen (typing goes there).
    pub(super) fn editing(&self) -> bool {
        self.editing.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_form_has_a_problem_for_each_answer_the_registry_needs() {
        let mut panel = IntakePanel::default();

        assert!(!panel.ready());

        let refused: Vec<(Question, Option<T>)> = panel
            .refusals
            .iter()
            .map(|refusal| (refusal.question, refusal.text))
            .collect();
        assert_eq!(
            refused,
            [
                (Question::Reason, Some(T::AnswerNeeded)),
                (Question::HasAllergies, Some(T::AnswerNeeded)),
                (Question::LastVisit, Some(T::AnswerNeeded)),
                (Question::EmergencyName, Some(T::AnswerNeeded)),
                (Question::EmergencyPhone, Some(T::AnswerNeeded)),
                (Question::Consent, Some(T::ConsentNeeded)),
            ]
        );
        assert!(panel.scroll_to_refusal);
    }

    #[test]
    fn a_child_is_answered_for_by_a_guardian_who_may_stand_as_the_emergency_contact() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid");
        let mut panel = IntakePanel::default();
        panel.for_patient(date(2008, 12, 8), date(2026, 12, 7));
        assert!(panel.minor);

        assert!(!panel.ready());
        let refused: Vec<Question> = panel.refusals.iter().map(|r| r.question).collect();
        assert_eq!(
            refused[..3],
            [
                Question::GuardianName,
                Question::GuardianRelationship,
                Question::GuardianPhone
            ]
        );
        assert!(!refused.contains(&Question::EmergencyName));

        // Of age on their birthday.
        panel.for_patient(date(2008, 12, 8), date(2026, 12, 8));
        assert!(!panel.minor);
    }

    #[test]
    fn a_changed_answer_takes_its_refusal_back_and_keeps_its_place() {
        let mut panel = IntakePanel::default();
        panel.answers.emergency_phone = "55 1234 5678".into();
        assert!(!panel.ready());

        panel.answers.emergency_phone = "+52 55 1234 5678".into();
        panel.settle_refusals();

        let phone = panel
            .refusals
            .iter()
            .find(|refusal| refusal.question == Question::EmergencyPhone)
            .expect("its place is kept");
        assert_eq!(phone.text, None);
    }

    #[test]
    fn the_registrys_refusals_show_beside_the_questions_they_name() {
        let mut panel = IntakePanel::default();
        let error = CallError::Invalid(vec![
            ("form.emergency_contact_phone".into(), "must be + …".into()),
            ("form.reason_for_visit".into(), "must be at most 500".into()),
            (
                "identity.phone_last_four".into(),
                "must be four digits".into(),
            ),
        ]);

        assert!(panel.refused_by_registry(&error));

        let refused: Vec<(Question, Option<T>)> = panel
            .refusals
            .iter()
            .map(|refusal| (refusal.question, refusal.text))
            .collect();
        assert_eq!(
            refused,
            [
                (Question::Reason, Some(T::CheckThisAnswer)),
                (Question::EmergencyPhone, Some(T::EmergencyPhoneInvalid)),
            ]
        );
        assert!(!panel.refused_by_registry(&CallError::Unreachable));
    }
}
