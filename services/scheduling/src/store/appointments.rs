//! Appointments: booking without double booking, reading, cancelling, confirming, and the status
//! history every change appends to.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clinic_common::auth::Caller;
use clinic_common::db::is_unique_violation;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId, RequestId};
use clinic_common::{in_transaction, with_db};

use super::hours::refuse_unavailable;
use super::resources::{assign_resources, insert_resources, type_requirements};
use super::{
    Attempt, SchedulingStore, earlier_request, record_queue_status, record_request, record_status,
    sql_offset, with_retries,
};
use crate::domain::{
    Appointment, AppointmentSlot, AppointmentStatus, AppointmentTypeId, Cancellation, Confirmation,
    ConfirmationCode, Initials, NewAppointment, Note, PriceCode, QueueEntryStatus, Reschedule,
    ResourceId, ResourceNeeds, SchedulingError, StatusChange, Step,
};
use crate::feed::QueueChange;

/// The idempotency-key operation names for bookings and reschedules.
const CREATE_APPOINTMENT: &str = "create_appointment";
const RESCHEDULE_APPOINTMENT: &str = "reschedule_appointment";

/// The columns `AppointmentRow` reads, as a literal so queries stay `&'static str`.
macro_rules! appointment_columns {
    () => {
        "appointment_id, patient_id, patient_initials, provider_id, start_at, end_at, status, \
         price_code, reason, confirmation_code, cancel_reason, late_cancellation, created_at, \
         updated_at, rescheduled_to_appointment_id, rescheduled_from_appointment_id, \
         appointment_type_id"
    };
}

/// The statuses that hold a provider's time, as SQL. Must list exactly the statuses for which
/// `AppointmentStatus::is_active` holds (a unit test below checks).
macro_rules! active_statuses {
    () => {
        "('scheduled', 'confirmed', 'arrived', 'seated')"
    };
}

pub(super) use {active_statuses, appointment_columns};

