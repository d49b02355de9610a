//! Recording a promise to pay: how much, and by when, in the conversation it was made in. A
//! promise is the patient's word, given while talking with the clinic, so the form waits for
//! that conversation to be logged (a conversation ending in a promise) and carries it.

use clinic_common::money::{Currency, Money};
use clinic_proto::collections::v1 as collections;
use clinic_proto::date_to_proto;
use eframe::egui;
use egui::RichText;
use tonic_types::StatusExt;

use super::act::Action;
use super::labels::channel_text;
use super::{View, parse_date, shown_date};
use crate::backend::{CallError, Pending, RetryKey, answer};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// The service refused the promise for want of the conversation it was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NeedsConversation;

/// The service's answer to a promise, with a refusal for want of a conversation told apart so
/// that the form can say it, in the collector's language, beside itself.
pub(super) type PromiseAnswer = Result<collections::Promise, NeedsConversation>;

pub(super) fn promise_answer(
    result: Result<tonic::Response<collections::Promise>, tonic::Status>,
) -> Result<PromiseAnswer, CallError> {
    match result {
        Err(status)
            if status
                .get_error_details()
                .error_info()
                .is_some_and(|info| info.reason == "PROMISE_NEEDS_CONVERSATION") =>
        {
            tracing::info!(message = status.message(), "a promise was refused");
            Ok(Err(NeedsConversation))
        }
        result => answer(result).map(Ok),
    }
}

#[derive(Default)]
pub(super) struct PromiseForm {
    amount: String,
    date: String,
    /// The conversation the promise is made in: the last logged conversation that ended in a
    /// promise, until a promise is recorded from it.
    conversation: Option<collections::Contact>,
    /// Why the promise cannot be recorded as it stands, shown beside the form.
    pub(super) problem: Option<String>,
    pub(super) promising: Option<Pending<PromiseAnswer>>,
    /// The same promise sent again after a timeout keeps its key and is recorded once.
    pub(super) key: RetryKey,
}

impl PromiseForm {
    /// Takes a contact just logged: a conversation that ended in a promise is the one the
    /// promise is made in.
    pub(super) fn contact_logged(&mut self, contact: collections::Contact) {
        if contact.kind == collections::ContactKind::Conversation as i32
            && contact.outcome == collections::ContactOutcome::Promise as i32
        {
            self.conversation = Some(contact);
            self.problem = None;
        }
    }

    /// The promise the form describes, or what is wrong with it.
    pub(super) fn promise(
        &self,
        patient_id: String,
        currency: Currency,
        lang: Lang,
    ) -> Result<collections::Promise, String> {
        let conversation = self
            .conversation
            .as_ref()
            .ok_or_else(|| T::PromiseNeedsConversation.get(lang).to_owned())?;
        let amount = format::parse_money(&self.amount, currency)
            .filter(Money::is_positive)
            .ok_or_else(|| T::AmountInvalid.get(lang).to_owned())?;
        let day = parse_date(&self.date).ok_or_else(|| T::DateInvalid.get(lang).to_owned())?;
        Ok(collections::Promise {
            patient_id,
            amount: Some(clinic_proto::money_to_proto(amount)),
            promised_date: Some(date_to_proto(day)),
            contact_id: conversation.contact_id.clone(),
            ..Default::default()
        })
    }

    /// Takes the service's answer (the form empties); what to tell the collector in the banner.
    pub(super) fn poll(&mut self, view: &View) -> Option<Result<String, String>> {
        let result = self.promising.as_mut().and_then(Pending::take)?;
        self.promising = None;
        match result {
            Ok(Ok(promise)) => {
                self.key.settle();
                self.amount.clear();
                self.date.clear();
                self.conversation = None;
                self.problem = None;
                Some(Ok(fill(
                    T::PromiseRecorded.get(view.lang),
                    &[
                        ("amount", &view.shown(promise.amount.as_ref())),
                        ("date", &shown_date(promise.promised_date.as_ref())),
                    ],
                )))
            }
            Ok(Err(NeedsConversation)) => {
                self.conversation = None;
                self.problem = Some(T::PromiseNeedsConversation.get(view.lang).into());
                None
            }
            Err(error) => {
                self.problem = Some(error.staff_message(view.lang));
                None
            }
        }
    }

    /// The form; `busy` while another of the account's calls is under way.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &View, busy: bool) -> Option<Action> {
        let lang = view.lang;
        ui.label(RichText::new(T::RecordPromise.get(lang)).strong());
        match &self.conversation {
            Some(contact) => {
                let channel =
                    collections::ContactChannel::try_from(contact.channel).unwrap_or_default();
                let when = view.when(contact.create_time.as_ref()).unwrap_or_default();
                let made_in = format!("{} {when}", channel_text(channel).get(lang));
                ui.label(
                    RichText::new(fill(T::PromiseMadeIn.get(lang), &[("contact", &made_in)]))
                        .color(widgets::MUTED),
                );
            }
            None => {
                ui.label(
                    RichText::new(T::PromiseAwaitsConversation.get(lang)).color(widgets::MUTED),
                );
            }
        }
        let date_width = widgets::date_field_width(ui);
        let action = ui
            .horizontal_wrapped(|ui| {
                let label = ui.label(T::PromisedAmount.get(lang));
                ui.add(egui::TextEdit::singleline(&mut self.amount).desired_width(date_width))
                    .labelled_by(label.id);
                let label = ui.label(T::PromiseDate.get(lang));
                ui.add(egui::TextEdit::singleline(&mut self.date).desired_width(date_width))
                    .labelled_by(label.id);
                if self.promising.is_some() {
                    ui.spinner();
                    None
                } else {
                    let ready = !busy && self.conversation.is_some();
                    ui.add_enabled(ready, egui::Button::new(T::RecordPromise.get(lang)))
                        .on_disabled_hover_text(T::PromiseNeedsConversation.get(lang))
                        .clicked()
                        .then_some(Action::RecordPromise)
                }
            })
            .inner;
        if let Some(problem) = &self.problem {
            widgets::error_banner(ui, problem);
        }
        action
    }
}
