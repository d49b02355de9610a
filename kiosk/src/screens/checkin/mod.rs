//! The lobby check-in kiosk: the patient finds today's appointment (by the code from the
//! reminder, or by name, always with the date of birth and the phone's last four digits),
//! confirms it is theirs, checks in, gets a ticket and an estimated wait, fills in the
//! first-visit form on a first visit, and may pay an outstanding balance by card. Touch first,
//! large type, high contrast; back to the start after a spell without a touch.
//!
//! The kiosk never shows data it was not given for the identity it was shown: every lookup
//! carries the date of birth and the phone's last four, and every miss reads the same.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clinic_common::clock::SharedClock;
use clinic_common::money::Money;
use clinic_common::settings::ClinicSettings;
use clinic_common::time::local_date;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::{date_to_proto, timestamp_from_proto};
use eframe::egui;
use egui::{RichText, vec2};
use tokio::sync::{Notify, watch};

use crate::backend::{Backend, CallError, Pending, RetryKey, answer};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::keyboard::KeyPress;
use crate::outbox::{
    ApprovedCardPayment, CardKind, IdentityEvidence, Outbox, OutboxState, Posting,
};
use crate::widgets::{self, Key};

mod intake;

use intake::IntakePanel;

/// How long the kiosk waits for the waiting-room view to learn a new ticket's estimated wait.
const WAIT_ESTIMATE_TIMEOUT: Duration = Duration::from_secs(3);

/// Which field the on-screen keypad types into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    GivenName,
    FamilyName,
    Code,
    Day,
    Month,
    Year,
    LastFour,
    AuthCode,
    CardLastFour,
}

impl Field {
    fn max_len(self) -> usize {
        match self {
            Field::GivenName | Field::FamilyName => 60,
            Field::Code => 6,
            Field::Day | Field::Month => 2,
            Field::Year | Field::LastFour | Field::CardLastFour => 4,
            Field::AuthCode => 12,
        }
    }

    /// Whether `typed` belongs in this field: digits in dates and numbers, letters and digits
    /// in codes, letters, spaces, hyphens and apostrophes in names.
    fn accepts(self, typed: &str) -> bool {
        typed.chars().all(|c| match self {
            Field::GivenName | Field::FamilyName => {
                c.is_alphabetic() || c == ' ' || c == '-' || c == '\''
            }
            Field::Code | Field::AuthCode => c.is_ascii_alphanumeric(),
            Field::Day | Field::Month | Field::Year | Field::LastFour | Field::CardLastFour => {
                c.is_ascii_digit()
            }
        })
    }

    /// Where the keypad goes once this field is full.
    fn next(self) -> Option<Field> {
        match self {
            Field::GivenName | Field::FamilyName => None,
            Field::Code => Some(Field::Day),
            Field::Day => Some(Field::Month),
            Field::Month => Some(Field::Year),
            Field::Year => Some(Field::LastFour),
            Field::AuthCode => Some(Field::CardLastFour),
            Field::LastFour | Field::CardLastFour => None,
        }
    }
}

/// What the patient has typed to find their appointment.
#[derive(Debug, Clone, Default)]
struct FindForm {
    given_name: String,
    family_name: String,
    code: String,
    day: String,
    month: String,
    year: String,
    last_four: String,
}

impl FindForm {
    fn identity(&self) -> Option<IdentityEvidence> {
        let date_of_birth = format::date_of_birth(&self.day, &self.month, &self.year)?;
        format::is_last_four(&self.last_four).then(|| IdentityEvidence {
            date_of_birth,
            phone_last_four: self.last_four.clone(),
        })
    }
}

/// The appointment the patient's details found, before they confirm it is theirs.
#[derive(Debug, Clone)]
pub struct Found {
    pub appointment: scheduling::KioskAppointment,
    pub identity: IdentityEvidence,
}

/// The patient's visit once checked in.
#[derive(Debug, Clone)]
pub struct Visit {
    pub patient_id: String,
    pub given_name: String,
    pub first_visit: bool,
    pub ticket: String,
    pub start: Option<DateTime<Utc>>,
    pub provider: String,
    pub estimated_wait_minutes: Option<i32>,
    pub identity: IdentityEvidence,
    /// What the patient owes, when billing lets the kiosk ask.
    pub balance: Option<Money>,
}

#[derive(Debug, Clone, Default)]
struct CardForm {
    auth_code: String,
    last_four: String,
    kind: Option<CardKind>,
}

enum Step {
    Start,
    ByCode,
    ByName,
    Confirm,
    CheckedIn,
    Intake,
    Pay,
}

/// A screen's intent, handed to [`Checkin::act`].
enum Action {
    Language(Lang),
    Go(Step),
    Key(Key),
    Focus(Field),
    Search,
    Confirm,
    SendIntake,
    Pay,
    Reset,
}

/// The check-in kiosk's state.
pub struct Checkin {
    backend: Backend,
    clinic: ClinicSettings,
    clock: SharedClock,
    outbox: Outbox,
    outbox_state: watch::Receiver<OutboxState>,
    nudge: Arc<Notify>,
    default_lang: Lang,
    idle_seconds: f64,
    card_terminal: bool,
    terminal_id: String,

