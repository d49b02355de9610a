//! Appointments: booking without double booking, reading, cancelling, confirming, and the status
//! history every change appends to.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clinic_common::auth::Caller;
use clinic_common::db::{Connection, is_unique_violation};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId, RequestId};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::history::HistoryTx;
use super::hours::HoursTx;
use super::providers::ProvidersTx;
use super::resources::ResourcesTx;
use super::{SchedulingStore, active_statuses, sql_offset};
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

pub(super) use appointment_columns;

const SELECT_APPOINTMENT: &str = concat!(
    "SELECT ",
    appointment_columns!(),
    " FROM appointments WHERE appointment_id = $1"
);

/// [`SELECT_APPOINTMENT`], locking the row until the transaction ends (PostgreSQL): status changes
/// of one appointment queue behind each other.
const LOCK_APPOINTMENT: &str = concat!(
    "SELECT ",
    appointment_columns!(),
    " FROM appointments WHERE appointment_id = $1 FOR UPDATE"
);

/// The first active appointment of provider `$1` overlapping `[$2, $3)`, other than `$4`.
const PROVIDER_CLASH: &str = concat!(
    "SELECT appointment_id, start_at, end_at FROM appointments \
     WHERE provider_id = $1 AND status IN ",
    active_statuses!(),
    " AND start_at < $3 AND end_at > $2 \
     AND ($4 IS NULL OR appointment_id <> $4) \
     ORDER BY start_at, appointment_id LIMIT 1"
);

/// A scheduled appointment about to be written: a booking, or the replacement a reschedule
/// makes.
pub(super) struct AppointmentInsert<'a> {
    pub appointment_id: AppointmentId,
    pub patient_id: PatientId,
    pub initials: &'a Initials,
    pub provider_id: ProviderId,
    pub slot: &'a AppointmentSlot,
    pub price_code: Option<&'a PriceCode>,
    pub reason: Option<&'a Note>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    /// The appointment this one replaces, when a reschedule makes it.
    pub rescheduled_from: Option<AppointmentId>,
    pub created_at: DateTime<Utc>,
}

