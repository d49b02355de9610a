//! The price list: a new item's fields, and items on the wire.

use clinic_common::Money;
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{money_from_proto, money_to_proto};

use super::Reading;
use crate::domain::PackageTerms;
use crate::domain::{
    ItemDescription, NewPriceListItem, PriceCode, PriceListItem, PriceListItemKind,
    parse_unit_price,
};

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
