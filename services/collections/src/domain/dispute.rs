//! Disputes and escalations: the two ways an account leaves the ordinary collections round.
//!
//! A dispute opens when a contact ends with the patient disputing what they owe; it holds
//! outreach (see `contact`) until it is answered: the charge corrected or a credit note issued in
//! billing, or the charge upheld. An escalation hands an account on, with a reason, to a manager,
//! an external agency or a write-off proposal, as far as the clinic's policy allows.

use chrono::{DateTime, Utc};
use clinic_common::Money;
use clinic_common::ids::{PatientId, RequestId};

use super::BillingIssue;

/// How a dispute was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeAnswer {
    /// Billing corrected the charge.
    CorrectedCharge,
    /// Billing issued a credit note.
    CreditNote,
    /// The charge stands.
    Upheld,
}

impl DisputeAnswer {
    pub fn as_str(&self) -> &'static str {
        match self {
            DisputeAnswer::CorrectedCharge => "corrected_charge",
            DisputeAnswer::CreditNote => "credit_note",
            DisputeAnswer::Upheld => "upheld",
        }
    }

    pub fn parse(code: &str) -> Option<DisputeAnswer> {
        match code {
            "corrected_charge" => Some(DisputeAnswer::CorrectedCharge),
            "credit_note" => Some(DisputeAnswer::CreditNote),
            "upheld" => Some(DisputeAnswer::Upheld),
            _ => None,
        }
    }

    /// Whether billing corrects the charge for this answer.
    pub fn corrects_the_charge(&self) -> bool {
        !matches!(self, DisputeAnswer::Upheld)
    }
}

/// A dispute and, once given, its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    pub dispute_id: String,
    pub patient_id: PatientId,
    pub contact_id: Option<String>,
    pub billing_issue: BillingIssue,
    pub opened_at: DateTime<Utc>,
    pub answer: Option<GivenAnswer>,
}

/// How and when a dispute was closed.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenAnswer {
    pub answer: DisputeAnswer,
    pub note: String,
    pub billing_reference: Option<String>,
    pub answered_at: DateTime<Utc>,
    pub answered_by: String,
}

/// An `AnswerDispute` request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAnswer {
    pub patient_id: PatientId,
    pub answer: DisputeAnswer,
    pub note: String,
    /// For a corrected charge or a credit note: billing's charge and what is taken off it.
    pub correction: Option<(String, Money)>,
    /// Billing's credit note number or correction id, once billing has made it.
    pub billing_reference: Option<String>,
    pub request_id: RequestId,
}

impl NewAnswer {
    /// What a retry must repeat exactly (billing's reference is an outcome, not part of it).
    pub fn fingerprint(&self) -> String {
        let (charge_id, amount) = self
            .correction
            .as_ref()
            .map(|(charge_id, amount)| (charge_id.clone(), amount.minor_units().to_string()))
            .unwrap_or_default();
        clinic_common::ids::request_fingerprint(&[
            &self.patient_id.to_string(),
            self.answer.as_str(),
            &self.note,
            &charge_id,
            &amount,
        ])
    }
}

/// Where an account is escalated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationTarget {
    Manager,
    ExternalAgency,
    WriteOffProposal,
}

impl EscalationTarget {
    pub fn as_str(&self) -> &'static str {
        match self {
            EscalationTarget::Manager => "manager",
            EscalationTarget::ExternalAgency => "external_agency",
            EscalationTarget::WriteOffProposal => "write_off_proposal",
        }
    }

    pub fn parse(code: &str) -> Option<EscalationTarget> {
        match code {
            "manager" => Some(EscalationTarget::Manager),
            "external_agency" => Some(EscalationTarget::ExternalAgency),
            "write_off_proposal" => Some(EscalationTarget::WriteOffProposal),
            _ => None,
        }
    }
}