    lang: Lang,
    step: Step,
    active: Field,
    find: FindForm,
    found: Option<Found>,
    visit: Option<Visit>,
    intake: IntakePanel,
    intake_sent: bool,
    card: CardForm,
    payment_note: Option<Result<String, String>>,
    message: Option<String>,
    last_touch: Option<f64>,

    finding: Option<Pending<Found>>,
    checking_in: Option<Pending<Visit>>,
    sending_intake: Option<Pending<patients::IntakeForm>>,
    /// The form sent again after a timeout keeps its idempotency key.
    intake_key: RetryKey,
    paying: Option<Pending<Posting>>,
}

/// Everything the check-in kiosk is started with.
pub struct CheckinSetup {
    pub backend: Backend,
    pub clinic: ClinicSettings,
    /// When card payments are approved.
    pub clock: SharedClock,
    pub outbox: Outbox,
    pub outbox_state: watch::Receiver<OutboxState>,
    pub nudge: Arc<Notify>,
    pub language: Lang,
    pub idle_seconds: u32,
    pub card_terminal: bool,
    pub terminal_id: String,
}

impl Checkin {
    pub fn new(setup: CheckinSetup) -> Checkin {
        Checkin {
            backend: setup.backend,
            clinic: setup.clinic,
            clock: setup.clock,
            outbox: setup.outbox,
            outbox_state: setup.outbox_state,
            nudge: setup.nudge,
            default_lang: setup.language,
            idle_seconds: f64::from(setup.idle_seconds.max(5)),
            card_terminal: setup.card_terminal,
            terminal_id: setup.terminal_id,
            lang: setup.language,
            step: Step::Start,
            active: Field::Code,
            find: FindForm::default(),
            found: None,
            visit: None,
            intake: IntakePanel::default(),
            intake_sent: false,
            card: CardForm::default(),
            payment_note: None,
            message: None,
            last_touch: None,
            finding: None,
            checking_in: None,
            sending_intake: None,
            intake_key: RetryKey::default(),
            paying: None,
        }
    }

    pub fn language(&self) -> Lang {
        self.lang
    }

    fn busy(&self) -> bool {
        self.finding.is_some()
            || self.checking_in.is_some()
            || self.sending_intake.is_some()
            || self.paying.is_some()
    }

    /// Back to the start screen in the kiosk's own language, forgetting everything typed.
    fn reset(&mut self) {
        self.lang = self.default_lang;
        self.step = Step::Start;
        self.active = Field::Code;
        self.find = FindForm::default();
        self.found = None;
        self.visit = None;
        self.intake = IntakePanel::default();
        self.intake_sent = false;
        self.card = CardForm::default();
        self.payment_note = None;
        self.message = None;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.collect_results();
        self.watch_idle(&ctx);
        self.physical_keyboard(&ctx);

        let mut action = None;
        egui::Frame::new()
            .fill(widgets::PAPER)
            .inner_margin(32)
            .show(ui, |ui| {
                ui.set_min_size(ui.available_size());
                ui.vertical_centered(|ui| {
                    ui.label(RichText::new(&self.clinic.name).color(widgets::MUTED));
                });
                // Each step shows a refusal beside what it concerns, in space kept for it.
                action = match self.step {
                    Step::Start => self.start_ui(ui),
                    Step::ByCode => self.by_code_ui(ui),
                    Step::ByName => self.by_name_ui(ui),
                    Step::Confirm => self.confirm_ui(ui),
                    Step::CheckedIn => self.checked_in_ui(ui),
                    Step::Intake => self.intake_ui(ui),
                    Step::Pay => self.pay_ui(ui),
                };
            });
        if let Some(action) = action {
            self.act(action, &ctx);
        }
    }

