//! A credit note's CFDI (type E, Egreso): the amount a credit note took off a charge, to whom
//! the charge's invoice went, related to that invoice by its UUID.

use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::RequestId;

use super::{Document, IssueRequest};
use crate::app::Billing;
use crate::domain::cfdi;
use crate::domain::{
    BillingError, Correction, CorrectionId, CreditedInvoice, Invoice, InvoiceSubject, Operation,
    PaidLine, payment_concepts,
};

impl Billing {
    /// Issues the CFDI of credit note `correction_id` for `caller`, or returns the one a first
    /// call with `request_id` issued.
    pub async fn issue_credit_note_invoice(
        &self,
        caller: &Caller,
        correction_id: CorrectionId,
        request_id: RequestId,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let request = IssueRequest::new(
            Operation::IssueCreditNoteInvoice,
            request_id,
            &["credit_note", &correction_id.to_string()],
        );
        if let Some(invoice) = self.earlier_document(&request, now).await? {
            return Ok(invoice);
        }
        self.issuer()?;
        let source = self
            .store
            .credit_note_source(correction_id)
            .await?
            .ok_or(BillingError::CreditNoteNotFound(correction_id))?;
        let correction = self
            .store
            .correction(correction_id)
            .await?
            .ok_or(BillingError::CreditNoteNotFound(correction_id))?;
        let related_id = source.invoice_id.ok_or_else(|| {
            BillingError::NotInvoiceable(
                "the credited charge was never invoiced: a credit note's CFDI relates to its \
                 invoice"
                    .into(),
            )
        })?;
        let related = self.invoice(related_id).await?;
        let uuid = credited_uuid(&related, &correction)?;
        // The credit note goes to whom the invoice went, as the invoice names them.
        let credited = CreditedInvoice::read(&related.xml);
        let number = correction
            .credit_note_number
            .map(|number| number.to_string())
            .unwrap_or_default();
        let line = PaidLine {
            description: format!("Nota de crédito {number}: {}", source.line.description),
            ..source.line
        };
        let document = Document {
            document_type: cfdi::DocumentType::Egreso,
            receptor: credited.receptor,
            global: credited.global,
            related: Some(cfdi::Related {
                relation: "01".into(),
                uuids: vec![uuid],
            }),
            payment_form: Some(credited.payment_form),
            payment_method: Some("PUE".into()),
            concepts: payment_concepts(&[line], 0),
            payment: None,
        };
        let subject = InvoiceSubject::CreditNote {
            correction_id,
            related: related_id,
        };
        let invoice = self.issue(caller, request, subject, document, now).await?;
        tracing::info!(
            invoice_id = %invoice.invoice_id,
            folio = invoice.folio,
            "credit note CFDI issued"
        );
        Ok(invoice)
    }
}

/// The UUID of the invoice a credit note's CFDI relates to, once it is stamped; an invoice
/// issued after the credit note billed the charge net of it already, and is not credited.
fn credited_uuid(related: &Invoice, correction: &Correction) -> Result<String, BillingError> {
    let related_id = related.invoice_id;
    let Some(stamp) = &related.stamp else {
        return Err(BillingError::NotInvoiceable(format!(
            "invoice {related_id} is not stamped: it has no UUID to relate the credit note to"
        )));
    };
    if related.created_at > correction.created_at {
        return Err(BillingError::NotInvoiceable(format!(
            "invoice {related_id} was issued after the credit note and bills the charge net \
             of it already"
        )));
    }
    Ok(stamp.uuid.clone())
}
