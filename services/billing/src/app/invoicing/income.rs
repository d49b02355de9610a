//! Income invoices (CFDI type I): a payment's own invoice to the patient's fiscal data (PUE),
//! the day's global invoice of the payments nobody invoiced (PUE, to the general public), and
//! an invoice of charges not paid yet (PPD), whose payments later get payment complements.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId};

use super::{Document, IssueRequest};
use crate::app::Billing;
use crate::domain::cfdi;
use crate::domain::{
    BillingError, Invoice, InvoiceSubject, MoneyPart, Operation, PaidLine, daily_period,
    payment_concepts, payment_form, public_receptor, public_sale,
};
use crate::store::OpenCharges;

/// What a PPD invoice bills: each charge with what it bills for it, and the charges as lines.
type Billed = (Vec<(ChargeId, i64)>, Vec<PaidLine>);

/// A charge of the patient's, as a PPD invoice would bill it.
struct Candidate {
    charge_id: ChargeId,
    line: PaidLine,
    /// Already billed by a PPD invoice.
    invoiced: bool,
}

impl Billing {
    /// Issues the invoice of payment `payment_id` to the patient's fiscal data for `caller`,
    /// or returns the one a first call with `request_id` issued.
    pub async fn issue_invoice(
        &self,
        caller: &Caller,
        payment_id: PaymentId,
        request_id: RequestId,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let request = IssueRequest::new(
            Operation::IssueInvoice,
            request_id,
            &[&payment_id.to_string()],
        );
        if let Some(invoice) = self.earlier_document(&request, now).await? {
            return Ok(invoice);
        }
        self.issuer()?;
        let payment = self
            .store
            .payment_to_invoice(payment_id)
            .await?
            .ok_or(BillingError::PaymentNotFound(payment_id))?;
        if payment.invoiced {
            return Err(BillingError::AlreadyInvoiced(payment_id));
        }
        if payment.net_minor <= 0 {
            return Err(BillingError::NotInvoiceable(format!(
                "payment {payment_id} brought no money to invoice (paid from the advance or refunded)"
            )));
        }
        if payment.pays_ppd_invoice {
            return Err(BillingError::NotInvoiceable(format!(
                "payment {payment_id} pays charges invoiced PPD: issue its payment complement"
            )));
        }
        let receptor = self
            .patient_receptor(
                payment.patient_id,
                ", or the payment goes into the day's global invoice",
            )
            .await?;
        let document = Document {
            document_type: cfdi::DocumentType::Ingreso,
            receptor,
            global: None,
            related: None,
            payment_form: Some(payment_form(&payment.parts).to_owned()),
            payment_method: Some("PUE".into()),
            // What the payment's money pays now, and what it keeps as advance (refunds, taken
            // from the advance first, are already out of both).
            concepts: payment_concepts(&payment.paid, payment.unallocated_minor),
            payment: None,
        };
        let subject = InvoiceSubject::Payment(payment_id);
        let invoice = self.issue(caller, request, subject, document, now).await?;
        tracing::info!(invoice_id = %invoice.invoice_id, folio = invoice.folio, "invoice issued");
        Ok(invoice)
    }

    /// Issues the global invoice of `day` (its payments no invoice covers) to the general
    /// public for `caller`, or returns the one a first call with `request_id` issued.
    pub async fn issue_global_invoice(
        &self,
        caller: &Caller,
        day: NaiveDate,
        request_id: RequestId,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let request = IssueRequest::new(
            Operation::IssueGlobalInvoice,
            request_id,
            &["global", &day.to_string()],
        );
        if let Some(invoice) = self.earlier_document(&request, now).await? {
            return Ok(invoice);
        }
        let (settings, _) = self.issuer()?;
        let sales = self.store.public_sales(day).await?;
        if sales.is_empty() {
            return Err(BillingError::NotInvoiceable(format!(
                "no payment of {day} is left to invoice"
            )));
        }
        let parts: Vec<MoneyPart> = sales.iter().flat_map(|sale| sale.parts.clone()).collect();
        let document = Document {
            document_type: cfdi::DocumentType::Ingreso,
            receptor: public_receptor(&settings.place_of_issue),
            global: Some(daily_period(day)),
            related: None,
            payment_form: Some(payment_form(&parts).to_owned()),
            payment_method: Some("PUE".into()),
            concepts: sales
                .iter()
                .map(|sale| public_sale(sale.receipt_number, sale.net_minor))
                .collect(),
            payment: None,
        };
        let subject = InvoiceSubject::Global {
            day,
            payments: sales.iter().map(|sale| sale.payment_id).collect(),
        };
        let invoice = self.issue(caller, request, subject, document, now).await?;
        tracing::info!(
            invoice_id = %invoice.invoice_id,
            folio = invoice.folio,
            "global invoice issued"
        );
        Ok(invoice)
    }

