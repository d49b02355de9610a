//! CFDI invoices: what a payment paid (for its invoice), a day's payments not yet invoiced (for
//! the global invoice), and the invoices issued, each with the payments it covers.
//!
//! An invoice is numbered, sealed and stored in one transaction under the ledger head, so
//! folios have no gaps and a payment can never end up in two invoices.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::is_unique_violation;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::ledger::LedgerTx;
use super::{BillingStore, corrupt};
use crate::domain::{
    BillingError, CorrectionId, Invoice, InvoiceId, InvoiceStamp, InvoiceSubject, MoneyPart,
    Operation, PaidLine, PriceListItemKind, ReceiptDocument, ReceiptNumber, SatCodes,
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
    /// Some of its money is on charges billed by a PPD invoice: it gets a payment complement,
    /// not an invoice of its own.
    pub pays_ppd_invoice: bool,
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

/// A line's price code, description, item kind, amount and the item's SAT codes.
pub(super) type PaidRow = (String, String, String, i64, Option<String>, Option<String>);

/// An item's SAT codes, when it has both.
pub(super) fn sat_codes(
    product_code: Option<String>,
    unit_code: Option<String>,
) -> Option<SatCodes> {
    match (product_code, unit_code) {
        (Some(product_code), Some(unit_code)) => Some(SatCodes {
            product_code,
            unit_code,
        }),
        _ => None,
    }
}

impl BillingStore {
    pub async fn payment_to_invoice(
        &self,
        payment_id: PaymentId,
    ) -> Result<Option<PaymentToInvoice>, BillingError> {
        type Head = (String, i64, i64, i64, i64, i64);
        let (head, parts, paid) = with_db!(&self.db, |pool| {
            async {
                let head: Option<Head> = sqlx::query_as(
                    "SELECT p.patient_id, p.received_minor, \
                     CAST(COALESCE((SELECT SUM(r.amount_minor) FROM refunds r \
                          WHERE r.payment_id = p.payment_id), 0) AS BIGINT), \
                     CAST(COALESCE((SELECT SUM(a.amount_minor) FROM allocations a \
                          WHERE a.payment_id = p.payment_id), 0) AS BIGINT), \
                     CAST((SELECT COUNT(*) FROM invoice_payments i \
                          WHERE i.payment_id = p.payment_id) AS BIGINT), \
                     CAST((SELECT COUNT(*) FROM allocations a \
                          JOIN invoice_charges ic ON ic.charge_id = a.charge_id \
                          WHERE a.payment_id = p.payment_id) AS BIGINT) \
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
                let paid: Vec<PaidRow> = sqlx::query_as(
                    "SELECT c.price_code, c.description, i.kind, \
                     CAST(SUM(a.amount_minor) AS BIGINT), i.sat_product_code, i.sat_unit_code \
                     FROM allocations a JOIN charges c ON c.charge_id = a.charge_id \
                     JOIN price_list_items i ON i.code = c.price_code \
                     WHERE a.payment_id = $1 \
                     GROUP BY c.charge_id, c.price_code, c.description, i.kind, \
                     i.sat_product_code, i.sat_unit_code \
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
        let Some((patient_id, received, refunded, allocated, invoiced, on_ppd)) = head else {
            return Ok(None);
        };
        let row_id = format!("payment {payment_id}");
        let mut lines = Vec::with_capacity(paid.len());
        for (price_code, description, kind, amount_minor, product_code, unit_code) in paid {
            lines.push(PaidLine {
                price_code,
                description,
                kind: PriceListItemKind::parse(&kind).ok_or_else(|| corrupt("kind", &row_id))?,
                amount_minor,
                sat: sat_codes(product_code, unit_code),
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
            pays_ppd_invoice: on_ppd > 0,
        }))
    }

    /// The day's payments that brought money and are in no invoice, by receipt number; payments
    /// on PPD invoices' charges are left out (they get payment complements).
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
                     AND NOT EXISTS (SELECT 1 FROM allocations a \
                                     JOIN invoice_charges ic ON ic.charge_id = a.charge_id \
                                     WHERE a.payment_id = p.payment_id) \
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
        let key = IdempotencyKey::new(operation.as_str(), request_id, fingerprint);
        let Some(invoice_id) = self.db.earlier_result(&key).await? else {
            return Ok(None);
        };
        self.invoice(invoice_id).await
    }

    /// Numbers, seals and stores an invoice with the payments it covers, or returns the one a
    /// first call with the same request id issued.
    pub async fn issue_invoice(
        &self,
        draft: &InvoiceDraft<'_>,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let key = IdempotencyKey::new(
            draft.operation.as_str(),
            draft.request_id,
            &draft.fingerprint,
        );
        let invoice_id =
            retrying("an invoice", || self.try_issue_invoice(draft, &key, now)).await?;
        self.invoice(invoice_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("invoice {invoice_id} vanished after insert").into())
    }

    async fn try_issue_invoice(
        &self,
        draft: &InvoiceDraft<'_>,
        key: &IdempotencyKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<InvoiceId, Attempt<BillingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(invoice_id) = tx.earlier_result(key).await? {
                return Ok(invoice_id);
            }
            let invoice_id = InvoiceId::new();
            tx.claim(key, &invoice_id.to_string(), now).await?;
            tx.lock_ledger().await?;
            let folio = tx.next_folio(draft.series).await?;
            let sealed = (draft.seal)(folio);
            tx.insert_invoice(invoice_id, draft, folio, &sealed, now)
                .await?;
            match &draft.subject {
                InvoiceSubject::Payment(payment_id) => {
                    tx.record_invoiced_payments(invoice_id, &[*payment_id])
                        .await?;
                }
                InvoiceSubject::Global { payments, .. } => {
                    tx.record_invoiced_payments(invoice_id, payments).await?;
                }
                InvoiceSubject::Charges(charges) => {
                    tx.record_invoiced_charges(invoice_id, charges).await?;
                }
                InvoiceSubject::PaymentReceipt { documents, .. } => {
                    tx.record_paid_documents(invoice_id, documents).await?;
                }
                InvoiceSubject::CreditNote { .. } => {}
            }
            Ok(invoice_id)
        })
    }

    pub async fn invoice(&self, invoice_id: InvoiceId) -> Result<Option<Invoice>, BillingError> {
        let Some(rows) = self.invoice_rows(invoice_id).await? else {
            return Ok(None);
        };
        let row_id = format!("invoice {invoice_id}");
        let subject = rows.subject(&row_id)?;
        let InvoiceRows { row, stamp, .. } = rows;
        let currency: Currency = row
            .currency
            .parse()
            .map_err(|_| corrupt("currency", &row_id))?;
        Ok(Some(Invoice {
            invoice_id,
            subject,
            series: row.series,
            folio: row.folio,
            receptor_rfc: row.receptor_rfc,
            total: Money::from_minor(row.total_minor, currency),
            certificate_number: row.certificate_number,
            cadena_original: row.cadena_original,
            xml: row.xml,
            created_by: row.created_by,
            created_at: row.created_at,
            stamp: stamp.map(|(uuid, stamped_at, pac_rfc, sat_certificate_number, xml)| {
                InvoiceStamp {
                    uuid,
                    stamped_at,
                    pac_rfc,
                    sat_certificate_number,
                    xml,
                }
            }),
        }))
    }

    /// An invoice's row with its stamp and what it covers, or `None` for an unknown invoice.
    async fn invoice_rows(
        &self,
        invoice_id: InvoiceId,
    ) -> Result<Option<InvoiceRows>, BillingError> {
        let id = invoice_id.to_string();
        let rows = with_db!(&self.db, |pool| {
            async {
                let row: Option<InvoiceRow> = sqlx::query_as(
                    "SELECT kind, series, folio, payment_id, day, receptor_rfc, total_minor, \
                     currency, certificate_number, cadena_original, xml, created_by, created_at, \
                     correction_id, related_invoice_id \
                     FROM invoices WHERE invoice_id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let stamp: Option<StampRow> = sqlx::query_as(
                    "SELECT uuid, stamped_at, pac_rfc, sat_certificate_number, xml \
                     FROM invoice_stamps WHERE invoice_id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?;
                let charges: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT ic.charge_id, ic.amount_minor FROM invoice_charges ic \
                     JOIN charges c ON c.charge_id = ic.charge_id \
                     WHERE ic.invoice_id = $1 ORDER BY c.service_date, c.ledger_sequence",
                )
                .bind(id.as_str())
                .fetch_all(pool)
                .await?;
                let documents: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT invoice_id, installment, previous_balance_minor, paid_minor \
                     FROM payment_receipt_documents WHERE receipt_invoice_id = $1 \
                     ORDER BY invoice_id",
                )
                .bind(id.as_str())
                .fetch_all(pool)
                .await?;
                let payments: Vec<String> = sqlx::query_scalar(
                    "SELECT i.payment_id FROM invoice_payments i \
                     JOIN payments p ON p.payment_id = i.payment_id \
                     WHERE i.invoice_id = $1 ORDER BY p.receipt_number",
                )
                .bind(id.as_str())
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>(Some(InvoiceRows {
                    row,
                    stamp,
                    payments,
                    charges,
                    documents,
                }))
            }
            .await
        })
        .context("failed to read an invoice")?;
        Ok(rows)
    }

    /// Records a PAC's stamp of an invoice, unless it has one already (the first one stays).
    pub async fn record_stamp(
        &self,
        invoice_id: InvoiceId,
        stamp: &InvoiceStamp,
        now: DateTime<Utc>,
    ) -> Result<(), BillingError> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO invoice_stamps (invoice_id, uuid, stamped_at, pac_rfc, \
                 sat_certificate_number, xml, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (invoice_id) DO NOTHING",
            )
            .bind(invoice_id.to_string())
            .bind(&stamp.uuid)
            .bind(&stamp.stamped_at)
            .bind(&stamp.pac_rfc)
            .bind(&stamp.sat_certificate_number)
            .bind(&stamp.xml)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .context("failed to record an invoice's stamp")?;
        Ok(())
    }
}

