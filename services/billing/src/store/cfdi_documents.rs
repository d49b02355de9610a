//! What billing's other CFDI are made of: the charges an invoice issued PPD may bill, the
//! invoice a credit note credits, and the PPD invoices a payment pays (for its Pagos 2.0
//! complement), with the payments still awaiting one.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{ChargeId, PatientId, PaymentId};
use clinic_common::with_db;

use super::invoices::{PaidRow, sat_codes};
use super::{BillingStore, corrupt};
use crate::domain::{
    BillingError, InvoiceId, MoneyPart, PaidLine, PriceListItemKind, ReceiptNumber,
};

/// A charge of a patient's, as a PPD invoice would bill it.
#[derive(Debug, Clone)]
pub struct ChargeLine {
    pub charge_id: ChargeId,
    pub line: PaidLine,
    /// Already billed by a PPD invoice.
    pub invoiced: bool,
}

/// What a credit note's CFDI is made of.
#[derive(Debug, Clone)]
pub struct CreditNoteSource {
    /// The credited charge, with the amount credited (positive).
    pub line: PaidLine,
    /// The invoice that billed the charge: its PPD invoice, or the invoice of the first payment
    /// applied to it.
    pub invoice_id: Option<InvoiceId>,
}

/// A payment's money on PPD invoices.
#[derive(Debug, Clone)]
pub struct PaymentOnInvoices {
    pub patient_id: PatientId,
    pub received_at: DateTime<Utc>,
    pub parts: Vec<MoneyPart>,
    /// It has its payment document already.
    pub has_complement: bool,
    /// Each PPD invoice and what the payment holds on its charges now.
    pub invoices: Vec<(InvoiceId, i64)>,
}

/// Where a PPD invoice stands before a new payment document.
#[derive(Debug, Clone, Copy)]
pub struct InvoiceBalance {
    pub total_minor: i64,
    /// Payment documents issued on it so far, and what they reported paid.
    pub installments: i64,
    pub reported_paid_minor: i64,
    /// What its credit notes' CFDI took off.
    pub credited_minor: i64,
}

/// A payment on PPD invoices with no payment complement yet.
#[derive(Debug, Clone)]
pub struct PendingComplement {
    pub payment_id: PaymentId,
    pub patient_id: PatientId,
    pub receipt_number: ReceiptNumber,
    pub paid_on: NaiveDate,
    pub amount_minor: i64,
    pub invoice_ids: Vec<InvoiceId>,
}

fn kind(text: &str, row_id: &str) -> anyhow::Result<PriceListItemKind> {
    PriceListItemKind::parse(text).ok_or_else(|| corrupt("kind", row_id))
}

