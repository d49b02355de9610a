//! The ledger follower: a background task that keeps the receivables current from billing's
//! ledger change feed, and asks the patient registry for the names (and contact profiles) of new
//! account holders.
//!
//! Each round reads the stored cursor, asks billing for the entries after it, and applies the page
//! and the new cursor in one transaction (see `store`). A full page means billing has more, so the
//! next round starts at once; otherwise the follower waits `ledger_poll_interval_ms`. When billing
//! or the registry cannot be reached the receivables stay as they were and the next round tries
//! again, so collections keeps answering, with `GetLedgerSyncStatus` showing how far behind it is.
//! Once a day it also purges contact-log entries past their 3-year retention; each round it has
//! billing write off the settlement discount of every payment plan paid in full.

mod convert;

use std::ops::ControlFlow;
use std::time::Duration;

use chrono_tz::Tz;
use clinic_common::Currency;
use clinic_common::Money;
use clinic_common::client::ServiceChannel;
use clinic_common::clock::SharedClock;
use clinic_common::time::local_date;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::billing::v1::{
    ListLedgerEntriesRequest, ListLedgerEntriesResponse, ListOpenChargesRequest,
    WriteOffChargeRequest,
};
use clinic_proto::money_to_proto;
use clinic_proto::patients::v1::GetPatientRequest;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use tokio_util::sync::CancellationToken;
use tonic::Code;

use crate::domain::{PaymentPlan, PlanStanding, display_name, plan_status};
use crate::registry;
use crate::store::{PageOutcome, PageStop, ReceivablesStore};

/// Entries asked for per call: large enough to catch up quickly after downtime, small enough
/// that one page's transaction stays short.
const PAGE_SIZE: i32 = 500;

/// Names asked for per round, so a backlog of new accounts cannot hold up the ledger.
const NAMES_PER_ROUND: u32 = 100;

/// How often contact-log entries past their retention are purged.
const PURGE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// What to do after a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Billing has more entries: go again at once.
    Continue,
    /// Caught up, or something failed: wait the poll interval.
    Wait,
    /// Shutting down.
    Stop,
}

/// Applies billing's ledger until the receivables include `target` (a ledger sequence billing
/// has reported), page after page, alongside the follower (the store serialises the two). Used
/// when a caller must see an entry at once, such as a payment just taken by phone. Returns the
/// sequence applied; fails when billing cannot be reached or the feed stops short of `target`.
pub async fn catch_up(
    store: &ReceivablesStore,
    billing: &mut BillingServiceClient<ServiceChannel>,
    currency: Currency,
    clock: &SharedClock,
    target: i64,
) -> anyhow::Result<i64> {
    loop {
        let applied = store.sync_status().await?.applied_sequence;
        if applied >= target {
            return Ok(applied);
        }
        let response = billing
            .list_ledger_entries(ListLedgerEntriesRequest {
                after_sequence: applied,
                page_size: PAGE_SIZE,
            })
            .await
            .map_err(|status| anyhow::anyhow!("billing's ledger is unreachable: {status}"))?
            .into_inner();
        let head = response.head_sequence;
        let (entries, malformed) = convert::entries(response.entries, currency);
        let outcome = store.apply_page(&entries, head, clock.now()).await?;
        let stuck = outcome.applied == 0 && outcome.applied_sequence < target;
        if stuck && (outcome.stopped.is_some() || malformed.is_some() || head <= applied) {
            anyhow::bail!(
                "billing's ledger stopped at {} before {target}",
                outcome.applied_sequence
            );
        }
    }
}

/// Logs what applying a page did; whether the page was applied to its end. A stop (a gap,
/// an entry an account refused, an entry that breaks the feed's contract) leaves the rest for
/// a later round, after the poll interval.
fn applied_whole(outcome: &PageOutcome, head: i64, malformed: Option<&convert::Malformed>) -> bool {
    if outcome.applied > 0 {
        tracing::info!(
            applied = outcome.applied,
            applied_sequence = outcome.applied_sequence,
            billing_head_sequence = head,
            "applied ledger entries"
        );
    }
    match &outcome.stopped {
        Some(PageStop::Gap { expected, found }) => {
            tracing::error!(
                expected,
                found,
                "billing's ledger feed skipped entries; refusing to apply past the gap"
            );
            return false;
        }
        Some(PageStop::Refused(refused)) => {
            tracing::error!(error = %refused, "a ledger entry was refused; stopping before it");
            return false;
        }
        None => {}
    }
    if let Some(malformed) = malformed {
        tracing::error!(
            sequence = malformed.sequence,
            reason = malformed.reason,
            "billing sent a ledger entry that breaks the feed's contract; stopping before it"
        );
        return false;
    }
    if head < outcome.applied_sequence {
        tracing::error!(
            billing_head_sequence = head,
            applied_sequence = outcome.applied_sequence,
            "billing's ledger is behind the receivables; was billing's database restored?"
        );
    }
    true
}

