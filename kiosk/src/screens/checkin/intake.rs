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

use chrono::NaiveDate;
use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as patients;
use eframe::egui;
use egui::{RichText, vec2};

use super::{ACTIONS_HEIGHT, Visit};
use crate::backend::CallError;
use crate::format;
use crate::i18n::{Lang, T};
use crate::keyboard::{self, KeyPress, Letters, TextKind};
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

    fn open(&mut self, question: Written) {
        let text = self.answers.text(question);
        self.editing = Some(Editor {
            question,
            shifted: question.kind().capital_next(text),
            composing: String::new(),
        });
    }

    /// Back to the form, the answer kept.
    pub(super) fn close(&mut self) {
        self.editing = None;
    }

    /// A key of the on-screen keyboard, into the open answer.
    pub(super) fn press(&mut self, press: KeyPress) {
        let Some(editor) = &mut self.editing else {
            return;
        };
        let kind = editor.question.kind();
        let text = self.answers.text_mut(editor.question);
        match press {
            KeyPress::Shift => {
                editor.shifted = !editor.shifted;
                return;
            }
            KeyPress::Backspace => {
                text.pop();
            }
            KeyPress::Char(c) => push_char(text, kind, c),
        }
        editor.shifted = kind.capital_next(text);
    }

    /// Text from a physical keyboard or an input method, as typed (its own capitals).
    pub(super) fn type_text(&mut self, typed: &str) {
        let Some(editor) = &mut self.editing else {
            return;
        };
        let kind = editor.question.kind();
        let text = self.answers.text_mut(editor.question);
        for c in typed.chars() {
            push_char(text, kind, c);
        }
        editor.composing.clear();
        editor.shifted = kind.capital_next(text);
    }

    /// What an input method is composing, shown after the answer until it is committed.
    pub(super) fn compose(&mut self, composing: &str) {
        if let Some(editor) = &mut self.editing {
            editor.composing = composing.to_owned();
        }
    }

    /// The open answer, full screen: the question, the text so far, the keyboard, and Clear and
    /// Done at the bottom.
    pub(super) fn editor_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let Some(editor) = &self.editing else {
            return;
        };
        let question = editor.question;
        let kind = question.kind();
        let shifted = editor.shifted;
        let composing = editor.composing.clone();
        let text = self.answers.text(question).to_owned();
        let (pressed, finished) = widgets::with_bottom_bar(
            ui,
            ACTIONS_HEIGHT,
            |ui| {
                ui.add(
                    egui::Label::new(RichText::new(question.caption().get(lang)).heading()).wrap(),
                );
                ui.add_space(8.0);
                let keys_height = match kind {
                    TextKind::Phone => keyboard::phone_pad_height(),
                    TextKind::Prose | TextKind::Name => keyboard::letters_height(),
                };
                let spacing = ui.spacing().item_spacing.y;
                let room = ui.available_height() - keys_height - 3.0 * spacing;
                typed_ui(ui, &text, &composing, kind, room);
                ui.add_space(spacing);
                match kind {
                    TextKind::Phone => {
                        ui.horizontal(|ui| {
                            ui.add_space(
                                (ui.available_width() - keyboard::phone_pad_width()) / 2.0,
                            );
                            keyboard::phone_pad(ui)
                        })
                        .inner
                    }
                    TextKind::Prose | TextKind::Name => keyboard::letters_keyboard(
                        ui,
                        Letters::for_language(lang),
                        kind,
                        shifted,
                        T::Space.get(lang),
                    ),
                }
            },
            |ui| {
                let mut finished = None;
                ui.set_min_size(vec2(640.0, ACTIONS_HEIGHT));
                if widgets::plain_button(ui, T::Clear.get(lang), vec2(200.0, 80.0)).clicked() {
                    finished = Some(false);
                }
                if widgets::big_button(ui, T::TypingDone.get(lang), vec2(420.0, 80.0)).clicked() {
                    finished = Some(true);
                }
                finished
            },
        );
        if let Some(press) = pressed {
            self.press(press);
        }
        match finished {
            Some(true) => self.close(),
            Some(false) => {
                if let Some(editor) = &mut self.editing {
                    self.answers.text_mut(editor.question).clear();
                    editor.composing.clear();
                    editor.shifted = kind.capital_next("");
                }
            }
            None => {}
        }
    }

    /// The first-visit form's questions, in the order a dentist reads them, each with the
    /// refusal of its answer (if any) under it.
    pub(super) fn questions_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        self.settle_refusals();
        let mut form = Form {
            lang,
            refusals: &self.refusals,
            scroll_to: self
                .scroll_to_refusal
                .then(|| self.refusals.first().map(|refusal| refusal.question))
                .flatten(),
        };
        self.scroll_to_refusal = false;
        let minor = self.minor;
        let mut open = None;
        let answers = &mut self.answers;
        if minor {
            open = form.guardian_ui(ui, answers);
            ui.add_space(16.0);
        }
        if form.written_ui(ui, answers, Written::Reason) {
            open = Some(Written::Reason);
        }
        ui.add_space(10.0);
        if form.allergies_ui(ui, answers) {
            open = Some(Written::Allergies);
        }
        ui.add_space(10.0);
        if form.written_ui(ui, answers, Written::Medications) {
            open = Some(Written::Medications);
        }
        ui.add_space(10.0);
        form.conditions_ui(ui, answers);
        ui.add_space(10.0);
        form.last_visit_ui(ui, answers);
        ui.add_space(10.0);
        if minor {
            ui.add(
                egui::Label::new(RichText::new(T::EmergencyIfNotGuardian.get(lang)).italics())
                    .wrap(),
            );
        }
        for question in [Written::EmergencyName, Written::EmergencyPhone] {
            if form.written_ui(ui, answers, question) {
                open = Some(question);
            }
        }
        ui.add_space(10.0);
        form.refusal_ui(ui, Question::Consent, None);
        let mark = if answers.consent { "☑" } else { "☐" };
        // A minor's consent is their parent's or guardian's.
        let consent = if minor {
            T::ConsentGuardian
        } else {
            T::ConsentTreatment
        };
        let consent = format!("{mark}  {}", consent.get(lang));
        // The whole line is the box: easy to hit with a finger.
        let response = ui.add(
            widgets::choice(answers.consent, consent)
                .wrap()
                .stroke(form.stroke(Question::Consent, answers.consent))
                .min_size(vec2(ui.available_width(), 64.0)),
        );
        if response.clicked() {
            answers.consent = !answers.consent;
        }
        // The last answer clear of the edge, once scrolled to the end.
        ui.add_space(12.0);
        if let Some(question) = open {
            self.open(question);
        }
    }
}