/// An invoice's row as read.
#[derive(sqlx::FromRow)]
struct InvoiceRow {
    kind: String,
    series: String,
    folio: i64,
    payment_id: Option<String>,
    day: Option<NaiveDate>,
    receptor_rfc: String,
    total_minor: i64,
    currency: String,
    certificate_number: String,
    cadena_original: String,
    xml: String,
    created_by: String,
    created_at: DateTime<Utc>,
    correction_id: Option<String>,
    related_invoice_id: Option<String>,
}

/// A stamp's uuid, time, PAC, SAT certificate and stamped XML.
type StampRow = (String, String, String, String, String);

/// Everything read for one invoice.
struct InvoiceRows {
    row: InvoiceRow,
    stamp: Option<StampRow>,
    /// The payments it covers, by receipt number.
    payments: Vec<String>,
    /// The charges it bills, with the amount billed.
    charges: Vec<(String, i64)>,
    /// The documents a payment complement reports paid.
    documents: Vec<(String, i64, i64, i64)>,
}

impl InvoiceRows {
    /// What the invoice is for, by its kind; a kind without the columns it needs is corrupt.
    fn subject(&self, row_id: &str) -> anyhow::Result<InvoiceSubject> {
        let row = &self.row;
        let parse_payment =
            |id: &str| PaymentId::parse(id).map_err(|_| corrupt("payment_id", row_id));
        let parse_invoice =
            |id: &str| InvoiceId::parse(id).map_err(|_| corrupt("invoice_id", row_id));
        let subject = match (row.kind.as_str(), row.payment_id.as_deref(), row.day) {
            ("payment", Some(payment_id), None) => {
                InvoiceSubject::Payment(parse_payment(payment_id)?)
            }
            ("global", None, Some(day)) => InvoiceSubject::Global {
                day,
                payments: self
                    .payments
                    .iter()
                    .map(|id| parse_payment(id))
                    .collect::<anyhow::Result<Vec<_>>>()?,
            },
            ("charges", None, None) => {
                let mut billed = Vec::with_capacity(self.charges.len());
                for (charge_id, amount_minor) in &self.charges {
                    let charge_id =
                        ChargeId::parse(charge_id).map_err(|_| corrupt("charge_id", row_id))?;
                    billed.push((charge_id, *amount_minor));
                }
                InvoiceSubject::Charges(billed)
            }
            ("credit_note", None, None) => InvoiceSubject::CreditNote {
                correction_id: row
                    .correction_id
                    .as_deref()
                    .and_then(|id| CorrectionId::parse(id).ok())
                    .ok_or_else(|| corrupt("correction_id", row_id))?,
                related: parse_invoice(row.related_invoice_id.as_deref().unwrap_or_default())?,
            },
            ("payment_receipt", Some(payment_id), None) => {
                let mut paid = Vec::with_capacity(self.documents.len());
                for (invoice_id, installment, previous_balance_minor, paid_minor) in &self.documents
                {
                    paid.push(ReceiptDocument {
                        invoice_id: parse_invoice(invoice_id)?,
                        installment: *installment,
                        previous_balance_minor: *previous_balance_minor,
                        paid_minor: *paid_minor,
                    });
                }
                InvoiceSubject::PaymentReceipt {
                    payment_id: parse_payment(payment_id)?,
                    documents: paid,
                }
            }
            _ => return Err(corrupt("kind", row_id)),
        };
        Ok(subject)
    }
}

