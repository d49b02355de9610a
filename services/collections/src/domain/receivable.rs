//! A patient's receivable: what they owe, and which charges that is made of.
//!
//! Payments are allocated to the oldest open charges first (FIFO, oldest by service date, then by
//! ledger order), so what remains open is always the newest debt: this is what aging is measured
//! on. A payment larger than every open charge leaves a credit, and the next charges consume that
//! credit before anything else. Entries are applied by the sign of their amount: positive amounts
//! are debts, negative amounts pay debts; except that an adjustment, credit note or write-off
//! acts on the charge it corrects: taking off lowers what is left of that charge (any excess pays
//! other debts, oldest first, or becomes credit, as billing releases it to the patient's
//! advance), adding raises it. So the balance is always exactly billing's (the sum of the
//! entries), and equals the open charges' remaining amounts minus the credit.
//!
//! A correction of a charge no longer held (fully paid before the account was loaded) is applied
//! by its sign; an increase then becomes a debt of the correction's day.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money};

use super::{ApplyError, EntryKind, LedgerEntry};

/// A debt on an account (a charge, or any entry that raised the balance) and how much of it
/// payments have not yet covered.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCharge {
    /// The ledger sequence of the entry that created it; also its place among charges of the
    /// same day.
    pub sequence: i64,
    /// Billing's charge id.
    pub source_id: String,
    pub service_date: NaiveDate,
    /// What was charged.
    pub amount: Money,
    /// What of it is still unpaid: between zero and `amount`.
    pub remaining: Money,
}

impl OpenCharge {
    fn is_open(&self) -> bool {
        self.remaining.is_positive()
    }

    /// Allocation order: oldest service day first, then the order billing posted them in.
    fn age_key(&self) -> (NaiveDate, i64) {
        (self.service_date, self.sequence)
    }
}

/// A patient's receivable, as the ledger entries applied so far leave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    patient_id: PatientId,
    currency: Currency,
    /// Charges oldest first (see [`OpenCharge::age_key`]). Holds every open charge, plus charges
    /// fully paid since the account was loaded, so that a store can write back what changed.
    charges: Vec<OpenCharge>,
    /// Payments not yet allocated to any charge; never negative.
    credit: Money,
    /// Charges minus payments, exactly as in billing's ledger.
    balance: Money,
    last_payment_at: Option<DateTime<Utc>>,
    last_activity_at: Option<DateTime<Utc>>,
}

impl Account {
    /// An account no ledger entry has touched yet.
    pub fn new(patient_id: PatientId, currency: Currency) -> Self {
        Account {
            patient_id,
            currency,
            charges: Vec::new(),
            credit: Money::zero(currency),
            balance: Money::zero(currency),
            last_payment_at: None,
            last_activity_at: None,
        }
    }

    /// An account as stored: its open charges and unallocated credit. The balance follows from
    /// them; `None` when they do not add up to a representable amount (corrupt data).
    pub fn restore(
        patient_id: PatientId,
        currency: Currency,
        mut charges: Vec<OpenCharge>,
        credit: Money,
        last_payment_at: Option<DateTime<Utc>>,
        last_activity_at: Option<DateTime<Utc>>,
    ) -> Option<Self> {
        charges.sort_by_key(OpenCharge::age_key);
        let mut balance = Money::zero(currency).checked_sub(credit).ok()?;
        for charge in &charges {
            balance = balance.checked_add(charge.remaining).ok()?;
        }
        Some(Account {
            patient_id,
            currency,
            charges,
            credit,
            balance,
            last_payment_at,
            last_activity_at,
        })
    }

    pub fn patient_id(&self) -> PatientId {
        self.patient_id
    }

    /// What the patient owes: positive when they owe, negative when in credit.
    pub fn balance(&self) -> Money {
        self.balance
    }

    /// Payments not yet allocated to any charge.
    pub fn credit(&self) -> Money {
        self.credit
    }

    /// The charges the account holds, oldest first, including any paid off since it was loaded.
    pub fn charges(&self) -> &[OpenCharge] {
        &self.charges
    }

    pub fn last_payment_at(&self) -> Option<DateTime<Utc>> {
        self.last_payment_at
    }

