//! CFDI invoices: what a payment paid (for its invoice), a day's payments not yet invoiced (for
//! the global invoice), and the invoices issued, each with the payments it covers.
//!
//! An invoice is numbered, sealed and stored in one transaction under the ledger head, so
//! folios have no gaps and a payment can never end up in two invoices.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::is_unique_violation;
use clinic_common::ids::{PatientId, PaymentId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::ledger::lock_ledger;
use super::{BillingStore, WriteError, claiming_key, corrupt};
use crate::domain::{
    BillingError, Invoice, InvoiceId, InvoiceSubject, MoneyPart, Operation, PaidLine,
    PriceListItemKind, ReceiptNumber,
};

/// What a payment's invoice is made of.
#[derive(Debug, Clone)]
pub struct PaymentToInvoice {
    pub patient_id: PatientId,
    /// Its money less its refunds.
    pub net_minor: i64,
    pub parts: Vec<MoneyPart>,
    /// Its own money on charges, by charge.
    pub paid: Vec<PaidLine>,
    /// Its money no charge holds.
    pub unallocated_minor: i64,
    pub invoiced: bool,
}

/// A payment of the day not invoiced on its own.
#[derive(Debug, Clone)]
pub struct PublicSale {
    pub payment_id: PaymentId,
    pub receipt_number: ReceiptNumber,
    pub net_minor: i64,
    pub parts: Vec<MoneyPart>,
}

/// An invoice about to be numbered: `seal` makes its XML, cadena original and total from the
/// folio it is given.
pub struct InvoiceDraft<'a> {
    pub operation: Operation,
    pub request_id: &'a RequestId,
    pub fingerprint: String,
    pub subject: InvoiceSubject,
    pub series: &'a str,
    pub receptor_rfc: &'a str,
    pub currency: Currency,
    pub certificate_number: &'a str,
    pub created_by: &'a str,
    pub seal: &'a (dyn Fn(i64) -> Sealed + Sync),
}

/// A sealed invoice's text.
pub struct Sealed {
    pub xml: String,
    pub cadena_original: String,
    pub total_minor: i64,
}

