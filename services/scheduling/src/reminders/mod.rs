//! Sending messages to patients. The planner writes due reminders and wait updates to the
//! outbox (see `domain::reminders` for what and when); the dispatcher sends what is due through
//! a [`Sender`] per channel and records the outcome, retrying with back-off. Email goes over
//! SMTP ([`smtp::SmtpSender`]) when a relay is configured; SMS and WhatsApp (and email without
//! a relay) go to [`LogSender`], which writes a log line: a gateway is another `Sender`.

pub mod smtp;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clinic_common::time::local_date;

use crate::config::Settings;
use crate::domain::SchedulingError;
use crate::domain::reminders::{
    Channel, Language, MAX_ATTEMPTS, NewMessage, OutboxMessage, ReminderFacts, SEND_LEASE, backoff,
    due_reminder, reminder_text, wait_update_text,
};
use crate::domain::{QueueEntryStatus, waits};
use crate::grpc::{PatientContact, PatientRegistry};
use crate::store::SchedulingStore;

/// Sends one message on one channel. `Err` carries what went wrong, for the outbox; the
/// dispatcher retries later.
#[tonic::async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, message: &OutboxMessage) -> Result<(), String>;
}

/// Writes the message to the log (ids, channel and length only: no personal data) and calls it
/// sent.
#[derive(Debug, Default)]
pub struct LogSender;

#[tonic::async_trait]
impl Sender for LogSender {
    async fn send(&self, message: &OutboxMessage) -> Result<(), String> {
        tracing::info!(
            message_id = %message.message_id,
            channel = %message.channel,
            kind = %message.kind,
            language = %message.language,
            chars = message.body.chars().count(),
            "message handed to the log sender"
        );
        Ok(())
    }
}

/// The sender of each channel.
#[derive(Clone)]
pub struct Senders {
    pub sms: Arc<dyn Sender>,
    pub whatsapp: Arc<dyn Sender>,
    pub email: Arc<dyn Sender>,
}

impl Senders {
    /// SMTP for email when configured; the log for everything else.
    pub fn from_settings(settings: &Settings) -> Senders {
        let log: Arc<dyn Sender> = Arc::new(LogSender);
        let email: Arc<dyn Sender> = match &settings.front_desk.smtp {
            Some(smtp) => Arc::new(smtp::SmtpSender::new(smtp)),
            None => log.clone(),
        };
        Senders {
            sms: log.clone(),
            whatsapp: log,
            email,
        }
    }

    fn for_channel(&self, channel: Channel) -> &Arc<dyn Sender> {
        match channel {
            Channel::Sms => &self.sms,
            Channel::WhatsApp => &self.whatsapp,
            Channel::Email => &self.email,
        }
    }
}

/// The most appointments one planning round reads.
const PLAN_LIMIT: u32 = 1000;
/// The most messages one dispatch round sends.
const DISPATCH_LIMIT: u32 = 100;

