//! The waiting-room screen: the live queue from scheduling's waiting-room watch — who is being
//! called now and where to go (the chair or room, and the provider), who is next and about how
//! long each waits — by ticket number and initials only (scheduling masks names the same way in
//! every script: see `WaitingRoomTicket.initials`). It re-opens the watch by itself when the
//! connection drops, and says so meanwhile.
//!
//! The screen is laid out for the space it has, whatever its size: rows and cards share the
//! height between them and their type is sized to fit; what does not fit is counted ("and 3
//! more"), never cut off at the bottom edge.

use clinic_common::settings::ClinicSettings;
use clinic_proto::scheduling::v1 as scheduling;
use eframe::egui;
use egui::{Color32, RichText};
use tokio::sync::mpsc;

use crate::backend::{Backend, WatchEvent};
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// A row under "Next" is never shorter than this (its type stays readable across the room);
/// when more rows wait than fit, the last row counts the rest.
const MIN_ROW_HEIGHT: f32 = 52.0;
/// Rows grow no taller than this, so a short queue does not shout.
const MAX_ROW_HEIGHT: f32 = 100.0;
/// A called ticket's card is never shorter than this; more called tickets than fit are counted.
const MIN_CARD_HEIGHT: f32 = 150.0;
/// Nor taller than this.
const MAX_CARD_HEIGHT: f32 = 340.0;
/// The space between cards, and between rows.
const CARD_GAP: f32 = 12.0;
const ROW_GAP: f32 = 6.0;
/// The background, and the colour of the estimated waits.
const NIGHT: Color32 = Color32::from_rgb(10, 25, 47);
const SKY: Color32 = Color32::from_rgb(180, 220, 255);

pub struct Display {
    backend: Backend,
    clinic: ClinicSettings,
    lang: Lang,
    events: Option<mpsc::UnboundedReceiver<WatchEvent<scheduling::WatchWaitingRoomResponse>>>,
    tickets: Vec<scheduling::WaitingRoomTicket>,
    connected: bool,
    received_any: bool,
}

impl Display {
    pub fn new(backend: Backend, clinic: ClinicSettings, lang: Lang) -> Display {
        Display {
            backend,
            clinic,
            lang,
            events: None,
            tickets: Vec::new(),
            connected: false,
            received_any: false,
        }
    }

    /// Whether the watch is delivering (for tests and the status line).
    pub fn connected(&self) -> bool {
        self.connected
    }

    pub fn tickets(&self) -> &[scheduling::WaitingRoomTicket] {
        &self.tickets
    }

    fn drain(&mut self, ctx: &egui::Context) {
        let events = self.events.get_or_insert_with(|| {
            let client = self.backend.watch.clone();
            self.backend.watch(ctx, move || {
                let mut client = client.clone();
                Box::pin(async move {
                    client
                        .watch_waiting_room(scheduling::WatchWaitingRoomRequest {})
                        .await
                        .map(tonic::Response::into_inner)
                })
            })
        });
        while let Ok(event) = events.try_recv() {
            match event {
                WatchEvent::Message(message) => {
                    self.tickets = message.tickets;
                    self.connected = true;
                    self.received_any = true;
                }
                WatchEvent::Disconnected => self.connected = false,
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.drain(&ctx);
        let lang = self.lang;
        let called: Vec<_> = self
            .tickets
            .iter()
            .filter(|ticket| ticket.status == scheduling::QueueEntryStatus::Called as i32)
            .collect();
        let mut waiting: Vec<_> = self
            .tickets
            .iter()
            .filter(|ticket| ticket.status == scheduling::QueueEntryStatus::Waiting as i32)
            .collect();
        waiting.sort_by_key(|ticket| ticket.position);
        let nobody = waiting.is_empty() && called.is_empty() && self.received_any;

        egui::Frame::new()
            .fill(NIGHT)
            .inner_margin(32)
            .show(ui, |ui| {
                ui.set_min_size(ui.available_size());
                self.header_ui(ui);
                ui.add_space(16.0);
                let space = ui.available_rect_before_wrap();
                let gutter = 40.0;
                let split = space.left() + (space.width() - gutter) * 0.48;
                let left = egui::Rect::from_min_max(space.min, egui::pos2(split, space.bottom()));
                let right =
                    egui::Rect::from_min_max(egui::pos2(split + gutter, space.top()), space.max);
                ui.scope_builder(egui::UiBuilder::new().max_rect(left), |ui| {
                    called_ui(ui, lang, &called);
                });
                ui.scope_builder(egui::UiBuilder::new().max_rect(right), |ui| {
                    waiting_ui(ui, lang, &waiting, nobody);
                });
            });
    }

    /// The clinic's name, and "reconnecting" while the watch is down.
    fn header_ui(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(&self.clinic.name)
                    .size(30.0)
                    .color(Color32::from_gray(200)),
            );
            if !self.connected {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(
                        RichText::new(T::Reconnecting.get(self.lang))
                            .size(26.0)
                            .color(Color32::from_rgb(255, 200, 80)),
                    );
                    ui.spinner();
                });
            }
        });
    }
}

