//! The worklist: every account with an open balance, with what is known about contacting it
//! and the arrangements it has, ranked by the domain's score.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;

use super::{Desk, page};
use crate::domain::{
    AccountContacts, CollectionsError, ContactProfile, PlanStanding, PromiseStatus, WorklistEntry,
    build_worklist, plan_status,
};

impl Desk {
    /// One page of the worklist on `as_of` (today when `None`): the accounts to work now,
    /// ranked; only `collector`'s when one is named.
    pub(crate) async fn worklist(
        &self,
        as_of: Option<NaiveDate>,
        collector: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<WorklistEntry>, CollectionsError> {
        let now = self.clock.now();
        let as_of = as_of.unwrap_or_else(|| self.today());
        let (accounts, mut contacts) = self
            .store
            .worklist_inputs(now - self.rules.lookback())
            .await?;
        self.add_promises(&mut contacts, now).await?;
        self.add_plans(&mut contacts, now).await?;
        // Accounts the registry has not described yet are judged on letters alone.
        let fallback = ContactProfile {
            time_zone: self.terms.time_zone,
            consent_sms: false,
            consent_whatsapp: false,
            consent_email: false,
            consent_phone_call: false,
            has_phone: false,
            has_email: false,
        };
        let worklist = build_worklist(
            accounts,
            &contacts,
            &self.rules,
            &fallback,
            collector,
            as_of,
            self.terms.payment_terms_days,
            now,
        );
        Ok(page(worklist, limit, offset))
    }

    /// Adds each account's current promise, judged now, and how many of its promises broke.
    async fn add_promises(
        &self,
        contacts: &mut HashMap<PatientId, AccountContacts>,
        now: DateTime<Utc>,
    ) -> Result<(), CollectionsError> {
        let promises = self.store.promises(None).await?;
        // Newest first, so the first promise seen for an account is its current one.
        for view in self.judge_promises(&promises, now) {
            if let Some(known) = contacts.get_mut(&view.promise.patient_id) {
                if view.status.is_broken() {
                    known.broken_promises += 1;
                }
                if known.promise.is_none() && view.status != PromiseStatus::Superseded {
                    known.promise = Some(view);
                }
            }
        }
        Ok(())
    }

    /// Adds how each account's active plan stands now.
    async fn add_plans(
        &self,
        contacts: &mut HashMap<PatientId, AccountContacts>,
        now: DateTime<Utc>,
    ) -> Result<(), CollectionsError> {
        let plans = self.store.active_plans().await?;
        if plans.is_empty() {
            return Ok(());
        }
        let payments = self.store.payments_on_arranged_accounts().await?;
        let today = self.today();
        for plan in &plans {
            if let Some(known) = contacts.get_mut(&plan.patient_id) {
                let paid = payments
                    .get(&plan.patient_id)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                known.plan = Some(PlanStanding::of(&plan_status(plan, paid, now, today)));
            }
        }
        Ok(())
    }
}
