//! The worklist: the accounts that may be contacted now, riskiest first, with what a collector
//! weighs before calling (balance, days past due, last contact, promise, broken promises, missed
//! instalments, risk, the channels allowed now, who has it); each row opens its account.

use clinic_proto::collections::v1 as collections;
use eframe::egui;
use egui::RichText;

use super::View;
use super::act::Action;
use super::labels::{channels_text, promise_status_text};
use crate::backend::Pending;
use crate::i18n::{Lang, T};
use crate::widgets;

pub(super) struct WorklistPanel {
    /// Only the accounts assigned to this desk's collector.
    pub(super) mine_only: bool,
    items: Vec<collections::WorklistItem>,
    loaded: bool,
    pub(super) loading: Option<Pending<Vec<collections::WorklistItem>>>,
    /// Set when the worklist may have changed: it is loaded again once the last load is done.
    pub(super) reload: bool,
    /// The account being opened from the list.
    pub(super) opening: Option<Pending<collections::AccountOverview>>,
}

impl WorklistPanel {
    pub(super) fn new(mine_only: bool) -> WorklistPanel {
        WorklistPanel {
            mine_only,
            items: Vec::new(),
            loaded: false,
            loading: None,
            reload: true,
            opening: None,
        }
    }

    /// Takes finished calls' results; asks for the list when it must load.
    pub(super) fn poll(&mut self, lang: Lang) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(result) = self.loading.as_mut().and_then(Pending::take) {
            self.loading = None;
            match result {
                Ok(items) => {
                    self.items = items;
                    self.loaded = true;
                }
                Err(error) => actions.push(Action::Tell(Err(error.staff_message(lang)))),
            }
        }
        if self.reload && self.loading.is_none() {
            self.reload = false;
            actions.push(Action::LoadWorklist);
        }
        if let Some(result) = self.opening.as_mut().and_then(Pending::take) {
            self.opening = None;
            actions.push(match result {
                Ok(overview) => Action::ShowAccount(Box::new(overview)),
                Err(error) => Action::Tell(Err(error.staff_message(lang))),
            });
        }
        actions
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &View, collector: &str) -> Option<Action> {
        self.header_ui(ui, view.lang, collector);
        ui.add_space(4.0);
        if self.loaded && self.items.is_empty() {
            ui.label(T::WorklistEmpty.get(view.lang));
            return None;
        }
        self.table_ui(ui, view)
    }

    /// The heading, "only mine" (when the desk knows its collector), Refresh.
    fn header_ui(&mut self, ui: &mut egui::Ui, lang: Lang, collector: &str) {
        ui.horizontal(|ui| {
            ui.heading(T::Worklist.get(lang));
            if !collector.is_empty()
                && ui
                    .checkbox(&mut self.mine_only, T::MineOnly.get(lang))
                    .changed()
            {
                self.reload = true;
            }
            if self.loading.is_some() {
                ui.spinner();
            } else if ui.button(T::Refresh.get(lang)).clicked() {
                self.reload = true;
            }
            if self.opening.is_some() {
                widgets::working(ui, T::Working.get(lang));
            }
        });
    }

    /// One row per account, its Open button first; the account asked for.
    fn table_ui(&self, ui: &mut egui::Ui, view: &View) -> Option<Action> {
        let lang = view.lang;
        let mut open = None;
        // Long headings and channel lists wrap, so the row fits a 1280-pixel desk; a narrower
        // window scrolls sideways rather than cutting columns off.
        egui::ScrollArea::horizontal().show(ui, |ui| {
            egui::Grid::new("worklist")
                .striped(true)
                .spacing([14.0, 6.0])
                .show(ui, |ui| {
                    ui.label("");
                    for header in [
                        T::Patient,
                        T::Balance,
                        T::DaysPastDue,
                        T::LastContact,
                        T::PromiseLabel,
                        T::BrokenPromises,
                        T::MissedInstalments,
                        T::Risk,
                        T::ChannelsNow,
                        T::AssignedTo,
                    ] {
                        wrapped(ui, RichText::new(header.get(lang)).strong(), HEADING_WIDTH);
                    }
                    ui.end_row();
                    for item in &self.items {
                        // First, so that it stays on screen however wide the row.
                        if ui
                            .add_enabled(
                                self.opening.is_none(),
                                egui::Button::new(T::OpenAccount.get(lang)),
                            )
                            .clicked()
                        {
                            open = Some(Action::OpenAccount(item.patient_id.clone()));
                        }
                        row_ui(ui, view, item);
                        ui.end_row();
                    }
                });
        });
        open
    }
}

/// How wide a heading may be before it wraps, and a list of channels.
const HEADING_WIDTH: f32 = 110.0;
const CHANNELS_WIDTH: f32 = 170.0;

/// `text` in a cell at most `width` wide, wrapping onto more lines.
fn wrapped(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>, width: f32) {
    ui.vertical(|ui| {
        ui.set_max_width(width);
        ui.add(egui::Label::new(text).wrap());
    });
}

/// What the worklist says of one account.
fn row_ui(ui: &mut egui::Ui, view: &View, item: &collections::WorklistItem) {
    let lang = view.lang;
    ui.label(&item.patient_name);
    ui.label(view.shown(item.balance.as_ref()));
    ui.label(item.days_past_due.max(0).to_string());
    ui.label(
        view.when(item.last_contact_time.as_ref())
            .unwrap_or_else(|| T::Never.get(lang).into()),
    );
    ui.label(
        item.promise
            .as_ref()
            .map(|p| promise_status_text(p.status).get(lang))
            .unwrap_or("—"),
    );
    ui.label(item.broken_promises.to_string());
    ui.label(item.missed_instalments.to_string());
    let risk = RichText::new(item.risk_score.to_string());
    ui.label(if item.risk_score >= 50 {
        risk.color(widgets::DANGER).strong()
    } else {
        risk
    });
    wrapped(
        ui,
        channels_text(&item.allowed_channels, lang),
        CHANNELS_WIDTH,
    );
    ui.label(if item.collector.is_empty() {
        T::Unassigned.get(lang)
    } else {
        item.collector.as_str()
    });
}
