//! Protobuf ⇄ domain conversions for billing. Requests become domain commands here, with every
//! invalid field reported at once under its proto field path; nothing past this module sees a
//! protobuf type.

use crate::export::ExportFormat;
use chrono::NaiveDate;
use clinic_common::ids::{AppointmentId, ChargeId, PatientId, PaymentId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::post_payment_request::Method;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_from_proto, date_to_proto, money_from_proto, money_to_proto};

use crate::store::OpenCharges;

use crate::domain::{
    AccountBalance, AllocationMode, AuthorizationCode, CardLastFour, CardType, CashCount,
    CashMovement, Charge, ChosenAllocation, CloseDrawer, ClosedDay, Correction, CorrectionKind,
    CountLineError, DailyClose, DenominationKind, DrawerSession, DrawerSessionId, DrawerState,
    Flow, IdentityEvidence, IncomeMethod, ItemDescription, LedgerEntry, LedgerEntryKind,
    LedgerPage, MovementCategory, MovementDirection, NewCashMovement, NewCharge, NewCorrection,
    NewPayment, NewPriceListItem, NewRefund, OpenDrawer, Payment, PaymentMethod, PaymentPart,
    PhoneLastFour, PriceCode, PriceListItem, PriceListItemKind, Quantity, ReceiptFormat, Refund,
    Statement, StatementDetail, StoredPart, TerminalId, TransferReference, UnpaidPatient,
    denominations, ledger_page_size, optional_reason, parse_unit_price, payment_total,
    statement_span,
};
use crate::domain::{
    AdHocDiscount, AppliedDiscountKind, ChargeOrigin, DiscountRequest, NewPromotion, PackageTerms,
    PatientPackage, Promotion, PromotionDiscount,
};

/// The context a request is read in: what "today" is in the clinic, and its currency.
pub struct Reading {
    pub today: NaiveDate,
    pub currency: Currency,
}

pub fn patient_id(text: &str) -> Result<PatientId, &'static str> {
    PatientId::parse(text).map_err(|_| "must be a patient id (UUID)")
}

/// Who a request comes from, as far as reading it goes: a kiosk must identify the patient and
/// may only pay by card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Staff,
    Kiosk,
}

/// The identity evidence under `identity`: required from a kiosk, optional (and then checked)
/// from staff. `Some(None)` when absent and not required; `None` when invalid.
fn identity(
    evidence: Option<&pb::IdentityEvidence>,
    channel: Channel,
    violations: &mut FieldViolations,
) -> Option<Option<IdentityEvidence>> {
    let Some(evidence) = evidence else {
        if channel == Channel::Kiosk {
            violations.add("identity", "is required at a kiosk");
            return None;
        }
        return Some(None);
    };
    let date_of_birth = violations.check(
        "identity.date_of_birth",
        date_from_proto(evidence.date_of_birth.as_ref()),
    );
    let phone_last_four = violations.check(
        "identity.phone_last_four",
        PhoneLastFour::parse(&evidence.phone_last_four),
    );
    Some(Some(IdentityEvidence {
        date_of_birth: date_of_birth?,
        phone_last_four: phone_last_four?,
    }))
}

