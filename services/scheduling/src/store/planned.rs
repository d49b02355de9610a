//! Planned visits: recorded ahead, listed when due, linked to their booking.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::Caller;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, RequestId};
use clinic_common::{in_transaction, with_db};
use uuid::Uuid;

use super::{SchedulingStore, sql_offset};
use crate::domain::planned::{NewPlannedVisit, PlannedStatus, PlannedVisit};
use crate::domain::{AppointmentTypeId, Note, SchedulingError};

const CREATE_PLANNED_VISIT: &str = "create_planned_visit";

macro_rules! planned_columns {
    () => {
        "SELECT planned_visit_id, patient_id, appointment_type_id, \
     provider_id, due_date, note, status, appointment_id, created_at FROM planned_visits "
    };
}

impl SchedulingStore {
    /// Records a planned visit, or returns the one a first call with `request_id` recorded.
    pub async fn create_planned_visit(
        &self,
        plan: &NewPlannedVisit,
        request_id: &RequestId,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<PlannedVisit, SchedulingError> {
        let fingerprint = plan.fingerprint();
        let key = IdempotencyKey::new(CREATE_PLANNED_VISIT, request_id, &fingerprint);
        let planned_visit_id = retrying("a planned visit", || {
            self.try_create_planned_visit(plan, &key, caller, now)
        })
        .await?;
        self.planned_visit(planned_visit_id).await?.ok_or_else(|| {
            anyhow::anyhow!("planned visit {planned_visit_id} vanished after insert").into()
        })
    }

    async fn try_create_planned_visit(
        &self,
        plan: &NewPlannedVisit,
        key: &IdempotencyKey<'_>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Uuid, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(planned_visit_id) = tx.earlier_result(key).await? {
                return Ok(planned_visit_id);
            }
            let planned_visit_id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO planned_visits (planned_visit_id, patient_id, \
                 appointment_type_id, provider_id, due_date, note, status, created_at, \
                 created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'planned', $7, $8, $7)",
            )
            .bind(planned_visit_id.to_string())
            .bind(plan.patient_id.to_string())
            .bind(plan.appointment_type_id.map(|id| id.to_string()))
            .bind(plan.provider_id.map(|id| id.to_string()))
            .bind(plan.due_date)
            .bind(plan.note.as_ref().map(Note::as_str))
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *tx)
            .await
            .context("failed to insert a planned visit")?;
            tx.claim(key, &planned_visit_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(planned_visit_id)
        })
    }

    pub async fn planned_visit(
        &self,
        planned_visit_id: Uuid,
    ) -> Result<Option<PlannedVisit>, SchedulingError> {
        const QUERY: &str = concat!(planned_columns!(), " WHERE planned_visit_id = $1");
        let row: Option<PlannedRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(planned_visit_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a planned visit")?;
        Ok(row.map(PlannedRow::into_plan).transpose()?)
    }

    /// Plans due in `first..=last`, by due date; booked ones too when asked.
    pub async fn planned_visits_due(
        &self,
        (first, last): (NaiveDate, NaiveDate),
        show_booked: bool,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<PlannedVisit>, SchedulingError> {
        const QUERY: &str = concat!(
            planned_columns!(),
            " WHERE due_date >= $1 AND due_date <= $2 \
             AND ($3 OR status = 'planned') \
             ORDER BY due_date, created_at, planned_visit_id LIMIT $4 OFFSET $5"
        );
        let rows: Vec<PlannedRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(first)
                .bind(last)
                .bind(show_booked)
                .bind(i64::from(limit))
                .bind(sql_offset(offset))
                .fetch_all(pool)
                .await
        })
        .context("failed to list planned visits")?;
        let mut plans = Vec::with_capacity(rows.len());
        for row in rows {
            plans.push(row.into_plan()?);
        }
        Ok(plans)
    }

    /// Marks a plan booked as `appointment_id`. A plan already booked keeps its first booking.
    pub async fn planned_visit_booked(
        &self,
        planned_visit_id: Uuid,
        appointment_id: AppointmentId,
        now: DateTime<Utc>,
    ) -> Result<PlannedVisit, SchedulingError> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE planned_visits SET status = 'booked', appointment_id = $2, \
                 updated_at = $3 WHERE planned_visit_id = $1 AND status = 'planned'",
            )
            .bind(planned_visit_id.to_string())
            .bind(appointment_id.to_string())
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to mark a planned visit booked")?;
        self.planned_visit(planned_visit_id)
            .await?
            .ok_or_else(|| SchedulingError::FlowNotFound {
                what: "planned visit",
                id: planned_visit_id.to_string(),
            })
    }
}

#[derive(sqlx::FromRow)]
struct PlannedRow {
    planned_visit_id: String,
    patient_id: String,
    appointment_type_id: Option<String>,
    provider_id: Option<String>,
    due_date: NaiveDate,
    note: Option<String>,
    status: String,
    appointment_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl PlannedRow {
    fn into_plan(self) -> anyhow::Result<PlannedVisit> {
        let corrupt = |field: &str| {
            anyhow::anyhow!(
                "planned_visits.{field} of {} is corrupt",
                self.planned_visit_id
            )
        };
        Ok(PlannedVisit {
            planned_visit_id: Uuid::parse_str(&self.planned_visit_id)
                .map_err(|_| corrupt("planned_visit_id"))?,
            plan: NewPlannedVisit {
                patient_id: PatientId::parse(&self.patient_id)
                    .map_err(|_| corrupt("patient_id"))?,
                appointment_type_id: self
                    .appointment_type_id
                    .as_deref()
                    .map(AppointmentTypeId::parse)
                    .transpose()
                    .map_err(|_| corrupt("appointment_type_id"))?,
                provider_id: self
                    .provider_id
                    .as_deref()
                    .map(ProviderId::parse)
                    .transpose()
                    .map_err(|_| corrupt("provider_id"))?,
                due_date: self.due_date,
                note: self
                    .note
                    .as_deref()
                    .map(Note::parse)
                    .transpose()
                    .map_err(|_| corrupt("note"))?,
            },
            status: match self.status.as_str() {
                "planned" => PlannedStatus::Planned,
                "booked" => PlannedStatus::Booked,
                _ => return Err(corrupt("status")),
            },
            appointment_id: self
                .appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .map_err(|_| corrupt("appointment_id"))?,
            created_at: self.created_at,
        })
    }
}
