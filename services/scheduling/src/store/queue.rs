//! Check-in and the day's queue.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::auth::Caller;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId};
use clinic_common::{in_transaction, with_db};

use super::SchedulingStore;
use super::appointments::{AppointmentRow, LOCK_APPOINTMENT, SELECT_APPOINTMENT};
use super::record_status;
use crate::domain::{
    Appointment, AppointmentStatus, CheckIn, Initials, QueueEntry, QueueEntryStatus,
    SchedulingError, TicketNumber, arrange,
};
use crate::feed::QueueChange;

/// A day's queue entries, in no particular order (see `arrange`).
const SELECT_QUEUE: &str = "SELECT queue_entry_id, queue_day, ticket_number, appointment_id, \
     patient_id, provider_id, patient_initials, status, arrived_at, appointment_start_at \
     FROM queue_entries WHERE queue_day = $1";

/// The outcome of a check-in.
pub struct CheckedIn {
    pub appointment: Appointment,
    /// The patient's entry, with its current position.
    pub entry: QueueEntry,
    /// Set when this call added the patient to the queue, to be announced once committed.
    pub change: Option<QueueChange>,
}

impl SchedulingStore {
    /// Checks a patient in for today's appointment: marks it arrived, records the change and puts
    /// the patient in the queue with the day's next ticket, all in one transaction. Checking in
    /// again returns the entry already made.
    pub async fn check_in(
        &self,
        appointment_id: AppointmentId,
        today: NaiveDate,
        time_zone: Tz,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<CheckedIn, SchedulingError> {
        let lock = self.locking(SELECT_APPOINTMENT, LOCK_APPOINTMENT);
        in_transaction!(&self.db, |tx| {
            // The lock makes a second, concurrent check-in of the same appointment wait and then
            // find it arrived, instead of issuing a second ticket.
            let row: Option<AppointmentRow> = sqlx::query_as(lock)
                .bind(appointment_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock an appointment")?;
            let current = row
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?
                .into_appointment()?;
            let (appointment, day, change) = match current.check_in(today, time_zone)? {
                CheckIn::AlreadyQueued => {
                    let day: Option<NaiveDate> = sqlx::query_scalar(
                        "SELECT queue_day FROM queue_entries WHERE appointment_id = $1",
                    )
                    .bind(appointment_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to find a queue entry")?;
                    let day = day.with_context(|| {
                        format!("arrived appointment {appointment_id} has no queue entry")
                    })?;
                    (current, day, None)
                }
                CheckIn::Admit => {
                    // The counter row's upsert hands out each number once, even to concurrent
                    // check-ins (PostgreSQL locks the row until commit).
                    let number: i32 = sqlx::query_scalar(
                        "INSERT INTO queue_ticket_counters (queue_day, last_number) \
                         VALUES ($1, 1) ON CONFLICT (queue_day) DO UPDATE \
                         SET last_number = queue_ticket_counters.last_number + 1 \
                         RETURNING last_number",
                    )
                    .bind(today)
                    .fetch_one(&mut *tx)
                    .await
                    .context("failed to issue a ticket number")?;
                    sqlx::query(
                        "UPDATE appointments SET status = $2, updated_at = $3 \
                         WHERE appointment_id = $1",
                    )
                    .bind(appointment_id.to_string())
                    .bind(AppointmentStatus::Arrived.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .context("failed to mark an appointment arrived")?;
                    record_status!(tx, appointment_id, AppointmentStatus::Arrived, caller, now);
                    let queue_entry_id = QueueEntryId::new();
                    sqlx::query(
                        "INSERT INTO queue_entries (queue_entry_id, queue_day, ticket_number, \
                         appointment_id, patient_id, provider_id, patient_initials, status, \
                         arrived_at, appointment_start_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)",
                    )
                    .bind(queue_entry_id.to_string())
                    .bind(today)
                    .bind(number)
                    .bind(appointment_id.to_string())
                    .bind(current.patient_id.to_string())
                    .bind(current.provider_id.to_string())
                    .bind(current.patient_initials.as_str())
                    .bind(QueueEntryStatus::Waiting.as_str())
                    .bind(now)
                    .bind(current.slot.start())
                    .execute(&mut *tx)
                    .await
                    .context("failed to add a patient to the queue")?;
                    let arrived = Appointment {
                        status: AppointmentStatus::Arrived,
                        updated_at: now,
                        ..current
                    };
                    let change = QueueChange {
                        day: today,
                        queue_entry_id,
                    };
                    (arrived, today, Some(change))
                }
            };
            let rows: Vec<QueueEntryRow> = sqlx::query_as(SELECT_QUEUE)
                .bind(day)
                .fetch_all(&mut *tx)
                .await
                .context("failed to read the queue")?;
            let entry = arrange(into_entries(rows)?)
                .into_iter()
                .find(|entry| entry.appointment_id == appointment_id)
                .context("a checked-in appointment is missing from its queue")?;
            Ok::<_, SchedulingError>(CheckedIn {
                appointment,
                entry,
                change,
            })
        })
    }

    /// The queue of a clinic-local day, in queue order with positions.
    pub async fn queue(&self, day: NaiveDate) -> Result<Vec<QueueEntry>, SchedulingError> {
        let rows: Vec<QueueEntryRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_QUEUE).bind(day).fetch_all(pool).await
        })
        .context("failed to read the queue")?;
        Ok(arrange(into_entries(rows)?))
    }
}

fn into_entries(rows: Vec<QueueEntryRow>) -> anyhow::Result<Vec<QueueEntry>> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(row.into_entry()?);
    }
    Ok(entries)
}

#[derive(sqlx::FromRow)]
struct QueueEntryRow {
    queue_entry_id: String,
    queue_day: NaiveDate,
    ticket_number: i32,
    appointment_id: String,
    patient_id: String,
    provider_id: String,
    patient_initials: String,
    status: String,
    arrived_at: DateTime<Utc>,
    appointment_start_at: DateTime<Utc>,
}

impl QueueEntryRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_entry(self) -> anyhow::Result<QueueEntry> {
        let corrupt = |field: &str| {
            anyhow::anyhow!(
                "queue_entries.{field} of {} is corrupt",
                self.queue_entry_id
            )
        };
        Ok(QueueEntry {
            queue_entry_id: QueueEntryId::parse(&self.queue_entry_id)
                .map_err(|_| corrupt("queue_entry_id"))?,
            day: self.queue_day,
            ticket: TicketNumber(
                u32::try_from(self.ticket_number).map_err(|_| corrupt("ticket_number"))?,
            ),
            appointment_id: AppointmentId::parse(&self.appointment_id)
                .map_err(|_| corrupt("appointment_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            provider_id: ProviderId::parse(&self.provider_id)
                .map_err(|_| corrupt("provider_id"))?,
            status: QueueEntryStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            initials: Initials::stored(self.patient_initials),
            arrived_at: self.arrived_at,
            appointment_start: self.appointment_start_at,
            position: 0,
        })
    }
}
