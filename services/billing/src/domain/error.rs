//! What can go wrong in billing. Mapped to gRPC status codes in `grpc::error`.

use clinic_common::validation::FieldViolations;

use super::{DrawerSessionId, PriceCode, TerminalId};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The request is malformed or names something that does not exist (an unregistered
    /// patient, a code not on the price list); every offending field is listed.
    #[error("invalid request: {0}")]
    Invalid(FieldViolations),
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error("price code {0} is already on the price list")]
    PriceCodeTaken(PriceCode),
    /// The patient registry could not be asked whether a patient exists; nothing was written
    /// and the call can be retried.
    #[error("the patient registry is unavailable")]
    RegistryUnavailable,
    /// Identity evidence given at the kiosk did not match the patient. Says nothing about why.
    #[error("identity could not be confirmed")]
    IdentityNotConfirmed,
    /// Cash cannot be taken or counted on a terminal whose drawer is not open.
    #[error("the cash drawer of terminal {0} is not open")]
    DrawerNotOpen(TerminalId),
    /// One session per terminal at a time: the last one is still open or awaiting approval.
    #[error("terminal {0} already has a cash drawer session that is open or awaiting approval")]
    DrawerAlreadyOpen(TerminalId),
    #[error("cash drawer session {0} not found")]
    DrawerSessionNotFound(DrawerSessionId),
    #[error("terminal {0} has no open cash drawer session")]
    NoCurrentDrawer(TerminalId),
    #[error("cash drawer session {0} is not awaiting approval")]
    DrawerNotAwaitingApproval(DrawerSessionId),
    /// Four eyes: whoever counted a drawer with a large difference cannot approve it.
    #[error("a close must be approved by a manager other than the one who closed it")]
    SelfApproval,
    #[error("payment {0} not found")]
    PaymentNotFound(clinic_common::ids::PaymentId),
    /// A refund for more than is left to refund on the payment.
    #[error("the refund exceeds what is left to refund on the payment ({remaining})")]
    RefundExceedsRemainder { remaining: String },
    #[error("charge {0} not found")]
    ChargeNotFound(clinic_common::ids::ChargeId),
    /// A correction would take a charge below zero, or take off more than the rules allow;
    /// the text says what the limit is.
    #[error("{0}")]
    CorrectionTooLarge(String),
    /// The day an entry would be dated on is closed (or earlier than a closed day).
    #[error("{0} is closed: nothing more can be dated on it; correct it with an entry today")]
    DayClosed(chrono::NaiveDate),
    /// A payment draws more from the patient's advance than it holds (shown).
    #[error("the patient's advance holds only {0}")]
    AdvanceInsufficient(String),
    /// A day cannot be closed while its cash is not counted.
    #[error("a cash drawer opened on or before {0} is still open or awaiting approval")]
    DrawersStillOpen(chrono::NaiveDate),
    #[error("promotion code {0} is already taken")]
    PromotionCodeTaken(String),
    /// An ad hoc discount above the clinic's limit, without a manager's authorisation.
    #[error("a discount above {limit_percent}% of the list amount needs a manager's authorisation")]
    DiscountNeedsManager { limit_percent: u8 },
    /// Scheduling could not be asked about an appointment; nothing was written.
    #[error("scheduling is unavailable")]
    SchedulingUnavailable,
    #[error("appointment {0} not found")]
    AppointmentNotFound(clinic_common::ids::AppointmentId),
    /// Only a visit that took place is charged from scheduling; the text says why not.
    #[error("{0}")]
    AppointmentNotChargeable(String),
    #[error("appointment {0} is already charged")]
    AppointmentAlreadyCharged(clinic_common::ids::AppointmentId),
    /// An invoice cannot be issued; the text says why.
    #[error("{0}")]
    NotInvoiceable(String),
    #[error("payment {0} is already invoiced")]
    AlreadyInvoiced(clinic_common::ids::PaymentId),
    /// The document was issued already (by another request); the text says which.
    #[error("{0}")]
    AlreadyIssued(String),
    /// The PAC could not be reached or refused to stamp; the invoice stays sealed and a retry
    /// with the same request id stamps it. The cause is what the PAC said, for the log only:
    /// it may name the PAC's endpoints or accounts.
    #[error("the PAC did not stamp the invoice")]
    PacUnavailable(#[source] anyhow::Error),
    #[error("credit note {0} not found")]
    CreditNoteNotFound(super::CorrectionId),
    #[error("invoice {0} not found")]
    InvoiceNotFound(String),
    /// Reception closes its own day; earlier days are the manager's.
    #[error("only a manager may read or close a day other than today")]
    ReportDayRestricted,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<FieldViolations> for BillingError {
    fn from(violations: FieldViolations) -> Self {
        BillingError::Invalid(violations)
    }
}

impl From<clinic_common::idempotency::KeyError> for BillingError {
    fn from(error: clinic_common::idempotency::KeyError) -> Self {
        use clinic_common::idempotency::KeyError;
        match error {
            KeyError::Reused => BillingError::RequestIdReused,
            KeyError::Lost => BillingError::Unexpected(anyhow::anyhow!(
                "an idempotency key was lost to another call outside any retry"
            )),
            KeyError::Unexpected(error) => BillingError::Unexpected(error),
        }
    }
}

impl From<BillingError> for clinic_common::idempotency::Attempt<BillingError> {
    fn from(error: BillingError) -> Self {
        clinic_common::idempotency::Attempt::Failed(error)
    }
}