/// The clinic's escalation policy: how far past due an account must be before it may go to an
/// agency or be proposed for write-off. A manager may always be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationPolicy {
    pub agency_after_days: u32,
    pub write_off_after_days: u32,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            agency_after_days: 90,
            write_off_after_days: 180,
        }
    }
}

/// Why the policy refuses an escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationRefusal {
    /// Not far enough past due for the target: the days it needs.
    TooRecent { needs_days: u32 },
    /// Nothing is owed.
    NothingOwed,
    /// An open dispute must be answered first.
    DisputeOpen,
}

impl EscalationPolicy {
    /// Whether an account owing `balance`, `days_past_due` days past due, may go to `target`.
    pub fn allows(
        &self,
        target: EscalationTarget,
        balance: Money,
        days_past_due: i64,
        dispute_open: bool,
    ) -> Result<(), EscalationRefusal> {
        if dispute_open {
            return Err(EscalationRefusal::DisputeOpen);
        }
        let needs_days = match target {
            EscalationTarget::Manager => return Ok(()),
            EscalationTarget::ExternalAgency => self.agency_after_days,
            EscalationTarget::WriteOffProposal => self.write_off_after_days,
        };
        if !balance.is_positive() {
            return Err(EscalationRefusal::NothingOwed);
        }
        if days_past_due < i64::from(needs_days) {
            return Err(EscalationRefusal::TooRecent { needs_days });
        }
        Ok(())
    }
}

/// An escalation as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub escalation_id: String,
    pub patient_id: PatientId,
    pub target: EscalationTarget,
    pub reason: String,
    pub balance: Money,
    pub days_past_due: i64,
    pub created_at: DateTime<Utc>,
    pub escalated_by: String,
}

/// An `EscalateAccount` request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEscalation {
    pub patient_id: PatientId,
    pub target: EscalationTarget,
    pub reason: String,
    pub request_id: RequestId,
}

impl NewEscalation {
    pub fn fingerprint(&self) -> String {
        clinic_common::ids::request_fingerprint(&[
            &self.patient_id.to_string(),
            self.target.as_str(),
            &self.reason,
        ])
    }
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn pesos(whole: i64) -> Money {
        Money::from_minor(whole * 100, Currency::MXN)
    }

    #[test]
    fn a_manager_may_always_be_asked_an_agency_and_a_write_off_only_past_their_days() {
        let policy = EscalationPolicy::default();

        assert_eq!(
            policy.allows(EscalationTarget::Manager, pesos(0), 0, false),
            Ok(())
        );
        assert_eq!(
            policy.allows(EscalationTarget::ExternalAgency, pesos(500), 89, false),
            Err(EscalationRefusal::TooRecent { needs_days: 90 })
        );
        assert_eq!(
            policy.allows(EscalationTarget::ExternalAgency, pesos(500), 90, false),
            Ok(())
        );
        assert_eq!(
            policy.allows(EscalationTarget::WriteOffProposal, pesos(500), 179, false),
            Err(EscalationRefusal::TooRecent { needs_days: 180 })
        );
        assert_eq!(
            policy.allows(EscalationTarget::WriteOffProposal, pesos(0), 400, false),
            Err(EscalationRefusal::NothingOwed)
        );
        assert_eq!(
            policy.allows(EscalationTarget::Manager, pesos(500), 400, true),
            Err(EscalationRefusal::DisputeOpen)
        );
    }

    #[test]
    fn only_an_upheld_charge_is_left_as_it_is() {
        assert!(DisputeAnswer::CreditNote.corrects_the_charge());
        assert!(DisputeAnswer::CorrectedCharge.corrects_the_charge());
        assert!(!DisputeAnswer::Upheld.corrects_the_charge());
        for answer in [
            DisputeAnswer::CreditNote,
            DisputeAnswer::CorrectedCharge,
            DisputeAnswer::Upheld,
        ] {
            assert_eq!(DisputeAnswer::parse(answer.as_str()), Some(answer));
        }
    }
}
