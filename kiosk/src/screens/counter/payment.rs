//! Taking a payment at the counter: the method and what it needs typed ([`PaymentFields`]),
//! checked into a [`PaymentForm`] (one payment, or one part of a split payment), and the
//! request those forms make: a card the terminal approved goes through the outbox with the
//! parts paid beside it; anything else goes to billing directly.

use chrono::{DateTime, Utc};
use clinic_common::money::{Currency, Money};
use clinic_proto::billing::v1 as billing;
use eframe::egui;
use egui::RichText;

use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::outbox::{ApprovedCardPayment, CardKind, OtherPart};
use crate::widgets;

use billing::payment_part_request::Method as Part;
use billing::post_payment_request::Method as Single;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Cash,
    Card,
    Transfer,
    Advance,
}

impl Method {
    fn text(self) -> T {
        match self {
            Method::Cash => T::Cash,
            Method::Card => T::Card,
            Method::Transfer => T::Transfer,
            Method::Advance => T::Advance,
        }
    }
}

/// What staff type for a payment (or for the next part of a split payment).
pub(super) struct PaymentFields {
    method: Method,
    pub(super) amount: String,
    tendered: String,
    auth_code: String,
    last_four: String,
    card_kind: CardKind,
    reference: String,
}

impl Default for PaymentFields {
    fn default() -> Self {
        PaymentFields {
            method: Method::Cash,
            amount: String::new(),
            tendered: String::new(),
            auth_code: String::new(),
            last_four: String::new(),
            card_kind: CardKind::Debit,
            reference: String::new(),
        }
    }
}

impl PaymentFields {
    /// The payment the fields describe, or what is wrong with it.
    pub(super) fn checked(&self, currency: Currency, lang: Lang) -> Result<PaymentForm, String> {
        let amount = format::parse_money(&self.amount, currency)
            .filter(Money::is_positive)
            .ok_or_else(|| T::AmountInvalid.get(lang).to_owned())?;
        match self.method {
            Method::Cash => {
                let tendered = format::parse_money(&self.tendered, currency)
                    .filter(|t| t.checked_sub(amount).is_ok_and(|c| !c.is_negative()))
                    .ok_or_else(|| T::TenderedTooLittle.get(lang).to_owned())?;
                Ok(PaymentForm::Cash { amount, tendered })
            }
            Method::Card => {
                let code = self.auth_code.trim();
                if code.is_empty()
                    || code.len() > 32
                    || !code.chars().all(|c| c.is_ascii_alphanumeric())
                    || !format::is_last_four(self.last_four.trim())
                {
                    return Err(T::FillEverything.get(lang).into());
                }
                Ok(PaymentForm::Card {
                    amount,
                    code: code.to_owned(),
                    last_four: self.last_four.trim().to_owned(),
                    kind: self.card_kind,
                })
            }
            Method::Transfer => {
                let reference = self.reference.trim();
                if reference.is_empty() || reference.len() > 64 {
                    return Err(T::FillEverything.get(lang).into());
                }
                Ok(PaymentForm::Transfer {
                    amount,
                    reference: reference.to_owned(),
                })
            }
            Method::Advance => Ok(PaymentForm::Advance { amount }),
        }
    }

    /// Forgets what was typed for the method (not the amount).
    pub(super) fn clear_details(&mut self) {
        self.tendered.clear();
        self.auth_code.clear();
        self.last_four.clear();
        self.reference.clear();
    }

    /// Forgets the card's details: once the terminal's approval is saved they are not typed again.
    pub(super) fn clear_card(&mut self) {
        self.auth_code.clear();
        self.last_four.clear();
    }