/// Follows billing's ledger into the receivables until stopped.
pub struct LedgerFollower {
    store: ReceivablesStore,
    billing: BillingServiceClient<ServiceChannel>,
    patients: PatientServiceClient<ServiceChannel>,
    clock: SharedClock,
    poll_interval: Duration,
    currency: Currency,
    /// Contact hours of patients the registry gives no zone for.
    clinic_zone: Tz,
}

impl LedgerFollower {
    pub fn new(
        store: ReceivablesStore,
        billing: ServiceChannel,
        patients: ServiceChannel,
        clock: SharedClock,
        poll_interval: Duration,
        currency: Currency,
        clinic_zone: Tz,
    ) -> Self {
        LedgerFollower {
            store,
            billing: BillingServiceClient::new(billing),
            patients: PatientServiceClient::new(patients),
            clock,
            poll_interval,
            currency,
            clinic_zone,
        }
    }

    /// Runs rounds until `stop` is cancelled. Calls to other services in flight are abandoned
    /// at once; a database transaction in flight is allowed to finish, so a stop never leaves a
    /// page half-applied.
    pub async fn run(mut self, stop: CancellationToken) {
        tracing::info!("following billing's ledger");
        let mut last_purge: Option<tokio::time::Instant> = None;
        loop {
            if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                last_purge = Some(tokio::time::Instant::now());
                match self.store.purge_contacts(self.clock.now()).await {
                    Ok(purged) => {
                        if purged > 0 {
                            tracing::info!(purged, "purged contacts past their retention");
                        }
                        crate::metrics::task_succeeded("contact_purge");
                    }
                    Err(error) => {
                        tracing::error!(error = ?error, "failed to purge the contact log")
                    }
                }
            }
            let mut next = self.follow_ledger(&stop).await;
            if next != Next::Stop && self.name_accounts(&stop).await.is_break() {
                next = Next::Stop;
            }
            if next != Next::Stop && self.settle_plans(&stop).await.is_break() {
                next = Next::Stop;
            }
            match next {
                Next::Continue => continue,
                Next::Stop => break,
                Next::Wait => {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(self.poll_interval) => {}
                    }
                }
            }
        }
        tracing::info!("stopped following billing's ledger");
    }

    /// Fetches and applies one page of billing's ledger.
    async fn follow_ledger(&mut self, stop: &CancellationToken) -> Next {
        let response = match self.fetch_page(stop).await {
            Ok(response) => response,
            Err(next) => return next,
        };
        let full_page = response.entries.len() >= PAGE_SIZE as usize;
        let head = response.head_sequence;
        let (entries, malformed) = convert::entries(response.entries, self.currency);
        let outcome = match self
            .store
            .apply_page(&entries, head, self.clock.now())
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(error = ?error, "failed to apply ledger entries");
                return Next::Wait;
            }
        };
        if !applied_whole(&outcome, head, malformed.as_ref()) {
            return Next::Wait;
        }
        crate::metrics::task_succeeded("ledger_follower");
        if full_page {
            Next::Continue
        } else {
            Next::Wait
        }
    }

    /// The page of billing's ledger after the stored cursor; `Err` with what to do next when
    /// there is none to apply.
    async fn fetch_page(
        &mut self,
        stop: &CancellationToken,
    ) -> Result<ListLedgerEntriesResponse, Next> {
        let cursor = match self.store.sync_status().await {
            Ok(status) => status.applied_sequence,
            Err(error) => {
                tracing::error!(error = ?error, "failed to read the ledger cursor");
                return Err(Next::Wait);
            }
        };
        let request = ListLedgerEntriesRequest {
            after_sequence: cursor,
            page_size: PAGE_SIZE,
        };
        let response = tokio::select! {
            () = stop.cancelled() => return Err(Next::Stop),
            response = self.billing.list_ledger_entries(request) => response,
        };
        match response {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => {
                // Billing's feed carries no patient data in its errors; the code and message
                // say whether it is down or refusing us.
                tracing::warn!(
                    code = ?status.code(),
                    message = status.message(),
                    after_sequence = cursor,
                    "billing's ledger is unreachable; receivables stay as they are"
                );
                Err(Next::Wait)
            }
        }
    }

    /// Has billing write off the settlement discount of each plan paid in full. A failure is
    /// logged and tried again next round: the write-offs are fixed once and sent under the same
    /// idempotency keys, so billing writes each off once.
    async fn settle_plans(&mut self, stop: &CancellationToken) -> ControlFlow<()> {
        let plans = match self.store.plans_to_settle().await {
            Ok(plans) => plans,
            Err(error) => {
                tracing::error!(error = ?error, "failed to read plans to settle");
                return ControlFlow::Continue(());
            }
        };
        if plans.is_empty() {
            return ControlFlow::Continue(());
        }
        let payments = match self.store.payments_on_arranged_accounts().await {
            Ok(payments) => payments,
            Err(error) => {
                tracing::error!(error = ?error, "failed to read payments on planned accounts");
                return ControlFlow::Continue(());
            }
        };
        let now = self.clock.now();
        let today = local_date(now, self.clinic_zone);
        for plan in plans {
            let paid = payments
                .get(&plan.patient_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if !PlanStanding::of(&plan_status(&plan, paid, now, today)).paid_off() {
                continue;
            }
            let settled = tokio::select! {
                () = stop.cancelled() => return ControlFlow::Break(()),
                settled = self.settle(&plan) => settled,
            };
            match settled {
                Ok(()) => tracing::info!(plan_id = plan.plan_id, "settlement discount written off"),
                Err(error) => {
                    tracing::warn!(error = ?error, plan_id = plan.plan_id, "a settlement discount is still to be written off")
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Writes a paid-off plan's settlement discount off in billing, the oldest charges first.
    async fn settle(&mut self, plan: &PaymentPlan) -> anyhow::Result<()> {
        let recorded = self.store.settlement_write_offs(&plan.plan_id, &[]).await?;
        let steps = if recorded.is_empty() {
            let open = self
                .billing
                .list_open_charges(ListOpenChargesRequest {
                    patient_id: plan.patient_id.to_string(),
                })
                .await
                .map_err(|status| anyhow::anyhow!("billing's open charges: {status}"))?
                .into_inner();
            let mut left = plan.settlement_discount.minor_units();
            let mut proposed = Vec::new();
            for open_charge in &open.charges {
                if left == 0 {
                    break;
                }
                let outstanding = open_charge
                    .outstanding
                    .as_ref()
                    .map_or(0, |money| money.minor_units);
                let amount = left.min(outstanding);
                let charge_id = open_charge
                    .charge
                    .as_ref()
                    .map(|charge| charge.charge_id.clone())
                    .unwrap_or_default();
                if amount > 0 && !charge_id.is_empty() {
                    proposed.push((charge_id, amount));
                    left -= amount;
                }
            }
            self.store
                .settlement_write_offs(&plan.plan_id, &proposed)
                .await?
        } else {
            recorded
        };
        for (charge_id, amount_minor, done) in steps {
            if done {
                continue;
            }
            self.billing
                .write_off_charge(WriteOffChargeRequest {
                    charge_id: charge_id.clone(),
                    amount: Some(money_to_proto(Money::from_minor(
                        amount_minor,
                        self.currency,
                    ))),
                    reason: format!("Settlement discount of payment plan {}", plan.plan_id),
                    request_id: format!("settlement-{}-{charge_id}", plan.plan_id),
                })
                .await
                .map_err(|status| anyhow::anyhow!("billing's write-off: {status}"))?;
            self.store
                .settlement_write_off_done(&plan.plan_id, &charge_id, self.clock.now())
                .await?;
        }
        self.store
            .mark_settled(&plan.plan_id, self.clock.now())
            .await
    }

    /// Asks the registry for the names of account holders not yet named. Breaks when stopping;
    /// a failure is logged and left for the next round.
    async fn name_accounts(&mut self, stop: &CancellationToken) -> ControlFlow<()> {
        let unnamed = match self.store.unnamed_accounts(NAMES_PER_ROUND).await {
            Ok(unnamed) => unnamed,
            Err(error) => {
                tracing::error!(error = ?error, "failed to read accounts without names");
                return ControlFlow::Continue(());
            }
        };
        for patient_id in unnamed {
            let request = GetPatientRequest {
                patient_id: patient_id.to_string(),
            };
            let response = tokio::select! {
                () = stop.cancelled() => return ControlFlow::Break(()),
                response = self.patients.get_patient(request) => response,
            };
            let name = match response {
                Ok(patient) => {
                    let patient = patient.into_inner();
                    // The contact profile comes with the name, so the contact rules know the
                    // patient before anyone asks about them.
                    let profile = registry::contact_profile(&patient, self.clinic_zone);
                    let saved = self
                        .store
                        .save_contact_profile(patient_id, &profile, self.clock.now())
                        .await;
                    if let Err(error) = saved {
                        tracing::error!(error = ?error, %patient_id, "failed to record a contact profile");
                        return ControlFlow::Continue(());
                    }
                    display_name(&patient.given_name, &patient.family_name)
                }
                Err(status) if status.code() == Code::NotFound => {
                    // Recorded as empty so that the registry is not asked every round.
                    tracing::warn!(%patient_id, "the patient registry does not know an account holder");
                    String::new()
                }
                Err(status) => {
                    tracing::warn!(
                        code = ?status.code(),
                        "the patient registry is unreachable; names will be asked for next round"
                    );
                    return ControlFlow::Continue(());
                }
            };
            if let Err(error) = self.store.set_patient_name(patient_id, &name).await {
                tracing::error!(error = ?error, %patient_id, "failed to record a patient name");
                return ControlFlow::Continue(());
            }
        }
        ControlFlow::Continue(())
    }
}