impl SchedulingStore {
    /// The appointment a first call with `request_id` booked, if any. Lets a retry be answered
    /// without asking the patient registry again.
    pub async fn earlier_booking(
        &self,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Appointment>, SchedulingError> {
        let key = IdempotencyKey::new(CREATE_APPOINTMENT, request_id, fingerprint);
        match self.db.earlier_result(&key).await? {
            Some(appointment_id) => self.appointment(appointment_id).await,
            None => Ok(None),
        }
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
        let key = IdempotencyKey::new(CREATE_APPOINTMENT, &new.request_id, &new.fingerprint);
        let appointment_id = retrying("a booking", || {
            self.try_book(new, &key, initials, caller, (now, time_zone))
        })
        .await?;
        self.appointment(appointment_id).await?.ok_or_else(|| {
            anyhow::anyhow!("appointment {appointment_id} vanished after insert").into()
        })
    }

    /// One booking transaction. Double booking is prevented by checking for an overlapping
    /// active appointment and inserting in the same transaction, with bookings for one provider
    /// taking turns on the provider's row (see `ProvidersTx::lock_provider`).
    async fn try_book(
        &self,
        new: &NewAppointment,
        key: &IdempotencyKey<'_>,
        initials: &Initials,
        caller: &Caller,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> Result<AppointmentId, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            if !tx.lock_provider(new.provider_id).await? {
                return Err(SchedulingError::UnknownProvider(new.provider_id).into());
            }
            // Looked up after taking the lock, so that a concurrent first call with the same key
            // has committed by now and is found here, rather than seen as a double booking. A
            // retry gets the first call's result, and nothing is written.
            if let Some(appointment_id) = tx.earlier_result(key).await? {
                return Ok(appointment_id);
            }
            tx.ensure_available(new.provider_id, &new.slot, time_zone)
                .await?;
            tx.ensure_provider_free(new.provider_id, &new.slot, None, time_zone)
                .await?;
            // After the provider's row: resources are always locked second (see resources).
            let resource_ids = tx
                .assign_resources(&new.resources, &[], &new.slot, time_zone, None)
                .await?;
            let appointment_id = AppointmentId::new();
            tx.insert_appointment(&AppointmentInsert {
                appointment_id,
                patient_id: new.patient_id,
                initials,
                provider_id: new.provider_id,
                slot: &new.slot,
                price_code: new.price_code.as_ref(),
                reason: new.reason.as_ref(),
                appointment_type_id: new.appointment_type_id,
                rescheduled_from: None,
                created_at: now,
            })
            .await?;
            tx.hold_resources(appointment_id, &resource_ids).await?;
            tx.record_status(appointment_id, AppointmentStatus::Scheduled, caller, now)
                .await?;
            tx.claim(key, &appointment_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(appointment_id)
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
        let (mut appointment, change) = in_transaction!(&self.db, |tx| {
            let current = tx
                .lock_appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
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
            tx.record_status(appointment_id, AppointmentStatus::Cancelled, caller, now)
                .await?;
            let change = tx.leave_queue(appointment_id, caller, now).await?;
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
        let mut appointment = in_transaction!(&self.db, |tx| {
            let current = tx
                .lock_appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
            match current.confirm()? {
                Confirmation::AlreadyConfirmed => Ok::<_, SchedulingError>(current),
                Confirmation::Confirm => Ok(tx
                    .enter_status(current, AppointmentStatus::Confirmed, caller, now)
                    .await?),
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
        let mut appointment = in_transaction!(&self.db, |tx| {
            let current = tx
                .lock_appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
            let status = decide(&current)?;
            Ok::<_, SchedulingError>(tx.enter_status(current, status, caller, now).await?)
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
        let key = IdempotencyKey::new(RESCHEDULE_APPOINTMENT, &command.request_id, &fingerprint);
        let (old_id, new_id) = retrying("a reschedule", || {
            self.try_reschedule(command, &key, caller, (now, time_zone))
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
        key: &IdempotencyKey<'_>,
        caller: &Caller,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> Result<(AppointmentId, AppointmentId), Attempt<SchedulingError>> {
        let old_id = command.appointment_id;
        in_transaction!(&self.db, |tx| {
            // An appointment's provider never changes, so it can be read before any lock is held.
            let provider_id = tx
                .read_appointment(old_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(old_id))?
                .provider_id;
            let target = command.provider_id.unwrap_or(provider_id);
            // Both providers' rows, in one order, so that two moves between the same two
            // providers never wait on each other.
            let mut providers = [provider_id, target];
            providers.sort();
            for provider in providers {
                if !tx.lock_provider(provider).await? {
                    return Err(if provider == target && target != provider_id {
                        SchedulingError::ProviderNotFound(target).into()
                    } else {
                        anyhow::anyhow!("appointment {old_id}'s provider is missing").into()
                    });
                }
            }
            // A retry: the first call's result, and nothing written.
            if let Some(new_id) = tx.earlier_result(key).await? {
                return Ok((old_id, new_id));
            }
            let current = tx
                .lock_appointment(old_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(old_id))?;
            let status = current.advance(Step::Reschedule)?;
            tx.ensure_available(target, &command.slot, time_zone)
                .await?;
            // The old appointment gives up its time, so the new one may overlap it.
            tx.ensure_provider_free(target, &command.slot, Some(old_id), time_zone)
                .await?;
            let resource_ids = tx
                .replacement_resources(&current, &command.slot, time_zone)
                .await?;
            let new_id = AppointmentId::new();
            tx.insert_appointment(&AppointmentInsert {
                appointment_id: new_id,
                patient_id: current.patient_id,
                initials: &current.patient_initials,
                provider_id: target,
                slot: &command.slot,
                price_code: current.price_code.as_ref(),
                reason: current.reason.as_ref(),
                appointment_type_id: current.appointment_type_id,
                rescheduled_from: Some(old_id),
                created_at: now,
            })
            .await?;
            tx.hold_resources(new_id, &resource_ids).await?;
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
            tx.record_status(old_id, status, caller, now).await?;
            tx.record_status(new_id, AppointmentStatus::Scheduled, caller, now)
                .await?;
            tx.claim(key, &new_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>((old_id, new_id))
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

/// Appointments inside another statement's transaction.
pub(crate) trait AppointmentsTx {
    /// An appointment as it is, without locking it; `None` when there is none.
    async fn read_appointment(
        &mut self,
        appointment_id: AppointmentId,
    ) -> anyhow::Result<Option<Appointment>>;

    /// An appointment, its row locked until the transaction ends (PostgreSQL), so that changes
    /// of one appointment queue behind each other; `None` when there is none. Its resources are
    /// not read.
    async fn lock_appointment(
        &mut self,
        appointment_id: AppointmentId,
    ) -> anyhow::Result<Option<Appointment>>;

    /// Refuses, as `ProviderBusy` naming the first one in the way, a `slot` overlapping an
    /// active appointment of the provider other than `except` (an appointment being moved no
    /// longer holds its time), its time given in `time_zone`. The caller has locked the
    /// provider's row.
    async fn ensure_provider_free(
        &mut self,
        provider_id: ProviderId,
        slot: &AppointmentSlot,
        except: Option<AppointmentId>,
        time_zone: Tz,
    ) -> Result<(), SchedulingError>;

    /// Writes a scheduled appointment with a fresh random confirmation code. `Attempt::Lost`
    /// when the code is already in use: the whole attempt then runs again with another one.
    async fn insert_appointment(
        &mut self,
        appointment: &AppointmentInsert<'_>,
    ) -> Result<(), Attempt<SchedulingError>>;

    /// Moves `appointment` into `status` and records the change in its history; returns it as
    /// it now is.
    async fn enter_status(
        &mut self,
        appointment: Appointment,
        status: AppointmentStatus,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Appointment>;

    /// Takes a cancelled appointment's patient out of the queue, if they are in it; returns the
    /// change to announce once committed.
    async fn leave_queue(
        &mut self,
        appointment_id: AppointmentId,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<QueueChange>>;

    /// The resources the replacement of a rescheduled appointment holds over `slot`: what its
    /// type needs, keeping the old resources when they are free; without a type, exactly the
    /// resources the old appointment held.
    async fn replacement_resources(
        &mut self,
        current: &Appointment,
        slot: &AppointmentSlot,
        time_zone: Tz,
    ) -> Result<Vec<ResourceId>, SchedulingError>;
}

for_each_backend! {
    impl AppointmentsTx for Conn {
        async fn read_appointment(
            &mut self,
            appointment_id: AppointmentId,
        ) -> anyhow::Result<Option<Appointment>> {
            let row: Option<AppointmentRow> = sqlx::query_as(SELECT_APPOINTMENT)
                .bind(appointment_id.to_string())
                .fetch_optional(&mut *self)
                .await
                .context("failed to read an appointment")?;
            row.map(AppointmentRow::into_appointment).transpose()
        }

        async fn lock_appointment(
            &mut self,
            appointment_id: AppointmentId,
        ) -> anyhow::Result<Option<Appointment>> {
            let row: Option<AppointmentRow> =
                sqlx::query_as(Conn::pick(SELECT_APPOINTMENT, LOCK_APPOINTMENT))
                    .bind(appointment_id.to_string())
                    .fetch_optional(&mut *self)
                    .await
                    .context("failed to lock an appointment")?;
            row.map(AppointmentRow::into_appointment).transpose()
        }

        async fn ensure_provider_free(
            &mut self,
            provider_id: ProviderId,
            slot: &AppointmentSlot,
            except: Option<AppointmentId>,
            time_zone: Tz,
        ) -> Result<(), SchedulingError> {
            let clash: Option<(String, DateTime<Utc>, DateTime<Utc>)> =
                sqlx::query_as(PROVIDER_CLASH)
                    .bind(provider_id.to_string())
                    .bind(slot.start())
                    .bind(slot.end())
                    .bind(except.map(|id| id.to_string()))
                    .fetch_optional(&mut *self)
                    .await
                    .context("failed to check for overlapping appointments")?;
            let Some((appointment_id, start, end)) = clash else {
                return Ok(());
            };
            let appointment_id = AppointmentId::parse(&appointment_id)
                .context("appointments holds a malformed appointment id")?;
            Err(SchedulingError::ProviderBusy {
                appointment_id,
                start,
                end,
                zone: time_zone,
            })
        }

        async fn insert_appointment(
            &mut self,
            appointment: &AppointmentInsert<'_>,
        ) -> Result<(), Attempt<SchedulingError>> {
            let inserted = sqlx::query(
                "INSERT INTO appointments (appointment_id, patient_id, patient_initials, \
                 provider_id, start_at, end_at, status, price_code, reason, \
                 confirmation_code, late_cancellation, created_at, updated_at, \
                 rescheduled_from_appointment_id, appointment_type_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11, $11, $12, $13)",
            )
            .bind(appointment.appointment_id.to_string())
            .bind(appointment.patient_id.to_string())
            .bind(appointment.initials.as_str())
            .bind(appointment.provider_id.to_string())
            .bind(appointment.slot.start())
            .bind(appointment.slot.end())
            .bind(AppointmentStatus::Scheduled.as_str())
            .bind(appointment.price_code.map(PriceCode::as_str))
            .bind(appointment.reason.map(Note::as_str))
            .bind(ConfirmationCode::generate().as_str())
            .bind(appointment.created_at)
            .bind(appointment.rescheduled_from.map(|id| id.to_string()))
            .bind(appointment.appointment_type_id.map(|id| id.to_string()))
            .execute(&mut *self)
            .await;
            match inserted {
                // SQLite names the column, PostgreSQL the index.
                Err(error)
                    if is_unique_violation(&error, "appointments_confirmation_code")
                        || is_unique_violation(&error, "appointments.confirmation_code") =>
                {
                    Err(Attempt::Lost)
                }
                other => {
                    other.context("failed to insert an appointment")?;
                    Ok(())
                }
            }
        }

        async fn enter_status(
            &mut self,
            appointment: Appointment,
            status: AppointmentStatus,
            caller: &Caller,
            now: DateTime<Utc>,
        ) -> anyhow::Result<Appointment> {
            sqlx::query(
                "UPDATE appointments SET status = $2, updated_at = $3 WHERE appointment_id = $1",
            )
            .bind(appointment.appointment_id.to_string())
            .bind(status.as_str())
            .bind(now)
            .execute(&mut *self)
            .await
            .context("failed to change an appointment's status")?;
            self.record_status(appointment.appointment_id, status, caller, now)
                .await?;
            Ok(Appointment {
                status,
                updated_at: now,
                ..appointment
            })
        }

        async fn leave_queue(
            &mut self,
            appointment_id: AppointmentId,
            caller: &Caller,
            now: DateTime<Utc>,
        ) -> anyhow::Result<Option<QueueChange>> {
            let left: Option<(String, chrono::NaiveDate)> = sqlx::query_as(
                "UPDATE queue_entries SET status = 'left', updated_at = $2 \
                 WHERE appointment_id = $1 AND status <> 'left' \
                 RETURNING queue_entry_id, queue_day",
            )
            .bind(appointment_id.to_string())
            .bind(now)
            .fetch_optional(&mut *self)
            .await
            .context("failed to take a cancelled appointment out of the queue")?;
            let Some((queue_entry_id, day)) = left else {
                return Ok(None);
            };
            let queue_entry_id =
                QueueEntryId::parse(&queue_entry_id).context("queue_entries holds a malformed id")?;
            self.record_queue_status(queue_entry_id, QueueEntryStatus::Left, caller, now)
                .await?;
            Ok(Some(QueueChange {
                day,
                queue_entry_id,
            }))
        }

        async fn replacement_resources(
            &mut self,
            current: &Appointment,
            slot: &AppointmentSlot,
            time_zone: Tz,
        ) -> Result<Vec<ResourceId>, SchedulingError> {
            let old_resources = self.held_resources(current.appointment_id).await?;
            let needs = match current.appointment_type_id {
                Some(type_id) => ResourceNeeds {
                    requirements: self.type_requirements(type_id).await?,
                    chosen: Vec::new(),
                },
                None => ResourceNeeds {
                    requirements: Vec::new(),
                    chosen: old_resources.clone(),
                },
            };
            self.assign_resources(
                &needs,
                &old_resources,
                slot,
                time_zone,
                Some(current.appointment_id),
            )
            .await
        }
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
