//! Payments: a payment in one method or split across several, with the charges it is put on, and
//! payments on the wire.

use clinic_common::Money;
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::post_payment_request::Method;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{money_from_proto, money_to_proto};

use super::{Channel, Reading, charge_id, identity, patient_id, positive_money};
use crate::domain::{
    AllocationMode, AuthorizationCode, CardLastFour, CardType, ChosenAllocation, IdentityEvidence,
    NewPayment, Payment, PaymentMethod, PaymentPart, StoredPart, TerminalId, TransferReference,
    payment_total,
};

/// A payment request, with the identity evidence given with it (never part of the payment).
pub fn new_payment(
    request: pb::PostPaymentRequest,
    reading: &Reading,
    channel: Channel,
) -> Result<(NewPayment, Option<IdentityEvidence>), FieldViolations> {
    let mut violations = FieldViolations::new();
    let identity = identity(request.identity.as_ref(), channel, &mut violations);
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let parts = if request.parts.is_empty() {
        one_method(&request, reading, channel, &mut violations)
    } else {
        violations.require(
            request.amount.is_none() && request.method.is_none(),
            "parts",
            "must not be given with amount or method",
        );
        split_parts(&request.parts, reading, channel, &mut violations)
    };
    let total = parts.as_ref().and_then(|parts| {
        let field = if request.parts.is_empty() {
            "amount"
        } else {
            "parts"
        };
        violations.check(field, payment_total(parts))
    });
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let terminal_id = if request.terminal_id.trim().is_empty() {
        Some(None)
    } else {
        violations
            .check("terminal_id", TerminalId::parse(&request.terminal_id))
            .map(Some)
    };
    let allocations = chosen_allocations(&request.allocations, reading, &mut violations);
    let allocation_mode = violations.check(
        "allocation_mode",
        allocation_mode_from_proto(request.allocation_mode),
    );
    match (
        patient_id,
        parts,
        total,
        request_id,
        terminal_id,
        identity,
        allocation_mode,
    ) {
        (
            Some(patient_id),
            Some(parts),
            Some(amount),
            Some(request_id),
            Some(terminal_id),
            Some(identity),
            Some(allocation_mode),
        ) if violations.is_empty() => Ok((
            NewPayment {
                patient_id,
                amount,
                parts,
                request_id,
                terminal_id,
                allocations,
                allocation_mode,
            },
            identity,
        )),
        _ => Err(violations),
    }
}

/// The one part of a payment in one method: `amount` and `method`.
fn one_method(
    request: &pb::PostPaymentRequest,
    reading: &Reading,
    channel: Channel,
    violations: &mut FieldViolations,
) -> Option<Vec<PaymentPart>> {
    let amount = violations.check("amount", positive_money(request.amount.as_ref(), reading));
    let method = match &request.method {
        None => {
            violations.add(
                "method",
                "exactly one of cash, card, bank_transfer or advance is required",
            );
            None
        }
        Some(method) => {
            let method = match method {
                Method::Cash(cash) => MethodRequest::Cash(cash),
                Method::Card(card) => MethodRequest::Card(card),
                Method::BankTransfer(transfer) => MethodRequest::BankTransfer(transfer),
                Method::Advance(_) => MethodRequest::Advance,
            };
            payment_method(method, amount, "", channel, reading, violations)
        }
    };
    match (amount, method) {
        (Some(amount), Some(method)) => Some(vec![PaymentPart { amount, method }]),
        _ => None,
    }
}

