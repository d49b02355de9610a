//! Check-in, walk-ins and the day's queue.

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
    Appointment, AppointmentStatus, CallNext, CheckIn, Initials, QueueEntry, QueueEntryKind,
    QueueEntryStatus, QueueStep, Routing, SchedulingError, Step, Ticket, WalkIn, arrange,
};
use crate::feed::QueueChange;

/// The columns `QueueEntryRow` reads, from `queue_entries q`.
macro_rules! queue_columns {
    () => {
        "SELECT q.queue_entry_id, q.queue_day, q.kind, q.ticket_number, q.appointment_id, \
         q.patient_id, q.provider_id, q.routed_to_provider_id, q.first_visit, \
         q.patient_initials, q.status, q.arrived_at, q.appointment_start_at, \
         q.expected_minutes, q.called_at, q.call_count \
         FROM queue_entries q "
    };
}

/// A day's queue entries, in no particular order (see `arrange`).
const SELECT_QUEUE: &str = concat!(queue_columns!(), "WHERE q.queue_day = $1");

/// One queue entry.
const SELECT_ENTRY: &str = concat!(queue_columns!(), "WHERE q.queue_entry_id = $1");

/// [`SELECT_ENTRY`], locking the entry's row until the transaction ends.
const LOCK_ENTRY: &str = concat!(queue_columns!(), "WHERE q.queue_entry_id = $1 FOR UPDATE");

/// The first waiting entry of a day, of one provider (booked with them or routed to them) or of
/// anyone, in queue order (as `arrange` orders them).
const SELECT_NEXT: &str = concat!(
    queue_columns!(),
    "WHERE q.queue_day = $1 AND q.status = 'waiting' \
     AND ($2 IS NULL OR q.provider_id = $2 OR q.routed_to_provider_id = $2) \
     ORDER BY q.arrived_at, q.ticket_series, q.ticket_number LIMIT 1"
);

/// [`SELECT_NEXT`] on PostgreSQL: two desks calling at once lock different patients, the
/// second skipping the one the first is calling rather than waiting for it and then finding it
/// no longer waiting.
const LOCK_NEXT: &str = concat!(
    queue_columns!(),
    "WHERE q.queue_day = $1 AND q.status = 'waiting' \
     AND ($2 IS NULL OR q.provider_id = $2 OR q.routed_to_provider_id = $2) \
     ORDER BY q.arrived_at, q.ticket_series, q.ticket_number LIMIT 1 FOR UPDATE SKIP LOCKED"
);

/// The idempotency-key operation names of "call next" and of registering a walk-in.
const CALL_NEXT: &str = "call_next";
const REGISTER_WALK_IN: &str = "register_walk_in";

/// Hands out the next ticket number of `$kind`'s series on `$day`, inside `$tx`. The counter
/// row's upsert hands out each number once, even to concurrent check-ins (PostgreSQL locks the
/// row until commit; SQLite writers take turns).
macro_rules! next_ticket {
    ($tx:ident, $day:expr, $kind:expr) => {{
        let number: i32 = sqlx::query_scalar(
            "INSERT INTO queue_ticket_series (queue_day, series, last_number) \
             VALUES ($1, $2, 1) ON CONFLICT (queue_day, series) DO UPDATE \
             SET last_number = queue_ticket_series.last_number + 1 \
             RETURNING last_number",
        )
        .bind($day)
        .bind($kind.series())
        .fetch_one(&mut *$tx)
        .await
        .context("failed to issue a ticket number")?;
        number
    }};
}

