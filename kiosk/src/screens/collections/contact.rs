//! Logging a contact: the channel (with "May I contact?", which asks the service's rules before
//! anyone dials), the direction, whether it was an attempt or a conversation, its outcome, a
//! billing issue the patient raised, notes, and the next step.

use clinic_proto::collections::v1 as collections;
use clinic_proto::date_to_proto;
use collections::{BillingIssue, ContactChannel, ContactDirection, ContactKind, ContactOutcome};
use eframe::egui;
use egui::RichText;

use super::act::Action;
use super::labels::{channel_text, issue_text, outcome_text, rule_text};
use super::parse_date;
use crate::backend::{Pending, RetryKey};
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// The channels offered on the contact form, in the order a collector reaches for them.
const CHANNELS: [ContactChannel; 5] = [
    ContactChannel::PhoneCall,
    ContactChannel::Sms,
    ContactChannel::Whatsapp,
    ContactChannel::Email,
    ContactChannel::Letter,
];

const OUTCOMES: [ContactOutcome; 8] = [
    ContactOutcome::NoAnswer,
    ContactOutcome::LeftMessage,
    ContactOutcome::Spoke,
    ContactOutcome::Promise,
    ContactOutcome::RefusedToPay,
    ContactOutcome::CeaseRequested,
    ContactOutcome::Disputed,
    ContactOutcome::WrongNumber,
];

/// Whether a contact on `channel` in `direction` can end with `outcome`: the collections
/// service's table (which refuses the rest), so the form offers only what it would accept. A
/// call the clinic makes may end any way; a call the patient makes has reached the clinic; a
/// written message the clinic sends is one-way (a message left), and what the patient writes
/// back brings a message, a promise, a refusal, a cease request or a dispute.
pub(super) fn outcome_fits(
    channel: ContactChannel,
    direction: ContactDirection,
    outcome: ContactOutcome,
) -> bool {
    let call = matches!(channel, ContactChannel::PhoneCall);
    match (call, direction) {
        (true, ContactDirection::Inbound) => !matches!(
            outcome,
            ContactOutcome::NoAnswer | ContactOutcome::WrongNumber
        ),
        (true, _) => true,
        (false, ContactDirection::Inbound) => matches!(
            outcome,
            ContactOutcome::LeftMessage
                | ContactOutcome::Promise
                | ContactOutcome::RefusedToPay
                | ContactOutcome::CeaseRequested
                | ContactOutcome::Disputed
        ),
        (false, _) => outcome == ContactOutcome::LeftMessage,
    }
}

const ISSUES: [BillingIssue; 5] = [
    BillingIssue::Unspecified,
    BillingIssue::WrongCharge,
    BillingIssue::Insurance,
    BillingIssue::Price,
    BillingIssue::ServiceComplaint,
];

/// The rules' answer for a channel.
pub(super) type Checked = (ContactChannel, collections::CheckContactResponse);

pub(super) struct ContactForm {
    pub(super) channel: ContactChannel,
    direction: ContactDirection,
    kind: ContactKind,
    outcome: ContactOutcome,
    issue: BillingIssue,
    notes: String,
    next_step: String,
    next_step_date: String,
    pub(super) checking: Option<Pending<Checked>>,
    /// The rules' last answer, until another channel is chosen or the contact is logged.
    checked: Option<Checked>,
    pub(super) recording: Option<Pending<collections::Contact>>,
    /// The contact just logged, until the account's promise form takes it.
    pub(super) recorded: Option<collections::Contact>,
    /// The service's refusal of the outcome, shown beside the outcomes.
    outcome_problem: Option<String>,
    /// The same contact sent again after a timeout keeps its key and is logged once.
    pub(super) key: RetryKey,
}

