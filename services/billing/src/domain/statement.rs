//! Balances as reception and collections read them: a patient's statement over a span of days
//! (opening balance, every ledger line with its running balance, closing balance), and the
//! patients treated today who still owe, so nobody leaves without paying.

use chrono::NaiveDate;
use clinic_common::Money;
use clinic_common::ids::PatientId;

use super::{Charge, CorrectionKind, CreditNoteNumber, LedgerEntryKind, ReceiptNumber};

/// What a statement line records, with what reception needs to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementDetail {
    Charge {
        price_code: String,
        description: String,
        quantity: i32,
    },
    Payment {
        /// `cash`, `card` or `bank_transfer`.
        method: String,
        receipt_number: ReceiptNumber,
    },
    /// Money given back on the payment with `receipt_number`, by that payment's method.
    Refund {
        method: String,
        receipt_number: ReceiptNumber,
    },
    /// An adjustment, credit note or write-off of a charge of `price_code`.
    Correction {
        kind: CorrectionKind,
        price_code: String,
        reason: String,
        credit_note_number: Option<CreditNoteNumber>,
    },
}

impl StatementDetail {
    pub fn kind(&self) -> LedgerEntryKind {
        match self {
            StatementDetail::Charge { .. } => LedgerEntryKind::Charge,
            StatementDetail::Payment { .. } => LedgerEntryKind::Payment,
            StatementDetail::Refund { .. } => LedgerEntryKind::Refund,
            StatementDetail::Correction { kind, .. } => LedgerEntryKind::Correction(*kind),
        }
    }

    /// One line of text for a printed or displayed statement, e.g. `CONS-01 Consulta x2`,
    /// `Payment R-000012 (cash)`, `Refund on R-000012 (card)`,
    /// `Credit note NC-000003 on CONS-01: Cobro duplicado`.
    pub fn description(&self) -> String {
        match self {
            StatementDetail::Charge {
                price_code,
                description,
                quantity,
            } if *quantity > 1 => format!("{price_code} {description} x{quantity}"),
            StatementDetail::Charge {
                price_code,
                description,
                ..
            } => format!("{price_code} {description}"),
            StatementDetail::Payment {
                method,
                receipt_number,
            } => format!("Payment {receipt_number} ({method})"),
            StatementDetail::Refund {
                method,
                receipt_number,
            } => format!("Refund on {receipt_number} ({method})"),
            StatementDetail::Correction {
                kind,
                price_code,
                reason,
                credit_note_number: Some(number),
            } => format!("{} {number} on {price_code}: {reason}", kind.label()),
            StatementDetail::Correction {
                kind,
                price_code,
                reason,
                credit_note_number: None,
            } => format!("{} on {price_code}: {reason}", kind.label()),
        }
    }
}

/// A ledger entry as a statement reads it, before running balances are added.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementEntry {
    pub sequence: i64,
    pub service_date: NaiveDate,
    /// The charge, payment or refund id.
    pub source_id: String,
    pub detail: StatementDetail,
    /// Signed effect on the balance: positive for charges and refunds, negative for payments.
    pub amount: Money,
}

/// One line of a statement: an entry and the balance right after it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementLine {
    pub entry: StatementEntry,
    pub running_balance: Money,
}

/// A patient's account over `from..=to` (either end open).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub patient_id: PatientId,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The balance from every entry dated before `from`; zero without `from`.
    pub opening_balance: Money,
    pub lines: Vec<StatementLine>,
    /// The opening balance plus every line: the balance at the end of `to`.
    pub closing_balance: Money,
}

impl Statement {
    /// Builds the statement from its opening balance and its entries, in the order they are to
    /// be listed (by service date, then ledger sequence), running the balance down the lines.
    pub fn build(
        patient_id: PatientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        opening_balance: Money,
        entries: Vec<StatementEntry>,
    ) -> anyhow::Result<Statement> {
        let mut running_balance = opening_balance;
        let mut lines = Vec::with_capacity(entries.len());
        for entry in entries {
            running_balance = running_balance.checked_add(entry.amount).map_err(|error| {
                anyhow::anyhow!("statement of {patient_id} is out of range: {error}")
            })?;
            lines.push(StatementLine {
                entry,
                running_balance,
            });
        }
        Ok(Statement {
            patient_id,
            from,
            to,
            opening_balance,
            lines,
            closing_balance: running_balance,
        })
    }
}

