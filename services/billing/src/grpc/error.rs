//! The one mapping from billing's errors to gRPC statuses.

use clinic_common::status;
use clinic_common::validation::FieldViolations;
use tonic::Status;

use crate::domain::BillingError;

impl From<BillingError> for Status {
    fn from(error: BillingError) -> Self {
        match error {
            BillingError::Invalid(violations) => status::invalid_argument(&violations),
            BillingError::RequestIdReused => status::invalid_argument(&FieldViolations::single(
                "request_id",
                "was already used for a different request",
            )),
            BillingError::PriceCodeTaken(code) => {
                Status::already_exists(format!("price code {code} is already on the price list"))
            }
            BillingError::RegistryUnavailable => Status::unavailable(
                "the patient registry is unavailable; nothing was posted, try again",
            ),
            error @ BillingError::PacUnavailable(_) => Status::unavailable(format!(
                "{error}; the invoice is sealed and stored, retry with the same request_id"
            )),
            BillingError::SchedulingUnavailable => {
                Status::unavailable("scheduling is unavailable; nothing was posted, try again")
            }
            error @ (BillingError::PromotionCodeTaken(_)
            | BillingError::AlreadyInvoiced(_)
            | BillingError::AlreadyIssued(_)
            | BillingError::AppointmentAlreadyCharged(_)) => {
                Status::already_exists(error.to_string())
            }
            error @ BillingError::DiscountNeedsManager { .. } => {
                Status::permission_denied(error.to_string())
            }
            error @ (BillingError::DrawerNotOpen(_)
            | BillingError::DrawerAlreadyOpen(_)
            | BillingError::DrawerNotAwaitingApproval(_)
            | BillingError::SelfApproval
            | BillingError::IdentityNotConfirmed
            | BillingError::CorrectionTooLarge(_)
            | BillingError::DayClosed(_)
            | BillingError::AdvanceInsufficient(_)
            | BillingError::AppointmentNotChargeable(_)
            | BillingError::NotInvoiceable(_)
            | BillingError::DrawersStillOpen(_)
            | BillingError::RefundExceedsRemainder { .. }) => {
                Status::failed_precondition(error.to_string())
            }
            error @ (BillingError::DrawerSessionNotFound(_)
            | BillingError::NoCurrentDrawer(_)
            | BillingError::ChargeNotFound(_)
            | BillingError::AppointmentNotFound(_)
            | BillingError::InvoiceNotFound(_)
            | BillingError::CreditNoteNotFound(_)
            | BillingError::PaymentNotFound(_)) => Status::not_found(error.to_string()),
            error @ BillingError::ReportDayRestricted => {
                Status::permission_denied(error.to_string())
            }
            BillingError::Unexpected(error) => status::internal(&error),
        }
    }
}
