//! A day's schedule, drawn as the appointment book (see `book`) or as a list: every
//! appointment with its live status from the staff queue watch, the
//! ticket and wait of a patient in the waiting room, and the buttons for the steps of an
//! appointment's life (check in, confirm, cancel with a reason, no-show, seat, complete, check
//! out) and for calling the next patient.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::timestamp_from_proto;
use eframe::egui;
use egui::{Color32, RichText, vec2};
use tokio::sync::mpsc;

use super::View;
use super::act::Action;
use super::book::{self, BookState, Booking, Columns};
use crate::backend::{Pending, RetryKey, WatchEvent};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// The staff queue watch's news, as it arrives.
pub(super) type QueueEvents = mpsc::UnboundedReceiver<WatchEvent<scheduling::WatchQueueResponse>>;

/// A day's schedule as loaded (or one provider's week): appointments, and what they are drawn
/// with.
pub(super) struct Schedule {
    /// The clinic-local day.
    pub(super) day: NaiveDate,
    /// The provider whose whole week (Monday to Sunday, around `day`) was loaded; `None` for
    /// the day of every provider.
    pub(super) week_provider: Option<String>,
    pub(super) appointments: Vec<scheduling::Appointment>,
    /// Holidays, blocks and breaks over the days loaded, the clinic's and each provider's.
    pub(super) exceptions: Vec<scheduling::ScheduleException>,
    pub(super) known: Known,
}

/// Who and what a schedule names: patients, providers (with their weekly hours), chairs and
/// rooms, kinds of visit. A reload asks only for what is not known yet (patients it has not
/// seen, the providers again when one is new).
#[derive(Default, Clone)]
pub(super) struct Known {
    pub(super) patients: HashMap<String, patients::Patient>,
    /// Every provider (id, name), by name.
    pub(super) provider_order: Vec<(String, String)>,
    /// Each provider's weekly working hours (none: bookable at any time).
    pub(super) hours: HashMap<String, Vec<scheduling::WorkingInterval>>,
    /// Chairs and rooms in service, by name.
    pub(super) rooms: Vec<(String, String)>,
    /// Kinds of visit's names, by id.
    pub(super) kinds: HashMap<String, String>,
}

impl Known {
    /// A provider's name (empty for one not known yet).
    pub(super) fn provider_name(&self, provider_id: &str) -> &str {
        self.provider_order
            .iter()
            .find(|(id, _)| id == provider_id)
            .map_or("", |(_, name)| name.as_str())
    }
}

/// A step in an appointment's life that its button takes at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Confirm(String),
    NoShow(String),
    /// The queue entry of an arrived patient.
    Seat(String),
    Complete(String),
    CheckOut(String),
}

/// What a life-cycle button asks for: a step, or the reason for a cancellation first.
pub(super) enum Pressed {
    Step(Step),
    Cancel(String),
}

/// The schedule tab.
pub(super) struct SchedulePanel {
    /// The day shown; today (as the clock turns) when `None`.
    pub(super) day: Option<NaiveDate>,
    /// The book's columns; the list when `None`.
    columns: Option<Columns>,
    /// The provider whose week the book shows, once chosen.
    week_provider: Option<String>,
    book: BookState,
    /// A booking made from the book, kept when retried after a timeout.
    pub(super) book_key: RetryKey,
    /// A move made from the book, kept when retried after a timeout.
    pub(super) move_key: RetryKey,
    schedule: Option<Schedule>,
    pub(super) loading: Option<Pending<Schedule>>,
    /// Set when the schedule may have changed: it is loaded again once the last load is done.
    pub(super) reload: bool,
    queue: HashMap<String, scheduling::QueueEntry>,
    /// Kiosk lookups held back after too many misses: a patient in the lobby needs the desk.
    kiosk_locks: Vec<scheduling::KioskLock>,
    pub(super) queue_events: Option<QueueEvents>,
    connected: bool,
    pub(super) checking_in: Option<Pending<scheduling::CheckInAppointmentResponse>>,
    /// A step in an appointment's life (confirm, cancel, no-show, seat, complete, check out,
    /// call next) on its way; answers what to tell reception.
    pub(super) acting: Option<Pending<String>>,
    /// The appointment being cancelled, and the reason typed so far.
    cancelling: Option<(String, String)>,
    /// "Call next" pressed again after a timeout keeps its key, so one patient is called; set
    /// while a call-next is what `acting` waits for.
    pub(super) call_next_key: RetryKey,
    pub(super) calling_next: bool,
}

