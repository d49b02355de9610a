//! The desk's reports: aging on any day, billing-issue trends from the contact log, and the
//! KPIs the clinic's collections targets are measured by.

use chrono::NaiveDate;
use clinic_common::ids::PatientId;
use clinic_common::time::start_of_day;

use super::{Desk, page};
use crate::domain::{
    AgingBuckets, AgingReport, CollectionsError, IssuePeriod, KpiInputs, Kpis, Period, age_ledger,
    age_open_debts, issue_trends, kpis,
};
use crate::export::{self, ExportFormat};

/// The KPIs of a period.
#[derive(Debug, Clone)]
pub(crate) struct KpiReport {
    pub kpis: Kpis,
    /// The period's first and last days.
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A period's KPIs as a file.
#[derive(Debug, Clone)]
pub(crate) struct ExportedKpis {
    pub content: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
}

impl Desk {
    /// The aging on `as_of` (today when `None`), from the ledger as it stood at the end of that
    /// clinic-local day: one account's, or every account's with the page
    /// `offset..offset + limit` of them and the totals over all.
    pub(crate) async fn aging(
        &self,
        as_of: Option<NaiveDate>,
        patient_id: Option<PatientId>,
        limit: u32,
        offset: u64,
    ) -> Result<AgingReport, CollectionsError> {
        let today = self.today();
        let as_of = as_of.unwrap_or(today);
        let (aged, names, applied_sequence) = if as_of >= today {
            // Nothing is posted after now, so the ledger at the end of `as_of` is the ledger as
            // the receivables hold it: age their open debts, without replaying the ledger.
            let open = self.store.open_debts(patient_id).await?;
            let aged = age_open_debts(
                &open.debts,
                self.terms.currency,
                as_of,
                self.terms.payment_terms_days,
            )
            .map_err(|error| CollectionsError::Unexpected(error.into()))?;
            (aged, open.names, open.applied_sequence)
        } else {
            let history = self
                .store
                .ledger_history(self.end_of(as_of), patient_id)
                .await?;
            let aged = age_ledger(
                &history.entries,
                self.terms.currency,
                as_of,
                self.terms.payment_terms_days,
            )?;
            (aged, history.names, history.applied_sequence)
        };
        let mut total = AgingBuckets::zero(self.terms.currency);
        for account in &aged {
            total
                .add_all(&account.buckets)
                .map_err(|error| CollectionsError::Unexpected(error.into()))?;
        }
        let mut accounts = page(aged, limit, offset);
        for account in &mut accounts {
            account.patient_name = names.get(&account.patient_id).cloned();
        }
        Ok(AgingReport {
            as_of,
            total,
            accounts,
            as_of_sequence: applied_sequence,
        })
    }

    /// Contacts per billing issue and period over the clinic-local days `from..=to`.
    pub(crate) async fn issue_trends(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        period: Period,
    ) -> Result<Vec<IssuePeriod>, CollectionsError> {
        let zone = self.terms.time_zone;
        let issues = self
            .store
            .contact_issues(start_of_day(from, zone), self.end_of(to))
            .await?;
        let by_day: Vec<_> = issues
            .into_iter()
            .map(|(at, issue)| (self.day_of(at), issue))
            .collect();
        Ok(issue_trends(&by_day, from, to, period))
    }

    /// The KPIs of the `period` containing `day` (today when `None`), counted up to today.
    pub(crate) async fn kpis(
        &self,
        period: Period,
        day: Option<NaiveDate>,
    ) -> Result<KpiReport, CollectionsError> {
        let today = self.today();
        let now = self.clock.now();
        let day = day.unwrap_or(today);
        let (start, end) = (period.start(day), period.end(day));
        let counted_until = end.min(today);
        let from_instant = start_of_day(start, self.terms.time_zone);
        // Nothing is posted after now, so the end of the last day counted bounds the ledger;
        // promises are judged as they stand at that end, or now if it is still to come.
        let until_instant = self.end_of(counted_until);
        let history = self.store.ledger_history(until_instant, None).await?;
        let records = self.store.promises(None).await?;
        let promises = self.judge_promises(&records, until_instant.min(now));
        let contacts = self
            .store
            .follow_up_contacts(start, counted_until, until_instant)
            .await?;
        let phone_payments = self
            .store
            .phone_payments(from_instant, until_instant)
            .await?;
        let deadline = |step_day: NaiveDate| self.end_of(step_day);
        let kpis = kpis(&KpiInputs {
            currency: self.terms.currency,
            payment_terms_days: self.terms.payment_terms_days,
            period_start: start,
            counted_until,
            from_instant,
            until_instant,
            entries: &history.entries,
            promises: &promises,
            contacts: &contacts,
            next_step_deadline: &deadline,
            phone_payments: &phone_payments,
        })?;
        Ok(KpiReport { kpis, start, end })
    }

    /// The KPIs of the `period` containing `day` (today when `None`) as a CSV or XLSX file.
    pub(crate) async fn export_kpis(
        &self,
        period: Period,
        day: Option<NaiveDate>,
        format: ExportFormat,
    ) -> Result<ExportedKpis, CollectionsError> {
        let report = self.kpis(period, day).await?;
        let start = report.start;
        // Writing a workbook is blocking work.
        let content = tokio::task::spawn_blocking(move || {
            export::render(&report.kpis, period, report.start, report.end, format)
        })
        .await
        .map_err(|error| CollectionsError::Unexpected(error.into()))??;
        Ok(ExportedKpis {
            content,
            content_type: format.content_type(),
            file_name: format.file_name(period, start),
        })
    }
}