/// How an invoice's subject is stored on its row: its kind and the one reference each kind has.
struct SubjectColumns {
    kind: &'static str,
    payment_id: Option<String>,
    day: Option<NaiveDate>,
    correction_id: Option<String>,
    related_invoice_id: Option<String>,
}

impl SubjectColumns {
    fn of(subject: &InvoiceSubject) -> Self {
        let mut columns = SubjectColumns {
            kind: "",
            payment_id: None,
            day: None,
            correction_id: None,
            related_invoice_id: None,
        };
        match subject {
            InvoiceSubject::Payment(payment_id) => {
                columns.kind = "payment";
                columns.payment_id = Some(payment_id.to_string());
            }
            InvoiceSubject::Global { day, .. } => {
                columns.kind = "global";
                columns.day = Some(*day);
            }
            InvoiceSubject::Charges(_) => columns.kind = "charges",
            InvoiceSubject::CreditNote {
                correction_id,
                related,
            } => {
                columns.kind = "credit_note";
                columns.correction_id = Some(correction_id.to_string());
                columns.related_invoice_id = Some(related.to_string());
            }
            InvoiceSubject::PaymentReceipt { payment_id, .. } => {
                columns.kind = "payment_receipt";
                columns.payment_id = Some(payment_id.to_string());
            }
        }
        columns
    }
}

