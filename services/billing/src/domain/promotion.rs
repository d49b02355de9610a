//! Promotions and discounts.
//!
//! A promotion is a discount a manager set up ahead: a percentage or an amount off each unit,
//! on some items (or on every item but packages), over a span of service days. Anyone at the
//! counter may apply it: the manager authorised it by creating it. An ad hoc discount is typed
//! at the counter with a reason; above the clinic's limit (a percentage of the list amount) it
//! needs a manager, who either posts the charge or authorises it with their own token.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{RequestId, request_fingerprint};

use super::{ItemDescription, PriceCode, PriceListItemKind};

/// A promotion's code: the same form as a price code, e.g. `VERANO-26`.
pub type PromotionCode = PriceCode;

/// How much a promotion takes off each unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromotionDiscount {
    /// 1 to 100 percent.
    Percent(u8),
    /// A positive amount per unit, never more than the unit's price.
    AmountPerUnit(Money),
}

/// A request to set up a promotion.
#[derive(Debug, Clone)]
pub struct NewPromotion {
    pub code: PromotionCode,
    pub description: ItemDescription,
    pub discount: PromotionDiscount,
    /// The items it applies to; empty means every item but packages.
    pub price_codes: Vec<PriceCode>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub request_id: RequestId,
}

impl NewPromotion {
    pub fn fingerprint(&self) -> String {
        let discount = match self.discount {
            PromotionDiscount::Percent(percent) => format!("percent:{percent}"),
            PromotionDiscount::AmountPerUnit(amount) => {
                format!(
                    "amount:{}:{}",
                    amount.minor_units(),
                    amount.currency().code()
                )
            }
        };
        let mut parts = vec![
            self.code.as_str().to_owned(),
            self.description.as_str().to_owned(),
            discount,
            self.valid_from.to_string(),
            self.valid_to.to_string(),
        ];
        parts.extend(self.price_codes.iter().map(|code| code.as_str().to_owned()));
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        request_fingerprint(&parts)
    }
}

/// A promotion as set up.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion {
    pub code: PromotionCode,
    pub description: ItemDescription,
    pub discount: PromotionDiscount,
    pub price_codes: Vec<PriceCode>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Promotion {
    /// Why it does not apply to an item of `kind` and `code` served on `day`, if it does not.
    pub fn refusal(
        &self,
        code: &PriceCode,
        kind: PriceListItemKind,
        day: NaiveDate,
    ) -> Option<String> {
        if day < self.valid_from || day > self.valid_to {
            return Some(format!(
                "runs from {} to {}, not on {day}",
                self.valid_from, self.valid_to
            ));
        }
        let listed = if self.price_codes.is_empty() {
            kind != PriceListItemKind::Package
        } else {
            self.price_codes.contains(code)
        };
        (!listed).then(|| format!("does not apply to {code}"))
    }

    /// The discount on `units` units at `unit_price`: half a centavo and up rounds up, and it
    /// never exceeds the units' price.
    pub fn discount_on(&self, unit_price: Money, units: i64) -> Money {
        let currency = unit_price.currency();
        let gross = unit_price.minor_units().saturating_mul(units);
        let minor = match self.discount {
            PromotionDiscount::Percent(percent) => percent_of(gross, percent),
            PromotionDiscount::AmountPerUnit(amount) => {
                amount.minor_units().saturating_mul(units).min(gross)
            }
        };
        Money::from_minor(minor, currency)
    }
}

/// `percent` of `minor` (not negative), rounded half up: the one rounding rule for discounts.
pub fn percent_of(minor: i64, percent: u8) -> i64 {
    let exact = i128::from(minor) * i128::from(percent);
    ((exact + 50) / 100) as i64
}

/// A discount typed at the counter, with why it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdHocDiscount {
    /// 1 to 100 percent of what the charge costs after any package cover.
    Percent { percent: u8, reason: String },
    /// A positive amount, at most what the charge costs after any package cover.
    Amount { amount: Money, reason: String },
}

