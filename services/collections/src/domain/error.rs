//! What can go wrong in the collections service. [`CollectionsError`] is what RPCs answer with
//! (mapped to gRPC status codes in `grpc::error`); [`ApplyError`] is why the ledger follower
//! refused a ledger entry, which it logs and never shows to a caller.

use clinic_common::idempotency::{Attempt, KeyError};
use clinic_common::ids::PatientId;
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};

use super::{ContactRule, EscalationRefusal};

#[derive(Debug, thiserror::Error)]
pub enum CollectionsError {
    #[error("invalid request: {0}")]
    Invalid(FieldViolations),
    /// A contact rule forbids the contact now; nothing was recorded.
    #[error("the contact rule {0} forbids this contact now")]
    ContactRefused(ContactRule),
    /// The patient registry does not know the patient.
    #[error("patient {0} not found")]
    PatientNotFound(PatientId),
    /// The request id was used before for a different request.
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    /// A promise may not exceed what the account owes (nothing, when it owes nothing).
    #[error("the promised amount exceeds the open balance")]
    PromiseExceedsBalance { balance: Money },
    /// A payment plan may not exceed what the account owes.
    #[error("the plan's total exceeds the open balance")]
    PlanExceedsBalance { balance: Money },
    /// The account has a payment plan already (restructuring replaces one).
    #[error("patient {0} already has a payment plan")]
    PlanExists(PatientId),
    /// No payment plan by that id or for that patient.
    #[error("payment plan not found")]
    PlanNotFound,
    /// The plan was restructured already: only the active plan may be.
    #[error("the payment plan is no longer active")]
    PlanNotActive,
    /// Only a manager may grant a settlement discount.
    #[error("a settlement discount needs a manager")]
    SettlementNeedsManager,
    /// The escalation policy does not allow this escalation now.
    #[error("the escalation policy does not allow this: {0}")]
    EscalationRefused(String),
    /// An open dispute holds the account.
    #[error("a dispute is open on the account")]
    DisputeOpen,
    /// Billing's charge is not one of this patient's (or collections has not seen it yet).
    #[error("charge {0} not found on this account")]
    ChargeNotFound(String),
    /// There is no open dispute to answer.
    #[error("the account has no open dispute")]
    NoOpenDispute,
    /// Billing could not be reached; nothing was done.
    #[error("billing is unavailable")]
    BillingUnavailable,
    /// The contact a promise names is not in this patient's contact log.
    #[error("contact {0} not found")]
    ContactNotFound(String),
    /// The contact a promise names is not the conversation it was made in (the reason says why).
    #[error("a promise must be made in a conversation logged today: {0}")]
    PromiseNeedsConversation(&'static str),
    /// The patient registry could not be asked, and nothing is known about the patient yet.
    #[error("the patient registry is unavailable")]
    RegistryUnavailable,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<FieldViolations> for CollectionsError {
    fn from(violations: FieldViolations) -> Self {
        CollectionsError::Invalid(violations)
    }
}

impl From<EscalationRefusal> for CollectionsError {
    fn from(refusal: EscalationRefusal) -> Self {
        match refusal {
            EscalationRefusal::DisputeOpen => CollectionsError::DisputeOpen,
            EscalationRefusal::NothingOwed => {
                CollectionsError::EscalationRefused("the account owes nothing".into())
            }
            EscalationRefusal::TooRecent { needs_days } => CollectionsError::EscalationRefused(
                format!("the account must be at least {needs_days} days past due"),
            ),
        }
    }
}

impl From<KeyError> for CollectionsError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Reused => CollectionsError::RequestIdReused,
            KeyError::Lost => CollectionsError::Unexpected(anyhow::anyhow!(
                "an idempotency key was lost to another call outside any retry"
            )),
            KeyError::Unexpected(error) => CollectionsError::Unexpected(error),
        }
    }
}

impl From<CollectionsError> for Attempt<CollectionsError> {
    fn from(error: CollectionsError) -> Self {
        Attempt::Failed(error)
    }
}

/// Why an account could not take a ledger entry. The follower stops at such an entry rather than
/// skip it: the receivables must add up to billing's ledger, entry for entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("ledger entry {sequence} is in {found}, not the clinic's {expected}")]
    Currency {
        sequence: i64,
        found: Currency,
        expected: Currency,
    },
    #[error("ledger entry {sequence} takes the account's figures out of range")]
    Overflow { sequence: i64 },
}
