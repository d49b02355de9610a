//! Refunds: a refund's fields, and refunds on the wire.

use clinic_common::ids::{PaymentId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_to_proto, money_from_proto, money_to_proto};

use super::Reading;
use crate::domain::{NewRefund, Refund, TerminalId, optional_reason};

pub fn new_refund(
    request: pb::RefundPaymentRequest,
    reading: &Reading,
) -> Result<NewRefund, FieldViolations> {
    let mut violations = FieldViolations::new();
    let payment_id = violations.check(
        "payment_id",
        PaymentId::parse(&request.payment_id).map_err(|_| "must be a payment id (UUID)"),
    );
    let amount = violations.check(
        "amount",
        money_from_proto(request.amount.as_ref(), reading.currency).and_then(|amount| {
            if amount.is_positive() {
                Ok(amount)
            } else {
                Err("must be positive".to_owned())
            }
        }),
    );
    let reason = violations.check(
        "reason",
        optional_reason(&request.reason)
            .and_then(|reason| reason.ok_or_else(|| "is required".to_owned())),
    );
    let terminal_id = if request.terminal_id.trim().is_empty() {
        Some(None)
    } else {
        violations
            .check("terminal_id", TerminalId::parse(&request.terminal_id))
            .map(Some)
    };
    let part = match request.part {
        0 => Some(None),
        1.. => Some(Some(request.part)),
        _ => {
            violations.add("part", "must not be negative");
            None
        }
    };
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (payment_id, amount, reason, terminal_id, request_id, part) {
        (
            Some(payment_id),
            Some(amount),
            Some(reason),
            Some(terminal_id),
            Some(request_id),
            Some(part),
        ) if violations.is_empty() => Ok(NewRefund {
            payment_id,
            amount,
            reason,
            terminal_id,
            request_id,
            part,
        }),
        _ => Err(violations),
    }
}

/// A payment method's stored name on the wire.
pub(super) fn method_name_to_proto(method: &str) -> pb::PaymentMethod {
    match method {
        "cash" => pb::PaymentMethod::Cash,
        "card" => pb::PaymentMethod::Card,
        "bank_transfer" => pb::PaymentMethod::BankTransfer,
        "advance" => pb::PaymentMethod::Advance,
        "split" => pb::PaymentMethod::Split,
        _ => pb::PaymentMethod::Unspecified,
    }
}

pub fn refund_to_proto(refund: &Refund) -> pb::Refund {
    let method = method_name_to_proto(&refund.method);
    pb::Refund {
        refund_id: refund.refund_id.to_string(),
        payment_id: refund.payment_id.to_string(),
        patient_id: refund.patient_id.to_string(),
        amount: Some(money_to_proto(refund.amount)),
        method: method.into(),
        reason: refund.reason.clone(),
        cash_drawer_session_id: refund
            .drawer_session_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        balance_after: Some(money_to_proto(refund.balance_after)),
        service_date: Some(date_to_proto(refund.service_date)),
        refunded_by: refund.refunded_by.clone(),
        request_id: refund.request_id.as_str().to_owned(),
        create_time: Some(timestamp_to_proto(refund.created_at)),
        part: refund.part,
    }
}