    /// Issues an invoice PPD of the patient's `charge_ids` (or, when none are named, of every
    /// charge not paid and not invoiced) for `caller`, or returns the one a first call with
    /// `request_id` issued.
    pub async fn issue_charges_invoice(
        &self,
        caller: &Caller,
        patient_id: PatientId,
        charge_ids: Vec<ChargeId>,
        request_id: RequestId,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let mut names = vec![patient_id.to_string()];
        names.extend(charge_ids.iter().map(ToString::to_string));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let request = IssueRequest::new(Operation::IssueChargesInvoice, request_id, &names);
        if let Some(invoice) = self.earlier_document(&request, now).await? {
            return Ok(invoice);
        }
        self.issuer()?;
        let open = self
            .store
            .open_charges(patient_id, self.settings.clinic.currency)
            .await?;
        let lines: Vec<Candidate> = self
            .store
            .charge_lines(patient_id)
            .await?
            .into_iter()
            .map(|charge| Candidate {
                charge_id: charge.charge_id,
                line: charge.line,
                invoiced: charge.invoiced,
            })
            .collect();
        let (billed, paid_lines) = if charge_ids.is_empty() {
            every_unbilled_charge(&open, &lines)?
        } else {
            chosen_charges(&open, &lines, &charge_ids)?
        };
        let document = Document {
            document_type: cfdi::DocumentType::Ingreso,
            receptor: self.patient_receptor(patient_id, "").await?,
            global: None,
            related: None,
            // To be paid later: the form is not known yet (99), and each payment gets a
            // payment complement.
            payment_form: Some("99".into()),
            payment_method: Some("PPD".into()),
            concepts: payment_concepts(&paid_lines, 0),
            payment: None,
        };
        let subject = InvoiceSubject::Charges(billed);
        let invoice = self.issue(caller, request, subject, document, now).await?;
        tracing::info!(
            invoice_id = %invoice.invoice_id,
            folio = invoice.folio,
            "PPD invoice issued"
        );
        Ok(invoice)
    }
}

/// What the charge `charge_id` still has due, while none of the patient's money is on it: a
/// charge is billed PPD only then.
fn unpaid_due(open: &OpenCharges, charge_id: ChargeId) -> Option<i64> {
    open.charges
        .iter()
        .find(|(charge, _)| charge.charge_id == charge_id)
        .map(|(_, standing)| standing)
        .filter(|standing| standing.allocated == 0)
        .map(|standing| standing.due)
}

/// Every charge of the patient's that is neither invoiced nor paid (in part).
fn every_unbilled_charge(open: &OpenCharges, lines: &[Candidate]) -> Result<Billed, BillingError> {
    let mut billed = Vec::new();
    let mut paid_lines = Vec::new();
    for line in lines.iter().filter(|line| !line.invoiced) {
        if let Some(due) = unpaid_due(open, line.charge_id) {
            billed.push((line.charge_id, due));
            paid_lines.push(PaidLine {
                amount_minor: due,
                ..line.line.clone()
            });
        }
    }
    if billed.is_empty() {
        return Err(BillingError::NotInvoiceable(
            "the patient has no charge left to invoice (unpaid and not invoiced)".into(),
        ));
    }
    Ok((billed, paid_lines))
}

/// The charges named, each the patient's, not invoiced and not paid (in part).
fn chosen_charges(
    open: &OpenCharges,
    lines: &[Candidate],
    charge_ids: &[ChargeId],
) -> Result<Billed, BillingError> {
    let mut billed = Vec::new();
    let mut paid_lines = Vec::new();
    for &charge_id in charge_ids {
        let line = lines
            .iter()
            .find(|line| line.charge_id == charge_id)
            .ok_or(BillingError::ChargeNotFound(charge_id))?;
        if line.invoiced {
            return Err(BillingError::AlreadyIssued(format!(
                "charge {charge_id} is already invoiced"
            )));
        }
        let due = unpaid_due(open, charge_id).ok_or_else(|| {
            BillingError::NotInvoiceable(format!(
                "charge {charge_id} is paid (in part): its payment is invoiced instead"
            ))
        })?;
        billed.push((charge_id, due));
        paid_lines.push(PaidLine {
            amount_minor: due,
            ..line.line.clone()
        });
    }
    Ok((billed, paid_lines))
}