/// The statements of issuing an invoice, inside its transaction (which holds the ledger head).
trait InvoicesTx {
    /// The next folio of `series`: numbered under the ledger head, so folios have no gaps.
    async fn next_folio(&mut self, series: &str) -> anyhow::Result<i64>;

    /// Stores the sealed invoice. Refuses ([`BillingError::AlreadyIssued`]) a second CFDI of one
    /// credit note, or a second payment complement of one payment.
    async fn insert_invoice(
        &mut self,
        invoice_id: InvoiceId,
        draft: &InvoiceDraft<'_>,
        folio: i64,
        sealed: &Sealed,
        now: DateTime<Utc>,
    ) -> Result<(), BillingError>;

    /// Records the payments the invoice covers. Refuses ([`BillingError::AlreadyInvoiced`]) a
    /// payment another invoice covers.
    async fn record_invoiced_payments(
        &mut self,
        invoice_id: InvoiceId,
        payments: &[PaymentId],
    ) -> Result<(), BillingError>;

    /// Records the charges a PPD invoice bills. Refuses ([`BillingError::AlreadyIssued`]) a
    /// charge another one bills.
    async fn record_invoiced_charges(
        &mut self,
        invoice_id: InvoiceId,
        charges: &[(ChargeId, i64)],
    ) -> Result<(), BillingError>;

    /// Records the PPD invoices a payment complement reports paid. Refuses
    /// ([`BillingError::AlreadyIssued`]) an installment another complement reported.
    async fn record_paid_documents(
        &mut self,
        invoice_id: InvoiceId,
        documents: &[ReceiptDocument],
    ) -> Result<(), BillingError>;
}

