//! Charges: a price-list item, times a quantity, posted to a patient's account.
//!
//! What the patient owes for a charge (its net amount, and its ledger entry) is the list amount
//! (unit price x quantity), less the units a prepaid package of theirs covers, less any
//! discount on the rest: a promotion's or one given at the counter.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{AppointmentId, ChargeId, PatientId, RequestId, request_fingerprint};
use clinic_common::validation::FieldViolations;
use uuid::Uuid;

use super::{
    AdHocDiscount, BillingError, DiscountRequest, ItemDescription, PriceCode, PriceListItem,
    PriceListItemKind, Promotion, PromotionCode, percent_of,
};

/// How many units a charge is for: 1 to 999. Zero on the wire means the usual single unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u16);

impl Quantity {
    pub fn parse(quantity: i32) -> Result<Self, &'static str> {
        match quantity {
            0 => Ok(Quantity(1)),
            1..=999 => Ok(Quantity(quantity as u16)),
            ..0 => Err("must not be negative"),
            _ => Err("must be at most 999"),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// A package sold to a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackageId(Uuid);

impl PackageId {
    pub fn new() -> Self {
        PackageId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Uuid::parse_str(text.trim())
            .map(PackageId)
            .map_err(|_| "must be a package id (UUID)")
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a charge came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOrigin {
    /// Posted at the counter (or by another service) from the price list.
    Counter,
    /// From a completed appointment, asked of scheduling: who gave the service.
    Appointment {
        provider_id: String,
        provider_name: String,
    },
}

impl ChargeOrigin {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChargeOrigin::Counter => "counter",
            ChargeOrigin::Appointment { .. } => "appointment",
        }
    }
}

/// A request to post a charge.
#[derive(Debug, Clone)]
pub struct NewCharge {
    pub patient_id: PatientId,
    pub price_code: PriceCode,
    pub quantity: Quantity,
    pub appointment_id: Option<AppointmentId>,
    /// `None` means today in the clinic's zone, decided when the charge is posted.
    pub service_date: Option<NaiveDate>,
    pub request_id: RequestId,
    pub discount: Option<DiscountRequest>,
    /// Charge in full even when the patient holds a package for the item.
    pub skip_package: bool,
}

impl NewCharge {
    /// A digest of the request as the client sent it. An omitted service date stays omitted, so
    /// a retry the next morning is still recognised as the same request.
    pub fn fingerprint(&self) -> String {
        let mut parts = vec![
            self.patient_id.to_string(),
            self.price_code.as_str().to_owned(),
            self.quantity.get().to_string(),
            self.appointment_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            self.service_date
                .map(|date| date.to_string())
                .unwrap_or_default(),
        ];
        // Appended only when asked for, so charges posted before discounts keep their digest.
        match &self.discount {
            None => {}
            Some(DiscountRequest::Promotion(code)) => parts.push(format!("promotion:{code}")),
            Some(DiscountRequest::AdHoc(AdHocDiscount::Percent { percent, reason })) => {
                parts.push(format!("percent:{percent}:{reason}"));
            }
            Some(DiscountRequest::AdHoc(AdHocDiscount::Amount { amount, reason })) => {
                parts.push(format!("amount:{}:{reason}", amount.minor_units()));
            }
        }
        if self.skip_package {
            parts.push("skip_package".into());
        }
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        request_fingerprint(&parts)
    }
}

/// A request to charge a visit scheduling reports, before scheduling says what the visit was
/// (its patient, provider, price code and day).
#[derive(Debug, Clone)]
pub struct NewAppointmentCharge {
    pub appointment_id: AppointmentId,
    pub quantity: Quantity,
    pub discount: Option<DiscountRequest>,
    pub skip_package: bool,
    pub request_id: RequestId,
    /// A manager's token given to authorise a discount over the limit.
    pub manager_authorization: Option<String>,
    /// A digest of the request alone, as the client sent it: what scheduling says of the visit
    /// does not change which request a retry repeats.
    pub fingerprint: String,
}

/// A discount given on a charge.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedDiscount {
    pub amount: Money,
    pub kind: AppliedDiscountKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AppliedDiscountKind {
    Promotion(PromotionCode),
    AdHoc {
        /// Set for a percentage; an amount has none.
        percent: Option<u8>,
        reason: String,
        /// The manager who authorised a discount over the limit (or gave it).
        authorized_by: Option<String>,
    },
}

/// Units a package covered on a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageCover {
    pub package_id: PackageId,
    pub quantity: u16,
}

/// A charge on a patient's account.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub charge_id: ChargeId,
    pub patient_id: PatientId,
    pub appointment_id: Option<AppointmentId>,
    pub price_code: PriceCode,
    /// The item's description when the charge was posted.
    pub description: ItemDescription,
    pub quantity: Quantity,
    pub unit_price: Money,
    /// The list amount: unit price x quantity.
    pub amount: Money,
    pub cover: Option<PackageCover>,
    pub discount: Option<AppliedDiscount>,
    /// What the patient owes for it: the list amount less the cover and the discount.
    pub net: Money,
    pub service_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Subject of the staff member or service that posted it.
    pub posted_by: String,
    pub request_id: RequestId,
    pub origin: ChargeOrigin,
}

