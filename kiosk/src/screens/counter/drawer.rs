//! The cash drawer tab: a closed drawer is opened with a counted float; an open one is closed
//! from a blind count (billing shows the expected amount and the difference to a manager only),
//! with a reason when the count differs; a difference too large waits for a manager.

use std::collections::HashMap;

use clinic_common::money::{Currency, Money};
use clinic_proto::billing::v1 as billing;
use eframe::egui;
use egui::{RichText, vec2};

use super::View;
use super::act::Action;
use crate::backend::Pending;
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

#[derive(Default)]
pub(super) struct DrawerPanel {
    pub(super) session: Option<billing::CashDrawerSession>,
    /// Whether the drawer's state is known; Refresh forgets it, and showing the tab asks again.
    pub(super) loaded: bool,
    pub(super) loading: Option<Pending<Option<billing::CashDrawerSession>>>,
    /// Pieces typed per denomination, by (kind, face value in minor units).
    counts: HashMap<(i32, i64), String>,
    pub(super) reason: String,
    needs_reason: bool,
    /// The idempotency key of the count being sent, kept while it may be sent again.
    pub(super) request_id: Option<String>,
    pub(super) submitting: Option<Pending<billing::CashDrawerSession>>,
    z_report: Option<billing::CashDrawerSession>,
}

impl DrawerPanel {
    /// Whether the count opens the drawer (it is closed) rather than closing it.
    pub(super) fn opening(&self) -> bool {
        self.session.is_none()
    }

    /// The count as billing takes it: every denomination with at least one piece.
    pub(super) fn counted(&self, currency: Currency) -> Vec<billing::DenominationCount> {
        let mut counts = Vec::new();
        for (kind, value) in denominations(currency) {
            let pieces: i32 = self
                .counts
                .get(&(kind as i32, value))
                .and_then(|c| c.trim().parse().ok())
                .unwrap_or(0);
            if pieces > 0 {
                counts.push(billing::DenominationCount {
                    kind: kind as i32,
                    value: Some(clinic_proto::money_to_proto(Money::from_minor(
                        value, currency,
                    ))),
                    count: pieces,
                });
            }
        }
        counts
    }

    /// Takes finished calls' results; what to tell reception.
    pub(super) fn poll(&mut self, lang: Lang) -> Option<Action> {
        let mut outcome = None;
        if let Some(result) = self.loading.as_mut().and_then(Pending::take) {
            self.loading = None;
            self.loaded = true;
            match result {
                Ok(session) => self.session = session,
                Err(error) => outcome = Some(Action::Tell(Err(error.staff_message(lang)))),
            }
        }
        if let Some(result) = self.submitting.as_mut().and_then(Pending::take) {
            self.submitting = None;
            match result {
                Ok(session) => self.counted_as(session),
                Err(error) => {
                    if error.names_field("difference_reason")
                        || error.names_field("opening_difference_reason")
                    {
                        self.needs_reason = true;
                    } else {
                        // Anything else is a different request next time.
                        self.request_id = None;
                    }
                    outcome = Some(Action::Tell(Err(error.staff_message(lang))));
                }
            }
        }
        outcome
    }

