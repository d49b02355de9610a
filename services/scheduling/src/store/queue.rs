//! Check-in and the day's queue.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::auth::Caller;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId};
use clinic_common::{in_transaction, with_db};

use super::appointments::{AppointmentRow, LOCK_APPOINTMENT, SELECT_APPOINTMENT};
use super::{
    Attempt, SchedulingStore, earlier_request, record_queue_status, record_request, record_status,
    with_retries,
};
use crate::domain::{
    Appointment, AppointmentStatus, CallNext, CheckIn, Initials, QueueEntry, QueueEntryStatus,
    QueueStep, SchedulingError, Step, TicketNumber, arrange,
};
use crate::feed::QueueChange;

/// The columns `QueueEntryRow` reads, from `queue_entries q` joined with its `appointments a`
/// (for the booked end of the visit).
macro_rules! queue_columns {
    () => {
        "SELECT q.queue_entry_id, q.queue_day, q.ticket_number, q.appointment_id, q.patient_id, \
         q.provider_id, q.patient_initials, q.status, q.arrived_at, q.appointment_start_at, \
         a.end_at AS appointment_end_at, q.called_at, q.call_count \
         FROM queue_entries q JOIN appointments a ON a.appointment_id = q.appointment_id "
    };
}

/// A day's queue entries, in no particular order (see `arrange`).
const SELECT_QUEUE: &str = concat!(queue_columns!(), "WHERE q.queue_day = $1");

/// One queue entry.
const SELECT_ENTRY: &str = concat!(queue_columns!(), "WHERE q.queue_entry_id = $1");

/// [`SELECT_ENTRY`], locking the entry's row (not its appointment's) until the transaction ends.
const LOCK_ENTRY: &str = concat!(
    queue_columns!(),
    "WHERE q.queue_entry_id = $1 FOR UPDATE OF q"
);

/// The first waiting entry of a day, of one provider or of anyone, in queue order (as
/// `arrange` orders them).
const SELECT_NEXT: &str = concat!(
    queue_columns!(),
    "WHERE q.queue_day = $1 AND q.status = 'waiting' AND ($2 IS NULL OR q.provider_id = $2) \
     ORDER BY q.arrived_at, q.ticket_number LIMIT 1"
);

/// [`SELECT_NEXT`] on PostgreSQL: two desks calling at once lock different patients, the
/// second skipping the one the first is calling rather than waiting for it and then finding it
/// no longer waiting.
const LOCK_NEXT: &str = concat!(
    queue_columns!(),
    "WHERE q.queue_day = $1 AND q.status = 'waiting' AND ($2 IS NULL OR q.provider_id = $2) \
     ORDER BY q.arrived_at, q.ticket_number LIMIT 1 FOR UPDATE OF q SKIP LOCKED"
);

/// The idempotency-key operation name of "call next".
const CALL_NEXT: &str = "call_next";

/// A queue entry after a step, with its appointment when the step changed that too.
pub struct Stepped {
    pub entry: QueueEntry,
    pub appointment: Appointment,
    /// To be announced once committed.
    pub change: QueueChange,
}

/// The outcome of a check-in.
pub struct CheckedIn {
    pub appointment: Appointment,
    /// The patient's entry, with its current position.
    pub entry: QueueEntry,
    /// Set when this call added the patient to the queue, to be announced once committed.
    pub change: Option<QueueChange>,
}

/// Sets a queue entry's status inside `$tx`; `$called` also stamps the call and counts it.
macro_rules! update_entry {
    ($tx:ident, $queue_entry_id:expr, $status:expr, $called:expr, $now:expr) => {
        sqlx::query(
            "UPDATE queue_entries SET status = $2, updated_at = $3, \
             called_at = CASE WHEN $4 THEN $3 ELSE called_at END, \
             call_count = CASE WHEN $4 THEN call_count + 1 ELSE call_count END \
             WHERE queue_entry_id = $1",
        )
        .bind($queue_entry_id.to_string())
        .bind($status.as_str())
        .bind($now)
        .bind($called)
        .execute(&mut *$tx)
        .await
        .context("failed to update a queue entry")?;
    };
}

