//! The receivables model and its rules, free of storage and transport.
//!
//! - [`LedgerEntry`]: one entry of billing's ledger, as collections reads it.
//! - [`Account`]: a patient's receivable and how each entry changes it (FIFO allocation).
//! - The read models the service answers with: [`Receivable`], [`ReceivablesPage`],
//!   [`LedgerSyncStatus`].
//! - Contacts: the contact log, the account's contact state and the contact rules engine.
//! - Promises to pay and their status, derived from payments ([`PromiseView`]).
//! - Payment plans: schedules and instalment status, derived from payments ([`PaymentPlan`]).
//! - The worklist: accounts to work now, ranked ([`WorklistEntry`]).
//! - Aging: due dates, days past due and the aging buckets ([`AgingReport`]).

mod aging;
mod contact;
mod dispute;
mod error;
mod ledger;
mod notice;
mod plan;
mod promise;
mod receivable;
mod report;
mod worklist;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::PatientId;

pub use aging::{
    AccountAging, AgingBucket, AgingBuckets, AgingReport, age_ledger, age_open_debts,
    days_past_due, due_date,
};
pub use contact::{
    BillingIssue, Channel, Contact, ContactKind, ContactProfile, ContactRule, ContactRules,
    ContactState, Direction, LoggedCall, NewContact, Notes, Outcome, ProposedContact, Purpose,
    outcome_fits,
};
pub use dispute::{
    Dispute, DisputeAnswer, Escalation, EscalationPolicy, EscalationRefusal, EscalationTarget,
    GivenAnswer, NewAnswer, NewEscalation,
};
pub use error::{ApplyError, CollectionsError};
pub use ledger::{EntryKind, LedgerEntry};
pub use notice::{
    Language, NoticeContent, NoticeKind, NoticeLine, NoticeStyle, OpenDebt, StatementLine,
    notice_lines, notice_text,
};
pub use plan::{
    Frequency, InstalmentStatus, InstalmentView, MAX_INSTALMENTS, NewPlan, PaymentPlan,
    PlanStanding, Replacement, ScheduledPayment, check_first_date, plan_status,
};
pub use promise::{
    NewPromise, PaymentMade, Promise, PromiseContact, PromiseStatus, PromiseView,
    check_promise_conversation, check_promised_date, promise_status,
};
pub use receivable::{Account, OpenCharge};
pub use report::{
    ContactMade, ISSUES, IssuePeriod, KpiInputs, Kpis, Period, TRENDS_MAX_DAYS, issue_trends, kpis,
};
pub use worklist::{AccountContacts, WorklistEntry, build_worklist};

/// A patient account as the collections desk lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Receivable {
    pub patient_id: PatientId,
    /// "Given Family"; `None` until the patient registry has answered.
    pub patient_name: Option<String>,
    /// What the patient owes; positive for every listed account.
    pub balance: Money,
    pub oldest_open_charge_date: Option<NaiveDate>,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub last_activity_at: Option<DateTime<Utc>>,
}

impl Receivable {
    /// Days the oldest open charge is past its due day on `today` (negative before it is due).
    pub fn days_past_due(&self, today: NaiveDate, payment_terms_days: u32) -> Option<i64> {
        self.oldest_open_charge_date
            .map(|service_date| days_past_due(due_date(service_date, payment_terms_days), today))
    }
}

/// One page of receivables, with figures over all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivablesPage {
    pub accounts: Vec<Receivable>,
    /// The sum of every open balance, not just this page's.
    pub total_open: Money,
    /// The last billing ledger sequence the figures include.
    pub as_of_sequence: i64,
}

/// How far the receivables have followed billing's ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerSyncStatus {
    /// The last ledger sequence applied; 0 before the first entry.
    pub applied_sequence: i64,
    /// The newest sequence billing reported at the last successful poll.
    pub billing_head_sequence: i64,
    /// When billing last answered; `None` until it first has.
    pub last_sync_at: Option<DateTime<Utc>>,
}

/// The name collections shows for a patient: "Given Family", as the registry has it.
pub fn display_name(given_name: &str, family_name: &str) -> String {
    let given = given_name.trim();
    let family = family_name.trim();
    match (given.is_empty(), family.is_empty()) {
        (false, false) => format!("{given} {family}"),
        (false, true) => given.to_owned(),
        (true, _) => family.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_given_then_family() {
        assert_eq!(display_name(" María ", "García"), "María García");
        assert_eq!(display_name("伟", ""), "伟");
        assert_eq!(display_name("", "Ёлкин"), "Ёлкин");
    }
}
