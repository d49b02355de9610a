//! Reception's counter: today's schedule with live statuses (the staff queue watch), patient
//! search, check-in on a patient's behalf, charges from the price list, payments by cash (with
//! change), card (authorisation code, kept in the outbox until billing has it), bank transfer,
//! split across methods one part at a time, receipts to the configured printer, the cash
//! drawer opened with a counted float and closed from a blind count, and the daily close.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use clinic_common::clock::SharedClock;
use clinic_common::money::{Currency, Money};
use clinic_common::settings::ClinicSettings;
use clinic_common::time::local_date;
use clinic_proto::billing::v1 as billing;
use clinic_proto::common::v1 as common;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::{date_to_proto, timestamp_from_proto};
use eframe::egui;
use egui::{Color32, RichText, vec2};
use tokio::sync::{Notify, mpsc, watch};

use crate::backend::{Backend, CallError, Pending, RetryKey, WatchEvent, answer};
use crate::config::PrinterConfig;
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::outbox::{ApprovedCardPayment, CardKind, OtherPart, Outbox, OutboxState, Posting};
use crate::printing;
use crate::screens::booking::{BookingForm, BookingLists, RegisterForm, Registered};
use crate::widgets;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Schedule,
    Patients,
    Drawer,
    Close,
}

/// A step in an appointment's life, asked for from the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Confirm(String),
    /// Opens the reason; the cancellation is sent with it.
    Cancel(String),
    NoShow(String),
    /// The queue entry of an arrived patient.
    Seat(String),
    Complete(String),
    CheckOut(String),
}

