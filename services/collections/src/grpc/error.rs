//! The one mapping from the collections service's errors to gRPC statuses (and billing's
//! refusals of a caller's request, passed on as billing gave them).

use std::collections::HashMap;

use clinic_common::status;
use clinic_common::validation::FieldViolations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::app::DeskError;
use crate::domain::CollectionsError;

/// The `ErrorInfo.domain` of this service's errors.
pub const ERROR_DOMAIN: &str = "clinic.collections";

impl From<CollectionsError> for Status {
    fn from(error: CollectionsError) -> Self {
        match error {
            CollectionsError::Invalid(violations) => status::invalid_argument(&violations),
            // The rule's code rides in `google.rpc.ErrorInfo.reason`, so any client can tell
            // which rule refused without parsing the message.
            CollectionsError::ContactRefused(rule) => Status::with_error_details(
                Code::FailedPrecondition,
                format!("the contact rule {rule} forbids this contact now"),
                ErrorDetails::with_error_info(rule.as_str(), ERROR_DOMAIN, HashMap::new()),
            ),
            CollectionsError::PatientNotFound(patient_id) => {
                Status::not_found(format!("patient {patient_id} not found"))
            }
            // A state the caller can see (ListReceivables), so FAILED_PRECONDITION with the
            // balance, and an ErrorInfo reason a client can branch on.
            CollectionsError::PromiseExceedsBalance { balance } => Status::with_error_details(
                Code::FailedPrecondition,
                format!("the promised amount exceeds the open balance of {balance}"),
                ErrorDetails::with_error_info(
                    "PROMISE_EXCEEDS_BALANCE",
                    ERROR_DOMAIN,
                    HashMap::from([(
                        "open_balance_minor_units".to_owned(),
                        balance.minor_units().to_string(),
                    )]),
                ),
            ),
            CollectionsError::PlanExceedsBalance { balance } => Status::with_error_details(
                Code::FailedPrecondition,
                format!("the plan's total exceeds the open balance of {balance}"),
                ErrorDetails::with_error_info(
                    "PLAN_EXCEEDS_BALANCE",
                    ERROR_DOMAIN,
                    HashMap::from([(
                        "open_balance_minor_units".to_owned(),
                        balance.minor_units().to_string(),
                    )]),
                ),
            ),
            CollectionsError::PlanExists(patient_id) => {
                Status::already_exists(format!("patient {patient_id} already has a payment plan"))
            }
            CollectionsError::PlanNotFound => Status::not_found("payment plan not found"),
            CollectionsError::ContactNotFound(contact_id) => {
                Status::not_found(format!("contact {contact_id} not found"))
            }
            // The collector logs the conversation first, so the refusal names the field the
            // desk shows it beside, and a reason it can translate.
            CollectionsError::PromiseNeedsConversation(why) => {
                let message = format!(
                    "a promise to pay is made in a conversation with the patient: log it first \
                     (a conversation ending in a promise, today) and name it in contact_id; {why}"
                );
                let mut details = ErrorDetails::with_error_info(
                    "PROMISE_NEEDS_CONVERSATION",
                    ERROR_DOMAIN,
                    HashMap::new(),
                );
                details.add_bad_request_violation("promise.contact_id", why);
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            CollectionsError::RequestIdReused => status::invalid_argument(
                &FieldViolations::single("request_id", "was already used for a different request"),
            ),
            CollectionsError::PlanNotActive => failed_precondition(
                "the payment plan was restructured already",
                "PLAN_NOT_ACTIVE",
            ),
            CollectionsError::SettlementNeedsManager => failed_precondition(
                "only a manager may grant a settlement discount",
                "SETTLEMENT_NEEDS_MANAGER",
            ),
            CollectionsError::EscalationRefused(why) => failed_precondition(
                &format!("the escalation policy does not allow this: {why}"),
                "ESCALATION_POLICY",
            ),
            CollectionsError::DisputeOpen => failed_precondition(
                "a dispute is open on the account; answer it first",
                "DISPUTE_HOLD",
            ),
            CollectionsError::ChargeNotFound(charge_id) => {
                Status::not_found(format!("charge {charge_id} not found on this account"))
            }
            CollectionsError::NoOpenDispute => {
                failed_precondition("the account has no open dispute", "NO_OPEN_DISPUTE")
            }
            CollectionsError::BillingUnavailable => {
                Status::unavailable("billing is unavailable; nothing was done, try again shortly")
            }
            CollectionsError::RegistryUnavailable => {
                Status::unavailable("the patient registry is unavailable; try again shortly")
            }
            CollectionsError::Unexpected(error) => status::internal(&error),
        }
    }
}

impl From<DeskError> for Status {
    fn from(error: DeskError) -> Self {
        match error {
            DeskError::Collections(error) => error.into(),
            // Billing's answer about the caller's own request, as billing gave it.
            DeskError::Billing(status) => status,
        }
    }
}

/// FAILED_PRECONDITION with an `ErrorInfo` whose reason a client can branch on.
fn failed_precondition(message: &str, reason: &str) -> Status {
    Status::with_error_details(
        Code::FailedPrecondition,
        message,
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, HashMap::new()),
    )
}
