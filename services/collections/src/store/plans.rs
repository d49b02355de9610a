//! Payment plans and their schedules.
//!
//! Creating a plan is one transaction: the idempotency key is looked up first (a retry gets the
//! first plan), then the account's row is locked and its balance checked, and the plan and every
//! line of its schedule are written. The one-plan-per-account constraint turns a second plan into
//! `PlanExists`.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::is_unique_violation;
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money, in_transaction, with_db};

use super::ReceivablesStore;
use crate::domain::{CollectionsError, Frequency, NewPlan, PaymentPlan, ScheduledPayment};

/// The idempotency-key operation name for created plans.
const CREATE_PLAN: &str = "create_payment_plan";

macro_rules! plan_columns {
    () => {
        "plan_id, patient_id, total_minor, down_payment_minor, instalment_count, frequency, \
         first_date, created_at, created_by"
    };
}

/// Why one pass of `create_plan` did not finish.
enum CreateError {
    /// Another request with the same key committed first; look again.
    KeyTaken,
    Collections(CollectionsError),
}

impl<E: Into<CollectionsError>> From<E> for CreateError {
    fn from(error: E) -> Self {
        CreateError::Collections(error.into())
    }
}

impl ReceivablesStore {
    /// Creates a payment plan once per request id, with its schedule for a plan made `today`
    /// (the clinic-local day of `now`).
    pub async fn create_plan(
        &self,
        plan: &NewPlan,
        created_by: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<PaymentPlan, CollectionsError> {
        let fingerprint = plan.fingerprint();
        for attempt in 0..2 {
            match self
                .try_create_plan(plan, &fingerprint, created_by, now, today)
                .await
            {
                Err(CreateError::KeyTaken) if attempt == 0 => continue,
                Err(CreateError::KeyTaken) => break,
                Err(CreateError::Collections(error)) => return Err(error),
                Ok(created) => return Ok(created),
            }
        }
        Err(anyhow::anyhow!("idempotency key {} stayed contended", plan.request_id).into())
    }

    async fn try_create_plan(
        &self,
        plan: &NewPlan,
        fingerprint: &str,
        created_by: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<PaymentPlan, CreateError> {
        let patient_id = plan.patient_id.to_string();
        let currency = self.currency;
        let plan_id = in_transaction!(&self.db, |tx| async {
            let earlier: Option<(String, String)> = sqlx::query_as(
                "SELECT fingerprint, resource_id FROM idempotency_keys \
                 WHERE operation = $1 AND request_id = $2",
            )
            .bind(CREATE_PLAN)
            .bind(plan.request_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .context("failed to look up an idempotency key")?;
            if let Some((earlier_fingerprint, plan_id)) = earlier {
                if earlier_fingerprint != fingerprint {
                    return Err(CollectionsError::RequestIdReused.into());
                }
                return Ok::<_, CreateError>(plan_id);
            }

            // An UPDATE that changes nothing, to read the balance under the account's row lock.
            let balance_minor: Option<i64> = sqlx::query_scalar(
                "UPDATE receivable_accounts SET patient_id = patient_id \
                 WHERE patient_id = $1 RETURNING balance_minor",
            )
            .bind(patient_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .context("failed to lock a receivable account")?;
            let balance = Money::from_minor(balance_minor.unwrap_or(0).max(0), currency);
            if plan.total.minor_units() > balance.minor_units() {
                return Err(CollectionsError::PlanExceedsBalance { balance }.into());
            }

            let plan_id = uuid::Uuid::new_v4().to_string();
            let inserted = sqlx::query(
                "INSERT INTO payment_plans (plan_id, patient_id, total_minor, \
                 down_payment_minor, instalment_count, frequency, first_date, created_at, \
                 created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(plan_id.as_str())
            .bind(patient_id.as_str())
            .bind(plan.total.minor_units())
            .bind(plan.down_payment.minor_units())
            .bind(i32::try_from(plan.instalment_count).unwrap_or(i32::MAX))
            .bind(plan.frequency.as_str())
            .bind(plan.first_date)
            .bind(now)
            .bind(created_by)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(error) if is_unique_violation(&error, "payment_plans") => {
                    return Err(CollectionsError::PlanExists(plan.patient_id).into());
                }
                other => other.context("failed to create a payment plan")?,
            };
            for line in plan.schedule(today) {
                sqlx::query(
                    "INSERT INTO plan_instalments (plan_id, number, due_date, amount_minor) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(plan_id.as_str())
                .bind(i32::try_from(line.number).unwrap_or(i32::MAX))
                .bind(line.due_date)
                .bind(line.amount.minor_units())
                .execute(&mut *tx)
                .await
                .context("failed to write a plan instalment")?;
            }

            let recorded = sqlx::query(
                "INSERT INTO idempotency_keys \
                 (operation, request_id, fingerprint, resource_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(CREATE_PLAN)
            .bind(plan.request_id.as_str())
            .bind(fingerprint)
            .bind(plan_id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await;
            match recorded {
                Err(error) if is_unique_violation(&error, "idempotency_keys") => {
                    return Err(CreateError::KeyTaken);
                }
                other => other.context("failed to record an idempotency key")?,
            };
            Ok::<_, CreateError>(plan_id)
        }
        .await)?;
        self.plan(Some(&plan_id), None)
            .await?
            .ok_or_else(|| {
                CollectionsError::Unexpected(anyhow::anyhow!(
                    "payment plan {plan_id} vanished after insert"
                ))
            })
            .map_err(CreateError::Collections)
    }

    /// A payment plan with its schedule, by id or by account.
    pub async fn plan(
        &self,
        plan_id: Option<&str>,
        patient_id: Option<PatientId>,
    ) -> anyhow::Result<Option<PaymentPlan>> {
        let patient = patient_id.map(|patient_id| patient_id.to_string());
        let row: Option<PlanRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                plan_columns!(),
                " FROM payment_plans WHERE plan_id = $1 OR patient_id = $2"
            ))
            .bind(plan_id)
            .bind(patient.as_deref())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a payment plan")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let lines: Vec<(i32, NaiveDate, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT number, due_date, amount_minor FROM plan_instalments \
                 WHERE plan_id = $1 ORDER BY number",
            )
            .bind(row.plan_id.as_str())
            .fetch_all(pool)
            .await
        })
        .context("failed to read a plan's schedule")?;
        let mut schedule = Vec::with_capacity(lines.len());
        for (number, due_date, amount_minor) in lines {
            schedule.push(ScheduledPayment {
                number: u32::try_from(number)
                    .with_context(|| format!("plan_instalments holds a number {number}"))?,
                due_date,
                amount: Money::from_minor(amount_minor, self.currency),
            });
        }
        row.into_plan(self.currency, schedule).map(Some)
    }
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    plan_id: String,
    patient_id: String,
    total_minor: i64,
    down_payment_minor: i64,
    instalment_count: i32,
    frequency: String,
    first_date: NaiveDate,
    created_at: DateTime<Utc>,
    created_by: String,
}

impl PlanRow {
    fn into_plan(
        self,
        currency: Currency,
        schedule: Vec<ScheduledPayment>,
    ) -> anyhow::Result<PaymentPlan> {
        Ok(PaymentPlan {
            patient_id: PatientId::parse(&self.patient_id).with_context(|| {
                format!("payment_plans holds a malformed id {:?}", self.patient_id)
            })?,
            frequency: Frequency::parse(&self.frequency).with_context(|| {
                format!(
                    "payment_plans holds an unknown frequency {:?}",
                    self.frequency
                )
            })?,
            instalment_count: u32::try_from(self.instalment_count).with_context(|| {
                format!("payment_plans holds a count {}", self.instalment_count)
            })?,
            plan_id: self.plan_id,
            total: Money::from_minor(self.total_minor, currency),
            down_payment: Money::from_minor(self.down_payment_minor, currency),
            first_date: self.first_date,
            created_at: self.created_at,
            created_by: self.created_by,
            schedule,
        })
    }
}