/// The patient of a balance request, and the identity evidence given with it.
pub fn balance_request(
    request: &pb::GetAccountBalanceRequest,
    channel: Channel,
) -> Result<(PatientId, Option<IdentityEvidence>), FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let identity = identity(request.identity.as_ref(), channel, &mut violations);
    match (patient_id, identity) {
        (Some(patient_id), Some(identity)) if violations.is_empty() => Ok((patient_id, identity)),
        _ => Err(violations),
    }
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
        (Some((code, description, unit_price, kind, package, sat)), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewPriceListItem {
                code,
                description,
                unit_price,
                kind,
                package,
                sat,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

type ItemFields = (
    PriceCode,
    ItemDescription,
    Money,
    PriceListItemKind,
    Option<PackageTerms>,
    Option<crate::domain::SatCodes>,
);

/// An item's own fields, each checked under `item.`.
fn item_fields(
    item: &pb::PriceListItem,
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Option<ItemFields> {
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
    let package = if kind == Some(PriceListItemKind::Package) {
        let sessions = violations.check(
            "item.package_sessions",
            PackageTerms::sessions(item.package_sessions),
        );
        let covers = violations.check(
            "item.package_covers",
            PriceCode::parse(&item.package_covers),
        );
        if let (Some(code), Some(covers)) = (&code, &covers) {
            violations.require(
                code != covers,
                "item.package_covers",
                "must be another item than the package",
            );
        }
        Some(Some(PackageTerms {
            sessions: sessions?,
            covers: covers?,
        }))
    } else {
        violations.require(
            item.package_sessions == 0,
            "item.package_sessions",
            "is for packages only",
        );
        violations.require(
            item.package_covers.is_empty(),
            "item.package_covers",
            "is for packages only",
        );
        Some(None)
    };
    // SAT's codes: both or neither.
    let sat = match (
        item.sat_product_code.trim().is_empty(),
        item.sat_unit_code.trim().is_empty(),
    ) {
        (true, true) => Some(None),
        (false, true) => {
            violations.add("item.sat_unit_code", "is required with sat_product_code");
            None
        }
        (true, false) => {
            violations.add("item.sat_product_code", "is required with sat_unit_code");
            None
        }
        (false, false) => {
            let product_code = violations.check(
                "item.sat_product_code",
                crate::domain::SatCodes::parse_product_code(&item.sat_product_code),
            );
            let unit_code = violations.check(
                "item.sat_unit_code",
                crate::domain::SatCodes::parse_unit_code(&item.sat_unit_code),
            );
            Some(Some(crate::domain::SatCodes {
                product_code: product_code?,
                unit_code: unit_code?,
            }))
        }
    };
    Some((code?, description?, unit_price?, kind?, package?, sat?))
}

fn kind_from_proto(kind: i32) -> Result<PriceListItemKind, &'static str> {
    match pb::PriceListItemKind::try_from(kind) {
        Ok(pb::PriceListItemKind::Service) => Ok(PriceListItemKind::Service),
        Ok(pb::PriceListItemKind::Therapy) => Ok(PriceListItemKind::Therapy),
        Ok(pb::PriceListItemKind::Product) => Ok(PriceListItemKind::Product),
        Ok(pb::PriceListItemKind::Package) => Ok(PriceListItemKind::Package),
        Ok(pb::PriceListItemKind::Unspecified) | Err(_) => {
            Err("is required: service, therapy, product or package")
        }
    }
}

fn kind_to_proto(kind: PriceListItemKind) -> pb::PriceListItemKind {
    match kind {
        PriceListItemKind::Service => pb::PriceListItemKind::Service,
        PriceListItemKind::Therapy => pb::PriceListItemKind::Therapy,
        PriceListItemKind::Product => pb::PriceListItemKind::Product,
        PriceListItemKind::Package => pb::PriceListItemKind::Package,
    }
}

pub fn price_list_item_to_proto(item: &PriceListItem) -> pb::PriceListItem {
    pb::PriceListItem {
        code: item.code.as_str().to_owned(),
        description: item.description.as_str().to_owned(),
        unit_price: Some(money_to_proto(item.unit_price)),
        kind: kind_to_proto(item.kind).into(),
        create_time: Some(timestamp_to_proto(item.created_at)),
        package_sessions: item
            .package
            .as_ref()
            .map_or(0, |package| i32::from(package.sessions)),
        package_covers: item
            .package
            .as_ref()
            .map(|package| package.covers.as_str().to_owned())
            .unwrap_or_default(),
        sat_product_code: item
            .sat
            .as_ref()
            .map(|sat| sat.product_code.clone())
            .unwrap_or_default(),
        sat_unit_code: item
            .sat
            .as_ref()
            .map(|sat| sat.unit_code.clone())
            .unwrap_or_default(),
    }
}

/// The discount a charge request asks for: a promotion's code or an ad hoc discount, at most
/// one. `Some(None)` when none; `None` when invalid.
fn discount_request(
    promotion_code: &str,
    discount: Option<&pb::AdHocDiscount>,
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Option<Option<DiscountRequest>> {
    match (promotion_code.trim().is_empty(), discount) {
        (true, None) => Some(None),
        (false, Some(_)) => {
            violations.add("discount", "must not be given with promotion_code");
            None
        }
        (false, None) => violations
            .check("promotion_code", PriceCode::parse(promotion_code))
            .map(|code| Some(DiscountRequest::Promotion(code))),
        (true, Some(discount)) => {
            let reason = violations.check(
                "discount.reason",
                optional_reason(&discount.reason)
                    .and_then(|reason| reason.ok_or_else(|| "is required".to_owned())),
            );
            let ad_hoc = match &discount.discount {
                None => {
                    violations.add("discount", "needs a percent or an amount");
                    None
                }
                Some(pb::ad_hoc_discount::Discount::Percent(percent)) => {
                    match u8::try_from(*percent) {
                        Ok(percent @ 1..=100) => Some(AdHocDiscount::Percent {
                            percent,
                            reason: reason.clone().unwrap_or_default(),
                        }),
                        _ => {
                            violations.add("discount.percent", "must be 1 to 100");
                            None
                        }
                    }
                }
                Some(pb::ad_hoc_discount::Discount::Amount(amount)) => violations
                    .check("discount.amount", positive_money(Some(amount), reading))
                    .map(|amount| AdHocDiscount::Amount {
                        amount,
                        reason: reason.clone().unwrap_or_default(),
                    }),
            };
            reason?;
            ad_hoc.map(|ad_hoc| Some(DiscountRequest::AdHoc(ad_hoc)))
        }
    }
}

/// A manager's token given to authorise a discount; empty means none.
fn manager_authorization(token: &str) -> Option<String> {
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// A charge request, and the manager's token given with it, if any.
pub fn new_charge(
    request: pb::PostChargeRequest,
    reading: &Reading,
) -> Result<(NewCharge, Option<String>), FieldViolations> {
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
    let discount = discount_request(
        &request.promotion_code,
        request.discount.as_ref(),
        reading,
        &mut violations,
    );
    match (
        patient_id,
        price_code,
        quantity,
        appointment_id,
        service_date,
        request_id,
        discount,
    ) {
        (
            Some(patient_id),
            Some(price_code),
            Some(quantity),
            Some(appointment_id),
            Some(service_date),
            Some(request_id),
            Some(discount),
        ) if violations.is_empty() => Ok((
            NewCharge {
                patient_id,
                price_code,
                quantity,
                appointment_id,
                service_date,
                request_id,
                discount,
                skip_package: request.skip_package,
            },
            manager_authorization(&request.manager_authorization),
        )),
        _ => Err(violations),
    }
}

/// What an appointment charge request asks for, before scheduling says what the visit was.
pub struct AppointmentChargeRequest {
    pub appointment_id: AppointmentId,
    pub quantity: Quantity,
    pub discount: Option<DiscountRequest>,
    pub skip_package: bool,
    pub request_id: RequestId,
    pub manager_authorization: Option<String>,
}

pub fn appointment_charge(
    request: &pb::PostAppointmentChargeRequest,
    reading: &Reading,
) -> Result<AppointmentChargeRequest, FieldViolations> {
    let mut violations = FieldViolations::new();
    let appointment_id = violations.check(
        "appointment_id",
        AppointmentId::parse(&request.appointment_id)
            .map_err(|_| "must be an appointment id (UUID)"),
    );
    let quantity = violations.check("quantity", Quantity::parse(request.quantity));
    let discount = discount_request(
        &request.promotion_code,
        request.discount.as_ref(),
        reading,
        &mut violations,
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (appointment_id, quantity, discount, request_id) {
        (Some(appointment_id), Some(quantity), Some(discount), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(AppointmentChargeRequest {
                appointment_id,
                quantity,
                discount,
                skip_package: request.skip_package,
                request_id,
                manager_authorization: manager_authorization(&request.manager_authorization),
            })
        }
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
    let mut proto = pb::Charge {
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
        net_amount: Some(money_to_proto(charge.net)),
        ..Default::default()
    };
    if let Some(cover) = charge.cover {
        proto.package_quantity = i32::from(cover.quantity);
        proto.package_id = cover.package_id.to_string();
    }
    if let Some(discount) = &charge.discount {
        proto.discount = Some(money_to_proto(discount.amount));
        match &discount.kind {
            AppliedDiscountKind::Promotion(code) => {
                proto.promotion_code = code.as_str().to_owned();
            }
            AppliedDiscountKind::AdHoc {
                percent,
                reason,
                authorized_by,
            } => {
                proto.discount_percent = percent.map_or(0, i32::from);
                proto.discount_reason = reason.clone();
                proto.discount_authorized_by = authorized_by.clone().unwrap_or_default();
            }
        }
    }
    if let ChargeOrigin::Appointment {
        provider_id,
        provider_name,
    } = &charge.origin
    {
        proto.provider_id = provider_id.clone();
        proto.provider_name = provider_name.clone();
    }
    proto
}

pub fn patient_package_to_proto(package: &PatientPackage) -> pb::PatientPackage {
    let sessions = i32::try_from(package.sessions).unwrap_or(i32::MAX);
    let used = i32::try_from(package.used).unwrap_or(i32::MAX);
    pb::PatientPackage {
        package_id: package.package_id.to_string(),
        patient_id: package.patient_id.to_string(),
        charge_id: package.charge_id.to_string(),
        package_code: package.package_code.as_str().to_owned(),
        covers: package.covers.as_str().to_owned(),
        sessions,
        sessions_used: used,
        sessions_left: (sessions - used).max(0),
        service_date: Some(date_to_proto(package.service_date)),
    }
}

pub fn new_promotion(
    request: &pb::CreatePromotionRequest,
    reading: &Reading,
) -> Result<NewPromotion, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(promotion) = &request.promotion else {
        violations.add("promotion", "is required");
        return Err(violations);
    };
    let code = violations.check("promotion.code", PriceCode::parse(&promotion.code));
    let description = violations.check(
        "promotion.description",
        ItemDescription::parse(&promotion.description),
    );
    let discount = match &promotion.discount {
        None => {
            violations.add("promotion.discount", "needs percent_off or amount_off");
            None
        }
        Some(pb::promotion::Discount::PercentOff(percent)) => match u8::try_from(*percent) {
            Ok(percent @ 1..=100) => Some(PromotionDiscount::Percent(percent)),
            _ => {
                violations.add("promotion.percent_off", "must be 1 to 100");
                None
            }
        },
        Some(pb::promotion::Discount::AmountOff(amount)) => violations
            .check(
                "promotion.amount_off",
                positive_money(Some(amount), reading),
            )
            .map(PromotionDiscount::AmountPerUnit),
    };
    let mut price_codes = Vec::with_capacity(promotion.price_codes.len());
    for (index, code) in promotion.price_codes.iter().enumerate() {
        if let Some(code) = violations.check(
            &format!("promotion.price_codes[{index}]"),
            PriceCode::parse(code),
        ) {
            price_codes.push(code);
        }
    }
    let valid_from = violations.check(
        "promotion.valid_from",
        date_from_proto(promotion.valid_from.as_ref()),
    );
    let valid_to = violations.check(
        "promotion.valid_to",
        date_from_proto(promotion.valid_to.as_ref()),
    );
    if let (Some(from), Some(to)) = (valid_from, valid_to) {
        violations.require(
            to >= from,
            "promotion.valid_to",
            "must not be before valid_from",
        );
    }
    match (
        code,
        description,
        discount,
        valid_from,
        valid_to,
        request_id,
    ) {
        (
            Some(code),
            Some(description),
            Some(discount),
            Some(valid_from),
            Some(valid_to),
            Some(request_id),
        ) if violations.is_empty() => Ok(NewPromotion {
            code,
            description,
            discount,
            price_codes,
            valid_from,
            valid_to,
            request_id,
        }),
        _ => Err(violations),
    }
}

pub fn promotion_to_proto(promotion: &Promotion) -> pb::Promotion {
    let discount = match promotion.discount {
        PromotionDiscount::Percent(percent) => {
            pb::promotion::Discount::PercentOff(i32::from(percent))
        }
        PromotionDiscount::AmountPerUnit(amount) => {
            pb::promotion::Discount::AmountOff(money_to_proto(amount))
        }
    };
    pb::Promotion {
        code: promotion.code.as_str().to_owned(),
        description: promotion.description.as_str().to_owned(),
        discount: Some(discount),
        price_codes: promotion
            .price_codes
            .iter()
            .map(|code| code.as_str().to_owned())
            .collect(),
        valid_from: Some(date_to_proto(promotion.valid_from)),
        valid_to: Some(date_to_proto(promotion.valid_to)),
        created_by: promotion.created_by.clone(),
        create_time: Some(timestamp_to_proto(promotion.created_at)),
    }
}

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
        // One method: `amount` and `method`.
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
                payment_method(method, amount, "", channel, reading, &mut violations)
            }
        };
        match (amount, method) {
            (Some(amount), Some(method)) => Some(vec![PaymentPart { amount, method }]),
            _ => None,
        }
    } else {
        violations.require(
            request.amount.is_none() && request.method.is_none(),
            "parts",
            "must not be given with amount or method",
        );
        let mut parts = Vec::with_capacity(request.parts.len());
        for (index, part) in request.parts.iter().enumerate() {
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
                    use pb::payment_part_request::Method as PartMethod;
                    let method = match method {
                        PartMethod::Cash(cash) => MethodRequest::Cash(cash),
                        PartMethod::Card(card) => MethodRequest::Card(card),
                        PartMethod::BankTransfer(transfer) => MethodRequest::BankTransfer(transfer),
                        PartMethod::Advance(_) => MethodRequest::Advance,
                    };
                    payment_method(
                        method,
                        amount,
                        &format!("{field}."),
                        channel,
                        reading,
                        &mut violations,
                    )
                }
            };
            if let (Some(amount), Some(method)) = (amount, method) {
                parts.push(PaymentPart { amount, method });
            }
        }
        (parts.len() == request.parts.len()).then_some(parts)
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

pub fn charge_id(text: &str) -> Result<ChargeId, &'static str> {
    ChargeId::parse(text).map_err(|_| "must be a charge id (UUID)")
}