    /// Takes the results of finished calls.
    fn collect_results(&mut self) {
        if let Some(result) = self.finding.as_mut().and_then(Pending::take) {
            self.finding = None;
            match result {
                Ok(found) => {
                    self.found = Some(found);
                    self.step = Step::Confirm;
                    self.message = None;
                }
                Err(error) => self.message = Some(error.patient_message(self.lang)),
            }
        }
        if let Some(result) = self.checking_in.as_mut().and_then(Pending::take) {
            self.checking_in = None;
            match result {
                Ok(visit) => {
                    self.visit = Some(visit);
                    self.step = Step::CheckedIn;
                    self.message = None;
                }
                Err(CallError::Refused(_) | CallError::Rule { .. } | CallError::NotFound) => {
                    self.message = Some(T::NotFound.get(self.lang).into());
                }
                Err(error) => self.message = Some(error.patient_message(self.lang)),
            }
        }
        if let Some(result) = self.sending_intake.as_mut().and_then(Pending::take) {
            self.sending_intake = None;
            match result {
                Ok(_) => {
                    self.intake_key.settle();
                    self.intake_sent = true;
                    self.step = Step::CheckedIn;
                    self.message = None;
                }
                Err(error) if self.intake.refused_by_registry(&error) => {
                    self.message = Some(T::CheckTheFields.get(self.lang).into());
                }
                Err(error) => self.message = Some(error.patient_message(self.lang)),
            }
        }
        if let Some(result) = self.paying.as_mut().and_then(Pending::take) {
            self.paying = None;
            match result {
                Ok(Posting::Recorded(payment)) => {
                    let balance = payment
                        .balance_after
                        .as_ref()
                        .map(|b| Money::from_minor(b.minor_units, self.clinic.currency));
                    if let Some(visit) = &mut self.visit {
                        visit.balance = balance;
                    }
                    self.payment_note = Some(Ok(fill(
                        T::PaymentRecorded.get(self.lang),
                        &[
                            ("receipt", &payment.receipt_number),
                            ("balance", &balance.map(format::money).unwrap_or_default()),
                        ],
                    )));
                    self.step = Step::CheckedIn;
                    self.message = None;
                }
                Ok(Posting::Saved) => {
                    if let Some(visit) = &mut self.visit {
                        visit.balance = None;
                    }
                    self.payment_note = Some(Ok(T::PaymentSaved.get(self.lang).into()));
                    self.step = Step::CheckedIn;
                    self.message = None;
                }
                Ok(Posting::Refused(error)) | Err(error) => {
                    self.message = Some(error.patient_message(self.lang));
                }
            }
        }
    }

    /// A keyboard (or an input method) types into the active field as the keypad does.
    fn physical_keyboard(&mut self, ctx: &egui::Context) {
        if matches!(self.step, Step::Intake) {
            self.physical_keyboard_intake(ctx);
            return;
        }
        if !matches!(self.step, Step::ByCode | Step::ByName | Step::Pay) {
            return;
        }
        let keys: Vec<Key> = ctx.input(|input| {
            input
                .events
                .iter()
                .filter_map(|event| match event {
                    egui::Event::Text(text) => Some(Key::Char(text.clone())),
                    egui::Event::Key {
                        key: egui::Key::Backspace,
                        pressed: true,
                        ..
                    } => Some(Key::Backspace),
                    _ => None,
                })
                .collect()
        });
        for key in keys {
            let key = match key {
                // Codes are printed in capitals; typed ones may not be.
                Key::Char(text) if matches!(self.active, Field::Code | Field::AuthCode) => {
                    Key::Char(text.to_uppercase())
                }
                other => other,
            };
            for single in split_chars(key) {
                self.type_key(single);
            }
        }
    }

    /// A keyboard types into the first-visit form's open answer as its on-screen keys do, and
    /// an input method's composition shows there until it is committed; Enter is "Done".
    fn physical_keyboard_intake(&mut self, ctx: &egui::Context) {
        if !self.intake.editing() {
            return;
        }
        let events = ctx.input(|input| input.events.clone());
        for event in events {
            match event {
                egui::Event::Text(text) | egui::Event::Ime(egui::ImeEvent::Commit(text)) => {
                    self.intake.type_text(&text)
                }
                egui::Event::Ime(egui::ImeEvent::Preedit { text, .. }) => {
                    self.intake.compose(&text);
                }
                egui::Event::Key {
                    key: egui::Key::Backspace,
                    pressed: true,
                    ..
                } => self.intake.press(KeyPress::Backspace),
                egui::Event::Key {
                    key: egui::Key::Enter,
                    pressed: true,
                    ..
                } => self.intake.close(),
                _ => {}
            }
        }
    }

    /// Back to the start after `idle_seconds` without a touch, unless a call is running.
    fn watch_idle(&mut self, ctx: &egui::Context) {
        let (now, touched) = ctx.input(|input| {
            let touched = input.pointer.any_down()
                || input.events.iter().any(|event| {
                    matches!(
                        event,
                        egui::Event::PointerButton { .. }
                            | egui::Event::Key { .. }
                            | egui::Event::Text(_)
                            | egui::Event::Ime(_)
                            | egui::Event::MouseWheel { .. }
                            | egui::Event::Touch { .. }
                    )
                });
            (input.time, touched)
        });
        let busy = self.busy();
        let last_touch = self.last_touch.get_or_insert(now);
        if touched || busy {
            *last_touch = now;
        }
        if busy || (matches!(self.step, Step::Start) && self.message.is_none()) {
            return;
        }
        let idle = now - *last_touch;
        if idle >= self.idle_seconds {
            tracing::info!("idle: back to the start screen");
            self.reset();
            self.last_touch = Some(now);
            ctx.request_repaint();
        } else {
            ctx.request_repaint_after(Duration::from_secs_f64(self.idle_seconds - idle));
        }
    }

