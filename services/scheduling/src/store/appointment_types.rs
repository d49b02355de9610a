//! Appointment types: adding, reading, listing, changing and (softly) deleting them.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::db::{Connection, is_unique_violation};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::{SchedulingStore, sql_offset};
use crate::domain::{
    AppointmentType, AppointmentTypeId, NewAppointmentType, PriceCode, SchedulingError,
    TypeDetails, TypeName, VisitLength,
};

/// The idempotency-key operation name for adding a type.
const CREATE_APPOINTMENT_TYPE: &str = "create_appointment_type";

/// The columns `AppointmentTypeRow` reads, as a literal so queries stay `&'static str`.
macro_rules! type_columns {
    () => {
        "appointment_type_id, name, duration_minutes, price_code, needs_xray, created_at, \
         updated_at, deleted_at"
    };
}

const SELECT_TYPE: &str = concat!(
    "SELECT ",
    type_columns!(),
    " FROM appointment_types WHERE appointment_type_id = $1"
);

/// [`SELECT_TYPE`], locking the row until the transaction ends (PostgreSQL).
const LOCK_TYPE: &str = concat!(
    "SELECT ",
    type_columns!(),
    " FROM appointment_types WHERE appointment_type_id = $1 FOR UPDATE"
);

/// Whether `error` is a second live type with the same name. SQLite names the column,
/// PostgreSQL the index.
fn name_taken(error: &sqlx::Error) -> bool {
    is_unique_violation(error, "appointment_types_name")
        || is_unique_violation(error, "appointment_types.name")
}

impl SchedulingStore {
    /// Adds an appointment type, or returns the one a first call with the same request id added.
    pub async fn create_appointment_type(
        &self,
        new: &NewAppointmentType,
        now: DateTime<Utc>,
    ) -> Result<AppointmentType, SchedulingError> {
        let fingerprint = new.details.fingerprint();
        let key = IdempotencyKey::new(CREATE_APPOINTMENT_TYPE, &new.request_id, &fingerprint);
        let appointment_type_id = retrying("an appointment type's request id", || {
            self.try_create_appointment_type(new, &key, now)
        })
        .await?;
        self.appointment_type(appointment_type_id)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!("appointment type {appointment_type_id} vanished after insert")
                    .into()
            })
    }

    async fn try_create_appointment_type(
        &self,
        new: &NewAppointmentType,
        key: &IdempotencyKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<AppointmentTypeId, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(appointment_type_id) = tx.earlier_result(key).await? {
                return Ok(appointment_type_id);
            }
            let appointment_type_id = AppointmentTypeId::new();
            let details = &new.details;
            let inserted = sqlx::query(
                "INSERT INTO appointment_types (appointment_type_id, name, duration_minutes, \
                 price_code, needs_xray, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(appointment_type_id.to_string())
            .bind(details.name.as_str())
            .bind(i64::from(details.length.minutes()))
            .bind(details.price_code.as_str())
            .bind(details.needs_xray)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(error) if name_taken(&error) => {
                    return Err(SchedulingError::AppointmentTypeNameTaken.into());
                }
                other => {
                    other.context("failed to insert an appointment type")?;
                }
            }
            tx.claim(key, &appointment_type_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(appointment_type_id)
        })
    }

    pub async fn appointment_type(
        &self,
        appointment_type_id: AppointmentTypeId,
    ) -> Result<Option<AppointmentType>, SchedulingError> {
        let row: Option<AppointmentTypeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_TYPE)
                .bind(appointment_type_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read an appointment type")?;
        Ok(row.map(AppointmentTypeRow::into_type).transpose()?)
    }

    /// Types by name; deleted ones only when asked for.
    pub async fn appointment_types(
        &self,
        show_deleted: bool,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<AppointmentType>, SchedulingError> {
        let rows: Vec<AppointmentTypeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                type_columns!(),
                " FROM appointment_types WHERE ($1 OR deleted_at IS NULL) \
                 ORDER BY name, appointment_type_id LIMIT $2 OFFSET $3"
            ))
            .bind(show_deleted)
            .bind(i64::from(limit))
            .bind(sql_offset(offset))
            .fetch_all(pool)
            .await
        })
        .context("failed to list appointment types")?;
        let mut types = Vec::with_capacity(rows.len());
        for row in rows {
            types.push(row.into_type()?);
        }
        Ok(types)
    }

    /// Replaces a live type's details. Appointments already booked keep their times and price
    /// codes; only new bookings see the change.
    pub async fn update_appointment_type(
        &self,
        appointment_type_id: AppointmentTypeId,
        details: &TypeDetails,
        now: DateTime<Utc>,
    ) -> Result<AppointmentType, SchedulingError> {
        in_transaction!(&self.db, |tx| {
            let current = tx.lock_type(appointment_type_id).await?.ok_or(
                SchedulingError::AppointmentTypeNotFound(appointment_type_id),
            )?;
            if current.deleted_at.is_some() {
                return Err(SchedulingError::AppointmentTypeDeleted(appointment_type_id));
            }
            let updated = sqlx::query(
                "UPDATE appointment_types SET name = $2, duration_minutes = $3, \
                 price_code = $4, needs_xray = $5, updated_at = $6 \
                 WHERE appointment_type_id = $1",
            )
            .bind(appointment_type_id.to_string())
            .bind(details.name.as_str())
            .bind(i64::from(details.length.minutes()))
            .bind(details.price_code.as_str())
            .bind(details.needs_xray)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match updated {
                Err(error) if name_taken(&error) => {
                    return Err(SchedulingError::AppointmentTypeNameTaken);
                }
                other => {
                    other.context("failed to update an appointment type")?;
                }
            }
            Ok::<_, SchedulingError>(AppointmentType {
                details: details.clone(),
                updated_at: now,
                ..current
            })
        })
    }

    /// Deletes a type softly: it stays on record for the appointments booked with it, but new
    /// bookings cannot use it. Deleting a deleted type changes nothing.
    pub async fn delete_appointment_type(
        &self,
        appointment_type_id: AppointmentTypeId,
        now: DateTime<Utc>,
    ) -> Result<AppointmentType, SchedulingError> {
        in_transaction!(&self.db, |tx| {
            let current = tx.lock_type(appointment_type_id).await?.ok_or(
                SchedulingError::AppointmentTypeNotFound(appointment_type_id),
            )?;
            if current.deleted_at.is_some() {
                return Ok(current);
            }
            sqlx::query(
                "UPDATE appointment_types SET deleted_at = $2, updated_at = $2 \
                 WHERE appointment_type_id = $1",
            )
            .bind(appointment_type_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to delete an appointment type")?;
            Ok::<_, SchedulingError>(AppointmentType {
                deleted_at: Some(now),
                updated_at: now,
                ..current
            })
        })
    }
}

