//! Payment plans and their schedules.
//!
//! Creating a plan is one transaction: the idempotency key is looked up first (a retry gets the
//! first plan), then the account's row is locked and its balance checked, and the plan and every
//! line of its schedule are written. The one-active-plan-per-account index turns a second plan
//! into `PlanExists`. Restructuring is the same transaction, which also marks the plan it
//! replaces, so the old plan and its schedule stay as history.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::is_unique_violation;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money, for_each_backend, in_transaction, with_db};

use super::{ReceivablesStore, ReceivablesTx};
use crate::domain::{
    CollectionsError, Frequency, NewPlan, PaymentPlan, Replacement, ScheduledPayment,
};

/// The idempotency-key operation name for created plans.
const CREATE_PLAN: &str = "create_payment_plan";

/// The idempotency-key operation name for restructured plans.
const RESTRUCTURE_PLAN: &str = "restructure_payment_plan";

macro_rules! plan_columns {
    () => {
        "plan_id, patient_id, total_minor, down_payment_minor, instalment_count, frequency, \
         first_date, created_at, created_by, settlement_discount_minor, discount_approved_by, \
         replaces, replaced_at, replaced_by, replace_reason, settled_at"
    };
}

/// The plan a restructuring replaces, and why.
pub struct PlanReplacement<'a> {
    pub plan_id: &'a str,
    pub reason: &'a str,
}

/// A payment plan to create, with who agrees it and when.
pub struct PlanToCreate<'a> {
    pub plan: &'a NewPlan,
    pub created_by: &'a str,
    /// The manager granting the plan's settlement discount, if it has one.
    pub discount_approved_by: Option<&'a str>,
    /// The active plan a restructuring replaces.
    pub replacing: Option<PlanReplacement<'a>>,
    pub now: DateTime<Utc>,
    /// The clinic-local day of `now`: the schedule is built for a plan made that day.
    pub today: NaiveDate,
}

impl ReceivablesStore {
    /// Creates a payment plan, with its schedule, once per request id.
    pub async fn create_plan(
        &self,
        create: &PlanToCreate<'_>,
    ) -> Result<PaymentPlan, CollectionsError> {
        let plan = create.plan;
        let (operation, fingerprint) = match &create.replacing {
            None => (CREATE_PLAN, plan.fingerprint()),
            Some(replaced) => (
                RESTRUCTURE_PLAN,
                format!(
                    "{}|{}|{}",
                    plan.fingerprint(),
                    replaced.plan_id,
                    replaced.reason
                ),
            ),
        };
        let key = IdempotencyKey::new(operation, &plan.request_id, &fingerprint);
        let plan_id = retrying("a payment plan", || self.try_create_plan(create, &key)).await?;
        self.plan(Some(&plan_id), None)
            .await?
            .ok_or_else(|| anyhow::anyhow!("payment plan {plan_id} vanished after insert").into())
    }