    fn act(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::Language(lang) => {
                self.lang = lang;
                self.message = None;
            }
            Action::Go(step) => {
                self.message = None;
                if matches!(step, Step::ByCode) {
                    self.active = Field::Code;
                }
                if matches!(step, Step::ByName) {
                    self.active = name_fields(self.lang)[0].0;
                }
                if matches!(step, Step::Pay) {
                    self.active = Field::AuthCode;
                    self.card = CardForm::default();
                }
                // Who answers the form depends on the patient's age on the clinic's date.
                if let (Step::Intake, Some(visit)) = (&step, &self.visit) {
                    let today = local_date(self.clock.now(), self.clinic.time_zone);
                    self.intake.for_patient(visit.identity.date_of_birth, today);
                }
                self.step = step;
            }
            Action::Focus(field) => self.active = field,
            Action::Key(key) => self.type_key(key),
            Action::Search => self.search(ctx),
            Action::Confirm => self.check_in(ctx),
            Action::SendIntake => self.send_intake(ctx),
            Action::Pay => self.pay(ctx),
            Action::Reset => self.reset(),
        }
    }

    fn field_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::GivenName => &mut self.find.given_name,
            Field::FamilyName => &mut self.find.family_name,
            Field::Code => &mut self.find.code,
            Field::Day => &mut self.find.day,
            Field::Month => &mut self.find.month,
            Field::Year => &mut self.find.year,
            Field::LastFour => &mut self.find.last_four,
            Field::AuthCode => &mut self.card.auth_code,
            Field::CardLastFour => &mut self.card.last_four,
        }
    }

    fn type_key(&mut self, key: Key) {
        let field = self.active;
        let text = self.field_mut(field);
        match key {
            Key::Backspace => {
                text.pop();
            }
            Key::Char(c) => {
                if text.chars().count() < field.max_len() && field.accepts(&c) {
                    text.push_str(&c);
                }
                if text.chars().count() >= field.max_len()
                    && let Some(next) = field.next()
                {
                    self.active = next;
                }
            }
        }
    }

    /// Looks the appointment up from what the patient typed; nothing is shown until the
    /// service has matched every detail.
    fn search(&mut self, ctx: &egui::Context) {
        let Some(identity) = self.find.identity() else {
            self.message = Some(T::FillEverything.get(self.lang).into());
            return;
        };
        let lookup = if matches!(self.step, Step::ByName) {
            let (given, family) = (self.find.given_name.trim(), self.find.family_name.trim());
            if given.is_empty() || family.is_empty() {
                self.message = Some(T::FillEverything.get(self.lang).into());
                return;
            }
            scheduling::find_todays_appointment_request::Lookup::ByName(
                scheduling::KioskLookupByName {
                    family_name: family.to_owned(),
                    given_name: given.to_owned(),
                    date_of_birth: Some(date_to_proto(identity.date_of_birth)),
                    phone_last_four: identity.phone_last_four.clone(),
                },
            )
        } else {
            let code = self.find.code.trim().to_ascii_uppercase();
            if code.len() != 6 {
                self.message = Some(T::FillEverything.get(self.lang).into());
                return;
            }
            scheduling::find_todays_appointment_request::Lookup::ByCode(
                scheduling::KioskLookupByCode {
                    confirmation_code: code,
                    date_of_birth: Some(date_to_proto(identity.date_of_birth)),
                },
            )
        };
        self.message = None;
        let mut client = self.backend.scheduling.clone();
        self.finding = Some(self.backend.call(ctx, async move {
            let appointment = answer(
                client
                    .find_todays_appointment(scheduling::FindTodaysAppointmentRequest {
                        lookup: Some(lookup),
                    })
                    .await,
            )?;
            Ok(Found {
                appointment,
                identity,
            })
        }));
    }

    /// The patient confirmed the appointment is theirs: check it in.
    fn check_in(&mut self, ctx: &egui::Context) {
        let Some(found) = self.found.clone() else {
            return;
        };
        self.message = None;
        let backend = self.backend.clone();
        let currency = self.clinic.currency;
        self.checking_in = Some(
            self.backend
                .call(ctx, async move { check_in(backend, found, currency).await }),
        );
    }

    fn send_intake(&mut self, ctx: &egui::Context) {
        let Some(visit) = &self.visit else { return };
        // Each problem shows beside its question; this one beside Send.
        if !self.intake.ready() {
            self.message = Some(T::CheckTheFields.get(self.lang).into());
            return;
        }
        let mut request = self.intake.request(visit, self.lang);
        request.request_id = self.intake_key.for_request(format!("{request:?}"));
        self.message = None;
        let mut client = self.backend.patients.clone();
        self.sending_intake = Some(self.backend.call(ctx, async move {
            answer(client.submit_intake_form(request).await)
        }));
    }

    fn pay(&mut self, ctx: &egui::Context) {
        let Some(visit) = &self.visit else { return };
        let Some(balance) = visit.balance.filter(Money::is_positive) else {
            return;
        };
        let code_ok = !self.card.auth_code.is_empty()
            && self
                .card
                .auth_code
                .chars()
                .all(|c| c.is_ascii_alphanumeric());
        let (true, true, Some(kind)) = (
            code_ok,
            format::is_last_four(&self.card.last_four),
            self.card.kind,
        ) else {
            self.message = Some(T::FillEverything.get(self.lang).into());
            return;
        };
        let payment = ApprovedCardPayment {
            request_id: uuid::Uuid::new_v4().to_string(),
            patient_id: visit.patient_id.clone(),
            amount_minor: balance.minor_units(),
            currency: balance.currency().code().to_owned(),
            authorization_code: self.card.auth_code.clone(),
            last_four: self.card.last_four.clone(),
            card_kind: kind,
            terminal_id: self.terminal_id.clone(),
            approved_at: self.clock.now(),
            identity: Some(visit.identity.clone()),
            other_parts: Vec::new(),
        };
        self.message = None;
        let (backend, outbox, nudge) = (
            self.backend.clone(),
            self.outbox.clone(),
            self.nudge.clone(),
        );
        self.paying = Some(self.backend.call(ctx, async move {
            let posting = crate::outbox::save_and_post(backend, outbox, payment).await;
            nudge.notify_one();
            posting
        }));
    }

    // --- Drawing -------------------------------------------------------------------------------

    fn start_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let mut action = None;
        ui.vertical_centered(|ui| {
            ui.add_space(24.0);
            ui.heading(RichText::new(T::Welcome.get(self.lang)).size(56.0).strong());
            ui.label(RichText::new(T::CheckInPrompt.get(self.lang)).size(30.0));
            ui.add_space(28.0);
            ui.horizontal_wrapped(|ui| {
                for lang in Lang::ALL {
                    let selected = lang == self.lang;
                    let text = RichText::new(lang.native_name()).size(26.0);
                    let button = widgets::choice(selected, text).min_size(vec2(170.0, 64.0));
                    if ui.add(button).clicked() {
                        action = Some(Action::Language(lang));
                    }
                }
            });
            ui.add_space(36.0);
            if widgets::big_button(ui, T::HaveCode.get(self.lang), vec2(560.0, 100.0)).clicked() {
                action = Some(Action::Go(Step::ByCode));
            }
            ui.add_space(16.0);
            if widgets::big_button(ui, T::FindByName.get(self.lang), vec2(560.0, 100.0)).clicked() {
                action = Some(Action::Go(Step::ByName));
            }
            ui.add_space(16.0);
            widgets::message_slot(ui, self.message.as_deref(), vec2(560.0, ACTIONS_HEIGHT));
        });
        action
    }

    fn digit_field_ui(
        &self,
        ui: &mut egui::Ui,
        field: Field,
        label: T,
        width: f32,
    ) -> Option<Action> {
        let value = match field {
            Field::GivenName => &self.find.given_name,
            Field::FamilyName => &self.find.family_name,
            Field::Code => &self.find.code,
            Field::Day => &self.find.day,
            Field::Month => &self.find.month,
            Field::Year => &self.find.year,
            Field::LastFour => &self.find.last_four,
            Field::AuthCode => &self.card.auth_code,
            Field::CardLastFour => &self.card.last_four,
        };
        let mut action = None;
        ui.vertical(|ui| {
            let caption = ui.label(RichText::new(label.get(self.lang)).size(20.0));
            let selected = self.active == field;
            let shown = if value.is_empty() {
                " ".to_owned()
            } else {
                value.clone()
            };
            let button = egui::Button::new(field_text(field, shown))
                .selected(selected)
                // Every field is a visible box; the one the keypad types into stands out.
                .fill(if selected {
                    egui::Color32::from_rgb(214, 232, 255)
                } else {
                    egui::Color32::from_gray(245)
                })
                .stroke(if selected {
                    egui::Stroke::new(3.0, widgets::ACCENT)
                } else {
                    egui::Stroke::new(1.5, widgets::MUTED)
                })
                .min_size(vec2(width, 64.0));
            let response = ui.add(button).labelled_by(caption.id);
            if response.clicked() {
                action = Some(Action::Focus(field));
            }
        });
        action
    }

    fn by_code_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        ui.heading(T::HaveCode.get(self.lang));
        ui.add_space(8.0);
        self.find_form_ui(ui, true)
    }

    fn by_name_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        ui.heading(T::ByNameTitle.get(self.lang));
        ui.add_space(8.0);
        self.find_form_ui(ui, false)
    }

    /// The code (or the names), the date of birth and the phone's last four, with the keypad;
    /// Back and Search pinned to the bottom, a refusal beside them.
    fn find_form_ui(&mut self, ui: &mut egui::Ui, by_code: bool) -> Option<Action> {
        let lang = self.lang;
        let busy = self.finding.is_some().then_some(T::Searching);
        let message = self.message.clone();
        let (typed, acted) = widgets::with_bottom_bar(
            ui,
            ACTIONS_HEIGHT,
            |ui| self.find_fields_ui(ui, by_code),
            |ui| {
                actions_ui(
                    ui,
                    lang,
                    busy,
                    message.as_deref(),
                    Action::Reset,
                    (T::Search, Action::Search),
                )
            },
        );
        acted.or(typed)
    }

    fn find_fields_ui(&self, ui: &mut egui::Ui, by_code: bool) -> Option<Action> {
        let mut action = None;
        let lang = self.lang;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                if by_code {
                    action = self.digit_field_ui(ui, Field::Code, T::CodeLabel, 300.0);
                } else {
                    for (field, caption) in name_fields(lang) {
                        if let Some(a) = self.digit_field_ui(ui, field, caption, 460.0) {
                            action = Some(a);
                        }
                    }
                }
                ui.add_space(8.0);
                ui.label(T::DateOfBirth.get(lang));
                ui.horizontal(|ui| {
                    for (field, label, width) in [
                        (Field::Day, T::Day, 90.0),
                        (Field::Month, T::Month, 90.0),
                        (Field::Year, T::Year, 140.0),
                    ] {
                        if let Some(a) = self.digit_field_ui(ui, field, label, width) {
                            action = Some(a);
                        }
                    }
                });
                ui.add_space(8.0);
                if let Some(a) = self.digit_field_ui(ui, Field::LastFour, T::PhoneLastFour, 180.0) {
                    action = Some(a);
                }
            });
            ui.add_space(40.0);
            ui.vertical(|ui| {
                let keys = match self.active {
                    Field::Code => (widgets::CODE_KEYS, 9),
                    Field::GivenName | Field::FamilyName if lang == Lang::Ru => {
                        (widgets::CYRILLIC_KEYS, 8)
                    }
                    Field::GivenName | Field::FamilyName => (widgets::LATIN_KEYS, 8),
                    _ => (widgets::DIGITS, 3),
                };
                if let Some(key) = widgets::keypad(ui, keys.0, keys.1, vec2(72.0, 72.0)) {
                    action = Some(Action::Key(key));
                }
                // Under the letters, where there is room: the keypad has no characters.
                if !by_code && lang == Lang::Zh {
                    ui.add_space(12.0);
                    ui.label(RichText::new(T::NameInPinyin.get(lang)).color(widgets::MUTED));
                }
            });
        });
        action
    }

    fn confirm_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let Some(found) = &self.found else {
            return Some(Action::Reset);
        };
        let mut action = None;
        let lang = self.lang;
        let appointment = &found.appointment;
        ui.vertical_centered(|ui| {
            ui.add_space(24.0);
            ui.heading(RichText::new(T::IsThisYou.get(lang)).size(48.0).strong());
            ui.add_space(16.0);
            let time = timestamp_from_proto(appointment.start_time.as_ref())
                .map(|start| format::local_time(start, self.clinic.time_zone))
                .unwrap_or_default();
            ui.label(
                RichText::new(fill(
                    T::AppointmentAt.get(lang),
                    &[
                        ("name", &appointment.patient_given_name),
                        ("time", &time),
                        ("provider", &appointment.provider_display_name),
                    ],
                ))
                .size(34.0),
            );
            ui.add_space(32.0);
            if self.checking_in.is_some() {
                widgets::working(ui, T::Working.get(lang));
            } else {
                if widgets::big_button(ui, T::YesCheckMeIn.get(lang), vec2(560.0, 100.0)).clicked()
                {
                    action = Some(Action::Confirm);
                }
                ui.add_space(16.0);
                if widgets::plain_button(ui, T::NotMe.get(lang), vec2(560.0, 80.0)).clicked() {
                    action = Some(Action::Reset);
                }
            }
            // Below the buttons, so that a refusal moves neither of them.
            ui.add_space(16.0);
            widgets::message_slot(ui, self.message.as_deref(), vec2(560.0, ACTIONS_HEIGHT));
        });
        action
    }

    fn checked_in_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let Some(visit) = &self.visit else {
            return Some(Action::Reset);
        };
        let mut action = None;
        let lang = self.lang;
        // Scrolls on a short screen rather than hiding "Finish".
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.heading(
                    RichText::new(fill(T::CheckedIn.get(lang), &[("name", &visit.given_name)]))
                        .size(40.0)
                        .strong(),
                );
                if let Some(start) = visit.start {
                    ui.label(fill(
                        T::AppointmentAt.get(lang),
                        &[
                            ("name", &visit.given_name),
                            ("time", &format::local_time(start, self.clinic.time_zone)),
                            ("provider", &visit.provider),
                        ],
                    ));
                }
                ui.add_space(4.0);
                ui.label(RichText::new(T::YourTicket.get(lang)).size(28.0));
                ui.label(
                    RichText::new(&visit.ticket)
                        .size(100.0)
                        .strong()
                        .color(widgets::ACCENT),
                );
                // An early arrival waits for their time, which says more than a long estimate.
                let early = visit
                    .start
                    .filter(|start| *start - self.clock.now() > chrono::TimeDelta::minutes(15));
                match visit.estimated_wait_minutes {
                    _ if early.is_some() => ui.label(
                        RichText::new(fill(
                            T::EarlyArrival.get(lang),
                            &[(
                                "time",
                                &early
                                    .map(|start| format::local_time(start, self.clinic.time_zone))
                                    .unwrap_or_default(),
                            )],
                        ))
                        .size(32.0),
                    ),
                    Some(minutes) if minutes > 0 => ui.label(
                        RichText::new(fill(
                            T::EstimatedWait.get(lang),
                            &[("minutes", &minutes.to_string())],
                        ))
                        .size(32.0),
                    ),
                    _ => ui.label(RichText::new(T::CalledSoon.get(lang)).size(32.0)),
                };
                ui.label(T::WatchTheScreen.get(lang));
                ui.add_space(8.0);

                if self.intake_sent {
                    widgets::ok_banner(ui, T::FormReceived.get(lang));
                } else if visit.first_visit
                    && widgets::big_button(ui, T::FirstVisitForm.get(lang), vec2(560.0, 70.0))
                        .clicked()
                {
                    action = Some(Action::Go(Step::Intake));
                }
                if let Some(note) = &self.payment_note {
                    match note {
                        Ok(text) => widgets::ok_banner(ui, text),
                        Err(text) => widgets::error_banner(ui, text),
                    }
                }
                if let Some(balance) = visit.balance.filter(Money::is_positive) {
                    ui.add_space(8.0);
                    ui.label(
                        RichText::new(fill(
                            T::BalanceDue.get(lang),
                            &[("amount", &format::money(balance))],
                        ))
                        .size(28.0),
                    );
                    if self.card_terminal
                        && widgets::plain_button(ui, T::PayByCard.get(lang), vec2(560.0, 70.0))
                            .clicked()
                    {
                        action = Some(Action::Go(Step::Pay));
                    }
                }
                ui.add_space(8.0);
                if widgets::big_button(ui, T::Finish.get(lang), vec2(560.0, 76.0)).clicked() {
                    action = Some(Action::Reset);
                }
            });
        });
        action
    }

    fn intake_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let lang = self.lang;
        // A written answer open full screen, until "Done".
        if self.intake.editing() {
            self.intake.editor_ui(ui, lang);
            return None;
        }
        let busy = self.sending_intake.is_some().then_some(T::Working);
        let message = self.message.clone();
        let panel = &mut self.intake;
        let ((), acted) = widgets::with_bottom_bar(
            ui,
            ACTIONS_HEIGHT,
            |ui| {
                ui.heading(T::IntakeTitle.get(lang));
                // Kept where it was while an answer is open full screen.
                widgets::touch_scroll(ui, "intake-form", |ui| panel.questions_ui(ui, lang));
            },
            |ui| {
                actions_ui(
                    ui,
                    lang,
                    busy,
                    message.as_deref(),
                    Action::Go(Step::CheckedIn),
                    (T::SendForm, Action::SendIntake),
                )
            },
        );
        acted
    }

    fn pay_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let lang = self.lang;
        let busy = self.paying.is_some().then_some(T::Working);
        let message = self.message.clone();
        let (typed, acted) = widgets::with_bottom_bar(
            ui,
            ACTIONS_HEIGHT,
            |ui| self.card_form_ui(ui),
            |ui| {
                actions_ui(
                    ui,
                    lang,
                    busy,
                    message.as_deref(),
                    Action::Go(Step::CheckedIn),
                    (T::RecordPayment, Action::Pay),
                )
            },
        );
        acted.or(typed)
    }

    /// The card's authorization code, last four and kind, with the keypad.
    fn card_form_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let mut action = None;
        let lang = self.lang;
        let amount = self
            .visit
            .as_ref()
            .and_then(|visit| visit.balance)
            .map(format::money)
            .unwrap_or_default();
        ui.heading(T::PayTitle.get(lang));
        ui.label(RichText::new(fill(T::CardSteps.get(lang), &[("amount", &amount)])).size(26.0));
        ui.add_space(12.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                if let Some(a) =
                    self.digit_field_ui(ui, Field::AuthCode, T::AuthorizationCode, 320.0)
                {
                    action = Some(a);
                }
                if let Some(a) =
                    self.digit_field_ui(ui, Field::CardLastFour, T::CardLastFour, 180.0)
                {
                    action = Some(a);
                }
                ui.horizontal(|ui| {
                    for (kind, text) in [(CardKind::Credit, T::Credit), (CardKind::Debit, T::Debit)]
                    {
                        let selected = self.card.kind == Some(kind);
                        if ui
                            .add(
                                widgets::choice(selected, text.get(lang))
                                    .min_size(vec2(160.0, 60.0)),
                            )
                            .clicked()
                        {
                            self.card.kind = Some(kind);
                        }
                    }
                });
            });
            ui.add_space(40.0);
            let keys = if self.active == Field::AuthCode {
                (widgets::CODE_KEYS, 9)
            } else {
                (widgets::DIGITS, 3)
            };
            if let Some(key) = widgets::keypad(ui, keys.0, keys.1, vec2(72.0, 72.0)) {
                action = Some(Action::Key(key));
            }
        });
        action
    }

    /// Approved card payments still waiting for billing (for the log and the tests).
    pub fn outbox_state(&self) -> OutboxState {
        self.outbox_state.borrow().clone()
    }
}

