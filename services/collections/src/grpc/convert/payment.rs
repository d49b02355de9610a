//! Payments taken by phone.

use chrono::NaiveDate;
use clinic_common::Currency;
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as billing;
use clinic_proto::collections::v1 as pb;

use super::receivable::receivable_to_proto;
use super::{patient_id_from, positive_money};
use crate::app::{PhonePayment, TakenPayment};
use crate::domain::CollectionsError;

/// A `TakePayment` request, read; every bad field is named.
pub fn phone_payment(
    request: &pb::TakePaymentRequest,
    currency: Currency,
) -> Result<PhonePayment, CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let amount = violations.check("amount", positive_money(request.amount.as_ref(), currency));
    let method = match &request.method {
        Some(pb::take_payment_request::Method::Card(card)) => {
            Some(billing::post_payment_request::Method::Card(card.clone()))
        }
        Some(pb::take_payment_request::Method::BankTransfer(transfer)) => Some(
            billing::post_payment_request::Method::BankTransfer(transfer.clone()),
        ),
        None => {
            violations.add("method", "is required: card or bank_transfer");
            None
        }
    };
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, amount, method, request_id) {
        (Some(patient_id), Some(amount), Some(method), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(PhonePayment {
                patient_id,
                amount,
                method,
                request_id,
            })
        }
        _ => Err(violations.into()),
    }
}

/// `days_past_due` of the account: as of `today`, with the clinic's payment terms.
pub fn taken_payment_to_proto(
    taken: TakenPayment,
    today: NaiveDate,
    payment_terms_days: u32,
) -> pb::TakePaymentResponse {
    pb::TakePaymentResponse {
        payment: Some(taken.payment),
        account: taken
            .account
            .map(|account| receivable_to_proto(&account, today, payment_terms_days)),
        applied_sequence: taken.applied_sequence,
    }
}