impl AdHocDiscount {
    pub fn reason(&self) -> &str {
        match self {
            AdHocDiscount::Percent { reason, .. } | AdHocDiscount::Amount { reason, .. } => reason,
        }
    }

    /// Whether it is more than `limit_percent` of `list_amount` (unit price x quantity): then a
    /// manager must authorise it.
    pub fn exceeds(&self, limit_percent: u8, list_amount: Money) -> bool {
        match self {
            AdHocDiscount::Percent { percent, .. } => *percent > limit_percent,
            AdHocDiscount::Amount { amount, .. } => {
                // amount / list > limit / 100, without dividing.
                i128::from(amount.minor_units()) * 100
                    > i128::from(list_amount.minor_units()) * i128::from(limit_percent)
            }
        }
    }
}

/// The discount a charge asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum DiscountRequest {
    Promotion(PromotionCode),
    AdHoc(AdHocDiscount),
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    fn day(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).expect("a valid day")
    }

    fn promotion(discount: PromotionDiscount, price_codes: &[&str]) -> Promotion {
        Promotion {
            code: PriceCode::parse("BUEN-FIN").expect("valid"),
            description: ItemDescription::parse("El Buen Fin").expect("valid"),
            discount,
            price_codes: price_codes
                .iter()
                .map(|code| PriceCode::parse(code).expect("valid"))
                .collect(),
            valid_from: day(13),
            valid_to: day(23),
            created_by: "manager:luis".into(),
            created_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn percentages_round_half_up_and_amounts_never_exceed_the_price() {
        let fifteen = promotion(PromotionDiscount::Percent(15), &[]);
        assert_eq!(fifteen.discount_on(mxn(33_333), 1), mxn(5_000));
        assert_eq!(
            fifteen.discount_on(mxn(10), 1),
            mxn(2),
            "1.5 centavos round up"
        );
        let two_hundred = promotion(PromotionDiscount::AmountPerUnit(mxn(20_000)), &[]);
        assert_eq!(two_hundred.discount_on(mxn(50_000), 2), mxn(40_000));
        assert_eq!(two_hundred.discount_on(mxn(15_000), 1), mxn(15_000));
    }

    #[test]
    fn a_promotion_applies_to_its_items_on_its_days() {
        let limp = PriceCode::parse("LIMP-01").expect("valid");
        let cons = PriceCode::parse("CONS-01").expect("valid");
        let listed = promotion(PromotionDiscount::Percent(10), &["LIMP-01"]);
        assert_eq!(
            listed.refusal(&limp, PriceListItemKind::Service, day(22)),
            None
        );
        assert!(
            listed
                .refusal(&cons, PriceListItemKind::Service, day(22))
                .is_some()
        );
        assert!(
            listed
                .refusal(&limp, PriceListItemKind::Service, day(24))
                .is_some()
        );
        let everything = promotion(PromotionDiscount::Percent(10), &[]);
        assert_eq!(
            everything.refusal(&cons, PriceListItemKind::Product, day(13)),
            None
        );
        assert!(
            everything
                .refusal(&cons, PriceListItemKind::Package, day(13))
                .is_some(),
            "packages are priced as packages"
        );
    }

    #[test]
    fn ad_hoc_discounts_above_the_limit_need_a_manager() {
        let ten = AdHocDiscount::Percent {
            percent: 10,
            reason: "Paciente frecuente".into(),
        };
        let eleven = AdHocDiscount::Percent {
            percent: 11,
            reason: "Paciente frecuente".into(),
        };
        assert!(!ten.exceeds(10, mxn(80_000)));
        assert!(eleven.exceeds(10, mxn(80_000)));
        let eighty = AdHocDiscount::Amount {
            amount: mxn(8_000),
            reason: "Redondeo".into(),
        };
        let eighty_one = AdHocDiscount::Amount {
            amount: mxn(8_001),
            reason: "Redondeo".into(),
        };
        assert!(!eighty.exceeds(10, mxn(80_000)));
        assert!(eighty_one.exceeds(10, mxn(80_000)));
    }
}
