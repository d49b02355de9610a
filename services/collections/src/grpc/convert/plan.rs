//! Payment plans: their terms, restructurings and schedules.

use chrono::NaiveDate;
use clinic_common::ids::{PatientId, RequestId};
use clinic_common::validation::{FieldViolations, required_text};
use clinic_common::{Currency, Money};
use clinic_proto::collections::v1 as pb;
use clinic_proto::{
    date_from_proto, date_to_proto, money_from_proto, money_to_proto, timestamp_to_proto,
};

use super::{REASON_MAX_CHARS, patient_id_from, positive_money};
use crate::app::PlanView;
use crate::domain::{
    CollectionsError, Frequency, InstalmentStatus, InstalmentView, MAX_INSTALMENTS, NewPlan,
    PaymentPlan, check_first_date,
};

fn frequency_from(value: i32) -> Result<Frequency, &'static str> {
    match pb::PaymentPlanFrequency::try_from(value) {
        Ok(pb::PaymentPlanFrequency::Weekly) => Ok(Frequency::Weekly),
        Ok(pb::PaymentPlanFrequency::Biweekly) => Ok(Frequency::Biweekly),
        Ok(pb::PaymentPlanFrequency::Monthly) => Ok(Frequency::Monthly),
        Ok(pb::PaymentPlanFrequency::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known frequency"),
    }
}

fn frequency_to(frequency: Frequency) -> pb::PaymentPlanFrequency {
    match frequency {
        Frequency::Weekly => pb::PaymentPlanFrequency::Weekly,
        Frequency::Biweekly => pb::PaymentPlanFrequency::Biweekly,
        Frequency::Monthly => pb::PaymentPlanFrequency::Monthly,
    }
}

/// A `CreatePaymentPlan` request, read; every bad field is named. `today` is the clinic-local
/// day the first date is checked against.
pub fn new_plan(
    request: &pb::CreatePaymentPlanRequest,
    currency: Currency,
    today: NaiveDate,
) -> Result<NewPlan, CollectionsError> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(plan) = &request.plan else {
        violations.add("plan", "is required");
        return Err(violations.into());
    };
    let patient_id = patient_id_from(&mut violations, "plan.patient_id", &plan.patient_id);
    plan_terms(
        &mut violations,
        plan,
        patient_id,
        request_id,
        currency,
        today,
    )
}

/// A `RestructurePaymentPlan` request, read: the plan replaced, the new terms (for the
/// replaced plan's account, filled in by the caller once the plan is found) and the reason.
pub fn restructuring(
    request: &pb::RestructurePaymentPlanRequest,
    currency: Currency,
    today: NaiveDate,
) -> Result<(String, NewPlan, String), CollectionsError> {
    let mut violations = FieldViolations::new();
    let plan_id = violations.check(
        "plan_id",
        uuid::Uuid::parse_str(&request.plan_id).map_err(|_| "is not a plan id"),
    );
    let reason = violations.check("reason", required_text(&request.reason, REASON_MAX_CHARS));
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(plan) = &request.plan else {
        violations.add("plan", "is required");
        return Err(violations.into());
    };
    // The account is the replaced plan's; a placeholder until the plan is read.
    let terms = plan_terms(
        &mut violations,
        plan,
        Some(PatientId::new()),
        request_id,
        currency,
        today,
    );
    match (plan_id, reason, terms) {
        (Some(plan_id), Some(reason), Ok(terms)) => Ok((plan_id.to_string(), terms, reason)),
        (_, _, Err(error)) => Err(error),
        _ => Err(violations.into()),
    }
}

/// The terms of a plan, read; every bad field is named (as `plan.<field>`).
fn plan_terms(
    violations: &mut FieldViolations,
    plan: &pb::PaymentPlan,
    patient_id: Option<PatientId>,
    request_id: Option<RequestId>,
    currency: Currency,
    today: NaiveDate,
) -> Result<NewPlan, CollectionsError> {
    let settlement_discount = optional_amount(
        violations,
        "plan.settlement_discount",
        plan.settlement_discount.as_ref(),
        currency,
    );
    let total = violations.check("plan.total", positive_money(plan.total.as_ref(), currency));
    let down_payment = optional_amount(
        violations,
        "plan.down_payment",
        plan.down_payment.as_ref(),
        currency,
    )
    .and_then(|down_payment| {
        if total.is_some_and(|total| down_payment.minor_units() >= total.minor_units()) {
            violations.add("plan.down_payment", "must be less than the total");
            None
        } else {
            Some(down_payment)
        }
    });
    let instalment_count = violations.check(
        "plan.instalment_count",
        instalment_count_from(plan.instalment_count),
    );
    let frequency = violations.check("plan.frequency", frequency_from(plan.frequency));
    let first_date = violations
        .check("plan.first_date", date_from_proto(plan.first_date.as_ref()))
        .and_then(|first_date| {
            violations.check(
                "plan.first_date",
                check_first_date(first_date, today).map(|()| first_date),
            )
        });
    match (
        request_id,
        patient_id,
        total,
        down_payment,
        instalment_count,
        frequency,
        first_date,
        settlement_discount,
    ) {
        (
            Some(request_id),
            Some(patient_id),
            Some(total),
            Some(down_payment),
            Some(instalment_count),
            Some(frequency),
            Some(first_date),
            Some(settlement_discount),
        ) if violations.is_empty() => Ok(NewPlan {
            patient_id,
            total,
            down_payment,
            instalment_count,
            frequency,
            first_date,
            settlement_discount,
            request_id,
        }),
        _ => Err(std::mem::take(violations).into()),
    }
}

