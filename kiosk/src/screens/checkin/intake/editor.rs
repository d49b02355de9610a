//! A written answer open full screen: the question as the heading, the text so far in large type
//! with a caret, and the on-screen keyboard in the patient's language (a phone pad for a phone
//! number); Clear and Done at the bottom. Keys, a physical keyboard and an input method all type
//! here.

use eframe::egui;
use egui::{RichText, vec2};

use super::{Editor, IntakePanel, Written};
use crate::i18n::{Lang, T};
use crate::keyboard::{self, KeyPress, Letters, TextKind};
use crate::screens::checkin::ACTIONS_HEIGHT;
use crate::widgets;

impl IntakePanel {
    /// Opens `question`'s answer full screen.
    pub(super) fn open(&mut self, question: Written) {
        let text = self.answers.text(question);
        self.editing = Some(Editor {
            question,
            shifted: question.kind().capital_next(text),
            composing: String::new(),
        });
    }

    /// Back to the form, the answer kept.
    pub(in crate::screens::checkin) fn close(&mut self) {
        self.editing = None;
    }

    /// A key of the on-screen keyboard, into the open answer.
    pub(in crate::screens::checkin) fn press(&mut self, press: KeyPress) {
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
    pub(in crate::screens::checkin) fn type_text(&mut self, typed: &str) {
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
    pub(in crate::screens::checkin) fn compose(&mut self, composing: &str) {
        if let Some(editor) = &mut self.editing {
            editor.composing = composing.to_owned();
        }
    }

    /// The open answer, full screen: the question, the text so far, the keyboard, and Clear and
    /// Done at the bottom.
    pub(in crate::screens::checkin) fn editor_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
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
}

/// `c` at the end of `text` when it belongs there and there is room.
fn push_char(text: &mut String, kind: TextKind, c: char) {
    if kind.accepts(c) && text.chars().count() < kind.max_chars() {
        text.push(c);
    }
}

/// The size of typed text in the editor.
const TYPED_SIZE: f32 = 32.0;

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
