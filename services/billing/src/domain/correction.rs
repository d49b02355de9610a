//! Corrections to a charge after it was posted: the ledger is append-only, so a wrong or
//! disputed charge is never edited but corrected by a new entry of its own kind, with a reason.
//!
//! - An **adjustment** corrects the charge's amount either way (a price keyed wrong, a service
//!   added to the visit): positive adds to what the patient owes for it, negative takes off.
//! - A **credit note** takes money off a charge the patient was billed for (a dispute settled in
//!   the patient's favour, a goodwill discount afterwards). It is numbered (NC-000001) and, when
//!   the charge was invoiced, becomes a CFDI of type egreso related to the invoice.
//! - A **write-off** gives up collecting (part of) what is still outstanding on a charge.
//!
//! None of them may take a charge below zero. When a charge ends up due less than payments
//! already cover, the difference is released back to those payments and becomes advance.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{ChargeId, PatientId, RequestId, request_fingerprint};
use uuid::Uuid;

use super::{BillingError, ChargeStanding, format_money};

/// A correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CorrectionId(Uuid);

impl CorrectionId {
    pub fn new() -> Self {
        CorrectionId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Uuid::parse_str(text.trim())
            .map(CorrectionId)
            .map_err(|_| "must be a correction id (UUID)")
    }
}

impl fmt::Display for CorrectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// As [`CorrectionId::parse`], so that an id kept as text (such as an idempotency key's
/// resource) reads back as one.
impl std::str::FromStr for CorrectionId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CorrectionId::parse(text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionKind {
    Adjustment,
    CreditNote,
    WriteOff,
}

impl CorrectionKind {
    /// The name stored, and the ledger entry's kind.
    pub fn as_str(&self) -> &'static str {
        match self {
            CorrectionKind::Adjustment => "adjustment",
            CorrectionKind::CreditNote => "credit_note",
            CorrectionKind::WriteOff => "write_off",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "adjustment" => Some(CorrectionKind::Adjustment),
            "credit_note" => Some(CorrectionKind::CreditNote),
            "write_off" => Some(CorrectionKind::WriteOff),
            _ => None,
        }
    }

    /// How the kind reads on a statement.
    /// Its place among the kinds: adjustment, credit note, write-off.
    pub fn index(&self) -> usize {
        match self {
            CorrectionKind::Adjustment => 0,
            CorrectionKind::CreditNote => 1,
            CorrectionKind::WriteOff => 2,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            CorrectionKind::Adjustment => "Adjustment",
            CorrectionKind::CreditNote => "Credit note",
            CorrectionKind::WriteOff => "Write-off",
        }
    }
}

/// A credit note's number: sequential per clinic, shown as `NC-000123`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CreditNoteNumber(i64);

impl CreditNoteNumber {
    pub fn new(number: i64) -> Self {
        CreditNoteNumber(number)
    }
}

impl fmt::Display for CreditNoteNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NC-{:06}", self.0)
    }
}

/// A request to correct a charge.
#[derive(Debug, Clone)]
pub struct NewCorrection {
    pub kind: CorrectionKind,
    pub charge_id: ChargeId,
    /// The signed effect on the patient's balance: never zero; negative for credit notes and
    /// write-offs.
    pub amount: Money,
    /// Why: required, 1-500 characters, for the audit trail and the patient's statement.
    pub reason: String,
    pub request_id: RequestId,
}