/// The height of the strip of actions pinned to the bottom of a step, and of the slot for a
/// refusal beside them: a row of large buttons with a little room.
const ACTIONS_HEIGHT: f32 = 96.0;

/// A step's actions: Back and its main button (a spinner and `busy` while its call runs), and
/// beside them the slot where a refusal of that action shows.
fn actions_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    busy: Option<T>,
    message: Option<&str>,
    back: Action,
    (main, act): (T, Action),
) -> Option<Action> {
    let mut action = None;
    // The buttons' place stays the same while the call runs, so the spinner does not jump.
    ui.allocate_ui_with_layout(
        vec2(640.0, ACTIONS_HEIGHT),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_size(vec2(640.0, ACTIONS_HEIGHT));
            if let Some(working) = busy {
                widgets::working(ui, working.get(lang));
                return;
            }
            if widgets::plain_button(ui, T::Back.get(lang), vec2(200.0, 80.0)).clicked() {
                action = Some(back);
            }
            if widgets::big_button(ui, main.get(lang), vec2(420.0, 80.0)).clicked() {
                action = Some(act);
            }
        },
    );
    let size = vec2(ui.available_width(), ACTIONS_HEIGHT);
    widgets::message_slot(ui, message, size);
    action
}

/// The name fields in the order the patient's language writes a name: the family name first
/// in Chinese, the given name first otherwise.
fn name_fields(lang: Lang) -> [(Field, T); 2] {
    let given = (Field::GivenName, T::GivenName);
    let family = (Field::FamilyName, T::FamilyName);
    if lang == Lang::Zh {
        [family, given]
    } else {
        [given, family]
    }
}

