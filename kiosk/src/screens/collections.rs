//! The collections desk, for collectors at the clinic or working from home: the ranked worklist
//! of accounts that may be contacted now, and an account's balance, aging, promise, plan, contact
//! data and contact log. From an account the collector asks whether the rules allow a contact,
//! logs every attempt and conversation, records a promise to pay, takes a payment by phone
//! through billing, and saves a statement or a collection notice as PDF in the patient's
//! language. The collections service enforces the contact rules and keeps what the collector may
//! see to balances and contact data; this screen only shows what it answers.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::money::Money;
use clinic_common::settings::ClinicSettings;
use clinic_proto::billing::v1 as billing;
use clinic_proto::collections::v1 as collections;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::common::v1 as common;
use clinic_proto::{date_to_proto, timestamp_from_proto};
use collections::{BillingIssue, ContactChannel, ContactDirection, ContactKind, ContactOutcome};
use eframe::egui;
use egui::RichText;

use crate::backend::{AuthChannel, Backend, CallError, Pending, RetryKey, answer};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// How many accounts the worklist shows at once: a day's work and more.
const WORKLIST_SIZE: i32 = 200;

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
    message: Option<Result<String, String>>,

    mine_only: bool,
    worklist: Vec<collections::WorklistItem>,
    worklist_loaded: bool,
    loading_worklist: Option<Pending<Vec<collections::WorklistItem>>>,
    reload_worklist: bool,

    opening: Option<Pending<collections::AccountOverview>>,
    account: Option<AccountDesk>,
}

/// One open account and the work in progress on it.
struct AccountDesk {
    overview: collections::AccountOverview,
    reloading: Option<Pending<collections::AccountOverview>>,

    channel: ContactChannel,
    direction: ContactDirection,
    kind: ContactKind,
    outcome: ContactOutcome,
    issue: BillingIssue,
    notes: String,
    next_step: String,
    next_step_date: String,
    checking: Option<Pending<(ContactChannel, collections::CheckContactResponse)>>,
    checked: Option<(ContactChannel, collections::CheckContactResponse)>,
    recording: Option<Pending<collections::Contact>>,
    contact_key: RetryKey,

    promise_amount: String,
    promise_date: String,
    promising: Option<Pending<collections::Promise>>,
    promise_key: RetryKey,

    pay_amount: String,
    pay_by_card: bool,
    auth_code: String,
    last_four: String,
    card_type: billing::CardType,
    reference: String,
    paying: Option<Pending<collections::TakePaymentResponse>>,
    payment_key: RetryKey,

    rendering: Option<Pending<PathBuf>>,
}

impl AccountDesk {
    fn new(overview: collections::AccountOverview) -> AccountDesk {
        AccountDesk {
            overview,
            reloading: None,
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
            contact_key: RetryKey::default(),
            promise_amount: String::new(),
            promise_date: String::new(),
            promising: None,
            promise_key: RetryKey::default(),
            pay_amount: String::new(),
            pay_by_card: true,
            auth_code: String::new(),
            last_four: String::new(),
            card_type: billing::CardType::Debit,
            reference: String::new(),
            paying: None,
            payment_key: RetryKey::default(),
            rendering: None,
        }
    }

    fn patient_id(&self) -> String {
        self.overview.patient_id.clone()
    }

    fn busy(&self) -> bool {
        self.recording.is_some() || self.promising.is_some() || self.paying.is_some()
    }
}

impl CollectionsDesk {
    pub fn new(setup: CollectionsSetup) -> CollectionsDesk {
        CollectionsDesk {
            backend: setup.backend,
            client: setup.client,
            clinic: setup.clinic,
            lang: setup.language,
            mine_only: !setup.collector.is_empty(),
            collector: setup.collector,
            notices_dir: setup.notices_dir,
            tab: DeskTab::Worklist,
            message: None,
            worklist: Vec::new(),
            worklist_loaded: false,
            loading_worklist: None,
            reload_worklist: true,
            opening: None,
            account: None,
        }
    }

    pub fn language(&self) -> Lang {
        self.lang
    }

    fn money(&self, money: Option<&common::Money>) -> Money {
        Money::from_minor(money.map_or(0, |m| m.minor_units), self.clinic.currency)
    }

