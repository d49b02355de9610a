//! Protobuf ⇄ domain conversions for billing. Requests become domain commands here, with every
//! invalid field reported at once under its proto field path; nothing past this module sees a
//! protobuf type.

use chrono::NaiveDate;
use clinic_common::ids::{AppointmentId, PatientId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::post_payment_request::Method;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_from_proto, date_to_proto, money_from_proto, money_to_proto};

use crate::domain::{
    AccountBalance, AuthorizationCode, CardLastFour, CardType, Charge, ItemDescription,
    LedgerEntry, LedgerEntryKind, LedgerPage, NewCharge, NewPayment, NewPriceListItem, Payment,
    PaymentMethod, PriceCode, PriceListItem, PriceListItemKind, Quantity, TransferReference,
    ledger_page_size, parse_unit_price,
};

/// The context a request is read in: what "today" is in the clinic, and its currency.
pub struct Reading {
    pub today: NaiveDate,
    pub currency: Currency,
}

pub fn patient_id(text: &str) -> Result<PatientId, &'static str> {
    PatientId::parse(text).map_err(|_| "must be a patient id (UUID)")
}

pub fn new_price_list_item(
    request: pb::CreatePriceListItemRequest,
    reading: &Reading,
) -> Result<NewPriceListItem, FieldViolations> {
    let mut violations = FieldViolations::new();
    let item = match request.item {
        Some(item) => item_fields(&item, reading, &mut violations),
        None => {
            violations.add("item", "is required");
            None
        }
    };
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (item, request_id) {
        (Some((code, description, unit_price, kind)), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewPriceListItem {
                code,
                description,
                unit_price,
                kind,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

/// An item's own fields, each checked under `item.`.
fn item_fields(
    item: &pb::PriceListItem,
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Option<(PriceCode, ItemDescription, Money, PriceListItemKind)> {
    let code = violations.check("item.code", PriceCode::parse(&item.code));
    let description = violations.check(
        "item.description",
        ItemDescription::parse(&item.description),
    );
    let unit_price = violations.check(
        "item.unit_price",
        money_from_proto(item.unit_price.as_ref(), reading.currency)
            .and_then(|price| parse_unit_price(price).map_err(String::from)),
    );
    let kind = violations.check("item.kind", kind_from_proto(item.kind));
    Some((code?, description?, unit_price?, kind?))
}

fn kind_from_proto(kind: i32) -> Result<PriceListItemKind, &'static str> {
    match pb::PriceListItemKind::try_from(kind) {
        Ok(pb::PriceListItemKind::Service) => Ok(PriceListItemKind::Service),
        Ok(pb::PriceListItemKind::Therapy) => Ok(PriceListItemKind::Therapy),
        Ok(pb::PriceListItemKind::Product) => Ok(PriceListItemKind::Product),
        Ok(pb::PriceListItemKind::Unspecified) | Err(_) => {
            Err("is required: service, therapy or product")
        }
    }
}

fn kind_to_proto(kind: PriceListItemKind) -> pb::PriceListItemKind {
    match kind {
        PriceListItemKind::Service => pb::PriceListItemKind::Service,
        PriceListItemKind::Therapy => pb::PriceListItemKind::Therapy,
        PriceListItemKind::Product => pb::PriceListItemKind::Product,
    }
}

pub fn price_list_item_to_proto(item: &PriceListItem) -> pb::PriceListItem {
    pb::PriceListItem {
        code: item.code.as_str().to_owned(),
        description: item.description.as_str().to_owned(),
        unit_price: Some(money_to_proto(item.unit_price)),
        kind: kind_to_proto(item.kind).into(),
        create_time: Some(timestamp_to_proto(item.created_at)),
    }
}

pub fn new_charge(
    request: pb::PostChargeRequest,
    reading: &Reading,
) -> Result<NewCharge, FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let price_code = violations.check("price_code", PriceCode::parse(&request.price_code));
    let quantity = violations.check("quantity", Quantity::parse(request.quantity));
    let appointment_id = violations.check(
        "appointment_id",
        optional_appointment_id(&request.appointment_id),
    );
    let service_date = match request.service_date {
        None => Some(None),
        Some(date) => violations
            .check(
                "service_date",
                date_from_proto(Some(&date)).and_then(|date| {
                    if date > reading.today {
                        Err("must not be after today".to_owned())
                    } else {
                        Ok(date)
                    }
                }),
            )
            .map(Some),
    };
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (
        patient_id,
        price_code,
        quantity,
        appointment_id,
        service_date,
        request_id,
    ) {
        (
            Some(patient_id),
            Some(price_code),
            Some(quantity),
            Some(appointment_id),
            Some(service_date),
            Some(request_id),
        ) if violations.is_empty() => Ok(NewCharge {
            patient_id,
            price_code,
            quantity,
            appointment_id,
            service_date,
            request_id,
        }),
        _ => Err(violations),
    }
}

fn optional_appointment_id(text: &str) -> Result<Option<AppointmentId>, &'static str> {
    if text.is_empty() {
        Ok(None)
    } else {
        AppointmentId::parse(text)
            .map(Some)
            .map_err(|_| "must be an appointment id (UUID) or empty")
    }
}

pub fn charge_to_proto(charge: &Charge) -> pb::Charge {
    pb::Charge {
        charge_id: charge.charge_id.to_string(),
        patient_id: charge.patient_id.to_string(),
        appointment_id: charge
            .appointment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        price_code: charge.price_code.as_str().to_owned(),
        description: charge.description.as_str().to_owned(),
        quantity: i32::from(charge.quantity.get()),
        unit_price: Some(money_to_proto(charge.unit_price)),
        amount: Some(money_to_proto(charge.amount)),
        service_date: Some(date_to_proto(charge.service_date)),
        create_time: Some(timestamp_to_proto(charge.created_at)),
        posted_by: charge.posted_by.clone(),
    }
}

pub fn new_payment(
    request: pb::PostPaymentRequest,
    reading: &Reading,
) -> Result<NewPayment, FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
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
    let method = match request.method {
        None => {
            violations.add(
                "method",
                "exactly one of cash, card or bank_transfer is required",
            );
            None
        }
        Some(Method::Cash(cash)) => {
            let tendered = violations.check(
                "cash.tendered",
                money_from_proto(cash.tendered.as_ref(), reading.currency),
            );
            // Whether enough was tendered can only be judged against a valid amount.
            match (amount, tendered) {
                (Some(amount), Some(tendered)) => {
                    violations.check("cash.tendered", PaymentMethod::cash(amount, tendered))
                }
                _ => None,
            }
        }
        Some(Method::Card(card)) => {
            let authorization_code = violations.check(
                "card.authorization_code",
                AuthorizationCode::parse(&card.authorization_code),
            );
            let last_four =
                violations.check("card.last_four", CardLastFour::parse(&card.last_four));
            let card_type =
                violations.check("card.card_type", card_type_from_proto(card.card_type));
            match (authorization_code, last_four, card_type) {
                (Some(authorization_code), Some(last_four), Some(card_type)) => {
                    Some(PaymentMethod::Card {
                        authorization_code,
                        last_four,
                        card_type,
                    })
                }
                _ => None,
            }
        }
        Some(Method::BankTransfer(transfer)) => violations
            .check(
                "bank_transfer.reference",
                TransferReference::parse(&transfer.reference),
            )
            .map(|reference| PaymentMethod::BankTransfer { reference }),
    };
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, amount, method, request_id) {
        (Some(patient_id), Some(amount), Some(method), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewPayment {
                patient_id,
                amount,
                method,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

fn card_type_from_proto(card_type: i32) -> Result<CardType, &'static str> {
    match pb::CardType::try_from(card_type) {
        Ok(pb::CardType::Credit) => Ok(CardType::Credit),
        Ok(pb::CardType::Debit) => Ok(CardType::Debit),
        Ok(pb::CardType::Unspecified) | Err(_) => Err("is required: credit or debit"),
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
        ..Default::default()
    };
    match &payment.method {
        PaymentMethod::Cash { tendered, change } => {
            proto.set_method(pb::PaymentMethod::Cash);
            proto.tendered = Some(money_to_proto(*tendered));
            proto.change = Some(money_to_proto(*change));
        }
        PaymentMethod::Card {
            authorization_code,
            last_four,
            card_type,
        } => {
            proto.set_method(pb::PaymentMethod::Card);
            proto.authorization_code = authorization_code.as_str().to_owned();
            proto.card_last_four = last_four.as_str().to_owned();
            proto.set_card_type(match card_type {
                CardType::Credit => pb::CardType::Credit,
                CardType::Debit => pb::CardType::Debit,
            });
        }
        PaymentMethod::BankTransfer { reference } => {
            proto.set_method(pb::PaymentMethod::BankTransfer);
            proto.transfer_reference = reference.as_str().to_owned();
        }
    }
    proto
}

pub fn account_balance_to_proto(account: &AccountBalance) -> anyhow::Result<pb::AccountBalance> {
    Ok(pb::AccountBalance {
        patient_id: account.patient_id.to_string(),
        balance: Some(money_to_proto(account.balance()?)),
        total_charged: Some(money_to_proto(account.total_charged)),
        total_paid: Some(money_to_proto(account.total_paid)),
        as_of_sequence: account.as_of_sequence,
    })
}

/// The cursor and page size of a feed request.
pub fn ledger_query(request: &pb::ListLedgerEntriesRequest) -> Result<(i64, u32), FieldViolations> {
    let mut violations = FieldViolations::new();
    violations.require(
        request.after_sequence >= 0,
        "after_sequence",
        "must not be negative",
    );
    let page_size = violations.check("page_size", ledger_page_size(request.page_size));
    match page_size {
        Some(page_size) if violations.is_empty() => Ok((request.after_sequence, page_size)),
        _ => Err(violations),
    }
}

fn ledger_entry_to_proto(entry: &LedgerEntry) -> pb::LedgerEntry {
    let kind = match entry.source.kind() {
        LedgerEntryKind::Charge => pb::LedgerEntryKind::Charge,
        LedgerEntryKind::Payment => pb::LedgerEntryKind::Payment,
    };
    pb::LedgerEntry {
        sequence: entry.sequence,
        patient_id: entry.patient_id.to_string(),
        kind: kind.into(),
        amount: Some(money_to_proto(entry.amount)),
        source_id: entry.source.id(),
        service_date: Some(date_to_proto(entry.service_date)),
        create_time: Some(timestamp_to_proto(entry.created_at)),
    }
}

pub fn ledger_page_to_proto(page: &LedgerPage) -> pb::ListLedgerEntriesResponse {
    pb::ListLedgerEntriesResponse {
        entries: page.entries.iter().map(ledger_entry_to_proto).collect(),
        last_sequence: page.last_sequence,
        head_sequence: page.head_sequence,
    }
}
