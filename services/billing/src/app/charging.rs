//! Charging: a charge priced from the price list (with the promotion it names, or an ad hoc
//! discount a manager authorises above the clinic's limit) and posted, at the counter or from a
//! visit scheduling reports as completed.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::{Caller, Role};
use clinic_common::validation::FieldViolations;

use super::Billing;
use crate::domain::{
    AdHocDiscount, BillingError, Charge, ChargeOrder, ChargeOrigin, DiscountRequest,
    NewAppointmentCharge, NewCharge, Operation, PriceListItem, PriceListItemKind, Promotion,
    PromotionCode, Quantity,
};

impl Billing {
    /// Posts a charge at the counter for `caller`, or returns the one a first call with its
    /// request id posted. `manager_token` is a manager's token given to authorise a discount.
    pub async fn post_charge(
        &self,
        caller: &Caller,
        new: NewCharge,
        manager_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Charge, BillingError> {
        let fingerprint = new.fingerprint();
        // A retry is answered from what the first call stored, even while the registry is down.
        if let Some(charge) = self
            .store
            .earlier_charge(Operation::PostCharge, &new.request_id, &fingerprint)
            .await?
        {
            return Ok(charge);
        }
        let item = self.listed_item_for_registered_patient(&new).await?;
        let order = self
            .charge_order(caller, new, item, manager_token, ChargeOrigin::Counter, now)
            .await?;
        let charge = self
            .store
            .post_charge(
                Operation::PostCharge,
                &order,
                &fingerprint,
                self.today(now),
                now,
            )
            .await?;
        tracing::info!(charge_id = %charge.charge_id, "charge posted");
        Ok(charge)
    }

    /// Charges the visit `asked` names, as scheduling reports it (its patient, provider, price
    /// code and day), or returns the charge a first call with its request id posted.
    pub async fn post_appointment_charge(
        &self,
        caller: &Caller,
        asked: NewAppointmentCharge,
        now: DateTime<Utc>,
    ) -> Result<Charge, BillingError> {
        if let Some(charge) = self
            .store
            .earlier_charge(
                Operation::PostAppointmentCharge,
                &asked.request_id,
                &asked.fingerprint,
            )
            .await?
        {
            return Ok(charge);
        }
        let visit = self
            .scheduling
            .visit(asked.appointment_id, self.settings.clinic.time_zone)
            .await?;
        let item = self
            .store
            .price_list_item(&visit.price_code)
            .await?
            .ok_or_else(|| {
                BillingError::AppointmentNotChargeable(format!(
                    "appointment {} is for {}, which is not on the price list",
                    asked.appointment_id, visit.price_code
                ))
            })?;
        let new = NewCharge {
            patient_id: visit.patient_id,
            price_code: visit.price_code,
            quantity: asked.quantity,
            appointment_id: Some(asked.appointment_id),
            service_date: Some(visit.service_date),
            request_id: asked.request_id,
            discount: asked.discount,
            skip_package: asked.skip_package,
        };
        let origin = ChargeOrigin::Appointment {
            provider_id: visit.provider_id,
            provider_name: visit.provider_name,
        };
        let manager_token = asked.manager_authorization.as_deref();
        let order = self
            .charge_order(caller, new, item, manager_token, origin, now)
            .await?;
        let charge = self
            .store
            .post_charge(
                Operation::PostAppointmentCharge,
                &order,
                &asked.fingerprint,
                self.today(now),
                now,
            )
            .await?;
        tracing::info!(charge_id = %charge.charge_id, "appointment charged");
        Ok(charge)
    }

    /// The price-list item `new` charges, once the registry says its patient exists. Both are
    /// looked up before either is reported, so a request wrong in both ways names both fields.
    async fn listed_item_for_registered_patient(
        &self,
        new: &NewCharge,
    ) -> Result<PriceListItem, BillingError> {
        let item = self.store.price_list_item(&new.price_code).await?;
        let registered = self.registry.is_registered(new.patient_id).await?;
        let mut violations = FieldViolations::new();
        violations.require(registered, "patient_id", "is not a registered patient");
        violations.require(item.is_some(), "price_code", "is not on the price list");
        match item {
            Some(item) if violations.is_empty() => Ok(item),
            _ => Err(violations.into()),
        }
    }

    /// Gathers what a charge is priced from: its promotion (which must apply to the item on the
    /// charge's day) and, for an ad hoc discount above the clinic's limit, the manager who
    /// authorised it: the caller, or the owner of the manager token given.
    async fn charge_order(
        &self,
        caller: &Caller,
        new: NewCharge,
        item: PriceListItem,
        manager_token: Option<&str>,
        origin: ChargeOrigin,
        now: DateTime<Utc>,
    ) -> Result<ChargeOrder, BillingError> {
        let mut violations = FieldViolations::new();
        if item.kind == PriceListItemKind::Package && new.quantity.get() != 1 {
            violations.add("quantity", "a package is sold one at a time");
        }
        let service_date = new.service_date.unwrap_or(self.today(now));
        let mut promotion = None;
        let mut authorized_by = None;
        match &new.discount {
            None => {}
            Some(DiscountRequest::Promotion(code)) => {
                promotion = self
                    .promotion_for(code, &item, service_date, &mut violations)
                    .await?;
            }
            Some(DiscountRequest::AdHoc(discount)) => {
                authorized_by = self.discount_authorizer(
                    caller,
                    discount,
                    &item,
                    new.quantity,
                    manager_token,
                    now,
                    &mut violations,
                )?;
            }
        }
        violations.into_result()?;
        Ok(ChargeOrder {
            new,
            item,
            promotion,
            authorized_by,
            origin,
            posted_by: caller.subject.clone(),
        })
    }

    /// The promotion `code` names, noting under `promotion_code` when there is none or it does
    /// not apply to `item` on `service_date`.
    async fn promotion_for(
        &self,
        code: &PromotionCode,
        item: &PriceListItem,
        service_date: NaiveDate,
        violations: &mut FieldViolations,
    ) -> Result<Option<Promotion>, BillingError> {
        let promotion = self.store.promotion(code).await?;
        match &promotion {
            None => violations.add("promotion_code", format!("{code} is not a promotion")),
            Some(promotion) => {
                if let Some(refusal) = promotion.refusal(&item.code, item.kind, service_date) {
                    violations.add("promotion_code", format!("{code} {refusal}"));
                }
            }
        }
        Ok(promotion)
    }

    /// Who authorises an ad hoc `discount` on `quantity` of `item`: nobody needs to while it is
    /// within the clinic's limit; above it, a manager calling, or the manager whose token was
    /// given (an invalid token is noted under `manager_authorization`). Without either, the
    /// discount is refused.
    #[allow(clippy::too_many_arguments)]
    fn discount_authorizer(
        &self,
        caller: &Caller,
        discount: &AdHocDiscount,
        item: &PriceListItem,
        quantity: Quantity,
        manager_token: Option<&str>,
        now: DateTime<Utc>,
        violations: &mut FieldViolations,
    ) -> Result<Option<String>, BillingError> {
        let limit_percent = self.settings.discount_limit_percent;
        let list = item
            .unit_price
            .checked_mul(i64::from(quantity.get()))
            .unwrap_or(item.unit_price);
        if !discount.exceeds(limit_percent, list) {
            return Ok(None);
        }
        if caller.role == Role::Manager {
            return Ok(Some(caller.subject.clone()));
        }
        let Some(token) = manager_token else {
            return Err(BillingError::DiscountNeedsManager { limit_percent });
        };
        match self.key.verify(token, now) {
            Ok(manager) if manager.role == Role::Manager => Ok(Some(manager.subject)),
            _ => {
                violations.add("manager_authorization", "is not a valid manager's token");
                Ok(None)
            }
        }
    }
}
