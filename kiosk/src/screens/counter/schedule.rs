//! Today's schedule: every appointment with its live status from the staff queue watch, the
//! ticket and wait of a patient in the waiting room, and the buttons for the steps of an
//! appointment's life (check in, confirm, cancel with a reason, no-show, seat, complete, check
//! out) and for calling the next patient.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::timestamp_from_proto;
use eframe::egui;
use egui::{Color32, RichText, vec2};
use tokio::sync::mpsc;

use super::View;
use super::act::Action;
use crate::backend::{Pending, RetryKey, WatchEvent};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// The staff queue watch's news, as it arrives.
pub(super) type QueueEvents = mpsc::UnboundedReceiver<WatchEvent<scheduling::WatchQueueResponse>>;

/// Today's schedule as loaded: appointments, and who they are with.
pub(super) struct Schedule {
    pub(super) appointments: Vec<scheduling::Appointment>,
    pub(super) patients: HashMap<String, patients::Patient>,
    pub(super) providers: HashMap<String, String>,
}

/// The patients and providers a schedule already names, by id: a reload asks only for others.
pub(super) type Known = (HashMap<String, patients::Patient>, HashMap<String, String>);

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
enum Pressed {
    Step(Step),
    Cancel(String),
}

/// The schedule tab.
pub(super) struct SchedulePanel {
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

    /// The patients and providers already known, for the next load.
    pub(super) fn known(&self) -> Known {
        self.schedule
            .as_ref()
            .map(|s| (s.patients.clone(), s.providers.clone()))
            .unwrap_or_default()
    }

    /// The patient's appointment today, if the schedule has one (empty otherwise).
    pub(super) fn todays_appointment(&self, patient_id: &str) -> String {
        self.schedule
            .as_ref()
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
            actions.push(Action::Tell(
                result.map_err(|error| error.staff_message(lang)),
            ));
        }
        actions
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &View) -> Vec<Action> {
        let mut actions: Vec<Action> = self.header_ui(ui, view).into_iter().collect();
        actions.extend(self.cancel_ui(ui, view.lang));
        let Some(schedule) = &self.schedule else {
            if self.loading.is_some() {
                widgets::working(ui, T::Working.get(view.lang));
            }
            return actions;
        };
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
        match pressed {
            Some(Pressed::Step(step)) => actions.push(Action::Step(step)),
            Some(Pressed::Cancel(appointment_id)) => {
                self.cancelling = Some((appointment_id, String::new()));
            }
            None => {}
        }
        actions
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
            if let Some(patient) = patient
                && ui.button(T::Account.get(lang)).clicked()
            {
                action = Some(Action::OpenAccount {
                    patient: Box::new(patient.clone()),
                    appointment_id: appointment.appointment_id.clone(),
                });
            }
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
    use scheduling::AppointmentStatus as S;
    let id = || appointment.appointment_id.clone();
    let started =
        timestamp_from_proto(appointment.start_time.as_ref()).is_ok_and(|start| start <= now);
    let mut pressed = None;
    let mut button = |text: T, make: &dyn Fn() -> Pressed| {
        if ui.small_button(text.get(lang)).clicked() {
            pressed = Some(make());
        }
    };
    let step = |step: Step| Pressed::Step(step);
    match S::try_from(appointment.status) {
        Ok(S::Scheduled) => {
            button(T::ConfirmVisit, &|| step(Step::Confirm(id())));
            button(T::CancelVisit, &|| Pressed::Cancel(id()));
        }
        Ok(S::Confirmed) => {
            button(T::CancelVisit, &|| Pressed::Cancel(id()));
        }
        Ok(S::Arrived) => {
            if let Some(entry) = entry {
                let queue_entry_id = entry.queue_entry_id.clone();
                button(T::Seat, &|| step(Step::Seat(queue_entry_id.clone())));
            }
        }
        Ok(S::Seated) => button(T::Complete, &|| step(Step::Complete(id()))),
        Ok(S::Completed) => button(T::CheckOut, &|| step(Step::CheckOut(id()))),
        _ => {}
    }
    if started
        && matches!(
            S::try_from(appointment.status),
            Ok(S::Scheduled | S::Confirmed)
        )
    {
        button(T::NoShow, &|| step(Step::NoShow(id())));
    }
    pressed
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