/// Drawing the form's questions with their refusals.
struct Form<'a> {
    lang: Lang,
    refusals: &'a [Refusal],
    /// The question to bring into sight (the first refused), once.
    scroll_to: Option<Question>,
}

impl Form<'_> {
    fn refusal(&self, question: Question) -> Option<&Refusal> {
        self.refusals
            .iter()
            .find(|refusal| refusal.question == question)
    }

    /// The outline of a choice: red while refused, as wide as it would be otherwise (an
    /// outline's width is part of a button's size, and nothing may move when it turns red).
    fn stroke(&self, question: Question, selected: bool) -> egui::Stroke {
        let width = if selected { 3.0 } else { 1.5 };
        match self.refusal(question) {
            Some(Refusal { text: Some(_), .. }) => egui::Stroke::new(width, widgets::DANGER),
            _ if selected => egui::Stroke::new(width, widgets::ACCENT),
            _ => egui::Stroke::new(width, widgets::MUTED),
        }
    }

    /// The outline of a written answer's box: thick and red while refused.
    fn box_stroke(&self, question: Question) -> egui::Stroke {
        match self.refusal(question) {
            Some(Refusal { text: Some(_), .. }) => egui::Stroke::new(3.0, widgets::DANGER),
            // Whole pixels: the difference goes into the margin, which egui keeps in whole pixels.
            _ => egui::Stroke::new(2.0, widgets::MUTED),
        }
    }

    /// A question's caption, and under it the refusal of its answer (or the space one took).
    fn caption_ui(&mut self, ui: &mut egui::Ui, question: Question, caption: T) -> egui::Response {
        let label = ui.add(egui::Label::new(caption.get(self.lang)).wrap());
        self.refusal_ui(ui, question, Some(&label));
        label
    }

    /// The refusal of `question`'s answer, in red; brought into sight when it is the first,
    /// with the caption above it (`above`).
    fn refusal_ui(
        &mut self,
        ui: &mut egui::Ui,
        question: Question,
        above: Option<&egui::Response>,
    ) {
        let Some(refusal) = self.refusal(question) else {
            return;
        };
        let text = refusal.text.map(|text| text.get(self.lang)).unwrap_or(" ");
        let shown = ui.add(
            egui::Label::new(
                RichText::new(format!("⚠ {text}"))
                    .color(if refusal.text.is_some() {
                        widgets::DANGER
                    } else {
                        widgets::PAPER
                    })
                    .strong(),
            )
            .wrap(),
        );
        if self.scroll_to == Some(question) {
            let rect = above.map_or(shown.rect, |caption| caption.rect.union(shown.rect));
            ui.scroll_to_rect(rect, Some(egui::Align::TOP));
            self.scroll_to = None;
        }
    }

    /// A written answer on the form: its question, and a box with the answer (or an invitation
    /// to write it) that opens it full screen when tapped. True when tapped.
    fn written_ui(
        &mut self,
        ui: &mut egui::Ui,
        answers: &IntakeAnswers,
        question: Written,
    ) -> bool {
        let caption = self.caption_ui(ui, question.into(), question.caption());
        let stroke = self.box_stroke(question.into());
        answer_box_ui(ui, answers.text(question), self.lang, stroke)
            .labelled_by(caption.id)
            .clicked()
    }

    /// Allergies, yes or no; which ones when yes. True when the patient tapped "which ones".
    fn allergies_ui(&mut self, ui: &mut egui::Ui, answers: &mut IntakeAnswers) -> bool {
        let lang = self.lang;
        self.caption_ui(ui, Question::HasAllergies, T::HasAllergies);
        ui.horizontal(|ui| {
            for (value, text) in [(true, T::Yes), (false, T::No)] {
                let selected = answers.has_allergies == Some(value);
                let button = widgets::choice(selected, text.get(lang))
                    .stroke(self.stroke(Question::HasAllergies, selected))
                    .min_size(vec2(140.0, 60.0));
                if ui.add(button).clicked() {
                    answers.has_allergies = Some(value);
                }
            }
        });
        answers.has_allergies == Some(true) && self.written_ui(ui, answers, Written::Allergies)
    }

    /// The parent or guardian who answers for a minor, in a frame of its own at the top: who
    /// they are, how they are related, their phone. The written answer tapped, if any.
    fn guardian_ui(&mut self, ui: &mut egui::Ui, answers: &mut IntakeAnswers) -> Option<Written> {
        let lang = self.lang;
        let mut open = None;
        egui::Frame::new()
            .stroke(egui::Stroke::new(2.0, widgets::ACCENT))
            .inner_margin(16)
            .corner_radius(8)
            .show(ui, |ui| {
                ui.add(
                    egui::Label::new(
                        RichText::new(T::GuardianSection.get(lang))
                            .heading()
                            .color(widgets::ACCENT),
                    )
                    .wrap(),
                );
                ui.add(egui::Label::new(T::GuardianNote.get(lang)).wrap());
                ui.add_space(8.0);
                if self.written_ui(ui, answers, Written::GuardianName) {
                    open = Some(Written::GuardianName);
                }
                ui.add_space(10.0);
                self.caption_ui(ui, Question::GuardianRelationship, T::GuardianRelationship);
                ui.horizontal_wrapped(|ui| {
                    for (text, relationship) in RELATIONSHIPS {
                        let selected = answers.guardian_relationship == Some(relationship);
                        let button = widgets::choice(selected, text.get(lang))
                            .stroke(self.stroke(Question::GuardianRelationship, selected))
                            .min_size(vec2(180.0, 60.0));
                        if ui.add(button).clicked() {
                            answers.guardian_relationship = Some(relationship);
                        }
                    }
                });
                ui.add_space(10.0);
                if self.written_ui(ui, answers, Written::GuardianPhone) {
                    open = Some(Written::GuardianPhone);
                }
            });
        open
    }

    /// The conditions that apply (any number).
    fn conditions_ui(&mut self, ui: &mut egui::Ui, answers: &mut IntakeAnswers) {
        let lang = self.lang;
        ui.label(T::Conditions.get(lang));
        ui.horizontal_wrapped(|ui| {
            // Spacing, not space added after each: a row's last choice must not reach past the
            // edge (that would widen everything below it).
            ui.spacing_mut().item_spacing.x = 24.0;
            for ((text, _), ticked) in CONDITIONS.iter().zip(answers.conditions.iter_mut()) {
                if ui
                    .add(widgets::choice(*ticked, text.get(lang)).min_size(vec2(0.0, 56.0)))
                    .clicked()
                {
                    *ticked = !*ticked;
                }
            }
        });
    }

    /// When the last dental visit was (one).
    fn last_visit_ui(&mut self, ui: &mut egui::Ui, answers: &mut IntakeAnswers) {
        let lang = self.lang;
        self.caption_ui(ui, Question::LastVisit, T::LastDentalVisit);
        ui.horizontal_wrapped(|ui| {
            for (text, visit) in LAST_VISITS {
                let selected = answers.last_visit == Some(visit);
                let button = widgets::choice(selected, text.get(lang))
                    .stroke(self.stroke(Question::LastVisit, selected))
                    .min_size(vec2(0.0, 56.0));
                if ui.add(button).clicked() {
                    answers.last_visit = Some(visit);
                }
            }
        });
    }
}

