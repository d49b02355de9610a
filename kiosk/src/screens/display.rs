//! The waiting-room screen: the live queue from scheduling's waiting-room watch — who is being
//! called now, who is next and about how long each waits — by ticket number and initials only.
//! It re-opens the watch by itself when the connection drops, and says so meanwhile.

use clinic_common::settings::ClinicSettings;
use clinic_proto::scheduling::v1 as scheduling;
use eframe::egui;
use egui::{Color32, RichText};
use tokio::sync::mpsc;

use crate::backend::{Backend, WatchEvent};
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// How many waiting tickets fit under "Next".
const NEXT_SHOWN: usize = 8;

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

        egui::Frame::new()
            .fill(Color32::from_rgb(10, 25, 47))
            .inner_margin(36)
            .show(ui, |ui| {
                ui.set_min_size(ui.available_size());
                self.header_ui(ui);
                ui.add_space(20.0);
                ui.columns(2, |columns| {
                    called_ui(&mut columns[0], lang, &called);
                    let nobody = waiting.is_empty() && called.is_empty() && self.received_any;
                    waiting_ui(&mut columns[1], lang, &waiting, nobody);
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

/// "Now calling": each called ticket, large, with its initials.
fn called_ui(ui: &mut egui::Ui, lang: Lang, called: &[&scheduling::WaitingRoomTicket]) {
    let white = Color32::WHITE;
    ui.label(
        RichText::new(T::NowCalling.get(lang))
            .size(44.0)
            .strong()
            .color(white),
    );
    ui.add_space(16.0);
    if called.is_empty() {
        ui.label(RichText::new("—").size(96.0).color(Color32::from_gray(120)));
    }
    for ticket in called {
        egui::Frame::new()
            .fill(widgets::ACCENT)
            .corner_radius(12)
            .inner_margin(20)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(&ticket.ticket_number)
                            .size(96.0)
                            .strong()
                            .color(white),
                    );
                    ui.add_space(24.0);
                    ui.label(RichText::new(&ticket.initials).size(56.0).color(white));
                });
            });
        ui.add_space(12.0);
    }
}

/// "Next in line": the first waiting tickets in order, with about how long each waits; that
/// nobody waits, once the watch has said so.
fn waiting_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    waiting: &[&scheduling::WaitingRoomTicket],
    nobody: bool,
) {
    let white = Color32::WHITE;
    ui.label(
        RichText::new(T::NextInLine.get(lang))
            .size(44.0)
            .strong()
            .color(white),
    );
    ui.add_space(16.0);
    if nobody {
        ui.label(
            RichText::new(T::NobodyWaiting.get(lang))
                .size(32.0)
                .color(Color32::from_gray(200)),
        );
    }
    egui::Grid::new("next")
        .spacing(egui::vec2(40.0, 14.0))
        .show(ui, |ui| {
            for ticket in waiting.iter().take(NEXT_SHOWN) {
                ui.label(
                    RichText::new(&ticket.ticket_number)
                        .size(52.0)
                        .strong()
                        .color(white),
                );
                ui.label(RichText::new(&ticket.initials).size(40.0).color(white));
                let wait = if ticket.estimated_wait_minutes > 0 {
                    fill(
                        T::AboutMinutes.get(lang),
                        &[("minutes", &ticket.estimated_wait_minutes.to_string())],
                    )
                } else {
                    String::new()
                };
                ui.label(
                    RichText::new(wait)
                        .size(36.0)
                        .color(Color32::from_rgb(180, 220, 255)),
                );
                ui.end_row();
            }
        });
}
