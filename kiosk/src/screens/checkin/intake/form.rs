//! The first-visit form's questions, drawn in the order a dentist reads them (a child's parent or
//! guardian first), each answer's refusal beside its question, written answers as boxes that open
//! full screen when tapped.

use eframe::egui;
use egui::{RichText, vec2};

use super::{
    CONDITIONS, IntakeAnswers, IntakePanel, LAST_VISITS, Question, RELATIONSHIPS, Refusal, Written,
};
use crate::i18n::{Lang, T};
use crate::widgets;

impl IntakePanel {
    /// The first-visit form's questions, in the order a dentist reads them, each with the
    /// refusal of its answer (if any) under it.
    pub(in crate::screens::checkin) fn questions_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
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

/// The size of an answer on the form.
const ANSWER_SIZE: f32 = 28.0;

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