/// A column's heading ("Now calling", "Next").
fn title_ui(ui: &mut egui::Ui, text: &str) {
    ui.label(
        RichText::new(text)
            .size(44.0)
            .strong()
            .color(Color32::WHITE),
    );
    ui.add_space(12.0);
}

/// How many of `count` items of at least `min` (and at most `max`) high, `gap` apart, fit in
/// `height`, and how high each is: they share the height, and when not all fit, the last place
/// goes to a line counting the rest.
fn share(height: f32, gap: f32, count: usize, (min, max): (f32, f32)) -> (usize, f32) {
    let fitting = (((height + gap) / (min + gap)).floor() as usize).max(1);
    let places = count.clamp(1, fitting);
    let each = ((height + gap) / places as f32 - gap).clamp(min, max);
    // With room for one only, that one is shown rather than a count alone.
    let shown = if count > fitting && fitting > 1 {
        fitting - 1
    } else {
        places
    };
    (shown, each)
}

/// A line saying how many more tickets there are than the screen shows.
fn more_ui(ui: &mut egui::Ui, lang: Lang, hidden: usize, size: f32) {
    if hidden == 0 {
        return;
    }
    ui.label(
        RichText::new(fill(
            T::AndMore.get(lang),
            &[("count", &hidden.to_string())],
        ))
        .size(size)
        .color(Color32::from_gray(200)),
    );
}

/// Where a called ticket goes: the chair or room, and who receives the patient.
fn destination(ticket: &scheduling::WaitingRoomTicket) -> String {
    let parts: Vec<&str> = [&ticket.room_display_name, &ticket.provider_display_name]
        .into_iter()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect();
    parts.join(" · ")
}

/// "Now calling": each called ticket on a card with its initials and where to go, the cards
/// sharing the column's height.
fn called_ui(ui: &mut egui::Ui, lang: Lang, called: &[&scheduling::WaitingRoomTicket]) {
    let white = Color32::WHITE;
    title_ui(ui, T::NowCalling.get(lang));
    if called.is_empty() {
        ui.label(RichText::new("—").size(96.0).color(Color32::from_gray(120)));
        return;
    }
    // The gaps below are all there is between cards.
    ui.spacing_mut().item_spacing.y = 0.0;
    let (shown, card_height) = share(
        ui.available_height(),
        CARD_GAP,
        called.len(),
        (MIN_CARD_HEIGHT, MAX_CARD_HEIGHT),
    );
    let margin = 16.0;
    // The ticket's line takes two thirds of the card's inside, where to go the rest.
    let inside = card_height - 2.0 * margin - CARD_GAP;
    let number_size = (inside * 0.66 / 1.25).min(130.0);
    let place_size = (inside * 0.34 / 1.3).min(44.0);
    for ticket in called.iter().take(shown) {
        egui::Frame::new()
            .fill(widgets::ACCENT)
            .corner_radius(12)
            .inner_margin(margin)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.set_height(card_height - 2.0 * margin);
                ui.spacing_mut().item_spacing.y = CARD_GAP;
                let place = destination(ticket);
                // The lines in the middle of a card taller than they need.
                let mut lines = number_size * 1.25;
                if !place.is_empty() {
                    lines += CARD_GAP + place_size * 1.3;
                }
                ui.add_space(((card_height - 2.0 * margin - lines) / 2.0).max(0.0));
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(&ticket.ticket_number)
                            .size(number_size)
                            .strong()
                            .color(white),
                    );
                    ui.add_space(24.0);
                    ui.add(
                        egui::Label::new(
                            RichText::new(&ticket.initials)
                                .size(number_size * 0.5)
                                .color(white),
                        )
                        .truncate(),
                    );
                });
                if !place.is_empty() {
                    ui.add(
                        egui::Label::new(
                            RichText::new(fill(T::GoTo.get(lang), &[("place", &place)]))
                                .size(place_size)
                                .strong()
                                .color(white),
                        )
                        .truncate(),
                    );
                }
            });
        ui.add_space(CARD_GAP);
    }
    more_ui(ui, lang, called.len() - shown, place_size);
}