impl Default for SchedulePanel {
    fn default() -> Self {
        SchedulePanel {
            day: None,
            columns: Some(Columns::Providers),
            week_provider: None,
            book: BookState::default(),
            book_key: RetryKey::default(),
            move_key: RetryKey::default(),
            schedule: None,
            loading: None,
            reload: true,
            queue: HashMap::new(),
            kiosk_locks: Vec::new(),
            queue_events: None,
            connected: false,
            checking_in: None,
            acting: None,
            cancelling: None,
            call_next_key: RetryKey::default(),
            calling_next: false,
        }
    }
}

impl SchedulePanel {
    /// Whether the queue watch is delivering.
    pub(super) fn connected(&self) -> bool {
        self.connected
    }

    /// What the schedule already knows, for the next load.
    pub(super) fn known(&self) -> Known {
        self.schedule
            .as_ref()
            .map(|s| s.known.clone())
            .unwrap_or_default()
    }

    /// The day to load, given today.
    pub(super) fn day_shown(&self, today: NaiveDate) -> NaiveDate {
        self.day.unwrap_or(today)
    }

    /// The provider whose week to load, when the book shows a week.
    pub(super) fn week_shown(&self) -> Option<String> {
        self.week_provider
            .clone()
            .filter(|_| self.columns == Some(Columns::Week))
    }

    /// Shows another day (today for `None`), loading it.
    fn show_day(&mut self, day: Option<NaiveDate>) {
        self.day = day;
        self.reload = true;
        self.book.drag = None;
    }

    /// The patient's appointment today, if the schedule has one (empty otherwise).
    pub(super) fn todays_appointment(&self, patient_id: &str, today: NaiveDate) -> String {
        self.schedule
            .as_ref()
            .filter(|s| s.day == today)
            .and_then(|s| s.appointments.iter().find(|a| a.patient_id == patient_id))
            .map(|a| a.appointment_id.clone())
            .unwrap_or_default()
    }