/// A field's text: names in the body font, codes and numbers in monospace (so 0 and O differ).
fn field_text(field: Field, text: String) -> RichText {
    let text = RichText::new(text).size(34.0);
    match field {
        Field::GivenName | Field::FamilyName => text,
        _ => text.monospace(),
    }
}

/// Typed text, one character at a time (so each is checked and counted).
fn split_chars(key: Key) -> Vec<Key> {
    match key {
        Key::Char(text) => text.chars().map(|c| Key::Char(c.to_string())).collect(),
        Key::Backspace => vec![Key::Backspace],
    }
}

/// Checks the found appointment in with the patient's evidence, then learns the ticket's
/// estimated wait and the balance.
async fn check_in(
    backend: Backend,
    found: Found,
    currency: clinic_common::money::Currency,
) -> Result<Visit, CallError> {
    let mut scheduling = backend.scheduling.clone();
    let identity = found.identity;
    let checked_in = answer(
        scheduling
            .check_in_appointment(scheduling::CheckInAppointmentRequest {
                appointment_id: found.appointment.appointment_id.clone(),
                identity: Some(scheduling::IdentityEvidence {
                    date_of_birth: Some(date_to_proto(identity.date_of_birth)),
                    phone_last_four: identity.phone_last_four.clone(),
                }),
                confirmation_code: String::new(),
            })
            .await,
    )?;
    let entry = checked_in
        .queue_entry
        .ok_or_else(|| CallError::Other("check-in answered without a ticket".into()))?;
    let estimated_wait_minutes = estimated_wait(&backend, &entry.ticket_number).await;
    let balance = balance(&backend, &found.appointment.patient_id, &identity, currency).await;
    let appointment = found.appointment;
    Ok(Visit {
        patient_id: appointment.patient_id,
        given_name: appointment.patient_given_name,
        first_visit: appointment.first_visit,
        ticket: entry.ticket_number,
        start: timestamp_from_proto(appointment.start_time.as_ref()).ok(),
        provider: appointment.provider_display_name,
        estimated_wait_minutes,
        identity,
        balance,
    })
}

