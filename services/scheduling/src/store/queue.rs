//! Check-in, walk-ins and the day's queue.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use clinic_common::auth::Caller;
use clinic_common::db::Connection;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId, RequestId};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::SchedulingStore;
use super::appointments::AppointmentsTx;
use super::history::HistoryTx;
use crate::domain::{
    Appointment, AppointmentStatus, CallNext, CalledTo, CheckIn, Initials, ProviderKind,
    QueueEntry, QueueEntryKind, QueueEntryStatus, QueueStep, ResourceKind, Routing,
    SchedulingError, Step, Ticket, WalkIn, arrange,
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

/// Where each of a day's called patients goes: who receives them (with the provider they are
/// booked with) and, one row each, the chairs and rooms their appointment holds (none: a row
/// with no resource).
const SELECT_CALLED_TO: &str = "SELECT q.queue_entry_id, q.provider_id, q.routed_to_provider_id, \
     p.display_name AS receiver, p.kind AS receiver_kind, \
     r.kind AS resource_kind, r.display_name AS resource_name \
     FROM queue_entries q \
     JOIN providers p ON p.provider_id = q.routed_to_provider_id \
     LEFT JOIN appointment_resources ar ON ar.appointment_id = q.appointment_id \
     LEFT JOIN resources r ON r.resource_id = ar.resource_id AND r.kind IN ('chair', 'room') \
     WHERE q.queue_day = $1 AND q.status = 'called' \
     ORDER BY q.queue_entry_id";

/// The idempotency-key operation names of "call next" and of registering a walk-in.
const CALL_NEXT: &str = "call_next";
const REGISTER_WALK_IN: &str = "register_walk_in";

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

/// A waiting patient about to join a day's queue: checked in for an appointment, or a walk-in.
struct QueueEntryInsert<'a> {
    queue_entry_id: QueueEntryId,
    day: NaiveDate,
    kind: QueueEntryKind,
    number: i32,
    /// `None` for a walk-in.
    appointment_id: Option<AppointmentId>,
    patient_id: PatientId,
    provider_id: ProviderId,
    routing: &'a Routing,
    initials: &'a Initials,
    arrived_at: DateTime<Utc>,
    /// When the appointment starts; `None` for a walk-in.
    appointment_start: Option<DateTime<Utc>>,
    expected_length: TimeDelta,
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
        in_transaction!(&self.db, |tx| {
            // The lock makes a second, concurrent check-in of the same appointment wait and then
            // find it arrived, instead of issuing a second ticket.
            let current = tx
                .lock_appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
            let (appointment, day, change) = match current.check_in(today, time_zone)? {
                CheckIn::AlreadyQueued => {
                    let day = tx.queue_day_of(appointment_id).await?;
                    (current, day, None)
                }
                CheckIn::Admit => {
                    let (arrived, queue_entry_id) =
                        tx.admit(current, &routing, today, caller, now).await?;
                    let change = QueueChange {
                        day: today,
                        queue_entry_id,
                    };
                    (arrived, today, Some(change))
                }
            };
            let entry = tx
                .arranged_queue(day)
                .await?
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
        in_transaction!(&self.db, |tx| {
            // The appointment is locked before the entry, in the order cancelling takes them, so
            // that the two never wait for each other.
            let appointment = match tx.entry_appointment_id(queue_entry_id).await? {
                Some(appointment_id) => Some(
                    tx.lock_appointment(appointment_id)
                        .await?
                        .context("a queue entry's appointment is missing")?,
                ),
                None => None,
            };
            let entry = tx
                .lock_entry(queue_entry_id)
                .await?
                .ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))?;
            let status = entry.advance(step)?;
            let appointment = match appointment {
                Some(appointment) if step == QueueStep::Seat => {
                    let seated = appointment.advance(Step::Seat)?;
                    Some(tx.enter_status(appointment, seated, caller, now).await?)
                }
                other => other,
            };
            let called = matches!(step, QueueStep::Call | QueueStep::Recall);
            tx.set_entry_status(queue_entry_id, status, called, now)
                .await?;
            tx.record_queue_status(queue_entry_id, status, caller, now)
                .await?;
            let entry = tx.positioned_entry(entry.day, queue_entry_id).await?;
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
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<QueueEntry>, SchedulingError> {
        let key = IdempotencyKey::new(REGISTER_WALK_IN, request_id, fingerprint);
        match self.db.earlier_result(&key).await? {
            Some(queue_entry_id) => self.queue_entry(queue_entry_id).await.map(Some),
            None => Ok(None),
        }
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
        let key = IdempotencyKey::new(REGISTER_WALK_IN, &walk_in.request_id, &walk_in.fingerprint);
        retrying("a walk-in's request id", || {
            self.try_register_walk_in(walk_in, &key, (today, today_span), caller, now)
        })
        .await
    }

    async fn try_register_walk_in(
        &self,
        walk_in: &WalkIn,
        key: &IdempotencyKey<'_>,
        (today, today_span): (NaiveDate, (DateTime<Utc>, DateTime<Utc>)),
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(QueueEntry, Option<QueueChange>), Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the entry the first call made, as it is now, and nothing written.
            if let Some(queue_entry_id) = tx.earlier_result(key).await? {
                return Ok((tx.current_entry(queue_entry_id).await?, None));
            }
            tx.ensure_no_appointment_to_check_in(walk_in.patient_id, today_span)
                .await?;
            tx.ensure_not_in_queue(walk_in.patient_id, today).await?;
            let queue_entry_id = QueueEntryId::new();
            let number = tx.next_ticket(today, QueueEntryKind::WalkIn).await?;
            tx.insert_queue_entry(&QueueEntryInsert {
                queue_entry_id,
                day: today,
                kind: QueueEntryKind::WalkIn,
                number,
                appointment_id: None,
                patient_id: walk_in.patient_id,
                provider_id: walk_in.provider_id,
                routing: &walk_in.routing,
                initials: &walk_in.initials,
                arrived_at: now,
                appointment_start: None,
                expected_length: walk_in.expected_length,
            })
            .await
            .context("failed to add a walk-in to the queue")?;
            // A walk-in has no appointment whose history shows who let them in: the queue's
            // history does.
            tx.record_queue_status(queue_entry_id, QueueEntryStatus::Waiting, caller, now)
                .await?;
            tx.claim(key, &queue_entry_id.to_string(), now).await?;
            let entry = tx.positioned_entry(today, queue_entry_id).await?;
            let change = QueueChange {
                day: today,
                queue_entry_id,
            };
            Ok::<_, Attempt<SchedulingError>>((entry, Some(change)))
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
        let key = IdempotencyKey::new(CALL_NEXT, &command.request_id, &fingerprint);
        retrying("calling the next patient", || {
            self.try_call_next(command, &key, today, caller, now)
        })
        .await
    }

    async fn try_call_next(
        &self,
        command: &CallNext,
        key: &IdempotencyKey<'_>,
        today: NaiveDate,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(QueueEntry, Option<QueueChange>), Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the entry the first call called, as it is now, and nothing written.
            if let Some(queue_entry_id) = tx.earlier_result(key).await? {
                return Ok((tx.current_entry(queue_entry_id).await?, None));
            }
            let entry = tx
                .lock_next(today, command.provider_id)
                .await?
                .ok_or(SchedulingError::NobodyWaiting)?;
            let status = entry.advance(QueueStep::Call)?;
            let queue_entry_id = entry.queue_entry_id;
            tx.set_entry_status(queue_entry_id, status, true, now)
                .await?;
            tx.record_queue_status(queue_entry_id, status, caller, now)
                .await?;
            tx.claim(key, &queue_entry_id.to_string(), now).await?;
            let entry = tx.positioned_entry(today, queue_entry_id).await?;
            let change = QueueChange {
                day: today,
                queue_entry_id,
            };
            Ok::<_, Attempt<SchedulingError>>((entry, Some(change)))
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

    /// Where each of a clinic-local day's called patients goes, for the waiting room.
    pub async fn called_to(&self, day: NaiveDate) -> Result<Vec<CalledTo>, SchedulingError> {
        let rows: Vec<CalledToRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_CALLED_TO)
                .bind(day)
                .fetch_all(pool)
                .await
        })
        .context("failed to read where called patients go")?;
        let mut called: Vec<CalledTo> = Vec::new();
        for row in rows {
            let corrupt = |field: &str| {
                anyhow::anyhow!("{field} of queue entry {} is corrupt", row.queue_entry_id)
            };
            let queue_entry_id = QueueEntryId::parse(&row.queue_entry_id)
                .map_err(|_| corrupt("queue_entries.queue_entry_id"))?;
            let held = match (&row.resource_kind, row.resource_name) {
                (Some(kind), Some(name)) => Some((
                    ResourceKind::parse(kind).ok_or_else(|| corrupt("resources.kind"))?,
                    name,
                )),
                _ => None,
            };
            if let Some(last) = called.last_mut()
                && last.queue_entry_id == queue_entry_id
            {
                last.holds.extend(held);
                continue;
            }
            called.push(CalledTo {
                queue_entry_id,
                consultant_first: row.receiver_kind == ProviderKind::Consultant.as_str()
                    && row.routed_to_provider_id != row.provider_id,
                receiver: row.receiver,
                holds: held.into_iter().collect(),
            });
        }
        Ok(called)
    }
}

