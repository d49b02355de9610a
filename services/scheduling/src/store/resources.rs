//! Chairs, rooms and equipment: the resources themselves, their hours and exceptions, what each
//! appointment type needs, and the assignment bookings make inside their transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clinic_common::auth::Caller;
use clinic_common::db::Connection;
use clinic_common::db::is_unique_violation;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::AppointmentId;
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::hours::weekly_hours;
use super::{SchedulingStore, active_statuses, sql_offset};
use crate::domain::{
    Appointment, AppointmentSlot, AppointmentTypeId, Candidate, Closure, DisplayName,
    ExceptionKind, NewResource, NewResourceException, Note, Obstacle, Resource, ResourceCalendar,
    ResourceError, ResourceException, ResourceExceptionId, ResourceId, ResourceKind, ResourceNeeds,
    ResourceRequirement, ResourceUpdate, SchedulingError, WeeklyHours, assign,
    resource_availability,
};

/// The idempotency-key operation names.
const CREATE_RESOURCE: &str = "create_resource";
const ADD_RESOURCE_EXCEPTION: &str = "add_resource_exception";

/// The most exceptions one listing returns.
const MAX_EXCEPTIONS_LISTED: i64 = 500;

/// The columns `ResourceRow` reads.
macro_rules! resource_columns {
    () => {
        "resource_id, display_name, kind, in_service, created_at, updated_at"
    };
}

/// The columns `ResourceExceptionRow` reads.
macro_rules! resource_exception_columns {
    () => {
        "resource_exception_id, resource_id, start_at, end_at, kind, note, created_at, created_by"
    };
}

/// Locks, in resource id order, every resource of the kinds flagged by `$1` (chairs), `$2`
/// (rooms) and `$3` (equipment). Every booking locks its provider's row first and then its
/// resources in this one statement, in one global order, so two bookings can never each hold
/// what the other waits for.
const LOCK_RESOURCES: &str = "SELECT resource_id, display_name, kind, in_service \
     FROM resources WHERE (kind = 'chair' AND $1) OR (kind = 'room' AND $2) \
     OR (kind = 'equipment' AND $3) ORDER BY resource_id FOR UPDATE";
/// [`LOCK_RESOURCES`] without the lock: for SQLite, whose writers already take turns, and for
/// reads outside a booking.
const READ_RESOURCES: &str = "SELECT resource_id, display_name, kind, in_service \
     FROM resources WHERE (kind = 'chair' AND $1) OR (kind = 'room' AND $2) \
     OR (kind = 'equipment' AND $3) ORDER BY resource_id";

/// The first active appointment holding resource `$1` overlapping `[$2, $3)`, other than `$4`.
const RESOURCE_CLASH: &str = concat!(
    "SELECT a.appointment_id, a.start_at, a.end_at FROM appointment_resources r \
     JOIN appointments a ON a.appointment_id = r.appointment_id \
     WHERE r.resource_id = $1 AND a.status IN ",
    active_statuses!(),
    " AND a.start_at < $3 AND a.end_at > $2 \
     AND ($4 IS NULL OR a.appointment_id <> $4) \
     ORDER BY a.start_at, a.appointment_id LIMIT 1"
);

/// A resource's week as `(weekday, start_minute, end_minute)` rows.
const SELECT_RESOURCE_HOURS: &str = "SELECT weekday, start_minute, end_minute \
     FROM resource_hours WHERE resource_id = $1 ORDER BY weekday, start_minute";

/// What an appointment type needs, as `(kind, resource_id)` rows in the order given.
const SELECT_REQUIREMENTS: &str = "SELECT kind, resource_id FROM appointment_type_resources \
     WHERE appointment_type_id = $1 ORDER BY position";

