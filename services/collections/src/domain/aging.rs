//! Aging: how long each open debt has been due, summed into the buckets the collections desk and
//! the clinic's reports use (not yet due, 0–30, 31–60, 61–90, 91–120 and over 120 days past due).
//!
//! A debt falls due `payment_terms_days` after its service day. On its due day it is 0 days past
//! due, and so already in the 0–30 bucket: it is owed that day, and a day later it is overdue.

use chrono::{NaiveDate, TimeDelta};
use clinic_common::ids::PatientId;
use clinic_common::money::MoneyError;
use clinic_common::{Currency, Money};

use super::{Account, LedgerEntry};

/// One aging bucket, by days past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgingBucket {
    /// The due day is still ahead.
    NotYetDue,
    /// 0 to 30 days past the due day, both included.
    Days0To30,
    Days31To60,
    Days61To90,
    Days91To120,
    /// 121 days or more.
    Over120,
}

impl AgingBucket {
    /// Every bucket, youngest first.
    pub const ALL: [AgingBucket; 6] = [
        AgingBucket::NotYetDue,
        AgingBucket::Days0To30,
        AgingBucket::Days31To60,
        AgingBucket::Days61To90,
        AgingBucket::Days91To120,
        AgingBucket::Over120,
    ];

    /// The bucket of a debt `days_past_due` days past its due day (negative: not yet due).
    pub fn for_days_past_due(days_past_due: i64) -> AgingBucket {
        match days_past_due {
            ..0 => AgingBucket::NotYetDue,
            0..=30 => AgingBucket::Days0To30,
            31..=60 => AgingBucket::Days31To60,
            61..=90 => AgingBucket::Days61To90,
            91..=120 => AgingBucket::Days91To120,
            _ => AgingBucket::Over120,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// When a debt for a service on `service_date` falls due under `payment_terms_days`.
pub fn due_date(service_date: NaiveDate, payment_terms_days: u32) -> NaiveDate {
    service_date
        .checked_add_signed(TimeDelta::days(i64::from(payment_terms_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// Days from `due` to `as_of`: negative before the due day, 0 on it.
pub fn days_past_due(due: NaiveDate, as_of: NaiveDate) -> i64 {
    (as_of - due).num_days()
}

/// Amounts per bucket, in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgingBuckets {
    amounts: [Money; 6],
}

impl AgingBuckets {
    pub fn zero(currency: Currency) -> Self {
        AgingBuckets {
            amounts: [Money::zero(currency); 6],
        }
    }

    pub fn get(&self, bucket: AgingBucket) -> Money {
        self.amounts[bucket.index()]
    }

    /// Adds `amount` to `bucket`; fails, changing nothing, on overflow or a foreign currency.
    pub fn add(&mut self, bucket: AgingBucket, amount: Money) -> Result<(), MoneyError> {
        self.amounts[bucket.index()] = self.amounts[bucket.index()].checked_add(amount)?;
        Ok(())
    }

    /// Adds every bucket of `other` to this one's; changes nothing on failure.
    pub fn add_all(&mut self, other: &AgingBuckets) -> Result<(), MoneyError> {
        let mut sum = *self;
        for bucket in AgingBucket::ALL {
            sum.add(bucket, other.get(bucket))?;
        }
        *self = sum;
        Ok(())
    }

    /// The sum over all buckets.
    pub fn total(&self) -> Result<Money, MoneyError> {
        let mut total = Money::zero(self.amounts[0].currency());
        for amount in self.amounts {
            total = total.checked_add(amount)?;
        }
        Ok(total)
    }
}

/// One account's aging on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountAging {
    pub patient_id: PatientId,
    /// "Given Family"; `None` until the registry has answered.
    pub patient_name: Option<String>,
    pub buckets: AgingBuckets,
    /// What the account owes on the day: the sum of the buckets.
    pub balance: Money,
    /// Days past due of the oldest open debt; negative when nothing is due yet.
    pub oldest_days_past_due: i64,
}

/// Ages an account's open debts as of `as_of`. `None` when nothing is open (paid up or in credit).
pub fn age_account(
    account: &Account,
    as_of: NaiveDate,
    payment_terms_days: u32,
) -> Result<Option<AccountAging>, MoneyError> {
    let mut buckets = AgingBuckets::zero(account.balance().currency());
    let mut oldest: Option<i64> = None;
    for charge in account.charges() {
        if !charge.remaining.is_positive() {
            continue;
        }
        let days = days_past_due(due_date(charge.service_date, payment_terms_days), as_of);
        buckets.add(AgingBucket::for_days_past_due(days), charge.remaining)?;
        oldest = Some(oldest.map_or(days, |oldest| oldest.max(days)));
    }
    let Some(oldest_days_past_due) = oldest else {
        return Ok(None);
    };
    Ok(Some(AccountAging {
        patient_id: account.patient_id(),
        patient_name: None,
        balance: buckets.total()?,
        buckets,
        oldest_days_past_due,
    }))
}

/// Replays `entries` (ledger order) into accounts and ages each one as of `as_of`. Only
/// accounts with something open are returned, largest balance first, then by patient id.
pub fn age_ledger(
    entries: &[LedgerEntry],
    currency: Currency,
    as_of: NaiveDate,
    payment_terms_days: u32,
) -> anyhow::Result<Vec<AccountAging>> {
    let mut accounts: std::collections::BTreeMap<PatientId, Account> =
        std::collections::BTreeMap::new();
    for entry in entries {
        accounts
            .entry(entry.patient_id)
            .or_insert_with(|| Account::new(entry.patient_id, currency))
            .apply(entry)?;
    }
    let mut aged = Vec::new();
    for account in accounts.values() {
        if let Some(aging) = age_account(account, as_of, payment_terms_days)? {
            aged.push(aging);
        }
    }
    aged.sort_by(|a, b| {
        b.balance
            .minor_units()
            .cmp(&a.balance.minor_units())
            .then_with(|| a.patient_id.to_string().cmp(&b.patient_id.to_string()))
    });
    Ok(aged)
}

/// Ages debts already allocated, as the receivables hold them now: each account's open charges
/// (patient, service day, what remains), in any order. Gives what [`age_ledger`] gives for the
/// ledger that produced them, without replaying it: the fast path for aging on today or later.
pub fn age_open_debts(
    debts: &[(PatientId, NaiveDate, Money)],
    currency: Currency,
    as_of: NaiveDate,
    payment_terms_days: u32,
) -> Result<Vec<AccountAging>, MoneyError> {
    let mut accounts: std::collections::HashMap<PatientId, (AgingBuckets, i64)> =
        std::collections::HashMap::new();
    for (patient_id, service_date, remaining) in debts {
        if !remaining.is_positive() {
            continue;
        }
        let days = days_past_due(due_date(*service_date, payment_terms_days), as_of);
        let (buckets, oldest) = accounts
            .entry(*patient_id)
            .or_insert((AgingBuckets::zero(currency), i64::MIN));
        buckets.add(AgingBucket::for_days_past_due(days), *remaining)?;
        *oldest = (*oldest).max(days);
    }
    let mut aged = Vec::with_capacity(accounts.len());
    for (patient_id, (buckets, oldest_days_past_due)) in accounts {
        aged.push(AccountAging {
            patient_id,
            patient_name: None,
            balance: buckets.total()?,
            buckets,
            oldest_days_past_due,
        });
    }
    aged.sort_by(|a, b| {
        b.balance
            .minor_units()
            .cmp(&a.balance.minor_units())
            .then_with(|| a.patient_id.to_string().cmp(&b.patient_id.to_string()))
    });
    Ok(aged)
}

/// The aging of the receivables on a day: totals over every account and one page of accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct AgingReport {
    pub as_of: NaiveDate,
    pub total: AgingBuckets,
    /// The page asked for: the largest balances first.
    pub accounts: Vec<AccountAging>,
    /// The last billing ledger sequence the figures could include.
    pub as_of_sequence: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EntryKind, LedgerEntry};

    const MXN: Currency = Currency::MXN;

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, day).expect("valid date")
    }

    #[test]
    fn bucket_edges_fall_where_the_clinic_counts_them() {
        assert_eq!(AgingBucket::for_days_past_due(-1), AgingBucket::NotYetDue);
        assert_eq!(AgingBucket::for_days_past_due(0), AgingBucket::Days0To30);
        assert_eq!(AgingBucket::for_days_past_due(30), AgingBucket::Days0To30);
        assert_eq!(AgingBucket::for_days_past_due(31), AgingBucket::Days31To60);
        assert_eq!(AgingBucket::for_days_past_due(60), AgingBucket::Days31To60);
        assert_eq!(AgingBucket::for_days_past_due(61), AgingBucket::Days61To90);
        assert_eq!(AgingBucket::for_days_past_due(90), AgingBucket::Days61To90);
        assert_eq!(AgingBucket::for_days_past_due(91), AgingBucket::Days91To120);
        assert_eq!(
            AgingBucket::for_days_past_due(120),
            AgingBucket::Days91To120
        );
        assert_eq!(AgingBucket::for_days_past_due(121), AgingBucket::Over120);
        assert_eq!(
            AgingBucket::for_days_past_due(i64::MAX),
            AgingBucket::Over120
        );
    }

    #[test]
    fn a_debt_falls_due_the_payment_terms_after_its_service_day() {
        assert_eq!(due_date(day(11, 1), 0), day(11, 1));
        assert_eq!(due_date(day(11, 1), 30), day(12, 1));
        assert_eq!(days_past_due(day(12, 1), day(11, 30)), -1);
        assert_eq!(days_past_due(day(12, 1), day(12, 1)), 0);
    }

    #[test]
    fn an_account_s_open_debts_are_bucketed_by_their_own_age() {
        let patient_id = PatientId::new();
        let mut account = Account::new(patient_id, MXN);
        let services = [
            (day(7, 1), 10_000),
            (day(10, 1), 20_000),
            (day(11, 20), 5_000),
        ];
        for (sequence, (service_date, minor)) in (1..).zip(services) {
            let entry = LedgerEntry {
                sequence,
                patient_id,
                kind: EntryKind::Charge,
                amount: Money::from_minor(minor, MXN),
                source_id: format!("charge-{sequence}"),
                service_date,
                created_at: "2026-11-20T17:00:00Z".parse().expect("valid"),
                related_source_id: None,
            };
            account.apply(&entry).expect("applies");
        }

        // As of Nov 22 with 15-day terms: July 1 is due July 16 (129 days), Oct 1 due Oct 16
        // (37 days), Nov 20 due Dec 5 (not yet).
        let aged = age_account(&account, day(11, 22), 15)
            .expect("adds up")
            .expect("something is open");

        assert_eq!(aged.buckets.get(AgingBucket::Over120).minor_units(), 10_000);
        assert_eq!(
            aged.buckets.get(AgingBucket::Days31To60).minor_units(),
            20_000
        );
        assert_eq!(
            aged.buckets.get(AgingBucket::NotYetDue).minor_units(),
            5_000
        );
        assert_eq!(aged.buckets.get(AgingBucket::Days0To30).minor_units(), 0);
        assert_eq!(aged.balance.minor_units(), 35_000);
        assert_eq!(aged.oldest_days_past_due, 129);
    }

    #[test]
    fn a_replayed_ledger_lists_only_accounts_that_owe_largest_first() {
        let (small, large, paid) = (PatientId::new(), PatientId::new(), PatientId::new());
        let entry = |sequence, patient_id, kind, minor| LedgerEntry {
            sequence,
            patient_id,
            kind,
            amount: Money::from_minor(minor, MXN),
            source_id: format!("source-{sequence}"),
            service_date: day(11, 1),
            created_at: "2026-11-01T17:00:00Z".parse().expect("valid"),
            related_source_id: None,
        };
        let entries = [
            entry(1, small, EntryKind::Charge, 1_000),
            entry(2, large, EntryKind::Charge, 9_000),
            entry(3, paid, EntryKind::Charge, 5_000),
            entry(4, paid, EntryKind::Payment, -5_000),
            entry(5, large, EntryKind::Payment, -4_000),
        ];

        let aged = age_ledger(&entries, MXN, day(11, 22), 0).expect("replays");

        let owing: Vec<(PatientId, i64)> = aged
            .iter()
            .map(|aging| (aging.patient_id, aging.balance.minor_units()))
            .collect();
        assert_eq!(owing, [(large, 5_000), (small, 1_000)]);
        assert_eq!(
            aged[0].buckets.get(AgingBucket::Days0To30).minor_units(),
            5_000
        );
    }

    #[test]
    fn aging_the_open_debts_gives_what_replaying_the_ledger_gives() {
        let patients: Vec<PatientId> = (0..7).map(|_| PatientId::new()).collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut entries = Vec::new();
        for sequence in 1..=400 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let patient_id = patients[(state % 7) as usize];
            let payment = state % 5 < 2;
            let minor = i64::try_from(state % 50_000).expect("small") + 1;
            entries.push(LedgerEntry {
                sequence,
                patient_id,
                kind: if payment {
                    EntryKind::Payment
                } else {
                    EntryKind::Charge
                },
                amount: Money::from_minor(if payment { -minor } else { minor }, MXN),
                source_id: format!("source-{sequence}"),
                service_date: day(1, 1) + chrono::TimeDelta::days((state % 300) as i64),
                created_at: "2026-11-01T17:00:00Z".parse().expect("valid"),
                related_source_id: None,
            });
        }
        let mut accounts: std::collections::BTreeMap<PatientId, Account> = Default::default();
        for entry in &entries {
            accounts
                .entry(entry.patient_id)
                .or_insert_with(|| Account::new(entry.patient_id, MXN))
                .apply(entry)
                .expect("applies");
        }
        let mut open = Vec::new();
        for account in accounts.values() {
            for charge in account.charges() {
                open.push((account.patient_id(), charge.service_date, charge.remaining));
            }
        }

        let replayed = age_ledger(&entries, MXN, day(11, 22), 15).expect("replays");
        let from_open = age_open_debts(&open, MXN, day(11, 22), 15).expect("ages");

        assert_eq!(from_open, replayed);
    }

    #[test]
    fn an_account_with_nothing_open_has_no_aging() {
        let account = Account::new(PatientId::new(), MXN);

        assert_eq!(age_account(&account, day(11, 22), 0), Ok(None));
    }
}