/// The buttons for the steps an appointment may take next; the one pressed, if any.
fn life_cycle_buttons(
    ui: &mut egui::Ui,
    lang: Lang,
    appointment: &scheduling::Appointment,
    entry: Option<&scheduling::QueueEntry>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Step> {
    use scheduling::AppointmentStatus as S;
    let id = || appointment.appointment_id.clone();
    let started =
        timestamp_from_proto(appointment.start_time.as_ref()).is_ok_and(|start| start <= now);
    let mut step = None;
    let mut button = |text: T, make: &dyn Fn() -> Step| {
        if ui.small_button(text.get(lang)).clicked() {
            step = Some(make());
        }
    };
    match S::try_from(appointment.status) {
        Ok(S::Scheduled) => {
            button(T::ConfirmVisit, &|| Step::Confirm(id()));
            button(T::CancelVisit, &|| Step::Cancel(id()));
        }
        Ok(S::Confirmed) => {
            button(T::CancelVisit, &|| Step::Cancel(id()));
        }
        Ok(S::Arrived) => {
            if let Some(entry) = entry {
                let queue_entry_id = entry.queue_entry_id.clone();
                button(T::Seat, &|| Step::Seat(queue_entry_id.clone()));
            }
        }
        Ok(S::Seated) => button(T::Complete, &|| Step::Complete(id())),
        Ok(S::Completed) => button(T::CheckOut, &|| Step::CheckOut(id())),
        _ => {}
    }
    if started
        && matches!(
            S::try_from(appointment.status),
            Ok(S::Scheduled | S::Confirmed)
        )
    {
        button(T::NoShow, &|| Step::NoShow(id()));
    }
    step
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
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

/// Today's schedule as loaded: appointments, and who they are with.
struct Schedule {
    appointments: Vec<scheduling::Appointment>,
    patients: HashMap<String, patients::Patient>,
    providers: HashMap<String, String>,
}

/// The open account of one patient.
struct AccountPanel {
    patient: patients::Patient,
    appointment_id: String,
    balance: Option<Money>,
    loading_balance: Option<Pending<billing::AccountBalance>>,
    charge_code: String,
    charge_quantity: String,
    posting_charge: Option<Pending<billing::Charge>>,
    method: Method,
    amount: String,
    tendered: String,
    auth_code: String,
    last_four: String,
    card_kind: CardKind,
    reference: String,
    /// The idempotency key of the payment being taken: a retry after "billing is down" reuses
    /// it, so the payment is recorded once.
    payment_key: RetryKey,
    /// The same for the charge being posted and the walk-in being queued.
    charge_key: RetryKey,
    walk_in_key: RetryKey,
    paying: Option<Pending<Posting>>,
    last_payment: Option<billing::Payment>,
    /// Parts of a split payment added so far.
    parts: Vec<PaymentForm>,
    /// The patient's first-visit form: `Some(None)` when they have none.
    intake: Option<Option<patients::IntakeForm>>,
    loading_intake: Option<Pending<Option<patients::IntakeForm>>>,
    printing: Option<Pending<String>>,
    walking_in: Option<Pending<scheduling::RegisterWalkInResponse>>,
    booking: BookingForm,
}

/// The cash drawer tab.
#[derive(Default)]
struct DrawerPanel {
    session: Option<billing::CashDrawerSession>,
    loaded: bool,
    loading: Option<Pending<Option<billing::CashDrawerSession>>>,
    counts: HashMap<(i32, i64), String>,
    reason: String,
    needs_reason: bool,
    request_id: Option<String>,
    submitting: Option<Pending<billing::CashDrawerSession>>,
    z_report: Option<billing::CashDrawerSession>,
}

#[derive(Default)]
struct ClosePanel {
    report: Option<billing::DailyClose>,
    /// Set when loading failed: asked again only on Refresh, not every frame.
    failed: bool,
    loading: Option<Pending<billing::DailyClose>>,
    exporting: Option<Pending<String>>,
}

/// Everything the counter is started with.
pub struct CounterSetup {
    pub backend: Backend,
    pub clinic: ClinicSettings,
    /// What "today" and "now" are: the day's schedule, overdue visits, card approvals.
    pub clock: SharedClock,
    pub language: Lang,
    pub terminal_id: String,
    pub printer: PrinterConfig,
    pub exports_dir: std::path::PathBuf,
    pub outbox: Outbox,
    pub outbox_state: watch::Receiver<OutboxState>,
    pub nudge: Arc<Notify>,
}

pub struct Counter {
    backend: Backend,
    clinic: ClinicSettings,
    clock: SharedClock,
    lang: Lang,
    terminal_id: String,
    printer: PrinterConfig,
    exports_dir: std::path::PathBuf,
    outbox: Outbox,
    outbox_state: watch::Receiver<OutboxState>,
    nudge: Arc<Notify>,

    tab: Tab,
    message: Option<Result<String, String>>,

    schedule: Option<Schedule>,
    loading_schedule: Option<Pending<Schedule>>,
    reload_schedule: bool,
    queue: HashMap<String, scheduling::QueueEntry>,
    queue_events: Option<mpsc::UnboundedReceiver<WatchEvent<scheduling::WatchQueueResponse>>>,
    queue_connected: bool,
    checking_in: Option<Pending<scheduling::CheckInAppointmentResponse>>,
    /// A step in an appointment's life (confirm, cancel, no-show, seat, complete, check out,
    /// call next) on its way; answers what to tell reception.
    acting: Option<Pending<String>>,
    /// The appointment being cancelled, and the reason typed so far.
    cancelling: Option<(String, String)>,
    /// "Call next" pressed again after a timeout keeps its key, so one patient is called; set
    /// while a call-next is what `acting` waits for.
    call_next_key: RetryKey,
    calling_next: bool,

    query: String,
    searching: Option<Pending<Vec<patients::Patient>>>,
    results: Vec<patients::Patient>,
    searched: bool,

    price_list: Vec<billing::PriceListItem>,
    loading_prices: Option<Pending<Vec<billing::PriceListItem>>>,
    prices_failed: bool,
    account: Option<AccountPanel>,
    register: RegisterForm,
    booking_lists: Option<BookingLists>,
    loading_lists: Option<Pending<BookingLists>>,
    lists_failed: bool,

    drawer: DrawerPanel,
    close: ClosePanel,
}

impl Counter {
    pub fn new(setup: CounterSetup) -> Counter {
        Counter {
            backend: setup.backend,
            clinic: setup.clinic,
            clock: setup.clock,
            lang: setup.language,
            terminal_id: setup.terminal_id,
            printer: setup.printer,
            exports_dir: setup.exports_dir,
            outbox: setup.outbox,
            outbox_state: setup.outbox_state,
            nudge: setup.nudge,
            tab: Tab::Schedule,
            message: None,
            schedule: None,
            loading_schedule: None,
            reload_schedule: true,
            queue: HashMap::new(),
            queue_events: None,
            queue_connected: false,
            checking_in: None,
            acting: None,
            cancelling: None,
            call_next_key: RetryKey::default(),
            calling_next: false,
            query: String::new(),
            searching: None,
            results: Vec::new(),
            searched: false,
            price_list: Vec::new(),
            loading_prices: None,
            prices_failed: false,
            account: None,
            register: RegisterForm::default(),
            booking_lists: None,
            loading_lists: None,
            lists_failed: false,
            drawer: DrawerPanel::default(),
            close: ClosePanel::default(),
        }
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    pub fn language(&self) -> Lang {
        self.lang
    }

    fn today(&self) -> NaiveDate {
        local_date(self.clock.now(), self.clinic.time_zone)
    }

    fn money(&self, money: Option<&common::Money>) -> Money {
        Money::from_minor(money.map_or(0, |m| m.minor_units), self.clinic.currency)
    }

    fn wire(&self, money: Money) -> common::Money {
        clinic_proto::money_to_proto(money)
    }

    fn fail(&mut self, error: &CallError) {
        self.message = Some(Err(error.staff_message(self.lang)));
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);

        egui::Panel::top("counter-top").show(ui, |ui| self.top_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            widgets::message_banner(ui, &mut self.message, T::Close.get(self.lang));
            match self.tab {
                Tab::Schedule => self.schedule_ui(ui, &ctx),
                Tab::Patients => self.patients_ui(ui, &ctx),
                Tab::Drawer => self.drawer_ui(ui, &ctx),
                Tab::Close => self.close_ui(ui, &ctx),
            }
        });
    }

    fn top_ui(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(&self.clinic.name).strong());
            ui.label(RichText::new(&self.terminal_id).color(widgets::MUTED));
            ui.separator();
            for (tab, text) in [
                (Tab::Schedule, T::Schedule),
                (Tab::Patients, T::Patients),
                (Tab::Drawer, T::Drawer),
                (Tab::Close, T::DailyClose),
            ] {
                ui.selectable_value(&mut self.tab, tab, text.get(lang));
            }
            ui.separator();
            egui::ComboBox::new("language", T::Language.get(lang))
                .selected_text(self.lang.native_name())
                .show_ui(ui, |ui| {
                    for lang in Lang::ALL {
                        ui.selectable_value(&mut self.lang, lang, lang.native_name());
                    }
                });
            let (dot, text) = if self.queue_connected {
                (widgets::SUCCESS, T::Online.get(lang).to_owned())
            } else {
                (widgets::DANGER, T::Reconnecting.get(lang).to_owned())
            };
            ui.label(RichText::new(format!("● {text}")).color(dot));
        });
        let state = self.outbox_state.borrow().clone();
        if state.waiting > 0 {
            widgets::error_banner(
                ui,
                &fill(
                    T::PendingCardPayments.get(lang),
                    &[("count", &state.waiting.to_string())],
                ),
            );
        }
        if state.refused > 0 {
            widgets::error_banner(
                ui,
                &fill(
                    T::RefusedCardPayments.get(lang),
                    &[
                        ("count", &state.refused.to_string()),
                        (
                            "path",
                            &self.outbox.dir().join("refused").display().to_string(),
                        ),
                    ],
                ),
            );
        }
    }

    /// Takes finished calls' results and the queue watch's news; starts what must load.
    fn poll(&mut self, ctx: &egui::Context) {
        let events = self.queue_events.get_or_insert_with(|| {
            let client = self.backend.watch.clone();
            self.backend.watch(ctx, move || {
                let mut client = client.clone();
                Box::pin(async move {
                    client
                        .watch_queue(scheduling::WatchQueueRequest {})
                        .await
                        .map(tonic::Response::into_inner)
                })
            })
        });
        while let Ok(event) = events.try_recv() {
            match event {
                WatchEvent::Message(message) => {
                    self.queue = message
                        .entries
                        .into_iter()
                        .map(|entry| (entry.appointment_id.clone(), entry))
                        .collect();
                    self.queue_connected = true;
                    // A queue change often is a status change of an appointment: reload.
                    self.reload_schedule = true;
                }
                WatchEvent::Disconnected => self.queue_connected = false,
            }
        }

        if let Some(result) = self.loading_schedule.as_mut().and_then(Pending::take) {
            self.loading_schedule = None;
            match result {
                Ok(schedule) => self.schedule = Some(schedule),
                Err(error) => self.fail(&error),
            }
        }
        if self.reload_schedule && self.loading_schedule.is_none() {
            self.reload_schedule = false;
            let known = self
                .schedule
                .as_ref()
                .map(|s| (s.patients.clone(), s.providers.clone()))
                .unwrap_or_default();
            let backend = self.backend.clone();
            let day = self.today();
            self.loading_schedule = Some(
                self.backend
                    .call(ctx, async move { load_schedule(backend, day, known).await }),
            );
        }
        if self.price_list.is_empty() && self.loading_prices.is_none() && !self.prices_failed {
            let mut billing = self.backend.billing.clone();
            self.loading_prices = Some(self.backend.call(ctx, async move {
                answer(
                    billing
                        .list_price_list_items(billing::ListPriceListItemsRequest {
                            page: Some(common::PageRequest {
                                page_size: 500,
                                page_token: String::new(),
                            }),
                        })
                        .await,
                )
                .map(|list| list.items)
            }));
        }
        if let Some(result) = self.loading_prices.as_mut().and_then(Pending::take) {
            match result {
                Ok(items) => {
                    self.loading_prices = None;
                    self.price_list = items;
                }
                // Not asked again every frame while billing is down: opening an account asks.
                Err(error) => {
                    self.loading_prices = None;
                    self.prices_failed = true;
                    tracing::warn!(?error, "could not load the price list");
                }
            }
        }
        if let Some(result) = self.checking_in.as_mut().and_then(Pending::take) {
            self.checking_in = None;
            match result {
                Ok(response) => {
                    let ticket = response
                        .queue_entry
                        .map(|e| e.ticket_number)
                        .unwrap_or_default();
                    self.message = Some(Ok(format!("{} ✓ {ticket}", T::CheckIn.get(self.lang))));
                    self.reload_schedule = true;
                }
                Err(error) => self.fail(&error),
            }
        }
        if let Some(result) = self.searching.as_mut().and_then(Pending::take) {
            self.searching = None;
            self.searched = true;
            match result {
                Ok(found) => self.results = found,
                Err(error) => self.fail(&error),
            }
        }
        if let Some(result) = self.acting.as_mut().and_then(Pending::take) {
            self.acting = None;
            self.reload_schedule = true;
            if std::mem::take(&mut self.calling_next) && result.is_ok() {
                self.call_next_key.settle();
            }
            match result {
                Ok(text) => self.message = Some(Ok(text)),
                Err(error) => self.fail(&error),
            }
        }
        if self.account.is_some()
            && self.booking_lists.is_none()
            && self.loading_lists.is_none()
            && !self.lists_failed
        {
            let backend = self.backend.clone();
            self.loading_lists = Some(self.backend.call(ctx, BookingLists::load(backend)));
        }
        if let Some(result) = self.loading_lists.as_mut().and_then(Pending::take) {
            self.loading_lists = None;
            match result {
                Ok(lists) => self.booking_lists = Some(lists),
                Err(error) => {
                    self.lists_failed = true;
                    tracing::warn!(?error, "could not load the providers and kinds of visit");
                }
            }
        }
        self.poll_account();
        self.poll_drawer();
        self.poll_close();
    }

    // --- Schedule ------------------------------------------------------------------------------

    fn schedule_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let lang = self.lang;
        ui.horizontal(|ui| {
            ui.heading(T::Schedule.get(lang));
            if self.loading_schedule.is_some() {
                ui.spinner();
            } else if ui.button(T::Refresh.get(lang)).clicked() {
                self.reload_schedule = true;
            }
            ui.separator();
            if self.acting.is_some() {
                ui.spinner();
            } else if ui.button(T::CallNext.get(lang)).clicked() {
                self.call_next(ctx);
            }
        });
        self.cancel_ui(ui, ctx);
        let Some(schedule) = &self.schedule else {
            if self.loading_schedule.is_some() {
                widgets::working(ui, T::Working.get(lang));
            }
            return;
        };
        let mut check_in = None;
        let mut open_account = None;
        let mut step = None;
        let now = self.clock.now();
        egui::ScrollArea::vertical().show(ui, |ui| {
            egui::Grid::new("schedule")
                .striped(true)
                .spacing(vec2(18.0, 8.0))
                .show(ui, |ui| {
                    for heading in [
                        T::Time,
                        T::Patient,
                        T::Provider,
                        T::Status,
                        T::Ticket,
                        T::Wait,
                    ] {
                        ui.label(RichText::new(heading.get(lang)).strong());
                    }
                    ui.label("");
                    ui.end_row();
                    for appointment in &schedule.appointments {
                        let start = timestamp_from_proto(appointment.start_time.as_ref())
                            .map(|t| format::local_time(t, self.clinic.time_zone))
                            .unwrap_or_default();
                        ui.label(start);
                        let patient = schedule.patients.get(&appointment.patient_id);
                        ui.label(patient.map_or_else(
                            || "…".to_owned(),
                            |p| format::full_name(&p.given_name, &p.family_name),
                        ));
                        ui.label(
                            schedule
                                .providers
                                .get(&appointment.provider_id)
                                .map_or("", String::as_str),
                        );
                        let entry = self.queue.get(&appointment.appointment_id);
                        let (status, color) = status_text(appointment.status, entry);
                        ui.label(RichText::new(status.get(lang)).color(color).strong());
                        ui.label(entry.map_or("", |e| e.ticket_number.as_str()));
                        match entry {
                            Some(e) if e.status == scheduling::QueueEntryStatus::Waiting as i32 => {
                                let text = format!(
                                    "{}′ / ~{}′",
                                    e.waited_minutes, e.estimated_wait_minutes
                                );
                                if e.overdue {
                                    ui.label(
                                        RichText::new(format!("{text} {}", T::Overdue.get(lang)))
                                            .color(widgets::DANGER)
                                            .strong(),
                                    );
                                } else {
                                    ui.label(text);
                                }
                            }
                            _ => {
                                ui.label("");
                            }
                        }
                        ui.horizontal(|ui| {
                            let can_check_in = matches!(
                                scheduling::AppointmentStatus::try_from(appointment.status),
                                Ok(scheduling::AppointmentStatus::Scheduled
                                    | scheduling::AppointmentStatus::Confirmed)
                            );
                            if can_check_in
                                && self.checking_in.is_none()
                                && ui
                                    .button(T::CheckIn.get(lang))
                                    .on_hover_text(patient.map_or("", |p| p.given_name.as_str()))
                                    .clicked()
                            {
                                check_in = Some(appointment.appointment_id.clone());
                            }
                            if self.acting.is_none()
                                && let Some(pressed) =
                                    life_cycle_buttons(ui, lang, appointment, entry, now)
                            {
                                step = Some(pressed);
                            }
                            if let Some(patient) = patient
                                && ui.button(T::Account.get(lang)).clicked()
                            {
                                open_account =
                                    Some((patient.clone(), appointment.appointment_id.clone()));
                            }
                        });
                        ui.end_row();
                    }
                });
        });
        if let Some(appointment_id) = check_in {
            let mut scheduling = self.backend.scheduling.clone();
            self.checking_in = Some(self.backend.call(ctx, async move {
                answer(
                    scheduling
                        .check_in_appointment(scheduling::CheckInAppointmentRequest {
                            appointment_id,
                            identity: None,
                            confirmation_code: String::new(),
                        })
                        .await,
                )
            }));
        }
        if let Some((patient, appointment_id)) = open_account {
            self.open_account(ctx, patient, appointment_id);
        }
        if let Some(step) = step {
            self.take_step(ctx, step);
        }
    }

    /// The reason asked for before an appointment is cancelled.
    fn cancel_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let lang = self.lang;
        let Some((appointment_id, mut reason)) = self.cancelling.take() else {
            return;
        };
        let mut keep_open = true;
        ui.horizontal(|ui| {
            let label = ui.label(T::CancelReason.get(lang));
            ui.add(egui::TextEdit::singleline(&mut reason).desired_width(360.0))
                .labelled_by(label.id);
            if ui
                .add_enabled(
                    !reason.trim().is_empty() && self.acting.is_none(),
                    egui::Button::new(T::CancelConfirm.get(lang)),
                )
                .clicked()
            {
                let mut scheduling = self.backend.scheduling.clone();
                let request = scheduling::CancelAppointmentRequest {
                    appointment_id: appointment_id.clone(),
                    reason: reason.trim().to_owned(),
                };
                let done = T::StatusCancelled.get(lang);
                self.acting = Some(self.backend.call(ctx, async move {
                    answer(scheduling.cancel_appointment(request).await).map(|_| done.to_owned())
                }));
                keep_open = false;
            }
            if ui.button(T::KeepVisit.get(lang)).clicked() {
                keep_open = false;
            }
        });
        if keep_open {
            self.cancelling = Some((appointment_id, reason));
        }
    }

    fn call_next(&mut self, ctx: &egui::Context) {
        let lang = self.lang;
        let mut scheduling = self.backend.scheduling.clone();
        let request = scheduling::CallNextRequest {
            provider_id: String::new(),
            request_id: self.call_next_key.for_request("call-next".into()),
        };
        self.acting = Some(self.backend.call(ctx, async move {
            match answer(scheduling.call_next(request).await) {
                Ok(entry) => Ok(fill(
                    T::Calling.get(lang),
                    &[("ticket", &entry.ticket_number)],
                )),
                Err(CallError::NotFound) => Ok(T::NobodyToCall.get(lang).to_owned()),
                Err(error) => Err(error),
            }
        }));
        self.calling_next = true;
    }

    fn take_step(&mut self, ctx: &egui::Context, step: Step) {
        let lang = self.lang;
        self.calling_next = false;
        let mut scheduling = self.backend.scheduling.clone();
        let done = T::Done.get(lang).to_owned();
        self.acting = Some(match step {
            Step::Cancel(appointment_id) => {
                self.cancelling = Some((appointment_id, String::new()));
                return;
            }
            Step::Confirm(appointment_id) => self.backend.call(ctx, async move {
                let request = scheduling::ConfirmAppointmentRequest { appointment_id };
                answer(scheduling.confirm_appointment(request).await).map(|_| done)
            }),
            Step::NoShow(appointment_id) => self.backend.call(ctx, async move {
                let request = scheduling::MarkNoShowRequest { appointment_id };
                answer(scheduling.mark_no_show(request).await).map(|_| done)
            }),
            Step::Seat(queue_entry_id) => self.backend.call(ctx, async move {
                let request = scheduling::SeatQueueEntryRequest { queue_entry_id };
                answer(scheduling.seat_queue_entry(request).await).map(|_| done)
            }),
            Step::Complete(appointment_id) => self.backend.call(ctx, async move {
                let request = scheduling::CompleteAppointmentRequest { appointment_id };
                answer(scheduling.complete_appointment(request).await).map(|_| done)
            }),
            Step::CheckOut(appointment_id) => self.backend.call(ctx, async move {
                let request = scheduling::CheckOutAppointmentRequest { appointment_id };
                answer(scheduling.check_out_appointment(request).await).map(|_| done)
            }),
        });
    }

    // --- Patients and accounts -----------------------------------------------------------------

    fn open_account(
        &mut self,
        ctx: &egui::Context,
        patient: patients::Patient,
        appointment_id: String,
    ) {
        self.tab = Tab::Patients;
        self.message = None;
        let mut account = AccountPanel {
            patient,
            appointment_id,
            balance: None,
            loading_balance: None,
            charge_code: String::new(),
            charge_quantity: "1".into(),
            posting_charge: None,
            method: Method::Cash,
            amount: String::new(),
            tendered: String::new(),
            auth_code: String::new(),
            last_four: String::new(),
            card_kind: CardKind::Debit,
            reference: String::new(),
            payment_key: RetryKey::default(),
            charge_key: RetryKey::default(),
            walk_in_key: RetryKey::default(),
            paying: None,
            last_payment: None,
            parts: Vec::new(),
            intake: None,
            loading_intake: None,
            printing: None,
            walking_in: None,
            booking: BookingForm::default(),
        };
        self.load_balance(ctx, &mut account);
        let mut registry = self.backend.patients.clone();
        let patient_id = account.patient.patient_id.clone();
        account.loading_intake = Some(self.backend.call(ctx, async move {
            match answer(
                registry
                    .get_intake_form(patients::GetIntakeFormRequest { patient_id })
                    .await,
            ) {
                Ok(form) => Ok(Some(form)),
                Err(CallError::NotFound) => Ok(None),
                Err(error) => Err(error),
            }
        }));
        self.account = Some(account);
        // A price list (or the providers and kinds of visit) that failed to load is asked for
        // again when an account opens.
        self.prices_failed = false;
        self.lists_failed = false;
    }

    fn load_balance(&self, ctx: &egui::Context, account: &mut AccountPanel) {
        let mut billing = self.backend.billing.clone();
        let patient_id = account.patient.patient_id.clone();
        account.loading_balance = Some(self.backend.call(ctx, async move {
            answer(
                billing
                    .get_account_balance(billing::GetAccountBalanceRequest {
                        patient_id,
                        identity: None,
                    })
                    .await,
            )
        }));
    }

    fn poll_account(&mut self) {
        let lang = self.lang;
        let currency = self.clinic.currency;
        let Some(account) = &mut self.account else {
            return;
        };
        let mut outcome: Option<Result<String, String>> = None;
        if let Some(result) = account.loading_balance.as_mut().and_then(Pending::take) {
            account.loading_balance = None;
            match result {
                Ok(balance) => {
                    let balance =
                        Money::from_minor(balance.balance.map_or(0, |m| m.minor_units), currency);
                    account.balance = Some(balance);
                    if account.amount.is_empty() && balance.is_positive() {
                        account.amount = format::money_input(balance);
                    }
                }
                Err(error) => outcome = Some(Err(error.staff_message(lang))),
            }
        }
        if let Some(result) = account.posting_charge.as_mut().and_then(Pending::take) {
            account.posting_charge = None;
            match result {
                Ok(charge) => {
                    account.charge_key.settle();
                    outcome = Some(Ok(fill(
                        T::ChargePosted.get(lang),
                        &[("item", &charge.description)],
                    )));
                    account.amount.clear();
                    account.balance = None;
                }
                Err(error) => outcome = Some(Err(error.staff_message(lang))),
            }
        }
        if let Some(result) = account.paying.as_mut().and_then(Pending::take) {
            account.paying = None;
            match result {
                Ok(Posting::Recorded(payment)) => {
                    account.payment_key.settle();
                    account.parts.clear();
                    let balance = Money::from_minor(
                        payment.balance_after.as_ref().map_or(0, |m| m.minor_units),
                        currency,
                    );
                    let amount = Money::from_minor(
                        payment.amount.as_ref().map_or(0, |m| m.minor_units),
                        currency,
                    );
                    let mut text = fill(
                        T::PaymentTaken.get(lang),
                        &[
                            ("receipt", &payment.receipt_number),
                            ("method", T::from_method(payment.method).get(lang)),
                            ("amount", &format::money(amount)),
                            ("balance", &format::money(balance)),
                        ],
                    );
                    if let Some(change) = payment.change.as_ref().filter(|c| c.minor_units > 0) {
                        text.push(' ');
                        text.push_str(&fill(
                            T::ChangeDue.get(lang),
                            &[(
                                "amount",
                                &format::money(Money::from_minor(change.minor_units, currency)),
                            )],
                        ));
                    }
                    outcome = Some(Ok(text));
                    account.balance = Some(balance);
                    account.amount = if balance.is_positive() {
                        format::money_input(balance)
                    } else {
                        String::new()
                    };
                    account.tendered.clear();
                    account.auth_code.clear();
                    account.last_four.clear();
                    account.reference.clear();
                    account.last_payment = Some(*payment);
                }
                Ok(Posting::Saved) => {
                    // The balance shown stays as it was until billing answers again.
                    account.payment_key.settle();
                    account.parts.clear();
                    account.auth_code.clear();
                    account.last_four.clear();
                    outcome = Some(Ok(T::PaymentSaved.get(lang).into()));
                }
                Ok(Posting::Refused(error)) | Err(error) => {
                    outcome = Some(Err(error.staff_message(lang)))
                }
            }
        }
        if let Some(result) = account.loading_intake.as_mut().and_then(Pending::take) {
            account.loading_intake = None;
            match result {
                Ok(form) => account.intake = Some(form),
                Err(error) => tracing::warn!(?error, "could not read the intake form"),
            }
        }
        if let Some(result) = account.walking_in.as_mut().and_then(Pending::take) {
            account.walking_in = None;
            if result.is_ok() {
                account.walk_in_key.settle();
            }
            outcome = Some(match result {
                Ok(response) => Ok(fill(
                    T::WalkInQueued.get(lang),
                    &[(
                        "ticket",
                        &response
                            .queue_entry
                            .map(|e| e.ticket_number)
                            .unwrap_or_default(),
                    )],
                )),
                Err(error) => Err(error.staff_message(lang)),
            });
        }
        if let Some(result) = account.printing.as_mut().and_then(Pending::take) {
            account.printing = None;
            outcome = Some(result.map_err(|error| error.staff_message(lang)));
        }
        if outcome.is_some() {
            self.message = outcome;
        }
    }

    fn patients_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let lang = self.lang;
        ui.horizontal(|ui| {
            let label = ui.label(T::Patients.get(lang));
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text(T::SearchPatients.get(lang))
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button(T::SearchButton.get(lang)).clicked() || enter)
                && !self.query.trim().is_empty()
            {
                let mut patients = self.backend.patients.clone();
                let query = self.query.trim().to_owned();
                self.searching = Some(self.backend.call(ctx, async move {
                    answer(
                        patients
                            .search_patients(patients::SearchPatientsRequest { query, page: None })
                            .await,
                    )
                    .map(|found| found.patients)
                }));
            }
            if self.searching.is_some() {
                ui.spinner();
            }
            ui.separator();
            ui.toggle_value(&mut self.register.open, T::NewPatient.get(lang));
        });
        match self.register.ui(ui, ctx, &self.backend, lang) {
            Some(Registered::Patient(patient)) => {
                let name = format::full_name(&patient.given_name, &patient.family_name);
                self.open_account(ctx, *patient, String::new());
                self.message = Some(Ok(fill(T::PatientRegistered.get(lang), &[("name", &name)])));
            }
            Some(Registered::Failed(text)) => self.message = Some(Err(text)),
            None => {}
        }
        let mut open = None;
        if !self.results.is_empty() {
            egui::ScrollArea::vertical()
                .id_salt("results")
                .max_height(150.0)
                .show(ui, |ui| {
                    for patient in &self.results {
                        let born = patient
                            .date_of_birth
                            .as_ref()
                            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                            .unwrap_or_default();
                        let text = format!(
                            "{} · {} · {}",
                            format::full_name(&patient.given_name, &patient.family_name),
                            born,
                            patient.phone
                        );
                        if ui.button(text).clicked() {
                            open = Some(patient.clone());
                        }
                    }
                });
        } else if self.searched && self.searching.is_none() {
            ui.label(T::NoResults.get(lang));
        }
        if let Some(patient) = open {
            let appointment_id = self
                .schedule
                .as_ref()
                .and_then(|s| {
                    s.appointments
                        .iter()
                        .find(|a| a.patient_id == patient.patient_id)
                })
                .map(|a| a.appointment_id.clone())
                .unwrap_or_default();
            self.open_account(ctx, patient, appointment_id);
        }
        ui.separator();
        if self.account.is_some() {
            egui::ScrollArea::vertical()
                .id_salt("account")
                .show(ui, |ui| {
                    self.account_ui(ui, ctx);
                    self.booking_ui(ui, ctx);
                });
        }
    }

    fn booking_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let Some(account) = self.account.as_mut() else {
            return;
        };
        ui.separator();
        let Some(lists) = &self.booking_lists else {
            if self.loading_lists.is_some() {
                widgets::working(ui, T::Working.get(self.lang));
            }
            return;
        };
        let today = local_date(self.clock.now(), self.clinic.time_zone);
        let outcome = account.booking.ui(
            ui,
            ctx,
            &self.backend,
            lists,
            &self.clinic,
            today,
            self.lang,
            &account.patient.patient_id,
        );
        if let Some(outcome) = outcome {
            if outcome.is_ok() {
                self.reload_schedule = true;
            }
            self.message = Some(outcome);
        }
    }

    fn account_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let lang = self.lang;
        let currency = self.clinic.currency;
        let Some(mut account) = self.account.take() else {
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(format::full_name(
                &account.patient.given_name,
                &account.patient.family_name,
            ));
            // A patient with no appointment today joins the queue as a walk-in.
            if account.appointment_id.is_empty() {
                if account.walking_in.is_some() {
                    ui.spinner();
                } else if ui.button(T::WalkIn.get(lang)).clicked() {
                    let mut scheduling = self.backend.scheduling.clone();
                    let patient_id = account.patient.patient_id.clone();
                    let request = scheduling::RegisterWalkInRequest {
                        request_id: account.walk_in_key.for_request(patient_id.clone()),
                        patient_id,
                        provider_id: String::new(),
                        appointment_type_id: String::new(),
                    };
                    account.walking_in = Some(self.backend.call(ctx, async move {
                        answer(scheduling.register_walk_in(request).await)
                    }));
                }
            }
        });
        ui.horizontal(|ui| {
            ui.label(T::Balance.get(lang));
            match account.balance {
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
            if account.loading_balance.is_none() && ui.small_button(T::Refresh.get(lang)).clicked()
            {
                self.load_balance(ctx, &mut account);
            }
        });
        if account.balance.is_none() && account.loading_balance.is_none() {
            self.load_balance(ctx, &mut account);
        }

        if let Some(Some(form)) = &account.intake {
            intake_ui(ui, form, lang);
        }
        ui.add_space(6.0);
        ui.label(RichText::new(T::PostCharge.get(lang)).strong());
        ui.horizontal_wrapped(|ui| {
            for item in &self.price_list {
                let price = Money::from_minor(
                    item.unit_price.as_ref().map_or(0, |m| m.minor_units),
                    currency,
                );
                let text = format!(
                    "{} · {} · {}",
                    item.code,
                    item.description,
                    format::money(price)
                );
                ui.selectable_value(&mut account.charge_code, item.code.clone(), text);
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label(T::Quantity.get(lang));
            ui.add(egui::TextEdit::singleline(&mut account.charge_quantity).desired_width(50.0))
                .labelled_by(label.id);
            let quantity: i32 = account.charge_quantity.trim().parse().unwrap_or(0);
            let ready = !account.charge_code.is_empty() && (1..=999).contains(&quantity);
            if account.posting_charge.is_some() {
                ui.spinner();
            } else if ui
                .add_enabled(ready, egui::Button::new(T::PostCharge.get(lang)))
                .clicked()
            {
                let mut billing = self.backend.billing.clone();
                // Sent again after a timeout, the same charge keeps its key and is posted once.
                let fingerprint = format!(
                    "{}|{}|{}|{quantity}",
                    account.patient.patient_id, account.appointment_id, account.charge_code
                );
                let request = billing::PostChargeRequest {
                    patient_id: account.patient.patient_id.clone(),
                    price_code: account.charge_code.clone(),
                    quantity,
                    appointment_id: account.appointment_id.clone(),
                    service_date: None,
                    request_id: account.charge_key.for_request(fingerprint),
                    ..Default::default()
                };
                account.posting_charge = Some(self.backend.call(ctx, async move {
                    answer(billing.post_charge(request).await)
                }));
            }
        });

        ui.add_space(6.0);
        ui.label(RichText::new(T::TakePayment.get(lang)).strong());
        ui.horizontal(|ui| {
            for method in [
                Method::Cash,
                Method::Card,
                Method::Transfer,
                Method::Advance,
            ] {
                ui.selectable_value(&mut account.method, method, method.text().get(lang));
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label(T::Amount.get(lang));
            ui.add(egui::TextEdit::singleline(&mut account.amount).desired_width(120.0))
                .labelled_by(label.id);
            match account.method {
                Method::Cash => {
                    let label = ui.label(T::Tendered.get(lang));
                    ui.add(egui::TextEdit::singleline(&mut account.tendered).desired_width(120.0))
                        .labelled_by(label.id);
                    if let (Some(amount), Some(tendered)) = (
                        format::parse_money(&account.amount, currency),
                        format::parse_money(&account.tendered, currency),
                    ) {
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
                                ui.label(
                                    RichText::new(T::TenderedTooLittle.get(lang))
                                        .color(widgets::DANGER),
                                );
                            }
                        }
                    }
                }
                Method::Card => {
                    let label = ui.label(T::AuthorizationCode.get(lang));
                    ui.add(egui::TextEdit::singleline(&mut account.auth_code).desired_width(120.0))
                        .labelled_by(label.id);
                    let label = ui.label(T::CardLastFour.get(lang));
                    ui.add(egui::TextEdit::singleline(&mut account.last_four).desired_width(70.0))
                        .labelled_by(label.id);
                    ui.selectable_value(
                        &mut account.card_kind,
                        CardKind::Credit,
                        T::Credit.get(lang),
                    );
                    ui.selectable_value(
                        &mut account.card_kind,
                        CardKind::Debit,
                        T::Debit.get(lang),
                    );
                }
                Method::Transfer => {
                    let label = ui.label(T::Reference.get(lang));
                    ui.add(egui::TextEdit::singleline(&mut account.reference).desired_width(200.0))
                        .labelled_by(label.id);
                }
                Method::Advance => {
                    ui.label(RichText::new(T::FromAdvance.get(lang)).color(widgets::MUTED));
                }
            }
        });
        // A split payment: each part is added to the list, then all are taken as one payment.
        if !account.parts.is_empty() {
            let mut remove = None;
            for (index, part) in account.parts.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.label(format!("{}. {}", index + 1, part.describe(lang)));
                    if ui.small_button("✕").clicked() {
                        remove = Some(index);
                    }
                });
            }
            if let Some(index) = remove {
                account.parts.remove(index);
                account.payment_key.settle();
            }
        }
        ui.label(
            RichText::new(T::SplitHint.get(lang))
                .small()
                .color(widgets::MUTED),
        );
        ui.horizontal(|ui| {
            if account.paying.is_some() {
                widgets::working(ui, T::Working.get(lang));
            } else {
                if ui.button(T::AddPart.get(lang)).clicked() {
                    match self.payment(&account) {
                        Ok(part) => {
                            let remaining = account
                                .balance
                                .and_then(|b| b.checked_sub(part.amount()).ok())
                                .and_then(|b| {
                                    account
                                        .parts
                                        .iter()
                                        .try_fold(b, |left, p| left.checked_sub(p.amount()).ok())
                                });
                            account.parts.push(part);
                            account.payment_key.settle();
                            account.amount = remaining
                                .filter(Money::is_positive)
                                .map(format::money_input)
                                .unwrap_or_default();
                            account.tendered.clear();
                            account.auth_code.clear();
                            account.last_four.clear();
                            account.reference.clear();
                        }
                        Err(problem) => self.message = Some(Err(problem)),
                    }
                }
                if ui
                    .button(RichText::new(T::TakePayment.get(lang)).strong())
                    .clicked()
                {
                    // The parts added so far, and the one in the form if it is filled in.
                    let mut forms = account.parts.clone();
                    let current = if forms.is_empty() || !account.amount.trim().is_empty() {
                        Some(self.payment(&account))
                    } else {
                        None
                    };
                    match current {
                        Some(Err(problem)) => self.message = Some(Err(problem)),
                        Some(Ok(form)) => {
                            forms.push(form);
                            self.take_payment(ctx, &mut account, forms);
                        }
                        None => self.take_payment(ctx, &mut account, forms),
                    }
                }
            }
            if let Some(payment) = &account.last_payment {
                if account.printing.is_some() {
                    ui.spinner();
                } else if ui
                    .button(format!(
                        "{} {}",
                        T::PrintReceipt.get(lang),
                        payment.receipt_number
                    ))
                    .clicked()
                {
                    let (backend, printer) = (self.backend.clone(), self.printer.clone());
                    let (payment_id, receipt) =
                        (payment.payment_id.clone(), payment.receipt_number.clone());
                    account.printing = Some(self.backend.call(ctx, async move {
                        printing::print_receipt(backend, printer, payment_id, receipt, lang).await
                    }));
                }
            }
        });
        self.account = Some(account);
    }

    /// The payment the form describes, or what is wrong with it.
    fn payment(&self, account: &AccountPanel) -> Result<PaymentForm, String> {
        let lang = self.lang;
        let currency = self.clinic.currency;
        let amount = format::parse_money(&account.amount, currency)
            .filter(Money::is_positive)
            .ok_or_else(|| T::AmountInvalid.get(lang).to_owned())?;
        match account.method {
            Method::Cash => {
                let tendered = format::parse_money(&account.tendered, currency)
                    .filter(|t| t.checked_sub(amount).is_ok_and(|c| !c.is_negative()))
                    .ok_or_else(|| T::TenderedTooLittle.get(lang).to_owned())?;
                Ok(PaymentForm::Cash { amount, tendered })
            }
            Method::Card => {
                let code = account.auth_code.trim();
                if code.is_empty()
                    || code.len() > 32
                    || !code.chars().all(|c| c.is_ascii_alphanumeric())
                    || !format::is_last_four(account.last_four.trim())
                {
                    return Err(T::FillEverything.get(lang).into());
                }
                Ok(PaymentForm::Card {
                    amount,
                    code: code.to_owned(),
                    last_four: account.last_four.trim().to_owned(),
                    kind: account.card_kind,
                })
            }
            Method::Transfer => {
                let reference = account.reference.trim();
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

    fn take_payment(
        &mut self,
        ctx: &egui::Context,
        account: &mut AccountPanel,
        forms: Vec<PaymentForm>,
    ) {
        // The same payment retried (billing was down) keeps its key; anything changed gets a new one.
        let fingerprint = format!("{}|{forms:?}", account.patient.patient_id);
        let request_id = account.payment_key.for_request(fingerprint);
        self.message = None;
        let patient_id = account.patient.patient_id.clone();
        let backend = self.backend.clone();
        let cards = forms
            .iter()
            .filter(|form| matches!(form, PaymentForm::Card { .. }))
            .count();
        if cards > 1 {
            self.message = Some(Err(T::OneCardPerPayment.get(self.lang).into()));
            return;
        }
        // A card the terminal approved goes through the outbox, with the parts paid beside it.
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
            let other_parts = forms
                .iter()
                .filter_map(|form| match form {
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
                })
                .collect();
            let payment = ApprovedCardPayment {
                request_id,
                patient_id,
                amount_minor: amount.minor_units(),
                currency: amount.currency().code().to_owned(),
                authorization_code: code,
                last_four,
                card_kind: kind,
                terminal_id: self.terminal_id.clone(),
                approved_at: self.clock.now(),
                identity: None,
                other_parts,
            };
            let (outbox, nudge) = (self.outbox.clone(), self.nudge.clone());
            account.paying = Some(self.backend.call(ctx, async move {
                let posting = crate::outbox::save_and_post(backend, outbox, payment).await;
                nudge.notify_one();
                posting
            }));
            return;
        }
        let mut request = billing::PostPaymentRequest {
            patient_id,
            request_id,
            terminal_id: self.terminal_id.clone(),
            ..Default::default()
        };
        if let [form] = forms.as_slice() {
            let (amount, method) = self.method(form);
            request.amount = Some(self.wire(amount));
            request.method = Some(method);
        } else {
            for form in &forms {
                let (amount, method) = self.method(form);
                let method = match method {
                    Single::Cash(cash) => Part::Cash(cash),
                    Single::Card(card) => Part::Card(card),
                    Single::BankTransfer(transfer) => Part::BankTransfer(transfer),
                    Single::Advance(advance) => Part::Advance(advance),
                };
                request.parts.push(billing::PaymentPartRequest {
                    amount: Some(self.wire(amount)),
                    method: Some(method),
                });
            }
        }
        account.paying = Some(self.backend.call(ctx, post(backend, request)));
    }

    /// One part's amount and method, on the wire.
    fn method(&self, form: &PaymentForm) -> (Money, Single) {
        match form {
            PaymentForm::Cash { amount, tendered } => (
                *amount,
                Single::Cash(billing::CashPayment {
                    tendered: Some(self.wire(*tendered)),
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

    // --- Cash drawer ---------------------------------------------------------------------------

    fn poll_drawer(&mut self) {
        let lang = self.lang;
        if let Some(result) = self.drawer.loading.as_mut().and_then(Pending::take) {
            self.drawer.loading = None;
            self.drawer.loaded = true;
            match result {
                Ok(session) => self.drawer.session = session,
                Err(error) => self.message = Some(Err(error.staff_message(lang))),
            }
        }
        if let Some(result) = self.drawer.submitting.as_mut().and_then(Pending::take) {
            self.drawer.submitting = None;
            match result {
                Ok(session) => {
                    self.drawer.request_id = None;
                    self.drawer.counts.clear();
                    self.drawer.reason.clear();
                    self.drawer.needs_reason = false;
                    if session.state == billing::CashDrawerState::Open as i32 {
                        self.drawer.z_report = None;
                        self.drawer.session = Some(session);
                    } else {
                        self.drawer.session = (session.state
                            == billing::CashDrawerState::PendingApproval as i32)
                            .then(|| session.clone());
                        self.drawer.z_report = Some(session);
                    }
                }
                Err(error) => {
                    if error.names_field("difference_reason")
                        || error.names_field("opening_difference_reason")
                    {
                        self.drawer.needs_reason = true;
                    } else {
                        // Anything else is a different request next time.
                        self.drawer.request_id = None;
                    }
                    self.message = Some(Err(error.staff_message(lang)));
                }
            }
        }
    }

    fn drawer_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let lang = self.lang;
        let currency = self.clinic.currency;
        if !self.drawer.loaded && self.drawer.loading.is_none() {
            let mut billing = self.backend.billing.clone();
            let terminal_id = self.terminal_id.clone();
            self.drawer.loading = Some(self.backend.call(ctx, async move {
                match billing
                    .get_cash_drawer(billing::GetCashDrawerRequest {
                        session_id: String::new(),
                        terminal_id,
                    })
                    .await
                {
                    Ok(session) => Ok(Some(session.into_inner())),
                    Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
                    Err(status) => Err(CallError::from_status(&status)),
                }
            }));
        }
        ui.horizontal(|ui| {
            ui.heading(T::Drawer.get(lang));
            if self.drawer.loading.is_some() {
                ui.spinner();
            } else if ui.button(T::Refresh.get(lang)).clicked() {
                self.drawer.loaded = false;
            }
        });
        if let Some(z) = &self.drawer.z_report {
            let report = z.report.clone().unwrap_or_default();
            widgets::ok_banner(
                ui,
                &fill(
                    T::ZReport.get(lang),
                    &[
                        (
                            "expected",
                            &format::money(self.money(report.expected.as_ref())),
                        ),
                        ("counted", &format::money(self.money(z.counted.as_ref()))),
                        (
                            "difference",
                            &format::money(self.money(z.difference.as_ref())),
                        ),
                    ],
                ),
            );
        }
        if !self.drawer.loaded {
            return;
        }
        let opening = match &self.drawer.session {
            None => {
                ui.label(fill(
                    T::DrawerIsClosed.get(lang),
                    &[("terminal", &self.terminal_id)],
                ));
                ui.label(RichText::new(T::CountFloat.get(lang)).strong());
                true
            }
            Some(session) if session.state == billing::CashDrawerState::PendingApproval as i32 => {
                widgets::error_banner(
                    ui,
                    &fill(
                        T::DrawerAwaitingApproval.get(lang),
                        &[(
                            "difference",
                            &format::money(self.money(session.difference.as_ref())),
                        )],
                    ),
                );
                return;
            }
            Some(session) => {
                let opened = timestamp_from_proto(session.open_time.as_ref())
                    .map(|t| format::local_time(t, self.clinic.time_zone))
                    .unwrap_or_default();
                ui.label(fill(
                    T::DrawerIsOpen.get(lang),
                    &[
                        ("terminal", &self.terminal_id),
                        ("who", &session.opened_by),
                        ("time", &opened),
                        (
                            "float",
                            &format::money(self.money(session.opening_float.as_ref())),
                        ),
                    ],
                ));
                // Blind: the expected amount is not shown before the count.
                ui.label(RichText::new(T::CountCash.get(lang)).strong());
                false
            }
        };
        let mut total = Money::zero(currency);
        egui::Grid::new("denominations")
            .spacing(vec2(16.0, 6.0))
            .show(ui, |ui| {
                for (index, (kind, value)) in denominations(currency).into_iter().enumerate() {
                    let face = Money::from_minor(value, currency);
                    let kind_text = if kind == billing::DenominationKind::Note {
                        T::Note
                    } else {
                        T::Coin
                    };
                    let label =
                        ui.label(format!("{} {}", kind_text.get(lang), format::money(face)));
                    let count = self.drawer.counts.entry((kind as i32, value)).or_default();
                    ui.add(egui::TextEdit::singleline(count).desired_width(70.0))
                        .labelled_by(label.id);
                    let pieces: i64 = count.trim().parse().unwrap_or(0);
                    total = total
                        .checked_add(face.checked_mul(pieces).unwrap_or(face))
                        .unwrap_or(total);
                    if index % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
        ui.label(
            RichText::new(fill(
                T::CountedTotal.get(lang),
                &[("amount", &format::money(total))],
            ))
            .strong(),
        );
        if self.drawer.needs_reason {
            let caption = if opening {
                T::OpeningDifferenceReason
            } else {
                T::DifferenceReason
            };
            let label = ui.label(caption.get(lang));
            ui.add(egui::TextEdit::singleline(&mut self.drawer.reason).desired_width(400.0))
                .labelled_by(label.id);
        }
        if self.drawer.submitting.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return;
        }
        let button = if opening {
            T::OpenDrawer
        } else {
            T::CloseDrawer
        };
        if ui
            .button(RichText::new(button.get(lang)).strong())
            .clicked()
        {
            let mut counts = Vec::new();
            for (kind, value) in denominations(currency) {
                let pieces: i32 = self
                    .drawer
                    .counts
                    .get(&(kind as i32, value))
                    .and_then(|c| c.trim().parse().ok())
                    .unwrap_or(0);
                if pieces > 0 {
                    counts.push(billing::DenominationCount {
                        kind: kind as i32,
                        value: Some(self.wire(Money::from_minor(value, currency))),
                        count: pieces,
                    });
                }
            }
            let request_id = self
                .drawer
                .request_id
                .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
                .clone();
            let mut billing = self.backend.billing.clone();
            let terminal_id = self.terminal_id.clone();
            let reason = self.drawer.reason.trim().to_owned();
            self.drawer.submitting = Some(if opening {
                self.backend.call(ctx, async move {
                    answer(
                        billing
                            .open_cash_drawer(billing::OpenCashDrawerRequest {
                                terminal_id,
                                opening_count: counts,
                                opening_difference_reason: reason,
                                request_id,
                            })
                            .await,
                    )
                })
            } else {
                self.backend.call(ctx, async move {
                    answer(
                        billing
                            .close_cash_drawer(billing::CloseCashDrawerRequest {
                                terminal_id,
                                closing_count: counts,
                                difference_reason: reason,
                                request_id,
                            })
                            .await,
                    )
                })
            });
        }
    }

    // --- Daily close ---------------------------------------------------------------------------

    fn poll_close(&mut self) {
        let lang = self.lang;
        if let Some(result) = self.close.loading.as_mut().and_then(Pending::take) {
            self.close.loading = None;
            match result {
                Ok(report) => self.close.report = Some(report),
                Err(error) => {
                    self.close.failed = true;
                    self.message = Some(Err(error.staff_message(lang)));
                }
            }
        }
        if let Some(result) = self.close.exporting.as_mut().and_then(Pending::take) {
            self.close.exporting = None;
            self.message = Some(result.map_err(|error| error.staff_message(lang)));
        }
    }

    fn close_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let lang = self.lang;
        let refresh = ui
            .horizontal(|ui| {
                ui.heading(T::DailyClose.get(lang));
                let mut refresh = false;
                if self.close.loading.is_some() {
                    ui.spinner();
                } else {
                    refresh = ui.button(T::Refresh.get(lang)).clicked();
                }
                for (format, text) in [
                    (billing::ReportFormat::Csv, T::ExportCsv),
                    (billing::ReportFormat::Xlsx, T::ExportXlsx),
                ] {
                    if self.close.exporting.is_none() && ui.button(text.get(lang)).clicked() {
                        let mut billing = self.backend.billing.clone();
                        let dir = self.exports_dir.clone();
                        self.close.exporting = Some(self.backend.call(ctx, async move {
                            let report = answer(
                                billing
                                    .export_daily_close(billing::ExportDailyCloseRequest {
                                        day: None,
                                        format: format as i32,
                                    })
                                    .await,
                            )?;
                            let path = dir.join(&report.file_name);
                            tokio::fs::create_dir_all(&dir)
                                .await
                                .map_err(|e| CallError::Other(e.to_string()))?;
                            tokio::fs::write(&path, &report.content)
                                .await
                                .map_err(|e| CallError::Other(e.to_string()))?;
                            Ok(fill(
                                T::Exported.get(lang),
                                &[("path", &path.display().to_string())],
                            ))
                        }));
                    }
                }
                refresh
            })
            .inner;
        if self.close.loading.is_none()
            && (refresh || (self.close.report.is_none() && !self.close.failed))
        {
            self.close.failed = false;
            let mut billing = self.backend.billing.clone();
            let day = Some(date_to_proto(self.today()));
            self.close.loading = Some(self.backend.call(ctx, async move {
                answer(
                    billing
                        .get_daily_close(billing::GetDailyCloseRequest { day })
                        .await,
                )
            }));
        }
        let Some(report) = &self.close.report else {
            return;
        };
        let money = |m: Option<&common::Money>| format::money(self.money(m));
        egui::ScrollArea::vertical().show(ui, |ui| {
            egui::Grid::new("totals")
                .spacing(vec2(24.0, 6.0))
                .show(ui, |ui| {
                    for (text, value) in [
                        (T::TotalCharged, money(report.total_charged.as_ref())),
                        (T::TotalReceived, money(report.total_received.as_ref())),
                        (T::TotalRefunded, money(report.total_refunded.as_ref())),
                        (T::NetIncome, money(report.net_income.as_ref())),
                        (T::Outstanding, money(report.total_outstanding.as_ref())),
                    ] {
                        ui.label(RichText::new(text.get(lang)).strong());
                        ui.label(value);
                        ui.end_row();
                    }
                });
            ui.add_space(8.0);
            ui.label(RichText::new(T::IncomeByMethod.get(lang)).strong());
            egui::Grid::new("by-method")
                .striped(true)
                .spacing(vec2(24.0, 4.0))
                .show(ui, |ui| {
                    for method in &report.income_by_method {
                        let flow = method.flow.clone().unwrap_or_default();
                        ui.label(income_method(method.method).get(lang));
                        ui.label(flow.payment_count.to_string());
                        ui.label(money(flow.net.as_ref()));
                        ui.end_row();
                    }
                });
            ui.add_space(8.0);
            ui.label(RichText::new(T::IncomeByService.get(lang)).strong());
            egui::Grid::new("by-service")
                .striped(true)
                .spacing(vec2(24.0, 4.0))
                .show(ui, |ui| {
                    for service in &report.income_by_service {
                        ui.label(format!("{} · {}", service.price_code, service.description));
                        ui.label(service.quantity.to_string());
                        ui.label(money(service.amount.as_ref()));
                        ui.end_row();
                    }
                });
            ui.add_space(8.0);
            ui.label(RichText::new(T::IncomeByStaff.get(lang)).strong());
            for staff in &report.income_by_staff {
                let flow = staff.flow.clone().unwrap_or_default();
                ui.label(format!("{} · {}", staff.staff, money(flow.net.as_ref())));
            }
            ui.add_space(8.0);
            ui.label(
                RichText::new(format!(
                    "{} ({})",
                    T::Outstanding.get(lang),
                    report.outstanding_accounts.len()
                ))
                .strong(),
            );
            ui.add_space(8.0);
            ui.label(RichText::new(T::DrawersClosed.get(lang)).strong());
            for drawer in &report.drawer_closes {
                ui.label(format!(
                    "{} · {} {} · {} {}",
                    drawer.terminal_id,
                    money(drawer.counted.as_ref()),
                    T::Balance.get(lang),
                    money(drawer.difference.as_ref()),
                    drawer.closed_by
                ));
            }
        });
    }
}

use billing::payment_part_request::Method as Part;
use billing::post_payment_request::Method as Single;

/// A payment (or one part of a split payment) as the form describes it, checked.
#[derive(Debug, Clone)]
enum PaymentForm {
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

async fn post(
    backend: Backend,
    request: billing::PostPaymentRequest,
) -> Result<Posting, CallError> {
    let mut billing = backend.billing.clone();
    answer(billing.post_payment(request).await).map(|payment| Posting::Recorded(Box::new(payment)))
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
            let allergies = if form.has_allergies {
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

/// Loads today's appointments and the patients and providers they name, asking only for the
/// ones not already `known`.
async fn load_schedule(
    backend: Backend,
    day: NaiveDate,
    known: (HashMap<String, patients::Patient>, HashMap<String, String>),
) -> Result<Schedule, CallError> {
    let (mut patients_known, mut providers) = known;
    let mut scheduling = backend.scheduling.clone();
    let mut appointments = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = answer(
            scheduling
                .list_appointments(scheduling::ListAppointmentsRequest {
                    day: Some(date_to_proto(day)),
                    provider_id: String::new(),
                    patient_id: String::new(),
                    page: Some(common::PageRequest {
                        page_size: 200,
                        page_token,
                    }),
                })
                .await,
        )?;
        appointments.extend(page.appointments);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    appointments.sort_by_key(|a| a.start_time.as_ref().map(|t| (t.seconds, t.nanos)));
    if appointments
        .iter()
        .any(|a| !providers.contains_key(&a.provider_id))
    {
        let list = answer(
            scheduling
                .list_providers(scheduling::ListProvidersRequest { page: None })
                .await,
        )?;
        providers = list
            .providers
            .into_iter()
            .map(|p| (p.provider_id, p.display_name))
            .collect();
    }
    let mut registry = backend.patients.clone();
    for appointment in &appointments {
        if patients_known.contains_key(&appointment.patient_id) {
            continue;
        }
        let patient = answer(
            registry
                .get_patient(patients::GetPatientRequest {
                    patient_id: appointment.patient_id.clone(),
                })
                .await,
        )?;
        patients_known.insert(patient.patient_id.clone(), patient);
    }
    Ok(Schedule {
        appointments,
        patients: patients_known,
        providers,
    })
}

/// An appointment's status as reception needs it: the queue's finer state while the patient is
/// in the waiting room.
fn status_text(status: i32, entry: Option<&scheduling::QueueEntry>) -> (T, Color32) {
    use scheduling::AppointmentStatus as S;
    if let Some(entry) = entry
        && entry.status == scheduling::QueueEntryStatus::Called as i32
    {
        return (T::StatusCalled, widgets::ACCENT);
    }
    match S::try_from(status).unwrap_or(S::Unspecified) {
        S::Scheduled | S::Unspecified => (T::StatusScheduled, widgets::MUTED),
        S::Confirmed => (T::StatusConfirmed, widgets::INK),
        S::Arrived => (T::StatusArrived, Color32::from_rgb(160, 90, 0)),
        S::Seated => (T::StatusSeated, widgets::ACCENT),
        S::Completed => (T::StatusCompleted, widgets::SUCCESS),
        S::CheckedOut => (T::StatusCheckedOut, widgets::SUCCESS),
        S::Cancelled => (T::StatusCancelled, widgets::DANGER),
        S::NoShow => (T::StatusNoShow, widgets::DANGER),
        S::Rescheduled => (T::StatusRescheduled, widgets::MUTED),
    }
}

fn income_method(method: i32) -> T {
    match billing::IncomeMethod::try_from(method) {
        Ok(billing::IncomeMethod::Cash) => T::Cash,
        Ok(billing::IncomeMethod::CardCredit) => T::CreditCard,
        Ok(billing::IncomeMethod::CardDebit) => T::DebitCard,
        Ok(billing::IncomeMethod::BankTransfer) => T::Transfer,
        _ => T::Method,
    }
}

impl PaymentForm {
    fn amount(&self) -> Money {
        match self {
            PaymentForm::Advance { amount }
            | PaymentForm::Cash { amount, .. }
            | PaymentForm::Card { amount, .. }
            | PaymentForm::Transfer { amount, .. } => *amount,
        }
    }

    /// "Card 4242 · $300.00", as the list of parts shows it.
    fn describe(&self, lang: Lang) -> String {
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

/// The notes and coins of `currency`, largest first, as (kind, face value in minor units).
fn denominations(currency: Currency) -> Vec<(billing::DenominationKind, i64)> {
    use billing::DenominationKind::{Coin, Note};
    match currency.code() {
        "MXN" => vec![
            (Note, 100_000),
            (Note, 50_000),
            (Note, 20_000),
            (Note, 10_000),
            (Note, 5_000),
            (Note, 2_000),
            (Coin, 2_000),
            (Coin, 1_000),
            (Coin, 500),
            (Coin, 200),
            (Coin, 100),
            (Coin, 50),
        ],
        _ => vec![
            (Note, 10_000),
            (Note, 5_000),
            (Note, 2_000),
            (Note, 1_000),
            (Note, 500),
            (Note, 100),
            (Coin, 25),
            (Coin, 10),
            (Coin, 5),
            (Coin, 1),
        ],
    }
}