impl Default for ContactForm {
    fn default() -> Self {
        ContactForm {
            channel: ContactChannel::PhoneCall,
            direction: ContactDirection::Outbound,
            kind: ContactKind::Attempt,
            outcome: ContactOutcome::NoAnswer,
            issue: BillingIssue::Unspecified,
            notes: String::new(),
            next_step: String::new(),
            next_step_date: String::new(),
            checking: None,
            checked: None,
            recording: None,
            recorded: None,
            outcome_problem: None,
            key: RetryKey::default(),
        }
    }
}

impl ContactForm {
    /// The contact the form describes, or what is wrong with it.
    pub(super) fn contact(
        &self,
        patient_id: String,
        lang: Lang,
    ) -> Result<collections::Contact, String> {
        let next_step_date = match self.next_step_date.trim() {
            "" => None,
            text => match parse_date(text) {
                Some(day) => Some(date_to_proto(day)),
                None => return Err(T::DateInvalid.get(lang).into()),
            },
        };
        Ok(collections::Contact {
            patient_id,
            channel: self.channel as i32,
            direction: self.direction as i32,
            kind: self.kind as i32,
            purpose: collections::ContactPurpose::Outreach as i32,
            outcome: self.outcome as i32,
            notes: self.notes.trim().to_owned(),
            next_step: self.next_step.trim().to_owned(),
            next_step_date,
            billing_issue: self.issue as i32,
            ..Default::default()
        })
    }

    /// Takes the rules' answer; what went wrong asking.
    pub(super) fn poll_check(&mut self, lang: Lang) -> Option<String> {
        let result = self.checking.as_mut().and_then(Pending::take)?;
        self.checking = None;
        match result {
            Ok(checked) => {
                self.checked = Some(checked);
                None
            }
            Err(error) => Some(error.staff_message(lang)),
        }
    }

    /// Takes the service's answer to the contact logged (the form empties); what to tell the
    /// collector.
    pub(super) fn poll_record(&mut self, lang: Lang) -> Option<Result<String, String>> {
        let result = self.recording.as_mut().and_then(Pending::take)?;
        self.recording = None;
        Some(match result {
            Ok(contact) => {
                self.recorded = Some(contact);
                self.outcome_problem = None;
                self.key.settle();
                self.notes.clear();
                self.next_step.clear();
                self.next_step_date.clear();
                self.checked = None;
                Ok(T::ContactRecorded.get(lang).into())
            }
            Err(error) if error.names_field("outcome") => {
                self.outcome_problem = Some(T::OutcomeDoesNotFit.get(lang).into());
                return None;
            }
            Err(error) => Err(error.staff_message(lang)),
        })
    }

