//! The outbox of messages to patients, and the replies they sent.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::with_db;
use uuid::Uuid;

use super::{SchedulingStore, sql_offset};
use crate::domain::SchedulingError;
use crate::domain::reminders::{NewMessage, OutboxMessage};

macro_rules! message_columns {
    () => {
        "SELECT message_id, kind, round, appointment_id, queue_entry_id, patient_id, channel, \
         recipient, language, subject, body, status, attempts, next_attempt_at, last_error, \
         sent_at, created_at FROM outbox_messages "
    };
}

impl SchedulingStore {
    /// Whether a round of `kind` was already written for the appointment or queue entry.
    pub async fn round_written(
        &self,
        kind: &str,
        (appointment_id, queue_entry_id): (&str, &str),
        round: &str,
    ) -> Result<bool, SchedulingError> {
        let found: Option<i32> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT 1 FROM outbox_messages WHERE kind = $1 AND appointment_id = $2 \
                 AND queue_entry_id = $3 AND round = $4 LIMIT 1",
            )
            .bind(kind)
            .bind(appointment_id)
            .bind(queue_entry_id)
            .bind(round)
            .fetch_optional(pool)
            .await
        })
        .context("failed to look for a message round")?;
        Ok(found.is_some())
    }

    /// Writes messages to the outbox, due now; one already written for the same subject, round
    /// and channel is kept. Returns how many were new.
    pub async fn enqueue(
        &self,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<u64, SchedulingError> {
        let mut added = 0;
        for message in messages {
            let (channel, status) = match message.channel {
                Some(channel) => (channel.as_str(), "pending"),
                None => ("none", "skipped"),
            };
            added += with_db!(&self.db, |pool| {
                sqlx::query(
                    "INSERT INTO outbox_messages (message_id, kind, round, appointment_id, \
                     queue_entry_id, patient_id, channel, recipient, language, subject, body, \
                     status, attempts, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $13) \
                     ON CONFLICT (kind, appointment_id, queue_entry_id, round, channel) DO NOTHING",
                )
                .bind(Uuid::new_v4().to_string())
                .bind(message.kind)
                .bind(&message.round)
                .bind(&message.appointment_id)
                .bind(&message.queue_entry_id)
                .bind(&message.patient_id)
                .bind(channel)
                .bind(&message.recipient)
                .bind(message.language.as_str())
                .bind(&message.subject)
                .bind(&message.body)
                .bind(status)
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
            })
            .context("failed to write to the outbox")?;
        }
        Ok(added)
    }

    /// Pending messages whose time has come, oldest first.
    pub async fn due_messages(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, SchedulingError> {
        const QUERY: &str = concat!(
            message_columns!(),
            "WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, created_at, message_id LIMIT $2"
        );
        let rows: Vec<MessageRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .context("failed to read due messages")?;
        rows.into_iter().map(MessageRow::into_message).collect()
    }

    /// Takes a pending message for sending, as its `attempt`-th attempt, until `lease_until`;
    /// `false` when another dispatcher took it first.
    pub async fn claim_message(
        &self,
        message_id: &str,
        attempt: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, SchedulingError> {
        let claimed = with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE outbox_messages SET status = 'sending', attempts = $2, \
                 next_attempt_at = $3 WHERE message_id = $1 AND status = 'pending' \
                 AND attempts = $2 - 1",
            )
            .bind(message_id)
            .bind(attempt_count(attempt))
            .bind(lease_until)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to claim a message")?;
        Ok(claimed == 1)
    }

    /// Makes messages whose claim lapsed before `now` (their dispatcher stopped while sending)
    /// pending again, or failed once `max_attempts` were made. Returns how many of each.
    pub async fn release_lapsed_claims(
        &self,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<(u64, u64), SchedulingError> {
        const LAPSED: &str = "the dispatcher stopped while sending";
        let released = with_db!(&self.db, |pool| async {
            let again = sqlx::query(
                "UPDATE outbox_messages SET status = 'pending', last_error = $3 \
                 WHERE status = 'sending' AND next_attempt_at <= $1 AND attempts < $2",
            )
            .bind(now)
            .bind(attempt_count(max_attempts))
            .bind(LAPSED)
            .execute(pool)
            .await?
            .rows_affected();
            let given_up = sqlx::query(
                "UPDATE outbox_messages SET status = 'failed', last_error = $3 \
                 WHERE status = 'sending' AND next_attempt_at <= $1 AND attempts >= $2",
            )
            .bind(now)
            .bind(attempt_count(max_attempts))
            .bind(LAPSED)
            .execute(pool)
            .await?
            .rows_affected();
            Ok::<_, sqlx::Error>((again, given_up))
        }
        .await)
        .context("failed to release lapsed claims on messages")?;
        Ok(released)
    }

    /// Records how the `attempt`-th attempt at sending a message went: `Ok` sent; `Err` either
    /// retried at `retry_at` or, with `None`, given up as failed. An outcome that comes after
    /// the claim lapsed and the message was claimed again (or sent) is ignored.
    pub async fn message_outcome(
        &self,
        (message_id, attempt): (&str, u32),
        outcome: Result<(), (&str, Option<DateTime<Utc>>)>,
        now: DateTime<Utc>,
    ) -> Result<(), SchedulingError> {
        let recorded = with_db!(&self.db, |pool| {
            match outcome {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE outbox_messages SET status = 'sent', sent_at = $3, \
                         last_error = NULL WHERE message_id = $1 AND attempts = $2 \
                         AND status = 'sending'",
                    )
                    .bind(message_id)
                    .bind(attempt_count(attempt))
                    .bind(now)
                    .execute(pool)
                    .await
                }
                Err((error, retry_at)) => {
                    sqlx::query(
                        "UPDATE outbox_messages SET status = $3, last_error = $4, \
                         next_attempt_at = $5 WHERE message_id = $1 AND attempts = $2 \
                         AND status = 'sending'",
                    )
                    .bind(message_id)
                    .bind(attempt_count(attempt))
                    .bind(if retry_at.is_some() {
                        "pending"
                    } else {
                        "failed"
                    })
                    .bind(error)
                    .bind(retry_at.unwrap_or(now))
                    .execute(pool)
                    .await
                }
            }
            .map(|done| done.rows_affected())
        })
        .context("failed to record a message's outcome")?;
        if recorded == 0 {
            tracing::warn!(
                message_id,
                attempt,
                "a message's outcome came after its claim lapsed and was not recorded"
            );
        }
        Ok(())
    }

    /// The outbox, newest first, optionally about one appointment.
    pub async fn outbox(
        &self,
        appointment_id: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<OutboxMessage>, SchedulingError> {
        const QUERY: &str = concat!(
            message_columns!(),
            "WHERE ($1 IS NULL OR appointment_id = $1) \
             ORDER BY created_at DESC, message_id LIMIT $2 OFFSET $3"
        );
        let rows: Vec<MessageRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(appointment_id)
                .bind(i64::from(limit))
                .bind(sql_offset(offset))
                .fetch_all(pool)
                .await
        })
        .context("failed to list the outbox")?;
        rows.into_iter().map(MessageRow::into_message).collect()
    }

    /// How many messages the outbox holds in each status, and when the oldest not yet sent
    /// (pending or being sent) was written.
    pub async fn outbox_depth(
        &self,
    ) -> Result<(Vec<(String, i64)>, Option<DateTime<Utc>>), SchedulingError> {
        let by_status: Vec<(String, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox_messages GROUP BY status")
                .fetch_all(pool)
                .await
        })
        .context("failed to count the outbox")?;
        let oldest: Option<DateTime<Utc>> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT created_at FROM outbox_messages WHERE status IN ('pending', 'sending') \
                 ORDER BY created_at LIMIT 1",
            )
            .fetch_optional(pool)
            .await
        })
        .context("failed to find the oldest message not sent")?;
        Ok((by_status, oldest))
    }

    /// The action a reply with `request_id` was recorded with, if it was.
    pub async fn earlier_reply(
        &self,
        request_id: &str,
    ) -> Result<Option<(String, String)>, SchedulingError> {
        let found = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT appointment_id, action FROM inbound_replies WHERE request_id = $1",
            )
            .bind(request_id)
            .fetch_optional(pool)
            .await
        })
        .context("failed to look up a reply")?;
        Ok(found)
    }

    /// Records a reply and what it did. A concurrent retry that recorded first wins.
    pub async fn record_reply(
        &self,
        request_id: &str,
        (appointment_id, channel, text, action): (&str, &str, &str, &str),
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(), SchedulingError> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO inbound_replies (reply_id, request_id, appointment_id, channel, \
                 text, action, received_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (request_id) DO NOTHING",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(request_id)
            .bind(appointment_id)
            .bind(channel)
            .bind(text)
            .bind(action)
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to record a reply")?;
        Ok(())
    }
}

/// An attempt count as the `attempts` column holds it.
fn attempt_count(attempts: u32) -> i32 {
    i32::try_from(attempts).unwrap_or(i32::MAX)
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    message_id: String,
    kind: String,
    round: String,
    appointment_id: String,
    queue_entry_id: String,
    patient_id: String,
    channel: String,
    recipient: String,
    language: String,
    subject: String,
    body: String,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl MessageRow {
    fn into_message(self) -> Result<OutboxMessage, SchedulingError> {
        Ok(OutboxMessage {
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            message_id: self.message_id,
            kind: self.kind,
            round: self.round,
            appointment_id: self.appointment_id,
            queue_entry_id: self.queue_entry_id,
            patient_id: self.patient_id,
            channel: self.channel,
            recipient: self.recipient,
            language: self.language,
            subject: self.subject,
            body: self.body,
            status: self.status,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            sent_at: self.sent_at,
            created_at: self.created_at,
        })
    }
}