/// `c` at the end of `text` when it belongs there and there is room.
fn push_char(text: &mut String, kind: TextKind, c: char) {
    if kind.accepts(c) && text.chars().count() < kind.max_chars() {
        text.push(c);
    }
}

/// The size of typed text in the editor.
const TYPED_SIZE: f32 = 32.0;
/// The size of an answer on the form.
const ANSWER_SIZE: f32 = 28.0;

/// The text so far in a box as tall as `room` allows (one to three lines; a phone number or a
/// name needs one), the end of it in sight, with a caret after it; where an input method shows
/// its candidates.
fn typed_ui(ui: &mut egui::Ui, text: &str, composing: &str, kind: TextKind, room: f32) {
    let line = ui.fonts_mut(|fonts| fonts.row_height(&egui::FontId::proportional(TYPED_SIZE)));
    let margin = 12.0;
    let lines = match kind {
        TextKind::Prose => ((room - 2.0 * margin) / line).floor().clamp(1.0, 3.0),
        TextKind::Name | TextKind::Phone => 1.0,
    };
    let width = ui.available_width();
    egui::Frame::new()
        .fill(egui::Color32::from_rgb(214, 232, 255))
        .stroke(egui::Stroke::new(3.0, widgets::ACCENT))
        .inner_margin(margin)
        .corner_radius(6)
        .show(ui, |ui| {
            let inside = width - 2.0 * margin - 6.0;
            ui.set_width(inside);
            ui.set_height(lines * line);
            // The end of the answer in sight; a finger drags the rest into view.
            egui::ScrollArea::vertical()
                .stick_to_bottom(true)
                .scroll_source(egui::scroll_area::ScrollSource::ALL)
                .max_height(lines * line)
                .show(ui, |ui| {
                    ui.set_width(inside);
                    let mut job = egui::text::LayoutJob::default();
                    let font = egui::FontId::proportional(TYPED_SIZE);
                    job.append(
                        text,
                        0.0,
                        egui::TextFormat::simple(font.clone(), widgets::INK),
                    );
                    job.append(
                        composing,
                        0.0,
                        egui::TextFormat {
                            underline: egui::Stroke::new(2.0, widgets::ACCENT),
                            ..egui::TextFormat::simple(font, widgets::ACCENT)
                        },
                    );
                    job.wrap.max_width = inside - 8.0;
                    let galley = ui.fonts_mut(|fonts| fonts.layout_job(job));
                    let end = galley.pos_from_cursor(galley.end());
                    let response = ui.add(egui::Label::new(galley.clone()).selectable(false));
                    let caret = egui::Rect::from_min_size(
                        response.rect.min + end.min.to_vec2() + vec2(2.0, 0.0),
                        vec2(3.0, end.height().max(line * 0.8)),
                    );
                    ui.painter().rect_filled(caret, 0.0, widgets::ACCENT);
                    // An input method on a physical keyboard shows its candidates by the caret.
                    ui.ctx().output_mut(|output| {
                        output.ime = Some(egui::output::IMEOutput {
                            purpose: egui::IMEPurpose::Normal,
                            rect: response.rect,
                            cursor_rect: caret,
                            should_interrupt_composition: false,
                        });
                    });
                });
        });
}