/// Everything a charge is priced from, gathered before its transaction: the request, the item,
/// the promotion it names, who authorised an ad hoc discount, and where it came from. The
/// package cover is found inside the transaction, where no other charge can use the same
/// session.
#[derive(Debug, Clone)]
pub struct ChargeOrder {
    pub new: NewCharge,
    pub item: PriceListItem,
    pub promotion: Option<Promotion>,
    /// The manager who gave or authorised an ad hoc discount, if one was needed.
    pub authorized_by: Option<String>,
    pub origin: ChargeOrigin,
    pub posted_by: String,
}

impl ChargeOrder {
    /// Whether the item could be covered by a package the patient holds.
    pub fn may_use_package(&self) -> bool {
        !self.new.skip_package && self.item.kind != PriceListItemKind::Package
    }

    /// Prices the charge, with `package` (a package of the patient's covering the item and its
    /// sessions left) if there is one: covered units cost nothing, the discount applies to the
    /// rest. Refused when the amount would not fit or an ad hoc amount exceeds what is left.
    pub fn price(
        &self,
        package: Option<(PackageId, i64)>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Charge, BillingError> {
        let new = &self.new;
        let item = &self.item;
        let currency = item.unit_price.currency();
        let quantity = i64::from(new.quantity.get());
        let amount = item.unit_price.checked_mul(quantity).map_err(|_| {
            FieldViolations::single("quantity", "makes the amount too large to record")
        })?;
        let cover = match package {
            Some((package_id, left)) if self.may_use_package() && left > 0 => Some(PackageCover {
                package_id,
                quantity: left.min(quantity) as u16,
            }),
            _ => None,
        };
        let covered_units = cover.map_or(0, |cover| i64::from(cover.quantity));
        let billable_units = quantity - covered_units;
        let billable = item.unit_price.minor_units() * billable_units;
        let discount = match &new.discount {
            None => None,
            Some(DiscountRequest::Promotion(_)) => {
                self.promotion.as_ref().map(|promotion| AppliedDiscount {
                    amount: promotion.discount_on(item.unit_price, billable_units),
                    kind: AppliedDiscountKind::Promotion(promotion.code.clone()),
                })
            }
            Some(DiscountRequest::AdHoc(ad_hoc)) => {
                let (minor, percent) = match ad_hoc {
                    AdHocDiscount::Percent { percent, .. } => {
                        (percent_of(billable, *percent), Some(*percent))
                    }
                    AdHocDiscount::Amount { amount, .. } => {
                        if amount.minor_units() > billable {
                            return Err(FieldViolations::single(
                                "discount.amount",
                                "is more than the charge costs",
                            )
                            .into());
                        }
                        (amount.minor_units(), None)
                    }
                };
                Some(AppliedDiscount {
                    amount: Money::from_minor(minor, currency),
                    kind: AppliedDiscountKind::AdHoc {
                        percent,
                        reason: ad_hoc.reason().to_owned(),
                        authorized_by: self.authorized_by.clone(),
                    },
                })
            }
        };
        let discounted = discount
            .as_ref()
            .map_or(0, |discount| discount.amount.minor_units());
        let net = Money::from_minor(billable - discounted, currency);
        Ok(Charge {
            charge_id: ChargeId::new(),
            patient_id: new.patient_id,
            appointment_id: new.appointment_id,
            price_code: item.code.clone(),
            description: item.description.clone(),
            quantity: new.quantity,
            unit_price: item.unit_price,
            amount,
            cover,
            discount,
            net,
            service_date: new.service_date.unwrap_or(today),
            created_at: now,
            posted_by: self.posted_by.clone(),
            request_id: new.request_id.clone(),
            origin: self.origin.clone(),
        })
    }
}

/// A package a patient bought, with the sessions used so far.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientPackage {
    pub package_id: PackageId,
    pub patient_id: PatientId,
    /// The charge that sold it.
    pub charge_id: ChargeId,
    pub package_code: PriceCode,
    pub covers: PriceCode,
    pub sessions: i64,
    pub used: i64,
    pub service_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::super::{ItemDescription, PackageTerms, PromotionDiscount};
    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    fn item(unit_minor: i64) -> PriceListItem {
        PriceListItem {
            code: PriceCode::parse("LIMP-01").expect("valid"),
            description: ItemDescription::parse("Limpieza dental").expect("valid"),
            unit_price: mxn(unit_minor),
            kind: PriceListItemKind::Service,
            package: None,
            sat: None,
            created_at: DateTime::UNIX_EPOCH,
        }
    }

