//! Payments and what follows them: a payment posted (identity evidence confirmed with the patient
//! registry first, when given), a patient's balance, a refund, and a payment's receipt.

use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::{PatientId, PaymentId};
use clinic_common::validation::FieldViolations;

use super::Billing;
use crate::domain::{
    AccountBalance, BillingError, IdentityEvidence, NewPayment, NewRefund, Payment, Receipt,
    ReceiptFormat, Refund,
};

/// A receipt laid out and encoded.
pub struct RenderedReceipt {
    pub content: Vec<u8>,
    pub receipt_number: String,
}

impl Billing {
    /// Posts a payment for `caller`, or returns the one a first call with its request id posted.
    pub async fn post_payment(
        &self,
        caller: &Caller,
        new: NewPayment,
        identity: Option<IdentityEvidence>,
        now: DateTime<Utc>,
    ) -> Result<Payment, BillingError> {
        // Identity first: until it is confirmed, a kiosk learns nothing, not even a retry's answer.
        self.confirm_identity(new.patient_id, identity.as_ref())
            .await?;
        // A retry returns the first payment unchanged and writes nothing, even while the
        // registry is down: the terminal that lost the first answer must be able to print it.
        if let Some(payment) = self
            .store
            .earlier_payment(&new.request_id, &new.fingerprint())
            .await?
        {
            return Ok(payment);
        }
        if !self.registry.is_registered(new.patient_id).await? {
            return Err(
                FieldViolations::single("patient_id", "is not a registered patient").into(),
            );
        }
        let payment = self
            .store
            .post_payment(&new, &caller.subject, self.today(now), now)
            .await?;
        tracing::info!(
            payment_id = %payment.payment_id,
            receipt_number = %payment.receipt_number,
            "payment recorded"
        );
        Ok(payment)
    }

    /// The patient's balance, once the identity evidence given (if any) is confirmed. No other
    /// registry call: a patient billing has never seen simply owes nothing.
    pub async fn account_balance(
        &self,
        patient_id: PatientId,
        identity: Option<IdentityEvidence>,
    ) -> Result<AccountBalance, BillingError> {
        self.confirm_identity(patient_id, identity.as_ref()).await?;
        self.store
            .account_balance(patient_id, self.settings.clinic.currency)
            .await
    }

    /// Checks identity evidence given with a request (always given by a kiosk) with the patient
    /// registry. A mismatch says nothing about which part did not match.
    async fn confirm_identity(
        &self,
        patient_id: PatientId,
        evidence: Option<&IdentityEvidence>,
    ) -> Result<(), BillingError> {
        let Some(evidence) = evidence else {
            return Ok(());
        };
        if self.registry.identity_matches(patient_id, evidence).await? {
            Ok(())
        } else {
            tracing::info!("identity evidence did not match");
            Err(BillingError::IdentityNotConfirmed)
        }
    }

    /// Refunds a payment for `caller`, or returns the refund a first call with its request id
    /// made: a retry is answered even after the drawer it came out of was closed.
    pub async fn refund_payment(
        &self,
        caller: &Caller,
        new: NewRefund,
        now: DateTime<Utc>,
    ) -> Result<Refund, BillingError> {
        if let Some(refund) = self
            .store
            .earlier_refund(&new.request_id, &new.fingerprint())
            .await?
        {
            return Ok(refund);
        }
        let refund = self
            .store
            .refund_payment(&new, &caller.subject, self.today(now), now)
            .await?;
        tracing::info!(refund_id = %refund.refund_id, "payment refunded");
        Ok(refund)
    }

    /// The receipt of a payment, with the patient's charges of its day, laid out in `format`.
    pub async fn render_receipt(
        &self,
        payment_id: PaymentId,
        format: ReceiptFormat,
    ) -> Result<RenderedReceipt, BillingError> {
        let payment = self
            .store
            .payment(payment_id)
            .await?
            .ok_or(BillingError::PaymentNotFound(payment_id))?;
        let charges = self
            .store
            .charges_on(payment.patient_id, payment.service_date)
            .await?;
        let receipt = Receipt {
            clinic_name: self.settings.clinic.name.clone(),
            local_time: payment
                .created_at
                .with_timezone(&self.settings.clinic.time_zone)
                .naive_local(),
            payment,
            charges,
        };
        let receipt_number = receipt.number();
        // Laying out and encoding a document is CPU work: off the async workers, in this span.
        let span = tracing::Span::current();
        let content = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            match format {
                ReceiptFormat::Escpos => crate::printing::render_escpos(&receipt),
                ReceiptFormat::Pdf => Ok(crate::printing::render_pdf(&receipt)),
            }
        })
        .await
        .map_err(|error| anyhow::anyhow!("receipt rendering failed: {error}"))??;
        Ok(RenderedReceipt {
            content,
            receipt_number,
        })
    }
}
