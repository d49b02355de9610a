//! Answering disputes, with billing correcting the disputed charge on the manager's behalf,
//! and escalating accounts under the escalation policy.

use clinic_common::Money;
use clinic_proto::billing::v1 as billing;
use clinic_proto::money_to_proto;

use super::billing::billing_refusal;
use super::{Desk, DeskError, OnBehalf};
use crate::domain::{
    CollectionsError, Dispute, DisputeAnswer, Escalation, NewAnswer, NewEscalation,
};
use crate::follower::catch_up;
use crate::store::EscalationFacts;

/// At most this many of an account's disputes are read to find its open one.
const DISPUTES_MAX: u32 = 500;

/// The longest reason billing keeps on a correction.
const BILLING_REASON_MAX_CHARS: usize = 500;

impl Desk {
    /// Answers the account's open dispute once per request id, `answered_by` the caller.
    /// An answer that corrects the charge has billing do so first, on the caller's behalf; the
    /// receivables then catch up with the correction.
    pub(crate) async fn answer_dispute(
        &self,
        on_behalf: &OnBehalf,
        mut answer: NewAnswer,
        answered_by: &str,
    ) -> Result<Dispute, DeskError> {
        // A retry is answered from the first call, without asking billing to correct again.
        let retry = self.store.earlier_answer(&answer).await?.is_some();
        let mut corrected_at = None;
        if !retry {
            let open = self
                .store
                .disputes(Some(answer.patient_id), DISPUTES_MAX, 0)
                .await?
                .into_iter()
                .any(|dispute| dispute.answer.is_none());
            if !open {
                return Err(CollectionsError::NoOpenDispute.into());
            }
            if let Some((charge_id, amount)) = answer.correction.clone() {
                let (reference, sequence) = self
                    .correct_charge(on_behalf, &answer, &charge_id, amount)
                    .await?;
                answer.billing_reference = Some(reference);
                corrected_at = Some(sequence);
            }
        }
        let dispute = self
            .store
            .answer_dispute(&answer, answered_by, self.clock.now())
            .await?;
        if let Some(sequence) = corrected_at {
            // The account shows the correction at once; if billing's feed cannot be read just
            // now, the follower brings it in shortly.
            let mut billing = self.billing.clone();
            if let Err(error) = catch_up(
                &self.store,
                &mut billing,
                self.terms.currency,
                &self.clock,
                sequence,
            )
            .await
            {
                tracing::warn!(error = ?error, "the receivables could not catch up with a correction");
            }
        }
        Ok(dispute)
    }

    /// Has billing take `amount` off the disputed charge, on the manager's behalf: a credit note
    /// or a correction of the charge. Returns billing's reference (the credit note number, or
    /// the correction id) and the correction's ledger sequence.
    async fn correct_charge(
        &self,
        on_behalf: &OnBehalf,
        answer: &NewAnswer,
        charge_id: &str,
        amount: Money,
    ) -> Result<(String, i64), DeskError> {
        if !self.store.charge_of(answer.patient_id, charge_id).await? {
            return Err(CollectionsError::ChargeNotFound(charge_id.to_owned()).into());
        }
        // The full answer stays in the dispute.
        let mut reason: String = answer.note.chars().take(BILLING_REASON_MAX_CHARS).collect();
        if reason.trim().is_empty() {
            reason = "Answer to the patient's dispute".to_owned();
        }
        // Billing's own idempotency key, derived from the answer's: a retry corrects once.
        let request_id = format!("dispute-answer-{}", answer.request_id.as_str());
        let mut billing = self.billing_on_behalf.clone();
        let correction = match answer.answer {
            DisputeAnswer::CreditNote => billing
                .issue_credit_note(on_behalf.request(billing::IssueCreditNoteRequest {
                    charge_id: charge_id.to_owned(),
                    amount: Some(money_to_proto(amount)),
                    reason,
                    request_id,
                }))
                .await
                .map_err(billing_refusal)?
                .into_inner(),
            DisputeAnswer::CorrectedCharge | DisputeAnswer::Upheld => billing
                .post_adjustment(on_behalf.request(billing::PostAdjustmentRequest {
                    charge_id: charge_id.to_owned(),
                    amount: Some(money_to_proto(amount.negated())),
                    reason,
                    request_id,
                }))
                .await
                .map_err(billing_refusal)?
                .into_inner(),
        };
        let reference = if correction.credit_note_number.is_empty() {
            correction.correction_id
        } else {
            correction.credit_note_number
        };
        Ok((reference, correction.ledger_sequence))
    }

    /// Escalates an account once per request id, `escalated_by` the caller, if the policy
    /// allows it with the account's balance and days past due today.
    pub(crate) async fn escalate(
        &self,
        escalation: &NewEscalation,
        escalated_by: &str,
    ) -> Result<Escalation, CollectionsError> {
        let receivable = self
            .store
            .receivable(escalation.patient_id)
            .await?
            .ok_or(CollectionsError::PatientNotFound(escalation.patient_id))?;
        let facts = EscalationFacts {
            balance: receivable.balance,
            days_past_due: receivable
                .days_past_due(self.today(), self.terms.payment_terms_days)
                .unwrap_or(0),
        };
        self.store
            .escalate(
                escalation,
                &facts,
                &self.policy,
                escalated_by,
                self.clock.now(),
            )
            .await
    }
}
