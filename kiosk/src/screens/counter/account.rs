//! One patient's open account: the balance (or credit), the first-visit form's answers, a
//! charge from the price list, a payment by any method or split across several, the receipt of
//! the last payment, and a walk-in for a patient with no appointment today.

use clinic_common::money::{Currency, Money};
use clinic_proto::billing::v1 as billing;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use eframe::egui;
use egui::RichText;

use super::View;
use super::act::Action;
use super::payment::{PaymentFields, PaymentForm};
use crate::backend::{CallError, Pending, RetryKey};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::outbox::Posting;
use crate::widgets;

pub(super) struct AccountPanel {
    pub(super) patient: patients::Patient,
    /// Today's appointment the account was opened from; empty for a patient without one.
    pub(super) appointment_id: String,
    balance: Option<Money>,
    pub(super) loading_balance: Option<Pending<billing::AccountBalance>>,
    /// The patient's first-visit form: `Some(None)` when they have none.
    intake: Option<Option<patients::IntakeForm>>,
    pub(super) loading_intake: Option<Pending<Option<patients::IntakeForm>>>,

    pub(super) charge_code: String,
    charge_quantity: String,
    pub(super) posting_charge: Option<Pending<billing::Charge>>,
    /// The idempotency key of the charge being posted: sent again after a timeout, the same
    /// charge keeps it and is posted once.
    pub(super) charge_key: RetryKey,

    payment: PaymentFields,
    /// Parts of a split payment added so far.
    parts: Vec<PaymentForm>,
    /// The idempotency key of the payment being taken: a retry after "billing is down" reuses
    /// it, so the payment is recorded once.
    pub(super) payment_key: RetryKey,
    pub(super) paying: Option<Pending<Posting>>,
    pub(super) last_payment: Option<billing::Payment>,
    pub(super) printing: Option<Pending<String>>,

    pub(super) walking_in: Option<Pending<scheduling::RegisterWalkInResponse>>,
    pub(super) walk_in_key: RetryKey,
}

impl AccountPanel {
    pub(super) fn new(patient: patients::Patient, appointment_id: String) -> AccountPanel {
        AccountPanel {
            patient,
            appointment_id,
            balance: None,
            loading_balance: None,
            intake: None,
            loading_intake: None,
            charge_code: String::new(),
            charge_quantity: "1".into(),
            posting_charge: None,
            charge_key: RetryKey::default(),
            payment: PaymentFields::default(),
            parts: Vec::new(),
            payment_key: RetryKey::default(),
            paying: None,
            last_payment: None,
            printing: None,
            walking_in: None,
            walk_in_key: RetryKey::default(),
        }
    }

    /// How many of the chosen item to charge, when it is a sensible number.
    pub(super) fn charge_quantity(&self) -> Option<i32> {
        let quantity: i32 = self.charge_quantity.trim().parse().unwrap_or(0);
        (!self.charge_code.is_empty() && (1..=999).contains(&quantity)).then_some(quantity)
    }

    /// Adds the payment in the form to the split payment's parts, and offers what is left to pay.
    pub(super) fn add_part(&mut self, currency: Currency, lang: Lang) -> Result<(), String> {
        let part = self.payment.checked(currency, lang)?;
        let remaining = self
            .balance
            .and_then(|b| b.checked_sub(part.amount()).ok())
            .and_then(|b| {
                self.parts
                    .iter()
                    .try_fold(b, |left, p| left.checked_sub(p.amount()).ok())
            });
        self.parts.push(part);
        self.payment_key.settle();
        self.payment.amount = remaining
            .filter(Money::is_positive)
            .map(format::money_input)
            .unwrap_or_default();
        self.payment.clear_details();
        Ok(())
    }