/// The queue inside another statement's transaction.
trait QueueTx {
    /// Hands out the next ticket number of `kind`'s series on `day`. The counter row's upsert
    /// hands out each number once, even to concurrent check-ins (PostgreSQL locks the row until
    /// commit; SQLite writers take turns).
    async fn next_ticket(&mut self, day: NaiveDate, kind: QueueEntryKind) -> anyhow::Result<i32>;

    /// Writes a waiting entry.
    async fn insert_queue_entry(&mut self, entry: &QueueEntryInsert<'_>) -> anyhow::Result<()>;

    /// Marks a scheduled or confirmed appointment arrived and puts its patient in `today`'s
    /// queue with the next ticket, routed as triage decided. Returns the appointment as it now
    /// is and the new entry's id.
    async fn admit(
        &mut self,
        appointment: Appointment,
        routing: &Routing,
        today: NaiveDate,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(Appointment, QueueEntryId)>;

    /// The day of the queue an arrived appointment's patient joined.
    async fn queue_day_of(&mut self, appointment_id: AppointmentId) -> anyhow::Result<NaiveDate>;

    /// The appointment a queue entry is for (`None` for a walk-in), or `QueueEntryNotFound`.
    async fn entry_appointment_id(
        &mut self,
        queue_entry_id: QueueEntryId,
    ) -> Result<Option<AppointmentId>, SchedulingError>;

    /// A queue entry, its row locked until the transaction ends (PostgreSQL); `None` when
    /// there is none. Its position is not known yet.
    async fn lock_entry(
        &mut self,
        queue_entry_id: QueueEntryId,
    ) -> anyhow::Result<Option<QueueEntry>>;

    /// The first waiting entry of `day` (of one provider, or of anyone), locked; see
    /// [`LOCK_NEXT`].
    async fn lock_next(
        &mut self,
        day: NaiveDate,
        provider_id: Option<ProviderId>,
    ) -> anyhow::Result<Option<QueueEntry>>;

    /// Sets a queue entry's status; `called` also stamps the call and counts it.
    async fn set_entry_status(
        &mut self,
        queue_entry_id: QueueEntryId,
        status: QueueEntryStatus,
        called: bool,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;

    /// `day`'s queue in queue order, with positions.
    async fn arranged_queue(&mut self, day: NaiveDate) -> anyhow::Result<Vec<QueueEntry>>;

    /// One entry of `day`'s queue, with its position.
    async fn positioned_entry(
        &mut self,
        day: NaiveDate,
        queue_entry_id: QueueEntryId,
    ) -> anyhow::Result<QueueEntry>;

    /// An entry known to exist (a retry's first result), with its position in its day's queue.
    async fn current_entry(&mut self, queue_entry_id: QueueEntryId) -> anyhow::Result<QueueEntry>;

    /// Refuses a walk-in for a patient with an appointment within `day_span` still to check in,
    /// as `HasAppointmentToday`.
    async fn ensure_no_appointment_to_check_in(
        &mut self,
        patient_id: PatientId,
        day_span: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<(), SchedulingError>;

    /// Refuses a walk-in for a patient already in `day`'s queue and not yet seated, as
    /// `AlreadyQueued`.
    async fn ensure_not_in_queue(
        &mut self,
        patient_id: PatientId,
        day: NaiveDate,
    ) -> Result<(), SchedulingError>;
}

for_each_backend! {
    impl QueueTx for Conn {
        async fn next_ticket(&mut self, day: NaiveDate, kind: QueueEntryKind) -> anyhow::Result<i32> {
            let number: i32 = sqlx::query_scalar(
                "INSERT INTO queue_ticket_series (queue_day, series, last_number) \
                 VALUES ($1, $2, 1) ON CONFLICT (queue_day, series) DO UPDATE \
                 SET last_number = queue_ticket_series.last_number + 1 \
                 RETURNING last_number",
            )
            .bind(day)
            .bind(kind.series())
            .fetch_one(&mut *self)
            .await
            .context("failed to issue a ticket number")?;
            Ok(number)
        }

        async fn insert_queue_entry(&mut self, entry: &QueueEntryInsert<'_>) -> anyhow::Result<()> {
            sqlx::query(
                "INSERT INTO queue_entries (queue_entry_id, queue_day, kind, ticket_series, \
                 ticket_number, appointment_id, patient_id, provider_id, routed_to_provider_id, \
                 first_visit, patient_initials, status, arrived_at, appointment_start_at, \
                 expected_minutes, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $13)",
            )
            .bind(entry.queue_entry_id.to_string())
            .bind(entry.day)
            .bind(entry.kind.as_str())
            .bind(entry.kind.series())
            .bind(entry.number)
            .bind(entry.appointment_id.map(|id| id.to_string()))
            .bind(entry.patient_id.to_string())
            .bind(entry.provider_id.to_string())
            .bind(entry.routing.routed_to.to_string())
            .bind(entry.routing.first_visit)
            .bind(entry.initials.as_str())
            .bind(QueueEntryStatus::Waiting.as_str())
            .bind(entry.arrived_at)
            .bind(entry.appointment_start)
            .bind(i32::try_from(entry.expected_length.num_minutes()).unwrap_or(i32::MAX))
            .execute(&mut *self)
            .await?;
            Ok(())
        }

        async fn admit(
            &mut self,
            appointment: Appointment,
            routing: &Routing,
            today: NaiveDate,
            caller: &Caller,
            now: DateTime<Utc>,
        ) -> anyhow::Result<(Appointment, QueueEntryId)> {
            let number = self.next_ticket(today, QueueEntryKind::Appointment).await?;
            let arrived = self
                .enter_status(appointment, AppointmentStatus::Arrived, caller, now)
                .await?;
            let queue_entry_id = QueueEntryId::new();
            self.insert_queue_entry(&QueueEntryInsert {
                queue_entry_id,
                day: today,
                kind: QueueEntryKind::Appointment,
                number,
                appointment_id: Some(arrived.appointment_id),
                patient_id: arrived.patient_id,
                provider_id: arrived.provider_id,
                routing,
                initials: &arrived.patient_initials,
                arrived_at: now,
                appointment_start: Some(arrived.slot.start()),
                expected_length: arrived.slot.end() - arrived.slot.start(),
            })
            .await
            .context("failed to add a patient to the queue")?;
            Ok((arrived, queue_entry_id))
        }

        async fn queue_day_of(&mut self, appointment_id: AppointmentId) -> anyhow::Result<NaiveDate> {
            let day: Option<NaiveDate> =
                sqlx::query_scalar("SELECT queue_day FROM queue_entries WHERE appointment_id = $1")
                    .bind(appointment_id.to_string())
                    .fetch_optional(&mut *self)
                    .await
                    .context("failed to find a queue entry")?;
            day.with_context(|| format!("arrived appointment {appointment_id} has no queue entry"))
        }

        async fn entry_appointment_id(
            &mut self,
            queue_entry_id: QueueEntryId,
        ) -> Result<Option<AppointmentId>, SchedulingError> {
            let found: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT appointment_id FROM queue_entries WHERE queue_entry_id = $1",
            )
            .bind(queue_entry_id.to_string())
            .fetch_optional(&mut *self)
            .await
            .context("failed to find a queue entry")?;
            let (appointment_id,) =
                found.ok_or(SchedulingError::QueueEntryNotFound(queue_entry_id))?;
            let appointment_id = appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .context("queue_entries holds a malformed appointment id")?;
            Ok(appointment_id)
        }

        async fn lock_entry(
            &mut self,
            queue_entry_id: QueueEntryId,
        ) -> anyhow::Result<Option<QueueEntry>> {
            let row: Option<QueueEntryRow> = sqlx::query_as(Conn::pick(SELECT_ENTRY, LOCK_ENTRY))
                .bind(queue_entry_id.to_string())
                .fetch_optional(&mut *self)
                .await
                .context("failed to lock a queue entry")?;
            row.map(QueueEntryRow::into_entry).transpose()
        }

        async fn lock_next(
            &mut self,
            day: NaiveDate,
            provider_id: Option<ProviderId>,
        ) -> anyhow::Result<Option<QueueEntry>> {
            let row: Option<QueueEntryRow> = sqlx::query_as(Conn::pick(SELECT_NEXT, LOCK_NEXT))
                .bind(day)
                .bind(provider_id.map(|id| id.to_string()))
                .fetch_optional(&mut *self)
                .await
                .context("failed to find the next waiting patient")?;
            row.map(QueueEntryRow::into_entry).transpose()
        }

        async fn set_entry_status(
            &mut self,
            queue_entry_id: QueueEntryId,
            status: QueueEntryStatus,
            called: bool,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "UPDATE queue_entries SET status = $2, updated_at = $3, \
                 called_at = CASE WHEN $4 THEN $3 ELSE called_at END, \
                 call_count = CASE WHEN $4 THEN call_count + 1 ELSE call_count END \
                 WHERE queue_entry_id = $1",
            )
            .bind(queue_entry_id.to_string())
            .bind(status.as_str())
            .bind(now)
            .bind(called)
            .execute(&mut *self)
            .await
            .context("failed to update a queue entry")?;
            Ok(())
        }

        async fn arranged_queue(&mut self, day: NaiveDate) -> anyhow::Result<Vec<QueueEntry>> {
            let rows: Vec<QueueEntryRow> = sqlx::query_as(SELECT_QUEUE)
                .bind(day)
                .fetch_all(&mut *self)
                .await
                .context("failed to read the queue")?;
            Ok(arrange(into_entries(rows)?))
        }

        async fn positioned_entry(
            &mut self,
            day: NaiveDate,
            queue_entry_id: QueueEntryId,
        ) -> anyhow::Result<QueueEntry> {
            self.arranged_queue(day)
                .await?
                .into_iter()
                .find(|entry| entry.queue_entry_id == queue_entry_id)
                .context("a queue entry is missing from its day's queue")
        }

        async fn current_entry(&mut self, queue_entry_id: QueueEntryId) -> anyhow::Result<QueueEntry> {
            let row: Option<QueueEntryRow> = sqlx::query_as(SELECT_ENTRY)
                .bind(queue_entry_id.to_string())
                .fetch_optional(&mut *self)
                .await
                .context("failed to read a queue entry")?;
            let day = row
                .with_context(|| format!("queue entry {queue_entry_id} is missing"))?
                .into_entry()?
                .day;
            self.positioned_entry(day, queue_entry_id).await
        }

        async fn ensure_no_appointment_to_check_in(
            &mut self,
            patient_id: PatientId,
            (day_start, day_end): (DateTime<Utc>, DateTime<Utc>),
        ) -> Result<(), SchedulingError> {
            let to_check_in: Option<String> = sqlx::query_scalar(
                "SELECT appointment_id FROM appointments WHERE patient_id = $1 \
                 AND status IN ('scheduled', 'confirmed') AND start_at >= $2 AND start_at < $3 \
                 ORDER BY start_at LIMIT 1",
            )
            .bind(patient_id.to_string())
            .bind(day_start)
            .bind(day_end)
            .fetch_optional(&mut *self)
            .await
            .context("failed to look for the patient's appointments today")?;
            let Some(appointment_id) = to_check_in else {
                return Ok(());
            };
            let appointment_id = AppointmentId::parse(&appointment_id)
                .context("appointments holds a malformed appointment id")?;
            Err(SchedulingError::HasAppointmentToday { appointment_id })
        }

        async fn ensure_not_in_queue(
            &mut self,
            patient_id: PatientId,
            day: NaiveDate,
        ) -> Result<(), SchedulingError> {
            let queued: Option<QueueEntryRow> = sqlx::query_as(concat!(
                queue_columns!(),
                "WHERE q.patient_id = $1 AND q.queue_day = $2 \
                 AND q.status IN ('waiting', 'called') LIMIT 1"
            ))
            .bind(patient_id.to_string())
            .bind(day)
            .fetch_optional(&mut *self)
            .await
            .context("failed to look for the patient in the queue")?;
            let Some(row) = queued else {
                return Ok(());
            };
            let entry = row.into_entry()?;
            Err(SchedulingError::AlreadyQueued {
                ticket: entry.ticket.to_string(),
            })
        }
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

#[derive(sqlx::FromRow)]
struct CalledToRow {
    queue_entry_id: String,
    provider_id: String,
    routed_to_provider_id: String,
    receiver: String,
    receiver_kind: String,
    resource_kind: Option<String>,
    resource_name: Option<String>,
}
