//! Charges: a price-list item, times a quantity, posted to a patient's account.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{AppointmentId, ChargeId, PatientId, RequestId, request_fingerprint};
use clinic_common::validation::FieldViolations;

use super::{BillingError, ItemDescription, PriceCode, PriceListItem};

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
}

impl NewCharge {
    /// A digest of the request as the client sent it. An omitted service date stays omitted, so
    /// a retry the next morning is still recognised as the same request.
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            &self.patient_id.to_string(),
            self.price_code.as_str(),
            &self.quantity.get().to_string(),
            &self
                .appointment_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            &self
                .service_date
                .map(|date| date.to_string())
                .unwrap_or_default(),
        ])
    }
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
    pub amount: Money,
    pub service_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Subject of the staff member or service that posted it.
    pub posted_by: String,
    pub request_id: RequestId,
}

impl Charge {
    /// Prices `new` from its price-list `item`: the amount is the unit price times the quantity,
    /// refused when it would not fit.
    pub fn price(
        new: &NewCharge,
        item: &PriceListItem,
        today: NaiveDate,
        posted_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Charge, BillingError> {
        let amount = item
            .unit_price
            .checked_mul(i64::from(new.quantity.get()))
            .map_err(|_| {
                FieldViolations::single("quantity", "makes the amount too large to record")
            })?;
        Ok(Charge {
            charge_id: ChargeId::new(),
            patient_id: new.patient_id,
            appointment_id: new.appointment_id,
            price_code: item.code.clone(),
            description: item.description.clone(),
            quantity: new.quantity,
            unit_price: item.unit_price,
            amount,
            service_date: new.service_date.unwrap_or(today),
            created_at: now,
            posted_by: posted_by.to_owned(),
            request_id: new.request_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::super::PriceListItemKind;
    use super::*;

    fn item(unit_minor: i64) -> PriceListItem {
        PriceListItem {
            code: PriceCode::parse("LIMP-01").expect("valid"),
            description: ItemDescription::parse("Limpieza dental").expect("valid"),
            unit_price: Money::from_minor(unit_minor, Currency::MXN),
            kind: PriceListItemKind::Service,
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
        let charge = Charge::price(
            &new_charge(3, None),
            &item(45_050),
            today(),
            "reception:ana",
            DateTime::UNIX_EPOCH,
        )
        .expect("priced");
        assert_eq!(charge.amount, Money::from_minor(135_150, Currency::MXN));
        assert_eq!(charge.service_date, today());
        assert_eq!(charge.description.as_str(), "Limpieza dental");
    }

    #[test]
    fn an_amount_that_would_overflow_is_refused_on_quantity() {
        let refused = Charge::price(
            &new_charge(999, None),
            &item(i64::MAX / 10),
            today(),
            "reception:ana",
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
    }
}
