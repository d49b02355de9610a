//! The collections desk, for collectors at the clinic or working from home: the ranked worklist
//! of accounts that may be contacted now, and an account's balance, aging, promise, plan, contact
//! data and contact log. From an account the collector asks whether the rules allow a contact,
//! logs every attempt and conversation, records a promise to pay, takes a payment by phone
//! through billing, and saves a statement or a collection notice as PDF in the patient's
//! language. The collections service enforces the contact rules and keeps what the collector may
//! see to balances and contact data; this screen only shows what it answers.
//!
//! One panel per part of the work, each owning its state: the `worklist`, and an open
//! `account` whose `overview` and contact log sit beside the `contact` form, the
//! `promise`, the `payment` by phone and the `notices`. A panel draws and returns
//! `Action`s; `CollectionsDesk::act` (in `act`) is the one place they become calls, whose
//! results wait in the panel that asked until its `poll` takes them.

mod account;
mod act;
mod contact;
mod labels;
mod notices;
mod overview;
mod payment;
mod promise;
mod worklist;

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::money::Money;
use clinic_common::settings::ClinicSettings;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::common::v1 as common;
use clinic_proto::timestamp_from_proto;
use eframe::egui;
use egui::RichText;

use crate::backend::{AuthChannel, Backend};
use crate::format;
use crate::i18n::{Lang, T};
use crate::widgets;

use account::AccountDesk;
use worklist::WorklistPanel;

type Client = CollectionsServiceClient<AuthChannel>;

/// Everything the desk is started with.
pub struct CollectionsSetup {
    pub backend: Backend,
    pub client: Client,
    pub clinic: ClinicSettings,
    pub language: Lang,
    /// The collector at this desk (`collections:ana`); empty when not known.
    pub collector: String,
    pub notices_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeskTab {
    Worklist,
    Account,
}

pub struct CollectionsDesk {
    backend: Backend,
    client: Client,
    clinic: ClinicSettings,
    lang: Lang,
    collector: String,
    notices_dir: PathBuf,

    tab: DeskTab,
    /// The outcome of the collector's last action, shown until they close it.
    message: Option<Result<String, String>>,

    worklist: WorklistPanel,
    /// The account open, if any.
    account: Option<AccountDesk>,
}

/// What every panel draws with: the language, and the clinic's zone and currency.
struct View<'a> {
    lang: Lang,
    clinic: &'a ClinicSettings,
}

impl View<'_> {
    /// An amount from the wire as shown, in the clinic's currency (zero when missing).
    fn shown(&self, money: Option<&common::Money>) -> String {
        format::money(Money::from_minor(
            money.map_or(0, |m| m.minor_units),
            self.clinic.currency,
        ))
    }

    /// A day and time in the clinic's zone: `2026-11-30 10:30`.
    fn when(&self, instant: Option<&prost_types::Timestamp>) -> Option<String> {
        let instant: DateTime<Utc> = timestamp_from_proto(instant).ok()?;
        Some(
            instant
                .with_timezone(&self.clinic.time_zone)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        )
    }
}

impl CollectionsDesk {
    pub fn new(setup: CollectionsSetup) -> CollectionsDesk {
        CollectionsDesk {
            backend: setup.backend,
            client: setup.client,
            clinic: setup.clinic,
            lang: setup.language,
            worklist: WorklistPanel::new(!setup.collector.is_empty()),
            collector: setup.collector,
            notices_dir: setup.notices_dir,
            tab: DeskTab::Worklist,
            message: None,
            account: None,
        }
    }

    pub fn language(&self) -> Lang {
        self.lang
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        egui::Panel::top("collections-top").show(ui, |ui| self.top_ui(ui));
        widgets::message_strip(
            ui,
            "collections-message",
            &mut self.message,
            T::Close.get(self.lang),
        );
        let mut actions = Vec::new();
        egui::CentralPanel::default().show(ui, |ui| {
            let view = View {
                lang: self.lang,
                clinic: &self.clinic,
            };
            match self.tab {
                DeskTab::Worklist => {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        actions.extend(self.worklist.ui(ui, &view, &self.collector));
                    });
                }
                DeskTab::Account => match &mut self.account {
                    Some(account) => actions = account.ui(ui, &view),
                    None => {
                        ui.label(T::PickAccount.get(self.lang));
                    }
                },
            }
        });
        if !actions.is_empty() {
            for action in actions {
                self.act(&ctx, action);
            }
            // What the collector asked for shows on the next frame, not at the next move of
            // the mouse.
            ctx.request_repaint();
        }
    }

    /// Takes finished calls' results; starts what must load.
    fn poll(&mut self, ctx: &egui::Context) {
        let view = View {
            lang: self.lang,
            clinic: &self.clinic,
        };
        let mut actions = self.worklist.poll(view.lang);
        if let Some(account) = &mut self.account {
            actions.extend(account.poll(&view));
        }
        for action in actions {
            self.act(ctx, action);
        }
    }

    fn top_ui(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(&self.clinic.name).strong());
            if !self.collector.is_empty() {
                ui.label(RichText::new(&self.collector).color(widgets::MUTED));
            }
            ui.separator();
            ui.selectable_value(&mut self.tab, DeskTab::Worklist, T::Worklist.get(lang));
            ui.selectable_value(&mut self.tab, DeskTab::Account, T::Account.get(lang));
            ui.separator();
            egui::ComboBox::new("language", T::Language.get(lang))
                .selected_text(self.lang.native_name())
                .show_ui(ui, |ui| {
                    for lang in Lang::ALL {
                        ui.selectable_value(&mut self.lang, lang, lang.native_name());
                    }
                });
        });
    }
}

/// A typed `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A day from the wire as `YYYY-MM-DD` (empty when missing).
fn shown_date(date: Option<&common::Date>) -> String {
    clinic_proto::date_from_proto(date)
        .map(|day| day.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
