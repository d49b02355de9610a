//! Payments taken by phone: billing records them on the collector's behalf, collections notes
//! who took each, and the receivables catch up before the collector is answered.

use clinic_common::Money;
use clinic_common::ids::{PatientId, RequestId};
use clinic_proto::billing::v1 as billing;
use clinic_proto::money_to_proto;

use super::billing::billing_refusal;
use super::{Desk, DeskError, OnBehalf};
use crate::domain::{CollectionsError, Receivable};
use crate::follower::catch_up;

/// A payment to take by phone.
#[derive(Debug, Clone)]
pub(crate) struct PhonePayment {
    pub patient_id: PatientId,
    /// Positive.
    pub amount: Money,
    /// The card or transfer, as billing takes it.
    pub method: billing::post_payment_request::Method,
    /// Billing's idempotency key for the payment.
    pub request_id: RequestId,
}

/// What taking a payment did.
#[derive(Debug, Clone)]
pub(crate) struct TakenPayment {
    /// The payment as billing recorded it.
    pub payment: billing::Payment,
    /// The account after the payment; `None` when it owes nothing now.
    pub account: Option<Receivable>,
    /// The ledger sequence the receivables include, the payment's among them.
    pub applied_sequence: i64,
}

impl Desk {
    /// Has billing take `payment` on the caller's behalf (a retry with its request id takes it
    /// once), records that `collector` took it, and brings the receivables up to it.
    pub(crate) async fn take_payment(
        &self,
        on_behalf: &OnBehalf,
        payment: &PhonePayment,
        collector: &str,
    ) -> Result<TakenPayment, DeskError> {
        let post = billing::PostPaymentRequest {
            patient_id: payment.patient_id.to_string(),
            amount: Some(money_to_proto(payment.amount)),
            method: Some(payment.method.clone()),
            request_id: payment.request_id.as_str().to_owned(),
            ..Default::default()
        };
        let mut billing = self.billing_on_behalf.clone();
        let posted = billing
            .post_payment(on_behalf.request(post))
            .await
            .map_err(billing_refusal)?
            .into_inner();
        let taken_at = posted
            .create_time
            .as_ref()
            .and_then(|time| clinic_proto::timestamp_from_proto(Some(time)).ok())
            .unwrap_or_else(|| self.clock.now());
        self.store
            .record_phone_payment(
                &posted.payment_id,
                payment.patient_id,
                collector,
                payment.amount,
                taken_at,
            )
            .await?;
        let applied_sequence = self.catch_up_with_account(payment.patient_id).await?;
        let account = self
            .store
            .receivable(payment.patient_id)
            .await?
            .filter(|account| account.balance.is_positive());
        Ok(TakenPayment {
            payment: posted,
            account,
            applied_sequence,
        })
    }

    /// Brings the receivables up to everything billing has recorded on the patient's account
    /// (such as a payment it has just taken); returns the ledger sequence applied.
    async fn catch_up_with_account(&self, patient_id: PatientId) -> Result<i64, DeskError> {
        let mut billing = self.billing.clone();
        let balance = billing
            .get_account_balance(billing::GetAccountBalanceRequest {
                patient_id: patient_id.to_string(),
                identity: None,
            })
            .await
            .map_err(billing_refusal)?
            .into_inner();
        let applied_sequence = catch_up(
            &self.store,
            &mut billing,
            self.terms.currency,
            &self.clock,
            balance.as_of_sequence,
        )
        .await
        .map_err(|error| {
            tracing::warn!(error = ?error, "the receivables could not catch up with billing");
            CollectionsError::BillingUnavailable
        })?;
        Ok(applied_sequence)
    }
}
