//! Payment complements (CFDI type P with Pagos 2.0): a payment on charges invoiced PPD reported
//! on each invoice it pays, as an instalment of that invoice's balance; and the payments still
//! awaiting theirs, with the day each is due by.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use clinic_common::Money;
use clinic_common::auth::Caller;
use clinic_common::ids::{PatientId, PaymentId, RequestId};

use super::{Document, IssueRequest};
use crate::app::Billing;
use crate::domain::pagos::{
    InvoiceTaxes, PaidDocument, PaymentReceived, complement_deadline, instalment,
};
use crate::domain::{
    BillingError, Invoice, InvoiceId, InvoiceSubject, MoneyPart, Operation, ReceiptDocument,
    ReceiptNumber, cfdi, payment_concepts, payment_form,
};

/// A payment on PPD invoices with no payment complement yet.
#[derive(Debug, Clone)]
pub struct PendingComplement {
    pub payment_id: PaymentId,
    pub patient_id: PatientId,
    pub receipt_number: ReceiptNumber,
    pub paid_on: NaiveDate,
    /// Its money on the invoices' charges.
    pub amount: Money,
    /// The last day its complement may be issued.
    pub deadline: NaiveDate,
    pub overdue: bool,
    pub invoice_ids: Vec<InvoiceId>,
}

impl Billing {
    /// Issues the payment complement of payment `payment_id` for `caller`, or returns the one a
    /// first call with `request_id` issued.
    pub async fn issue_payment_complement(
        &self,
        caller: &Caller,
        payment_id: PaymentId,
        request_id: RequestId,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let request = IssueRequest::new(
            Operation::IssuePaymentComplement,
            request_id,
            &["complement", &payment_id.to_string()],
        );
        if let Some(invoice) = self.earlier_document(&request, now).await? {
            return Ok(invoice);
        }
        self.issuer()?;
        let on = self
            .store
            .payment_on_invoices(payment_id)
            .await?
            .ok_or(BillingError::PaymentNotFound(payment_id))?;
        if on.has_complement {
            return Err(BillingError::AlreadyIssued(
                "the payment already has its payment complement".into(),
            ));
        }
        if on.invoices.is_empty() {
            return Err(BillingError::NotInvoiceable(format!(
                "none of payment {payment_id}'s money is on charges invoiced PPD"
            )));
        }
        let mut documents = Vec::with_capacity(on.invoices.len());
        let mut reported = Vec::with_capacity(on.invoices.len());
        for (invoice_id, held_minor) in &on.invoices {
            if let Some((document, receipt)) = self.paid_document(*invoice_id, *held_minor).await? {
                documents.push(document);
                reported.push(receipt);
            }
        }
        if documents.is_empty() {
            return Err(BillingError::NotInvoiceable(format!(
                "the PPD invoices payment {payment_id} pays are reported paid in full already"
            )));
        }
        let receptor = cfdi::Receptor {
            // CP01: payments.
            cfdi_use: "CP01".into(),
            ..self.patient_receptor(on.patient_id, "").await?
        };
        let payment = self.payment_received(on.received_at, &on.parts, documents);
        let document = Document {
            document_type: cfdi::DocumentType::Pago,
            receptor,
            global: None,
            related: None,
            payment_form: None,
            payment_method: None,
            concepts: Vec::new(),
            payment: Some(payment),
        };
        let subject = InvoiceSubject::PaymentReceipt {
            payment_id,
            documents: reported,
        };
        let invoice = self.issue(caller, request, subject, document, now).await?;
        tracing::info!(
            invoice_id = %invoice.invoice_id,
            folio = invoice.folio,
            "payment complement issued"
        );
        Ok(invoice)
    }

    /// What a payment holding `held_minor` on the charges of PPD invoice `invoice_id` reports
    /// on it: the next instalment of its balance, as the complement lists it and as billing
    /// records it; `None` when the invoice is reported paid in full already.
    ///
    /// The reads need no common transaction: the balance is one statement, an invoice's stamp
    /// and lines never change once written, and a complement issued on the same invoice
    /// meanwhile takes the same instalment number, which the write refuses.
    async fn paid_document(
        &self,
        invoice_id: InvoiceId,
        held_minor: i64,
    ) -> Result<Option<(PaidDocument, ReceiptDocument)>, BillingError> {
        let invoice = self.invoice(invoice_id).await?;
        let Some(stamp) = &invoice.stamp else {
            return Err(BillingError::NotInvoiceable(format!(
                "invoice {invoice_id} is not stamped: it has no UUID to report paid"
            )));
        };
        let balance = self.store.invoice_balance(invoice_id).await?;
        let money = |minor| Money::from_minor(minor, self.settings.clinic.currency);
        let due = instalment(
            money(balance.total_minor),
            money(balance.reported_paid_minor),
            money(balance.credited_minor),
            money(held_minor),
        )
        .map_err(|error| {
            anyhow::anyhow!("invoice {invoice_id}'s balance is out of range: {error}")
        })?;
        let Some(due) = due else {
            return Ok(None);
        };
        let lines = self.store.invoice_lines(invoice_id).await?;
        let totals = cfdi::totals_of(&payment_concepts(&lines, 0));
        let installment = balance.installments + 1;
        let document = PaidDocument {
            uuid: stamp.uuid.clone(),
            series: invoice.series.clone(),
            folio: invoice.folio.to_string(),
            installment,
            previous_balance_minor: due.previous_balance.minor_units(),
            paid_minor: due.paid.minor_units(),
            taxes: InvoiceTaxes {
                total: totals.total,
                exempt_base: totals.exempt_base,
                vat_base: totals.vat_base,
                vat: totals.vat,
            },
        };
        let receipt = ReceiptDocument {
            invoice_id,
            installment,
            previous_balance_minor: due.previous_balance.minor_units(),
            paid_minor: due.paid.minor_units(),
        };
        Ok(Some((document, receipt)))
    }

    /// The payment a complement reports: received at `received_at` (local time) in the form
    /// of its `parts`; paid from the patient's advance when it brought no money of its own.
    fn payment_received(
        &self,
        received_at: DateTime<Utc>,
        parts: &[MoneyPart],
        documents: Vec<PaidDocument>,
    ) -> PaymentReceived {
        let received_at = received_at
            .with_timezone(&self.settings.clinic.time_zone)
            .naive_local();
        let form = if parts.is_empty() {
            // 30: aplicación de anticipos.
            "30"
        } else {
            payment_form(parts)
        };
        PaymentReceived {
            paid_at: received_at.with_nanosecond(0).unwrap_or(received_at),
            form: form.to_owned(),
            currency: self.settings.clinic.currency.code().to_owned(),
            documents,
        }
    }

    /// Payments on PPD invoices still awaiting their complement, the soonest due first.
    pub async fn pending_complements(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<PendingComplement>, BillingError> {
        let today = self.today(now);
        let currency = self.settings.clinic.currency;
        let mut pending = Vec::new();
        for payment in self.store.pending_complements().await? {
            let deadline = complement_deadline(payment.paid_on);
            pending.push(PendingComplement {
                payment_id: payment.payment_id,
                patient_id: payment.patient_id,
                receipt_number: payment.receipt_number,
                paid_on: payment.paid_on,
                amount: Money::from_minor(payment.amount_minor, currency),
                deadline,
                overdue: today > deadline,
                invoice_ids: payment.invoice_ids,
            });
        }
        pending.sort_by_key(|payment| payment.deadline);
        Ok(pending)
    }
}