    /// The method buttons.
    pub(super) fn method_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal(|ui| {
            for method in [
                Method::Cash,
                Method::Card,
                Method::Transfer,
                Method::Advance,
            ] {
                ui.selectable_value(&mut self.method, method, method.text().get(lang));
            }
        });
    }

    /// The amount and what the chosen method needs.
    pub(super) fn fields_ui(&mut self, ui: &mut egui::Ui, lang: Lang, currency: Currency) {
        ui.horizontal(|ui| {
            let label = ui.label(T::Amount.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.amount).desired_width(120.0))
                .labelled_by(label.id);
            match self.method {
                Method::Cash => self.cash_ui(ui, lang, currency),
                Method::Card => {
                    let label = ui.label(T::AuthorizationCode.get(lang));
                    ui.add(egui::TextEdit::singleline(&mut self.auth_code).desired_width(120.0))
                        .labelled_by(label.id);
                    let label = ui.label(T::CardLastFour.get(lang));
                    ui.add(egui::TextEdit::singleline(&mut self.last_four).desired_width(70.0))
                        .labelled_by(label.id);
                    ui.selectable_value(&mut self.card_kind, CardKind::Credit, T::Credit.get(lang));
                    ui.selectable_value(&mut self.card_kind, CardKind::Debit, T::Debit.get(lang));
                }
                Method::Transfer => {
                    let label = ui.label(T::Reference.get(lang));
                    ui.add(egui::TextEdit::singleline(&mut self.reference).desired_width(200.0))
                        .labelled_by(label.id);
                }
                Method::Advance => {
                    ui.label(RichText::new(T::FromAdvance.get(lang)).color(widgets::MUTED));
                }
            }
        });
    }

    /// What was handed over, and the change due (or that it is too little).
    fn cash_ui(&mut self, ui: &mut egui::Ui, lang: Lang, currency: Currency) {
        let label = ui.label(T::Tendered.get(lang));
        ui.add(egui::TextEdit::singleline(&mut self.tendered).desired_width(120.0))
            .labelled_by(label.id);
        let (Some(amount), Some(tendered)) = (
            format::parse_money(&self.amount, currency),
            format::parse_money(&self.tendered, currency),
        ) else {
            return;
        };
        match tendered.checked_sub(amount) {
            Ok(change) if !change.is_negative() => {
                ui.label(
                    RichText::new(fill(
                        T::ChangeDue.get(lang),
                        &[("amount", &format::money(change))],
                    ))
                    .strong(),
                );
            }
            _ => {
                ui.label(RichText::new(T::TenderedTooLittle.get(lang)).color(widgets::DANGER));
            }
        }
    }
}

/// A payment (or one part of a split payment) as the form describes it, checked.
#[derive(Debug, Clone)]
pub(super) enum PaymentForm {
    Advance {
        amount: Money,
    },
    Cash {
        amount: Money,
        tendered: Money,
    },
    Card {
        amount: Money,
        code: String,
        last_four: String,
        kind: CardKind,
    },
    Transfer {
        amount: Money,
        reference: String,
    },
}

impl PaymentForm {
    pub(super) fn amount(&self) -> Money {
        match self {
            PaymentForm::Advance { amount }
            | PaymentForm::Cash { amount, .. }
            | PaymentForm::Card { amount, .. }
            | PaymentForm::Transfer { amount, .. } => *amount,
        }
    }

    /// "Card 4242 · $300.00", as the list of parts shows it.
    pub(super) fn describe(&self, lang: Lang) -> String {
        let (method, detail) = match self {
            PaymentForm::Advance { .. } => (T::Advance, String::new()),
            PaymentForm::Cash { .. } => (T::Cash, String::new()),
            PaymentForm::Card { last_four, .. } => (T::Card, format!(" {last_four}")),
            PaymentForm::Transfer { reference, .. } => (T::Transfer, format!(" {reference}")),
        };
        format!(
            "{}{detail} · {}",
            method.get(lang),
            format::money(self.amount())
        )
    }

    /// This part's amount and method, on the wire.
    fn method(&self) -> (Money, Single) {
        match self {
            PaymentForm::Cash { amount, tendered } => (
                *amount,
                Single::Cash(billing::CashPayment {
                    tendered: Some(clinic_proto::money_to_proto(*tendered)),
                }),
            ),
            PaymentForm::Card {
                amount,
                code,
                last_four,
                kind,
            } => (
                *amount,
                Single::Card(billing::CardPayment {
                    authorization_code: code.clone(),
                    last_four: last_four.clone(),
                    card_type: match kind {
                        CardKind::Credit => billing::CardType::Credit,
                        CardKind::Debit => billing::CardType::Debit,
                    } as i32,
                }),
            ),
            PaymentForm::Transfer { amount, reference } => (
                *amount,
                Single::BankTransfer(billing::BankTransferPayment {
                    reference: reference.clone(),
                }),
            ),
            PaymentForm::Advance { amount } => {
                (*amount, Single::Advance(billing::AdvancePayment {}))
            }
        }
    }