/// "Next in line": the waiting tickets in order, with about how long each waits, in rows that
/// share the column's height; that nobody waits, once the watch has said so.
fn waiting_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    waiting: &[&scheduling::WaitingRoomTicket],
    nobody: bool,
) {
    let white = Color32::WHITE;
    title_ui(ui, T::NextInLine.get(lang));
    if nobody {
        ui.label(
            RichText::new(T::NobodyWaiting.get(lang))
                .size(32.0)
                .color(Color32::from_gray(200)),
        );
    }
    if waiting.is_empty() {
        return;
    }
    // The gaps below are all there is between rows.
    ui.spacing_mut().item_spacing.y = 0.0;
    let (shown, row_height) = share(
        ui.available_height(),
        ROW_GAP,
        waiting.len(),
        (MIN_ROW_HEIGHT, MAX_ROW_HEIGHT),
    );
    let width = ui.available_width();
    // Columns: the ticket, the initials, the wait.
    let columns = [width * 0.32, width * 0.36, width * 0.32];
    let number_size = row_height * 0.62;
    for ticket in waiting.iter().take(shown) {
        // A wait of zero is "shortly", never a blank that reads as unknown.
        let wait = if ticket.estimated_wait_minutes > 0 {
            fill(
                T::AboutMinutes.get(lang),
                &[("minutes", &ticket.estimated_wait_minutes.to_string())],
            )
        } else {
            T::Shortly.get(lang).to_owned()
        };
        let cells = [
            RichText::new(&ticket.ticket_number)
                .size(number_size)
                .strong()
                .color(white),
            RichText::new(&ticket.initials)
                .size(number_size * 0.8)
                .color(white),
            RichText::new(wait).size(number_size * 0.7).color(SKY),
        ];
        ui.allocate_ui_with_layout(
            egui::vec2(width, row_height),
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| {
                ui.set_min_size(egui::vec2(width, row_height));
                ui.spacing_mut().item_spacing.x = 0.0;
                for (text, cell_width) in cells.into_iter().zip(columns) {
                    ui.allocate_ui_with_layout(
                        egui::vec2(cell_width, row_height),
                        egui::Layout::left_to_right(egui::Align::Center),
                        |ui| {
                            ui.set_min_width(cell_width);
                            ui.add(egui::Label::new(text).truncate());
                        },
                    );
                }
            },
        );
        ui.add_space(ROW_GAP);
    }
    more_ui(ui, lang, waiting.len() - shown, number_size * 0.8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_share_the_height_and_the_last_place_counts_those_that_do_not_fit() {
        let rows = (52.0, 84.0);
        // Three rows in 400 px: each as tall as allowed.
        assert_eq!(share(400.0, 6.0, 3, rows), (3, 84.0));
        // Eight rows in 500 px: they share it.
        assert_eq!(share(500.0, 6.0, 8, rows), (8, 57.25));
        // Twenty rows: eight fit, seven are shown and the eighth place counts the rest.
        let (shown, each) = share(500.0, 6.0, 20, rows);
        assert_eq!(shown, 7);
        assert!(8.0 * each + 7.0 * 6.0 <= 500.0);
        // Not even one fits: one is shown anyway, at the least height.
        assert_eq!(share(10.0, 6.0, 3, rows), (1, 52.0));
    }
}
