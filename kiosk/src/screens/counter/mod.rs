//! Reception's counter: the appointment book of any day (one column a provider or a chair,
//! blocks moved by dragging, each with its menu of next steps) and the same day as a list, with
//! live statuses (the staff queue watch), patient
//! search, check-in on a patient's behalf, charges from the price list, payments by cash (with
//! change), card (authorisation code, kept in the outbox until billing has it), bank transfer,
//! split across methods one part at a time, receipts to the configured printer, the cash
//! drawer opened with a counted float and closed from a blind count, and the daily close.
//!
//! One panel per part of the work, each owning its state: `schedule` (drawing the book in
//! `book`), `patients` (search,
//! registration and booking, in `booking`), `account` (charges, payments in `payment`,
//! receipts), `drawer` and `close`, with the lists they choose from in `lists`. A panel
//! draws and returns `Action`s; `Counter::act` (in `act`) is the one place they become
//! calls, whose results wait in the panel that asked until its `poll` takes them.

mod account;
mod act;
mod book;
mod booking;
mod calls;
mod close;
mod drawer;
mod lists;
mod patients;
mod payment;
mod schedule;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::clock::SharedClock;
use clinic_common::money::Money;
use clinic_common::settings::ClinicSettings;
use clinic_common::time::local_date;
use clinic_proto::common::v1 as common;
use eframe::egui;
use egui::RichText;
use tokio::sync::{Notify, watch};

use crate::backend::Backend;
use crate::config::PrinterConfig;
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::outbox::{Outbox, OutboxState};
use crate::widgets;

use account::AccountPanel;
use act::Action;
use close::ClosePanel;
use drawer::DrawerPanel;
use lists::Lists;
use patients::PatientsPanel;
use schedule::SchedulePanel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Schedule,
    Patients,
    Drawer,
    Close,
}

/// Everything the counter is started with.
pub struct CounterSetup {
    pub backend: Backend,
    pub clinic: ClinicSettings,
    /// What "today" and "now" are: the day's schedule, overdue visits, card approvals.
    pub clock: SharedClock,
    pub language: Lang,
    pub terminal_id: String,
    pub printer: PrinterConfig,
    pub exports_dir: PathBuf,
    pub outbox: Outbox,
    pub outbox_state: watch::Receiver<OutboxState>,
    pub nudge: Arc<Notify>,
}

pub struct Counter {
    backend: Backend,
    clinic: ClinicSettings,
    clock: SharedClock,
    lang: Lang,
    terminal_id: String,
    printer: PrinterConfig,
    exports_dir: PathBuf,
    outbox: Outbox,
    outbox_state: watch::Receiver<OutboxState>,
    nudge: Arc<Notify>,

    tab: Tab,
    /// The outcome of staff's last action, shown until they close it.
    message: Option<Result<String, String>>,

    schedule: SchedulePanel,
    patients: PatientsPanel,
    lists: Lists,
    /// The patient whose account is open, if any.
    account: Option<AccountPanel>,
    drawer: DrawerPanel,
    close: ClosePanel,
}

/// What every panel draws with: the language, the clinic's zone and currency, this terminal,
/// and the moment the frame is drawn.
struct View<'a> {
    lang: Lang,
    clinic: &'a ClinicSettings,
    terminal_id: &'a str,
    now: DateTime<Utc>,
}

impl View<'_> {
    fn today(&self) -> NaiveDate {
        local_date(self.now, self.clinic.time_zone)
    }

    /// An amount from the wire, in the clinic's currency (zero when missing).
    fn money(&self, money: Option<&common::Money>) -> Money {
        Money::from_minor(money.map_or(0, |m| m.minor_units), self.clinic.currency)
    }

    /// The same, as shown.
    fn shown(&self, money: Option<&common::Money>) -> String {
        format::money(self.money(money))
    }

    /// An instant from the wire as the clinic's local time of day (empty when missing).
    fn local_time(&self, instant: Option<&prost_types::Timestamp>) -> String {
        clinic_proto::timestamp_from_proto(instant)
            .map(|t| format::local_time(t, self.clinic.time_zone))
            .unwrap_or_default()
    }
}

impl Counter {
    pub fn new(setup: CounterSetup) -> Counter {
        Counter {
            backend: setup.backend,
            clinic: setup.clinic,
            clock: setup.clock,
            lang: setup.language,
            terminal_id: setup.terminal_id,
            printer: setup.printer,
            exports_dir: setup.exports_dir,
            outbox: setup.outbox,
            outbox_state: setup.outbox_state,
            nudge: setup.nudge,
            tab: Tab::Schedule,
            message: None,
            schedule: SchedulePanel::default(),
            patients: PatientsPanel::default(),
            lists: Lists::default(),
            account: None,
            drawer: DrawerPanel::default(),
            close: ClosePanel::default(),
        }
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    pub fn language(&self) -> Lang {
        self.lang
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);

        egui::Panel::top("counter-top").show(ui, |ui| self.top_ui(ui));

        widgets::message_strip(
            ui,
            "counter-message",
            &mut self.message,
            T::Close.get(self.lang),
        );
        let mut actions = Vec::new();
        egui::CentralPanel::default().show(ui, |ui| {
            actions = self.tab_ui(ui);
        });
        if !actions.is_empty() {
            for action in actions {
                self.act(&ctx, action);
            }
            // What staff asked for shows on the next frame, not at the next move of the mouse.
            ctx.request_repaint();
        }
    }

