//! Refunds: money given back on a payment, by the payment's own method, recorded as a reversing
//! ledger entry. The refunds of one payment never add up to more than the payment.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{PatientId, PaymentId, RequestId, request_fingerprint};
use uuid::Uuid;

use super::{DrawerSessionId, TerminalId};

/// A refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefundId(Uuid);

impl RefundId {
    pub fn new() -> Self {
        RefundId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Uuid::parse_str(text.trim())
            .map(RefundId)
            .map_err(|_| "must be a refund id (UUID)")
    }
}

impl fmt::Display for RefundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// As [`RefundId::parse`], so that an id kept as text (such as an idempotency key's
/// resource) reads back as one.
impl std::str::FromStr for RefundId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RefundId::parse(text)
    }
}

/// A request to refund (part of) a payment.
#[derive(Debug, Clone)]
pub struct NewRefund {
    pub payment_id: PaymentId,
    /// Positive, in the clinic's currency; at most what is left to refund on the payment.
    pub amount: Money,
    /// Why: required, for the audit trail.
    pub reason: String,
    /// The counter terminal handing cash back; a cash refund then comes out of its open drawer.
    pub terminal_id: Option<TerminalId>,
    pub request_id: RequestId,
    /// The part of a split payment to give money back on; `None` for the payment's only part
    /// that brought money.
    pub part: Option<i32>,
}

impl NewRefund {
    pub fn fingerprint(&self) -> String {
        let terminal = self
            .terminal_id
            .as_ref()
            .map(TerminalId::as_str)
            .unwrap_or_default();
        let part = self.part.map(|part| format!("part:{part}"));
        let mut parts = vec![
            self.payment_id.to_string(),
            self.amount.minor_units().to_string(),
            self.amount.currency().code().to_owned(),
            self.reason.clone(),
            terminal.to_owned(),
        ];
        // Appended only when named, so refunds from before split payments keep their digest.
        parts.extend(part);
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        request_fingerprint(&parts)
    }
}

/// What is left to refund on a payment of `paid` after `refunded` so far.
pub fn refundable_remainder(
    paid: Money,
    refunded: Money,
) -> Result<Money, clinic_common::money::MoneyError> {
    paid.checked_sub(refunded)
}

/// A recorded refund.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub refund_id: RefundId,
    pub payment_id: PaymentId,
    pub patient_id: PatientId,
    pub amount: Money,
    /// The payment's method: `cash`, `card` or `bank_transfer`.
    pub method: String,
    pub reason: String,
    /// The drawer the cash came out of, if any.
    pub drawer_session_id: Option<DrawerSessionId>,
    /// The patient's balance right after the refund.
    pub balance_after: Money,
    pub service_date: NaiveDate,
    pub refunded_by: String,
    pub request_id: RequestId,
    pub created_at: DateTime<Utc>,
    /// The payment's part the money went back on.
    pub part: i32,
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    #[test]
    fn the_remainder_is_what_was_paid_less_what_was_refunded() {
        assert_eq!(refundable_remainder(mxn(50_000), mxn(0)), Ok(mxn(50_000)));
        assert_eq!(
            refundable_remainder(mxn(50_000), mxn(20_000)),
            Ok(mxn(30_000))
        );
        assert_eq!(refundable_remainder(mxn(50_000), mxn(50_000)), Ok(mxn(0)));
    }

    #[test]
    fn refunds_differing_in_amount_or_terminal_fingerprint_differently() {
        let base = NewRefund {
            payment_id: PaymentId::new(),
            amount: mxn(10_000),
            reason: "Cobro duplicado".into(),
            terminal_id: None,
            request_id: RequestId::parse("refund-1").expect("valid"),
            part: None,
        };
        let more = NewRefund {
            amount: mxn(10_001),
            ..base.clone()
        };
        let at_counter = NewRefund {
            terminal_id: Some(TerminalId::parse("counter-1").expect("valid")),
            ..base.clone()
        };
        assert_eq!(base.fingerprint(), base.clone().fingerprint());
        assert_ne!(base.fingerprint(), more.fingerprint());
        assert_ne!(base.fingerprint(), at_counter.fingerprint());
    }
}