    /// Takes the queue watch's news and finished calls' results; asks for what must load.
    pub(super) fn poll(&mut self, lang: Lang) -> Vec<Action> {
        let mut actions = Vec::new();
        match &mut self.queue_events {
            None => actions.push(Action::WatchQueue),
            Some(events) => {
                while let Ok(event) = events.try_recv() {
                    match event {
                        WatchEvent::Message(message) => {
                            self.kiosk_locks = message.kiosk_locks;
                            self.queue = message
                                .entries
                                .into_iter()
                                .map(|entry| (entry.appointment_id.clone(), entry))
                                .collect();
                            self.connected = true;
                            // A queue change often is a status change of an appointment: reload.
                            self.reload = true;
                        }
                        WatchEvent::Disconnected => self.connected = false,
                    }
                }
            }
        }
        if let Some(result) = self.loading.as_mut().and_then(Pending::take) {
            self.loading = None;
            match result {
                Ok(schedule) => self.schedule = Some(schedule),
                Err(error) => actions.push(Action::Tell(Err(error.staff_message(lang)))),
            }
        }
        if self.reload && self.loading.is_none() {
            self.reload = false;
            actions.push(Action::LoadSchedule);
        }
        if let Some(result) = self.checking_in.as_mut().and_then(Pending::take) {
            self.checking_in = None;
            actions.push(Action::Tell(match result {
                Ok(response) => {
                    let ticket = response
                        .queue_entry
                        .map(|e| e.ticket_number)
                        .unwrap_or_default();
                    self.reload = true;
                    Ok(format!("{} ✓ {ticket}", T::CheckIn.get(lang)))
                }
                Err(error) => Err(error.staff_message(lang)),
            }));
        }
        if let Some(result) = self.acting.as_mut().and_then(Pending::take) {
            self.acting = None;
            self.reload = true;
            if std::mem::take(&mut self.calling_next) && result.is_ok() {
                self.call_next_key.settle();
            }
            if result.is_ok() {
                self.book_key.settle();
                self.move_key.settle();
            }
            actions.push(Action::Tell(
                result.map_err(|error| error.staff_message(lang)),
            ));
        }
        actions
    }

    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        booking: Option<Booking<'_>>,
    ) -> Vec<Action> {
        let mut actions: Vec<Action> = self.header_ui(ui, view).into_iter().collect();
        self.day_ui(ui, view);
        actions.extend(self.cancel_ui(ui, view.lang));
        let today = view.today();
        let (day, week) = (self.day_shown(today), self.week_shown());
        let Some(schedule) = self
            .schedule
            .as_ref()
            .filter(|s| s.day == day && s.week_provider == week)
        else {
            if self.loading.is_some() {
                widgets::working(ui, T::Working.get(view.lang));
            }
            return actions;
        };
        let pressed = match self.columns {
            // A week is drawn once it is loaded; until then the day.
            Some(Columns::Week) if week.is_none() => None,
            Some(columns) => {
                let (asked, pressed) = book::ui(
                    ui,
                    view,
                    (schedule, &self.queue),
                    (columns, &mut self.book),
                    booking,
                );
                actions.extend(asked);
                pressed
            }
            None => {
                let (asked, pressed) = self.list_ui(ui, view, schedule);
                actions.extend(asked);
                pressed
            }
        };
        match pressed {
            Some(Pressed::Step(step)) => actions.push(Action::Step(step)),
            Some(Pressed::Cancel(appointment_id)) => {
                self.cancelling = Some((appointment_id, String::new()));
            }
            None => {}
        }
        actions
    }

    /// The day as a list: one row an appointment, with its next steps as buttons.
    fn list_ui(
        &self,
        ui: &mut egui::Ui,
        view: &View,
        schedule: &Schedule,
    ) -> (Vec<Action>, Option<Pressed>) {
        let mut actions = Vec::new();
        let mut pressed = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            egui::Grid::new("schedule")
                .striped(true)
                .spacing(vec2(18.0, 8.0))
                .show(ui, |ui| {
                    headings_ui(ui, view.lang);
                    for appointment in &schedule.appointments {
                        let (action, step) = self.row_ui(ui, view, schedule, appointment);
                        actions.extend(action);
                        if step.is_some() {
                            pressed = step;
                        }
                        ui.end_row();
                    }
                });
        });
        (actions, pressed)
    }

    /// The day shown (previous, today, next, or typed), and the book's columns or the list;
    /// Page Up and Page Down turn the days, Home comes back to today, while nothing is typed.
    fn day_ui(&mut self, ui: &mut egui::Ui, view: &View) {
        let lang = view.lang;
        let today = view.today();
        let shown = self.day_shown(today);
        let mut go = None;
        ui.horizontal(|ui| {
            if ui
                .button("◀")
                .on_hover_text(format!("{} (Page Up)", T::PreviousDay.get(lang)))
                .clicked()
            {
                go = Some(shown.pred_opt());
            }
            if ui
                .add_enabled(shown != today, egui::Button::new(T::Today.get(lang)))
                .on_hover_text("Home")
                .clicked()
            {
                go = Some(None);
            }
            if ui
                .button("▶")
                .on_hover_text(format!("{} (Page Down)", T::NextDay.get(lang)))
                .clicked()
            {
                go = Some(shown.succ_opt());
            }
            let mut typed = shown.format("%Y-%m-%d").to_string();
            let caption = ui.label(T::BookDay.get(lang));
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut typed)
                        .desired_width(widgets::date_field_width(ui))
                        .id_salt("book-day"),
                )
                .labelled_by(caption.id);
            if edit.changed()
                && let Ok(day) = NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d")
            {
                go = Some(Some(day));
            }
            ui.label(format::weekday(shown, lang));
            ui.separator();
            for (columns, text) in [
                (Some(Columns::Providers), T::ByProvider),
                (Some(Columns::Chairs), T::ByChair),
                (Some(Columns::Week), T::WeekOf),
                (None, T::AsList),
            ] {
                if ui
                    .selectable_label(self.columns == columns, text.get(lang))
                    .clicked()
                {
                    self.columns = columns;
                    self.reload = true;
                }
            }
            if self.columns == Some(Columns::Week) {
                self.week_provider_ui(ui, lang);
            }
        });
        if ui.ctx().memory(|memory| memory.focused().is_none()) {
            ui.input(|input| {
                if input.key_pressed(egui::Key::PageUp) {
                    go = Some(shown.pred_opt());
                } else if input.key_pressed(egui::Key::PageDown) {
                    go = Some(shown.succ_opt());
                } else if input.key_pressed(egui::Key::Home) {
                    go = Some(None);
                }
            });
        }
        if let Some(day) = go {
            self.show_day(day.filter(|day| *day != today));
        }
    }

    /// The provider whose week is shown (the first, until one is chosen).
    fn week_provider_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let Some(providers) = self
            .schedule
            .as_ref()
            .map(|s| s.known.provider_order.clone())
        else {
            return;
        };
        if self.week_provider.is_none() {
            self.week_provider = providers.first().map(|(id, _)| id.clone());
            self.reload = true;
        }
        let chosen = self.week_provider.clone().unwrap_or_default();
        let name = providers
            .iter()
            .find(|(id, _)| *id == chosen)
            .map_or("", |(_, name)| name.as_str());
        let caption = ui.label(T::Provider.get(lang));
        egui::ComboBox::from_id_salt("week-provider")
            .selected_text(name)
            .show_ui(ui, |ui| {
                for (id, name) in &providers {
                    if ui.selectable_label(*id == chosen, name).clicked() {
                        self.week_provider = Some(id.clone());
                        self.reload = true;
                    }
                }
            })
            .response
            .labelled_by(caption.id);
    }

    /// The heading, Refresh and Call next; on the same line (so nothing below moves), a
    /// warning for each kiosk lock.
    fn header_ui(&self, ui: &mut egui::Ui, view: &View) -> Option<Action> {
        let lang = view.lang;
        let mut action = None;
        ui.horizontal_wrapped(|ui| {
            ui.heading(T::Schedule.get(lang));
            if self.loading.is_some() {
                ui.spinner();
            } else if ui.button(T::Refresh.get(lang)).clicked() {
                action = Some(Action::ReloadSchedule);
            }
            ui.separator();
            if self.acting.is_some() {
                ui.spinner();
            } else if ui.button(T::CallNext.get(lang)).clicked() {
                action = Some(Action::CallNext);
            }
            for lock in &self.kiosk_locks {
                let text = if lock.whole_kiosk {
                    T::KioskLocked
                } else {
                    T::KioskPatientLocked
                };
                ui.separator();
                ui.label(
                    RichText::new(fill(
                        text.get(lang),
                        &[
                            ("kiosk", lock.kiosk.trim_start_matches("kiosk:")),
                            ("time", &view.local_time(lock.until.as_ref())),
                        ],
                    ))
                    .color(ui.visuals().warn_fg_color),
                );
            }
        });
        action
    }

    /// The reason asked for before an appointment is cancelled.
    fn cancel_ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        let (appointment_id, mut reason) = self.cancelling.take()?;
        let mut keep_open = true;
        let mut action = None;
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
                action = Some(Action::Cancel {
                    appointment_id: appointment_id.clone(),
                    reason: reason.trim().to_owned(),
                });
                keep_open = false;
            }
            if ui.button(T::KeepVisit.get(lang)).clicked() {
                keep_open = false;
            }
        });
        if keep_open {
            self.cancelling = Some((appointment_id, reason));
        }
        action
    }

    /// One appointment's row: when, who, with whom, its status, ticket and wait, and its
    /// buttons; what was pressed.
    fn row_ui(
        &self,
        ui: &mut egui::Ui,
        view: &View,
        schedule: &Schedule,
        appointment: &scheduling::Appointment,
    ) -> (Option<Action>, Option<Pressed>) {
        let lang = view.lang;
        ui.label(view.local_time(appointment.start_time.as_ref()));
        let patient = schedule.known.patients.get(&appointment.patient_id);
        ui.label(patient.map_or_else(
            || "…".to_owned(),
            |p| format::full_name(&p.given_name, &p.family_name),
        ));
        ui.label(schedule.known.provider_name(&appointment.provider_id));
        let entry = self.queue.get(&appointment.appointment_id);
        let (status, color) = status_text(appointment.status, entry);
        ui.label(RichText::new(status.get(lang)).color(color).strong());
        ui.label(entry.map_or("", |e| e.ticket_number.as_str()));
        wait_ui(ui, lang, entry);
        ui.horizontal(|ui| {
            let mut action = None;
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
                action = Some(Action::CheckIn(appointment.appointment_id.clone()));
            }
            let pressed = if self.acting.is_none() {
                life_cycle_ui(ui, lang, appointment, entry, view.now)
            } else {
                None
            };
            action = account_button(ui, lang, appointment, patient).or(action);
            (action, pressed)
        })
        .inner
    }
}