/// Reads `$day`'s queue inside `$tx` and returns the entry `$queue_entry_id` with its position.
macro_rules! reread {
    ($tx:ident, $day:expr, $queue_entry_id:expr) => {{
        let rows: Vec<QueueEntryRow> = sqlx::query_as(SELECT_QUEUE)
            .bind($day)
            .fetch_all(&mut *$tx)
            .await
            .context("failed to read the queue")?;
        arrange(into_entries(rows)?)
            .into_iter()
            .find(|entry| entry.queue_entry_id == $queue_entry_id)
            .context("a queue entry is missing from its day's queue")?
    }};
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

    /// Takes one step of a queue entry (recall, seat, leave) in one transaction. Seating also
    /// seats the appointment; leaving keeps the appointment as it is (arrived), its history
    /// showing that the patient came.
    pub async fn step_queue_entry(
        &self,
        queue_entry_id: QueueEntryId,
        step: QueueStep,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Stepped, SchedulingError> {
        let lock_appointment = self.locking(SELECT_APPOINTMENT, LOCK_APPOINTMENT);
        let lock_entry = self.locking(SELECT_ENTRY, LOCK_ENTRY);
        in_transaction!(&self.db, |tx| {
            // The appointment is locked before the entry, in the order cancelling takes them, so
            // that the two never wait for each other.
            let appointment_id: Option<String> = sqlx::query_scalar(
                "SELECT appointment_id FROM queue_entries WHERE queue_entry_id = $1",
            )
            .bind(queue_entry_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .context("failed to find a queue entry")?;
            let appointment_id =
                appointment_id.ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))?;
            let row: Option<AppointmentRow> = sqlx::query_as(lock_appointment)
                .bind(&appointment_id)
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock an appointment")?;
            let appointment = row
                .context("a queue entry's appointment is missing")?
                .into_appointment()?;
            let row: Option<QueueEntryRow> = sqlx::query_as(lock_entry)
                .bind(queue_entry_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock a queue entry")?;
            let entry = row
                .ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))?
                .into_entry()?;
            let status = entry.advance(step)?;
            let appointment = if step == QueueStep::Seat {
                let seated = appointment.advance(Step::Seat)?;
                sqlx::query(
                    "UPDATE appointments SET status = $2, updated_at = $3 \
                     WHERE appointment_id = $1",
                )
                .bind(&appointment_id)
                .bind(seated.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to seat an appointment")?;
                record_status!(tx, appointment.appointment_id, seated, caller, now);
                Appointment {
                    status: seated,
                    updated_at: now,
                    ..appointment
                }
            } else {
                appointment
            };
            let called = matches!(step, QueueStep::Call | QueueStep::Recall);
            update_entry!(tx, queue_entry_id, status, called, now);
            record_queue_status!(tx, queue_entry_id, status, caller, now);
            let entry = reread!(tx, entry.day, queue_entry_id);
            Ok::<_, SchedulingError>(Stepped {
                change: QueueChange {
                    day: entry.day,
                    queue_entry_id,
                },
                entry,
                appointment,
            })
        })
    }

    /// Calls the next waiting patient of `today`'s queue, of one provider or of anyone. A retry
    /// with the same request id returns the entry the first call called, as it is now.
    pub async fn call_next(
        &self,
        command: &CallNext,
        today: NaiveDate,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(QueueEntry, Option<QueueChange>), SchedulingError> {
        let fingerprint = command.fingerprint();
        with_retries("calling the next patient", || {
            self.try_call_next(command, &fingerprint, today, caller, now)
        })
        .await
    }

    async fn try_call_next(
        &self,
        command: &CallNext,
        fingerprint: &str,
        today: NaiveDate,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(QueueEntry, Option<QueueChange>), Attempt> {
        let lock_next = self.locking(SELECT_NEXT, LOCK_NEXT);
        in_transaction!(&self.db, |tx| {
            if let Some((earlier_fingerprint, resource_id)) =
                earlier_request!(tx, CALL_NEXT, command.request_id)
            {
                if earlier_fingerprint != fingerprint {
                    return Err(SchedulingError::RequestIdReused.into());
                }
                let queue_entry_id = QueueEntryId::parse(&resource_id)
                    .context("idempotency_keys holds a malformed queue entry id")?;
                let row: Option<QueueEntryRow> = sqlx::query_as(SELECT_ENTRY)
                    .bind(queue_entry_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to read a queue entry")?;
                let day = row
                    .context("a called queue entry is missing")?
                    .into_entry()?
                    .day;
                let entry = reread!(tx, day, queue_entry_id);
                Ok::<_, Attempt>((entry, None))
            } else {
                let row: Option<QueueEntryRow> = sqlx::query_as(lock_next)
                    .bind(today)
                    .bind(command.provider_id.map(|id| id.to_string()))
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to find the next waiting patient")?;
                let entry = row.ok_or(SchedulingError::NobodyWaiting)?.into_entry()?;
                let status = entry.advance(QueueStep::Call)?;
                let queue_entry_id = entry.queue_entry_id;
                update_entry!(tx, queue_entry_id, status, true, now);
                record_queue_status!(tx, queue_entry_id, status, caller, now);
                record_request!(
                    tx,
                    CALL_NEXT,
                    command.request_id,
                    fingerprint,
                    queue_entry_id.to_string(),
                    now
                );
                let entry = reread!(tx, today, queue_entry_id);
                Ok((
                    entry,
                    Some(QueueChange {
                        day: today,
                        queue_entry_id,
                    }),
                ))
            }
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
    appointment_end_at: DateTime<Utc>,
    called_at: Option<DateTime<Utc>>,
    call_count: i32,
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
            appointment_end: self.appointment_end_at,
            called_at: self.called_at,
            call_count: u32::try_from(self.call_count).map_err(|_| corrupt("call_count"))?,
            position: 0,
        })
    }
}
