//! Billing's ledger as collections reads it. Every change to what a patient owes is one entry
//! with a gapless sequence number; collections applies them in order, each exactly once.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::PatientId;

/// What a ledger entry records (billing.proto's `LedgerEntryKind`; each kind's effect on the
/// balance is documented there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A service, therapy, product or package charged (amount zero or more).
    Charge,
    /// Money received from the patient (negative amount).
    Payment,
    /// Money given back on a payment (positive amount): the balance goes back up.
    Refund,
    /// A charge's amount corrected, either way; related to the charge.
    Adjustment,
    /// Money taken off a charge (negative amount); related to the charge.
    CreditNote,
    /// What the clinic gave up collecting on a charge (negative amount); related to the charge.
    WriteOff,
    /// A kind this version of collections does not know yet (billing adds kinds over time). It
    /// is applied by the sign of its amount, so balances keep matching billing's.
    Other,
}

impl EntryKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Charge => "charge",
            EntryKind::Payment => "payment",
            EntryKind::Refund => "refund",
            EntryKind::Adjustment => "adjustment",
            EntryKind::CreditNote => "credit_note",
            EntryKind::WriteOff => "write_off",
            EntryKind::Other => "other",
        }
    }

    /// Reads back what [`EntryKind::as_str`] wrote.
    pub fn parse(text: &str) -> Option<EntryKind> {
        match text {
            "charge" => Some(EntryKind::Charge),
            "payment" => Some(EntryKind::Payment),
            "refund" => Some(EntryKind::Refund),
            "adjustment" => Some(EntryKind::Adjustment),
            "credit_note" => Some(EntryKind::CreditNote),
            "write_off" => Some(EntryKind::WriteOff),
            "other" => Some(EntryKind::Other),
            _ => None,
        }
    }

    /// Whether the entry corrects one charge (`related_source_id` names it).
    pub fn corrects_a_charge(&self) -> bool {
        matches!(
            self,
            EntryKind::Adjustment | EntryKind::CreditNote | EntryKind::WriteOff
        )
    }
}

/// One entry of billing's ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// Starts at 1 and grows by exactly 1 per entry.
    pub sequence: i64,
    pub patient_id: PatientId,
    pub kind: EntryKind,
    /// The signed effect on what the patient owes: positive raises it, negative lowers it.
    pub amount: Money,
    /// The charge or payment the entry records, in billing's ids.
    pub source_id: String,
    /// The clinic-local day the entry belongs to (for a charge, the day of the service).
    pub service_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// What the entry applies to: the charge an adjustment, credit note or write-off corrects,
    /// the payment a refund gives back.
    pub related_source_id: Option<String>,
}
