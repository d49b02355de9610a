//! Providers' working hours and the schedule's exceptions, and the availability check bookings
//! make inside their transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clinic_common::auth::Caller;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::ProviderId;
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::providers::ProvidersTx;
use super::{SchedulingStore, active_statuses, sql_offset};
use crate::domain::{
    AppointmentSlot, ExceptionKind, NewScheduleException, Note, ScheduleException,
    ScheduleExceptionId, SchedulingError, WeeklyHours, WorkingInterval, check_availability,
    weekday_from_number,
};

/// The idempotency-key operation name for adding an exception.
const ADD_SCHEDULE_EXCEPTION: &str = "add_schedule_exception";

/// The columns `ExceptionRow` reads, as a literal so queries stay `&'static str`.
macro_rules! exception_columns {
    () => {
        "schedule_exception_id, provider_id, start_at, end_at, kind, note, created_at, created_by"
    };
}

/// A provider's working hours as `(weekday, start_minute, end_minute)` rows.
const SELECT_HOURS: &str = "SELECT weekday, start_minute, end_minute FROM working_hours \
     WHERE provider_id = $1 ORDER BY weekday, start_minute";

impl SchedulingStore {
    /// Replaces a provider's whole working week. Bookings of the provider take turns with this
    /// (the provider's row is locked first), so none is checked against half-written hours.
    pub async fn set_working_hours(
        &self,
        provider_id: ProviderId,
        hours: &WeeklyHours,
    ) -> Result<WeeklyHours, SchedulingError> {
        in_transaction!(&self.db, |tx| {
            if !tx.lock_provider(provider_id).await? {
                return Err(SchedulingError::ProviderNotFound(provider_id));
            }
            sqlx::query("DELETE FROM working_hours WHERE provider_id = $1")
                .bind(provider_id.to_string())
                .execute(&mut *tx)
                .await
                .context("failed to clear working hours")?;
            for interval in hours.intervals() {
                sqlx::query(
                    "INSERT INTO working_hours (provider_id, weekday, start_minute, end_minute) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(provider_id.to_string())
                .bind(i32::try_from(interval.weekday().number_from_monday()).unwrap_or(0))
                .bind(i32::from(interval.start_minute()))
                .bind(i32::from(interval.end_minute()))
                .execute(&mut *tx)
                .await
                .context("failed to insert working hours")?;
            }
            Ok::<_, SchedulingError>(())
        })?;
        Ok(hours.clone())
    }

    /// Whether a provider is working at `at`: inside their hours (or without hours, like a
    /// booking) and on no exception covering them or the clinic.
    pub async fn on_duty(
        &self,
        provider_id: ProviderId,
        at: DateTime<Utc>,
        time_zone: Tz,
    ) -> Result<bool, SchedulingError> {
        let hours = self.working_hours(provider_id).await?;
        let minute = at.timestamp() - at.timestamp().rem_euclid(60);
        let start = DateTime::from_timestamp(minute, 0).unwrap_or(at);
        let Some(slot) = AppointmentSlot::stored(start, start + chrono::TimeDelta::minutes(1))
        else {
            return Ok(false);
        };
        let exceptions = self
            .schedule_exceptions((slot.start(), slot.end()), Some(provider_id), 50, 0)
            .await?;
        Ok(check_availability(&slot, &hours, &exceptions, time_zone).is_ok())
    }

    /// A provider's working week; empty when none is defined.
    pub async fn working_hours(
        &self,
        provider_id: ProviderId,
    ) -> Result<WeeklyHours, SchedulingError> {
        if self.provider(provider_id).await?.is_none() {
            return Err(SchedulingError::ProviderNotFound(provider_id));
        }
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_HOURS)
                .bind(provider_id.to_string())
                .fetch_all(pool)
                .await
        })
        .context("failed to read working hours")?;
        Ok(weekly_hours(rows)?)
    }

    /// Adds an exception, or returns the one a first call with the same request id added.
    pub async fn add_schedule_exception(
        &self,
        new: &NewScheduleException,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<ScheduleException, SchedulingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(ADD_SCHEDULE_EXCEPTION, &new.request_id, &fingerprint);
        let exception_id = retrying("a schedule exception's request id", || {
            self.try_add_schedule_exception(new, &key, caller, now)
        })
        .await?;
        self.schedule_exception(exception_id).await?.ok_or_else(|| {
            anyhow::anyhow!("schedule exception {exception_id} vanished after insert").into()
        })
    }

    async fn try_add_schedule_exception(
        &self,
        new: &NewScheduleException,
        key: &IdempotencyKey<'_>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<ScheduleExceptionId, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(exception_id) = tx.earlier_result(key).await? {
                return Ok(exception_id);
            }
            if let Some(provider_id) = new.provider_id {
                let provider: Option<String> =
                    sqlx::query_scalar("SELECT provider_id FROM providers WHERE provider_id = $1")
                        .bind(provider_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .context("failed to read a provider")?;
                if provider.is_none() {
                    return Err(SchedulingError::ProviderNotFound(provider_id).into());
                }
            }
            let exception_id = ScheduleExceptionId::new();
            sqlx::query(
                "INSERT INTO schedule_exceptions (schedule_exception_id, provider_id, \
                 start_at, end_at, kind, note, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(exception_id.to_string())
            .bind(new.provider_id.map(|id| id.to_string()))
            .bind(new.span.start())
            .bind(new.span.end())
            .bind(new.kind.as_str())
            .bind(new.note.as_ref().map(Note::as_str))
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *tx)
            .await
            .context("failed to insert a schedule exception")?;
            tx.claim(key, &exception_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(exception_id)
        })
    }

    pub async fn schedule_exception(
        &self,
        exception_id: ScheduleExceptionId,
    ) -> Result<Option<ScheduleException>, SchedulingError> {
        let row: Option<ExceptionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                exception_columns!(),
                " FROM schedule_exceptions WHERE schedule_exception_id = $1"
            ))
            .bind(exception_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a schedule exception")?;
        Ok(row.map(ExceptionRow::into_exception).transpose()?)
    }

    /// Exceptions overlapping `[from, until)` by start; with a provider, only those covering
    /// that provider (their own and the clinic's).
    pub async fn schedule_exceptions(
        &self,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        provider_id: Option<ProviderId>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<ScheduleException>, SchedulingError> {
        let rows: Vec<ExceptionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                exception_columns!(),
                " FROM schedule_exceptions WHERE start_at < $2 AND end_at > $1 \
                 AND ($3 IS NULL OR provider_id = $3 OR provider_id IS NULL) \
                 ORDER BY start_at, schedule_exception_id LIMIT $4 OFFSET $5"
            ))
            .bind(from)
            .bind(until)
            .bind(provider_id.map(|id| id.to_string()))
            .bind(i64::from(limit))
            .bind(sql_offset(offset))
            .fetch_all(pool)
            .await
        })
        .context("failed to list schedule exceptions")?;
        let mut exceptions = Vec::with_capacity(rows.len());
        for row in rows {
            exceptions.push(row.into_exception()?);
        }
        Ok(exceptions)
    }

    /// The providers who have working hours defined, by id.
    pub async fn providers_with_hours(&self) -> Result<Vec<ProviderId>, SchedulingError> {
        let rows: Vec<String> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT DISTINCT provider_id FROM working_hours ORDER BY provider_id",
            )
            .fetch_all(pool)
            .await
        })
        .context("failed to list providers with hours")?;
        let mut providers = Vec::with_capacity(rows.len());
        for row in rows {
            providers.push(
                ProviderId::parse(&row).context("working_hours holds a malformed provider id")?,
            );
        }
        Ok(providers)
    }

    /// What takes a provider's time within `[from, until)`: the exceptions covering them or the
    /// clinic, and their active appointments, as spans in no particular order.
    pub async fn blocked_times(
        &self,
        provider_id: ProviderId,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, SchedulingError> {
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT start_at, end_at FROM schedule_exceptions \
                 WHERE (provider_id = $1 OR provider_id IS NULL) \
                 AND start_at < $3 AND end_at > $2 \
                 UNION ALL \
                 SELECT start_at, end_at FROM appointments \
                 WHERE provider_id = $1 AND status IN ",
                active_statuses!(),
                " AND start_at < $3 AND end_at > $2"
            ))
            .bind(provider_id.to_string())
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await
        })
        .context("failed to read a provider's blocked times")?;
        Ok(rows)
    }

    /// Deletes an exception and returns it as it was.
    pub async fn delete_schedule_exception(
        &self,
        exception_id: ScheduleExceptionId,
    ) -> Result<ScheduleException, SchedulingError> {
        let row: Option<ExceptionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "DELETE FROM schedule_exceptions WHERE schedule_exception_id = $1 RETURNING ",
                exception_columns!()
            ))
            .bind(exception_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to delete a schedule exception")?;
        row.ok_or(SchedulingError::ScheduleExceptionNotFound(exception_id))?
            .into_exception()
            .map_err(SchedulingError::from)
    }
}