    /// What is to be paid now: the parts added so far, and the one in the form if it is filled
    /// in (or if there are no parts).
    pub(super) fn payment_forms(
        &self,
        currency: Currency,
        lang: Lang,
    ) -> Result<Vec<PaymentForm>, String> {
        let mut forms = self.parts.clone();
        if forms.is_empty() || !self.payment.amount.trim().is_empty() {
            forms.push(self.payment.checked(currency, lang)?);
        }
        Ok(forms)
    }

    /// Takes finished calls' results; what to tell reception.
    pub(super) fn poll(&mut self, lang: Lang, currency: Currency) -> Vec<Action> {
        let mut outcome: Option<Result<String, String>> = None;
        if let Some(result) = self.loading_balance.as_mut().and_then(Pending::take) {
            self.loading_balance = None;
            match result {
                Ok(balance) => {
                    let balance =
                        Money::from_minor(balance.balance.map_or(0, |m| m.minor_units), currency);
                    self.balance = Some(balance);
                    if self.payment.amount.is_empty() && balance.is_positive() {
                        self.payment.amount = format::money_input(balance);
                    }
                }
                Err(error) => outcome = Some(Err(error.staff_message(lang))),
            }
        }
        if let Some(result) = self.posting_charge.as_mut().and_then(Pending::take) {
            self.posting_charge = None;
            match result {
                Ok(charge) => {
                    self.charge_key.settle();
                    outcome = Some(Ok(fill(
                        T::ChargePosted.get(lang),
                        &[("item", &charge.description)],
                    )));
                    self.payment.amount.clear();
                    self.balance = None;
                }
                Err(error) => outcome = Some(Err(error.staff_message(lang))),
            }
        }
        if let Some(result) = self.paying.as_mut().and_then(Pending::take) {
            self.paying = None;
            outcome = Some(self.paid(result, lang, currency));
        }
        if let Some(result) = self.loading_intake.as_mut().and_then(Pending::take) {
            self.loading_intake = None;
            match result {
                Ok(form) => self.intake = Some(form),
                Err(error) => tracing::warn!(?error, "could not read the intake form"),
            }
        }
        if let Some(result) = self.walking_in.as_mut().and_then(Pending::take) {
            self.walking_in = None;
            outcome = Some(match result {
                Ok(response) => {
                    self.walk_in_key.settle();
                    let ticket = response
                        .queue_entry
                        .map(|e| e.ticket_number)
                        .unwrap_or_default();
                    Ok(fill(T::WalkInQueued.get(lang), &[("ticket", &ticket)]))
                }
                Err(error) => Err(error.staff_message(lang)),
            });
        }
        if let Some(result) = self.printing.as_mut().and_then(Pending::take) {
            self.printing = None;
            outcome = Some(result.map_err(|error| error.staff_message(lang)));
        }
        outcome.map(Action::Tell).into_iter().collect()
    }

