//! Charges: a charge posted at the counter or from an appointment, with its discount, and charges,
//! patients' packages and open charges on the wire.

use clinic_common::Money;
use clinic_common::ids::{AppointmentId, RequestId, request_fingerprint};
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_from_proto, date_to_proto, money_to_proto};

use crate::store::OpenCharges;

use super::{Reading, patient_id, positive_money};
use crate::domain::{
    AdHocDiscount, AppliedDiscountKind, ChargeOrigin, DiscountRequest, PatientPackage,
};
use crate::domain::{
    Charge, NewAppointmentCharge, NewCharge, PriceCode, Quantity, optional_reason,
};

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

pub fn appointment_charge(
    request: &pb::PostAppointmentChargeRequest,
    reading: &Reading,
) -> Result<NewAppointmentCharge, FieldViolations> {
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
            // The request alone identifies a retry, as the client wrote it.
            let fingerprint = request_fingerprint(&[
                "appointment",
                &request.appointment_id,
                &quantity.get().to_string(),
                &format!("{discount:?}"),
                &request.skip_package.to_string(),
            ]);
            Ok(NewAppointmentCharge {
                appointment_id,
                quantity,
                discount,
                skip_package: request.skip_package,
                request_id,
                manager_authorization: manager_authorization(&request.manager_authorization),
                fingerprint,
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

/// A patient's open charges and advance; what they leave outstanding is summed as money.
pub fn open_charges_to_proto(open: &OpenCharges) -> anyhow::Result<pb::ListOpenChargesResponse> {
    let currency = open.advance.currency();
    let money = |minor| Money::from_minor(minor, currency);
    let mut outstanding = Money::zero(currency);
    let mut charges = Vec::with_capacity(open.charges.len());
    for (charge, standing) in &open.charges {
        outstanding = outstanding
            .checked_add(money(standing.outstanding()))
            .map_err(|error| anyhow::anyhow!("open charges are out of range: {error}"))?;
        charges.push(pb::OpenCharge {
            charge: Some(charge_to_proto(charge)),
            due: Some(money_to_proto(money(standing.due))),
            paid: Some(money_to_proto(money(standing.allocated))),
            outstanding: Some(money_to_proto(money(standing.outstanding()))),
        });
    }
    Ok(pb::ListOpenChargesResponse {
        charges,
        outstanding: Some(money_to_proto(outstanding)),
        advance: Some(money_to_proto(open.advance)),
    })
}