/// The availability check bookings make inside their transaction.
pub(crate) trait HoursTx {
    /// A provider's working week; empty when none is defined.
    async fn provider_hours(&mut self, provider_id: ProviderId) -> anyhow::Result<WeeklyHours>;

    /// Refuses, as `ProviderUnavailable`, a `slot` outside `provider_id`'s working hours or on
    /// an exception covering the provider or the clinic, read in the clinic's `time_zone`. The
    /// caller has locked the provider's row, so the hours cannot change underneath.
    async fn ensure_available(
        &mut self,
        provider_id: ProviderId,
        slot: &AppointmentSlot,
        time_zone: Tz,
    ) -> Result<(), SchedulingError>;
}

for_each_backend! {
    impl HoursTx for Conn {
        async fn provider_hours(&mut self, provider_id: ProviderId) -> anyhow::Result<WeeklyHours> {
            let rows = sqlx::query_as(SELECT_HOURS)
                .bind(provider_id.to_string())
                .fetch_all(&mut *self)
                .await
                .context("failed to read working hours")?;
            weekly_hours(rows)
        }

        async fn ensure_available(
            &mut self,
            provider_id: ProviderId,
            slot: &AppointmentSlot,
            time_zone: Tz,
        ) -> Result<(), SchedulingError> {
            let hours = self.provider_hours(provider_id).await?;
            // No hours defined: bookable at any time, exceptions or not (see `check_availability`).
            if hours.is_empty() {
                return Ok(());
            }
            let rows: Vec<ExceptionRow> = sqlx::query_as(concat!(
                "SELECT ",
                exception_columns!(),
                " FROM schedule_exceptions \
                 WHERE (provider_id = $1 OR provider_id IS NULL) \
                 AND start_at < $3 AND end_at > $2 \
                 ORDER BY start_at, schedule_exception_id"
            ))
            .bind(provider_id.to_string())
            .bind(slot.start())
            .bind(slot.end())
            .fetch_all(&mut *self)
            .await
            .context("failed to read schedule exceptions")?;
            let mut exceptions = Vec::with_capacity(rows.len());
            for row in rows {
                exceptions.push(row.into_exception()?);
            }
            let Err(reason) = check_availability(slot, &hours, &exceptions, time_zone) else {
                return Ok(());
            };
            let provider: String =
                sqlx::query_scalar("SELECT display_name FROM providers WHERE provider_id = $1")
                    .bind(provider_id.to_string())
                    .fetch_one(&mut *self)
                    .await
                    .context("failed to read a provider's name")?;
            Err(SchedulingError::ProviderUnavailable { provider, reason })
        }
    }
}

