//! A payment taken by phone, by card (the authorisation code the terminal gave) or by bank
//! transfer (its reference); collections hands it to billing, which records it.

use clinic_common::money::{Currency, Money};
use clinic_proto::billing::v1 as billing;
use clinic_proto::collections::v1 as collections;
use collections::take_payment_request::Method;
use eframe::egui;
use egui::RichText;

use super::View;
use super::act::Action;
use crate::backend::{Pending, RetryKey};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

pub(super) struct PhonePayment {
    amount: String,
    by_card: bool,
    auth_code: String,
    last_four: String,
    card_type: billing::CardType,
    reference: String,
    pub(super) paying: Option<Pending<collections::TakePaymentResponse>>,
    /// Retried after a timeout, the same payment keeps its key: billing records it once.
    pub(super) key: RetryKey,
}

impl Default for PhonePayment {
    fn default() -> Self {
        PhonePayment {
            amount: String::new(),
            by_card: true,
            auth_code: String::new(),
            last_four: String::new(),
            card_type: billing::CardType::Debit,
            reference: String::new(),
            paying: None,
            key: RetryKey::default(),
        }
    }
}

impl PhonePayment {
    /// The amount and method the form describes, or what is wrong with them.
    pub(super) fn payment(
        &self,
        currency: Currency,
        lang: Lang,
    ) -> Result<(Money, Method), String> {
        let amount = format::parse_money(&self.amount, currency)
            .filter(Money::is_positive)
            .ok_or_else(|| T::AmountInvalid.get(lang).to_owned())?;
        let method = if self.by_card {
            let code = self.auth_code.trim();
            if code.is_empty()
                || !code.chars().all(|c| c.is_ascii_alphanumeric())
                || !format::is_last_four(&self.last_four)
            {
                return Err(T::FillEverything.get(lang).into());
            }
            Method::Card(billing::CardPayment {
                authorization_code: code.to_owned(),
                last_four: self.last_four.clone(),
                card_type: self.card_type as i32,
            })
        } else {
            let reference = self.reference.trim();
            if reference.is_empty() || reference.len() > 64 {
                return Err(T::FillEverything.get(lang).into());
            }
            Method::BankTransfer(billing::BankTransferPayment {
                reference: reference.to_owned(),
            })
        };
        Ok((amount, method))
    }

    /// Takes billing's answer (the form empties); what to tell the collector.
    pub(super) fn poll(&mut self, view: &View) -> Option<Result<String, String>> {
        let result = self.paying.as_mut().and_then(Pending::take)?;
        self.paying = None;
        let lang = view.lang;
        Some(match result {
            Ok(response) => {
                self.key.settle();
                self.amount.clear();
                self.auth_code.clear();
                self.last_four.clear();
                self.reference.clear();
                let payment = response.payment.unwrap_or_default();
                Ok(fill(
                    T::PaymentTaken.get(lang),
                    &[
                        ("receipt", &payment.receipt_number),
                        ("method", T::from_method(payment.method).get(lang)),
                        ("amount", &view.shown(payment.amount.as_ref())),
                        ("balance", &view.shown(payment.balance_after.as_ref())),
                    ],
                ))
            }
            Err(error) => Err(error.staff_message(lang)),
        })
    }

    /// The form; `busy` while another of the account's calls is under way.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, lang: Lang, busy: bool) -> Option<Action> {
        ui.label(RichText::new(T::PhonePayment.get(lang)).strong());
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.by_card, true, T::Card.get(lang));
            ui.selectable_value(&mut self.by_card, false, T::Transfer.get(lang));
            let label = ui.label(T::Amount.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.amount).desired_width(110.0))
                .labelled_by(label.id);
        });
        self.method_ui(ui, lang);
        if self.paying.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return None;
        }
        ui.add_enabled(!busy, egui::Button::new(T::TakePayment.get(lang)))
            .clicked()
            .then_some(Action::TakePayment)
    }

    /// The card's authorisation code, last four and type, or the transfer's reference.
    fn method_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal_wrapped(|ui| {
            if self.by_card {
                let label = ui.label(T::AuthorizationCode.get(lang));
                ui.add(egui::TextEdit::singleline(&mut self.auth_code).desired_width(110.0))
                    .labelled_by(label.id);
                let label = ui.label(T::CardLastFour.get(lang));
                ui.add(egui::TextEdit::singleline(&mut self.last_four).desired_width(60.0))
                    .labelled_by(label.id);
                ui.selectable_value(
                    &mut self.card_type,
                    billing::CardType::Debit,
                    T::Debit.get(lang),
                );
                ui.selectable_value(
                    &mut self.card_type,
                    billing::CardType::Credit,
                    T::Credit.get(lang),
                );
            } else {
                let label = ui.label(T::Reference.get(lang));
                ui.add(egui::TextEdit::singleline(&mut self.reference).desired_width(220.0))
                    .labelled_by(label.id);
            }
        });
    }
}
