//! The collections service's application layer.
//!
//! [`Desk`] does what an RPC asks for once its request is converted and its caller authorised:
//! it composes the store's reads, asks the patient registry and billing, and judges with the
//! domain's rules, so that a gRPC handler calls one of its methods. By area:
//!
//! - `accounts`: an account's overview (every opening audited) and assigning accounts;
//! - `contacts`: patients' contact profiles from the registry, recording and checking contacts;
//! - `promises` and `plans`: arrangements, each with its status from the ledger's payments;
//! - `payments`: payments taken by phone, which billing records on the caller's behalf;
//! - `disputes`: answering disputes (billing corrects the charge) and escalating accounts;
//! - `notices`: statements and collection notices, as text or PDF;
//! - `worklist`: the accounts to work now, ranked;
//! - `reports`: aging, billing-issue trends and the KPIs.

mod accounts;
mod billing;
mod contacts;
mod disputes;
mod notices;
mod payments;
mod plans;
mod promises;
mod reports;
mod worklist;

pub(crate) use accounts::AccountView;
pub(crate) use billing::OnBehalf;
pub(crate) use notices::{NoticeFormat, RenderedNotice};
pub(crate) use payments::{PhonePayment, TakenPayment};
pub(crate) use plans::PlanView;
pub(crate) use reports::{ExportedKpis, KpiReport};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::Currency;
use clinic_common::client::ServiceChannel;
use clinic_common::clock::SharedClock;
use clinic_common::time::{local_date, start_of_day};
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use tonic::transport::Channel;

use crate::domain::{CollectionsError, ContactRules, EscalationPolicy};
use crate::store::ReceivablesStore;

/// What the desk needs to know about the clinic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClinicTerms {
    pub time_zone: Tz,
    pub currency: Currency,
    /// Days after the service day that a charge falls due.
    pub payment_terms_days: u32,
}

/// The other services the desk calls.
pub(crate) struct Upstream {
    pub patients: ServiceChannel,
    pub billing: ServiceChannel,
    pub billing_on_behalf: Channel,
}

/// The collections desk's work, with everything it needs.
pub(crate) struct Desk {
    pub(crate) store: ReceivablesStore,
    clock: SharedClock,
    pub(crate) terms: ClinicTerms,
    rules: ContactRules,
    policy: EscalationPolicy,
    /// Shown on notices as the creditor.
    clinic_name: String,
    /// The registry, asked for a patient's contact profile at every contact check, so that a
    /// consent withdrawn a minute ago is already respected.
    patients: PatientServiceClient<ServiceChannel>,
    /// Billing, called as this service (balances, the ledger feed).
    billing: BillingServiceClient<ServiceChannel>,
    /// Billing, called with the caller's own token (payments taken by phone, statements,
    /// corrections), so billing's role rules apply to the person and its records name them.
    billing_on_behalf: BillingServiceClient<Channel>,
}

/// How desk work that calls billing fails.
#[derive(Debug)]
pub(crate) enum DeskError {
    /// Collections' own error.
    Collections(CollectionsError),
    /// Billing's answer to the caller's own request (an invalid card, a refused role): theirs
    /// to see, passed on as billing gave it.
    Billing(tonic::Status),
}

impl From<CollectionsError> for DeskError {
    fn from(error: CollectionsError) -> Self {
        DeskError::Collections(error)
    }
}

impl From<anyhow::Error> for DeskError {
    fn from(error: anyhow::Error) -> Self {
        DeskError::Collections(error.into())
    }
}

impl Desk {
    pub(crate) fn new(
        store: ReceivablesStore,
        clock: SharedClock,
        terms: ClinicTerms,
        rules: ContactRules,
        policy: EscalationPolicy,
        clinic_name: String,
        upstream: Upstream,
    ) -> Self {
        Desk {
            store,
            clock,
            terms,
            rules,
            policy,
            clinic_name,
            patients: PatientServiceClient::new(upstream.patients),
            billing: BillingServiceClient::new(upstream.billing),
            billing_on_behalf: BillingServiceClient::new(upstream.billing_on_behalf),
        }
    }

    /// Now, by the service's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The clinic-local day of `at`.
    pub(crate) fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        local_date(at, self.terms.time_zone)
    }

    /// Today, in the clinic's time zone.
    pub(crate) fn today(&self) -> NaiveDate {
        self.day_of(self.clock.now())
    }

    /// The end of a clinic-local day, as an instant.
    fn end_of(&self, day: NaiveDate) -> DateTime<Utc> {
        start_of_day(day.succ_opt().unwrap_or(day), self.terms.time_zone)
    }
}

/// The page of `items` that starts at `offset` and holds at most `limit`.
fn page<T>(items: Vec<T>, limit: u32, offset: u64) -> Vec<T> {
    items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(limit as usize)
        .collect()
}
