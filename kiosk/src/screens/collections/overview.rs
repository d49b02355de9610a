//! What is known of an open account, on the left of the desk: the balance and who has it, the
//! contact data and consents, holds on contacting (cease, refusal, dispute), the aging, the
//! promise and the plan; and below them the contact log.

use clinic_proto::collections::v1 as collections;
use collections::{BillingIssue, ContactChannel, ContactDirection, ContactOutcome};
use eframe::egui;
use egui::RichText;

use super::View;
use super::labels::{
    channel_text, channels_text, instalment_status_text, issue_text, outcome_text,
    promise_status_text,
};
use super::shown_date;
use crate::i18n::{T, fill};
use crate::widgets;

/// The account's facts; a spinner beside the name while they are read again.
pub(super) fn overview_ui(
    ui: &mut egui::Ui,
    view: &View,
    overview: &collections::AccountOverview,
    reloading: bool,
) {
    ui.horizontal(|ui| {
        ui.heading(&overview.patient_name);
        if reloading {
            ui.spinner();
        }
    });
    standing_ui(ui, view, overview);
    contact_data_ui(ui, view, overview);
    if let Some(state) = &overview.contact_state {
        for (on, text) in [
            (state.cease_requested, T::CeaseRequested),
            (state.refused_to_pay, T::RefusedToPayState),
            (state.dispute_open, T::DisputeOnHold),
        ] {
            if on {
                widgets::error_banner(ui, text.get(view.lang));
            }
        }
    }
    ui.add_space(4.0);
    ui.label(RichText::new(T::Aging.get(view.lang)).strong());
    if let Some(aging) = &overview.aging {
        aging_ui(ui, view, aging);
    }
    if let Some(promise) = &overview.promise {
        promise_ui(ui, view, promise);
    }
    if let Some(plan) = &overview.plan {
        plan_ui(ui, view, plan);
    }
}

/// The balance, days past due, and the collector it is assigned to.
fn standing_ui(ui: &mut egui::Ui, view: &View, overview: &collections::AccountOverview) {
    let lang = view.lang;
    ui.horizontal_wrapped(|ui| {
        ui.label(T::Balance.get(lang));
        ui.label(RichText::new(view.shown(overview.balance.as_ref())).strong());
        ui.separator();
        ui.label(format!(
            "{}: {}",
            T::DaysPastDue.get(lang),
            overview.days_past_due
        ));
        ui.separator();
        ui.label(format!(
            "{}: {}",
            T::AssignedTo.get(lang),
            if overview.collector.is_empty() {
                T::Unassigned.get(lang)
            } else {
                overview.collector.as_str()
            }
        ));
    });
}

/// Phone, email, language, and the channels the patient consented to.
fn contact_data_ui(ui: &mut egui::Ui, view: &View, overview: &collections::AccountOverview) {
    let lang = view.lang;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{}: {}", T::PhoneLabel.get(lang), overview.phone));
        ui.separator();
        ui.label(format!("{}: {}", T::EmailLabel.get(lang), overview.email));
        ui.separator();
        ui.label(format!(
            "{}: {}",
            T::PatientLanguage.get(lang),
            overview.preferred_language
        ));
        ui.separator();
        let consented = if overview.consented_channels.is_empty() {
            T::NoConsent.get(lang).to_owned()
        } else {
            channels_text(&overview.consented_channels, lang)
        };
        ui.label(format!("{}: {consented}", T::ConsentedTo.get(lang)));
    });
}

/// What is owed by how long it is past due.
fn aging_ui(ui: &mut egui::Ui, view: &View, aging: &collections::AgingBuckets) {
    let lang = view.lang;
    let range = |from: &str, to: &str| fill(T::DaysRange.get(lang), &[("from", from), ("to", to)]);
    egui::Grid::new("aging")
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            let buckets = [
                (T::NotYetDue.get(lang).to_owned(), &aging.not_yet_due),
                (range("0", "30"), &aging.days_0_to_30),
                (range("31", "60"), &aging.days_31_to_60),
                (range("61", "90"), &aging.days_61_to_90),
                (range("91", "120"), &aging.days_91_to_120),
                (
                    fill(T::OverDays.get(lang), &[("days", "120")]),
                    &aging.over_120_days,
                ),
            ];
            for (label, _) in &buckets {
                ui.label(label);
            }
            ui.end_row();
            for (_, amount) in &buckets {
                ui.label(view.shown(amount.as_ref()));
            }
            ui.end_row();
        });
}

/// The promise to pay: how much, by when, how it stands, what was paid.
fn promise_ui(ui: &mut egui::Ui, view: &View, promise: &collections::Promise) {
    let lang = view.lang;
    ui.label(format!(
        "{}: {}",
        T::PromiseLabel.get(lang),
        fill(
            T::PromiseLine.get(lang),
            &[
                ("amount", &view.shown(promise.amount.as_ref())),
                ("date", &shown_date(promise.promised_date.as_ref())),
                ("status", promise_status_text(promise.status).get(lang)),
                ("paid", &view.shown(promise.amount_paid.as_ref())),
            ],
        )
    ));
}

/// The payment plan's instalments.
fn plan_ui(ui: &mut egui::Ui, view: &View, plan: &collections::PaymentPlan) {
    let lang = view.lang;
    ui.label(RichText::new(T::PlanLabel.get(lang)).strong());
    for line in &plan.schedule {
        ui.label(fill(
            T::InstalmentLine.get(lang),
            &[
                ("number", &line.number.to_string()),
                ("date", &shown_date(line.due_date.as_ref())),
                ("amount", &view.shown(line.amount.as_ref())),
                ("paid", &view.shown(line.amount_paid.as_ref())),
                ("status", instalment_status_text(line.status).get(lang)),
            ],
        ));
    }
}

/// Every contact logged, newest first as the service sends them.
pub(super) fn contact_log_ui(
    ui: &mut egui::Ui,
    view: &View,
    overview: &collections::AccountOverview,
) {
    let lang = view.lang;
    ui.label(RichText::new(T::ContactLog.get(lang)).strong());
    if overview.recent_contacts.is_empty() {
        ui.label(T::NoContacts.get(lang));
        return;
    }
    for contact in &overview.recent_contacts {
        let channel = ContactChannel::try_from(contact.channel).unwrap_or_default();
        let direction = if contact.direction == ContactDirection::Inbound as i32 {
            T::Inbound
        } else {
            T::Outbound
        };
        let outcome = ContactOutcome::try_from(contact.outcome).unwrap_or_default();
        let issue = BillingIssue::try_from(contact.billing_issue).unwrap_or_default();
        let mut heading = format!(
            "{} · {} · {} · {}",
            view.when(contact.create_time.as_ref()).unwrap_or_default(),
            channel_text(channel).get(lang),
            direction.get(lang),
            outcome_text(outcome).get(lang),
        );
        if issue != BillingIssue::Unspecified {
            heading.push_str(&format!(" · {}", issue_text(issue).get(lang)));
        }
        ui.label(RichText::new(heading).strong());
        if !contact.notes.is_empty() {
            ui.label(&contact.notes);
        }
        if !contact.next_step.is_empty() {
            ui.label(format!("{}: {}", T::NextStep.get(lang), contact.next_step));
        }
        ui.label(
            RichText::new(&contact.recorded_by)
                .small()
                .color(widgets::MUTED),
        );
        ui.add_space(4.0);
    }
}
