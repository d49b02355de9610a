//! Reception's contact with patients: the outbox, patients' replies to reminders, the calls to
//! late patients, and tomorrow's list to confirm.

use chrono::{NaiveDate, TimeDelta};
use clinic_common::auth::Caller;
use clinic_common::ids::{AppointmentId, RequestId};
use clinic_common::time::day_span;

use super::Scheduling;
use crate::domain::calls::{CallTask, late_window};
use crate::domain::reminders::{Channel, OutboxMessage, ReplyAction, read_reply};
use crate::domain::waitlist::FreedBy;
use crate::domain::{Appointment, AppointmentStatus, ConfirmationCode, Note, SchedulingError};
use crate::grpc::PatientContact;
use crate::spans::record_appointment_id;

/// The most appointments one day's confirmation list reads.
const TOMORROW_LIMIT: u32 = 500;

/// Which appointment a reply is about.
pub enum ReplyTarget {
    Id(AppointmentId),
    Code(ConfirmationCode),
}

/// A patient's reply to a reminder, as the messaging gateway passed it on.
pub struct ReplyRequest {
    pub target: ReplyTarget,
    pub channel: Channel,
    pub text: Note,
    /// The gateway's message id: a retry is one reply.
    pub request_id: RequestId,
}

/// One of tomorrow's appointments, with how to reach its patient.
pub struct TomorrowAppointment {
    pub appointment: Appointment,
    /// Empty when the registry does not know the patient.
    pub contact: PatientContact,
}

impl Scheduling {
    /// The outbox, newest first, optionally about one appointment, after writing the messages
    /// due by now.
    pub async fn outbox(
        &self,
        appointment_id: Option<String>,
        (size, offset): (u32, u64),
    ) -> Result<Vec<OutboxMessage>, SchedulingError> {
        crate::reminders::plan(&self.store, &self.registry, &self.settings, self.now()).await?;
        self.store.outbox(appointment_id, size, offset).await
    }

    /// Records a patient's reply and does what it asks (confirm or cancel) while the
    /// appointment is still active. Returns what the reply did and the appointment as it now
    /// is; a retry answers what the first call did.
    pub async fn record_reply(
        &self,
        reply: &ReplyRequest,
        caller: &Caller,
    ) -> Result<(String, Appointment), SchedulingError> {
        let appointment = match &reply.target {
            ReplyTarget::Id(appointment_id) => self
                .store
                .appointment(*appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(*appointment_id))?,
            ReplyTarget::Code(code) => self
                .store
                .appointment_by_code(code)
                .await?
                .ok_or(SchedulingError::ConfirmationCodeNotFound)?,
        };
        record_appointment_id(appointment.appointment_id);
        if let Some((_, action)) = self.store.earlier_reply(reply.request_id.as_str()).await? {
            return Ok((action, appointment));
        }
        let now = self.now();
        let text = reply.text.as_str();
        let (action, appointment) = self
            .apply_reply(appointment, read_reply(text), text, caller)
            .await?;
        self.store
            .record_reply(
                reply.request_id.as_str(),
                (
                    &appointment.appointment_id.to_string(),
                    reply.channel.as_str(),
                    text,
                    action,
                ),
                caller,
                now,
            )
            .await?;
        tracing::info!(
            action,
            channel = reply.channel.as_str(),
            "patient reply recorded"
        );
        Ok((action.to_owned(), appointment))
    }

    /// Confirms or cancels as the reply asks, when the appointment is still active.
    async fn apply_reply(
        &self,
        appointment: Appointment,
        action: Option<ReplyAction>,
        text: &str,
        caller: &Caller,
    ) -> Result<(&'static str, Appointment), SchedulingError> {
        let Some(action) = action else {
            return Ok(("unrecognised", appointment));
        };
        let confirmable = matches!(
            appointment.status,
            AppointmentStatus::Scheduled | AppointmentStatus::Confirmed
        );
        if !confirmable {
            return Ok(("too_late", appointment));
        }
        let now = self.now();
        match action {
            ReplyAction::Confirm => {
                let confirmed = self
                    .store
                    .confirm(appointment.appointment_id, caller, now)
                    .await?;
                Ok(("confirmed", confirmed))
            }
            ReplyAction::Cancel => {
                let reason = Note::parse(&format!("patient replied \"{text}\" to a reminder"))
                    .or_else(|_| Note::parse("patient replied to a reminder"))
                    .map_err(|problem| anyhow::anyhow!("a cancel reason is {problem}"))?;
                let (cancelled, change) = self
                    .store
                    .cancel(appointment.appointment_id, reason, caller, now)
                    .await?;
                if let Some(change) = change {
                    self.feed.publish(change).await;
                }
                self.offer_freed(&cancelled, FreedBy::Cancelled).await;
                Ok(("cancelled", cancelled))
            }
        }
    }

    /// The call tasks, oldest first, after making those due by now: the list is right even
    /// between the background task's rounds.
    pub async fn call_tasks(
        &self,
        show_done: bool,
        (size, offset): (u32, u64),
    ) -> Result<Vec<CallTask>, SchedulingError> {
        let now = self.now();
        let window = late_window(now, self.settings.front_desk.late_after());
        self.store.make_late_tasks(window, now).await?;
        self.store.call_tasks(show_done, size, offset).await
    }

    /// Tomorrow in the clinic, and its active appointments with their patients' contact
    /// details, for reception to call and confirm.
    pub async fn tomorrow(&self) -> Result<(NaiveDate, Vec<TomorrowAppointment>), SchedulingError> {
        let tomorrow = self.today() + TimeDelta::days(1);
        let appointments = self
            .store
            .appointments_between(
                day_span(tomorrow, self.time_zone()),
                None,
                None,
                TOMORROW_LIMIT,
                0,
            )
            .await?;
        let mut listed = Vec::new();
        for appointment in appointments.into_iter().filter(|a| a.status.is_active()) {
            let contact = self
                .registry
                .contact(appointment.patient_id)
                .await?
                .unwrap_or_default();
            listed.push(TomorrowAppointment {
                appointment,
                contact,
            });
        }
        Ok((tomorrow, listed))
    }
}