    async fn try_create_plan(
        &self,
        create: &PlanToCreate<'_>,
        key: &IdempotencyKey<'_>,
    ) -> Result<String, Attempt<CollectionsError>> {
        let plan = create.plan;
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's plan, and nothing written.
            if let Some(plan_id) = tx.earlier_result(key).await? {
                return Ok(plan_id);
            }
            let balance = tx.lock_balance(plan.patient_id, self.currency).await?;
            let covered = plan
                .total
                .minor_units()
                .saturating_add(plan.settlement_discount.minor_units());
            if covered > balance.minor_units() {
                return Err(CollectionsError::PlanExceedsBalance { balance }.into());
            }
            let plan_id = uuid::Uuid::new_v4().to_string();
            if let Some(replaced) = &create.replacing {
                // The balance's row lock keeps two restructurings from both replacing it.
                tx.mark_replaced(replaced, plan.patient_id, &plan_id, create.now)
                    .await?;
            }
            tx.insert_plan(&plan_id, create).await?;
            tx.insert_schedule(&plan_id, &plan.schedule(create.today))
                .await?;
            tx.claim(key, &plan_id, create.now).await?;
            Ok(plan_id)
        })
    }

    /// A payment plan with its schedule, by id, or an account's active plan.
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
                " FROM payment_plans WHERE plan_id = $1 \
                 OR (patient_id = $2 AND replaced_at IS NULL)"
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
        self.with_schedule(row).await.map(Some)
    }

    /// Every plan an account has had, newest first.
    pub async fn plans_of(&self, patient_id: PatientId) -> anyhow::Result<Vec<PaymentPlan>> {
        let rows: Vec<PlanRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                plan_columns!(),
                " FROM payment_plans WHERE patient_id = $1 \
                 ORDER BY CASE WHEN replaced_at IS NULL THEN 0 ELSE 1 END, replaced_at DESC, \
                 created_at DESC, plan_id"
            ))
            .bind(patient_id.to_string())
            .fetch_all(pool)
            .await
        })
        .context("failed to read payment plans")?;
        let mut plans = Vec::with_capacity(rows.len());
        for row in rows {
            plans.push(self.with_schedule(row).await?);
        }
        Ok(plans)
    }

    /// Every active plan, with its schedule.
    pub async fn active_plans(&self) -> anyhow::Result<Vec<PaymentPlan>> {
        let rows: Vec<PlanRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                plan_columns!(),
                " FROM payment_plans WHERE replaced_at IS NULL"
            ))
            .fetch_all(pool)
            .await
        })
        .context("failed to read active payment plans")?;
        let lines: Vec<(String, i32, NaiveDate, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT i.plan_id, i.number, i.due_date, i.amount_minor \
                 FROM plan_instalments i JOIN payment_plans p ON p.plan_id = i.plan_id \
                 WHERE p.replaced_at IS NULL ORDER BY i.plan_id, i.number",
            )
            .fetch_all(pool)
            .await
        })
        .context("failed to read active schedules")?;
        let mut schedules: std::collections::HashMap<String, Vec<ScheduledPayment>> =
            std::collections::HashMap::new();
        for (plan_id, number, due_date, amount_minor) in lines {
            schedules
                .entry(plan_id)
                .or_default()
                .push(ScheduledPayment {
                    number: u32::try_from(number)
                        .with_context(|| format!("plan_instalments holds a number {number}"))?,
                    due_date,
                    amount: Money::from_minor(amount_minor, self.currency),
                });
        }
        let mut plans = Vec::with_capacity(rows.len());
        for row in rows {
            let schedule = schedules.remove(&row.plan_id).unwrap_or_default();
            plans.push(row.into_plan(self.currency, schedule)?);
        }
        Ok(plans)
    }

    /// Active plans with a settlement discount not yet written off.
    pub async fn plans_to_settle(&self) -> anyhow::Result<Vec<PaymentPlan>> {
        let mut plans = self.active_plans().await?;
        plans.retain(|plan| plan.settlement_discount.is_positive() && plan.settled_at.is_none());
        Ok(plans)
    }

    /// Records that billing wrote a plan's settlement discount off.
    pub async fn mark_settled(&self, plan_id: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE payment_plans SET settled_at = $2 WHERE plan_id = $1 \
                 AND settled_at IS NULL",
            )
            .bind(plan_id)
            .bind(at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to mark a plan settled")?;
        Ok(())
    }

    /// The write-offs a plan's settlement is made of, (charge, amount, done), fixing them first
    /// from `proposed` when none are recorded yet.
    pub async fn settlement_write_offs(
        &self,
        plan_id: &str,
        proposed: &[(String, i64)],
    ) -> anyhow::Result<Vec<(String, i64, bool)>> {
        let rows: Vec<(String, i64, Option<DateTime<Utc>>)> =
            in_transaction!(&self.db, |tx| async {
                let existing: Vec<(String, i64, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "SELECT charge_id, amount_minor, done_at FROM settlement_write_offs \
                 WHERE plan_id = $1 ORDER BY charge_id",
                )
                .bind(plan_id)
                .fetch_all(&mut *tx)
                .await
                .context("failed to read a settlement")?;
                if !existing.is_empty() {
                    return anyhow::Ok(existing);
                }
                for (charge_id, amount_minor) in proposed {
                    sqlx::query(
                        "INSERT INTO settlement_write_offs (plan_id, charge_id, amount_minor) \
                     VALUES ($1, $2, $3)",
                    )
                    .bind(plan_id)
                    .bind(charge_id.as_str())
                    .bind(*amount_minor)
                    .execute(&mut *tx)
                    .await
                    .context("failed to fix a settlement")?;
                }
                Ok(proposed
                    .iter()
                    .map(|(charge_id, amount)| (charge_id.clone(), *amount, None))
                    .collect())
            }
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(charge_id, amount, done)| (charge_id, amount, done.is_some()))
            .collect())
    }

    /// Records that billing confirmed one write-off of a settlement.
    pub async fn settlement_write_off_done(
        &self,
        plan_id: &str,
        charge_id: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE settlement_write_offs SET done_at = $3 \
                 WHERE plan_id = $1 AND charge_id = $2 AND done_at IS NULL",
            )
            .bind(plan_id)
            .bind(charge_id)
            .bind(at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to record a settlement write-off")?;
        Ok(())
    }

    async fn with_schedule(&self, row: PlanRow) -> anyhow::Result<PaymentPlan> {
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
        row.into_plan(self.currency, schedule)
    }
}

