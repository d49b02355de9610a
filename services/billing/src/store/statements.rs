//! Reading balances for people: a patient's statement over a span of days, and the patients
//! treated today who still owe. Read-only; every figure is summed from the ledger.

use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDate;
use clinic_common::ids::PatientId;
use clinic_common::with_db;
use clinic_common::{Currency, Money};

use super::charges::{ChargeRow, charge_columns};
use super::{BillingStore, corrupt};
use crate::domain::{
    BillingError, CorrectionKind, CreditNoteNumber, ReceiptNumber, Statement, StatementDetail,
    StatementEntry, UnpaidPatient,
};

/// Stand-ins for "no bound". Four-digit years, because SQLite compares dates as text: chrono's
/// own extremes carry a sign and would sort wrongly.
const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid date");
const LATEST: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

/// The start and end of an open span, as bound to SQL, so one query serves every combination.
fn span_bounds(from: Option<NaiveDate>, to: Option<NaiveDate>) -> (NaiveDate, NaiveDate) {
    (from.unwrap_or(EARLIEST), to.unwrap_or(LATEST))
}

impl BillingStore {
    /// The patient's statement over `from..=to` (either end open). Lines are ordered by service
    /// date, then by when they were posted (ledger sequence), so a back-dated charge sits on its
    /// day. `currency` is the clinic's: every entry is in it.
    pub async fn statement(
        &self,
        patient_id: PatientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        currency: Currency,
    ) -> Result<Statement, BillingError> {
        let (start, end) = span_bounds(from, to);
        // Both reads in one transaction, so the opening balance and the lines come from one
        // snapshot even while payments are being posted.
        let (opening_minor, rows) = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin().await?;
                let opening: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries \
                     WHERE patient_id = $1 AND service_date < $2",
                )
                .bind(patient_id.to_string())
                .bind(start)
                .fetch_one(&mut *tx)
                .await?;
                let rows: Vec<StatementRow> = sqlx::query_as(
                    "SELECT l.sequence, l.kind, l.amount_minor, l.currency, l.source_id, \
                     l.service_date, c.price_code, c.description, c.quantity, \
                     (SELECT CASE WHEN COUNT(*) > 1 THEN 'split' ELSE MIN(pp.method) END \
                      FROM payment_parts pp WHERE pp.payment_id = p.payment_id \
                      AND pp.method <> 'advance') AS payment_method, \
                     p.receipt_number AS payment_receipt, \
                     r.method AS refund_method, rp.receipt_number AS refund_receipt, \
                     k.reason AS correction_reason, k.credit_note_number, \
                     kc.price_code AS corrected_price_code \
                     FROM ledger_entries l \
                     LEFT JOIN charges c ON l.kind = 'charge' AND c.charge_id = l.source_id \
                     LEFT JOIN payments p ON l.kind = 'payment' AND p.payment_id = l.source_id \
                     LEFT JOIN refunds r ON l.kind = 'refund' AND r.refund_id = l.source_id \
                     LEFT JOIN payments rp ON rp.payment_id = r.payment_id \
                     LEFT JOIN corrections k ON k.correction_id = l.source_id \
                     LEFT JOIN charges kc ON kc.charge_id = k.charge_id \
                     WHERE l.patient_id = $1 AND l.service_date >= $2 AND l.service_date <= $3 \
                     ORDER BY l.service_date, l.sequence",
                )
                .bind(patient_id.to_string())
                .bind(start)
                .bind(end)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>((opening, rows))
            }
            .await
        })
        .context("failed to read a patient's statement")?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            entries.push(row.into_entry(currency)?);
        }
        let opening_balance = Money::from_minor(opening_minor, currency);
        Ok(Statement::build(
            patient_id,
            from,
            to,
            opening_balance,
            entries,
        )?)
    }

    /// Patients with a charge on `today` whose balance now is above zero, largest balance first
    /// (then by patient id, so pages are stable), `limit` from `offset`, each with today's
    /// charges.
    pub async fn unpaid_today(
        &self,
        today: NaiveDate,
        limit: u32,
        offset: u64,
        currency: Currency,
    ) -> Result<Vec<UnpaidPatient>, BillingError> {
        let offset = i64::try_from(offset).context("page offset out of range")?;
        let (owing, charge_rows) = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin().await?;
                let owing: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT patient_id, MIN(currency), CAST(SUM(amount_minor) AS BIGINT) AS owed \
                     FROM ledger_entries \
                     WHERE patient_id IN (SELECT patient_id FROM charges WHERE service_date = $1) \
                     GROUP BY patient_id HAVING SUM(amount_minor) > 0 \
                     ORDER BY owed DESC, patient_id LIMIT $2 OFFSET $3",
                )
                .bind(today)
                .bind(i64::from(limit))
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
                let charges: Vec<ChargeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    charge_columns!(),
                    " FROM charges WHERE service_date = $1 ORDER BY created_at, charge_id"
                ))
                .bind(today)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>((owing, charges))
            }
            .await
        })
        .context("failed to read today's unpaid accounts")?;

        let mut unpaid = Vec::with_capacity(owing.len());
        let mut position = HashMap::with_capacity(owing.len());
        for (patient_id, stored_currency, owed_minor) in owing {
            let row_id = format!("ledger of {patient_id}");
            if stored_currency != currency.code() {
                return Err(corrupt("currency", &row_id).into());
            }
            let patient_id =
                PatientId::parse(&patient_id).map_err(|_| corrupt("patient_id", &row_id))?;
            position.insert(patient_id, unpaid.len());
            unpaid.push(UnpaidPatient {
                patient_id,
                balance: Money::from_minor(owed_minor, currency),
                charges_today: Vec::new(),
            });
        }
        for row in charge_rows {
            let charge = row.into_charge()?;
            if let Some(index) = position.get(&charge.patient_id) {
                unpaid[*index].charges_today.push(charge);
            }
        }
        Ok(unpaid)
    }
}