/// How long one message may take to send before it counts as a failed attempt: a relay or
/// gateway that accepts the connection and never answers must not hold up every later message.
/// Well within [`SEND_LEASE`].
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Writes the reminders and wait updates due at `now` to the outbox. Returns how many messages
/// were written.
pub async fn plan(
    store: &SchedulingStore,
    registry: &PatientRegistry,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<u64, SchedulingError> {
    let mut messages = due_reminders(store, registry, settings, now).await?;
    messages.extend(due_wait_updates(store, registry, settings, now).await?);
    store.enqueue(&messages, now).await
}

/// The reminders due at `now` of appointments coming up within the furthest reminder offset,
/// one per channel, leaving out rounds already written.
async fn due_reminders(
    store: &SchedulingStore,
    registry: &PatientRegistry,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<NewMessage>, SchedulingError> {
    let offsets = settings.front_desk.reminder_offsets();
    let Some(furthest) = offsets.iter().max() else {
        return Ok(Vec::new());
    };
    let upcoming = store
        .appointments_between(
            (now, now + *furthest + chrono::TimeDelta::seconds(1)),
            None,
            None,
            PLAN_LIMIT,
            0,
        )
        .await?;
    let mut messages = Vec::new();
    for appointment in upcoming.iter().filter(|a| a.status.is_active()) {
        let Some(offset) = due_reminder(appointment.slot.start(), now, &offsets) else {
            continue;
        };
        let round = format!("{}h", offset.num_hours());
        let appointment_id = appointment.appointment_id.to_string();
        if store
            .round_written("reminder", (&appointment_id, ""), &round)
            .await?
        {
            continue;
        }
        let contact = registry.contact(appointment.patient_id).await?;
        let provider = store
            .provider(appointment.provider_id)
            .await?
            .map(|provider| provider.display_name.as_str().to_owned())
            .unwrap_or_default();
        let language = Language::from_tag(contact.as_ref().map_or("", |c| c.language.as_str()));
        let (subject, body) = reminder_text(
            language,
            &ReminderFacts {
                clinic: &settings.clinic.name,
                start: appointment.slot.start(),
                time_zone: settings.clinic.time_zone,
                provider: &provider,
                code: appointment.confirmation_code.as_str(),
            },
        );
        let template = NewMessage {
            kind: "reminder",
            round,
            appointment_id,
            queue_entry_id: String::new(),
            patient_id: appointment.patient_id.to_string(),
            channel: None,
            recipient: String::new(),
            language,
            subject,
            body,
        };
        messages.extend(per_channel(template, contact.as_ref()));
    }
    Ok(messages)
}

/// The wait updates due at `now` to patients waiting in today's queue, one per channel, one
/// round every `wait_update_every` they have waited, leaving out rounds already written.
async fn due_wait_updates(
    store: &SchedulingStore,
    registry: &PatientRegistry,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<NewMessage>, SchedulingError> {
    let entries = store
        .queue(local_date(now, settings.clinic.time_zone))
        .await?;
    let alert_after = chrono::TimeDelta::minutes(i64::from(settings.queue_alert_after_minutes));
    let every = settings.front_desk.wait_update_every();
    let mut messages = Vec::new();
    for (entry, wait) in entries.iter().zip(waits(&entries, now, alert_after)) {
        let Some(wait) = wait else { continue };
        if entry.status != QueueEntryStatus::Waiting {
            continue;
        }
        let rounds = (now - entry.arrived_at).num_minutes() / every.num_minutes();
        if rounds < 1 {
            continue;
        }
        let round = format!("w{rounds}");
        let queue_entry_id = entry.queue_entry_id.to_string();
        let appointment_id = entry
            .appointment_id
            .map(|id| id.to_string())
            .unwrap_or_default();
        if store
            .round_written("wait_update", (&appointment_id, &queue_entry_id), &round)
            .await?
        {
            continue;
        }
        let contact = registry.contact(entry.patient_id).await?;
        let language = Language::from_tag(contact.as_ref().map_or("", |c| c.language.as_str()));
        let (subject, body) = wait_update_text(
            language,
            &settings.clinic.name,
            (
                &entry.ticket.to_string(),
                entry.position,
                wait.estimated_minutes,
            ),
        );
        let template = NewMessage {
            kind: "wait_update",
            round,
            appointment_id,
            queue_entry_id,
            patient_id: entry.patient_id.to_string(),
            channel: None,
            recipient: String::new(),
            language,
            subject,
            body,
        };
        messages.extend(per_channel(template, contact.as_ref()));
    }
    Ok(messages)
}

/// One message per channel the patient consented to and has an address for; a single skipped
/// one when there is none.
fn per_channel(template: NewMessage, contact: Option<&PatientContact>) -> Vec<NewMessage> {
    let mut messages = Vec::new();
    if let Some(contact) = contact {
        let channels = [
            (Channel::Sms, contact.sms, &contact.phone),
            (Channel::WhatsApp, contact.whatsapp, &contact.phone),
            (Channel::Email, contact.email_consent, &contact.email),
        ];
        for (channel, consented, address) in channels {
            if consented && !address.trim().is_empty() {
                messages.push(NewMessage {
                    channel: Some(channel),
                    recipient: address.clone(),
                    ..template.clone()
                });
            }
        }
    }
    if messages.is_empty() {
        messages.push(template);
    }
    messages
}

/// Sends the messages due at `now`. Each is claimed for [`SEND_LEASE`] first, so however many
/// dispatchers run only one sends it; a claim whose dispatcher stopped before recording the
/// outcome lapses and the message is due again (it may then reach the patient twice, never
/// not at all). A failure is retried after [`backoff`] until [`MAX_ATTEMPTS`]. Returns how many
/// were sent.
pub async fn dispatch(
    store: &SchedulingStore,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<u64, SchedulingError> {
    let (again, given_up) = store.release_lapsed_claims(now, MAX_ATTEMPTS).await?;
    if again + given_up > 0 {
        tracing::warn!(
            again,
            given_up,
            "messages whose dispatcher stopped while sending them are due again or given up"
        );
    }
    let mut sent = 0;
    for message in store.due_messages(now, DISPATCH_LIMIT).await? {
        let attempts = message.attempts + 1;
        if !store
            .claim_message(&message.message_id, attempts, now + SEND_LEASE)
            .await?
        {
            continue;
        }
        let outcome = match Channel::parse(&message.channel) {
            Some(channel) => {
                let sending = senders.for_channel(channel).send(&message);
                tokio::time::timeout(SEND_TIMEOUT, sending)
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer in {SEND_TIMEOUT:?}")))
            }
            None => Err(format!("unknown channel {}", message.channel)),
        };
        match outcome {
            Ok(()) => {
                store
                    .message_outcome((&message.message_id, attempts), Ok(()), now)
                    .await?;
                sent += 1;
            }
            Err(error) => {
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| now + backoff(attempts));
                tracing::warn!(
                    message_id = %message.message_id,
                    channel = %message.channel,
                    attempts,
                    gives_up = retry_at.is_none(),
                    "a message could not be sent"
                );
                store
                    .message_outcome(
                        (&message.message_id, attempts),
                        Err((&error, retry_at)),
                        now,
                    )
                    .await?;
            }
        }
    }
    Ok(sent)
}