/// The statements of creating a plan, inside its transaction.
pub(crate) trait PlansTx {
    /// Marks the account's active plan `replaced` as replaced by `by_plan`. Refuses
    /// (`PlanNotActive`) a plan that is not this account's active one.
    async fn mark_replaced(
        &mut self,
        replaced: &PlanReplacement<'_>,
        patient_id: PatientId,
        by_plan: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CollectionsError>;

    /// Writes the plan itself. Refuses (`PlanExists`) a second active plan for the account,
    /// by the one-active-plan-per-account index.
    async fn insert_plan(
        &mut self,
        plan_id: &str,
        create: &PlanToCreate<'_>,
    ) -> Result<(), CollectionsError>;

    /// Writes every line of the plan's schedule.
    async fn insert_schedule(
        &mut self,
        plan_id: &str,
        schedule: &[ScheduledPayment],
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl PlansTx for Conn {
        async fn mark_replaced(
            &mut self,
            replaced: &PlanReplacement<'_>,
            patient_id: PatientId,
            by_plan: &str,
            now: DateTime<Utc>,
        ) -> Result<(), CollectionsError> {
            let marked = sqlx::query(
                "UPDATE payment_plans SET replaced_at = $3, replaced_by = $4, \
                 replace_reason = $5 WHERE plan_id = $1 AND patient_id = $2 \
                 AND replaced_at IS NULL",
            )
            .bind(replaced.plan_id)
            .bind(patient_id.to_string())
            .bind(now)
            .bind(by_plan)
            .bind(replaced.reason)
            .execute(&mut *self)
            .await
            .context("failed to mark a plan replaced")?;
            if marked.rows_affected() == 0 {
                return Err(CollectionsError::PlanNotActive);
            }
            Ok(())
        }

        async fn insert_plan(
            &mut self,
            plan_id: &str,
            create: &PlanToCreate<'_>,
        ) -> Result<(), CollectionsError> {
            let plan = create.plan;
            let inserted = sqlx::query(
                "INSERT INTO payment_plans (plan_id, patient_id, total_minor, \
                 down_payment_minor, instalment_count, frequency, first_date, created_at, \
                 created_by, settlement_discount_minor, discount_approved_by, replaces) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(plan_id)
            .bind(plan.patient_id.to_string())
            .bind(plan.total.minor_units())
            .bind(plan.down_payment.minor_units())
            .bind(i32::try_from(plan.instalment_count).unwrap_or(i32::MAX))
            .bind(plan.frequency.as_str())
            .bind(plan.first_date)
            .bind(create.now)
            .bind(create.created_by)
            .bind(plan.settlement_discount.minor_units())
            .bind(create.discount_approved_by)
            .bind(create.replacing.as_ref().map(|replaced| replaced.plan_id))
            .execute(&mut *self)
            .await;
            match inserted {
                Err(error) if is_unique_violation(&error, "payment_plans") => {
                    Err(CollectionsError::PlanExists(plan.patient_id))
                }
                Err(error) => Err(anyhow::Error::new(error)
                    .context("failed to create a payment plan")
                    .into()),
                Ok(_) => Ok(()),
            }
        }

        async fn insert_schedule(
            &mut self,
            plan_id: &str,
            schedule: &[ScheduledPayment],
        ) -> anyhow::Result<()> {
            for line in schedule {
                sqlx::query(
                    "INSERT INTO plan_instalments (plan_id, number, due_date, amount_minor) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(plan_id)
                .bind(i32::try_from(line.number).unwrap_or(i32::MAX))
                .bind(line.due_date)
                .bind(line.amount.minor_units())
                .execute(&mut *self)
                .await
                .context("failed to write a plan instalment")?;
            }
            Ok(())
        }
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
    settlement_discount_minor: i64,
    discount_approved_by: Option<String>,
    replaces: Option<String>,
    replaced_at: Option<DateTime<Utc>>,
    replaced_by: Option<String>,
    replace_reason: Option<String>,
    settled_at: Option<DateTime<Utc>>,
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
            settlement_discount: Money::from_minor(self.settlement_discount_minor, currency),
            discount_approved_by: self.discount_approved_by,
            replaces: self.replaces,
            replacement: self.replaced_at.map(|at| Replacement {
                at,
                by_plan: self.replaced_by.unwrap_or_default(),
                reason: self.replace_reason.unwrap_or_default(),
            }),
            settled_at: self.settled_at,
        })
    }
}