#[derive(sqlx::FromRow)]
struct StatementRow {
    sequence: i64,
    kind: String,
    amount_minor: i64,
    currency: String,
    source_id: String,
    service_date: NaiveDate,
    price_code: Option<String>,
    description: Option<String>,
    quantity: Option<i32>,
    payment_method: Option<String>,
    payment_receipt: Option<i64>,
    refund_method: Option<String>,
    refund_receipt: Option<i64>,
    correction_reason: Option<String>,
    credit_note_number: Option<i64>,
    corrected_price_code: Option<String>,
}

impl StatementRow {
    /// Every entry was written with its charge, payment or refund in one transaction; one
    /// without it is corrupt data.
    fn into_entry(self, currency: Currency) -> anyhow::Result<StatementEntry> {
        let row_id = format!("ledger entry {}", self.sequence);
        if self.currency != currency.code() {
            return Err(corrupt("currency", &row_id));
        }
        let detail = match self.kind.as_str() {
            "charge" => match (self.price_code, self.description, self.quantity) {
                (Some(price_code), Some(description), Some(quantity)) => StatementDetail::Charge {
                    price_code,
                    description,
                    quantity,
                },
                _ => return Err(corrupt("charge", &row_id)),
            },
            "payment" => match (self.payment_method, self.payment_receipt) {
                (Some(method), Some(receipt)) => StatementDetail::Payment {
                    method,
                    receipt_number: ReceiptNumber::new(receipt),
                },
                _ => return Err(corrupt("payment", &row_id)),
            },
            "refund" => match (self.refund_method, self.refund_receipt) {
                (Some(method), Some(receipt)) => StatementDetail::Refund {
                    method,
                    receipt_number: ReceiptNumber::new(receipt),
                },
                _ => return Err(corrupt("refund", &row_id)),
            },
            kind => {
                let kind = CorrectionKind::parse(kind).ok_or_else(|| corrupt("kind", &row_id))?;
                match (self.correction_reason, self.corrected_price_code) {
                    (Some(reason), Some(price_code)) => StatementDetail::Correction {
                        kind,
                        price_code,
                        reason,
                        credit_note_number: self.credit_note_number.map(CreditNoteNumber::new),
                    },
                    _ => return Err(corrupt("correction", &row_id)),
                }
            }
        };
        Ok(StatementEntry {
            sequence: self.sequence,
            service_date: self.service_date,
            source_id: self.source_id,
            detail,
            amount: Money::from_minor(self.amount_minor, currency),
        })
    }
}
