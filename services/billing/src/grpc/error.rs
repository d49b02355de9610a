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
            BillingError::PacUnavailable(cause) => {
                // What the PAC said stays here, in the log: the client learns only what to do.
                tracing::warn!(error = ?cause, "the PAC did not stamp an invoice");
                Status::unavailable(
                    "the PAC did not answer; the invoice is sealed and stored, retry with the \
                     same request_id",
                )
            }
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

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;
    use crate::pac::PacError;

    #[test]
    fn a_pac_failure_answers_unavailable_without_what_the_pac_said() {
        // Arrange: a PAC error whose text no client should ever see.
        let marker = "pac-7f3a9c: login refused for account clinica@pac.example";
        let error = BillingError::PacUnavailable(
            anyhow::Error::new(PacError(marker.into())).context("the PAC did not stamp invoice 1"),
        );

        // Act
        let status = Status::from(error);

        // Assert
        assert_eq!(status.code(), Code::Unavailable);
        assert!(
            !format!("{status:?}").contains("pac-7f3a9c"),
            "the PAC's words reached the client: {status:?}"
        );
        assert!(status.message().contains("retry with the same request_id"));
    }
}