    pub fn last_activity_at(&self) -> Option<DateTime<Utc>> {
        self.last_activity_at
    }

    /// The service day of the oldest charge not yet covered by payments.
    pub fn oldest_open_charge_date(&self) -> Option<NaiveDate> {
        self.charges
            .iter()
            .find(|charge| charge.is_open())
            .map(|charge| charge.service_date)
    }

    /// Applies one ledger entry of this patient's. All or nothing: on `Err` the account is as
    /// it was.
    pub fn apply(&mut self, entry: &LedgerEntry) -> Result<(), ApplyError> {
        let sequence = entry.sequence;
        if entry.amount.currency() != self.currency {
            return Err(ApplyError::Currency {
                sequence,
                found: entry.amount.currency(),
                expected: self.currency,
            });
        }
        let overflow = |_| ApplyError::Overflow { sequence };
        // Every fallible step is computed before anything changes.
        let balance = self.balance.checked_add(entry.amount).map_err(overflow)?;
        let amount = entry.amount.minor_units();
        let corrected = entry
            .related_source_id
            .as_deref()
            .filter(|_| entry.kind.corrects_a_charge())
            .and_then(|charge_id| {
                self.charges
                    .iter()
                    .position(|charge| charge.source_id == charge_id)
            });
        if let Some(index) = corrected {
            self.correct(index, amount, sequence)?;
        } else if amount > 0 {
            let covered = amount.min(self.credit.minor_units());
            let charge = OpenCharge {
                sequence,
                source_id: entry.source_id.clone(),
                service_date: entry.service_date,
                amount: entry.amount,
                remaining: Money::from_minor(amount - covered, self.currency),
            };
            self.credit = Money::from_minor(self.credit.minor_units() - covered, self.currency);
            let position = self
                .charges
                .partition_point(|held| held.age_key() <= charge.age_key());
            self.charges.insert(position, charge);
        } else if amount < 0 {
            let paid = amount
                .checked_neg()
                .ok_or(ApplyError::Overflow { sequence })?;
            // The credit grows by at most `paid`; checking that bound now keeps the updates
            // below infallible.
            self.credit
                .minor_units()
                .checked_add(paid)
                .ok_or(ApplyError::Overflow { sequence })?;
            self.pay_oldest(paid);
        }
        self.balance = balance;
        self.last_activity_at = latest(self.last_activity_at, entry.created_at);
        if entry.kind == EntryKind::Payment {
            self.last_payment_at = latest(self.last_payment_at, entry.created_at);
        }
        Ok(())
    }
}

impl Account {
    /// Allocates `paid` (positive minor units) to the oldest open charges, the rest to credit.
    /// Callers have checked that the credit can take all of it.
    fn pay_oldest(&mut self, paid: i64) {
        let mut unallocated = paid;
        for charge in self.charges.iter_mut().filter(|charge| charge.is_open()) {
            if unallocated == 0 {
                break;
            }
            let remaining = charge.remaining.minor_units();
            let paying = remaining.min(unallocated);
            charge.remaining = Money::from_minor(remaining - paying, self.currency);
            unallocated -= paying;
        }
        self.credit = Money::from_minor(self.credit.minor_units() + unallocated, self.currency);
    }

    /// Applies a correction of `amount` minor units to the charge at `index`: a negative one
    /// takes off what is left of it, the excess paying other debts; a positive one adds to it,
    /// consuming credit first. Nothing changes on `Err`.
    fn correct(&mut self, index: usize, amount: i64, sequence: i64) -> Result<(), ApplyError> {
        let overflow = || ApplyError::Overflow { sequence };
        if amount < 0 {
            let taken = amount.checked_neg().ok_or_else(overflow)?;
            let remaining = self.charges[index].remaining.minor_units();
            let off_this = remaining.min(taken);
            let excess = taken - off_this;
            self.credit
                .minor_units()
                .checked_add(excess)
                .ok_or_else(overflow)?;
            self.charges[index].remaining = Money::from_minor(remaining - off_this, self.currency);
            self.pay_oldest(excess);
        } else if amount > 0 {
            let charge = &self.charges[index];
            let new_amount = charge
                .amount
                .minor_units()
                .checked_add(amount)
                .ok_or_else(overflow)?;
            let covered = amount.min(self.credit.minor_units());
            let new_remaining = charge
                .remaining
                .minor_units()
                .checked_add(amount - covered)
                .ok_or_else(overflow)?;
            self.credit = Money::from_minor(self.credit.minor_units() - covered, self.currency);
            let charge = &mut self.charges[index];
            charge.amount = Money::from_minor(new_amount, self.currency);
            charge.remaining = Money::from_minor(new_remaining, self.currency);
        }
        Ok(())
    }
}