    /// Takes finished calls' results and the queue watch's news; starts what must load.
    fn poll(&mut self, ctx: &egui::Context) {
        let lang = self.lang;
        let mut actions = self.schedule.poll(lang);
        actions.extend(self.lists.poll(self.account.is_some()));
        actions.extend(self.patients.poll_search(lang));
        // A registration's answer opens the new patient's account and a booking's changes the
        // patient's plans: both are taken while staff look at the Patients tab, never pulling
        // them away from another.
        if self.tab == Tab::Patients {
            actions.extend(self.patients.poll_forms(
                lang,
                self.lists.booking.as_ref(),
                &self.clinic,
            ));
        }
        if let Some(account) = &mut self.account {
            actions.extend(account.poll(lang, self.clinic.currency));
        }
        actions.extend(self.drawer.poll(lang));
        actions.extend(self.close.poll(lang));
        for action in actions {
            self.act(ctx, action);
        }
    }

    fn top_ui(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(&self.clinic.name).strong());
            ui.label(RichText::new(&self.terminal_id).color(widgets::MUTED));
            ui.separator();
            for (tab, text) in [
                (Tab::Schedule, T::Schedule),
                (Tab::Patients, T::Patients),
                (Tab::Drawer, T::Drawer),
                (Tab::Close, T::DailyClose),
            ] {
                ui.selectable_value(&mut self.tab, tab, text.get(lang));
            }
            ui.separator();
            egui::ComboBox::new("language", T::Language.get(lang))
                .selected_text(self.lang.native_name())
                .show_ui(ui, |ui| {
                    for lang in Lang::ALL {
                        ui.selectable_value(&mut self.lang, lang, lang.native_name());
                    }
                });
            let (dot, text) = if self.schedule.connected() {
                (widgets::SUCCESS, T::Online.get(lang).to_owned())
            } else {
                (widgets::DANGER, T::Reconnecting.get(lang).to_owned())
            };
            ui.label(RichText::new(format!("● {text}")).color(dot));
        });
        self.outbox_ui(ui);
    }

    /// Card payments the outbox still holds: waiting for billing, or refused by it.
    fn outbox_ui(&self, ui: &mut egui::Ui) {
        let lang = self.lang;
        let state = self.outbox_state.borrow().clone();
        if state.waiting > 0 {
            widgets::error_banner(
                ui,
                &fill(
                    T::PendingCardPayments.get(lang),
                    &[("count", &state.waiting.to_string())],
                ),
            );
        }
        if state.refused > 0 {
            widgets::error_banner(
                ui,
                &fill(
                    T::RefusedCardPayments.get(lang),
                    &[
                        ("count", &state.refused.to_string()),
                        (
                            "path",
                            &self.outbox.dir().join("refused").display().to_string(),
                        ),
                    ],
                ),
            );
        }
    }

    /// The chosen tab's panels; what staff asked for in them.
    fn tab_ui(&mut self, ui: &mut egui::Ui) -> Vec<Action> {
        let view = View {
            lang: self.lang,
            clinic: &self.clinic,
            terminal_id: &self.terminal_id,
            now: self.clock.now(),
        };
        match self.tab {
            Tab::Schedule => {
                let booking =
                    booking_from_the_book(self.account.as_ref(), &self.patients, &self.lists);
                self.schedule.ui(ui, &view, booking)
            }
            Tab::Patients => {
                let mut actions = self.patients.ui(ui, &view);
                ui.separator();
                if let Some(account) = &mut self.account {
                    let (patients, lists) = (&mut self.patients, &self.lists);
                    egui::ScrollArea::vertical()
                        .id_salt("account")
                        .show(ui, |ui| {
                            actions.extend(account.ui(ui, &view, &lists.prices));
                            actions.extend(patients.booking_ui(ui, &view, lists));
                        });
                }
                actions
            }
            Tab::Drawer => self.drawer.ui(ui, &view),
            Tab::Close => self.close.ui(ui, &view),
        }
    }
}

/// What a click on free time in the book would book: the open account's patient, for the kind
/// of visit (and provider) chosen in their booking form.
fn booking_from_the_book<'a>(
    account: Option<&'a AccountPanel>,
    patients: &'a PatientsPanel,
    lists: &'a Lists,
) -> Option<book::Booking<'a>> {
    let account = account?;
    let form = &patients.booking;
    let kinds = lists.booking.as_ref()?;
    Some(book::Booking {
        patient_name: format::full_name(&account.patient.given_name, &account.patient.family_name),
        type_id: &form.type_id,
        kind_name: kinds.kind_name(&form.type_id).unwrap_or_default(),
        duration_minutes: kinds.duration_minutes(&form.type_id)?,
        provider_id: &form.provider_id,
    })
}
