//! The ledger: every money movement on a patient's account, in the order it happened, numbered
//! 1, 2, 3… with no gaps. Balances are sums over it; other services follow it as a change feed.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{ChargeId, PatientId, PaymentId};
use clinic_common::{Currency, Money};

use super::{CorrectionId, CorrectionKind, RefundId};

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerEntryKind {
    Charge,
    Payment,
    /// Money given back on a payment: a positive amount, reversing (part of) the payment.
    Refund,
    /// A correction of a charge: an adjustment (either sign), a credit note or a write-off (both
    /// negative).
    Correction(CorrectionKind),
}

impl LedgerEntryKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            LedgerEntryKind::Charge => "charge",
            LedgerEntryKind::Payment => "payment",
            LedgerEntryKind::Refund => "refund",
            LedgerEntryKind::Correction(kind) => kind.as_str(),
        }
    }
}

/// What an entry records, with what it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerSource {
    Charge(ChargeId),
    Payment(PaymentId),
    Refund {
        refund_id: RefundId,
        payment_id: PaymentId,
    },
    Correction {
        kind: CorrectionKind,
        correction_id: CorrectionId,
        charge_id: ChargeId,
    },
}

impl LedgerSource {
    pub fn kind(&self) -> LedgerEntryKind {
        match self {
            LedgerSource::Charge(_) => LedgerEntryKind::Charge,
            LedgerSource::Payment(_) => LedgerEntryKind::Payment,
            LedgerSource::Refund { .. } => LedgerEntryKind::Refund,
            LedgerSource::Correction { kind, .. } => LedgerEntryKind::Correction(*kind),
        }
    }

    /// The charge, payment, refund or correction id, as text.
    pub fn id(&self) -> String {
        match self {
            LedgerSource::Charge(charge_id) => charge_id.to_string(),
            LedgerSource::Payment(payment_id) => payment_id.to_string(),
            LedgerSource::Refund { refund_id, .. } => refund_id.to_string(),
            LedgerSource::Correction { correction_id, .. } => correction_id.to_string(),
        }
    }

    /// What the entry applies to: a refund's payment, a correction's charge.
    pub fn related_id(&self) -> Option<String> {
        match self {
            LedgerSource::Charge(_) | LedgerSource::Payment(_) => None,
            LedgerSource::Refund { payment_id, .. } => Some(payment_id.to_string()),
            LedgerSource::Correction { charge_id, .. } => Some(charge_id.to_string()),
        }
    }

    /// The kind, id and related id as stored, read back.
    pub fn parse(kind: &str, id: &str, related: Option<&str>) -> Option<Self> {
        match (kind, related) {
            ("charge", None) => ChargeId::parse(id).ok().map(LedgerSource::Charge),
            ("payment", None) => PaymentId::parse(id).ok().map(LedgerSource::Payment),
            ("refund", Some(payment_id)) => Some(LedgerSource::Refund {
                refund_id: RefundId::parse(id).ok()?,
                payment_id: PaymentId::parse(payment_id).ok()?,
            }),
            (kind, Some(charge_id)) => Some(LedgerSource::Correction {
                kind: CorrectionKind::parse(kind)?,
                correction_id: CorrectionId::parse(id).ok()?,
                charge_id: ChargeId::parse(charge_id).ok()?,
            }),
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

/// A patient's account, summed from the ledger and the allocations.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountBalance {
    pub patient_id: PatientId,
    pub total_charged: Money,
    /// Positive: what the patient paid, less what was refunded to them.
    pub total_paid: Money,
    /// Signed sum of adjustments, credit notes and write-offs.
    pub total_corrections: Money,
    /// Payments' money held by charges.
    pub total_allocated: Money,
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
            total_corrections: Money::zero(currency),
            total_allocated: Money::zero(currency),
            as_of_sequence: 0,
        }
    }

    fn out_of_range(&self, error: clinic_common::money::MoneyError) -> anyhow::Error {
        anyhow::anyhow!(
            "the account of {} is out of range: {error}",
            self.patient_id
        )
    }

    /// Every entry summed: charges and corrections less payments. Positive when the patient
    /// owes, negative when in credit.
    pub fn balance(&self) -> anyhow::Result<Money> {
        self.total_charged
            .checked_add(self.total_corrections)
            .and_then(|due| due.checked_sub(self.total_paid))
            .map_err(|error| self.out_of_range(error))
    }

    /// What open charges still owe: everything due less what payments cover.
    pub fn outstanding(&self) -> anyhow::Result<Money> {
        self.total_charged
            .checked_add(self.total_corrections)
            .and_then(|due| due.checked_sub(self.total_allocated))
            .map_err(|error| self.out_of_range(error))
    }

    /// Money paid that no charge holds.
    pub fn advance(&self) -> anyhow::Result<Money> {
        self.total_paid
            .checked_sub(self.total_allocated)
            .map_err(|error| self.out_of_range(error))
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
    fn the_balance_is_the_outstanding_less_the_advance() {
        let account = AccountBalance {
            total_charged: Money::from_minor(100_000, Currency::MXN),
            total_corrections: Money::from_minor(-20_000, Currency::MXN),
            total_paid: Money::from_minor(90_000, Currency::MXN),
            total_allocated: Money::from_minor(70_000, Currency::MXN),
            ..AccountBalance::empty(PatientId::new(), Currency::MXN)
        };
        let balance = account.balance().expect("in range");
        let outstanding = account.outstanding().expect("in range");
        let advance = account.advance().expect("in range");
        assert_eq!(balance, Money::from_minor(-10_000, Currency::MXN));
        assert_eq!(outstanding, Money::from_minor(10_000, Currency::MXN));
        assert_eq!(advance, Money::from_minor(20_000, Currency::MXN));
        assert_eq!(outstanding.checked_sub(advance), Ok(balance));
    }

    #[test]
    fn sources_round_trip_through_kind_id_and_related_id() {
        let sources = [
            LedgerSource::Payment(PaymentId::new()),
            LedgerSource::Charge(ChargeId::new()),
            LedgerSource::Refund {
                refund_id: RefundId::new(),
                payment_id: PaymentId::new(),
            },
            LedgerSource::Correction {
                kind: CorrectionKind::CreditNote,
                correction_id: CorrectionId::new(),
                charge_id: ChargeId::new(),
            },
        ];
        for source in sources {
            let related = source.related_id();
            assert_eq!(
                LedgerSource::parse(source.kind().as_str(), &source.id(), related.as_deref()),
                Some(source)
            );
        }
        let payment = LedgerSource::Payment(PaymentId::new());
        assert_eq!(
            LedgerSource::parse("credit_note", &payment.id(), None),
            None
        );
        assert_eq!(
            LedgerSource::parse("rebate", &payment.id(), Some("x")),
            None
        );
    }
}
