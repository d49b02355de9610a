//! The price list: what the clinic charges for, by code.

use std::fmt;

use chrono::{DateTime, Utc};
use clinic_common::Money;
use clinic_common::ids::{RequestId, request_fingerprint};

/// A price-list code: 1 to 32 characters of `A-Z`, `0-9` and `-`, e.g. `CONS-01`. Letters typed
/// in lower case are upper-cased, so `cons-01` and `CONS-01` are the same item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PriceCode(String);

impl PriceCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let code = text.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err("is required");
        }
        if code.len() > Self::MAX_LEN {
            return Err("must be at most 32 characters");
        }
        let allowed = |byte: u8| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'-';
        if !code.bytes().all(allowed) {
            return Err("may contain only A-Z, 0-9 and '-'");
        }
        Ok(PriceCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PriceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// As [`PriceCode::parse`], so that an id kept as text (such as an idempotency key's
/// resource) reads back as one.
impl std::str::FromStr for PriceCode {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PriceCode::parse(text)
    }
}

/// What an item is shown as on a receipt or invoice: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDescription(String);

impl ItemDescription {
    pub fn parse(text: &str) -> Result<Self, String> {
        clinic_common::validation::single_line_text(text, 200).map(ItemDescription)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceListItemKind {
    /// A consultation or procedure.
    Service,
    /// A course of therapy.
    Therapy,
    /// Something sold over the counter (toothbrush, mouthwash).
    Product,
    /// Sessions of one service sold ahead (e.g. five cleanings); each later charge for that
    /// service uses one up instead of costing again.
    Package,
}

impl PriceListItemKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            PriceListItemKind::Service => "service",
            PriceListItemKind::Therapy => "therapy",
            PriceListItemKind::Product => "product",
            PriceListItemKind::Package => "package",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "service" => Some(PriceListItemKind::Service),
            "therapy" => Some(PriceListItemKind::Therapy),
            "product" => Some(PriceListItemKind::Product),
            "package" => Some(PriceListItemKind::Package),
            _ => None,
        }
    }
}

/// A unit price: not negative (a free item is allowed: a courtesy check-up still appears on the
/// account).
pub fn parse_unit_price(price: Money) -> Result<Money, &'static str> {
    if price.is_negative() {
        Err("must not be negative")
    } else {
        Ok(price)
    }
}

/// What a package prepays: `sessions` of the service `covers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageTerms {
    /// 1 to 100.
    pub sessions: u16,
    /// A service, therapy or product on the price list (not another package).
    pub covers: PriceCode,
}

impl PackageTerms {
    pub const MAX_SESSIONS: i32 = 100;

    pub fn sessions(sessions: i32) -> Result<u16, &'static str> {
        match sessions {
            1..=Self::MAX_SESSIONS => Ok(sessions as u16),
            _ => Err("must be 1 to 100"),
        }
    }
}

/// The SAT catalogue codes an item is invoiced under: c_ClaveProdServ (8 digits, e.g. 85121600
/// for specialist doctors' services) and c_ClaveUnidad (e.g. E48 service unit, H87 piece).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SatCodes {
    pub product_code: String,
    pub unit_code: String,
}

impl SatCodes {
    pub fn parse_product_code(text: &str) -> Result<String, &'static str> {
        let text = text.trim();
        if text.len() == 8 && text.bytes().all(|byte| byte.is_ascii_digit()) {
            Ok(text.to_owned())
        } else {
            Err("must be a c_ClaveProdServ: 8 digits")
        }
    }

    pub fn parse_unit_code(text: &str) -> Result<String, &'static str> {
        let text = text.trim().to_ascii_uppercase();
        if (2..=3).contains(&text.len())
            && text
                .bytes()
                .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
        {
            Ok(text)
        } else {
            Err("must be a c_ClaveUnidad: 2-3 letters or digits")
        }
    }
}

/// A request to add an item to the price list.
#[derive(Debug, Clone)]
pub struct NewPriceListItem {
    pub code: PriceCode,
    pub description: ItemDescription,
    pub unit_price: Money,
    pub kind: PriceListItemKind,
    /// Packages only.
    pub package: Option<PackageTerms>,
    /// Its own SAT codes; without them invoices use the kind's (services 85122001/E48,
    /// products 01010101/H87).
    pub sat: Option<SatCodes>,
    pub request_id: RequestId,
}

impl NewPriceListItem {
    /// A digest of the item, to recognise a retried request.
    pub fn fingerprint(&self) -> String {
        let mut parts = vec![
            self.code.as_str().to_owned(),
            self.description.as_str().to_owned(),
            self.unit_price.minor_units().to_string(),
            self.unit_price.currency().code().to_owned(),
            self.kind.as_str().to_owned(),
        ];
        // Appended only for packages, so items added before packages keep their digest.
        if let Some(package) = &self.package {
            parts.push(format!("package:{}:{}", package.sessions, package.covers));
        }
        if let Some(sat) = &self.sat {
            parts.push(format!("sat:{}:{}", sat.product_code, sat.unit_code));
        }
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        request_fingerprint(&parts)
    }
}

/// An item on the price list.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceListItem {
    pub code: PriceCode,
    pub description: ItemDescription,
    pub unit_price: Money,
    pub kind: PriceListItemKind,
    /// Packages only.
    pub package: Option<PackageTerms>,
    pub sat: Option<SatCodes>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    #[test]
    fn codes_are_upper_cased_letters_digits_and_dashes() {
        assert_eq!(
            PriceCode::parse(" cons-01 ").expect("valid").as_str(),
            "CONS-01"
        );
        assert_eq!(PriceCode::parse(""), Err("is required"));
        assert!(PriceCode::parse("LIMPIEZA DENTAL").is_err());
        assert!(PriceCode::parse("AÑO-1").is_err());
        assert!(PriceCode::parse(&"A".repeat(33)).is_err());
        assert!(PriceCode::parse(&"A".repeat(32)).is_ok());
    }

    #[test]
    fn prices_may_be_zero_but_not_negative() {
        assert!(parse_unit_price(Money::zero(Currency::MXN)).is_ok());
        assert!(parse_unit_price(Money::from_minor(-1, Currency::MXN)).is_err());
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in [
            PriceListItemKind::Service,
            PriceListItemKind::Therapy,
            PriceListItemKind::Product,
            PriceListItemKind::Package,
        ] {
            assert_eq!(PriceListItemKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PriceListItemKind::parse("gift"), None);
    }
}
