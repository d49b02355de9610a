//! Promises to pay, each judged from the payments on its account.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::time::start_of_day;

use super::{Desk, page};
use crate::domain::{CollectionsError, NewPromise, PromiseStatus, PromiseView, promise_status};
use crate::store::PromiseRecords;

impl Desk {
    /// Records a promise made at `made_at` (now, or earlier when a manager carries it over from
    /// earlier records) once per request id, and judges it now.
    pub(crate) async fn record_promise(
        &self,
        promise: &NewPromise,
        recorded_by: &str,
        made_at: DateTime<Utc>,
    ) -> Result<PromiseView, CollectionsError> {
        let now = self.clock.now();
        let day = self.day_of(made_at);
        let day_started = start_of_day(day, self.terms.time_zone);
        let recorded = self
            .store
            .record_promise(promise, recorded_by, made_at, (day, day_started))
            .await?;
        // A new promise is judged now; a retry's first promise too (it may have been paid since).
        let records = PromiseRecords {
            payments: self
                .store
                .promises(Some(recorded.patient_id))
                .await?
                .payments,
            promises: vec![recorded],
        };
        self.judge_promises(&records, now)
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("a recorded promise lies in the future").into())
    }

    /// One page of promises, judged as they stood at the end of `as_of` (now when `None` or
    /// still to come), newest first: every promise of `patient_id`'s account or, over all
    /// accounts, each account's current promise (the newest still running) when it still needs
    /// attention.
    pub(crate) async fn promises(
        &self,
        patient_id: Option<PatientId>,
        as_of: Option<NaiveDate>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<PromiseView>, CollectionsError> {
        let now = self.clock.now();
        let at = match as_of {
            None => now,
            Some(day) => self.end_of(day).min(now),
        };
        let records = self.store.promises(patient_id).await?;
        let mut views = self.judge_promises(&records, at);
        if patient_id.is_none() {
            let mut seen = std::collections::HashSet::new();
            views.retain(|view| {
                view.status != PromiseStatus::Superseded && seen.insert(view.promise.patient_id)
            });
            views.retain(|view| view.status == PromiseStatus::Open || view.status.is_broken());
        }
        Ok(page(views, limit, offset))
    }

    /// Each promise judged at `at`: promises made later are left out, payments recorded later
    /// are not counted.
    pub(super) fn judge_promises(
        &self,
        records: &PromiseRecords,
        at: DateTime<Utc>,
    ) -> Vec<PromiseView> {
        let mut views = Vec::with_capacity(records.promises.len());
        for promise in &records.promises {
            if promise.made_at > at {
                continue;
            }
            let mut judged = promise.clone();
            // A promise superseded after `at` was still running then.
            if judged
                .superseded_at
                .is_some_and(|superseded| superseded > at)
            {
                judged.superseded_at = None;
                judged.superseded_by = None;
            }
            let payments = records
                .payments
                .get(&promise.patient_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            views.push(promise_status(&judged, payments, at, self.terms.time_zone));
        }
        views
    }
}