    /// A part paid beside a card, as the outbox keeps it; `None` for the card itself.
    fn other_part(&self) -> Option<OtherPart> {
        match self {
            PaymentForm::Cash { amount, tendered } => Some(OtherPart::Cash {
                amount_minor: amount.minor_units(),
                tendered_minor: tendered.minor_units(),
            }),
            PaymentForm::Transfer { amount, reference } => Some(OtherPart::Transfer {
                amount_minor: amount.minor_units(),
                reference: reference.clone(),
            }),
            PaymentForm::Advance { amount } => Some(OtherPart::Advance {
                amount_minor: amount.minor_units(),
            }),
            PaymentForm::Card { .. } => None,
        }
    }
}

/// Who pays, under which idempotency key, at which terminal, and when the card (if any) was
/// approved.
pub(super) struct Payer<'a> {
    pub(super) patient_id: String,
    pub(super) request_id: String,
    pub(super) terminal_id: &'a str,
    pub(super) now: DateTime<Utc>,
}

/// Where a payment goes.
pub(super) enum PaymentRequest {
    /// A card the terminal approved, with the parts paid beside it: through the outbox, so the
    /// approval outlives billing being down.
    Card(Box<ApprovedCardPayment>),
    Billing(Box<billing::PostPaymentRequest>),
}

/// The request the forms make; `None` when they hold more than one card.
pub(super) fn payment_request(forms: &[PaymentForm], payer: Payer) -> Option<PaymentRequest> {
    let cards = forms
        .iter()
        .filter(|form| matches!(form, PaymentForm::Card { .. }))
        .count();
    if cards > 1 {
        return None;
    }
    let card = forms.iter().find_map(|form| match form {
        PaymentForm::Card {
            amount,
            code,
            last_four,
            kind,
        } => Some((*amount, code.clone(), last_four.clone(), *kind)),
        _ => None,
    });
    if let Some((amount, code, last_four, kind)) = card {
        return Some(PaymentRequest::Card(Box::new(ApprovedCardPayment {
            request_id: payer.request_id,
            patient_id: payer.patient_id,
            amount_minor: amount.minor_units(),
            currency: amount.currency().code().to_owned(),
            authorization_code: code,
            last_four,
            card_kind: kind,
            terminal_id: payer.terminal_id.to_owned(),
            approved_at: payer.now,
            identity: None,
            other_parts: forms.iter().filter_map(PaymentForm::other_part).collect(),
        })));
    }
    let mut request = billing::PostPaymentRequest {
        patient_id: payer.patient_id,
        request_id: payer.request_id,
        terminal_id: payer.terminal_id.to_owned(),
        ..Default::default()
    };
    if let [form] = forms {
        let (amount, method) = form.method();
        request.amount = Some(clinic_proto::money_to_proto(amount));
        request.method = Some(method);
    } else {
        for form in forms {
            let (amount, method) = form.method();
            let method = match method {
                Single::Cash(cash) => Part::Cash(cash),
                Single::Card(card) => Part::Card(card),
                Single::BankTransfer(transfer) => Part::BankTransfer(transfer),
                Single::Advance(advance) => Part::Advance(advance),
            };
            request.parts.push(billing::PaymentPartRequest {
                amount: Some(clinic_proto::money_to_proto(amount)),
                method: Some(method),
            });
        }
    }
    Some(PaymentRequest::Billing(Box::new(request)))
}

impl T {
    /// The name of a payment method from billing's wire value.
    pub(crate) fn from_method(method: i32) -> T {
        match billing::PaymentMethod::try_from(method) {
            Ok(billing::PaymentMethod::Cash) => T::Cash,
            Ok(billing::PaymentMethod::Card) => T::Card,
            Ok(billing::PaymentMethod::BankTransfer) => T::Transfer,
            Ok(billing::PaymentMethod::Advance) => T::Advance,
            Ok(billing::PaymentMethod::Split) => T::Split,
            _ => T::Method,
        }
    }
}
