//! One open account and the work in progress on it: what is known of it on the left, the work
//! on it on the right, both in sight at once on a desk's screen. Whatever the collector records
//! (a contact, a promise, a payment) reads the account and the worklist again.

use clinic_proto::collections::v1 as collections;
use eframe::egui;

use super::View;
use super::act::Action;
use super::contact::ContactForm;
use super::notices::Notices;
use super::overview::{contact_log_ui, overview_ui};
use super::payment::PhonePayment;
use super::promise::PromiseForm;
use crate::backend::Pending;

pub(super) struct AccountDesk {
    pub(super) overview: collections::AccountOverview,
    pub(super) reloading: Option<Pending<collections::AccountOverview>>,
    pub(super) contact: ContactForm,
    pub(super) promise: PromiseForm,
    pub(super) payment: PhonePayment,
    pub(super) notices: Notices,
}

impl AccountDesk {
    pub(super) fn new(overview: collections::AccountOverview) -> AccountDesk {
        AccountDesk {
            overview,
            reloading: None,
            contact: ContactForm::default(),
            promise: PromiseForm::default(),
            payment: PhonePayment::default(),
            notices: Notices::default(),
        }
    }

    pub(super) fn patient_id(&self) -> String {
        self.overview.patient_id.clone()
    }

    /// Whether something is being recorded: one record at a time.
    fn busy(&self) -> bool {
        self.contact.recording.is_some()
            || self.promise.promising.is_some()
            || self.payment.paying.is_some()
    }

    /// Takes finished calls' results: what to tell the collector, and, when something was
    /// recorded, to read the account and the worklist again.
    pub(super) fn poll(&mut self, view: &View) -> Vec<Action> {
        let lang = view.lang;
        let mut outcomes = Vec::new();
        if let Some(result) = self.reloading.as_mut().and_then(Pending::take) {
            self.reloading = None;
            match result {
                Ok(overview) => self.overview = overview,
                Err(error) => outcomes.push(Err(error.staff_message(lang))),
            }
        }
        outcomes.extend(self.contact.poll_check(lang).map(Err));
        let contact_recorded = self.contact.poll_record(lang);
        if let Some(contact) = self.contact.recorded.take() {
            self.promise.contact_logged(contact);
        }
        let recorded = [
            contact_recorded,
            self.promise.poll(view),
            self.payment.poll(view),
        ];
        let changed = recorded
            .iter()
            .any(|outcome| matches!(outcome, Some(Ok(_))));
        outcomes.extend(recorded.into_iter().flatten());
        outcomes.extend(self.notices.poll(lang));
        let mut actions: Vec<Action> = outcomes.into_iter().map(Action::Tell).collect();
        if changed {
            actions.push(Action::ReloadWorklist);
            actions.push(Action::ReloadAccount);
        }
        actions
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &View) -> Vec<Action> {
        let lang = view.lang;
        let busy = self.busy();
        let mut actions = Vec::new();
        ui.columns(2, |columns| {
            let [facts, work] = columns else {
                return;
            };
            egui::ScrollArea::vertical()
                .id_salt("account-facts")
                .show(facts, |ui| {
                    overview_ui(ui, view, &self.overview, self.reloading.is_some());
                    ui.separator();
                    contact_log_ui(ui, view, &self.overview);
                });
            egui::ScrollArea::vertical()
                .id_salt("account-work")
                .show(work, |ui| {
                    actions.extend(self.contact.ui(ui, lang, busy));
                    ui.separator();
                    actions.extend(self.promise.ui(ui, view, busy));
                    ui.separator();
                    actions.extend(self.payment.ui(ui, lang, busy));
                    ui.separator();
                    actions.extend(self.notices.ui(ui, lang));
                });
        });
        actions
    }
}