/// The days a statement covers; `to` before `from` is refused.
pub fn statement_span(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), &'static str> {
    match (from, to) {
        (Some(from), Some(to)) if to < from => Err("must not be before from_date"),
        span => Ok(span),
    }
}

/// A patient treated today who still owes: their balance now and today's charges.
#[derive(Debug, Clone, PartialEq)]
pub struct UnpaidPatient {
    pub patient_id: PatientId,
    /// Positive: what they owe now, over every day, not only today.
    pub balance: Money,
    pub charges_today: Vec<Charge>,
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    fn day(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).expect("a valid day")
    }

    fn entry(sequence: i64, detail: StatementDetail, amount_minor: i64) -> StatementEntry {
        StatementEntry {
            sequence,
            service_date: day(20),
            source_id: format!("source-{sequence}"),
            detail,
            amount: mxn(amount_minor),
        }
    }

    #[test]
    fn the_balance_runs_down_the_lines_from_the_opening_balance() {
        let consult = StatementDetail::Charge {
            price_code: "CONS-01".into(),
            description: "Consulta".into(),
            quantity: 1,
        };
        let payment = StatementDetail::Payment {
            method: "cash".into(),
            receipt_number: ReceiptNumber::new(12),
        };
        let refund = StatementDetail::Refund {
            method: "cash".into(),
            receipt_number: ReceiptNumber::new(12),
        };
        let statement = Statement::build(
            PatientId::new(),
            Some(day(20)),
            None,
            mxn(10_000),
            vec![
                entry(4, consult, 50_000),
                entry(5, payment, -60_000),
                entry(6, refund, 5_000),
            ],
        )
        .expect("in range");

        let running: Vec<Money> = statement
            .lines
            .iter()
            .map(|line| line.running_balance)
            .collect();
        assert_eq!(running, vec![mxn(60_000), mxn(0), mxn(5_000)]);
        assert_eq!(statement.closing_balance, mxn(5_000));
    }

    #[test]
    fn a_statement_without_lines_closes_at_its_opening_balance() {
        let statement =
            Statement::build(PatientId::new(), None, None, mxn(0), Vec::new()).expect("in range");
        assert_eq!(statement.closing_balance, mxn(0));
        assert!(statement.lines.is_empty());
    }

    #[test]
    fn lines_describe_themselves_for_a_printed_statement() {
        let crown = StatementDetail::Charge {
            price_code: "CROWN".into(),
            description: "Corona".into(),
            quantity: 2,
        };
        assert_eq!(crown.description(), "CROWN Corona x2");
        let refund = StatementDetail::Refund {
            method: "card".into(),
            receipt_number: ReceiptNumber::new(7),
        };
        assert_eq!(refund.description(), "Refund on R-000007 (card)");
        assert_eq!(refund.kind(), LedgerEntryKind::Refund);
        let credit = StatementDetail::Correction {
            kind: CorrectionKind::CreditNote,
            price_code: "CONS-01".into(),
            reason: "Cobro duplicado".into(),
            credit_note_number: Some(CreditNoteNumber::new(3)),
        };
        assert_eq!(
            credit.description(),
            "Credit note NC-000003 on CONS-01: Cobro duplicado"
        );
    }

    #[test]
    fn a_span_ending_before_it_starts_is_refused() {
        assert!(statement_span(Some(day(21)), Some(day(20))).is_err());
        assert_eq!(
            statement_span(Some(day(20)), Some(day(20))),
            Ok((Some(day(20)), Some(day(20))))
        );
        assert_eq!(statement_span(None, Some(day(1))), Ok((None, Some(day(1)))));
    }
}