    fn shown(&self, money: Option<&common::Money>) -> String {
        format::money(self.money(money))
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

    fn fail(&mut self, error: &CallError) {
        self.message = Some(Err(error.staff_message(self.lang)));
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        egui::Panel::top("collections-top").show(ui, |ui| self.top_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            widgets::message_banner(ui, &mut self.message, T::Close.get(self.lang));
            match self.tab {
                DeskTab::Worklist => {
                    egui::ScrollArea::vertical().show(ui, |ui| self.worklist_ui(ui, &ctx));
                }
                DeskTab::Account => self.account_ui(ui, &ctx),
            }
        });
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

    /// Takes finished calls' results; starts what must load.
    fn poll(&mut self, ctx: &egui::Context) {
        if let Some(result) = self.loading_worklist.as_mut().and_then(Pending::take) {
            self.loading_worklist = None;
            match result {
                Ok(items) => {
                    self.worklist = items;
                    self.worklist_loaded = true;
                }
                Err(error) => self.fail(&error),
            }
        }
        if self.reload_worklist && self.loading_worklist.is_none() {
            self.reload_worklist = false;
            let mut client = self.client.clone();
            let request = collections::ListWorklistRequest {
                as_of: None,
                collector: if self.mine_only {
                    self.collector.clone()
                } else {
                    String::new()
                },
                page: Some(common::PageRequest {
                    page_size: WORKLIST_SIZE,
                    page_token: String::new(),
                }),
            };
            self.loading_worklist = Some(self.backend.call(ctx, async move {
                answer(client.list_worklist(request).await).map(|list| list.items)
            }));
        }
        if let Some(result) = self.opening.as_mut().and_then(Pending::take) {
            self.opening = None;
            match result {
                Ok(overview) => {
                    self.account = Some(AccountDesk::new(overview));
                    self.tab = DeskTab::Account;
                }
                Err(error) => self.fail(&error),
            }
        }
        if let Some(mut account) = self.account.take() {
            self.poll_account(ctx, &mut account);
            self.account = Some(account);
        }
    }

    fn poll_account(&mut self, ctx: &egui::Context, account: &mut AccountDesk) {
        let lang = self.lang;
        if let Some(result) = account.reloading.as_mut().and_then(Pending::take) {
            account.reloading = None;
            match result {
                Ok(overview) => account.overview = overview,
                Err(error) => self.fail(&error),
            }
        }
        if let Some(result) = account.checking.as_mut().and_then(Pending::take) {
            account.checking = None;
            match result {
                Ok(checked) => account.checked = Some(checked),
                Err(error) => self.fail(&error),
            }
        }
        let mut changed = false;
        if let Some(result) = account.recording.as_mut().and_then(Pending::take) {
            account.recording = None;
            match result {
                Ok(_) => {
                    account.contact_key.settle();
                    account.notes.clear();
                    account.next_step.clear();
                    account.next_step_date.clear();
                    account.checked = None;
                    self.message = Some(Ok(T::ContactRecorded.get(lang).into()));
                    changed = true;
                }
                Err(error) => self.fail(&error),
            }
        }
        if let Some(result) = account.promising.as_mut().and_then(Pending::take) {
            account.promising = None;
            match result {
                Ok(promise) => {
                    account.promise_key.settle();
                    account.promise_amount.clear();
                    account.promise_date.clear();
                    self.message = Some(Ok(fill(
                        T::PromiseRecorded.get(lang),
                        &[
                            ("amount", &self.shown(promise.amount.as_ref())),
                            ("date", &shown_date(promise.promised_date.as_ref())),
                        ],
                    )));
                    changed = true;
                }
                Err(error) => self.fail(&error),
            }
        }
        if let Some(result) = account.paying.as_mut().and_then(Pending::take) {
            account.paying = None;
            match result {
                Ok(response) => {
                    account.payment_key.settle();
                    account.pay_amount.clear();
                    account.auth_code.clear();
                    account.last_four.clear();
                    account.reference.clear();
                    let payment = response.payment.unwrap_or_default();
                    self.message = Some(Ok(fill(
                        T::PaymentTaken.get(lang),
                        &[
                            ("receipt", &payment.receipt_number),
                            ("method", T::from_method(payment.method).get(lang)),
                            ("amount", &self.shown(payment.amount.as_ref())),
                            ("balance", &self.shown(payment.balance_after.as_ref())),
                        ],
                    )));
                    changed = true;
                }
                Err(error) => self.fail(&error),
            }
        }
        if let Some(result) = account.rendering.as_mut().and_then(Pending::take) {
            account.rendering = None;
            match result {
                Ok(path) => {
                    self.message = Some(Ok(fill(
                        T::Exported.get(lang),
                        &[("path", &path.display().to_string())],
                    )))
                }
                Err(error) => self.fail(&error),
            }
        }
        if changed {
            self.reload_worklist = true;
            if account.reloading.is_none() {
                account.reloading = Some(self.get_account(ctx, account.patient_id()));
            }
        }
    }

    fn get_account(
        &self,
        ctx: &egui::Context,
        patient_id: String,
    ) -> Pending<collections::AccountOverview> {
        let mut client = self.client.clone();
        self.backend.call(ctx, async move {
            answer(
                client
                    .get_account(collections::GetAccountRequest { patient_id })
                    .await,
            )
        })
    }

    // --- The worklist --------------------------------------------------------------------------

    fn worklist_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let lang = self.lang;
        ui.horizontal(|ui| {
            ui.heading(T::Worklist.get(lang));
            if !self.collector.is_empty()
                && ui
                    .checkbox(&mut self.mine_only, T::MineOnly.get(lang))
                    .changed()
            {
                self.reload_worklist = true;
            }
            if self.loading_worklist.is_some() {
                ui.spinner();
            } else if ui.button(T::Refresh.get(lang)).clicked() {
                self.reload_worklist = true;
            }
            if self.opening.is_some() {
                widgets::working(ui, T::Working.get(lang));
            }
        });
        ui.add_space(4.0);
        if self.worklist_loaded && self.worklist.is_empty() {
            ui.label(T::WorklistEmpty.get(lang));
            return;
        }
        let mut open = None;
        egui::Grid::new("worklist")
            .striped(true)
            .spacing([14.0, 6.0])
            .show(ui, |ui| {
                ui.label("");
                for header in [
                    T::Patient,
                    T::Balance,
                    T::DaysPastDue,
                    T::LastContact,
                    T::PromiseLabel,
                    T::BrokenPromises,
                    T::MissedInstalments,
                    T::Risk,
                    T::ChannelsNow,
                    T::AssignedTo,
                ] {
                    ui.label(RichText::new(header.get(lang)).strong());
                }
                ui.end_row();
                for item in &self.worklist {
                    // First, so that it stays on screen however wide the row.
                    if ui
                        .add_enabled(
                            self.opening.is_none(),
                            egui::Button::new(T::OpenAccount.get(lang)),
                        )
                        .clicked()
                    {
                        open = Some(item.patient_id.clone());
                    }
                    ui.label(&item.patient_name);
                    ui.label(self.shown(item.balance.as_ref()));
                    ui.label(item.days_past_due.max(0).to_string());
                    ui.label(
                        self.when(item.last_contact_time.as_ref())
                            .unwrap_or_else(|| T::Never.get(lang).into()),
                    );
                    ui.label(
                        item.promise
                            .as_ref()
                            .map(|p| promise_status_text(p.status).get(lang))
                            .unwrap_or("—"),
                    );
                    ui.label(item.broken_promises.to_string());
                    ui.label(item.missed_instalments.to_string());
                    let risk = RichText::new(item.risk_score.to_string());
                    ui.label(if item.risk_score >= 50 {
                        risk.color(widgets::DANGER).strong()
                    } else {
                        risk
                    });
                    ui.label(channels_text(&item.allowed_channels, lang));
                    ui.label(if item.collector.is_empty() {
                        T::Unassigned.get(lang)
                    } else {
                        item.collector.as_str()
                    });
                    ui.end_row();
                }
            });
        if let Some(patient_id) = open {
            self.message = None;
            self.opening = Some(self.get_account(ctx, patient_id));
        }
    }