impl NewCorrection {
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            self.kind.as_str(),
            &self.charge_id.to_string(),
            &self.amount.minor_units().to_string(),
            self.amount.currency().code(),
            &self.reason,
        ])
    }

    /// Checks the correction against where the charge stands and returns how much of the
    /// payments' money on the charge must be released: what they cover beyond the new amount
    /// due. Refuses a correction that would take the charge below zero, a credit note for more
    /// than the charge is due, and a write-off of more than is outstanding.
    pub fn against(&self, charge: &ChargeStanding) -> Result<i64, BillingError> {
        let currency = self.amount.currency();
        let amount = self.amount.minor_units();
        let limit = |limit: i64| format_money(Money::from_minor(limit, currency));
        match self.kind {
            CorrectionKind::Adjustment if charge.due + amount < 0 => {
                return Err(BillingError::CorrectionTooLarge(format!(
                    "an adjustment may take at most {} off this charge, what it is due",
                    limit(charge.due)
                )));
            }
            CorrectionKind::CreditNote if -amount > charge.due => {
                return Err(BillingError::CorrectionTooLarge(format!(
                    "a credit note may take at most {} off this charge, what it is due",
                    limit(charge.due)
                )));
            }
            CorrectionKind::WriteOff if -amount > charge.outstanding() => {
                return Err(BillingError::CorrectionTooLarge(format!(
                    "a write-off may take at most {} off this charge, what is outstanding on it",
                    limit(charge.outstanding())
                )));
            }
            _ => {}
        }
        Ok((charge.allocated - (charge.due + amount)).max(0))
    }
}

/// A recorded correction.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub correction_id: CorrectionId,
    pub kind: CorrectionKind,
    pub patient_id: PatientId,
    pub charge_id: ChargeId,
    /// Signed effect on the balance, as its ledger entry.
    pub amount: Money,
    pub reason: String,
    /// Credit notes only.
    pub credit_note_number: Option<CreditNoteNumber>,
    /// Payments' money freed from the charge, now advance.
    pub released: Money,
    pub balance_after: Money,
    pub service_date: NaiveDate,
    pub created_by: String,
    pub request_id: RequestId,
    pub created_at: DateTime<Utc>,
    pub ledger_sequence: i64,
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn correction(kind: CorrectionKind, minor: i64) -> NewCorrection {
        NewCorrection {
            kind,
            charge_id: ChargeId::new(),
            amount: Money::from_minor(minor, Currency::MXN),
            reason: "Precio equivocado".into(),
            request_id: RequestId::parse("fix-1").expect("valid"),
        }
    }

    /// A charge due 800.00 of which 500.00 is paid.
    fn half_paid() -> ChargeStanding {
        ChargeStanding {
            charge_id: ChargeId::new(),
            service_date: NaiveDate::from_ymd_opt(2026, 11, 20).expect("a date"),
            sequence: 1,
            due: 80_000,
            allocated: 50_000,
        }
    }

    #[test]
    fn lowering_a_charge_below_what_was_paid_releases_the_difference() {
        let charge = half_paid();
        let released = |kind, minor| correction(kind, minor).against(&charge).expect("allowed");
        assert_eq!(released(CorrectionKind::CreditNote, -40_000), 10_000);
        assert_eq!(released(CorrectionKind::Adjustment, -30_000), 0);
        assert_eq!(released(CorrectionKind::Adjustment, 10_000), 0);
        assert_eq!(released(CorrectionKind::CreditNote, -80_000), 50_000);
    }

    #[test]
    fn no_correction_takes_a_charge_below_zero_and_write_offs_stop_at_the_outstanding() {
        let charge = half_paid();
        let too_much = correction(CorrectionKind::CreditNote, -80_001).against(&charge);
        assert!(
            matches!(&too_much, Err(BillingError::CorrectionTooLarge(why)) if why.contains("$800.00")),
            "{too_much:?}"
        );
        assert!(
            correction(CorrectionKind::Adjustment, -80_001)
                .against(&charge)
                .is_err()
        );
        let write_off = correction(CorrectionKind::WriteOff, -30_001).against(&charge);
        assert!(
            matches!(&write_off, Err(BillingError::CorrectionTooLarge(why)) if why.contains("$300.00")),
            "{write_off:?}"
        );
        assert_eq!(
            correction(CorrectionKind::WriteOff, -30_000)
                .against(&charge)
                .expect("allowed"),
            0
        );
    }

    #[test]
    fn credit_notes_are_numbered_with_six_digits() {
        assert_eq!(CreditNoteNumber::new(12).to_string(), "NC-000012");
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in [
            CorrectionKind::Adjustment,
            CorrectionKind::CreditNote,
            CorrectionKind::WriteOff,
        ] {
            assert_eq!(CorrectionKind::parse(kind.as_str()), Some(kind));
        }
    }
}
