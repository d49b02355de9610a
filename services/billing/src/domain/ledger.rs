//! The ledger: every money movement on a patient's account, in the order it happened, numbered
//! 1, 2, 3… with no gaps. Balances are sums over it; other services follow it as a change feed.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{ChargeId, PatientId, PaymentId};
use clinic_common::{Currency, Money};

use super::RefundId;

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerEntryKind {
    Charge,
    Payment,
    /// Money given back on a payment: a positive amount, reversing (part of) the payment.
    Refund,
}

impl LedgerEntryKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            LedgerEntryKind::Charge => "charge",
            LedgerEntryKind::Payment => "payment",
            LedgerEntryKind::Refund => "refund",
        }
    }
}

/// The charge or payment an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerSource {
    Charge(ChargeId),
    Payment(PaymentId),
    Refund(RefundId),
}

impl LedgerSource {
    pub fn kind(&self) -> LedgerEntryKind {
        match self {
            LedgerSource::Charge(_) => LedgerEntryKind::Charge,
            LedgerSource::Payment(_) => LedgerEntryKind::Payment,
            LedgerSource::Refund(_) => LedgerEntryKind::Refund,
        }
    }

    /// The charge or payment id, as text.
    pub fn id(&self) -> String {
        match self {
            LedgerSource::Charge(charge_id) => charge_id.to_string(),
            LedgerSource::Payment(payment_id) => payment_id.to_string(),
            LedgerSource::Refund(refund_id) => refund_id.to_string(),
        }
    }

    /// The kind and id as stored, read back.
    pub fn parse(kind: &str, id: &str) -> Option<Self> {
        match kind {
            "charge" => ChargeId::parse(id).ok().map(LedgerSource::Charge),
            "payment" => PaymentId::parse(id).ok().map(LedgerSource::Payment),
            "refund" => RefundId::parse(id).ok().map(LedgerSource::Refund),
            _ => None,
        }
    }
}

/// One entry of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// Position in the ledger: the first entry is 1, each next one is one more.
    pub sequence: i64,
    pub patient_id: PatientId,
    pub source: LedgerSource,
    /// Signed effect on the patient's balance: positive for charges and refunds, negative for
    /// payments.
    pub amount: Money,
    /// The clinic-local day the entry belongs to.
    pub service_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// A page of the ledger feed.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    /// The last entry's sequence, or the cursor the page was asked from when it is empty.
    pub last_sequence: i64,
    /// The newest sequence in the ledger when the page was read.
    pub head_sequence: i64,
}

/// The page size for the ledger feed: 0 means 500, more than 1000 is capped at 1000 (as every
/// `List` call caps), negative is refused.
pub fn ledger_page_size(requested: i32) -> Result<u32, &'static str> {
    const DEFAULT: u32 = 500;
    const MAX: u32 = 1000;
    match u32::try_from(requested) {
        Ok(0) => Ok(DEFAULT),
        Ok(size) => Ok(size.min(MAX)),
        Err(_) => Err("must not be negative"),
    }
}

/// A patient's account, summed from the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountBalance {
    pub patient_id: PatientId,
    pub total_charged: Money,
    /// Positive: what the patient paid, less what was refunded to them.
    pub total_paid: Money,
    /// Sequence of the patient's newest ledger entry, 0 when there is none. Every entry of the
    /// patient up to it is included, so a follower that has read the feed that far agrees.
    pub as_of_sequence: i64,
}

impl AccountBalance {
    /// A patient with nothing on the ledger. Billing cannot tell an unknown patient from one
    /// who was never charged, and does not need to.
    pub fn empty(patient_id: PatientId, currency: Currency) -> Self {
        AccountBalance {
            patient_id,
            total_charged: Money::zero(currency),
            total_paid: Money::zero(currency),
            as_of_sequence: 0,
        }
    }

    /// Charges minus payments: positive when the patient owes, negative when in credit.
    pub fn balance(&self) -> anyhow::Result<Money> {
        self.total_charged
            .checked_sub(self.total_paid)
            .map_err(|error| {
                anyhow::anyhow!("balance of {} is out of range: {error}", self.patient_id)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_to_500_and_cap_at_1000() {
        assert_eq!(ledger_page_size(0), Ok(500));
        assert_eq!(ledger_page_size(7), Ok(7));
        assert_eq!(ledger_page_size(5000), Ok(1000));
        assert!(ledger_page_size(-1).is_err());
    }

    #[test]
    fn an_overpaid_account_has_a_negative_balance() {
        let account = AccountBalance {
            total_charged: Money::from_minor(40_000, Currency::MXN),
            total_paid: Money::from_minor(50_000, Currency::MXN),
            ..AccountBalance::empty(PatientId::new(), Currency::MXN)
        };
        assert_eq!(
            account.balance().expect("in range"),
            Money::from_minor(-10_000, Currency::MXN)
        );
    }

    #[test]
    fn sources_round_trip_through_kind_and_id() {
        let source = LedgerSource::Payment(PaymentId::new());
        assert_eq!(
            LedgerSource::parse(source.kind().as_str(), &source.id()),
            Some(source)
        );
        assert_eq!(LedgerSource::parse("credit_note", &source.id()), None);
        let refund = LedgerSource::Refund(RefundId::new());
        assert_eq!(
            LedgerSource::parse(refund.kind().as_str(), &refund.id()),
            Some(refund)
        );
    }
}