/// A resource's exceptions and the clinic's overlapping `[$2, $3)`, as `(start, end, kind,
/// clinic_wide)` with `clinic_wide` 0 or 1.
const RESOURCE_EXCEPTIONS_SQL: &str = "SELECT start_at, end_at, kind, 0 AS clinic_wide \
     FROM resource_exceptions WHERE resource_id = $1 AND start_at < $3 AND end_at > $2 \
     UNION ALL SELECT start_at, end_at, kind, 1 AS clinic_wide FROM schedule_exceptions \
     WHERE provider_id IS NULL AND start_at < $3 AND end_at > $2";

impl SchedulingStore {
    /// Adds a resource, or returns the one a first call with the same request id added.
    pub async fn create_resource(
        &self,
        new: &NewResource,
        now: DateTime<Utc>,
    ) -> Result<Resource, SchedulingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(CREATE_RESOURCE, &new.request_id, &fingerprint);
        let resource_id = retrying("a resource's request id", || {
            self.try_create_resource(new, &key, now)
        })
        .await?;
        self.resource(resource_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("resource {resource_id} vanished after insert").into())
    }

    async fn try_create_resource(
        &self,
        new: &NewResource,
        key: &IdempotencyKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<ResourceId, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(resource_id) = tx.earlier_result(key).await? {
                return Ok(resource_id);
            }
            let resource_id = ResourceId::new();
            let inserted = sqlx::query(
                "INSERT INTO resources (resource_id, display_name, kind, in_service, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(resource_id.to_string())
            .bind(new.display_name.as_str())
            .bind(new.kind.as_str())
            .bind(new.in_service)
            .bind(now)
            .execute(&mut *tx)
            .await;
            if let Err(error) = &inserted
                && name_taken(error)
            {
                return Err(SchedulingError::from(ResourceError::NameTaken).into());
            }
            inserted.context("failed to insert a resource")?;
            tx.claim(key, &resource_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(resource_id)
        })
    }

    pub async fn resource(
        &self,
        resource_id: ResourceId,
    ) -> Result<Option<Resource>, SchedulingError> {
        let row: Option<ResourceRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                resource_columns!(),
                " FROM resources WHERE resource_id = $1"
            ))
            .bind(resource_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a resource")?;
        Ok(row.map(ResourceRow::into_resource).transpose()?)
    }

    /// Resources by name, optionally of one kind.
    pub async fn resources(
        &self,
        kind: Option<ResourceKind>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Resource>, SchedulingError> {
        let rows: Vec<ResourceRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                resource_columns!(),
                " FROM resources WHERE ($1 IS NULL OR kind = $1) \
                 ORDER BY display_name, resource_id LIMIT $2 OFFSET $3"
            ))
            .bind(kind.map(|kind| kind.as_str()))
            .bind(i64::from(limit))
            .bind(sql_offset(offset))
            .fetch_all(pool)
            .await
        })
        .context("failed to list resources")?;
        rows.into_iter()
            .map(|row| row.into_resource().map_err(SchedulingError::from))
            .collect()
    }

    /// Renames a resource or takes it in or out of service.
    pub async fn update_resource(
        &self,
        update: &ResourceUpdate,
        now: DateTime<Utc>,
    ) -> Result<Resource, SchedulingError> {
        let updated: Result<Option<ResourceRow>, sqlx::Error> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "UPDATE resources SET display_name = $2, in_service = $3, updated_at = $4 \
                 WHERE resource_id = $1 RETURNING ",
                resource_columns!()
            ))
            .bind(update.resource_id.to_string())
            .bind(update.display_name.as_str())
            .bind(update.in_service)
            .bind(now)
            .fetch_optional(pool)
            .await
        });
        if let Err(error) = &updated
            && name_taken(error)
        {
            return Err(ResourceError::NameTaken.into());
        }
        updated
            .context("failed to update a resource")?
            .ok_or(ResourceError::NotFound(update.resource_id))?
            .into_resource()
            .map_err(SchedulingError::from)
    }

    /// Replaces a resource's week. Bookings that may use the resource take turns with this
    /// (its row is locked), so none is checked against half-written hours.
    pub async fn set_resource_hours(
        &self,
        resource_id: ResourceId,
        hours: &WeeklyHours,
    ) -> Result<WeeklyHours, SchedulingError> {
        in_transaction!(&self.db, |tx| {
            if !tx.lock_resource(resource_id).await? {
                return Err(ResourceError::NotFound(resource_id).into());
            }
            sqlx::query("DELETE FROM resource_hours WHERE resource_id = $1")
                .bind(resource_id.to_string())
                .execute(&mut *tx)
                .await
                .context("failed to clear resource hours")?;
            for interval in hours.intervals() {
                sqlx::query(
                    "INSERT INTO resource_hours (resource_id, weekday, start_minute, end_minute) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(resource_id.to_string())
                .bind(i32::try_from(interval.weekday().number_from_monday()).unwrap_or(0))
                .bind(i32::from(interval.start_minute()))
                .bind(i32::from(interval.end_minute()))
                .execute(&mut *tx)
                .await
                .context("failed to insert resource hours")?;
            }
            Ok::<_, SchedulingError>(())
        })?;
        Ok(hours.clone())
    }

    /// A resource's week; empty when none is defined.
    pub async fn resource_hours(
        &self,
        resource_id: ResourceId,
    ) -> Result<WeeklyHours, SchedulingError> {
        if self.resource(resource_id).await?.is_none() {
            return Err(ResourceError::NotFound(resource_id).into());
        }
        let rows: Vec<(i32, i32, i32)> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_RESOURCE_HOURS)
                .bind(resource_id.to_string())
                .fetch_all(pool)
                .await
        })
        .context("failed to read resource hours")?;
        Ok(weekly_hours(rows)?)
    }

    /// Adds a resource exception, or returns the one a first call with the same request id
    /// added.
    pub async fn add_resource_exception(
        &self,
        new: &NewResourceException,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<ResourceException, SchedulingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(ADD_RESOURCE_EXCEPTION, &new.request_id, &fingerprint);
        let exception_id = retrying("a resource exception's request id", || {
            self.try_add_resource_exception(new, &key, caller, now)
        })
        .await?;
        self.resource_exception(exception_id).await?.ok_or_else(|| {
            anyhow::anyhow!("resource exception {exception_id} vanished after insert").into()
        })
    }

    async fn try_add_resource_exception(
        &self,
        new: &NewResourceException,
        key: &IdempotencyKey<'_>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<ResourceExceptionId, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(exception_id) = tx.earlier_result(key).await? {
                return Ok(exception_id);
            }
            let found: Option<String> =
                sqlx::query_scalar("SELECT resource_id FROM resources WHERE resource_id = $1")
                    .bind(new.resource_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to read a resource")?;
            if found.is_none() {
                return Err(SchedulingError::from(ResourceError::NotFound(new.resource_id)).into());
            }
            let exception_id = ResourceExceptionId::new();
            sqlx::query(
                "INSERT INTO resource_exceptions (resource_exception_id, resource_id, \
                 start_at, end_at, kind, note, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(exception_id.to_string())
            .bind(new.resource_id.to_string())
            .bind(new.span.start())
            .bind(new.span.end())
            .bind(new.kind.as_str())
            .bind(new.note.as_ref().map(Note::as_str))
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *tx)
            .await
            .context("failed to insert a resource exception")?;
            tx.claim(key, &exception_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(exception_id)
        })
    }

    pub async fn resource_exception(
        &self,
        exception_id: ResourceExceptionId,
    ) -> Result<Option<ResourceException>, SchedulingError> {
        let row: Option<ResourceExceptionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                resource_exception_columns!(),
                " FROM resource_exceptions WHERE resource_exception_id = $1"
            ))
            .bind(exception_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a resource exception")?;
        Ok(row.map(ResourceExceptionRow::into_exception).transpose()?)
    }

    /// A resource's exceptions overlapping `[from, until)`, by start.
    pub async fn resource_exceptions(
        &self,
        resource_id: ResourceId,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<ResourceException>, SchedulingError> {
        if self.resource(resource_id).await?.is_none() {
            return Err(ResourceError::NotFound(resource_id).into());
        }
        let rows: Vec<ResourceExceptionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                resource_exception_columns!(),
                " FROM resource_exceptions WHERE resource_id = $1 \
                 AND start_at < $3 AND end_at > $2 \
                 ORDER BY start_at, resource_exception_id LIMIT $4"
            ))
            .bind(resource_id.to_string())
            .bind(from)
            .bind(until)
            .bind(MAX_EXCEPTIONS_LISTED)
            .fetch_all(pool)
            .await
        })
        .context("failed to list resource exceptions")?;
        rows.into_iter()
            .map(|row| row.into_exception().map_err(SchedulingError::from))
            .collect()
    }

    /// Deletes a resource exception and returns it as it was.
    pub async fn delete_resource_exception(
        &self,
        exception_id: ResourceExceptionId,
    ) -> Result<ResourceException, SchedulingError> {
        let row: Option<ResourceExceptionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "DELETE FROM resource_exceptions WHERE resource_exception_id = $1 RETURNING ",
                resource_exception_columns!()
            ))
            .bind(exception_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to delete a resource exception")?;
        row.ok_or(ResourceError::ExceptionNotFound(exception_id))?
            .into_exception()
            .map_err(SchedulingError::from)
    }

    /// Replaces what an appointment type needs. The type must exist and not be deleted; every
    /// named resource must exist and be of the kind required.
    pub async fn set_type_requirements(
        &self,
        appointment_type_id: AppointmentTypeId,
        requirements: &[ResourceRequirement],
    ) -> Result<Vec<ResourceRequirement>, SchedulingError> {
        in_transaction!(&self.db, |tx| {
            let deleted: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
                "SELECT deleted_at FROM appointment_types WHERE appointment_type_id = $1",
            )
            .bind(appointment_type_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .context("failed to read an appointment type")?;
            match deleted {
                None => {
                    return Err(SchedulingError::AppointmentTypeNotFound(
                        appointment_type_id,
                    ));
                }
                Some(Some(_)) => {
                    return Err(SchedulingError::AppointmentTypeDeleted(appointment_type_id));
                }
                Some(None) => {}
            }
            for requirement in requirements {
                if let Some(resource_id) = requirement.resource_id {
                    let kind: Option<String> =
                        sqlx::query_scalar("SELECT kind FROM resources WHERE resource_id = $1")
                            .bind(resource_id.to_string())
                            .fetch_optional(&mut *tx)
                            .await
                            .context("failed to read a resource")?;
                    match kind.as_deref().and_then(ResourceKind::parse) {
                        None => return Err(ResourceError::UnknownRequirement(resource_id).into()),
                        Some(kind) if kind != requirement.kind => {
                            return Err(ResourceError::WrongKind(resource_id).into());
                        }
                        Some(_) => {}
                    }
                }
            }
            sqlx::query("DELETE FROM appointment_type_resources WHERE appointment_type_id = $1")
                .bind(appointment_type_id.to_string())
                .execute(&mut *tx)
                .await
                .context("failed to clear an appointment type's resources")?;
            for (position, requirement) in requirements.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO appointment_type_resources \
                     (appointment_type_id, position, kind, resource_id) VALUES ($1, $2, $3, $4)",
                )
                .bind(appointment_type_id.to_string())
                .bind(i32::try_from(position).unwrap_or(i32::MAX))
                .bind(requirement.kind.as_str())
                .bind(requirement.resource_id.map(|id| id.to_string()))
                .execute(&mut *tx)
                .await
                .context("failed to insert an appointment type's resource")?;
            }
            Ok::<_, SchedulingError>(())
        })?;
        Ok(requirements.to_vec())
    }

    /// What an appointment type needs, in the order given; NOT_FOUND for an unknown type.
    pub async fn type_requirements(
        &self,
        appointment_type_id: AppointmentTypeId,
    ) -> Result<Vec<ResourceRequirement>, SchedulingError> {
        if self.appointment_type(appointment_type_id).await?.is_none() {
            return Err(SchedulingError::AppointmentTypeNotFound(
                appointment_type_id,
            ));
        }
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_REQUIREMENTS)
                .bind(appointment_type_id.to_string())
                .fetch_all(pool)
                .await
        })
        .context("failed to read an appointment type's resources")?;
        Ok(requirements_from_rows(rows)?)
    }

    /// Fills in the resources each appointment holds.
    pub async fn attach_resources(
        &self,
        appointments: &mut [Appointment],
    ) -> Result<(), SchedulingError> {
        if appointments.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=appointments.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT appointment_id, resource_id FROM appointment_resources \
             WHERE appointment_id IN ({}) ORDER BY appointment_id, resource_id",
            placeholders.join(", ")
        );
        let ids: Vec<String> = appointments
            .iter()
            .map(|appointment| appointment.appointment_id.to_string())
            .collect();
        let rows: Vec<(String, String)> = with_db!(&self.db, |pool| {
            // Built only from numbered placeholders; the ids are bound.
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in &ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await
        })
        .context("failed to read appointments' resources")?;
        for (appointment_id, resource_id) in rows {
            let resource_id = ResourceId::parse(&resource_id)
                .map_err(anyhow::Error::msg)
                .context("appointment_resources holds a malformed resource id")?;
            if let Some(appointment) = appointments
                .iter_mut()
                .find(|appointment| appointment.appointment_id.to_string() == appointment_id)
            {
                appointment.resource_ids.push(resource_id);
            }
        }
        Ok(())
    }

    /// What is known of every resource of `kinds` over `[from, until)`, to find free slots.
    pub async fn resource_calendars(
        &self,
        kinds: [bool; 3],
        (from, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<ResourceCalendar>, SchedulingError> {
        let [chairs, rooms, equipment] = kinds;
        let rows: Vec<(String, String, String, bool)> = with_db!(&self.db, |pool| {
            sqlx::query_as(READ_RESOURCES)
                .bind(chairs)
                .bind(rooms)
                .bind(equipment)
                .fetch_all(pool)
                .await
        })
        .context("failed to read resources")?;
        let mut calendars = Vec::with_capacity(rows.len());
        for (id, name, kind, in_service) in rows {
            let resource_id = ResourceId::parse(&id)
                .map_err(anyhow::Error::msg)
                .context("resources holds a malformed id")?;
            let hours = self.resource_hours(resource_id).await?;
            let (exceptions, busy) = with_db!(&self.db, |pool| {
                let exceptions: Vec<(DateTime<Utc>, DateTime<Utc>, String, i32)> =
                    sqlx::query_as(RESOURCE_EXCEPTIONS_SQL)
                        .bind(&id)
                        .bind(from)
                        .bind(until)
                        .fetch_all(pool)
                        .await
                        .context("failed to read resource exceptions")?;
                let busy: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(concat!(
                    "SELECT a.appointment_id, a.start_at, a.end_at FROM appointment_resources r \
                     JOIN appointments a ON a.appointment_id = r.appointment_id \
                     WHERE r.resource_id = $1 AND a.status IN ",
                    active_statuses!(),
                    " AND a.start_at < $3 AND a.end_at > $2"
                ))
                .bind(&id)
                .bind(from)
                .bind(until)
                .fetch_all(pool)
                .await
                .context("failed to read a resource's appointments")?;
                Ok::<_, anyhow::Error>((exceptions, busy))
            })?;
            let mut held = Vec::with_capacity(busy.len());
            for (appointment_id, start, end) in busy {
                held.push((
                    AppointmentId::parse(&appointment_id)
                        .context("appointments holds a malformed id")?,
                    start,
                    end,
                ));
            }
            calendars.push(ResourceCalendar {
                resource_id,
                name,
                kind: ResourceKind::parse(&kind)
                    .ok_or_else(|| anyhow::anyhow!("resources holds a corrupt kind"))?,
                in_service,
                hours,
                exceptions: exception_spans(exceptions)?,
                busy: held,
            });
        }
        Ok(calendars)
    }
}

/// Resources inside a booking's (or a reschedule's) transaction.
pub(crate) trait ResourcesTx {
    /// Chooses the resources a booking of `slot` holds for `needs`, preferring those in
    /// `prefer`, not counting appointment `except` (one being moved no longer holds its time);
    /// or the error naming what is in the way. Returns the ids sorted. The caller has locked
    /// the provider's row; this then locks every resource of the kinds asked for, in one
    /// statement in one global order (see [`LOCK_RESOURCES`]).
    async fn assign_resources(
        &mut self,
        needs: &ResourceNeeds,
        prefer: &[ResourceId],
        slot: &AppointmentSlot,
        time_zone: Tz,
        except: Option<AppointmentId>,
    ) -> Result<Vec<ResourceId>, SchedulingError>;

    /// Records that an appointment holds `resource_ids`.
    async fn hold_resources(
        &mut self,
        appointment_id: AppointmentId,
        resource_ids: &[ResourceId],
    ) -> anyhow::Result<()>;

    /// The resources an appointment holds.
    async fn held_resources(
        &mut self,
        appointment_id: AppointmentId,
    ) -> anyhow::Result<Vec<ResourceId>>;

    /// What an appointment type needs, in the order given.
    async fn type_requirements(
        &mut self,
        appointment_type_id: AppointmentTypeId,
    ) -> anyhow::Result<Vec<ResourceRequirement>>;

    /// Locks a resource's row until the transaction ends (PostgreSQL), so that bookings that
    /// may use it take turns with a change of its hours; `false` when there is no such resource.
    async fn lock_resource(&mut self, resource_id: ResourceId) -> anyhow::Result<bool>;
}

for_each_backend! {
    impl ResourcesTx for Conn {
        async fn assign_resources(
            &mut self,
            needs: &ResourceNeeds,
            prefer: &[ResourceId],
            slot: &AppointmentSlot,
            time_zone: Tz,
            except: Option<AppointmentId>,
        ) -> Result<Vec<ResourceId>, SchedulingError> {
            if needs.is_empty() {
                return Ok(Vec::new());
            }
            let chosen_kinds = chosen_kinds(self, &needs.chosen).await?;
            let [chairs, rooms, equipment] = needs.kinds(&chosen_kinds);
            let rows: Vec<(String, String, String, bool)> =
                sqlx::query_as(Conn::pick(READ_RESOURCES, LOCK_RESOURCES))
                    .bind(chairs)
                    .bind(rooms)
                    .bind(equipment)
                    .fetch_all(&mut *self)
                    .await
                    .context("failed to lock resources")?;
            let mut candidates = Vec::with_capacity(rows.len());
            for (id, name, kind, in_service) in rows {
                let resource_id = ResourceId::parse(&id)
                    .map_err(anyhow::Error::msg)
                    .context("resources holds a malformed id")?;
                let kind = ResourceKind::parse(&kind)
                    .ok_or_else(|| anyhow::anyhow!("resources holds a corrupt kind"))?;
                let obstacle = if in_service {
                    obstacle(self, resource_id, slot, time_zone, except).await?
                } else {
                    Some(Obstacle::OutOfService)
                };
                candidates.push(Candidate {
                    resource_id,
                    name,
                    kind,
                    obstacle,
                });
            }
            // Preferred resources first: "any chair" then keeps the chair it had.
            candidates.sort_by_key(|candidate| !prefer.contains(&candidate.resource_id));
            Ok(assign(needs, &candidates)?)
        }

        async fn hold_resources(
            &mut self,
            appointment_id: AppointmentId,
            resource_ids: &[ResourceId],
        ) -> anyhow::Result<()> {
            for resource_id in resource_ids {
                sqlx::query(
                    "INSERT INTO appointment_resources (appointment_id, resource_id) \
                     VALUES ($1, $2)",
                )
                .bind(appointment_id.to_string())
                .bind(resource_id.to_string())
                .execute(&mut *self)
                .await
                .context("failed to record an appointment's resources")?;
            }
            Ok(())
        }

        async fn held_resources(
            &mut self,
            appointment_id: AppointmentId,
        ) -> anyhow::Result<Vec<ResourceId>> {
            let held: Vec<(String,)> = sqlx::query_as(
                "SELECT resource_id FROM appointment_resources WHERE appointment_id = $1",
            )
            .bind(appointment_id.to_string())
            .fetch_all(&mut *self)
            .await
            .context("failed to read an appointment's resources")?;
            let mut resource_ids = Vec::with_capacity(held.len());
            for (resource_id,) in held {
                resource_ids.push(
                    ResourceId::parse(&resource_id)
                        .map_err(anyhow::Error::msg)
                        .context("appointment_resources holds a malformed id")?,
                );
            }
            Ok(resource_ids)
        }

        async fn type_requirements(
            &mut self,
            appointment_type_id: AppointmentTypeId,
        ) -> anyhow::Result<Vec<ResourceRequirement>> {
            let rows = sqlx::query_as(SELECT_REQUIREMENTS)
                .bind(appointment_type_id.to_string())
                .fetch_all(&mut *self)
                .await
                .context("failed to read an appointment type's resources")?;
            requirements_from_rows(rows)
        }

        async fn lock_resource(&mut self, resource_id: ResourceId) -> anyhow::Result<bool> {
            let lock = Conn::pick(
                "SELECT resource_id FROM resources WHERE resource_id = $1",
                "SELECT resource_id FROM resources WHERE resource_id = $1 FOR UPDATE",
            );
            let found: Option<String> = sqlx::query_scalar(lock)
                .bind(resource_id.to_string())
                .fetch_optional(&mut *self)
                .await
                .context("failed to lock a resource")?;
            Ok(found.is_some())
        }
    }

    /// The kinds of the resources a booking chose by id, refusing one that does not exist.
    async fn chosen_kinds(
        conn: &mut Conn,
        chosen: &[ResourceId],
    ) -> Result<Vec<ResourceKind>, SchedulingError> {
        let mut kinds = Vec::with_capacity(chosen.len());
        for id in chosen {
            let kind: Option<String> =
                sqlx::query_scalar("SELECT kind FROM resources WHERE resource_id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *conn)
                    .await
                    .context("failed to read a resource's kind")?;
            match kind.as_deref().and_then(ResourceKind::parse) {
                Some(kind) => kinds.push(kind),
                None => return Err(ResourceError::Unknown(*id).into()),
            }
        }
        Ok(kinds)
    }

    /// What keeps an in-service resource from `slot`: another active appointment holding it
    /// (other than `except`), or its hours and exceptions; `None` when it is free.
    async fn obstacle(
        conn: &mut Conn,
        resource_id: ResourceId,
        slot: &AppointmentSlot,
        time_zone: Tz,
        except: Option<AppointmentId>,
    ) -> anyhow::Result<Option<Obstacle>> {
        let clash: Option<(String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(RESOURCE_CLASH)
            .bind(resource_id.to_string())
            .bind(slot.start())
            .bind(slot.end())
            .bind(except.map(|id| id.to_string()))
            .fetch_optional(&mut *conn)
            .await
            .context("failed to check a resource's appointments")?;
        if let Some((appointment_id, start, end)) = clash {
            return Ok(Some(Obstacle::Busy {
                appointment_id: AppointmentId::parse(&appointment_id)
                    .context("appointments holds a malformed id")?,
                start,
                end,
                zone: time_zone,
            }));
        }
        let hours = weekly_hours(
            sqlx::query_as(SELECT_RESOURCE_HOURS)
                .bind(resource_id.to_string())
                .fetch_all(&mut *conn)
                .await
                .context("failed to read resource hours")?,
        )?;
        let rows = sqlx::query_as(RESOURCE_EXCEPTIONS_SQL)
            .bind(resource_id.to_string())
            .bind(slot.start())
            .bind(slot.end())
            .fetch_all(&mut *conn)
            .await
            .context("failed to read resource exceptions")?;
        let exceptions = exception_spans(rows)?;
        Ok(resource_availability(slot, &hours, &exceptions, time_zone)
            .err()
            .map(Obstacle::Unavailable))
    }
}

/// Whether an insert or update broke the unique resource name.
fn name_taken(error: &sqlx::Error) -> bool {
    // SQLite names the column, PostgreSQL the index.
    is_unique_violation(error, "resources_display_name")
        || is_unique_violation(error, "resources.display_name")
}

/// Exception rows as `(start, end, kind, clinic_wide)`.
fn exception_spans(
    rows: Vec<(DateTime<Utc>, DateTime<Utc>, String, i32)>,
) -> anyhow::Result<Vec<Closure>> {
    rows.into_iter()
        .map(|(start, end, kind, clinic_wide)| {
            let kind = ExceptionKind::parse(&kind)
                .ok_or_else(|| anyhow::anyhow!("an exception holds a corrupt kind"))?;
            Ok((start, end, kind, clinic_wide != 0))
        })
        .collect()
}

/// Requirement rows as stored.
fn requirements_from_rows(
    rows: Vec<(String, Option<String>)>,
) -> anyhow::Result<Vec<ResourceRequirement>> {
    rows.into_iter()
        .map(|(kind, resource_id)| {
            let corrupt = || anyhow::anyhow!("appointment_type_resources holds a corrupt row");
            Ok(ResourceRequirement {
                kind: ResourceKind::parse(&kind).ok_or_else(corrupt)?,
                resource_id: resource_id
                    .as_deref()
                    .map(ResourceId::parse)
                    .transpose()
                    .map_err(|_| corrupt())?,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct ResourceRow {
    resource_id: String,
    display_name: String,
    kind: String,
    in_service: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ResourceRow {
    fn into_resource(self) -> anyhow::Result<Resource> {
        let corrupt =
            |field: &str| anyhow::anyhow!("resources.{field} of {} is corrupt", self.resource_id);
        Ok(Resource {
            resource_id: ResourceId::parse(&self.resource_id)
                .map_err(|_| corrupt("resource_id"))?,
            display_name: DisplayName::parse(&self.display_name)
                .map_err(|_| corrupt("display_name"))?,
            kind: ResourceKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            in_service: self.in_service,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ResourceExceptionRow {
    resource_exception_id: String,
    resource_id: String,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    kind: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
}

impl ResourceExceptionRow {
    fn into_exception(self) -> anyhow::Result<ResourceException> {
        let corrupt = |field: &str| {
            anyhow::anyhow!(
                "resource_exceptions.{field} of {} is corrupt",
                self.resource_exception_id
            )
        };
        Ok(ResourceException {
            resource_exception_id: ResourceExceptionId::parse(&self.resource_exception_id)
                .map_err(|_| corrupt("resource_exception_id"))?,
            resource_id: ResourceId::parse(&self.resource_id)
                .map_err(|_| corrupt("resource_id"))?,
            start: self.start_at,
            end: self.end_at,
            kind: ExceptionKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            note: self
                .note
                .as_deref()
                .map(Note::parse)
                .transpose()
                .map_err(|_| corrupt("note"))?,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}
