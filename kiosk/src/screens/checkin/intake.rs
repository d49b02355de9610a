//! The first-visit form on the check-in kiosk: the questions a dentist reads before seeing a new
//! patient, the check made before sending, and the request the answers become.

use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as patients;
use eframe::egui;
use egui::vec2;

use super::Visit;
use crate::i18n::{Lang, T};
use crate::widgets;

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

/// The form's state while the patient fills it in.
#[derive(Debug, Default)]
pub(super) struct IntakePanel {
    answers: IntakeAnswers,
}

impl IntakePanel {
    /// Why the form cannot be sent as it stands, if it cannot.
    pub(super) fn check(&self) -> Result<(), T> {
        let answers = &self.answers;
        if answers.has_allergies.is_none()
            || (answers.has_allergies == Some(true) && answers.allergies.trim().is_empty())
        {
            return Err(T::FillEverything);
        }
        if !answers.consent {
            return Err(T::ConsentNeeded);
        }
        Ok(())
    }

    /// The answers as the registry takes them, with the patient's evidence (the idempotency key
    /// is the caller's to set).
    pub(super) fn request(&self, visit: &Visit, lang: Lang) -> patients::SubmitIntakeFormRequest {
        let answers = &self.answers;
        patients::SubmitIntakeFormRequest {
            form: Some(patients::IntakeForm {
                patient_id: visit.patient_id.clone(),
                reason_for_visit: answers.reason.trim().to_owned(),
                has_allergies: answers.has_allergies == Some(true),
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
                ..Default::default()
            }),
            identity: Some(patients::IdentityEvidence {
                date_of_birth: Some(date_to_proto(visit.identity.date_of_birth)),
                phone_last_four: visit.identity.phone_last_four.clone(),
            }),
            request_id: String::new(),
        }
    }

    /// The first-visit form's questions, in the order a dentist reads them.
    pub(super) fn questions_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let answers = &mut self.answers;
        labelled_text(ui, T::ReasonForVisit.get(lang), &mut answers.reason, true);
        ui.add_space(10.0);
        allergies_ui(ui, lang, answers);
        ui.add_space(10.0);
        labelled_text(
            ui,
            T::Medications.get(lang),
            &mut answers.medications,
            false,
        );
        ui.add_space(10.0);
        conditions_ui(ui, lang, answers);
        ui.add_space(10.0);
        labelled_text(
            ui,
            T::EmergencyContact.get(lang),
            &mut answers.emergency_name,
            false,
        );
        labelled_text(
            ui,
            T::EmergencyPhone.get(lang),
            &mut answers.emergency_phone,
            false,
        );
        ui.add_space(10.0);
        let mark = if answers.consent { "☑" } else { "☐" };
        let consent = format!("{mark}  {}", T::ConsentTreatment.get(lang));
        // The whole line is the box: easy to hit with a finger.
        let response = ui.add(
            widgets::choice(answers.consent, consent)
                .wrap()
                .min_size(vec2(ui.available_width(), 64.0)),
        );
        if response.clicked() {
            answers.consent = !answers.consent;
        }
    }
}

/// A caption and a text field the caption names (so assistive tech and tests find it).
fn labelled_text(ui: &mut egui::Ui, caption: &str, text: &mut String, multiline: bool) {
    let label = ui.label(caption);
    let edit = if multiline {
        egui::TextEdit::multiline(text).desired_rows(2)
    } else {
        egui::TextEdit::singleline(text)
    };
    ui.add(edit.desired_width(f32::INFINITY))
        .labelled_by(label.id);
}

/// Allergies, yes or no; which ones when yes.
fn allergies_ui(ui: &mut egui::Ui, lang: Lang, answers: &mut IntakeAnswers) {
    ui.label(T::HasAllergies.get(lang));
    ui.horizontal(|ui| {
        for (value, text) in [(true, T::Yes), (false, T::No)] {
            let selected = answers.has_allergies == Some(value);
            if ui
                .add(widgets::choice(selected, text.get(lang)).min_size(vec2(140.0, 60.0)))
                .clicked()
            {
                answers.has_allergies = Some(value);
            }
        }
    });
    if answers.has_allergies == Some(true) {
        labelled_text(
            ui,
            T::WhichAllergies.get(lang),
            &mut answers.allergies,
            false,
        );
    }
}

/// The conditions that apply (any number), and when the last dental visit was (one).
fn conditions_ui(ui: &mut egui::Ui, lang: Lang, answers: &mut IntakeAnswers) {
    ui.label(T::Conditions.get(lang));
    ui.horizontal_wrapped(|ui| {
        for ((text, _), ticked) in CONDITIONS.iter().zip(answers.conditions.iter_mut()) {
            if ui
                .add(widgets::choice(*ticked, text.get(lang)).min_size(vec2(0.0, 56.0)))
                .clicked()
            {
                *ticked = !*ticked;
            }
            ui.add_space(16.0);
        }
    });
    ui.add_space(10.0);
    ui.label(T::LastDentalVisit.get(lang));
    ui.horizontal_wrapped(|ui| {
        for (text, visit) in LAST_VISITS {
            let selected = answers.last_visit == Some(visit);
            if ui
                .add(widgets::choice(selected, text.get(lang)).min_size(vec2(0.0, 56.0)))
                .clicked()
            {
                answers.last_visit = Some(visit);
            }
        }
    });
}