/// Appointment types inside a change's transaction.
trait AppointmentTypesTx {
    /// A type, its row locked until the transaction ends (PostgreSQL), so that changes of one
    /// type queue behind each other; `None` when there is none.
    async fn lock_type(
        &mut self,
        appointment_type_id: AppointmentTypeId,
    ) -> anyhow::Result<Option<AppointmentType>>;
}

for_each_backend! {
    impl AppointmentTypesTx for Conn {
        async fn lock_type(
            &mut self,
            appointment_type_id: AppointmentTypeId,
        ) -> anyhow::Result<Option<AppointmentType>> {
            let row: Option<AppointmentTypeRow> = sqlx::query_as(Conn::pick(SELECT_TYPE, LOCK_TYPE))
                .bind(appointment_type_id.to_string())
                .fetch_optional(&mut *self)
                .await
                .context("failed to lock an appointment type")?;
            row.map(AppointmentTypeRow::into_type).transpose()
        }
    }
}

#[derive(sqlx::FromRow)]
struct AppointmentTypeRow {
    appointment_type_id: String,
    name: String,
    duration_minutes: i32,
    price_code: String,
    needs_xray: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl AppointmentTypeRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_type(self) -> anyhow::Result<AppointmentType> {
        let corrupt = |field: &str| {
            anyhow::anyhow!(
                "appointment_types.{field} of {} is corrupt",
                self.appointment_type_id
            )
        };
        Ok(AppointmentType {
            appointment_type_id: AppointmentTypeId::parse(&self.appointment_type_id)
                .map_err(|_| corrupt("appointment_type_id"))?,
            details: TypeDetails {
                name: TypeName::parse(&self.name).map_err(|_| corrupt("name"))?,
                length: VisitLength::parse(self.duration_minutes)
                    .map_err(|_| corrupt("duration_minutes"))?,
                price_code: PriceCode::parse_optional(&self.price_code)
                    .ok()
                    .flatten()
                    .ok_or_else(|| corrupt("price_code"))?,
                needs_xray: self.needs_xray,
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        })
    }
}