for_each_backend! {
    impl InvoicesTx for Conn {
        async fn next_folio(&mut self, series: &str) -> anyhow::Result<i64> {
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(folio) FROM invoices WHERE series = $1")
                    .bind(series)
                    .fetch_one(&mut *self)
                    .await
                    .context("failed to number an invoice")?;
            Ok(last.unwrap_or(0) + 1)
        }

        async fn insert_invoice(
            &mut self,
            invoice_id: InvoiceId,
            draft: &InvoiceDraft<'_>,
            folio: i64,
            sealed: &Sealed,
            now: DateTime<Utc>,
        ) -> Result<(), BillingError> {
            let subject = SubjectColumns::of(&draft.subject);
            let stored = sqlx::query(
                "INSERT INTO invoices (invoice_id, kind, series, folio, payment_id, day, \
                 receptor_rfc, total_minor, currency, certificate_number, cadena_original, \
                 xml, status, created_by, request_id, created_at, correction_id, \
                 related_invoice_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'sealed', $13, \
                 $14, $15, $16, $17)",
            )
            .bind(invoice_id.to_string())
            .bind(subject.kind)
            .bind(draft.series)
            .bind(folio)
            .bind(subject.payment_id)
            .bind(subject.day)
            .bind(draft.receptor_rfc)
            .bind(sealed.total_minor)
            .bind(draft.currency.code())
            .bind(draft.certificate_number)
            .bind(&sealed.cadena_original)
            .bind(&sealed.xml)
            .bind(draft.created_by)
            .bind(draft.request_id.as_str())
            .bind(now)
            .bind(subject.correction_id)
            .bind(subject.related_invoice_id)
            .execute(&mut *self)
            .await;
            match stored {
                // PostgreSQL names the constraint, SQLite the columns.
                Err(error)
                    if is_unique_violation(&error, "invoices_correction_unique")
                        || is_unique_violation(&error, "invoices.correction_id") =>
                {
                    Err(BillingError::AlreadyIssued(
                        "the credit note already has its CFDI".into(),
                    ))
                }
                Err(error)
                    if is_unique_violation(&error, "invoices_payment_receipt_unique")
                        || is_unique_violation(&error, "invoices.payment_id") =>
                {
                    Err(BillingError::AlreadyIssued(
                        "the payment already has its payment complement".into(),
                    ))
                }
                other => {
                    other.context("failed to store an invoice")?;
                    Ok(())
                }
            }
        }

        async fn record_invoiced_payments(
            &mut self,
            invoice_id: InvoiceId,
            payments: &[PaymentId],
        ) -> Result<(), BillingError> {
            for payment_id in payments {
                let covered = sqlx::query(
                    "INSERT INTO invoice_payments (payment_id, invoice_id) VALUES ($1, $2)",
                )
                .bind(payment_id.to_string())
                .bind(invoice_id.to_string())
                .execute(&mut *self)
                .await;
                match covered {
                    Err(error) if is_unique_violation(&error, "invoice_payments") => {
                        return Err(BillingError::AlreadyInvoiced(*payment_id));
                    }
                    other => other.context("failed to record an invoiced payment")?,
                };
            }
            Ok(())
        }

        async fn record_invoiced_charges(
            &mut self,
            invoice_id: InvoiceId,
            charges: &[(ChargeId, i64)],
        ) -> Result<(), BillingError> {
            for (charge_id, amount_minor) in charges {
                let billed = sqlx::query(
                    "INSERT INTO invoice_charges (charge_id, invoice_id, amount_minor) \
                     VALUES ($1, $2, $3)",
                )
                .bind(charge_id.to_string())
                .bind(invoice_id.to_string())
                .bind(*amount_minor)
                .execute(&mut *self)
                .await;
                match billed {
                    Err(error) if is_unique_violation(&error, "invoice_charges") => {
                        return Err(BillingError::AlreadyIssued(format!(
                            "charge {charge_id} is already invoiced"
                        )));
                    }
                    other => other.context("failed to record an invoiced charge")?,
                };
            }
            Ok(())
        }

        async fn record_paid_documents(
            &mut self,
            invoice_id: InvoiceId,
            documents: &[ReceiptDocument],
        ) -> Result<(), BillingError> {
            for document in documents {
                let reported = sqlx::query(
                    "INSERT INTO payment_receipt_documents (receipt_invoice_id, \
                     invoice_id, installment, previous_balance_minor, paid_minor) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(invoice_id.to_string())
                .bind(document.invoice_id.to_string())
                .bind(document.installment)
                .bind(document.previous_balance_minor)
                .bind(document.paid_minor)
                .execute(&mut *self)
                .await;
                match reported {
                    Err(error)
                        if is_unique_violation(
                            &error,
                            "payment_receipt_documents_installment_unique",
                        ) || is_unique_violation(
                            &error,
                            "payment_receipt_documents.installment",
                        ) =>
                    {
                        return Err(BillingError::AlreadyIssued(format!(
                            "another payment complement of invoice {} was issued at the same \
                             time; try again",
                            document.invoice_id
                        )));
                    }
                    other => other.context("failed to record a paid document")?,
                };
            }
            Ok(())
        }
    }
}