fn instalment_count_from(count: i32) -> Result<u32, String> {
    match u32::try_from(count) {
        Ok(count) if (1..=MAX_INSTALMENTS).contains(&count) => Ok(count),
        _ => Err(format!("must be from 1 to {MAX_INSTALMENTS}")),
    }
}

/// An amount of a plan's terms that may be left unset (zero) but not negative; `None`, with
/// the violation recorded, when it is bad.
fn optional_amount(
    violations: &mut FieldViolations,
    field: &str,
    amount: Option<&clinic_proto::common::v1::Money>,
    currency: Currency,
) -> Option<Money> {
    let Some(amount) = amount else {
        return Some(Money::zero(currency));
    };
    let amount = violations.check(field, money_from_proto(Some(amount), currency))?;
    if amount.is_negative() {
        violations.add(field, "must not be negative");
        return None;
    }
    Some(amount)
}

/// A `GetPaymentPlan` request, read: the plan id or the account, exactly one.
pub fn plan_lookup(
    request: &pb::GetPaymentPlanRequest,
) -> Result<(Option<String>, Option<PatientId>), CollectionsError> {
    let mut violations = FieldViolations::new();
    match (request.plan_id.is_empty(), request.patient_id.is_empty()) {
        (false, true) => {
            let plan_id = violations.check(
                "plan_id",
                uuid::Uuid::parse_str(&request.plan_id).map_err(|_| "is not a plan id"),
            );
            match plan_id {
                Some(plan_id) => Ok((Some(plan_id.to_string()), None)),
                None => Err(violations.into()),
            }
        }
        (true, false) => {
            match patient_id_from(&mut violations, "patient_id", &request.patient_id) {
                Some(patient_id) => Ok((None, Some(patient_id))),
                None => Err(violations.into()),
            }
        }
        _ => {
            violations.add(
                "plan_id",
                "exactly one of plan_id and patient_id is required",
            );
            violations.add(
                "patient_id",
                "exactly one of plan_id and patient_id is required",
            );
            Err(violations.into())
        }
    }
}

fn instalment_status_to(status: InstalmentStatus) -> pb::InstalmentStatus {
    match status {
        InstalmentStatus::Due => pb::InstalmentStatus::Due,
        InstalmentStatus::Paid => pb::InstalmentStatus::Paid,
        InstalmentStatus::PartlyPaid => pb::InstalmentStatus::PartlyPaid,
        InstalmentStatus::Missed => pb::InstalmentStatus::Missed,
    }
}

pub fn plan_view_to_proto(view: &PlanView) -> pb::PaymentPlan {
    plan_to_proto(&view.plan, &view.lines)
}

fn plan_to_proto(plan: &PaymentPlan, lines: &[InstalmentView]) -> pb::PaymentPlan {
    pb::PaymentPlan {
        plan_id: plan.plan_id.clone(),
        patient_id: plan.patient_id.to_string(),
        total: Some(money_to_proto(plan.total)),
        down_payment: Some(money_to_proto(plan.down_payment)),
        instalment_count: i32::try_from(plan.instalment_count).unwrap_or(i32::MAX),
        frequency: frequency_to(plan.frequency) as i32,
        first_date: Some(date_to_proto(plan.first_date)),
        create_time: Some(timestamp_to_proto(plan.created_at)),
        created_by: plan.created_by.clone(),
        settlement_discount: Some(money_to_proto(plan.settlement_discount)),
        discount_approved_by: plan.discount_approved_by.clone().unwrap_or_default(),
        replace_time: plan
            .replacement
            .as_ref()
            .map(|replacement| timestamp_to_proto(replacement.at)),
        replace_reason: plan
            .replacement
            .as_ref()
            .map(|replacement| replacement.reason.clone())
            .unwrap_or_default(),
        replaced_by: plan
            .replacement
            .as_ref()
            .map(|replacement| replacement.by_plan.clone())
            .unwrap_or_default(),
        replaces: plan.replaces.clone().unwrap_or_default(),
        settle_time: plan.settled_at.map(timestamp_to_proto),
        schedule: lines
            .iter()
            .map(|line| pb::Instalment {
                number: i32::try_from(line.scheduled.number).unwrap_or(i32::MAX),
                due_date: Some(date_to_proto(line.scheduled.due_date)),
                amount: Some(money_to_proto(line.scheduled.amount)),
                amount_paid: Some(money_to_proto(line.paid)),
                status: instalment_status_to(line.status) as i32,
            })
            .collect(),
    }
}