    /// A payment's answer: recorded (the new balance, change, a receipt to print), saved in the
    /// outbox (billing is down), or refused.
    fn paid(
        &mut self,
        result: Result<Posting, CallError>,
        lang: Lang,
        currency: Currency,
    ) -> Result<String, String> {
        match result {
            Ok(Posting::Recorded(payment)) => {
                self.payment_key.settle();
                self.parts.clear();
                let money = |m: Option<&clinic_proto::common::v1::Money>| {
                    Money::from_minor(m.map_or(0, |m| m.minor_units), currency)
                };
                let balance = money(payment.balance_after.as_ref());
                let mut text = fill(
                    T::PaymentTaken.get(lang),
                    &[
                        ("receipt", &payment.receipt_number),
                        ("method", T::from_method(payment.method).get(lang)),
                        ("amount", &format::money(money(payment.amount.as_ref()))),
                        ("balance", &format::money(balance)),
                    ],
                );
                if let Some(change) = payment.change.as_ref().filter(|c| c.minor_units > 0) {
                    text.push(' ');
                    text.push_str(&fill(
                        T::ChangeDue.get(lang),
                        &[("amount", &format::money(money(Some(change))))],
                    ));
                }
                self.balance = Some(balance);
                self.payment.amount = if balance.is_positive() {
                    format::money_input(balance)
                } else {
                    String::new()
                };
                self.payment.clear_details();
                self.last_payment = Some(*payment);
                Ok(text)
            }
            Ok(Posting::Saved) => {
                // The balance shown stays as it was until billing answers again.
                self.payment_key.settle();
                self.parts.clear();
                self.payment.clear_card();
                Ok(T::PaymentSaved.get(lang).into())
            }
            Ok(Posting::Refused(error)) | Err(error) => Err(error.staff_message(lang)),
        }
    }

    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        prices: &[billing::PriceListItem],
    ) -> Vec<Action> {
        let lang = view.lang;
        let mut actions: Vec<Action> = self.heading_ui(ui, lang).into_iter().collect();
        actions.extend(self.balance_ui(ui, lang));
        if let Some(Some(form)) = &self.intake {
            intake_ui(ui, form, lang);
        }
        ui.add_space(6.0);
        actions.extend(self.charge_ui(ui, view, prices));
        ui.add_space(6.0);
        ui.label(RichText::new(T::TakePayment.get(lang)).strong());
        self.payment.method_ui(ui, lang);
        self.payment.fields_ui(ui, lang, view.clinic.currency);
        self.parts_ui(ui, lang);
        actions.extend(self.payment_buttons_ui(ui, lang));
        actions
    }

    /// The patient's name; a patient with no appointment today joins the queue as a walk-in.
    fn heading_ui(&self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            ui.heading(format::full_name(
                &self.patient.given_name,
                &self.patient.family_name,
            ));
            if self.appointment_id.is_empty() {
                if self.walking_in.is_some() {
                    ui.spinner();
                } else if ui.button(T::WalkIn.get(lang)).clicked() {
                    action = Some(Action::WalkIn);
                }
            }
        });
        action
    }

    /// The balance (or credit), with Refresh; asks for it whenever it is not known.
    fn balance_ui(&self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            ui.label(T::Balance.get(lang));
            match self.balance {
                Some(balance) if balance.is_negative() => {
                    ui.label(
                        RichText::new(format!(
                            "{} {}",
                            format::money(balance.negated()),
                            T::InCredit.get(lang)
                        ))
                        .strong()
                        .color(widgets::SUCCESS),
                    );
                }
                Some(balance) => {
                    ui.label(RichText::new(format::money(balance)).strong());
                }
                None => {
                    ui.spinner();
                }
            }
            if self.loading_balance.is_none() && ui.small_button(T::Refresh.get(lang)).clicked() {
                action = Some(Action::LoadBalance);
            }
        });
        if self.balance.is_none() && self.loading_balance.is_none() {
            action = Some(Action::LoadBalance);
        }
        action
    }

    /// The price list to choose from, the quantity, and Post charge.
    fn charge_ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        prices: &[billing::PriceListItem],
    ) -> Option<Action> {
        let lang = view.lang;
        ui.label(RichText::new(T::PostCharge.get(lang)).strong());
        ui.horizontal_wrapped(|ui| {
            for item in prices {
                let text = format!(
                    "{} · {} · {}",
                    item.code,
                    item.description,
                    view.shown(item.unit_price.as_ref())
                );
                ui.selectable_value(&mut self.charge_code, item.code.clone(), text);
            }
        });
        let mut action = None;
        ui.horizontal(|ui| {
            let label = ui.label(T::Quantity.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.charge_quantity).desired_width(50.0))
                .labelled_by(label.id);
            if self.posting_charge.is_some() {
                ui.spinner();
            } else if ui
                .add_enabled(
                    self.charge_quantity().is_some(),
                    egui::Button::new(T::PostCharge.get(lang)),
                )
                .clicked()
            {
                action = Some(Action::PostCharge);
            }
        });
        action
    }

    /// A split payment: each part is added to the list, then all are taken as one payment.
    fn parts_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let mut remove = None;
        for (index, part) in self.parts.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(format!("{}. {}", index + 1, part.describe(lang)));
                if ui.small_button("✕").clicked() {
                    remove = Some(index);
                }
            });
        }
        if let Some(index) = remove {
            self.parts.remove(index);
            self.payment_key.settle();
        }
        ui.label(
            RichText::new(T::SplitHint.get(lang))
                .small()
                .color(widgets::MUTED),
        );
    }

    /// Add part, Take payment, and the last payment's receipt.
    fn payment_buttons_ui(&self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            if self.paying.is_some() {
                widgets::working(ui, T::Working.get(lang));
            } else {
                if ui.button(T::AddPart.get(lang)).clicked() {
                    action = Some(Action::AddPart);
                }
                if ui
                    .button(RichText::new(T::TakePayment.get(lang)).strong())
                    .clicked()
                {
                    action = Some(Action::TakePayment);
                }
            }
            if let Some(payment) = &self.last_payment {
                if self.printing.is_some() {
                    ui.spinner();
                } else if ui
                    .button(format!(
                        "{} {}",
                        T::PrintReceipt.get(lang),
                        payment.receipt_number
                    ))
                    .clicked()
                {
                    action = Some(Action::PrintReceipt);
                }
            }
        });
        action
    }
}