/// A required amount in the clinic's currency, above zero.
fn positive_money(
    money: Option<&clinic_proto::common::v1::Money>,
    reading: &Reading,
) -> Result<Money, String> {
    money_from_proto(money, reading.currency).and_then(|amount| {
        if amount.is_positive() {
            Ok(amount)
        } else {
            Err("must be positive".to_owned())
        }
    })
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

pub fn account_balance_to_proto(account: &AccountBalance) -> anyhow::Result<pb::AccountBalance> {
    Ok(pb::AccountBalance {
        patient_id: account.patient_id.to_string(),
        balance: Some(money_to_proto(account.balance()?)),
        total_charged: Some(money_to_proto(account.total_charged)),
        total_paid: Some(money_to_proto(account.total_paid)),
        as_of_sequence: account.as_of_sequence,
        total_corrections: Some(money_to_proto(account.total_corrections)),
        outstanding: Some(money_to_proto(account.outstanding()?)),
        advance: Some(money_to_proto(account.advance()?)),
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

fn ledger_kind_to_proto(kind: LedgerEntryKind) -> pb::LedgerEntryKind {
    match kind {
        LedgerEntryKind::Charge => pb::LedgerEntryKind::Charge,
        LedgerEntryKind::Payment => pb::LedgerEntryKind::Payment,
        LedgerEntryKind::Refund => pb::LedgerEntryKind::Refund,
        LedgerEntryKind::Correction(CorrectionKind::Adjustment) => pb::LedgerEntryKind::Adjustment,
        LedgerEntryKind::Correction(CorrectionKind::CreditNote) => pb::LedgerEntryKind::CreditNote,
        LedgerEntryKind::Correction(CorrectionKind::WriteOff) => pb::LedgerEntryKind::WriteOff,
    }
}

fn ledger_entry_to_proto(entry: &LedgerEntry) -> pb::LedgerEntry {
    pb::LedgerEntry {
        sequence: entry.sequence,
        patient_id: entry.patient_id.to_string(),
        kind: ledger_kind_to_proto(entry.source.kind()).into(),
        amount: Some(money_to_proto(entry.amount)),
        source_id: entry.source.id(),
        service_date: Some(date_to_proto(entry.service_date)),
        create_time: Some(timestamp_to_proto(entry.created_at)),
        related_source_id: entry.source.related_id().unwrap_or_default(),
    }
}

pub fn ledger_page_to_proto(page: &LedgerPage) -> pb::ListLedgerEntriesResponse {
    pb::ListLedgerEntriesResponse {
        entries: page.entries.iter().map(ledger_entry_to_proto).collect(),
        last_sequence: page.last_sequence,
        head_sequence: page.head_sequence,
    }
}

/// A count by denomination under `field` (`opening_count` or `closing_count`), each line checked
/// against the currency's table; every bad line is named by its index.
fn cash_count(
    field: &str,
    lines: &[pb::DenominationCount],
    currency: Currency,
    violations: &mut FieldViolations,
) -> Option<CashCount> {
    let Some(table) = denominations(currency) else {
        violations.add(
            field,
            format!("cannot be taken: no denominations are known for {currency}"),
        );
        return None;
    };
    // Lines that parse are checked against the table even when others do not, so every bad
    // line is named at once; `indices` maps them back to their place in the request.
    let mut parsed = Vec::with_capacity(lines.len());
    let mut indices = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let kind = match pb::DenominationKind::try_from(line.kind) {
            Ok(pb::DenominationKind::Note) => Some(DenominationKind::Note),
            Ok(pb::DenominationKind::Coin) => Some(DenominationKind::Coin),
            Ok(pb::DenominationKind::Unspecified) | Err(_) => {
                violations.add(
                    format!("{field}[{index}].kind"),
                    "is required: note or coin",
                );
                None
            }
        };
        let value = violations.check(
            &format!("{field}[{index}].value"),
            money_from_proto(line.value.as_ref(), currency),
        );
        let pieces = violations.check(
            &format!("{field}[{index}].count"),
            u32::try_from(line.count).map_err(|_| "must not be negative"),
        );
        if let (Some(kind), Some(value), Some(pieces)) = (kind, value, pieces) {
            parsed.push((kind, value, pieces));
            indices.push(index);
        }
    }
    let count = match CashCount::from_lines(&table, &parsed) {
        Ok(count) => count,
        Err(errors) => {
            for (position, error) in errors {
                let index = indices.get(position).copied().unwrap_or(position);
                let path = match error {
                    CountLineError::UnknownDenomination => format!("{field}[{index}].value"),
                    CountLineError::Repeated => format!("{field}[{index}]"),
                    CountLineError::TooMany => format!("{field}[{index}].count"),
                };
                violations.add(path, error.to_string());
            }
            return None;
        }
    };
    (indices.len() == lines.len()).then_some(count)
}

pub fn terminal_id(text: &str) -> Result<TerminalId, &'static str> {
    TerminalId::parse(text)
}

pub fn open_drawer(
    request: pb::OpenCashDrawerRequest,
    reading: &Reading,
) -> Result<OpenDrawer, FieldViolations> {
    let mut violations = FieldViolations::new();
    let terminal_id = violations.check("terminal_id", terminal_id(&request.terminal_id));
    let opening_count = cash_count(
        "opening_count",
        &request.opening_count,
        reading.currency,
        &mut violations,
    );
    let reason = violations.check(
        "opening_difference_reason",
        optional_reason(&request.opening_difference_reason),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (terminal_id, opening_count, reason, request_id) {
        (Some(terminal_id), Some(opening_count), Some(difference_reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(OpenDrawer {
                terminal_id,
                opening_count,
                difference_reason,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn new_cash_movement(
    request: pb::RecordCashMovementRequest,
    reading: &Reading,
) -> Result<NewCashMovement, FieldViolations> {
    let mut violations = FieldViolations::new();
    let terminal_id = violations.check("terminal_id", terminal_id(&request.terminal_id));
    let direction = match pb::CashMovementDirection::try_from(request.direction) {
        Ok(pb::CashMovementDirection::In) => Some(MovementDirection::In),
        Ok(pb::CashMovementDirection::Out) => Some(MovementDirection::Out),
        Ok(pb::CashMovementDirection::Unspecified) | Err(_) => {
            violations.add("direction", "is required: in or out");
            None
        }
    };
    let category = match pb::CashMovementCategory::try_from(request.category) {
        Ok(pb::CashMovementCategory::PettyCash) => Some(MovementCategory::PettyCash),
        Ok(pb::CashMovementCategory::Expenses) => Some(MovementCategory::Expenses),
        Ok(pb::CashMovementCategory::BankDeposit) => Some(MovementCategory::BankDeposit),
        Ok(pb::CashMovementCategory::ChangeFund) => Some(MovementCategory::ChangeFund),
        Ok(pb::CashMovementCategory::Other) => Some(MovementCategory::Other),
        Ok(pb::CashMovementCategory::Unspecified) | Err(_) => {
            violations.add(
                "category",
                "is required: petty cash, expenses, bank deposit, change fund or other",
            );
            None
        }
    };
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
    let note = violations.check("note", optional_reason(&request.note));
    if category == Some(MovementCategory::Other) && matches!(note, Some(None)) {
        violations.add("note", "is required for the category other");
    }
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (terminal_id, direction, category, amount, note, request_id) {
        (
            Some(terminal_id),
            Some(direction),
            Some(category),
            Some(amount),
            Some(note),
            Some(request_id),
        ) if violations.is_empty() => Ok(NewCashMovement {
            terminal_id,
            direction,
            category,
            amount,
            note,
            request_id,
        }),
        _ => Err(violations),
    }
}

pub fn close_drawer(
    request: pb::CloseCashDrawerRequest,
    reading: &Reading,
) -> Result<CloseDrawer, FieldViolations> {
    let mut violations = FieldViolations::new();
    let terminal_id = violations.check("terminal_id", terminal_id(&request.terminal_id));
    let closing_count = cash_count(
        "closing_count",
        &request.closing_count,
        reading.currency,
        &mut violations,
    );
    let reason = violations.check(
        "difference_reason",
        optional_reason(&request.difference_reason),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (terminal_id, closing_count, reason, request_id) {
        (Some(terminal_id), Some(closing_count), Some(difference_reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(CloseDrawer {
                terminal_id,
                closing_count,
                difference_reason,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

/// Which session a `GetCashDrawer` asks for.
pub enum DrawerQuery {
    Session(DrawerSessionId),
    Terminal(TerminalId),
}

pub fn drawer_query(request: &pb::GetCashDrawerRequest) -> Result<DrawerQuery, FieldViolations> {
    let by_session = !request.session_id.trim().is_empty();
    let by_terminal = !request.terminal_id.trim().is_empty();
    match (by_session, by_terminal) {
        (true, false) => DrawerSessionId::parse(&request.session_id)
            .map(DrawerQuery::Session)
            .map_err(|error| FieldViolations::single("session_id", error)),
        (false, true) => TerminalId::parse(&request.terminal_id)
            .map(DrawerQuery::Terminal)
            .map_err(|error| FieldViolations::single("terminal_id", error)),
        _ => {
            let mut violations = FieldViolations::new();
            violations.add(
                "session_id",
                "exactly one of session_id or terminal_id is required",
            );
            violations.add(
                "terminal_id",
                "exactly one of session_id or terminal_id is required",
            );
            Err(violations)
        }
    }
}

pub fn session_id(text: &str) -> Result<DrawerSessionId, &'static str> {
    DrawerSessionId::parse(text)
}

fn count_to_proto(count: &CashCount) -> Vec<pb::DenominationCount> {
    let mut lines = Vec::with_capacity(count.lines().len());
    for line in count.lines() {
        let kind = match line.denomination.kind {
            DenominationKind::Note => pb::DenominationKind::Note,
            DenominationKind::Coin => pb::DenominationKind::Coin,
        };
        lines.push(pb::DenominationCount {
            kind: kind.into(),
            value: Some(money_to_proto(line.denomination.value)),
            // Counts are at most MAX_PIECES, far below i32::MAX.
            count: i32::try_from(line.pieces).unwrap_or(i32::MAX),
        });
    }
    lines
}

fn drawer_state_to_proto(state: DrawerState) -> pb::CashDrawerState {
    match state {
        DrawerState::Open => pb::CashDrawerState::Open,
        DrawerState::PendingApproval => pb::CashDrawerState::PendingApproval,
        DrawerState::Closed => pb::CashDrawerState::Closed,
    }
}

pub fn drawer_session_to_proto(session: &DrawerSession) -> anyhow::Result<pb::CashDrawerSession> {
    let state = drawer_state_to_proto(session.state);
    let totals = &session.totals;
    let report = pb::CashDrawerReport {
        opening_float: Some(money_to_proto(totals.opening_float)),
        cash_taken: Some(money_to_proto(totals.cash_taken)),
        change_given: Some(money_to_proto(totals.change_given)),
        cash_in: Some(money_to_proto(totals.cash_in)),
        cash_out: Some(money_to_proto(totals.cash_out)),
        expected: Some(money_to_proto(totals.expected()?)),
        cash_payment_count: i32::try_from(totals.cash_payment_count)?,
        cash_movement_count: i32::try_from(totals.cash_movement_count)?,
        cash_refunded: Some(money_to_proto(totals.cash_refunded)),
    };
    let mut proto = pb::CashDrawerSession {
        session_id: session.session_id.to_string(),
        terminal_id: session.terminal_id.to_string(),
        state: state.into(),
        opening_count: count_to_proto(&session.opening_count),
        opening_float: Some(money_to_proto(session.opening_count.total())),
        previous_closing_count: session.previous_closing.map(money_to_proto),
        opening_difference: Some(money_to_proto(session.opening_difference)),
        opening_difference_reason: session
            .opening_difference_reason
            .clone()
            .unwrap_or_default(),
        opened_by: session.opened_by.clone(),
        open_time: Some(timestamp_to_proto(session.opened_at)),
        report: Some(report),
        ..Default::default()
    };
    if let Some(closing) = &session.closing {
        // The Z report is as of the close: its expected figure is the one the close decided on.
        if let Some(report) = proto.report.as_mut() {
            report.expected = Some(money_to_proto(closing.expected));
        }
        proto.closing_count = count_to_proto(&closing.closing_count);
        proto.counted = Some(money_to_proto(closing.closing_count.total()));
        proto.difference = Some(money_to_proto(closing.difference));
        proto.difference_reason = closing.difference_reason.clone().unwrap_or_default();
        proto.closed_by = closing.closed_by.clone();
        proto.close_time = Some(timestamp_to_proto(closing.closed_at));
        proto.approved_by = closing.approved_by.clone().unwrap_or_default();
        proto.approve_time = closing.approved_at.map(timestamp_to_proto);
    }
    Ok(proto)
}

pub fn cash_movement_to_proto(movement: &CashMovement) -> pb::CashMovement {
    let direction = match movement.direction {
        MovementDirection::In => pb::CashMovementDirection::In,
        MovementDirection::Out => pb::CashMovementDirection::Out,
    };
    let category = match movement.category {
        MovementCategory::PettyCash => pb::CashMovementCategory::PettyCash,
        MovementCategory::Expenses => pb::CashMovementCategory::Expenses,
        MovementCategory::BankDeposit => pb::CashMovementCategory::BankDeposit,
        MovementCategory::ChangeFund => pb::CashMovementCategory::ChangeFund,
        MovementCategory::Other => pb::CashMovementCategory::Other,
    };
    pb::CashMovement {
        movement_id: movement.movement_id.to_string(),
        session_id: movement.session_id.to_string(),
        terminal_id: movement.terminal_id.to_string(),
        direction: direction.into(),
        category: category.into(),
        amount: Some(money_to_proto(movement.amount)),
        note: movement.note.clone().unwrap_or_default(),
        recorded_by: movement.recorded_by.clone(),
        create_time: Some(timestamp_to_proto(movement.created_at)),
    }
}

/// The payment and format a `RenderReceipt` asks for.
pub fn receipt_request(
    request: &pb::RenderReceiptRequest,
) -> Result<(PaymentId, ReceiptFormat), FieldViolations> {
    let mut violations = FieldViolations::new();
    let payment_id = violations.check(
        "payment_id",
        PaymentId::parse(&request.payment_id).map_err(|_| "must be a payment id (UUID)"),
    );
    let format = match pb::ReceiptFormat::try_from(request.format) {
        Ok(pb::ReceiptFormat::Escpos) => Some(ReceiptFormat::Escpos),
        Ok(pb::ReceiptFormat::Pdf) => Some(ReceiptFormat::Pdf),
        Ok(pb::ReceiptFormat::Unspecified) | Err(_) => {
            violations.add("format", "is required: escpos or pdf");
            None
        }
    };
    match (payment_id, format) {
        (Some(payment_id), Some(format)) if violations.is_empty() => Ok((payment_id, format)),
        _ => Err(violations),
    }
}

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
fn method_name_to_proto(method: &str) -> pb::PaymentMethod {
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

/// The patient and span of a statement request; every bad field is named.
pub fn statement_request(
    request: &pb::GetStatementRequest,
) -> Result<(PatientId, Option<NaiveDate>, Option<NaiveDate>), FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let from = match request.from_date.as_ref() {
        None => Some(None),
        Some(date) => violations
            .check("from_date", date_from_proto(Some(date)))
            .map(Some),
    };
    let to = match request.to_date.as_ref() {
        None => Some(None),
        Some(date) => violations
            .check("to_date", date_from_proto(Some(date)))
            .map(Some),
    };
    let span = match (from, to) {
        (Some(from), Some(to)) => violations.check("to_date", statement_span(from, to)),
        _ => None,
    };
    match (patient_id, span) {
        (Some(patient_id), Some((from, to))) if violations.is_empty() => Ok((patient_id, from, to)),
        _ => Err(violations),
    }
}

pub fn statement_to_proto(statement: &Statement) -> pb::Statement {
    let mut lines = Vec::with_capacity(statement.lines.len());
    for line in &statement.lines {
        let entry = &line.entry;
        let kind = ledger_kind_to_proto(entry.detail.kind());
        let mut proto = pb::StatementLine {
            sequence: entry.sequence,
            service_date: Some(date_to_proto(entry.service_date)),
            kind: kind.into(),
            description: entry.detail.description(),
            source_id: entry.source_id.clone(),
            amount: Some(money_to_proto(entry.amount)),
            running_balance: Some(money_to_proto(line.running_balance)),
            ..Default::default()
        };
        match &entry.detail {
            StatementDetail::Charge {
                price_code,
                quantity,
                ..
            } => {
                proto.price_code = price_code.clone();
                proto.quantity = *quantity;
            }
            StatementDetail::Payment {
                method,
                receipt_number,
            }
            | StatementDetail::Refund {
                method,
                receipt_number,
            } => {
                proto.payment_method = method_name_to_proto(method).into();
                proto.receipt_number = receipt_number.to_string();
            }
            StatementDetail::Correction {
                price_code,
                reason,
                credit_note_number,
                ..
            } => {
                proto.price_code = price_code.clone();
                proto.reason = reason.clone();
                proto.credit_note_number = credit_note_number
                    .map(|number| number.to_string())
                    .unwrap_or_default();
            }
        }
        lines.push(proto);
    }
    pb::Statement {
        patient_id: statement.patient_id.to_string(),
        from_date: statement.from.map(date_to_proto),
        to_date: statement.to.map(date_to_proto),
        opening_balance: Some(money_to_proto(statement.opening_balance)),
        lines,
        closing_balance: Some(money_to_proto(statement.closing_balance)),
    }
}

pub fn unpaid_patient_to_proto(unpaid: &UnpaidPatient) -> anyhow::Result<pb::UnpaidPatient> {
    let mut charged_today = Money::zero(unpaid.balance.currency());
    for charge in &unpaid.charges_today {
        charged_today = charged_today
            .checked_add(charge.net)
            .map_err(|error| anyhow::anyhow!("today's charges are out of range: {error}"))?;
    }
    Ok(pb::UnpaidPatient {
        patient_id: unpaid.patient_id.to_string(),
        balance: Some(money_to_proto(unpaid.balance)),
        charges_today: unpaid.charges_today.iter().map(charge_to_proto).collect(),
        charged_today: Some(money_to_proto(charged_today)),
    })
}

/// The day of a daily close request: unset means today; after today is refused.
fn report_day(
    day: Option<&clinic_proto::common::v1::Date>,
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Option<NaiveDate> {
    match day {
        None => Some(reading.today),
        Some(day) => violations.check(
            "day",
            date_from_proto(Some(day)).and_then(|day| {
                if day > reading.today {
                    Err("must not be after today".to_owned())
                } else {
                    Ok(day)
                }
            }),
        ),
    }
}

pub fn daily_close_day(
    request: &pb::GetDailyCloseRequest,
    reading: &Reading,
) -> Result<NaiveDate, FieldViolations> {
    let mut violations = FieldViolations::new();
    match report_day(request.day.as_ref(), reading, &mut violations) {
        Some(day) if violations.is_empty() => Ok(day),
        _ => Err(violations),
    }
}

pub fn export_request(
    request: &pb::ExportDailyCloseRequest,
    reading: &Reading,
) -> Result<(NaiveDate, ExportFormat), FieldViolations> {
    let mut violations = FieldViolations::new();
    let day = report_day(request.day.as_ref(), reading, &mut violations);
    let format = match pb::ReportFormat::try_from(request.format) {
        Ok(pb::ReportFormat::Csv) => Some(ExportFormat::Csv),
        Ok(pb::ReportFormat::Xlsx) => Some(ExportFormat::Xlsx),
        _ => {
            violations.add("format", "must be REPORT_FORMAT_CSV or REPORT_FORMAT_XLSX");
            None
        }
    };
    match (day, format) {
        (Some(day), Some(format)) if violations.is_empty() => Ok((day, format)),
        _ => Err(violations),
    }
}

fn flow_to_proto(flow: &Flow) -> anyhow::Result<pb::IncomeFlow> {
    Ok(pb::IncomeFlow {
        payment_count: flow.received.count,
        received: Some(money_to_proto(flow.received.amount)),
        refund_count: flow.refunded.count,
        refunded: Some(money_to_proto(flow.refunded.amount)),
        net: Some(money_to_proto(flow.net()?)),
    })
}

pub fn daily_close_to_proto(close: &DailyClose) -> anyhow::Result<pb::DailyClose> {
    let mut income_by_method = Vec::with_capacity(close.by_method.len());
    for (method, flow) in &close.by_method {
        let method = match method {
            IncomeMethod::Cash => pb::IncomeMethod::Cash,
            IncomeMethod::CardCredit => pb::IncomeMethod::CardCredit,
            IncomeMethod::CardDebit => pb::IncomeMethod::CardDebit,
            IncomeMethod::BankTransfer => pb::IncomeMethod::BankTransfer,
        };
        income_by_method.push(pb::MethodIncome {
            method: method.into(),
            flow: Some(flow_to_proto(flow)?),
        });
    }
    let mut income_by_staff = Vec::with_capacity(close.by_staff.len());
    for (staff, flow) in &close.by_staff {
        income_by_staff.push(pb::StaffIncome {
            staff: staff.clone(),
            flow: Some(flow_to_proto(flow)?),
        });
    }
    let mut income_by_service = Vec::with_capacity(close.by_service.len());
    for service in &close.by_service {
        income_by_service.push(pb::ServiceIncome {
            price_code: service.price_code.clone(),
            description: service.description.clone(),
            charge_count: service.charge_count,
            quantity: service.quantity,
            amount: Some(money_to_proto(service.amount)),
        });
    }
    let mut outstanding_accounts = Vec::with_capacity(close.outstanding.len());
    for account in &close.outstanding {
        outstanding_accounts.push(pb::OutstandingAccount {
            patient_id: account.patient_id.to_string(),
            balance: Some(money_to_proto(account.balance)),
        });
    }
    let mut drawer_closes = Vec::with_capacity(close.drawers.len());
    for drawer in &close.drawers {
        drawer_closes.push(pb::DrawerCloseSummary {
            session_id: drawer.session_id.to_string(),
            terminal_id: drawer.terminal_id.as_str().to_owned(),
            state: drawer_state_to_proto(drawer.state).into(),
            expected: Some(money_to_proto(drawer.expected)),
            counted: Some(money_to_proto(drawer.counted)),
            difference: Some(money_to_proto(drawer.difference)),
            closed_by: drawer.closed_by.clone(),
            close_time: Some(timestamp_to_proto(drawer.closed_at)),
        });
    }
    Ok(pb::DailyClose {
        day: Some(date_to_proto(close.day)),
        income_by_method,
        income_by_service,
        income_by_staff,
        charge_count: close.charged.count,
        total_charged: Some(money_to_proto(close.charged.amount)),
        payment_count: close.received.count,
        total_received: Some(money_to_proto(close.received.amount)),
        refund_count: close.refunded.count,
        total_refunded: Some(money_to_proto(close.refunded.amount)),
        net_income: Some(money_to_proto(close.net_income)),
        outstanding_accounts,
        total_outstanding: Some(money_to_proto(close.total_outstanding)),
        drawer_closes,
        income_by_provider: close
            .by_provider
            .iter()
            .map(|provider| pb::ProviderIncome {
                provider_id: provider.provider_id.clone().unwrap_or_default(),
                provider_name: provider.provider_name.clone(),
                charge_count: provider.charge_count,
                amount: Some(money_to_proto(provider.amount)),
            })
            .collect(),
        packages_sold: close
            .packages_sold
            .iter()
            .map(|sale| pb::PackageSales {
                package_code: sale.package_code.clone(),
                description: sale.description.clone(),
                count: sale.count,
                amount: Some(money_to_proto(sale.amount)),
            })
            .collect(),
        corrections: close
            .corrections
            .iter()
            .map(|(kind, tally)| pb::CorrectionTotal {
                kind: correction_kind_to_proto(*kind).into(),
                count: tally.count,
                amount: Some(money_to_proto(tally.amount)),
            })
            .collect(),
        advance_applied_count: close.advance_applied.count,
        advance_applied: Some(money_to_proto(close.advance_applied.amount)),
        discount_count: close.discounts.count,
        total_discounts: Some(money_to_proto(close.discounts.amount)),
        closed: close.closed.as_ref().map(closed_day_to_proto),
    })
}

fn correction_kind_to_proto(kind: CorrectionKind) -> pb::CorrectionKind {
    match kind {
        CorrectionKind::Adjustment => pb::CorrectionKind::Adjustment,
        CorrectionKind::CreditNote => pb::CorrectionKind::CreditNote,
        CorrectionKind::WriteOff => pb::CorrectionKind::WriteOff,
    }
}

/// A correction request of `kind`: the charge, the amount as the client states it (signed for
/// adjustments; for credit notes and write-offs, the positive amount taken off), the reason and
/// the key.
fn correction(
    kind: CorrectionKind,
    charge_id_text: &str,
    amount: Option<&clinic_proto::common::v1::Money>,
    reason: &str,
    request_id: &str,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    let mut violations = FieldViolations::new();
    let charge_id = violations.check("charge_id", charge_id(charge_id_text));
    let amount = match kind {
        CorrectionKind::Adjustment => violations.check(
            "amount",
            money_from_proto(amount, reading.currency).and_then(|amount| {
                if amount.is_zero() {
                    Err("must not be zero".to_owned())
                } else {
                    Ok(amount)
                }
            }),
        ),
        CorrectionKind::CreditNote | CorrectionKind::WriteOff => violations
            .check("amount", positive_money(amount, reading))
            .map(Money::negated),
    };
    let reason = violations.check(
        "reason",
        optional_reason(reason).and_then(|reason| reason.ok_or_else(|| "is required".to_owned())),
    );
    let request_id = violations.check("request_id", RequestId::parse(request_id));
    match (charge_id, amount, reason, request_id) {
        (Some(charge_id), Some(amount), Some(reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewCorrection {
                kind,
                charge_id,
                amount,
                reason,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn new_adjustment(
    request: &pb::PostAdjustmentRequest,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    correction(
        CorrectionKind::Adjustment,
        &request.charge_id,
        request.amount.as_ref(),
        &request.reason,
        &request.request_id,
        reading,
    )
}

pub fn new_credit_note(
    request: &pb::IssueCreditNoteRequest,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    correction(
        CorrectionKind::CreditNote,
        &request.charge_id,
        request.amount.as_ref(),
        &request.reason,
        &request.request_id,
        reading,
    )
}

pub fn new_write_off(
    request: &pb::WriteOffChargeRequest,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    correction(
        CorrectionKind::WriteOff,
        &request.charge_id,
        request.amount.as_ref(),
        &request.reason,
        &request.request_id,
        reading,
    )
}

pub fn correction_to_proto(correction: &Correction) -> pb::ChargeCorrection {
    let kind = correction_kind_to_proto(correction.kind);
    pb::ChargeCorrection {
        correction_id: correction.correction_id.to_string(),
        kind: kind.into(),
        patient_id: correction.patient_id.to_string(),
        charge_id: correction.charge_id.to_string(),
        amount: Some(money_to_proto(correction.amount)),
        reason: correction.reason.clone(),
        credit_note_number: correction
            .credit_note_number
            .map(|number| number.to_string())
            .unwrap_or_default(),
        released_to_advance: Some(money_to_proto(correction.released)),
        balance_after: Some(money_to_proto(correction.balance_after)),
        service_date: Some(date_to_proto(correction.service_date)),
        created_by: correction.created_by.clone(),
        request_id: correction.request_id.as_str().to_owned(),
        create_time: Some(timestamp_to_proto(correction.created_at)),
        ledger_sequence: correction.ledger_sequence,
    }
}

pub fn open_charges_to_proto(open: &OpenCharges) -> pb::ListOpenChargesResponse {
    let currency = open.advance.currency();
    let mut outstanding = 0;
    let mut charges = Vec::with_capacity(open.charges.len());
    for (charge, standing) in &open.charges {
        outstanding += standing.outstanding();
        charges.push(pb::OpenCharge {
            charge: Some(charge_to_proto(charge)),
            due: Some(money_to_proto(Money::from_minor(standing.due, currency))),
            paid: Some(money_to_proto(Money::from_minor(
                standing.allocated,
                currency,
            ))),
            outstanding: Some(money_to_proto(Money::from_minor(
                standing.outstanding(),
                currency,
            ))),
        });
    }
    pb::ListOpenChargesResponse {
        charges,
        outstanding: Some(money_to_proto(Money::from_minor(outstanding, currency))),
        advance: Some(money_to_proto(open.advance)),
    }
}

pub fn close_day_request(
    request: &pb::CloseDayRequest,
    reading: &Reading,
) -> Result<NaiveDate, FieldViolations> {
    let mut violations = FieldViolations::new();
    match report_day(request.day.as_ref(), reading, &mut violations) {
        Some(day) if violations.is_empty() => Ok(day),
        _ => Err(violations),
    }
}

pub fn closed_day_to_proto(closed: &ClosedDay) -> pb::ClosedDay {
    pb::ClosedDay {
        day: Some(date_to_proto(closed.day)),
        closed_by: closed.closed_by.clone(),
        close_time: Some(timestamp_to_proto(closed.closed_at)),
    }
}

pub fn invoice_request(
    request: &pb::IssueInvoiceRequest,
) -> Result<(PaymentId, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let payment_id = violations.check(
        "payment_id",
        PaymentId::parse(&request.payment_id).map_err(|_| "must be a payment id (UUID)"),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (payment_id, request_id) {
        (Some(payment_id), Some(request_id)) if violations.is_empty() => {
            Ok((payment_id, request_id))
        }
        _ => Err(violations),
    }
}

pub fn global_invoice_request(
    request: &pb::IssueGlobalInvoiceRequest,
    reading: &Reading,
) -> Result<(NaiveDate, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let day = report_day(request.day.as_ref(), reading, &mut violations);
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (day, request_id) {
        (Some(day), Some(request_id)) if violations.is_empty() => Ok((day, request_id)),
        _ => Err(violations),
    }
}

pub fn invoice_to_proto(invoice: &crate::domain::Invoice) -> pb::Invoice {
    let mut proto = pb::Invoice {
        invoice_id: invoice.invoice_id.to_string(),
        series: invoice.series.clone(),
        folio: invoice.folio,
        receptor_rfc: invoice.receptor_rfc.clone(),
        total: Some(money_to_proto(invoice.total)),
        certificate_number: invoice.certificate_number.clone(),
        cadena_original: invoice.cadena_original.clone(),
        xml: invoice.xml.clone(),
        status: pb::InvoiceStatus::Sealed.into(),
        created_by: invoice.created_by.clone(),
        create_time: Some(timestamp_to_proto(invoice.created_at)),
        ..Default::default()
    };
    if let Some(stamp) = &invoice.stamp {
        proto.set_status(pb::InvoiceStatus::Stamped);
        proto.xml = stamp.xml.clone();
        proto.uuid = stamp.uuid.clone();
        proto.stamp_time = stamp.stamped_at.clone();
        proto.pac_rfc = stamp.pac_rfc.clone();
        proto.sat_certificate_number = stamp.sat_certificate_number.clone();
    }
    match &invoice.subject {
        crate::domain::InvoiceSubject::Payment(payment_id) => {
            proto.set_kind(pb::InvoiceKind::Payment);
            proto.payment_id = payment_id.to_string();
            proto.payment_ids = vec![payment_id.to_string()];
        }
        crate::domain::InvoiceSubject::Global { day, payments } => {
            proto.set_kind(pb::InvoiceKind::Global);
            proto.day = Some(date_to_proto(*day));
            proto.payment_ids = payments.iter().map(ToString::to_string).collect();
        }
        crate::domain::InvoiceSubject::Charges(charges) => {
            proto.set_kind(pb::InvoiceKind::Charges);
            proto.charge_ids = charges.iter().map(|(id, _)| id.to_string()).collect();
        }
        crate::domain::InvoiceSubject::CreditNote {
            correction_id,
            related,
        } => {
            proto.set_kind(pb::InvoiceKind::CreditNote);
            proto.correction_id = correction_id.to_string();
            proto.related_invoice_id = related.to_string();
        }
        crate::domain::InvoiceSubject::PaymentReceipt {
            payment_id,
            documents,
        } => {
            proto.set_kind(pb::InvoiceKind::PaymentComplement);
            proto.payment_id = payment_id.to_string();
            proto.payment_ids = vec![payment_id.to_string()];
            proto.paid_invoice_ids = documents
                .iter()
                .map(|document| document.invoice_id.to_string())
                .collect();
        }
    }
    proto
}

pub fn charges_invoice_request(
    request: &pb::IssueChargesInvoiceRequest,
) -> Result<(PatientId, Vec<ChargeId>, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check(
        "patient_id",
        PatientId::parse(&request.patient_id).map_err(|_| "must be a patient id (UUID)"),
    );
    let mut charge_ids = Vec::with_capacity(request.charge_ids.len());
    for text in &request.charge_ids {
        match ChargeId::parse(text) {
            Ok(charge_id) if !charge_ids.contains(&charge_id) => charge_ids.push(charge_id),
            Ok(_) => violations.add("charge_ids", format!("{text} is named twice")),
            Err(_) => violations.add("charge_ids", format!("{text} is not a charge id (UUID)")),
        }
    }
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, request_id) {
        (Some(patient_id), Some(request_id)) if violations.is_empty() => {
            Ok((patient_id, charge_ids, request_id))
        }
        _ => Err(violations),
    }
}

pub fn credit_note_invoice_request(
    request: &pb::IssueCreditNoteInvoiceRequest,
) -> Result<(crate::domain::CorrectionId, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let correction_id = violations.check(
        "correction_id",
        crate::domain::CorrectionId::parse(&request.correction_id),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (correction_id, request_id) {
        (Some(correction_id), Some(request_id)) if violations.is_empty() => {
            Ok((correction_id, request_id))
        }
        _ => Err(violations),
    }
}

pub fn payment_complement_request(
    request: &pb::IssuePaymentComplementRequest,
) -> Result<(PaymentId, RequestId), FieldViolations> {
    invoice_request(&pb::IssueInvoiceRequest {
        payment_id: request.payment_id.clone(),
        request_id: request.request_id.clone(),
    })
}