impl BillingStore {
    pub async fn payment_to_invoice(
        &self,
        payment_id: PaymentId,
    ) -> Result<Option<PaymentToInvoice>, BillingError> {
        type Head = (String, i64, i64, i64, i64);
        let (head, parts, paid) = with_db!(&self.db, |pool| {
            async {
                let head: Option<Head> = sqlx::query_as(
                    "SELECT p.patient_id, p.received_minor, \
                     CAST(COALESCE((SELECT SUM(r.amount_minor) FROM refunds r \
                          WHERE r.payment_id = p.payment_id), 0) AS BIGINT), \
                     CAST(COALESCE((SELECT SUM(a.amount_minor) FROM allocations a \
                          WHERE a.payment_id = p.payment_id), 0) AS BIGINT), \
                     CAST((SELECT COUNT(*) FROM invoice_payments i \
                          WHERE i.payment_id = p.payment_id) AS BIGINT) \
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
                let paid: Vec<(String, String, String, i64)> = sqlx::query_as(
                    "SELECT c.price_code, c.description, i.kind, \
                     CAST(SUM(a.amount_minor) AS BIGINT) \
                     FROM allocations a JOIN charges c ON c.charge_id = a.charge_id \
                     JOIN price_list_items i ON i.code = c.price_code \
                     WHERE a.payment_id = $1 \
                     GROUP BY c.charge_id, c.price_code, c.description, i.kind \
                     ORDER BY MIN(a.allocation_seq)",
                )
                .bind(payment_id.to_string())
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((head, parts, paid))
            }
            .await
        })
        .context("failed to read a payment to invoice")?;
        let Some((patient_id, received, refunded, allocated, invoiced)) = head else {
            return Ok(None);
        };
        let row_id = format!("payment {payment_id}");
        let mut lines = Vec::with_capacity(paid.len());
        for (price_code, description, kind, amount_minor) in paid {
            lines.push(PaidLine {
                price_code,
                description,
                kind: PriceListItemKind::parse(&kind).ok_or_else(|| corrupt("kind", &row_id))?,
                amount_minor,
            });
        }
        Ok(Some(PaymentToInvoice {
            patient_id: PatientId::parse(&patient_id)
                .map_err(|_| corrupt("patient_id", &row_id))?,
            net_minor: received - refunded,
            parts: parts
                .into_iter()
                .map(|(method, card_type, amount_minor)| MoneyPart {
                    method,
                    card_type,
                    amount_minor,
                })
                .collect(),
            paid: lines,
            unallocated_minor: (received - refunded - allocated).max(0),
            invoiced: invoiced > 0,
        }))
    }

    /// The day's payments that brought money and are in no invoice, by receipt number.
    pub async fn public_sales(&self, day: NaiveDate) -> Result<Vec<PublicSale>, BillingError> {
        let (payments, parts) = with_db!(&self.db, |pool| {
            async {
                let payments: Vec<(String, i64, i64)> = sqlx::query_as(
                    "SELECT p.payment_id, p.receipt_number, CAST(p.received_minor - \
                     COALESCE((SELECT SUM(r.amount_minor) FROM refunds r \
                               WHERE r.payment_id = p.payment_id), 0) AS BIGINT) \
                     FROM payments p WHERE p.service_date = $1 AND p.received_minor > 0 \
                     AND NOT EXISTS (SELECT 1 FROM invoice_payments i \
                                     WHERE i.payment_id = p.payment_id) \
                     ORDER BY p.receipt_number",
                )
                .bind(day)
                .fetch_all(pool)
                .await?;
                let parts: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
                    "SELECT pp.payment_id, pp.method, pp.card_type, pp.amount_minor \
                     FROM payment_parts pp JOIN payments p ON p.payment_id = pp.payment_id \
                     WHERE p.service_date = $1 AND pp.method <> 'advance'",
                )
                .bind(day)
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((payments, parts))
            }
            .await
        })
        .context("failed to read the day's payments to invoice")?;
        let mut sales = Vec::with_capacity(payments.len());
        for (payment_id, receipt_number, net_minor) in payments {
            if net_minor <= 0 {
                continue;
            }
            let own_parts = parts
                .iter()
                .filter(|(part_of, ..)| *part_of == payment_id)
                .map(|(_, method, card_type, amount_minor)| MoneyPart {
                    method: method.clone(),
                    card_type: card_type.clone(),
                    amount_minor: *amount_minor,
                })
                .collect();
            sales.push(PublicSale {
                payment_id: PaymentId::parse(&payment_id)
                    .map_err(|_| corrupt("payment_id", &payment_id))?,
                receipt_number: ReceiptNumber::new(receipt_number),
                net_minor,
                parts: own_parts,
            });
        }
        Ok(sales)
    }