    /// Billing took the count: the drawer is open, closed (its Z report), or waiting for a
    /// manager to approve the difference.
    fn counted_as(&mut self, session: billing::CashDrawerSession) {
        self.request_id = None;
        self.counts.clear();
        self.reason.clear();
        self.needs_reason = false;
        if session.state == billing::CashDrawerState::Open as i32 {
            self.z_report = None;
            self.session = Some(session);
        } else {
            self.session = (session.state == billing::CashDrawerState::PendingApproval as i32)
                .then(|| session.clone());
            self.z_report = Some(session);
        }
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &View) -> Vec<Action> {
        let lang = view.lang;
        let mut actions = Vec::new();
        if !self.loaded && self.loading.is_none() {
            actions.push(Action::LoadDrawer);
        }
        self.header_ui(ui, lang);
        if let Some(z) = &self.z_report {
            z_report_ui(ui, view, z);
        }
        if !self.loaded {
            return actions;
        }
        if !self.state_ui(ui, view) {
            return actions;
        }
        let total = self.count_ui(ui, lang, view.clinic.currency);
        ui.label(
            RichText::new(fill(
                T::CountedTotal.get(lang),
                &[("amount", &format::money(total))],
            ))
            .strong(),
        );
        if self.needs_reason {
            let caption = if self.opening() {
                T::OpeningDifferenceReason
            } else {
                T::DifferenceReason
            };
            let label = ui.label(caption.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.reason).desired_width(400.0))
                .labelled_by(label.id);
        }
        if self.submitting.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return actions;
        }
        let button = if self.opening() {
            T::OpenDrawer
        } else {
            T::CloseDrawer
        };
        if ui
            .button(RichText::new(button.get(lang)).strong())
            .clicked()
        {
            actions.push(Action::CountDrawer);
        }
        actions
    }

    /// The heading, with Refresh.
    fn header_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal(|ui| {
            ui.heading(T::Drawer.get(lang));
            if self.loading.is_some() {
                ui.spinner();
            } else if ui.button(T::Refresh.get(lang)).clicked() {
                self.loaded = false;
            }
        });
    }

    /// Whether the drawer is closed, open or waiting for approval; `false` when there is
    /// nothing to count (waiting for approval).
    fn state_ui(&self, ui: &mut egui::Ui, view: &View) -> bool {
        let lang = view.lang;
        match &self.session {
            None => {
                ui.label(fill(
                    T::DrawerIsClosed.get(lang),
                    &[("terminal", view.terminal_id)],
                ));
                ui.label(RichText::new(T::CountFloat.get(lang)).strong());
                true
            }
            Some(session) if session.state == billing::CashDrawerState::PendingApproval as i32 => {
                widgets::error_banner(ui, T::DrawerAwaitingApproval.get(lang));
                false
            }
            Some(session) => {
                ui.label(fill(
                    T::DrawerIsOpen.get(lang),
                    &[
                        ("terminal", view.terminal_id),
                        ("who", &session.opened_by),
                        ("time", &view.local_time(session.open_time.as_ref())),
                        ("float", &view.shown(session.opening_float.as_ref())),
                    ],
                ));
                // Blind: the expected amount is not shown before the count.
                ui.label(RichText::new(T::CountCash.get(lang)).strong());
                true
            }
        }
    }

    /// A field per note and coin; the total counted.
    fn count_ui(&mut self, ui: &mut egui::Ui, lang: Lang, currency: Currency) -> Money {
        let mut total = Money::zero(currency);
        egui::Grid::new("denominations")
            .spacing(vec2(16.0, 6.0))
            .show(ui, |ui| {
                for (index, (kind, value)) in denominations(currency).into_iter().enumerate() {
                    let face = Money::from_minor(value, currency);
                    let kind_text = if kind == billing::DenominationKind::Note {
                        T::Note
                    } else {
                        T::Coin
                    };
                    let label =
                        ui.label(format!("{} {}", kind_text.get(lang), format::money(face)));
                    let count = self.counts.entry((kind as i32, value)).or_default();
                    ui.add(egui::TextEdit::singleline(count).desired_width(70.0))
                        .labelled_by(label.id);
                    let pieces: i64 = count.trim().parse().unwrap_or(0);
                    total = total
                        .checked_add(face.checked_mul(pieces).unwrap_or(face))
                        .unwrap_or(total);
                    if index % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
        total
    }
}

/// The last close's Z report as reception sees it: what was counted (the rest is the
/// manager's).
fn z_report_ui(ui: &mut egui::Ui, view: &View, z: &billing::CashDrawerSession) {
    widgets::ok_banner(
        ui,
        &fill(
            T::ZReport.get(view.lang),
            &[("counted", &view.shown(z.counted.as_ref()))],
        ),
    );
}

/// The notes and coins of `currency`, largest first, as (kind, face value in minor units).
fn denominations(currency: Currency) -> Vec<(billing::DenominationKind, i64)> {
    use billing::DenominationKind::{Coin, Note};
    match currency.code() {
        "MXN" => vec![
            (Note, 100_000),
            (Note, 50_000),
            (Note, 20_000),
            (Note, 10_000),
            (Note, 5_000),
            (Note, 2_000),
            (Coin, 2_000),
            (Coin, 1_000),
            (Coin, 500),
            (Coin, 200),
            (Coin, 100),
            (Coin, 50),
        ],
        _ => vec![
            (Note, 10_000),
            (Note, 5_000),
            (Note, 2_000),
            (Note, 1_000),
            (Note, 500),
            (Note, 100),
            (Coin, 25),
            (Coin, 10),
            (Coin, 5),
            (Coin, 1),
        ],
    }
}