/// A box showing `text` (or "tap to write"), the width of the form, tappable as a whole.
fn answer_box_ui(
    ui: &mut egui::Ui,
    text: &str,
    lang: Lang,
    stroke: egui::Stroke,
) -> egui::Response {
    let width = ui.available_width();
    // A thinner outline leaves more margin, so the box is the same size whatever its outline.
    let outline = 3.0;
    let margin = 12.0 + outline - stroke.width;
    let framed = egui::Frame::new()
        .fill(egui::Color32::from_gray(245))
        .stroke(stroke)
        .inner_margin(margin)
        .corner_radius(6)
        .show(ui, |ui| {
            ui.set_width(width - 2.0 * (12.0 + outline));
            ui.set_min_height(40.0);
            // The same size either way, so that a one-line answer moves nothing below it.
            let shown = if text.is_empty() {
                RichText::new(T::TapToWrite.get(lang))
                    .color(widgets::MUTED)
                    .italics()
            } else {
                RichText::new(text)
            };
            let shown = shown.size(ANSWER_SIZE);
            ui.add(egui::Label::new(shown).wrap().selectable(false));
        });
    let response = ui.interact(
        framed.response.rect,
        framed.response.id.with("tap"),
        egui::Sense::click(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Button, true, ""));
    response
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