    /// The invoice an earlier call with this request id issued.
    pub async fn earlier_invoice(
        &self,
        operation: Operation,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Invoice>, BillingError> {
        let Some(invoice_id) = self
            .earlier_resource(operation, request_id, fingerprint)
            .await?
        else {
            return Ok(None);
        };
        let invoice_id = InvoiceId::parse(&invoice_id)
            .map_err(|_| corrupt("idempotency_keys.resource_id", &invoice_id))?;
        self.invoice(invoice_id).await
    }

    /// Numbers, seals and stores an invoice with the payments it covers, or returns the one a
    /// first call with the same request id issued.
    pub async fn issue_invoice(
        &self,
        draft: &InvoiceDraft<'_>,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let invoice_id =
            claiming_key(draft.request_id, || self.try_issue_invoice(draft, now)).await?;
        self.invoice(invoice_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("invoice {invoice_id} vanished after insert").into())
    }

    async fn try_issue_invoice(
        &self,
        draft: &InvoiceDraft<'_>,
        now: DateTime<Utc>,
    ) -> Result<InvoiceId, WriteError> {
        let operation = draft.operation;
        let fingerprint = draft.fingerprint.as_str();
        in_transaction!(&self.db, |tx| {
            if let Some(invoice_id) = earlier_result!(tx, operation, draft.request_id, fingerprint)
            {
                let invoice_id = InvoiceId::parse(&invoice_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &invoice_id))?;
                Ok::<_, WriteError>(invoice_id)
            } else {
                let invoice_id = InvoiceId::new();
                claim_request_id!(
                    tx,
                    operation,
                    draft.request_id,
                    fingerprint,
                    invoice_id.to_string(),
                    now
                );
                lock_ledger!(tx);
                let last: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(folio) FROM invoices WHERE series = $1")
                        .bind(draft.series)
                        .fetch_one(&mut *tx)
                        .await
                        .context("failed to number an invoice")?;
                let folio = last.unwrap_or(0) + 1;
                let sealed = (draft.seal)(folio);
                let (kind, payment_id, day, payments) = match &draft.subject {
                    InvoiceSubject::Payment(payment_id) => (
                        "payment",
                        Some(payment_id.to_string()),
                        None,
                        vec![*payment_id],
                    ),
                    InvoiceSubject::Global { day, payments } => {
                        ("global", None, Some(*day), payments.clone())
                    }
                };
                sqlx::query(
                    "INSERT INTO invoices (invoice_id, kind, series, folio, payment_id, day, \
                     receptor_rfc, total_minor, currency, certificate_number, cadena_original, \
                     xml, status, created_by, request_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'sealed', $13, \
                     $14, $15)",
                )
                .bind(invoice_id.to_string())
                .bind(kind)
                .bind(draft.series)
                .bind(folio)
                .bind(payment_id)
                .bind(day)
                .bind(draft.receptor_rfc)
                .bind(sealed.total_minor)
                .bind(draft.currency.code())
                .bind(draft.certificate_number)
                .bind(&sealed.cadena_original)
                .bind(&sealed.xml)
                .bind(draft.created_by)
                .bind(draft.request_id.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to store an invoice")?;
                for payment_id in payments {
                    let covered = sqlx::query(
                        "INSERT INTO invoice_payments (payment_id, invoice_id) VALUES ($1, $2)",
                    )
                    .bind(payment_id.to_string())
                    .bind(invoice_id.to_string())
                    .execute(&mut *tx)
                    .await;
                    match covered {
                        Err(error) if is_unique_violation(&error, "invoice_payments") => {
                            return Err(BillingError::AlreadyInvoiced(payment_id).into());
                        }
                        other => other.context("failed to record an invoiced payment")?,
                    };
                }
                Ok(invoice_id)
            }
        })
    }

    pub async fn invoice(&self, invoice_id: InvoiceId) -> Result<Option<Invoice>, BillingError> {
        type Row = (
            String,
            String,
            i64,
            Option<String>,
            Option<NaiveDate>,
            String,
            i64,
            String,
            String,
            String,
            String,
            String,
            DateTime<Utc>,
        );
        let (row, payments) = with_db!(&self.db, |pool| {
            async {
                let row: Option<Row> = sqlx::query_as(
                    "SELECT kind, series, folio, payment_id, day, receptor_rfc, total_minor, \
                     currency, certificate_number, cadena_original, xml, created_by, created_at \
                     FROM invoices WHERE invoice_id = $1",
                )
                .bind(invoice_id.to_string())
                .fetch_optional(pool)
                .await?;
                let payments: Vec<String> = sqlx::query_scalar(
                    "SELECT i.payment_id FROM invoice_payments i \
                     JOIN payments p ON p.payment_id = i.payment_id \
                     WHERE i.invoice_id = $1 ORDER BY p.receipt_number",
                )
                .bind(invoice_id.to_string())
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((row, payments))
            }
            .await
        })
        .context("failed to read an invoice")?;
        let Some((
            kind,
            series,
            folio,
            payment_id,
            day,
            receptor_rfc,
            total_minor,
            currency,
            certificate_number,
            cadena_original,
            xml,
            created_by,
            created_at,
        )) = row
        else {
            return Ok(None);
        };
        let row_id = format!("invoice {invoice_id}");
        let parse_payment =
            |id: &str| PaymentId::parse(id).map_err(|_| corrupt("payment_id", &row_id));
        let subject = match (kind.as_str(), payment_id, day) {
            ("payment", Some(payment_id), None) => {
                InvoiceSubject::Payment(parse_payment(&payment_id)?)
            }
            ("global", None, Some(day)) => InvoiceSubject::Global {
                day,
                payments: payments
                    .iter()
                    .map(|id| parse_payment(id))
                    .collect::<anyhow::Result<Vec<_>>>()?,
            },
            _ => return Err(corrupt("kind", &row_id).into()),
        };
        let currency: Currency = currency.parse().map_err(|_| corrupt("currency", &row_id))?;
        Ok(Some(Invoice {
            invoice_id,
            subject,
            series,
            folio,
            receptor_rfc,
            total: Money::from_minor(total_minor, currency),
            certificate_number,
            cadena_original,
            xml,
            created_by,
            created_at,
        }))
    }
}