/// The parts of a split payment, each checked under `parts[i]`; `None` unless every part is
/// valid.
fn split_parts(
    requested: &[pb::PaymentPartRequest],
    reading: &Reading,
    channel: Channel,
    violations: &mut FieldViolations,
) -> Option<Vec<PaymentPart>> {
    use pb::payment_part_request::Method as PartMethod;
    let mut parts = Vec::with_capacity(requested.len());
    for (index, part) in requested.iter().enumerate() {
        let field = format!("parts[{index}]");
        let amount = violations.check(
            &format!("{field}.amount"),
            positive_money(part.amount.as_ref(), reading),
        );
        let method = match &part.method {
            None => {
                violations.add(
                    format!("{field}.method"),
                    "exactly one of cash, card, bank_transfer or advance is required",
                );
                None
            }
            Some(method) => {
                let method = match method {
                    PartMethod::Cash(cash) => MethodRequest::Cash(cash),
                    PartMethod::Card(card) => MethodRequest::Card(card),
                    PartMethod::BankTransfer(transfer) => MethodRequest::BankTransfer(transfer),
                    PartMethod::Advance(_) => MethodRequest::Advance,
                };
                let prefix = format!("{field}.");
                payment_method(method, amount, &prefix, channel, reading, violations)
            }
        };
        if let (Some(amount), Some(method)) = (amount, method) {
            parts.push(PaymentPart { amount, method });
        }
    }
    (parts.len() == requested.len()).then_some(parts)
}