    // --- One account ---------------------------------------------------------------------------

    /// What is known of the account on the left, the work on it on the right: both in sight at
    /// once on a desk's screen.
    fn account_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let Some(mut account) = self.account.take() else {
            ui.label(T::PickAccount.get(self.lang));
            return;
        };
        ui.columns(2, |columns| {
            let [facts, work] = columns else {
                return;
            };
            egui::ScrollArea::vertical()
                .id_salt("account-facts")
                .show(facts, |ui| {
                    self.overview_ui(ui, &account);
                    ui.separator();
                    self.contact_log_ui(ui, &account);
                });
            egui::ScrollArea::vertical()
                .id_salt("account-work")
                .show(work, |ui| {
                    self.contact_form_ui(ui, ctx, &mut account);
                    ui.separator();
                    self.promise_ui(ui, ctx, &mut account);
                    ui.separator();
                    self.phone_payment_ui(ui, ctx, &mut account);
                    ui.separator();
                    self.notices_ui(ui, ctx, &mut account);
                });
        });
        self.account = Some(account);
    }

    fn overview_ui(&self, ui: &mut egui::Ui, account: &AccountDesk) {
        let lang = self.lang;
        let overview = &account.overview;
        ui.horizontal(|ui| {
            ui.heading(&overview.patient_name);
            if account.reloading.is_some() {
                ui.spinner();
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(T::Balance.get(lang));
            ui.label(RichText::new(self.shown(overview.balance.as_ref())).strong());
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
        if let Some(state) = &overview.contact_state {
            for (on, text) in [
                (state.cease_requested, T::CeaseRequested),
                (state.refused_to_pay, T::RefusedToPayState),
                (state.dispute_open, T::DisputeOnHold),
            ] {
                if on {
                    widgets::error_banner(ui, text.get(lang));
                }
            }
        }

        ui.add_space(4.0);
        ui.label(RichText::new(T::Aging.get(lang)).strong());
        if let Some(aging) = &overview.aging {
            let range =
                |from: &str, to: &str| fill(T::DaysRange.get(lang), &[("from", from), ("to", to)]);
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
                        ui.label(self.shown(amount.as_ref()));
                    }
                    ui.end_row();
                });
        }

        if let Some(promise) = &overview.promise {
            ui.label(format!(
                "{}: {}",
                T::PromiseLabel.get(lang),
                fill(
                    T::PromiseLine.get(lang),
                    &[
                        ("amount", &self.shown(promise.amount.as_ref())),
                        ("date", &shown_date(promise.promised_date.as_ref())),
                        ("status", promise_status_text(promise.status).get(lang)),
                        ("paid", &self.shown(promise.amount_paid.as_ref())),
                    ],
                )
            ));
        }
        if let Some(plan) = &overview.plan {
            ui.label(RichText::new(T::PlanLabel.get(lang)).strong());
            for line in &plan.schedule {
                ui.label(fill(
                    T::InstalmentLine.get(lang),
                    &[
                        ("number", &line.number.to_string()),
                        ("date", &shown_date(line.due_date.as_ref())),
                        ("amount", &self.shown(line.amount.as_ref())),
                        ("paid", &self.shown(line.amount_paid.as_ref())),
                        ("status", instalment_status_text(line.status).get(lang)),
                    ],
                ));
            }
        }
    }

    fn contact_form_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &egui::Context,
        account: &mut AccountDesk,
    ) {
        let lang = self.lang;
        ui.label(RichText::new(T::LogContact.get(lang)).strong());
        ui.horizontal_wrapped(|ui| {
            ui.label(T::ChannelLabel.get(lang));
            for channel in CHANNELS {
                if ui
                    .selectable_value(
                        &mut account.channel,
                        channel,
                        channel_text(channel).get(lang),
                    )
                    .changed()
                {
                    account.checked = None;
                }
            }
            if account.checking.is_some() {
                ui.spinner();
            } else if ui.button(T::CheckRules.get(lang)).clicked() {
                let mut client = self.client.clone();
                let request = collections::CheckContactRequest {
                    patient_id: account.patient_id(),
                    channel: account.channel as i32,
                    purpose: collections::ContactPurpose::Outreach as i32,
                };
                let channel = account.channel;
                account.checking = Some(self.backend.call(ctx, async move {
                    answer(client.check_contact(request).await).map(|answer| (channel, answer))
                }));
            }
        });
        if let Some((channel, checked)) = &account.checked {
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
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(
                &mut account.direction,
                ContactDirection::Outbound,
                T::Outbound.get(lang),
            );
            ui.selectable_value(
                &mut account.direction,
                ContactDirection::Inbound,
                T::Inbound.get(lang),
            );
            ui.separator();
            ui.selectable_value(
                &mut account.kind,
                ContactKind::Attempt,
                T::Attempt.get(lang),
            );
            ui.selectable_value(
                &mut account.kind,
                ContactKind::Conversation,
                T::Conversation.get(lang),
            );
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(T::OutcomeLabel.get(lang));
            for outcome in OUTCOMES {
                ui.selectable_value(
                    &mut account.outcome,
                    outcome,
                    outcome_text(outcome).get(lang),
                );
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(T::IssueLabel.get(lang));
            for issue in ISSUES {
                ui.selectable_value(&mut account.issue, issue, issue_text(issue).get(lang));
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label(T::Notes.get(lang));
            ui.add(
                egui::TextEdit::multiline(&mut account.notes)
                    .desired_rows(2)
                    .desired_width(520.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let label = ui.label(T::NextStep.get(lang));
            ui.add(egui::TextEdit::singleline(&mut account.next_step).desired_width(300.0))
                .labelled_by(label.id);
            let label = ui.label(T::NextStepDate.get(lang));
            ui.add(egui::TextEdit::singleline(&mut account.next_step_date).desired_width(110.0))
                .labelled_by(label.id);
        });
        if account.recording.is_some() {
            widgets::working(ui, T::Working.get(lang));
        } else if ui
            .add_enabled(
                !account.busy(),
                egui::Button::new(T::RecordContact.get(lang)),
            )
            .clicked()
        {
            let next_step_date = match account.next_step_date.trim() {
                "" => None,
                text => match parse_date(text) {
                    Some(day) => Some(date_to_proto(day)),
                    None => {
                        self.message = Some(Err(T::DateInvalid.get(lang).into()));
                        return;
                    }
                },
            };
            let contact = collections::Contact {
                patient_id: account.patient_id(),
                channel: account.channel as i32,
                direction: account.direction as i32,
                kind: account.kind as i32,
                purpose: collections::ContactPurpose::Outreach as i32,
                outcome: account.outcome as i32,
                notes: account.notes.trim().to_owned(),
                next_step: account.next_step.trim().to_owned(),
                next_step_date,
                billing_issue: account.issue as i32,
                ..Default::default()
            };
            // The same contact sent again after a timeout keeps its key and is logged once.
            let request = collections::RecordContactRequest {
                request_id: account.contact_key.for_request(format!("{contact:?}")),
                contact: Some(contact),
            };
            let mut client = self.client.clone();
            self.message = None;
            account.recording = Some(self.backend.call(ctx, async move {
                answer(client.record_contact(request).await)
            }));
        }
    }

    fn promise_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context, account: &mut AccountDesk) {
        let lang = self.lang;
        ui.label(RichText::new(T::RecordPromise.get(lang)).strong());
        ui.horizontal(|ui| {
            let label = ui.label(T::PromisedAmount.get(lang));
            ui.add(egui::TextEdit::singleline(&mut account.promise_amount).desired_width(110.0))
                .labelled_by(label.id);
            let label = ui.label(T::PromiseDate.get(lang));
            ui.add(egui::TextEdit::singleline(&mut account.promise_date).desired_width(110.0))
                .labelled_by(label.id);
            if account.promising.is_some() {
                ui.spinner();
            } else if ui
                .add_enabled(
                    !account.busy(),
                    egui::Button::new(T::RecordPromise.get(lang)),
                )
                .clicked()
            {
                let Some(amount) =
                    format::parse_money(&account.promise_amount, self.clinic.currency)
                        .filter(Money::is_positive)
                else {
                    self.message = Some(Err(T::AmountInvalid.get(lang).into()));
                    return;
                };
                let Some(day) = parse_date(&account.promise_date) else {
                    self.message = Some(Err(T::DateInvalid.get(lang).into()));
                    return;
                };
                let promise = collections::Promise {
                    patient_id: account.patient_id(),
                    amount: Some(clinic_proto::money_to_proto(amount)),
                    promised_date: Some(date_to_proto(day)),
                    ..Default::default()
                };
                let request = collections::RecordPromiseRequest {
                    request_id: account.promise_key.for_request(format!("{promise:?}")),
                    promise: Some(promise),
                    made_time: None,
                };
                let mut client = self.client.clone();
                self.message = None;
                account.promising = Some(self.backend.call(ctx, async move {
                    answer(client.record_promise(request).await)
                }));
            }
        });
    }

    fn phone_payment_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &egui::Context,
        account: &mut AccountDesk,
    ) {
        let lang = self.lang;
        ui.label(RichText::new(T::PhonePayment.get(lang)).strong());
        ui.horizontal(|ui| {
            ui.selectable_value(&mut account.pay_by_card, true, T::Card.get(lang));
            ui.selectable_value(&mut account.pay_by_card, false, T::Transfer.get(lang));
            let label = ui.label(T::Amount.get(lang));
            ui.add(egui::TextEdit::singleline(&mut account.pay_amount).desired_width(110.0))
                .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            if account.pay_by_card {
                let label = ui.label(T::AuthorizationCode.get(lang));
                ui.add(egui::TextEdit::singleline(&mut account.auth_code).desired_width(110.0))
                    .labelled_by(label.id);
                let label = ui.label(T::CardLastFour.get(lang));
                ui.add(egui::TextEdit::singleline(&mut account.last_four).desired_width(60.0))
                    .labelled_by(label.id);
                ui.selectable_value(
                    &mut account.card_type,
                    billing::CardType::Debit,
                    T::Debit.get(lang),
                );
                ui.selectable_value(
                    &mut account.card_type,
                    billing::CardType::Credit,
                    T::Credit.get(lang),
                );
            } else {
                let label = ui.label(T::Reference.get(lang));
                ui.add(egui::TextEdit::singleline(&mut account.reference).desired_width(220.0))
                    .labelled_by(label.id);
            }
        });
        if account.paying.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return;
        }
        if !ui
            .add_enabled(!account.busy(), egui::Button::new(T::TakePayment.get(lang)))
            .clicked()
        {
            return;
        }
        let Some(amount) = format::parse_money(&account.pay_amount, self.clinic.currency)
            .filter(Money::is_positive)
        else {
            self.message = Some(Err(T::AmountInvalid.get(lang).into()));
            return;
        };
        let method = if account.pay_by_card {
            let code = account.auth_code.trim();
            if code.is_empty()
                || !code.chars().all(|c| c.is_ascii_alphanumeric())
                || !format::is_last_four(&account.last_four)
            {
                self.message = Some(Err(T::FillEverything.get(lang).into()));
                return;
            }
            collections::take_payment_request::Method::Card(billing::CardPayment {
                authorization_code: code.to_owned(),
                last_four: account.last_four.clone(),
                card_type: account.card_type as i32,
            })
        } else {
            let reference = account.reference.trim();
            if reference.is_empty() || reference.len() > 64 {
                self.message = Some(Err(T::FillEverything.get(lang).into()));
                return;
            }
            collections::take_payment_request::Method::BankTransfer(billing::BankTransferPayment {
                reference: reference.to_owned(),
            })
        };
        // Retried after a timeout, the same payment keeps its key: billing records it once.
        let fingerprint = format!(
            "{}|{}|{method:?}",
            account.patient_id(),
            amount.minor_units()
        );
        let request = collections::TakePaymentRequest {
            patient_id: account.patient_id(),
            amount: Some(clinic_proto::money_to_proto(amount)),
            method: Some(method),
            request_id: account.payment_key.for_request(fingerprint),
        };
        let mut client = self.client.clone();
        self.message = None;
        account.paying =
            Some(self.backend.call(
                ctx,
                async move { answer(client.take_payment(request).await) },
            ));
    }

    fn notices_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context, account: &mut AccountDesk) {
        let lang = self.lang;
        ui.label(RichText::new(T::Notices.get(lang)).strong());
        ui.horizontal(|ui| {
            if account.rendering.is_some() {
                ui.spinner();
                return;
            }
            for (kind, text) in [
                (collections::NoticeKind::Statement, T::Statement),
                (collections::NoticeKind::FirstNotice, T::FirstNotice),
                (collections::NoticeKind::Reminder, T::ReminderNotice),
            ] {
                if ui.button(text.get(lang)).clicked() {
                    let mut client = self.client.clone();
                    let request = collections::RenderNoticeRequest {
                        patient_id: account.patient_id(),
                        kind: kind as i32,
                        format: collections::NoticeFormat::Pdf as i32,
                        // In the patient's own language, whatever the desk's.
                        language: String::new(),
                    };
                    let dir = self.notices_dir.clone();
                    account.rendering = Some(self.backend.call(ctx, async move {
                        let notice = answer(client.render_notice(request).await)?;
                        save_notice(&dir, &notice)
                            .map_err(|error| CallError::Other(format!("{error:#}")))
                    }));
                }
            }
        });
    }

    fn contact_log_ui(&self, ui: &mut egui::Ui, account: &AccountDesk) {
        let lang = self.lang;
        ui.label(RichText::new(T::ContactLog.get(lang)).strong());
        if account.overview.recent_contacts.is_empty() {
            ui.label(T::NoContacts.get(lang));
            return;
        }
        for contact in &account.overview.recent_contacts {
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
                self.when(contact.create_time.as_ref()).unwrap_or_default(),
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
}

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

const ISSUES: [BillingIssue; 5] = [
    BillingIssue::Unspecified,
    BillingIssue::WrongCharge,
    BillingIssue::Insurance,
    BillingIssue::Price,
    BillingIssue::ServiceComplaint,
];

fn channel_text(channel: ContactChannel) -> T {
    match channel {
        ContactChannel::PhoneCall | ContactChannel::Unspecified => T::ChannelCall,
        ContactChannel::Sms => T::ChannelSms,
        ContactChannel::Whatsapp => T::ChannelWhatsApp,
        ContactChannel::Email => T::ChannelEmail,
        ContactChannel::Letter => T::ChannelLetter,
    }
}

/// "Phone call, SMS, Letter" from the wire's channel numbers.
fn channels_text(channels: &[i32], lang: Lang) -> String {
    channels
        .iter()
        .filter_map(|&channel| ContactChannel::try_from(channel).ok())
        .map(|channel| channel_text(channel).get(lang))
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome_text(outcome: ContactOutcome) -> T {
    match outcome {
        ContactOutcome::NoAnswer | ContactOutcome::Unspecified => T::OutcomeNoAnswer,
        ContactOutcome::LeftMessage => T::OutcomeLeftMessage,
        ContactOutcome::Spoke => T::OutcomeSpoke,
        ContactOutcome::Promise => T::OutcomePromise,
        ContactOutcome::RefusedToPay => T::OutcomeRefused,
        ContactOutcome::CeaseRequested => T::OutcomeCease,
        ContactOutcome::Disputed => T::OutcomeDisputed,
        ContactOutcome::WrongNumber => T::OutcomeWrongNumber,
    }
}

fn issue_text(issue: BillingIssue) -> T {
    match issue {
        BillingIssue::Unspecified => T::IssueNone,
        BillingIssue::WrongCharge => T::IssueWrongCharge,
        BillingIssue::Insurance => T::IssueInsurance,
        BillingIssue::Price => T::IssuePrice,
        BillingIssue::ServiceComplaint => T::IssueComplaint,
    }
}

fn rule_text(rule: i32) -> T {
    use collections::ContactRule;
    match ContactRule::try_from(rule).unwrap_or_default() {
        ContactRule::ContactHours => T::RuleContactHours,
        ContactRule::CallFrequency => T::RuleCallFrequency,
        ContactRule::AfterConversation => T::RuleAfterConversation,
        ContactRule::CeaseRequested => T::RuleCease,
        ContactRule::RefusedToPay => T::RuleRefused,
        ContactRule::DisputeHold => T::RuleDispute,
        ContactRule::NoConsent | ContactRule::Unspecified => T::RuleNoConsent,
    }
}

fn promise_status_text(status: i32) -> T {
    use collections::PromiseStatus;
    match PromiseStatus::try_from(status).unwrap_or_default() {
        PromiseStatus::Open | PromiseStatus::Unspecified => T::PromiseOpen,
        PromiseStatus::Kept => T::PromiseKept,
        PromiseStatus::PartlyKept => T::PromisePartlyKept,
        PromiseStatus::Broken => T::PromiseBroken,
        PromiseStatus::Superseded => T::PromiseSuperseded,
    }
}

fn instalment_status_text(status: i32) -> T {
    use collections::InstalmentStatus;
    match InstalmentStatus::try_from(status).unwrap_or_default() {
        InstalmentStatus::Due | InstalmentStatus::Unspecified => T::InstalmentDue,
        InstalmentStatus::Paid => T::InstalmentPaid,
        InstalmentStatus::PartlyPaid => T::InstalmentPartlyPaid,
        InstalmentStatus::Missed => T::InstalmentMissed,
    }
}

/// A typed `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn shown_date(date: Option<&common::Date>) -> String {
    clinic_proto::date_from_proto(date)
        .map(|day| day.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Writes a rendered notice into `dir` under the name the service gave it, and returns its path.
fn save_notice(
    dir: &std::path::Path,
    notice: &collections::RenderedNotice,
) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    // The service names the file; keep only its last component all the same.
    let name = std::path::Path::new(&notice.file_name)
        .file_name()
        .context("the notice has no file name")?;
    let path = dir.join(name);
    std::fs::write(&path, &notice.content)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(path)
}