/// The waiting-room view's estimate for `ticket`, if it comes quickly.
async fn estimated_wait(backend: &Backend, ticket: &str) -> Option<i32> {
    use tokio_stream::StreamExt;
    let mut scheduling = backend.watch.clone();
    let first = tokio::time::timeout(WAIT_ESTIMATE_TIMEOUT, async {
        let mut stream = scheduling
            .watch_waiting_room(scheduling::WatchWaitingRoomRequest {})
            .await
            .ok()?
            .into_inner();
        stream.next().await?.ok()
    })
    .await
    .ok()??;
    first
        .tickets
        .iter()
        .find(|candidate| candidate.ticket_number == ticket)
        .map(|candidate| candidate.estimated_wait_minutes)
}

/// What the patient owes, if billing lets the kiosk ask; `None` otherwise (the offer to pay is
/// then simply not made).
async fn balance(
    backend: &Backend,
    patient_id: &str,
    identity: &IdentityEvidence,
    currency: clinic_common::money::Currency,
) -> Option<Money> {
    use clinic_proto::billing::v1 as billing;
    let mut client = backend.billing.clone();
    let balance = answer(
        client
            .get_account_balance(billing::GetAccountBalanceRequest {
                patient_id: patient_id.to_owned(),
                identity: Some(billing::IdentityEvidence {
                    date_of_birth: Some(date_to_proto(identity.date_of_birth)),
                    phone_last_four: identity.phone_last_four.clone(),
                }),
            })
            .await,
    )
    .ok()?;
    balance
        .balance
        .map(|money| Money::from_minor(money.minor_units, currency))
}