/// A payment method as requested, from either the one-method fields or a part.
enum MethodRequest<'a> {
    Cash(&'a pb::CashPayment),
    Card(&'a pb::CardPayment),
    BankTransfer(&'a pb::BankTransferPayment),
    Advance,
}

/// A method's details, checked under `prefix` (`""` or `parts[i].`). Whether enough cash was
/// tendered can only be judged against a valid `amount`. A kiosk takes cards only.
fn payment_method(
    method: MethodRequest<'_>,
    amount: Option<Money>,
    prefix: &str,
    channel: Channel,
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Option<PaymentMethod> {
    if channel == Channel::Kiosk && !matches!(method, MethodRequest::Card(_)) {
        violations.add(
            format!("{prefix}method"),
            "a kiosk takes card payments only",
        );
        return None;
    }
    match method {
        MethodRequest::Cash(cash) => {
            let field = format!("{prefix}cash.tendered");
            let tendered = violations.check(
                &field,
                money_from_proto(cash.tendered.as_ref(), reading.currency),
            );
            match (amount, tendered) {
                (Some(amount), Some(tendered)) => {
                    violations.check(&field, PaymentMethod::cash(amount, tendered))
                }
                _ => None,
            }
        }
        MethodRequest::Card(card) => {
            let authorization_code = violations.check(
                &format!("{prefix}card.authorization_code"),
                AuthorizationCode::parse(&card.authorization_code),
            );
            let last_four = violations.check(
                &format!("{prefix}card.last_four"),
                CardLastFour::parse(&card.last_four),
            );
            let card_type = violations.check(
                &format!("{prefix}card.card_type"),
                card_type_from_proto(card.card_type),
            );
            Some(PaymentMethod::Card {
                authorization_code: authorization_code?,
                last_four: last_four?,
                card_type: card_type?,
            })
        }
        MethodRequest::BankTransfer(transfer) => violations
            .check(
                &format!("{prefix}bank_transfer.reference"),
                TransferReference::parse(&transfer.reference),
            )
            .map(|reference| PaymentMethod::BankTransfer { reference }),
        MethodRequest::Advance => Some(PaymentMethod::Advance),
    }
}

/// The charges a payer chose to pay, each checked under `allocations[i]`.
fn chosen_allocations(
    requested: &[pb::AllocationRequest],
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Vec<ChosenAllocation> {
    let mut chosen = Vec::with_capacity(requested.len());
    for (index, allocation) in requested.iter().enumerate() {
        let charge_id = violations.check(
            &format!("allocations[{index}].charge_id"),
            charge_id(&allocation.charge_id),
        );
        let amount = violations.check(
            &format!("allocations[{index}].amount"),
            positive_money(allocation.amount.as_ref(), reading),
        );
        if let (Some(charge_id), Some(amount)) = (charge_id, amount) {
            chosen.push(ChosenAllocation {
                charge_id,
                amount: amount.minor_units(),
            });
        }
    }
    chosen
}

fn allocation_mode_from_proto(mode: i32) -> Result<AllocationMode, &'static str> {
    match pb::AllocationMode::try_from(mode) {
        Ok(pb::AllocationMode::Unspecified | pb::AllocationMode::OldestFirst) => {
            Ok(AllocationMode::OldestFirst)
        }
        Ok(pb::AllocationMode::AsChosen) => Ok(AllocationMode::AsChosen),
        Err(_) => Err("must be OLDEST_FIRST or AS_CHOSEN"),
    }
}

fn card_type_from_proto(card_type: i32) -> Result<CardType, &'static str> {
    match pb::CardType::try_from(card_type) {
        Ok(pb::CardType::Credit) => Ok(CardType::Credit),
        Ok(pb::CardType::Debit) => Ok(CardType::Debit),
        Ok(pb::CardType::Unspecified) | Err(_) => Err("is required: credit or debit"),
    }
}

fn method_to_proto(method: &PaymentMethod) -> pb::PaymentMethod {
    match method {
        PaymentMethod::Cash { .. } => pb::PaymentMethod::Cash,
        PaymentMethod::Card { .. } => pb::PaymentMethod::Card,
        PaymentMethod::BankTransfer { .. } => pb::PaymentMethod::BankTransfer,
        PaymentMethod::Advance => pb::PaymentMethod::Advance,
    }
}

fn part_to_proto(part: &StoredPart) -> pb::PaymentPart {
    let mut proto = pb::PaymentPart {
        position: part.position,
        amount: Some(money_to_proto(part.amount)),
        method: method_to_proto(&part.method).into(),
        cash_drawer_session_id: part
            .drawer_session_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    match &part.method {
        PaymentMethod::Cash { tendered, change } => {
            proto.tendered = Some(money_to_proto(*tendered));
            proto.change = Some(money_to_proto(*change));
        }
        PaymentMethod::Card {
            authorization_code,
            last_four,
            card_type,
        } => {
            proto.authorization_code = authorization_code.as_str().to_owned();
            proto.card_last_four = last_four.as_str().to_owned();
            proto.set_card_type(card_type_to_proto(*card_type));
        }
        PaymentMethod::BankTransfer { reference } => {
            proto.transfer_reference = reference.as_str().to_owned();
        }
        PaymentMethod::Advance => {}
    }
    proto
}

fn card_type_to_proto(card_type: CardType) -> pb::CardType {
    match card_type {
        CardType::Credit => pb::CardType::Credit,
        CardType::Debit => pb::CardType::Debit,
    }
}

pub fn payment_to_proto(payment: &Payment) -> pb::Payment {
    let mut proto = pb::Payment {
        payment_id: payment.payment_id.to_string(),
        patient_id: payment.patient_id.to_string(),
        amount: Some(money_to_proto(payment.amount)),
        receipt_number: payment.receipt_number.to_string(),
        create_time: Some(timestamp_to_proto(payment.created_at)),
        received_by: payment.received_by.clone(),
        request_id: payment.request_id.as_str().to_owned(),
        balance_after: Some(money_to_proto(payment.balance_after)),
        cash_drawer_session_id: payment
            .drawer_session_id()
            .map(|id| id.to_string())
            .unwrap_or_default(),
        allocations: payment
            .allocations
            .iter()
            .map(|(charge_id, amount)| pb::PaymentAllocation {
                charge_id: charge_id.to_string(),
                amount: Some(money_to_proto(*amount)),
            })
            .collect(),
        advance_after: payment.advance_after.map(money_to_proto),
        parts: payment.parts.iter().map(part_to_proto).collect(),
        received: Some(money_to_proto(payment.received)),
        ..Default::default()
    };
    // The one-method fields: the only part's details; for a split payment, the cash part's
    // tendered and change, which the counter shows.
    if let [only] = payment.parts.as_slice() {
        let part = part_to_proto(only);
        proto.method = part.method;
        proto.tendered = part.tendered;
        proto.change = part.change;
        proto.authorization_code = part.authorization_code;
        proto.card_last_four = part.card_last_four;
        proto.card_type = part.card_type;
        proto.transfer_reference = part.transfer_reference;
    } else {
        proto.set_method(pb::PaymentMethod::Split);
        if let Some(PaymentMethod::Cash { tendered, change }) =
            payment.cash().map(|part| &part.method)
        {
            proto.tendered = Some(money_to_proto(*tendered));
            proto.change = Some(money_to_proto(*change));
        }
    }
    proto
}
