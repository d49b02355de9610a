//! Payment plans, each with its schedule's status from the payments on its account.

use chrono::{DateTime, Utc};
use clinic_common::Money;
use clinic_common::auth::{Caller, Role};
use clinic_common::ids::PatientId;

use super::Desk;
use crate::domain::{CollectionsError, InstalmentView, NewPlan, PaymentPlan, plan_status};
use crate::store::{PlanReplacement, PlanToCreate};

/// A payment plan with the status of each line of its schedule now.
#[derive(Debug, Clone)]
pub(crate) struct PlanView {
    pub plan: PaymentPlan,
    pub lines: Vec<InstalmentView>,
}

impl Desk {
    /// Creates a plan agreed at `agreed_at` (now, or earlier when a manager carries it over
    /// from earlier records) once per request id. Only a manager may grant a settlement
    /// discount.
    pub(crate) async fn create_plan(
        &self,
        caller: &Caller,
        plan: &NewPlan,
        agreed_at: DateTime<Utc>,
    ) -> Result<PlanView, CollectionsError> {
        let approved_by = discount_approver(caller, plan.settlement_discount)?;
        let created = self
            .store
            .create_plan(&PlanToCreate {
                plan,
                created_by: &caller.subject,
                discount_approved_by: approved_by,
                replacing: None,
                now: agreed_at,
                today: self.day_of(agreed_at),
            })
            .await?;
        self.plan_view(created).await
    }

    /// Replaces the active plan `plan_id` with a new one on `terms`, for the replaced plan's
    /// account, once per request id.
    pub(crate) async fn restructure_plan(
        &self,
        caller: &Caller,
        plan_id: &str,
        mut terms: NewPlan,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<PlanView, CollectionsError> {
        let replaced = self
            .store
            .plan(Some(plan_id), None)
            .await?
            .ok_or(CollectionsError::PlanNotFound)?;
        terms.patient_id = replaced.patient_id;
        let approved_by = discount_approver(caller, terms.settlement_discount)?;
        let created = self
            .store
            .create_plan(&PlanToCreate {
                plan: &terms,
                created_by: &caller.subject,
                discount_approved_by: approved_by,
                replacing: Some(PlanReplacement { plan_id, reason }),
                now,
                today: self.day_of(now),
            })
            .await?;
        self.plan_view(created).await
    }

    /// A plan by id, or an account's active plan.
    pub(crate) async fn plan(
        &self,
        plan_id: Option<&str>,
        patient_id: Option<PatientId>,
    ) -> Result<PlanView, CollectionsError> {
        let plan = self
            .store
            .plan(plan_id, patient_id)
            .await?
            .ok_or(CollectionsError::PlanNotFound)?;
        self.plan_view(plan).await
    }

    /// Every plan an account has had, newest first.
    pub(crate) async fn plans_of(
        &self,
        patient_id: PatientId,
    ) -> Result<Vec<PlanView>, CollectionsError> {
        let plans = self.store.plans_of(patient_id).await?;
        let mut views = Vec::with_capacity(plans.len());
        for plan in plans {
            views.push(self.plan_view(plan).await?);
        }
        Ok(views)
    }

    /// A plan with each line's status now, from the payments on its account.
    pub(super) async fn plan_view(&self, plan: PaymentPlan) -> Result<PlanView, CollectionsError> {
        let payments = self
            .store
            .promises(Some(plan.patient_id))
            .await?
            .payments
            .remove(&plan.patient_id)
            .unwrap_or_default();
        let lines = plan_status(&plan, &payments, self.clock.now(), self.today());
        Ok(PlanView { plan, lines })
    }
}

/// Who authorises a plan's settlement discount: the calling manager; a collector may not grant
/// one. `None` when there is no discount.
fn discount_approver(caller: &Caller, discount: Money) -> Result<Option<&str>, CollectionsError> {
    if !discount.is_positive() {
        return Ok(None);
    }
    if caller.role != Role::Manager {
        return Err(CollectionsError::SettlementNeedsManager);
    }
    Ok(Some(caller.subject.as_str()))
}