    fn new_charge(quantity: i32, service_date: Option<NaiveDate>) -> NewCharge {
        NewCharge {
            patient_id: PatientId::new(),
            price_code: PriceCode::parse("LIMP-01").expect("valid"),
            quantity: Quantity::parse(quantity).expect("valid"),
            appointment_id: None,
            service_date,
            request_id: RequestId::parse("charge-1").expect("valid"),
            discount: None,
            skip_package: false,
        }
    }

    fn order(new: NewCharge, item: PriceListItem) -> ChargeOrder {
        ChargeOrder {
            new,
            item,
            promotion: None,
            authorized_by: None,
            origin: ChargeOrigin::Counter,
            posted_by: "reception:ana".into(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid")
    }

    #[test]
    fn quantity_zero_means_one_and_the_maximum_is_999() {
        assert_eq!(Quantity::parse(0).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::parse(999).map(Quantity::get), Ok(999));
        assert_eq!(Quantity::parse(1000), Err("must be at most 999"));
        assert_eq!(Quantity::parse(-1), Err("must not be negative"));
    }

    #[test]
    fn a_charge_costs_the_unit_price_times_the_quantity_on_today_by_default() {
        let charge = order(new_charge(3, None), item(45_050))
            .price(None, today(), DateTime::UNIX_EPOCH)
            .expect("priced");
        assert_eq!(charge.amount, mxn(135_150));
        assert_eq!(charge.net, mxn(135_150));
        assert_eq!(charge.service_date, today());
        assert_eq!(charge.description.as_str(), "Limpieza dental");
    }

    #[test]
    fn a_package_covers_what_sessions_it_has_left_and_the_discount_applies_to_the_rest() {
        let package_id = PackageId::new();
        let new = NewCharge {
            discount: Some(DiscountRequest::AdHoc(AdHocDiscount::Percent {
                percent: 10,
                reason: "Paciente frecuente".into(),
            })),
            ..new_charge(3, None)
        };
        let charge = order(new, item(80_000))
            .price(Some((package_id, 2)), today(), DateTime::UNIX_EPOCH)
            .expect("priced");
        assert_eq!(
            charge.cover,
            Some(PackageCover {
                package_id,
                quantity: 2
            })
        );
        assert_eq!(charge.amount, mxn(240_000));
        assert_eq!(charge.discount.as_ref().map(|d| d.amount), Some(mxn(8_000)));
        assert_eq!(charge.net, mxn(72_000));
    }

    #[test]
    fn a_package_is_not_used_when_asked_not_to_and_never_covers_a_package() {
        let skipped = NewCharge {
            skip_package: true,
            ..new_charge(1, None)
        };
        let charge = order(skipped, item(80_000))
            .price(Some((PackageId::new(), 5)), today(), DateTime::UNIX_EPOCH)
            .expect("priced");
        assert_eq!(charge.cover, None);
        assert_eq!(charge.net, mxn(80_000));
        let mut package = item(300_000);
        package.kind = PriceListItemKind::Package;
        package.package = Some(PackageTerms {
            sessions: 4,
            covers: PriceCode::parse("LIMP-01").expect("valid"),
        });
        let sold = order(new_charge(1, None), package)
            .price(Some((PackageId::new(), 5)), today(), DateTime::UNIX_EPOCH)
            .expect("priced");
        assert_eq!(sold.cover, None);
    }

    #[test]
    fn a_promotion_prices_each_unit_and_an_amount_may_not_exceed_the_charge() {
        let mut with_promotion = order(
            NewCharge {
                discount: Some(DiscountRequest::Promotion(
                    PriceCode::parse("BUEN-FIN").expect("valid"),
                )),
                ..new_charge(2, None)
            },
            item(50_000),
        );
        with_promotion.promotion = Some(Promotion {
            code: PriceCode::parse("BUEN-FIN").expect("valid"),
            description: ItemDescription::parse("El Buen Fin").expect("valid"),
            discount: PromotionDiscount::AmountPerUnit(mxn(10_000)),
            price_codes: Vec::new(),
            valid_from: today(),
            valid_to: today(),
            created_by: "manager:luis".into(),
            created_at: DateTime::UNIX_EPOCH,
        });
        let charge = with_promotion
            .price(None, today(), DateTime::UNIX_EPOCH)
            .expect("priced");
        assert_eq!(charge.net, mxn(80_000));
        let too_much = order(
            NewCharge {
                discount: Some(DiscountRequest::AdHoc(AdHocDiscount::Amount {
                    amount: mxn(50_001),
                    reason: "Cortesía".into(),
                })),
                ..new_charge(1, None)
            },
            item(50_000),
        )
        .price(None, today(), DateTime::UNIX_EPOCH);
        assert!(
            matches!(&too_much, Err(BillingError::Invalid(violations)) if violations.to_string().starts_with("discount.amount")),
            "{too_much:?}"
        );
    }

    #[test]
    fn an_amount_that_would_overflow_is_refused_on_quantity() {
        let refused = order(new_charge(999, None), item(i64::MAX / 10)).price(
            None,
            today(),
            DateTime::UNIX_EPOCH,
        );
        let Err(BillingError::Invalid(violations)) = refused else {
            panic!("expected a field violation, got {refused:?}");
        };
        assert_eq!(
            violations.to_string(),
            "quantity: makes the amount too large to record"
        );
    }

    #[test]
    fn a_defaulted_service_date_fingerprints_apart_from_an_explicit_one() {
        let implicit = new_charge(1, None);
        let explicit = NewCharge {
            service_date: Some(today()),
            ..implicit.clone()
        };
        assert_eq!(implicit.fingerprint(), implicit.clone().fingerprint());
        assert_ne!(implicit.fingerprint(), explicit.fingerprint());
        let zero = NewCharge {
            quantity: Quantity::parse(0).expect("valid"),
            ..implicit.clone()
        };
        assert_eq!(
            zero.fingerprint(),
            implicit.fingerprint(),
            "0 and 1 are one unit"
        );
        let skipping = NewCharge {
            skip_package: true,
            ..implicit.clone()
        };
        assert_ne!(skipping.fingerprint(), implicit.fingerprint());
    }
}
