//! Promotions: a new promotion's fields, and promotions on the wire.

use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_from_proto, date_to_proto, money_to_proto};

use super::{Reading, positive_money};
use crate::domain::{ItemDescription, PriceCode};
use crate::domain::{NewPromotion, Promotion, PromotionDiscount};

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