/// The first-visit form's answers, for staff before the patient is seen.
fn intake_ui(ui: &mut egui::Ui, form: &patients::IntakeForm, lang: Lang) {
    use patients::MedicalCondition as C;
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, widgets::MUTED))
        .inner_margin(8)
        .corner_radius(4)
        .show(ui, |ui| {
            ui.label(RichText::new(T::IntakeTitle.get(lang)).strong());
            let allergies = if form.has_allergies == Some(true) {
                RichText::new(&form.allergies)
                    .color(widgets::DANGER)
                    .strong()
            } else {
                RichText::new(T::No.get(lang))
            };
            ui.horizontal_wrapped(|ui| {
                ui.label(T::HasAllergies.get(lang));
                ui.label(allergies);
            });
            let conditions: Vec<&str> = form
                .conditions
                .iter()
                .filter_map(|condition| match C::try_from(*condition).ok()? {
                    C::Diabetes => Some(T::Diabetes.get(lang)),
                    C::Hypertension => Some(T::Hypertension.get(lang)),
                    C::HeartDisease => Some(T::HeartDisease.get(lang)),
                    C::Asthma => Some(T::Asthma.get(lang)),
                    C::BleedingDisorder => Some(T::BleedingDisorder.get(lang)),
                    C::Pregnancy => Some(T::Pregnancy.get(lang)),
                    C::Unspecified => None,
                })
                .collect();
            if let Some(guardian) = &form.guardian {
                use patients::GuardianRelationship as R;
                let relationship = match R::try_from(guardian.relationship) {
                    Ok(R::Mother) => T::Mother.get(lang),
                    Ok(R::Father) => T::Father.get(lang),
                    Ok(R::LegalGuardian) => T::LegalGuardian.get(lang),
                    Ok(R::Other) => T::OtherRelation.get(lang),
                    Ok(R::Unspecified) | Err(_) => "",
                };
                ui.label(
                    RichText::new(format!(
                        "{}: {} ({relationship}) {}",
                        T::GuardianSection.get(lang),
                        guardian.full_name,
                        guardian.phone
                    ))
                    .strong(),
                );
            }
            for (caption, answer) in [
                (T::ReasonForVisit, form.reason_for_visit.clone()),
                (T::Medications, form.medications.clone()),
                (T::Conditions, conditions.join(", ")),
                (
                    T::EmergencyContact,
                    format!(
                        "{} {}",
                        form.emergency_contact_name, form.emergency_contact_phone
                    ),
                ),
            ] {
                if !answer.trim().is_empty() {
                    ui.label(format!("{} {}", caption.get(lang), answer.trim()));
                }
            }
        });
}