/// The first active appointment of `$provider_id` overlapping `$slot` inside `$tx`, other than
/// `$except` (an appointment being moved no longer holds its time), as `ProviderBusy`. A macro
/// because it runs inside `in_transaction!`'s body, expanded once per backend.
macro_rules! refuse_clash {
    ($tx:ident, $provider_id:expr, $slot:expr, $except:expr) => {
        let clash: Option<(String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(concat!(
            "SELECT appointment_id, start_at, end_at FROM appointments \
             WHERE provider_id = $1 AND status IN ",
            active_statuses!(),
            " AND start_at < $3 AND end_at > $2 \
             AND ($4 IS NULL OR appointment_id <> $4) \
             ORDER BY start_at, appointment_id LIMIT 1"
        ))
        .bind($provider_id.to_string())
        .bind($slot.start())
        .bind($slot.end())
        .bind($except.map(|id: AppointmentId| id.to_string()))
        .fetch_optional(&mut *$tx)
        .await
        .context("failed to check for overlapping appointments")?;
        if let Some((appointment_id, start, end)) = clash {
            let appointment_id = AppointmentId::parse(&appointment_id)
                .context("appointments holds a malformed appointment id")?;
            return Err(SchedulingError::ProviderBusy {
                appointment_id,
                start,
                end,
            }
            .into());
        }
    };
}

/// Inserts a scheduled appointment inside `$tx` with a fresh confirmation code, returning
/// `Attempt::CodeTaken` from the enclosing function when the code is already in use.
macro_rules! insert_appointment {
    ($tx:ident, $appointment_id:expr, $patient_id:expr, $initials:expr, $provider_id:expr,
     $slot:expr, $price_code:expr, $reason:expr, $appointment_type_id:expr,
     $rescheduled_from:expr, $now:expr) => {
        let inserted = sqlx::query(
            "INSERT INTO appointments (appointment_id, patient_id, patient_initials, \
             provider_id, start_at, end_at, status, price_code, reason, \
             confirmation_code, late_cancellation, created_at, updated_at, \
             rescheduled_from_appointment_id, appointment_type_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11, $11, $12, $13)",
        )
        .bind($appointment_id.to_string())
        .bind($patient_id.to_string())
        .bind($initials.as_str())
        .bind($provider_id.to_string())
        .bind($slot.start())
        .bind($slot.end())
        .bind(AppointmentStatus::Scheduled.as_str())
        .bind($price_code.as_ref().map(PriceCode::as_str))
        .bind($reason.as_ref().map(Note::as_str))
        .bind(ConfirmationCode::generate().as_str())
        .bind($now)
        .bind($rescheduled_from.map(|id: AppointmentId| id.to_string()))
        .bind($appointment_type_id.map(|id: AppointmentTypeId| id.to_string()))
        .execute(&mut *$tx)
        .await;
        match inserted {
            // SQLite names the column, PostgreSQL the index.
            Err(error)
                if is_unique_violation(&error, "appointments_confirmation_code")
                    || is_unique_violation(&error, "appointments.confirmation_code") =>
            {
                return Err(Attempt::CodeTaken);
            }
            other => {
                other.context("failed to insert an appointment")?;
            }
        }
    };
}

pub(super) const SELECT_APPOINTMENT: &str = concat!(
    "SELECT ",
    appointment_columns!(),
    " FROM appointments WHERE appointment_id = $1"
);

/// [`SELECT_APPOINTMENT`], locking the row until the transaction ends (PostgreSQL): status changes
/// of one appointment queue behind each other.
pub(super) const LOCK_APPOINTMENT: &str = concat!(
    "SELECT ",
    appointment_columns!(),
    " FROM appointments WHERE appointment_id = $1 FOR UPDATE"
);

impl SchedulingStore {
    /// The appointment a first call with `request_id` booked, if any. Lets a retry be answered
    /// without asking the patient registry again.
    pub async fn earlier_booking(
        &self,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Appointment>, SchedulingError> {
        let earlier: Option<(String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT fingerprint, resource_id FROM idempotency_keys \
                 WHERE operation = $1 AND request_id = $2",
            )
            .bind(CREATE_APPOINTMENT)
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
        let appointment_id = AppointmentId::parse(&resource_id)
            .context("idempotency_keys holds a malformed appointment id")?;
        self.appointment(appointment_id).await
    }

    /// Books an appointment for a patient whose initials the registry gave, or returns the one a
    /// first call with the same request id booked. Refuses a provider who does not exist, is
    /// busy at that time, or (having working hours) is not working then; the hours are read in
    /// the clinic's `time_zone`.
    pub async fn book(
        &self,
        new: &NewAppointment,
        initials: &Initials,
        caller: &Caller,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> Result<Appointment, SchedulingError> {
        let appointment_id = with_retries("a booking", || {
            self.try_book(new, &new.fingerprint, initials, caller, (now, time_zone))
        })
        .await?;
        self.appointment(appointment_id).await?.ok_or_else(|| {
            anyhow::anyhow!("appointment {appointment_id} vanished after insert").into()
        })
    }

    /// One booking transaction. Double booking is prevented by checking for an overlapping
    /// active appointment and inserting in the same transaction, with bookings for one provider
    /// taking turns: on PostgreSQL the provider's row is locked first, so a second booking waits
    /// for the first to commit and then sees its appointment (under READ COMMITTED each statement
    /// reads what has committed); on SQLite the transaction holds the database's write lock.
    async fn try_book(
        &self,
        new: &NewAppointment,
        fingerprint: &str,
        initials: &Initials,
        caller: &Caller,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> Result<AppointmentId, Attempt> {
        let lock_provider = self.locking(
            "SELECT provider_id FROM providers WHERE provider_id = $1",
            "SELECT provider_id FROM providers WHERE provider_id = $1 FOR UPDATE",
        );
        let lock_resources = self.lock_resources();
        in_transaction!(&self.db, |tx| {
            let provider: Option<String> = sqlx::query_scalar(lock_provider)
                .bind(new.provider_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock a provider")?;
            if provider.is_none() {
                return Err(SchedulingError::UnknownProvider(new.provider_id).into());
            }
            // Looked up after taking the lock, so that a concurrent first call with the same key
            // has committed by now and is found here, rather than seen as a double booking.
            if let Some((earlier_fingerprint, resource_id)) =
                earlier_request!(tx, CREATE_APPOINTMENT, new.request_id)
            {
                if earlier_fingerprint != fingerprint {
                    return Err(SchedulingError::RequestIdReused.into());
                }
                let appointment_id = AppointmentId::parse(&resource_id)
                    .context("idempotency_keys holds a malformed appointment id")?;
                Ok::<_, Attempt>(appointment_id)
            } else {
                refuse_unavailable!(tx, new.provider_id, new.slot, time_zone);
                refuse_clash!(tx, new.provider_id, new.slot, None);
                // After the provider's row: resources are always locked second (see resources).
                let resource_ids = assign_resources!(
                    tx,
                    lock_resources,
                    &new.resources,
                    &[],
                    new.slot,
                    time_zone,
                    None
                );
                let appointment_id = AppointmentId::new();
                insert_appointment!(
                    tx,
                    appointment_id,
                    new.patient_id,
                    initials,
                    new.provider_id,
                    new.slot,
                    new.price_code,
                    new.reason,
                    new.appointment_type_id,
                    None,
                    now
                );
                insert_resources!(tx, appointment_id, &resource_ids);
                record_status!(
                    tx,
                    appointment_id,
                    AppointmentStatus::Scheduled,
                    caller,
                    now
                );
                record_request!(
                    tx,
                    CREATE_APPOINTMENT,
                    new.request_id,
                    fingerprint,
                    appointment_id.to_string(),
                    now
                );
                Ok(appointment_id)
            }
        })
    }

    pub async fn appointment(
        &self,
        appointment_id: AppointmentId,
    ) -> Result<Option<Appointment>, SchedulingError> {
        let row: Option<AppointmentRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_APPOINTMENT)
                .bind(appointment_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read an appointment")?;
        let mut found: Vec<Appointment> = row
            .map(AppointmentRow::into_appointment)
            .transpose()?
            .into_iter()
            .collect();
        self.attach_resources(&mut found).await?;
        Ok(found.pop())
    }

    pub async fn appointment_by_code(
        &self,
        code: &ConfirmationCode,
    ) -> Result<Option<Appointment>, SchedulingError> {
        let row: Option<AppointmentRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                appointment_columns!(),
                " FROM appointments WHERE confirmation_code = $1"
            ))
            .bind(code.as_str())
            .fetch_optional(pool)
            .await
        })
        .context("failed to find an appointment by code")?;
        let mut found: Vec<Appointment> = row
            .map(AppointmentRow::into_appointment)
            .transpose()?
            .into_iter()
            .collect();
        self.attach_resources(&mut found).await?;
        Ok(found.pop())
    }

    /// Appointments starting in `[from, until)`, optionally of one provider or patient, by start.
    pub async fn appointments_between(
        &self,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        provider_id: Option<ProviderId>,
        patient_id: Option<PatientId>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Appointment>, SchedulingError> {
        let rows: Vec<AppointmentRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                appointment_columns!(),
                " FROM appointments WHERE start_at >= $1 AND start_at < $2 \
                 AND ($3 IS NULL OR provider_id = $3) AND ($4 IS NULL OR patient_id = $4) \
                 ORDER BY start_at, appointment_id LIMIT $5 OFFSET $6"
            ))
            .bind(from)
            .bind(until)
            .bind(provider_id.map(|id| id.to_string()))
            .bind(patient_id.map(|id| id.to_string()))
            .bind(i64::from(limit))
            .bind(sql_offset(offset))
            .fetch_all(pool)
            .await
        })
        .context("failed to list appointments")?;
        let mut appointments = Vec::with_capacity(rows.len());
        for row in rows {
            appointments.push(row.into_appointment()?);
        }
        self.attach_resources(&mut appointments).await?;
        Ok(appointments)
    }

    /// Cancels an active appointment. A patient already in the queue leaves it; the change to the
    /// queue is returned, to be announced once committed.
    pub async fn cancel(
        &self,
        appointment_id: AppointmentId,
        reason: Note,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(Appointment, Option<QueueChange>), SchedulingError> {
        let lock = self.locking(SELECT_APPOINTMENT, LOCK_APPOINTMENT);
        let (mut appointment, change) = in_transaction!(&self.db, |tx| {
            let row: Option<AppointmentRow> = sqlx::query_as(lock)
                .bind(appointment_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock an appointment")?;
            let current = row
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?
                .into_appointment()?;
            let cancellation = current.cancel(reason, now)?;
            sqlx::query(
                "UPDATE appointments SET status = $2, cancel_reason = $3, \
                 late_cancellation = $4, updated_at = $5 WHERE appointment_id = $1",
            )
            .bind(appointment_id.to_string())
            .bind(AppointmentStatus::Cancelled.as_str())
            .bind(cancellation.reason.as_str())
            .bind(cancellation.late)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to cancel an appointment")?;
            record_status!(
                tx,
                appointment_id,
                AppointmentStatus::Cancelled,
                caller,
                now
            );
            let left: Option<(String, chrono::NaiveDate)> = sqlx::query_as(
                "UPDATE queue_entries SET status = 'left', updated_at = $2 \
                 WHERE appointment_id = $1 AND status <> 'left' \
                 RETURNING queue_entry_id, queue_day",
            )
            .bind(appointment_id.to_string())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .context("failed to take a cancelled appointment out of the queue")?;
            let change = match left {
                Some((queue_entry_id, day)) => {
                    let queue_entry_id = QueueEntryId::parse(&queue_entry_id)
                        .context("queue_entries holds a malformed id")?;
                    record_queue_status!(tx, queue_entry_id, QueueEntryStatus::Left, caller, now);
                    Some(QueueChange {
                        day,
                        queue_entry_id,
                    })
                }
                None => None,
            };
            Ok::<_, SchedulingError>((
                Appointment {
                    status: AppointmentStatus::Cancelled,
                    cancellation: Some(cancellation),
                    updated_at: now,
                    ..current
                },
                change,
            ))
        })?;
        self.attach_resources(std::slice::from_mut(&mut appointment))
            .await?;
        Ok((appointment, change))
    }

    /// Records the patient's confirmation of a scheduled appointment.
    pub async fn confirm(
        &self,
        appointment_id: AppointmentId,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Appointment, SchedulingError> {
        let lock = self.locking(SELECT_APPOINTMENT, LOCK_APPOINTMENT);
        let mut appointment = in_transaction!(&self.db, |tx| {
            let row: Option<AppointmentRow> = sqlx::query_as(lock)
                .bind(appointment_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock an appointment")?;
            let current = row
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?
                .into_appointment()?;
            match current.confirm()? {
                Confirmation::AlreadyConfirmed => Ok::<_, SchedulingError>(current),
                Confirmation::Confirm => {
                    sqlx::query(
                        "UPDATE appointments SET status = $2, updated_at = $3 \
                         WHERE appointment_id = $1",
                    )
                    .bind(appointment_id.to_string())
                    .bind(AppointmentStatus::Confirmed.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .context("failed to confirm an appointment")?;
                    record_status!(
                        tx,
                        appointment_id,
                        AppointmentStatus::Confirmed,
                        caller,
                        now
                    );
                    Ok(Appointment {
                        status: AppointmentStatus::Confirmed,
                        updated_at: now,
                        ..current
                    })
                }
            }
        })?;
        self.attach_resources(std::slice::from_mut(&mut appointment))
            .await?;
        Ok(appointment)
    }

    /// Takes one step of an appointment's life that changes nothing but its status (complete,
    /// check out, no-show): `decide` says from the locked, current appointment which status it
    /// enters, or why it cannot.
    pub async fn change_status<F>(
        &self,
        appointment_id: AppointmentId,
        decide: F,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Appointment, SchedulingError>
    where
        F: Fn(&Appointment) -> Result<AppointmentStatus, SchedulingError>,
    {
        let lock = self.locking(SELECT_APPOINTMENT, LOCK_APPOINTMENT);
        let mut appointment = in_transaction!(&self.db, |tx| {
            let row: Option<AppointmentRow> = sqlx::query_as(lock)
                .bind(appointment_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to lock an appointment")?;
            let current = row
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?
                .into_appointment()?;
            let status = decide(&current)?;
            sqlx::query(
                "UPDATE appointments SET status = $2, updated_at = $3 WHERE appointment_id = $1",
            )
            .bind(appointment_id.to_string())
            .bind(status.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to change an appointment's status")?;
            record_status!(tx, appointment_id, status, caller, now);
            Ok::<_, SchedulingError>(Appointment {
                status,
                updated_at: now,
                ..current
            })
        })?;
        self.attach_resources(std::slice::from_mut(&mut appointment))
            .await?;
        Ok(appointment)
    }

    /// Moves an appointment to a new time: the old one becomes rescheduled, linked to a new
    /// scheduled appointment for the same patient, provider, price code and reason, booked under
    /// the same no-double-booking rule, all in one transaction. A retry with the same request id
    /// returns the first result. The new time must keep the provider's working hours, read in
    /// the clinic's `time_zone`, like a booking. Returns `(old, new)`.
    pub async fn reschedule(
        &self,
        command: &Reschedule,
        caller: &Caller,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> Result<(Appointment, Appointment), SchedulingError> {
        let fingerprint = command.fingerprint();
        let (old_id, new_id) = with_retries("a reschedule", || {
            self.try_reschedule(command, &fingerprint, caller, (now, time_zone))
        })
        .await?;
        let vanished = |id: AppointmentId| -> SchedulingError {
            anyhow::anyhow!("appointment {id} vanished after a reschedule").into()
        };
        let old = self
            .appointment(old_id)
            .await?
            .ok_or_else(|| vanished(old_id))?;
        let new = self
            .appointment(new_id)
            .await?
            .ok_or_else(|| vanished(new_id))?;
        Ok((old, new))
    }

    /// One reschedule transaction. Like a booking, it first locks the provider's row, so that it
    /// takes turns with every booking of that provider; only then the appointment itself.
    async fn try_reschedule(
        &self,
        command: &Reschedule,
        fingerprint: &str,
        caller: &Caller,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> Result<(AppointmentId, AppointmentId), Attempt> {
        let lock_provider = self.locking(
            "SELECT provider_id FROM providers WHERE provider_id = $1",
            "SELECT provider_id FROM providers WHERE provider_id = $1 FOR UPDATE",
        );
        let lock = self.locking(SELECT_APPOINTMENT, LOCK_APPOINTMENT);
        let lock_resources = self.lock_resources();
        let old_id = command.appointment_id;
        in_transaction!(&self.db, |tx| {
            // The provider never changes, so it can be read before any lock is held.
            let row: Option<AppointmentRow> = sqlx::query_as(SELECT_APPOINTMENT)
                .bind(old_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to read an appointment")?;
            let provider_id = row
                .ok_or(SchedulingError::AppointmentNotFound(old_id))?
                .into_appointment()?
                .provider_id;
            sqlx::query_scalar::<_, String>(lock_provider)
                .bind(provider_id.to_string())
                .fetch_one(&mut *tx)
                .await
                .context("failed to lock a provider")?;
            if let Some((earlier_fingerprint, resource_id)) =
                earlier_request!(tx, RESCHEDULE_APPOINTMENT, command.request_id)
            {
                if earlier_fingerprint != fingerprint {
                    return Err(SchedulingError::RequestIdReused.into());
                }
                let new_id = AppointmentId::parse(&resource_id)
                    .context("idempotency_keys holds a malformed appointment id")?;
                Ok::<_, Attempt>((old_id, new_id))
            } else {
                let row: Option<AppointmentRow> = sqlx::query_as(lock)
                    .bind(old_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to lock an appointment")?;
                let current = row
                    .ok_or(SchedulingError::AppointmentNotFound(old_id))?
                    .into_appointment()?;
                let status = current.advance(Step::Reschedule)?;
                refuse_unavailable!(tx, current.provider_id, command.slot, time_zone);
                // The old appointment gives up its time, so the new one may overlap it.
                refuse_clash!(tx, current.provider_id, command.slot, Some(old_id));
                // The replacement holds what the type needs, keeping the old resources when they
                // are free; without a type, exactly the resources the old appointment held.
                let held: Vec<(String,)> = sqlx::query_as(
                    "SELECT resource_id FROM appointment_resources WHERE appointment_id = $1",
                )
                .bind(old_id.to_string())
                .fetch_all(&mut *tx)
                .await
                .context("failed to read an appointment's resources")?;
                let mut old_resources = Vec::with_capacity(held.len());
                for (resource_id,) in held {
                    old_resources.push(
                        ResourceId::parse(&resource_id)
                            .map_err(anyhow::Error::msg)
                            .context("appointment_resources holds a malformed id")?,
                    );
                }
                let needs = match current.appointment_type_id {
                    Some(type_id) => ResourceNeeds {
                        requirements: type_requirements!(&mut *tx, type_id),
                        chosen: Vec::new(),
                    },
                    None => ResourceNeeds {
                        requirements: Vec::new(),
                        chosen: old_resources.clone(),
                    },
                };
                let resource_ids = assign_resources!(
                    tx,
                    lock_resources,
                    &needs,
                    &old_resources,
                    command.slot,
                    time_zone,
                    Some(old_id)
                );
                let new_id = AppointmentId::new();
                insert_appointment!(
                    tx,
                    new_id,
                    current.patient_id,
                    current.patient_initials,
                    current.provider_id,
                    command.slot,
                    current.price_code,
                    current.reason,
                    current.appointment_type_id,
                    Some(old_id),
                    now
                );
                insert_resources!(tx, new_id, &resource_ids);
                sqlx::query(
                    "UPDATE appointments SET status = $2, rescheduled_to_appointment_id = $3, \
                     updated_at = $4 WHERE appointment_id = $1",
                )
                .bind(old_id.to_string())
                .bind(status.as_str())
                .bind(new_id.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to mark an appointment rescheduled")?;
                record_status!(tx, old_id, status, caller, now);
                record_status!(tx, new_id, AppointmentStatus::Scheduled, caller, now);
                record_request!(
                    tx,
                    RESCHEDULE_APPOINTMENT,
                    command.request_id,
                    fingerprint,
                    new_id.to_string(),
                    now
                );
                Ok((old_id, new_id))
            }
        })
    }

    /// An appointment's status history, oldest first.
    pub async fn status_changes(
        &self,
        appointment_id: AppointmentId,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<StatusChange>, SchedulingError> {
        let rows: Vec<(String, DateTime<Utc>, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT status, changed_at, changed_by FROM appointment_status_history \
                 WHERE appointment_id = $1 ORDER BY history_id LIMIT $2 OFFSET $3",
            )
            .bind(appointment_id.to_string())
            .bind(i64::from(limit))
            .bind(sql_offset(offset))
            .fetch_all(pool)
            .await
        })
        .context("failed to read an appointment's history")?;
        // Every appointment has at least its first status, so no rows at offset 0 means no such
        // appointment.
        if rows.is_empty() && offset == 0 {
            return Err(SchedulingError::AppointmentNotFound(appointment_id));
        }
        let mut changes = Vec::with_capacity(rows.len());
        for (status, changed_at, changed_by) in rows {
            changes.push(StatusChange {
                status: AppointmentStatus::parse(&status).ok_or_else(|| {
                    anyhow::anyhow!("appointment_status_history of {appointment_id} is corrupt")
                })?,
                changed_at,
                changed_by,
            });
        }
        Ok(changes)
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AppointmentRow {
    appointment_id: String,
    patient_id: String,
    patient_initials: String,
    provider_id: String,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    status: String,
    price_code: Option<String>,
    reason: Option<String>,
    confirmation_code: String,
    cancel_reason: Option<String>,
    late_cancellation: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    rescheduled_to_appointment_id: Option<String>,
    rescheduled_from_appointment_id: Option<String>,
    appointment_type_id: Option<String>,
}

impl AppointmentRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    pub(super) fn into_appointment(self) -> anyhow::Result<Appointment> {
        let corrupt = |field: &str| {
            anyhow::anyhow!("appointments.{field} of {} is corrupt", self.appointment_id)
        };
        let cancellation = match &self.cancel_reason {
            Some(reason) => Some(Cancellation {
                reason: Note::parse(reason).map_err(|_| corrupt("cancel_reason"))?,
                late: self.late_cancellation,
            }),
            None => None,
        };
        Ok(Appointment {
            appointment_id: AppointmentId::parse(&self.appointment_id)
                .map_err(|_| corrupt("appointment_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            provider_id: ProviderId::parse(&self.provider_id)
                .map_err(|_| corrupt("provider_id"))?,
            slot: AppointmentSlot::stored(self.start_at, self.end_at)
                .ok_or_else(|| corrupt("end_at"))?,
            status: AppointmentStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            price_code: PriceCode::parse_optional(self.price_code.as_deref().unwrap_or(""))
                .map_err(|_| corrupt("price_code"))?,
            reason: Note::parse_optional(self.reason.as_deref().unwrap_or(""))
                .map_err(|_| corrupt("reason"))?,
            appointment_type_id: self
                .appointment_type_id
                .as_deref()
                .map(AppointmentTypeId::parse)
                .transpose()
                .map_err(|_| corrupt("appointment_type_id"))?,
            confirmation_code: ConfirmationCode::parse(&self.confirmation_code)
                .map_err(|_| corrupt("confirmation_code"))?,
            patient_initials: Initials::stored(self.patient_initials),
            cancellation,
            rescheduled_to: self
                .rescheduled_to_appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .map_err(|_| corrupt("rescheduled_to_appointment_id"))?,
            rescheduled_from: self
                .rescheduled_from_appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .map_err(|_| corrupt("rescheduled_from_appointment_id"))?,
            // Held in appointment_resources; filled in by `attach_resources`.
            resource_ids: Vec::new(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_list_of_active_statuses_matches_the_domain() {
        let active: Vec<String> = AppointmentStatus::ALL
            .into_iter()
            .filter(AppointmentStatus::is_active)
            .map(|status| format!("'{}'", status.as_str()))
            .collect();
        assert_eq!(active_statuses!(), format!("({})", active.join(", ")));
    }
}