/// A queue entry after a step, with its appointment (none for a walk-in).
pub struct Stepped {
    pub entry: QueueEntry,
    pub appointment: Option<Appointment>,
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
    /// the patient in the queue with the day's next ticket, routed as triage decided, all in one
    /// transaction. Checking in again returns the entry already made.
    pub async fn check_in(
        &self,
        appointment_id: AppointmentId,
        routing: Routing,
        (today, time_zone): (NaiveDate, Tz),
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
                    let number = next_ticket!(tx, today, QueueEntryKind::Appointment);
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
                    let booked = current.slot.end() - current.slot.start();
                    sqlx::query(
                        "INSERT INTO queue_entries (queue_entry_id, queue_day, kind, \
                         ticket_series, ticket_number, appointment_id, patient_id, provider_id, \
                         routed_to_provider_id, first_visit, patient_initials, status, \
                         arrived_at, appointment_start_at, expected_minutes, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                         $15, $13)",
                    )
                    .bind(queue_entry_id.to_string())
                    .bind(today)
                    .bind(QueueEntryKind::Appointment.as_str())
                    .bind(QueueEntryKind::Appointment.series())
                    .bind(number)
                    .bind(appointment_id.to_string())
                    .bind(current.patient_id.to_string())
                    .bind(current.provider_id.to_string())
                    .bind(routing.routed_to.to_string())
                    .bind(routing.first_visit)
                    .bind(current.patient_initials.as_str())
                    .bind(QueueEntryStatus::Waiting.as_str())
                    .bind(now)
                    .bind(current.slot.start())
                    .bind(i32::try_from(booked.num_minutes()).unwrap_or(i32::MAX))
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
                .find(|entry| entry.appointment_id == Some(appointment_id))
                .context("a checked-in appointment is missing from its queue")?;
            Ok::<_, SchedulingError>(CheckedIn {
                appointment,
                entry,
                change,
            })
        })
    }

    /// Takes one step of a queue entry (recall, seat, leave) in one transaction. Seating also
    /// seats the appointment (a walk-in has none); leaving keeps the appointment as it is
    /// (arrived), its history showing that the patient came.
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
            let found: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT appointment_id FROM queue_entries WHERE queue_entry_id = $1",
            )
            .bind(queue_entry_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .context("failed to find a queue entry")?;
            let (appointment_id,) =
                found.ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))?;
            let appointment = match &appointment_id {
                Some(appointment_id) => {
                    let row: Option<AppointmentRow> = sqlx::query_as(lock_appointment)
                        .bind(appointment_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .context("failed to lock an appointment")?;
                    Some(
                        row.context("a queue entry's appointment is missing")?
                            .into_appointment()?,
                    )
                }
                None => None,
            };
            let row: Option<QueueEntryRow> = sqlx::query_as(lock_entry)
                .bind(queue_entry_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock a queue entry")?;
            let entry = row
                .ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))?
                .into_entry()?;
            let status = entry.advance(step)?;
            let appointment = match appointment {
                Some(appointment) if step == QueueStep::Seat => {
                    let seated = appointment.advance(Step::Seat)?;
                    sqlx::query(
                        "UPDATE appointments SET status = $2, updated_at = $3 \
                         WHERE appointment_id = $1",
                    )
                    .bind(appointment.appointment_id.to_string())
                    .bind(seated.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .context("failed to seat an appointment")?;
                    record_status!(tx, appointment.appointment_id, seated, caller, now);
                    Some(Appointment {
                        status: seated,
                        updated_at: now,
                        ..appointment
                    })
                }
                other => other,
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

    /// The walk-in a first call with `request_id` registered, if any, as it is now. Lets a
    /// retry be answered without asking the patient registry again.
    pub async fn earlier_walk_in(
        &self,
        request_id: &clinic_common::ids::RequestId,
        fingerprint: &str,
    ) -> Result<Option<QueueEntry>, SchedulingError> {
        let earlier: Option<(String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT fingerprint, resource_id FROM idempotency_keys \
                 WHERE operation = $1 AND request_id = $2",
            )
            .bind(REGISTER_WALK_IN)
            .bind(request_id.as_str())
            .fetch_optional(pool)
            .await
        })
        .context("failed to look up an idempotency key")?;
        let Some((earlier_fingerprint, resource_id)) = earlier else {
            return Ok(None);
        };
        if earlier_fingerprint != fingerprint {
            return Err(SchedulingError::RequestIdReused);
        }
        let queue_entry_id = QueueEntryId::parse(&resource_id)
            .context("idempotency_keys holds a malformed queue entry id")?;
        self.queue_entry(queue_entry_id).await.map(Some)
    }

    /// One queue entry, with its position in its day's queue.
    pub async fn queue_entry(
        &self,
        queue_entry_id: QueueEntryId,
    ) -> Result<QueueEntry, SchedulingError> {
        let row: Option<QueueEntryRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_ENTRY)
                .bind(queue_entry_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a queue entry")?;
        let day = row
            .ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))?
            .into_entry()?
            .day;
        self.queue(day)
            .await?
            .into_iter()
            .find(|entry| entry.queue_entry_id == queue_entry_id)
            .ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))
    }

    /// Puts a walk-in into `today`'s queue with the next `W` ticket, or returns the entry a
    /// first call with the same request id made. Refuses a patient who has an appointment
    /// within `today_span` still to check in, or who is already in the queue and not yet
    /// seated.
    pub async fn register_walk_in(
        &self,
        walk_in: &WalkIn,
        (today, today_span): (NaiveDate, (DateTime<Utc>, DateTime<Utc>)),
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(QueueEntry, Option<QueueChange>), SchedulingError> {
        with_retries("a walk-in's request id", || {
            self.try_register_walk_in(walk_in, (today, today_span), caller, now)
        })
        .await
    }

    async fn try_register_walk_in(
        &self,
        walk_in: &WalkIn,
        (today, (day_start, day_end)): (NaiveDate, (DateTime<Utc>, DateTime<Utc>)),
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(QueueEntry, Option<QueueChange>), Attempt> {
        in_transaction!(&self.db, |tx| {
            if let Some((earlier_fingerprint, resource_id)) =
                earlier_request!(tx, REGISTER_WALK_IN, walk_in.request_id)
            {
                if earlier_fingerprint != walk_in.fingerprint {
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
                    .context("a walk-in's queue entry is missing")?
                    .into_entry()?
                    .day;
                let entry = reread!(tx, day, queue_entry_id);
                return Ok::<_, Attempt>((entry, None));
            }
            let to_check_in: Option<String> = sqlx::query_scalar(
                "SELECT appointment_id FROM appointments WHERE patient_id = $1 \
                 AND status IN ('scheduled', 'confirmed') AND start_at >= $2 AND start_at < $3 \
                 ORDER BY start_at LIMIT 1",
            )
            .bind(walk_in.patient_id.to_string())
            .bind(day_start)
            .bind(day_end)
            .fetch_optional(&mut *tx)
            .await
            .context("failed to look for the patient's appointments today")?;
            if let Some(appointment_id) = to_check_in {
                let appointment_id = AppointmentId::parse(&appointment_id)
                    .context("appointments holds a malformed appointment id")?;
                return Err(SchedulingError::HasAppointmentToday { appointment_id }.into());
            }
            let queued: Option<QueueEntryRow> = sqlx::query_as(concat!(
                queue_columns!(),
                "WHERE q.patient_id = $1 AND q.queue_day = $2 \
                 AND q.status IN ('waiting', 'called') LIMIT 1"
            ))
            .bind(walk_in.patient_id.to_string())
            .bind(today)
            .fetch_optional(&mut *tx)
            .await
            .context("failed to look for the patient in the queue")?;
            if let Some(row) = queued {
                let entry = row.into_entry()?;
                return Err(SchedulingError::AlreadyQueued {
                    ticket: entry.ticket.to_string(),
                }
                .into());
            }
            let number = next_ticket!(tx, today, QueueEntryKind::WalkIn);
            let queue_entry_id = QueueEntryId::new();
            sqlx::query(
                "INSERT INTO queue_entries (queue_entry_id, queue_day, kind, ticket_series, \
                 ticket_number, appointment_id, patient_id, provider_id, routed_to_provider_id, \
                 first_visit, patient_initials, status, arrived_at, appointment_start_at, \
                 expected_minutes, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12, NULL, $13, $12)",
            )
            .bind(queue_entry_id.to_string())
            .bind(today)
            .bind(QueueEntryKind::WalkIn.as_str())
            .bind(QueueEntryKind::WalkIn.series())
            .bind(number)
            .bind(walk_in.patient_id.to_string())
            .bind(walk_in.provider_id.to_string())
            .bind(walk_in.routing.routed_to.to_string())
            .bind(walk_in.routing.first_visit)
            .bind(walk_in.initials.as_str())
            .bind(QueueEntryStatus::Waiting.as_str())
            .bind(now)
            .bind(i32::try_from(walk_in.expected_length.num_minutes()).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .context("failed to add a walk-in to the queue")?;
            // A walk-in has no appointment whose history shows who let them in: the queue's
            // history does.
            record_queue_status!(tx, queue_entry_id, QueueEntryStatus::Waiting, caller, now);
            record_request!(
                tx,
                REGISTER_WALK_IN,
                walk_in.request_id,
                walk_in.fingerprint.as_str(),
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
        })
    }

    /// How many patients wait for each consultant on `day` (waiting or called), consultants
    /// with nobody included.
    pub async fn consultant_loads(
        &self,
        day: NaiveDate,
    ) -> Result<Vec<(ProviderId, u32)>, SchedulingError> {
        let rows: Vec<(String, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT p.provider_id, COUNT(q.queue_entry_id) FROM providers p \
                 LEFT JOIN queue_entries q ON q.routed_to_provider_id = p.provider_id \
                 AND q.queue_day = $1 AND q.status IN ('waiting', 'called') \
                 WHERE p.kind = 'consultant' GROUP BY p.provider_id ORDER BY p.provider_id",
            )
            .bind(day)
            .fetch_all(pool)
            .await
        })
        .context("failed to count consultants' patients")?;
        let mut loads = Vec::with_capacity(rows.len());
        for (provider_id, waiting) in rows {
            loads.push((
                ProviderId::parse(&provider_id).context("providers holds a malformed id")?,
                u32::try_from(waiting).unwrap_or(u32::MAX),
            ));
        }
        Ok(loads)
    }

    /// Whether a patient has been in the chair before `before`: an appointment seated or
    /// further on, or a walk-in seated.
    pub async fn seen_before(
        &self,
        patient_id: PatientId,
        before: DateTime<Utc>,
    ) -> Result<bool, SchedulingError> {
        let seen: Option<i32> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT 1 FROM appointments WHERE patient_id = $1 AND start_at < $2 \
                 AND status IN ('seated', 'completed', 'checked_out') \
                 UNION ALL \
                 SELECT 1 FROM queue_entries WHERE patient_id = $1 AND kind = 'walk_in' \
                 AND status = 'seated' AND arrived_at < $2 \
                 LIMIT 1",
            )
            .bind(patient_id.to_string())
            .bind(before)
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a patient's past visits")?;
        Ok(seen.is_some())
    }

    /// The provider who last saw a patient in the chair (by appointment), if anyone did.
    pub async fn last_seen_by(
        &self,
        patient_id: PatientId,
    ) -> Result<Option<ProviderId>, SchedulingError> {
        let provider: Option<String> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT provider_id FROM appointments WHERE patient_id = $1 \
                 AND status IN ('seated', 'completed', 'checked_out') \
                 ORDER BY start_at DESC LIMIT 1",
            )
            .bind(patient_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a patient's past visits")?;
        Ok(provider
            .map(|id| ProviderId::parse(&id))
            .transpose()
            .context("appointments holds a malformed provider id")?)
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
    kind: String,
    ticket_number: i32,
    appointment_id: Option<String>,
    patient_id: String,
    provider_id: String,
    routed_to_provider_id: String,
    first_visit: bool,
    patient_initials: String,
    status: String,
    arrived_at: DateTime<Utc>,
    appointment_start_at: Option<DateTime<Utc>>,
    expected_minutes: i32,
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
            ticket: Ticket {
                kind: QueueEntryKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
                number: u32::try_from(self.ticket_number).map_err(|_| corrupt("ticket_number"))?,
            },
            appointment_id: self
                .appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .map_err(|_| corrupt("appointment_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            provider_id: ProviderId::parse(&self.provider_id)
                .map_err(|_| corrupt("provider_id"))?,
            routed_to: ProviderId::parse(&self.routed_to_provider_id)
                .map_err(|_| corrupt("routed_to_provider_id"))?,
            first_visit: self.first_visit,
            status: QueueEntryStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            initials: Initials::stored(self.patient_initials),
            arrived_at: self.arrived_at,
            appointment_start: self.appointment_start_at,
            expected_length: chrono::TimeDelta::minutes(i64::from(self.expected_minutes)),
            called_at: self.called_at,
            call_count: u32::try_from(self.call_count).map_err(|_| corrupt("call_count"))?,
            position: 0,
        })
    }
}
