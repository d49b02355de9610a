//! Recording a promise to pay: how much, and by when.

use clinic_common::money::{Currency, Money};
use clinic_proto::collections::v1 as collections;
use clinic_proto::date_to_proto;
use eframe::egui;
use egui::RichText;

use super::act::Action;
use super::{View, parse_date, shown_date};
use crate::backend::{Pending, RetryKey};
use crate::format;
use crate::i18n::{Lang, T, fill};

#[derive(Default)]
pub(super) struct PromiseForm {
    amount: String,
    date: String,
    pub(super) promising: Option<Pending<collections::Promise>>,
    /// The same promise sent again after a timeout keeps its key and is recorded once.
    pub(super) key: RetryKey,
}

impl PromiseForm {
    /// The promise the form describes, or what is wrong with it.
    pub(super) fn promise(
        &self,
        patient_id: String,
        currency: Currency,
        lang: Lang,
    ) -> Result<collections::Promise, String> {
        let amount = format::parse_money(&self.amount, currency)
            .filter(Money::is_positive)
            .ok_or_else(|| T::AmountInvalid.get(lang).to_owned())?;
        let day = parse_date(&self.date).ok_or_else(|| T::DateInvalid.get(lang).to_owned())?;
        Ok(collections::Promise {
            patient_id,
            amount: Some(clinic_proto::money_to_proto(amount)),
            promised_date: Some(date_to_proto(day)),
            ..Default::default()
        })
    }

    /// Takes the service's answer (the form empties); what to tell the collector.
    pub(super) fn poll(&mut self, view: &View) -> Option<Result<String, String>> {
        let result = self.promising.as_mut().and_then(Pending::take)?;
        self.promising = None;
        Some(match result {
            Ok(promise) => {
                self.key.settle();
                self.amount.clear();
                self.date.clear();
                Ok(fill(
                    T::PromiseRecorded.get(view.lang),
                    &[
                        ("amount", &view.shown(promise.amount.as_ref())),
                        ("date", &shown_date(promise.promised_date.as_ref())),
                    ],
                ))
            }
            Err(error) => Err(error.staff_message(view.lang)),
        })
    }

    /// The form; `busy` while another of the account's calls is under way.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, lang: Lang, busy: bool) -> Option<Action> {
        ui.label(RichText::new(T::RecordPromise.get(lang)).strong());
        ui.horizontal(|ui| {
            let label = ui.label(T::PromisedAmount.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.amount).desired_width(110.0))
                .labelled_by(label.id);
            let label = ui.label(T::PromiseDate.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.date).desired_width(110.0))
                .labelled_by(label.id);
            if self.promising.is_some() {
                ui.spinner();
                None
            } else {
                ui.add_enabled(!busy, egui::Button::new(T::RecordPromise.get(lang)))
                    .clicked()
                    .then_some(Action::RecordPromise)
            }
        })
        .inner
    }
}
