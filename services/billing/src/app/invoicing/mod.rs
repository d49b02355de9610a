//! Invoicing: CFDI 4.0 documents assembled from what billing recorded, sealed with the clinic's
//! CSD, numbered and stored in one transaction, then stamped by the PAC when one is configured.
//! A request id makes each issue idempotent: a retry returns the document the first call
//! issued, and stamps it if the PAC did not answer the first time.
//!
//! - `income`: a payment's own invoice, the day's global invoice to the general public, and an
//!   invoice of unpaid charges issued PPD.
//! - `credit_note`: a credit note's CFDI (Egreso), related to the invoice of the charge.
//! - `complement`: a payment document (Pagos 2.0) of a payment on PPD invoices, and the
//!   payments still awaiting one.

mod complement;
mod credit_note;
mod income;

use chrono::{DateTime, Timelike, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::{PatientId, RequestId, request_fingerprint};

use super::Billing;
use crate::config::CfdiSettings;
use crate::domain::cfdi;
use crate::domain::pagos::PaymentReceived;
use crate::domain::{BillingError, Invoice, InvoiceStamp, InvoiceSubject, Operation};
use crate::seal::Csd;
use crate::store::{InvoiceDraft, Sealed};

pub use complement::PendingComplement;

/// What a CFDI says besides its issuer, series, folio and date.
struct Document {
    document_type: cfdi::DocumentType,
    receptor: cfdi::Receptor,
    global: Option<cfdi::GlobalPeriod>,
    related: Option<cfdi::Related>,
    payment_form: Option<String>,
    payment_method: Option<String>,
    concepts: Vec<cfdi::Concept>,
    payment: Option<PaymentReceived>,
}

/// An issue request as its idempotency key sees it: the operation, the client's request id and
/// a digest of what it names.
struct IssueRequest {
    operation: Operation,
    request_id: RequestId,
    fingerprint: String,
}

impl IssueRequest {
    fn new(operation: Operation, request_id: RequestId, names: &[&str]) -> Self {
        IssueRequest {
            operation,
            request_id,
            fingerprint: request_fingerprint(names),
        }
    }
}

impl Billing {
    /// The invoice `invoice_id`.
    pub async fn invoice(
        &self,
        invoice_id: crate::domain::InvoiceId,
    ) -> Result<Invoice, BillingError> {
        self.store
            .invoice(invoice_id)
            .await?
            .ok_or_else(|| BillingError::InvoiceNotFound(invoice_id.to_string()))
    }

    /// The issuer and its CSD, or why invoices cannot be issued.
    fn issuer(&self) -> Result<(&CfdiSettings, &Csd), BillingError> {
        match (&self.settings.cfdi, &self.csd) {
            (Some(cfdi), Some(csd)) => Ok((cfdi, csd)),
            _ => Err(BillingError::NotInvoiceable(
                "invoicing is not configured (billing.cfdi)".into(),
            )),
        }
    }

    /// The invoice a first call with this request issued, stamped if it was not yet.
    async fn earlier_document(
        &self,
        request: &IssueRequest,
        now: DateTime<Utc>,
    ) -> Result<Option<Invoice>, BillingError> {
        let earlier = self
            .store
            .earlier_invoice(request.operation, &request.request_id, &request.fingerprint)
            .await?;
        match earlier {
            Some(invoice) => Ok(Some(self.stamped(invoice, now).await?)),
            None => Ok(None),
        }
    }

    /// Builds, seals, numbers and stores `document` for `caller`, then has the PAC stamp it.
    async fn issue(
        &self,
        caller: &Caller,
        request: IssueRequest,
        subject: InvoiceSubject,
        document: Document,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let (settings, csd) = self.issuer()?;
        let series = match document.document_type {
            cfdi::DocumentType::Ingreso => &settings.series,
            cfdi::DocumentType::Egreso => &settings.credit_note_series,
            cfdi::DocumentType::Pago => &settings.payment_series,
        };
        let seal = |folio: i64| {
            let comprobante = self.comprobante(settings, series, folio, &document, now);
            let cadena_original = comprobante.cadena_original(&csd.certificate_number);
            let sello = csd.seal(&cadena_original);
            let totals = comprobante.totals();
            Sealed {
                xml: comprobante.xml(&csd.certificate_number, &csd.certificate, &sello),
                cadena_original,
                total_minor: (totals.total * rust_decimal::Decimal::from(100))
                    .trunc()
                    .try_into()
                    .unwrap_or_default(),
            }
        };
        let draft = InvoiceDraft {
            operation: request.operation,
            request_id: &request.request_id,
            fingerprint: request.fingerprint,
            subject,
            series,
            receptor_rfc: &document.receptor.party.rfc,
            currency: self.settings.clinic.currency,
            certificate_number: &csd.certificate_number,
            created_by: &caller.subject,
            seal: &seal,
        };
        let invoice = self.store.issue_invoice(&draft, now).await?;
        self.stamped(invoice, now).await
    }

    /// The comprobante of `document` as folio `folio` of `series`, issued at `now` in the
    /// clinic's local time.
    fn comprobante(
        &self,
        settings: &CfdiSettings,
        series: &str,
        folio: i64,
        document: &Document,
        now: DateTime<Utc>,
    ) -> cfdi::Comprobante {
        let issued_at = now
            .with_timezone(&self.settings.clinic.time_zone)
            .naive_local();
        cfdi::Comprobante {
            document_type: document.document_type,
            series: series.to_owned(),
            folio: folio.to_string(),
            issued_at: issued_at.with_nanosecond(0).unwrap_or(issued_at),
            payment_form: document.payment_form.clone(),
            payment_method: document.payment_method.clone(),
            currency: self.settings.clinic.currency.code().to_owned(),
            place_of_issue: settings.place_of_issue.clone(),
            global: document.global.clone(),
            related: document.related.clone(),
            emisor: cfdi::Party {
                rfc: settings.issuer_rfc.clone(),
                name: settings.issuer_name.clone(),
                tax_regime: settings.issuer_tax_regime.clone(),
            },
            receptor: document.receptor.clone(),
            concepts: document.concepts.clone(),
            payment: document.payment.clone(),
        }
    }

    /// `invoice` stamped by the PAC, when one is configured and it is not stamped yet. When
    /// the PAC does not stamp, the invoice stays sealed and the error says to retry; what the
    /// PAC said goes with the error, to the log only.
    async fn stamped(&self, invoice: Invoice, now: DateTime<Utc>) -> Result<Invoice, BillingError> {
        let Some(pac) = &self.pac else {
            return Ok(invoice);
        };
        if invoice.stamp.is_some() {
            return Ok(invoice);
        }
        let stamped = pac.stamp(&invoice.xml, now).await.map_err(|error| {
            BillingError::PacUnavailable(anyhow::Error::new(error).context(format!(
                "the PAC did not stamp invoice {}",
                invoice.invoice_id
            )))
        })?;
        let stamp = InvoiceStamp {
            uuid: stamped.uuid,
            stamped_at: stamped.stamped_at,
            pac_rfc: stamped.pac_rfc,
            sat_certificate_number: stamped.sat_certificate_number,
            xml: stamped.xml,
        };
        self.store
            .record_stamp(invoice.invoice_id, &stamp, now)
            .await?;
        tracing::info!(uuid = %stamp.uuid, "invoice stamped");
        self.invoice(invoice.invoice_id).await
    }

    /// The receptor on a patient's invoices: their fiscal data. `why` ends the refusal when
    /// they have none (what else the clinic can do).
    async fn patient_receptor(
        &self,
        patient_id: PatientId,
        why: &str,
    ) -> Result<cfdi::Receptor, BillingError> {
        let fiscal = self
            .registry
            .fiscal_data(patient_id)
            .await?
            .ok_or_else(|| {
                BillingError::NotInvoiceable(format!(
                    "the patient has no fiscal data: record it in the patient registry{why}"
                ))
            })?;
        Ok(fiscal.receptor())
    }
}