fn latest(known: Option<DateTime<Utc>>, instant: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(known.map_or(instant, |known| known.max(instant)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MXN: Currency = Currency::MXN;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, MXN)
    }

    fn day(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).expect("valid date")
    }

    /// The instant of the `sequence`th entry: an hour apart, from the 20th at midnight.
    fn at(sequence: i64) -> DateTime<Utc> {
        day(20).and_hms_opt(0, 0, 0).expect("valid time").and_utc()
            + chrono::TimeDelta::hours(sequence)
    }

    /// Applies entries in ledger order to a fresh account.
    struct Ledger {
        account: Account,
        next_sequence: i64,
    }

    impl Ledger {
        fn new() -> Self {
            Ledger {
                account: Account::new(PatientId::new(), MXN),
                next_sequence: 1,
            }
        }

        fn entry(&mut self, kind: EntryKind, minor: i64, service_day: u32) -> LedgerEntry {
            let sequence = self.next_sequence;
            self.next_sequence += 1;
            LedgerEntry {
                sequence,
                patient_id: self.account.patient_id(),
                kind,
                amount: mxn(minor),
                source_id: format!("source-{sequence}"),
                service_date: day(service_day),
                created_at: at(sequence),
                related_source_id: None,
            }
        }

        fn charge(&mut self, minor: i64, service_day: u32) -> &mut Self {
            let entry = self.entry(EntryKind::Charge, minor, service_day);
            self.account.apply(&entry).expect("applies");
            self
        }

        fn pay(&mut self, minor: i64) -> &mut Self {
            let entry = self.entry(EntryKind::Payment, -minor, 22);
            self.account.apply(&entry).expect("applies");
            self
        }

        /// (service day, remaining) of each charge, oldest first.
        fn remaining(&self) -> Vec<(u32, i64)> {
            use chrono::Datelike;
            self.account
                .charges()
                .iter()
                .map(|charge| (charge.service_date.day(), charge.remaining.minor_units()))
                .collect()
        }

        /// The balance must always equal open charges minus credit.
        fn assert_consistent(&self) {
            let open: i64 = self
                .account
                .charges()
                .iter()
                .map(|charge| charge.remaining.minor_units())
                .sum();
            assert_eq!(
                self.account.balance().minor_units(),
                open - self.account.credit().minor_units()
            );
        }
    }

    #[test]
    fn a_payment_covers_the_oldest_charge_first() {
        let mut ledger = Ledger::new();
        ledger.charge(50_000, 2).charge(30_000, 5).charge(20_000, 9);

        ledger.pay(60_000);

        assert_eq!(ledger.remaining(), [(2, 0), (5, 20_000), (9, 20_000)]);
        assert_eq!(ledger.account.balance(), mxn(40_000));
        assert_eq!(ledger.account.oldest_open_charge_date(), Some(day(5)));
        ledger.assert_consistent();
    }

    #[test]
    fn oldest_means_the_earliest_service_day_not_the_first_posted() {
        let mut ledger = Ledger::new();
        // A charge for the 3rd is posted after one for the 10th (a late entry at the desk).
        ledger.charge(10_000, 10).charge(10_000, 3);

        ledger.pay(10_000);

        assert_eq!(ledger.remaining(), [(3, 0), (10, 10_000)]);
        assert_eq!(ledger.account.oldest_open_charge_date(), Some(day(10)));
    }

    #[test]
    fn charges_of_the_same_day_are_paid_in_the_order_they_were_posted() {
        let mut ledger = Ledger::new();
        ledger.charge(7_000, 4).charge(3_000, 4);

        ledger.pay(8_000);

        let charges = ledger.account.charges();
        assert_eq!(charges[0].source_id, "source-1");
        assert_eq!(charges[0].remaining, mxn(0));
        assert_eq!(charges[1].remaining, mxn(2_000));
    }

    #[test]
    fn partial_payments_accumulate_on_the_same_charge() {
        let mut ledger = Ledger::new();
        ledger.charge(10_000, 1);

        ledger.pay(2_500).pay(2_500);

        assert_eq!(ledger.remaining(), [(1, 5_000)]);
        assert_eq!(ledger.account.oldest_open_charge_date(), Some(day(1)));
        ledger.assert_consistent();
    }

    #[test]
    fn paying_more_than_is_owed_leaves_a_credit_that_later_charges_consume_first() {
        let mut ledger = Ledger::new();
        ledger.charge(10_000, 1).pay(15_000);
        assert_eq!(ledger.account.balance(), mxn(-5_000));
        assert_eq!(ledger.account.credit(), mxn(5_000));
        assert_eq!(ledger.account.oldest_open_charge_date(), None);

        ledger.charge(3_000, 6);
        assert_eq!(ledger.remaining(), [(1, 0), (6, 0)]);
        assert_eq!(ledger.account.credit(), mxn(2_000));
        assert_eq!(ledger.account.oldest_open_charge_date(), None);

        ledger.charge(4_000, 8);
        assert_eq!(ledger.remaining(), [(1, 0), (6, 0), (8, 2_000)]);
        assert_eq!(ledger.account.credit(), mxn(0));
        assert_eq!(ledger.account.balance(), mxn(2_000));
        assert_eq!(ledger.account.oldest_open_charge_date(), Some(day(8)));
        ledger.assert_consistent();
    }

    #[test]
    fn a_payment_before_any_charge_is_a_credit() {
        let mut ledger = Ledger::new();

        ledger.pay(1_000).charge(1_000, 3);

        assert_eq!(ledger.account.balance(), mxn(0));
        assert_eq!(ledger.account.credit(), mxn(0));
        assert_eq!(ledger.remaining(), [(3, 0)]);
    }

    #[test]
    fn payments_set_the_last_payment_time_and_every_entry_the_last_activity() {
        let mut ledger = Ledger::new();
        ledger.charge(1_000, 1);
        assert_eq!(ledger.account.last_payment_at(), None);
        assert_eq!(ledger.account.last_activity_at(), Some(at(1)));

        ledger.pay(500).charge(200, 2);

        assert_eq!(ledger.account.last_payment_at(), Some(at(2)));
        assert_eq!(ledger.account.last_activity_at(), Some(at(3)));
    }

    #[test]
    fn a_credit_note_takes_off_the_charge_it_names_not_the_oldest() {
        let mut ledger = Ledger::new();
        ledger.charge(10_000, 1).charge(5_000, 2);
        let mut credit_note = ledger.entry(EntryKind::CreditNote, -3_000, 3);
        credit_note.related_source_id = Some("source-2".into());

        ledger.account.apply(&credit_note).expect("applies");

        assert_eq!(ledger.remaining(), [(1, 10_000), (2, 2_000)]);
        assert_eq!(ledger.account.balance(), mxn(12_000));
        ledger.assert_consistent();
    }

    #[test]
    fn taking_off_more_than_is_left_of_a_charge_pays_other_debts_then_credits() {
        let mut ledger = Ledger::new();
        ledger.charge(10_000, 1).charge(5_000, 2).pay(4_000);
        // The charge of the 1st has 6,000 left; writing off all 10,000 of it frees 4,000.
        let mut write_off = ledger.entry(EntryKind::WriteOff, -10_000, 3);
        write_off.related_source_id = Some("source-1".into());

        ledger.account.apply(&write_off).expect("applies");

        assert_eq!(ledger.remaining(), [(1, 0), (2, 1_000)]);
        assert_eq!(ledger.account.balance(), mxn(1_000));
        ledger.assert_consistent();
    }

    #[test]
    fn an_adjustment_up_raises_the_charge_it_names_and_keeps_its_service_day() {
        let mut ledger = Ledger::new();
        ledger.charge(10_000, 1).charge(5_000, 2).pay(10_000);
        let mut adjustment = ledger.entry(EntryKind::Adjustment, 2_500, 9);
        adjustment.related_source_id = Some("source-1".into());

        ledger.account.apply(&adjustment).expect("applies");

        assert_eq!(ledger.remaining(), [(1, 2_500), (2, 5_000)]);
        assert_eq!(ledger.account.oldest_open_charge_date(), Some(day(1)));
        assert_eq!(ledger.account.charges()[0].amount, mxn(12_500));
        ledger.assert_consistent();
    }

    #[test]
    fn entries_of_unknown_kinds_apply_by_sign_but_are_not_payments() {
        let mut ledger = Ledger::new();
        ledger.charge(10_000, 1).charge(5_000, 2);
        let credit_note = ledger.entry(EntryKind::Other, -10_000, 3);

        ledger.account.apply(&credit_note).expect("applies");

        assert_eq!(ledger.remaining(), [(1, 0), (2, 5_000)]);
        assert_eq!(ledger.account.last_payment_at(), None);
        ledger.assert_consistent();
    }

    #[test]
    fn an_entry_in_another_currency_changes_nothing() {
        let mut ledger = Ledger::new();
        ledger.charge(1_000, 1);
        let before = ledger.account.clone();
        let mut dollars = ledger.entry(EntryKind::Payment, -1_000, 2);
        dollars.amount = Money::from_minor(-1_000, "USD".parse().expect("known"));

        let refused = ledger.account.apply(&dollars);

        assert!(matches!(
            refused,
            Err(ApplyError::Currency { sequence: 2, .. })
        ));
        assert_eq!(ledger.account, before);
    }

    #[test]
    fn an_entry_that_would_overflow_changes_nothing() {
        let mut ledger = Ledger::new();
        ledger.charge(i64::MAX - 10, 1);
        let before = ledger.account.clone();
        let huge = ledger.entry(EntryKind::Charge, 100, 2);

        assert_eq!(
            ledger.account.apply(&huge),
            Err(ApplyError::Overflow { sequence: 2 })
        );
        assert_eq!(ledger.account, before);
    }

    #[test]
    fn a_restored_account_continues_where_it_left_off() {
        let mut ledger = Ledger::new();
        ledger.charge(10_000, 1).charge(6_000, 4).pay(12_000);
        let open: Vec<OpenCharge> = ledger
            .account
            .charges()
            .iter()
            .filter(|charge| charge.is_open())
            .rev()
            .cloned()
            .collect();

        let mut restored = Account::restore(
            ledger.account.patient_id(),
            MXN,
            open,
            ledger.account.credit(),
            ledger.account.last_payment_at(),
            ledger.account.last_activity_at(),
        )
        .expect("restores");
        let payment = ledger.entry(EntryKind::Payment, -4_000, 5);
        restored.apply(&payment).expect("applies");

        assert_eq!(restored.balance(), mxn(0));
        assert_eq!(restored.oldest_open_charge_date(), None);
    }

    #[test]
    fn any_sequence_of_entries_keeps_the_balance_equal_to_open_charges_minus_credit() {
        // A fixed pseudo-random walk of charges and payments of varied sizes.
        let mut ledger = Ledger::new();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut expected_balance = 0;
        for _ in 0..500 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let minor = i64::try_from(state % 20_000).expect("small") + 1;
            let service_day = u32::try_from(state % 28).expect("small") + 1;
            if state.is_multiple_of(3) {
                ledger.pay(minor);
                expected_balance -= minor;
            } else {
                ledger.charge(minor, service_day);
                expected_balance += minor;
            }
            ledger.assert_consistent();
            assert!(!ledger.account.credit().is_negative());
            assert!(
                ledger.account.credit().is_zero()
                    || ledger.account.oldest_open_charge_date().is_none(),
                "a credit and an open charge never coexist"
            );
        }
        assert_eq!(ledger.account.balance().minor_units(), expected_balance);
    }
}
