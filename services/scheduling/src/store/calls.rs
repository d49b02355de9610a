//! Call tasks: made for late patients, listed for reception, completed with an outcome.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId};
use clinic_common::with_db;
use uuid::Uuid;

use super::SchedulingStore;
use super::sql_offset;
use crate::domain::SchedulingError;
use crate::domain::calls::{CallOutcome, CallTask, LATE_ARRIVAL};

macro_rules! task_columns {
    () => {
        "SELECT t.call_task_id, t.kind, t.appointment_id, a.patient_id, \
     a.provider_id, a.start_at, a.patient_initials, t.status, t.outcome, t.note, t.created_at, \
     t.completed_at, t.completed_by \
     FROM call_tasks t JOIN appointments a ON a.appointment_id = t.appointment_id "
    };
}

impl SchedulingStore {
    /// Makes a late-arrival task for each appointment starting in `[from, until]` that is still
    /// scheduled or confirmed (nobody checked it in) and has none yet. Returns how many were
    /// made.
    pub async fn make_late_tasks(
        &self,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
    ) -> Result<u64, SchedulingError> {
        let late: Vec<String> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT a.appointment_id FROM appointments a \
                 WHERE a.status IN ('scheduled', 'confirmed') \
                 AND a.start_at > $1 AND a.start_at <= $2 \
                 AND NOT EXISTS (SELECT 1 FROM call_tasks t \
                     WHERE t.appointment_id = a.appointment_id AND t.kind = $3) \
                 ORDER BY a.start_at",
            )
            .bind(from)
            .bind(until)
            .bind(LATE_ARRIVAL)
            .fetch_all(pool)
            .await
        })
        .context("failed to find late appointments")?;
        let mut made = 0;
        for appointment_id in late {
            // Two replicas (or the background task and a listing) may race: the unique
            // constraint keeps one task per appointment.
            made += with_db!(&self.db, |pool| {
                sqlx::query(
                    "INSERT INTO call_tasks (call_task_id, kind, appointment_id, status, \
                     created_at) VALUES ($1, $2, $3, 'open', $4) \
                     ON CONFLICT (kind, appointment_id) DO NOTHING",
                )
                .bind(Uuid::new_v4().to_string())
                .bind(LATE_ARRIVAL)
                .bind(&appointment_id)
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
            })
            .context("failed to make a call task")?;
        }
        Ok(made)
    }

    /// Tasks oldest first; done ones too when asked.
    pub async fn call_tasks(
        &self,
        show_done: bool,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<CallTask>, SchedulingError> {
        const QUERY: &str = concat!(
            task_columns!(),
            " WHERE ($1 OR t.status = 'open') \
             ORDER BY t.created_at, a.start_at, t.call_task_id LIMIT $2 OFFSET $3"
        );
        let rows: Vec<TaskRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(show_done)
                .bind(i64::from(limit))
                .bind(sql_offset(offset))
                .fetch_all(pool)
                .await
        })
        .context("failed to list call tasks")?;
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            tasks.push(row.into_task()?);
        }
        Ok(tasks)
    }

    pub async fn call_task(&self, call_task_id: Uuid) -> Result<CallTask, SchedulingError> {
        const QUERY: &str = concat!(task_columns!(), " WHERE t.call_task_id = $1");
        let row: Option<TaskRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(call_task_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a call task")?;
        match row {
            Some(row) => Ok(row.into_task()?),
            None => Err(SchedulingError::FlowNotFound {
                what: "call task",
                id: call_task_id.to_string(),
            }),
        }
    }

    /// Closes an open task with how the call went. Completing again with the same outcome
    /// returns the task as it is; a different outcome is refused.
    pub async fn complete_call_task(
        &self,
        call_task_id: Uuid,
        (outcome, note): (CallOutcome, Option<&str>),
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<CallTask, SchedulingError> {
        let task = self.call_task(call_task_id).await?;
        if task.done {
            if task.outcome == Some(outcome) {
                return Ok(task);
            }
            return Err(SchedulingError::FlowClosed {
                what: "call task",
                id: call_task_id.to_string(),
                state: "done",
                action: "completed with another outcome",
            });
        }
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE call_tasks SET status = 'done', outcome = $2, note = $3, \
                 completed_at = $4, completed_by = $5 WHERE call_task_id = $1 AND status = 'open'",
            )
            .bind(call_task_id.to_string())
            .bind(outcome.as_str())
            .bind(note)
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to complete a call task")?;
        self.call_task(call_task_id).await
    }
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    call_task_id: String,
    kind: String,
    appointment_id: String,
    patient_id: String,
    provider_id: String,
    start_at: DateTime<Utc>,
    patient_initials: String,
    status: String,
    outcome: Option<String>,
    note: Option<String>,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    completed_by: Option<String>,
}

impl TaskRow {
    fn into_task(self) -> anyhow::Result<CallTask> {
        let corrupt =
            |field: &str| anyhow::anyhow!("call_tasks.{field} of {} is corrupt", self.call_task_id);
        Ok(CallTask {
            call_task_id: Uuid::parse_str(&self.call_task_id)
                .map_err(|_| corrupt("call_task_id"))?,
            kind: self.kind.clone(),
            appointment_id: AppointmentId::parse(&self.appointment_id)
                .map_err(|_| corrupt("appointment_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            provider_id: ProviderId::parse(&self.provider_id)
                .map_err(|_| corrupt("provider_id"))?,
            appointment_start: self.start_at,
            patient_initials: self.patient_initials.clone(),
            done: self.status == "done",
            outcome: self
                .outcome
                .as_deref()
                .map(|text| CallOutcome::parse(text).ok_or_else(|| corrupt("outcome")))
                .transpose()?,
            note: self.note.clone(),
            created_at: self.created_at,
            completed_at: self.completed_at,
            completed_by: self.completed_by.clone(),
        })
    }
}