impl BillingStore {
    /// The patient's charges with their item's kind, and whether a PPD invoice bills them.
    pub async fn charge_lines(
        &self,
        patient_id: PatientId,
    ) -> Result<Vec<ChargeLine>, BillingError> {
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT c.charge_id, c.price_code, c.description, i.kind, \
                 CAST((SELECT COUNT(*) FROM invoice_charges ic \
                       WHERE ic.charge_id = c.charge_id) AS BIGINT), \
                 i.sat_product_code, i.sat_unit_code \
                 FROM charges c JOIN price_list_items i ON i.code = c.price_code \
                 WHERE c.patient_id = $1",
            )
            .bind(patient_id.to_string())
            .fetch_all(pool)
            .await
        })
        .context("failed to read a patient's charges to invoice")?;
        let mut lines = Vec::with_capacity(rows.len());
        for (charge_id, price_code, description, item_kind, invoiced, product_code, unit_code) in
            rows
        {
            let row_id = format!("charge {charge_id}");
            lines.push(ChargeLine {
                charge_id: ChargeId::parse(&charge_id)
                    .map_err(|_| corrupt("charge_id", &row_id))?,
                line: PaidLine {
                    price_code,
                    description,
                    kind: kind(&item_kind, &row_id)?,
                    amount_minor: 0,
                    sat: sat_codes(product_code, unit_code),
                },
                invoiced: invoiced > 0,
            });
        }
        Ok(lines)
    }

    /// The credited charge of a credit note and the invoice that billed it; None for an
    /// unknown credit note.
    pub async fn credit_note_source(
        &self,
        correction_id: crate::domain::CorrectionId,
    ) -> Result<Option<CreditNoteSource>, BillingError> {
        let (row, ppd, paid) = with_db!(&self.db, |pool| {
            async {
                let row: Option<PaidRow> = sqlx::query_as(
                    "SELECT c.price_code, c.description, i.kind, -k.amount_minor, \
                     i.sat_product_code, i.sat_unit_code \
                     FROM corrections k JOIN charges c ON c.charge_id = k.charge_id \
                     JOIN price_list_items i ON i.code = c.price_code \
                     WHERE k.correction_id = $1 AND k.kind = 'credit_note'",
                )
                .bind(correction_id.to_string())
                .fetch_optional(pool)
                .await?;
                let ppd: Option<String> = sqlx::query_scalar(
                    "SELECT ic.invoice_id FROM invoice_charges ic \
                     JOIN corrections k ON k.charge_id = ic.charge_id \
                     WHERE k.correction_id = $1",
                )
                .bind(correction_id.to_string())
                .fetch_optional(pool)
                .await?;
                // The invoice of the first payment put on the charge (its money may have been
                // released since, by this very credit note).
                let paid: Option<String> = sqlx::query_scalar(
                    "SELECT ip.invoice_id FROM corrections k \
                     JOIN allocations a ON a.charge_id = k.charge_id AND a.amount_minor > 0 \
                     JOIN invoice_payments ip ON ip.payment_id = a.payment_id \
                     WHERE k.correction_id = $1 ORDER BY a.allocation_seq LIMIT 1",
                )
                .bind(correction_id.to_string())
                .fetch_optional(pool)
                .await?;
                Ok::<_, sqlx::Error>((row, ppd, paid))
            }
            .await
        })
        .context("failed to read a credit note to invoice")?;
        let Some((price_code, description, item_kind, amount_minor, product_code, unit_code)) = row
        else {
            return Ok(None);
        };
        let row_id = format!("correction {correction_id}");
        let invoice_id = match ppd.or(paid) {
            Some(id) => Some(InvoiceId::parse(&id).map_err(|_| corrupt("invoice_id", &row_id))?),
            None => None,
        };
        Ok(Some(CreditNoteSource {
            line: PaidLine {
                price_code,
                description,
                kind: kind(&item_kind, &row_id)?,
                amount_minor,
                sat: sat_codes(product_code, unit_code),
            },
            invoice_id,
        }))
    }

    /// What a PPD invoice bills, as lines (for its taxes).
    pub async fn invoice_lines(
        &self,
        invoice_id: InvoiceId,
    ) -> Result<Vec<PaidLine>, BillingError> {
        let rows: Vec<PaidRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT c.price_code, c.description, i.kind, ic.amount_minor, \
                 i.sat_product_code, i.sat_unit_code \
                 FROM invoice_charges ic JOIN charges c ON c.charge_id = ic.charge_id \
                 JOIN price_list_items i ON i.code = c.price_code \
                 WHERE ic.invoice_id = $1 ORDER BY c.service_date, c.ledger_sequence",
            )
            .bind(invoice_id.to_string())
            .fetch_all(pool)
            .await
        })
        .context("failed to read an invoice's charges")?;
        let row_id = format!("invoice {invoice_id}");
        let mut lines = Vec::with_capacity(rows.len());
        for (price_code, description, item_kind, amount_minor, product_code, unit_code) in rows {
            lines.push(PaidLine {
                price_code,
                description,
                kind: kind(&item_kind, &row_id)?,
                amount_minor,
                sat: sat_codes(product_code, unit_code),
            });
        }
        Ok(lines)
    }

    /// A payment's money on the charges of PPD invoices, by invoice; None for an unknown
    /// payment.
    pub async fn payment_on_invoices(
        &self,
        payment_id: PaymentId,
    ) -> Result<Option<PaymentOnInvoices>, BillingError> {
        let (head, parts, invoices) = with_db!(&self.db, |pool| {
            async {
                let head: Option<(String, DateTime<Utc>, i64)> = sqlx::query_as(
                    "SELECT p.patient_id, p.created_at, \
                     CAST((SELECT COUNT(*) FROM invoices r WHERE r.kind = 'payment_receipt' \
                           AND r.payment_id = p.payment_id) AS BIGINT) \
                     FROM payments p WHERE p.payment_id = $1",
                )
                .bind(payment_id.to_string())
                .fetch_optional(pool)
                .await?;
                let parts: Vec<(String, Option<String>, i64)> = sqlx::query_as(
                    "SELECT method, card_type, amount_minor FROM payment_parts \
                     WHERE payment_id = $1 AND method <> 'advance' ORDER BY position",
                )
                .bind(payment_id.to_string())
                .fetch_all(pool)
                .await?;
                let invoices: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT ic.invoice_id, CAST(SUM(a.amount_minor) AS BIGINT) \
                     FROM allocations a JOIN invoice_charges ic ON ic.charge_id = a.charge_id \
                     WHERE a.payment_id = $1 GROUP BY ic.invoice_id \
                     HAVING SUM(a.amount_minor) > 0 ORDER BY ic.invoice_id",
                )
                .bind(payment_id.to_string())
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((head, parts, invoices))
            }
            .await
        })
        .context("failed to read a payment's PPD invoices")?;
        let Some((patient_id, received_at, complements)) = head else {
            return Ok(None);
        };
        let row_id = format!("payment {payment_id}");
        let mut paid = Vec::with_capacity(invoices.len());
        for (invoice_id, amount_minor) in invoices {
            paid.push((
                InvoiceId::parse(&invoice_id).map_err(|_| corrupt("invoice_id", &row_id))?,
                amount_minor,
            ));
        }
        Ok(Some(PaymentOnInvoices {
            patient_id: PatientId::parse(&patient_id)
                .map_err(|_| corrupt("patient_id", &row_id))?,
            received_at,
            has_complement: complements > 0,
            parts: parts
                .into_iter()
                .map(|(method, card_type, amount_minor)| MoneyPart {
                    method,
                    card_type,
                    amount_minor,
                })
                .collect(),
            invoices: paid,
        }))
    }

    /// Where a PPD invoice stands: its total, the payment documents issued on it and what its
    /// credit notes' CFDI took off.
    pub async fn invoice_balance(
        &self,
        invoice_id: InvoiceId,
    ) -> Result<InvoiceBalance, BillingError> {
        let (total_minor, installments, reported_paid_minor, credited_minor): (i64, i64, i64, i64) =
            with_db!(&self.db, |pool| {
                sqlx::query_as(
                    "SELECT i.total_minor, \
                 CAST((SELECT COUNT(*) FROM payment_receipt_documents d \
                       WHERE d.invoice_id = i.invoice_id) AS BIGINT), \
                 CAST(COALESCE((SELECT SUM(d.paid_minor) FROM payment_receipt_documents d \
                       WHERE d.invoice_id = i.invoice_id), 0) AS BIGINT), \
                 CAST(COALESCE((SELECT SUM(n.total_minor) FROM invoices n \
                       WHERE n.related_invoice_id = i.invoice_id \
                       AND n.kind = 'credit_note'), 0) AS BIGINT) \
                 FROM invoices i WHERE i.invoice_id = $1",
                )
                .bind(invoice_id.to_string())
                .fetch_one(pool)
                .await
            })
            .context("failed to read an invoice's balance")?;
        Ok(InvoiceBalance {
            total_minor,
            installments,
            reported_paid_minor,
            credited_minor,
        })
    }

    /// Payments whose money is on PPD invoices' charges and that have no payment document.
    pub async fn pending_complements(&self) -> Result<Vec<PendingComplement>, BillingError> {
        type Row = (String, String, i64, NaiveDate, String, i64);
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT p.payment_id, p.patient_id, p.receipt_number, p.service_date, \
                 ic.invoice_id, CAST(SUM(a.amount_minor) AS BIGINT) \
                 FROM allocations a JOIN invoice_charges ic ON ic.charge_id = a.charge_id \
                 JOIN payments p ON p.payment_id = a.payment_id \
                 WHERE NOT EXISTS (SELECT 1 FROM invoices r WHERE r.kind = 'payment_receipt' \
                                   AND r.payment_id = p.payment_id) \
                 GROUP BY p.payment_id, p.patient_id, p.receipt_number, p.service_date, \
                 ic.invoice_id HAVING SUM(a.amount_minor) > 0 \
                 ORDER BY p.service_date, p.receipt_number, ic.invoice_id",
            )
            .fetch_all(pool)
            .await
        })
        .context("failed to read the payments awaiting a complement")?;
        let mut pending: Vec<PendingComplement> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (payment_id, patient_id, receipt_number, paid_on, invoice_id, amount_minor) in rows {
            let row_id = format!("payment {payment_id}");
            let invoice_id =
                InvoiceId::parse(&invoice_id).map_err(|_| corrupt("invoice_id", &row_id))?;
            if let Some(&at) = index.get(&payment_id) {
                pending[at].amount_minor += amount_minor;
                pending[at].invoice_ids.push(invoice_id);
                continue;
            }
            index.insert(payment_id.clone(), pending.len());
            pending.push(PendingComplement {
                payment_id: PaymentId::parse(&payment_id)
                    .map_err(|_| corrupt("payment_id", &row_id))?,
                patient_id: PatientId::parse(&patient_id)
                    .map_err(|_| corrupt("patient_id", &row_id))?,
                receipt_number: ReceiptNumber::new(receipt_number),
                paid_on,
                amount_minor,
                invoice_ids: vec![invoice_id],
            });
        }
        Ok(pending)
    }
}