fn headings_ui(ui: &mut egui::Ui, lang: Lang) {
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
}

/// How long a waiting patient has waited and is expected to, flagged when overdue.
fn wait_ui(ui: &mut egui::Ui, lang: Lang, entry: Option<&scheduling::QueueEntry>) {
    match entry {
        Some(e) if e.status == scheduling::QueueEntryStatus::Waiting as i32 => {
            let text = format!("{}′ / ~{}′", e.waited_minutes, e.estimated_wait_minutes);
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
}

/// The buttons for the steps an appointment may take next; the one pressed, if any.
fn life_cycle_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    appointment: &scheduling::Appointment,
    entry: Option<&scheduling::QueueEntry>,
    now: DateTime<Utc>,
) -> Option<Pressed> {
    let mut pressed = None;
    for (text, step) in life_cycle_steps(appointment, entry, now) {
        if ui.small_button(text.get(lang)).clicked() {
            pressed = Some(step);
        }
    }
    pressed
}

/// The button that opens the account of the appointment's patient (once the patient is known);
/// whether it was pressed.
pub(super) fn account_button(
    ui: &mut egui::Ui,
    lang: Lang,
    appointment: &scheduling::Appointment,
    patient: Option<&patients::Patient>,
) -> Option<Action> {
    let patient = patient?;
    ui.button(T::Account.get(lang))
        .clicked()
        .then(|| Action::OpenAccount {
            patient: Box::new(patient.clone()),
            appointment_id: appointment.appointment_id.clone(),
        })
}

/// The steps an appointment may take next, each with its button's text.
pub(super) fn life_cycle_steps(
    appointment: &scheduling::Appointment,
    entry: Option<&scheduling::QueueEntry>,
    now: DateTime<Utc>,
) -> Vec<(T, Pressed)> {
    use scheduling::AppointmentStatus as S;
    let id = || appointment.appointment_id.clone();
    let started =
        timestamp_from_proto(appointment.start_time.as_ref()).is_ok_and(|start| start <= now);
    let mut steps = Vec::new();
    match S::try_from(appointment.status) {
        Ok(S::Scheduled) => {
            steps.push((T::ConfirmVisit, Pressed::Step(Step::Confirm(id()))));
            steps.push((T::CancelVisit, Pressed::Cancel(id())));
        }
        Ok(S::Confirmed) => steps.push((T::CancelVisit, Pressed::Cancel(id()))),
        Ok(S::Arrived) => {
            if let Some(entry) = entry {
                let seat = Step::Seat(entry.queue_entry_id.clone());
                steps.push((T::Seat, Pressed::Step(seat)));
            }
        }
        Ok(S::Seated) => steps.push((T::Complete, Pressed::Step(Step::Complete(id())))),
        Ok(S::Completed) => steps.push((T::CheckOut, Pressed::Step(Step::CheckOut(id())))),
        _ => {}
    }
    if started
        && matches!(
            S::try_from(appointment.status),
            Ok(S::Scheduled | S::Confirmed)
        )
    {
        steps.push((T::NoShow, Pressed::Step(Step::NoShow(id()))));
    }
    steps
}

/// An appointment's status as reception needs it: the queue's finer state while the patient is
/// in the waiting room.
pub(super) fn status_text(status: i32, entry: Option<&scheduling::QueueEntry>) -> (T, Color32) {
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