/// A provider's week from its stored rows, which were validated on the way in; a row that no
/// longer parses is corrupt data.
pub(crate) fn weekly_hours(rows: Vec<(i32, i32, i32)>) -> anyhow::Result<WeeklyHours> {
    let mut intervals = Vec::with_capacity(rows.len());
    for (weekday, start_minute, end_minute) in rows {
        let corrupt = || anyhow::anyhow!("working_hours holds a corrupt row");
        let weekday = u32::try_from(weekday)
            .ok()
            .and_then(weekday_from_number)
            .ok_or_else(corrupt)?;
        let start_minute = u16::try_from(start_minute).map_err(|_| corrupt())?;
        let end_minute = u16::try_from(end_minute).map_err(|_| corrupt())?;
        intervals
            .push(WorkingInterval::new(weekday, start_minute, end_minute).map_err(|_| corrupt())?);
    }
    WeeklyHours::new(intervals).map_err(|_| anyhow::anyhow!("working_hours rows overlap"))
}

#[derive(sqlx::FromRow)]
struct ExceptionRow {
    schedule_exception_id: String,
    provider_id: Option<String>,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    kind: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
}

impl ExceptionRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_exception(self) -> anyhow::Result<ScheduleException> {
        let corrupt = |field: &str| {
            anyhow::anyhow!(
                "schedule_exceptions.{field} of {} is corrupt",
                self.schedule_exception_id
            )
        };
        let provider_id = match &self.provider_id {
            Some(text) => Some(ProviderId::parse(text).map_err(|_| corrupt("provider_id"))?),
            None => None,
        };
        let note = match &self.note {
            Some(text) => Some(Note::parse(text).map_err(|_| corrupt("note"))?),
            None => None,
        };
        Ok(ScheduleException {
            schedule_exception_id: ScheduleExceptionId::parse(&self.schedule_exception_id)
                .map_err(|_| corrupt("schedule_exception_id"))?,
            provider_id,
            start: self.start_at,
            end: self.end_at,
            kind: ExceptionKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            note,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}