    /// The form; `busy` while another of the account's calls is under way.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, lang: Lang, busy: bool) -> Option<Action> {
        ui.label(RichText::new(T::LogContact.get(lang)).strong());
        let check = self.channel_ui(ui, lang);
        self.checked_ui(ui, lang);
        self.kind_ui(ui, lang);
        self.fit_outcome();
        self.outcome_ui(ui, lang);
        self.notes_ui(ui, lang);
        if self.recording.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return check;
        }
        let record = ui
            .add_enabled(!busy, egui::Button::new(T::RecordContact.get(lang)))
            .clicked();
        if record {
            Some(Action::RecordContact)
        } else {
            check
        }
    }

    /// The channel, and "May I contact?" for it; a new channel forgets the last answer.
    fn channel_ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        let mut action = None;
        ui.horizontal_wrapped(|ui| {
            ui.label(T::ChannelLabel.get(lang));
            for channel in CHANNELS {
                if ui
                    .selectable_value(&mut self.channel, channel, channel_text(channel).get(lang))
                    .changed()
                {
                    self.checked = None;
                }
            }
            if self.checking.is_some() {
                ui.spinner();
            } else if ui.button(T::CheckRules.get(lang)).clicked() {
                action = Some(Action::CheckContact);
            }
        });
        action
    }

    /// What the rules answered: allowed, or the rule that forbids it.
    fn checked_ui(&self, ui: &mut egui::Ui, lang: Lang) {
        let Some((channel, checked)) = &self.checked else {
            return;
        };
        if checked.allowed {
            widgets::ok_banner(
                ui,
                &fill(
                    T::ContactAllowed.get(lang),
                    &[("channel", channel_text(*channel).get(lang))],
                ),
            );
        } else {
            widgets::error_banner(ui, rule_text(checked.rule).get(lang));
        }
    }

    /// Outbound or inbound; an attempt or a conversation.
    fn kind_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(
                &mut self.direction,
                ContactDirection::Outbound,
                T::Outbound.get(lang),
            );
            ui.selectable_value(
                &mut self.direction,
                ContactDirection::Inbound,
                T::Inbound.get(lang),
            );
            ui.separator();
            ui.selectable_value(&mut self.kind, ContactKind::Attempt, T::Attempt.get(lang));
            ui.selectable_value(
                &mut self.kind,
                ContactKind::Conversation,
                T::Conversation.get(lang),
            );
        });
    }

    /// Keeps the outcome one the channel and direction allow: the first of them when the
    /// collector's choice no longer fits.
    fn fit_outcome(&mut self) {
        if outcome_fits(self.channel, self.direction, self.outcome) {
            return;
        }
        for outcome in OUTCOMES {
            if outcome_fits(self.channel, self.direction, outcome) {
                self.outcome = outcome;
                return;
            }
        }
    }

    /// How it went (only what fits the channel and direction), and a billing issue the
    /// patient raised.
    fn outcome_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal_wrapped(|ui| {
            ui.label(T::OutcomeLabel.get(lang));
            for outcome in OUTCOMES {
                if outcome_fits(self.channel, self.direction, outcome)
                    && ui
                        .selectable_value(
                            &mut self.outcome,
                            outcome,
                            outcome_text(outcome).get(lang),
                        )
                        .changed()
                {
                    self.outcome_problem = None;
                }
            }
        });
        if let Some(problem) = &self.outcome_problem {
            widgets::error_banner(ui, problem);
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(T::IssueLabel.get(lang));
            for issue in ISSUES {
                ui.selectable_value(&mut self.issue, issue, issue_text(issue).get(lang));
            }
        });
    }

    /// Notes, the next step and its date.
    /// Each field takes the column's width it needs and the row wraps rather than run off the
    /// column's edge.
    fn notes_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal(|ui| {
            let label = ui.label(T::Notes.get(lang));
            ui.add(
                egui::TextEdit::multiline(&mut self.notes)
                    .desired_rows(2)
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id);
        });
        let date_width = widgets::date_field_width(ui);
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(T::NextStep.get(lang));
            let width = (ui.available_width() - date_width).clamp(date_width, 300.0);
            ui.add(egui::TextEdit::singleline(&mut self.next_step).desired_width(width))
                .labelled_by(label.id);
            let label = ui.label(T::NextStepDate.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.next_step_date).desired_width(date_width))
                .labelled_by(label.id);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_sent_offers_only_a_message_left_and_a_call_out_offers_everything() {
        let offered = |channel, direction| -> Vec<ContactOutcome> {
            OUTCOMES
                .into_iter()
                .filter(|&outcome| outcome_fits(channel, direction, outcome))
                .collect()
        };
        for written in [
            ContactChannel::Sms,
            ContactChannel::Whatsapp,
            ContactChannel::Email,
            ContactChannel::Letter,
        ] {
            assert_eq!(
                offered(written, ContactDirection::Outbound),
                [ContactOutcome::LeftMessage]
            );
            assert!(
                !offered(written, ContactDirection::Inbound).contains(&ContactOutcome::NoAnswer)
            );
        }
        assert_eq!(
            offered(ContactChannel::PhoneCall, ContactDirection::Outbound),
            OUTCOMES
        );
        assert!(
            !offered(ContactChannel::PhoneCall, ContactDirection::Inbound)
                .contains(&ContactOutcome::NoAnswer)
        );
    }
}
