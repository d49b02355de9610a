//! Payment plans: what an account owes split into a down payment and instalments on a schedule,
//! and how the payments billing records afterwards pay it off.
//!
//! The schedule is fixed when the plan is made: the down payment (if any) is due on the day the
//! plan is made; the rest is split into equal instalments in minor units, the remainder on the
//! last one so the schedule sums exactly to the total. Monthly due days keep the first date's day
//! of the month, falling back to the month's last day (Jan 31 → Feb 28).
//!
//! Instalment status is derived, never stored: payments from the plan's creation on are applied
//! to the schedule first-in first-out (a late payment catches up the oldest unpaid instalment),
//! then each instalment is PAID when covered, DUE until its day has ended, and afterwards MISSED
//! (nothing towards it) or PARTLY_PAID.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{PatientId, RequestId};

use super::PaymentMade;

/// The most instalments a plan may have.
pub const MAX_INSTALMENTS: u32 = 24;
/// How far ahead the first instalment may fall.
pub const FIRST_DATE_HORIZON_DAYS: u64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Weekly,
    Biweekly,
    Monthly,
}

impl Frequency {
    pub fn as_str(&self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Biweekly => "biweekly",
            Frequency::Monthly => "monthly",
        }
    }

    /// Reads back what [`Frequency::as_str`] wrote.
    pub fn parse(text: &str) -> Option<Frequency> {
        match text {
            "weekly" => Some(Frequency::Weekly),
            "biweekly" => Some(Frequency::Biweekly),
            "monthly" => Some(Frequency::Monthly),
            _ => None,
        }
    }

    /// The due day of the instalment `index` (0 for the first).
    fn due_date(self, first: NaiveDate, index: u32) -> Option<NaiveDate> {
        match self {
            Frequency::Weekly => first.checked_add_days(Days::new(7 * u64::from(index))),
            Frequency::Biweekly => first.checked_add_days(Days::new(14 * u64::from(index))),
            Frequency::Monthly => first.checked_add_months(Months::new(index)),
        }
    }
}

/// One line of a schedule. Number 0 is the down payment; instalments count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledPayment {
    pub number: u32,
    pub due_date: NaiveDate,
    pub amount: Money,
}

/// A `CreatePaymentPlan` request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlan {
    pub patient_id: PatientId,
    pub total: Money,
    /// Zero when there is none.
    pub down_payment: Money,
    pub instalment_count: u32,
    pub frequency: Frequency,
    pub first_date: NaiveDate,
    /// What the clinic forgives once the plan is paid in full; zero for none.
    pub settlement_discount: Money,
    pub request_id: RequestId,
}

impl NewPlan {
    /// What a retry must repeat exactly to count as the same request.
    pub fn fingerprint(&self) -> String {
        clinic_common::ids::request_fingerprint(&[
            &self.patient_id.to_string(),
            &self.total.minor_units().to_string(),
            &self.down_payment.minor_units().to_string(),
            self.total.currency().code(),
            &self.instalment_count.to_string(),
            self.frequency.as_str(),
            &self.first_date.to_string(),
            &self.settlement_discount.minor_units().to_string(),
        ])
    }

    /// The schedule, for a plan made on `today`.
    pub fn schedule(&self, today: NaiveDate) -> Vec<ScheduledPayment> {
        build_schedule(
            self.total,
            self.down_payment,
            self.instalment_count,
            self.frequency,
            self.first_date,
            today,
        )
    }
}

/// The schedule of a plan (see the module documentation). Callers have checked that
/// `0 <= down_payment < total` and `1 <= count <= 24`.
pub fn build_schedule(
    total: Money,
    down_payment: Money,
    count: u32,
    frequency: Frequency,
    first_date: NaiveDate,
    today: NaiveDate,
) -> Vec<ScheduledPayment> {
    let currency = total.currency();
    let mut schedule = Vec::new();
    if down_payment.is_positive() {
        schedule.push(ScheduledPayment {
            number: 0,
            due_date: today,
            amount: down_payment,
        });
    }
    let rest = total.minor_units() - down_payment.minor_units();
    let count = count.max(1);
    let each = rest / i64::from(count);
    let remainder = rest - each * i64::from(count);
    for index in 0..count {
        let amount = if index + 1 == count {
            each + remainder
        } else {
            each
        };
        schedule.push(ScheduledPayment {
            number: index + 1,
            due_date: frequency
                .due_date(first_date, index)
                .unwrap_or(NaiveDate::MAX),
            amount: Money::from_minor(amount, currency),
        });
    }
    schedule
}

/// A payment plan as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentPlan {
    pub plan_id: String,
    pub patient_id: PatientId,
    pub total: Money,
    pub down_payment: Money,
    pub instalment_count: u32,
    pub frequency: Frequency,
    pub first_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub schedule: Vec<ScheduledPayment>,
    /// What the clinic forgives once the plan is paid in full; zero for none.
    pub settlement_discount: Money,
    /// The manager who granted the discount.
    pub discount_approved_by: Option<String>,
    /// The plan this one restructured.
    pub replaces: Option<String>,
    /// Set once a restructuring replaced this plan.
    pub replacement: Option<Replacement>,
    /// When billing wrote the settlement discount off.
    pub settled_at: Option<DateTime<Utc>>,
}

/// When, why and by which plan a plan was restructured away.
#[derive(Debug, Clone, PartialEq)]
pub struct Replacement {
    pub at: DateTime<Utc>,
    pub by_plan: String,
    pub reason: String,
}

/// How an active plan stands, for the worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanStanding {
    /// Lines whose day has ended short: missed or partly paid.
    pub missed_instalments: u32,
    /// Lines not yet paid in full.
    pub unpaid_lines: u32,
}

impl PlanStanding {
    pub fn of(lines: &[InstalmentView]) -> PlanStanding {
        let mut standing = PlanStanding::default();
        for line in lines {
            if matches!(
                line.status,
                InstalmentStatus::Missed | InstalmentStatus::PartlyPaid
            ) {
                standing.missed_instalments += 1;
            }
            if line.status != InstalmentStatus::Paid {
                standing.unpaid_lines += 1;
            }
        }
        standing
    }

    /// Every line paid in full.
    pub fn paid_off(&self) -> bool {
        self.unpaid_lines == 0
    }

    /// Running and nothing missed: the patient is paying as agreed, so nobody chases them.
    pub fn on_track(&self) -> bool {
        self.missed_instalments == 0 && self.unpaid_lines > 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstalmentStatus {
    Due,
    Paid,
    PartlyPaid,
    Missed,
}

/// A schedule line with what has been paid towards it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstalmentView {
    pub scheduled: ScheduledPayment,
    pub paid: Money,
    pub status: InstalmentStatus,
}

/// The plan's schedule on `today` (clinic-local), paid FIFO by the payments made from the plan's
/// creation up to `now` (up to its replacement, for a plan restructured away: its schedule is
/// then history, frozen as it stood).
pub fn plan_status(
    plan: &PaymentPlan,
    payments: &[PaymentMade],
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Vec<InstalmentView> {
    let until = plan
        .replacement
        .as_ref()
        .map_or(now, |replacement| replacement.at.min(now));
    let mut available: i64 = 0;
    for payment in payments {
        if payment.at >= plan.created_at && payment.at <= until && payment.at < plan_end(plan) {
            available = available.saturating_add(payment.amount.minor_units());
        }
    }
    let mut lines = Vec::with_capacity(plan.schedule.len());
    for scheduled in &plan.schedule {
        let due = scheduled.amount.minor_units();
        let paid = available.clamp(0, due);
        available -= paid;
        let status = if paid >= due {
            InstalmentStatus::Paid
        } else if today <= scheduled.due_date {
            InstalmentStatus::Due
        } else if paid > 0 {
            InstalmentStatus::PartlyPaid
        } else {
            InstalmentStatus::Missed
        };
        lines.push(InstalmentView {
            scheduled: *scheduled,
            paid: Money::from_minor(paid, scheduled.amount.currency()),
            status,
        });
    }
    lines
}

/// Why a first instalment day cannot be accepted on `today`, if it cannot.
pub fn check_first_date(first_date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if first_date < today {
        return Err("must not be in the past".to_owned());
    }
    let latest = today
        .checked_add_days(Days::new(FIRST_DATE_HORIZON_DAYS))
        .unwrap_or(today);
    if first_date > latest {
        return Err(format!(
            "must be at most {FIRST_DATE_HORIZON_DAYS} days ahead"
        ));
    }
    Ok(())
}

/// Payments at or after this instant no longer go to the plan.
fn plan_end(plan: &PaymentPlan) -> DateTime<Utc> {
    plan.replacement
        .as_ref()
        .map_or(DateTime::<Utc>::MAX_UTC, |replacement| replacement.at)
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn minor(units: i64) -> Money {
        Money::from_minor(units, Currency::MXN)
    }

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid day")
    }

    #[test]
    fn instalments_are_equal_with_the_remainder_on_the_last_and_sum_exactly() {
        let schedule = build_schedule(
            minor(100_000),
            minor(10_000),
            7,
            Frequency::Weekly,
            day(2026, 11, 30),
            day(2026, 11, 22),
        );

        let amounts: Vec<i64> = schedule
            .iter()
            .map(|line| line.amount.minor_units())
            .collect();
        assert_eq!(
            amounts,
            [
                10_000, 12_857, 12_857, 12_857, 12_857, 12_857, 12_857, 12_858
            ]
        );
        assert_eq!(amounts.iter().sum::<i64>(), 100_000);
        assert_eq!(schedule[0].number, 0);
        assert_eq!(schedule[0].due_date, day(2026, 11, 22));
        assert_eq!(schedule[1].due_date, day(2026, 11, 30));
        assert_eq!(schedule[2].due_date, day(2026, 12, 7));
    }

    #[test]
    fn monthly_due_days_fall_back_to_the_end_of_short_months_and_biweekly_steps_two_weeks() {
        let monthly = build_schedule(
            minor(3_000),
            minor(0),
            3,
            Frequency::Monthly,
            day(2027, 1, 31),
            day(2026, 11, 22),
        );
        let biweekly = build_schedule(
            minor(3_000),
            minor(0),
            2,
            Frequency::Biweekly,
            day(2026, 12, 1),
            day(2026, 11, 22),
        );

        let dates: Vec<NaiveDate> = monthly.iter().map(|line| line.due_date).collect();
        assert_eq!(
            dates,
            [day(2027, 1, 31), day(2027, 2, 28), day(2027, 3, 31)]
        );
        assert_eq!(monthly[0].number, 1);
        assert_eq!(biweekly[1].due_date, day(2026, 12, 15));
    }

    fn plan() -> PaymentPlan {
        let created = day(2026, 11, 22);
        PaymentPlan {
            plan_id: "plan-1".into(),
            patient_id: PatientId::new(),
            total: minor(30_000),
            down_payment: minor(0),
            instalment_count: 3,
            frequency: Frequency::Weekly,
            first_date: day(2026, 11, 23),
            created_at: "2026-11-22T18:00:00Z".parse().expect("valid"),
            created_by: "collections:ana".into(),
            schedule: build_schedule(
                minor(30_000),
                minor(0),
                3,
                Frequency::Weekly,
                day(2026, 11, 23),
                created,
            ),
            settlement_discount: minor(0),
            discount_approved_by: None,
            replaces: None,
            replacement: None,
            settled_at: None,
        }
    }

    #[test]
    fn a_replaced_plan_keeps_only_the_payments_made_before_its_replacement() {
        let mut replaced = plan();
        replaced.replacement = Some(Replacement {
            at: "2026-11-25T18:00:00Z".parse().expect("valid"),
            by_plan: "plan-2".into(),
            reason: "lost her job".into(),
        });
        let payments = [
            PaymentMade {
                at: "2026-11-23T18:00:00Z".parse().expect("valid"),
                amount: minor(10_000),
            },
            PaymentMade {
                at: "2026-11-26T18:00:00Z".parse().expect("valid"),
                amount: minor(10_000),
            },
        ];
        let now = "2026-12-20T18:00:00Z".parse().expect("valid");

        let lines = plan_status(&replaced, &payments, now, day(2026, 12, 20));
        let standing = PlanStanding::of(&lines);

        assert_eq!(lines[0].status, InstalmentStatus::Paid);
        assert_eq!(lines[1].status, InstalmentStatus::Missed);
        assert_eq!(standing.missed_instalments, 2);
        assert!(!standing.on_track());
    }

    #[test]
    fn payments_fill_the_oldest_instalment_first_and_ended_days_are_missed_or_partly_paid() {
        let payments = [
            PaymentMade {
                at: "2026-11-22T17:00:00Z".parse().expect("valid"),
                amount: minor(50_000),
            },
            PaymentMade {
                at: "2026-11-23T18:00:00Z".parse().expect("valid"),
                amount: minor(12_000),
            },
        ];
        let now = "2026-12-01T18:00:00Z".parse().expect("valid");

        let lines = plan_status(&plan(), &payments, now, day(2026, 12, 1));

        // The payment before the plan does not count; 120.00 pays line 1 and 20.00 of line 2
        // (due Nov 30, ended); line 3 is due Dec 7.
        let statuses: Vec<(InstalmentStatus, i64)> = lines
            .iter()
            .map(|line| (line.status, line.paid.minor_units()))
            .collect();
        assert_eq!(
            statuses,
            [
                (InstalmentStatus::Paid, 10_000),
                (InstalmentStatus::PartlyPaid, 2_000),
                (InstalmentStatus::Due, 0),
            ]
        );
    }

    #[test]
    fn an_instalment_is_due_through_its_day_and_missed_the_day_after() {
        let on_the_day = plan_status(
            &plan(),
            &[],
            "2026-11-24T05:00:00Z".parse().expect("valid"),
            day(2026, 11, 23),
        );
        let the_day_after = plan_status(
            &plan(),
            &[],
            "2026-11-24T07:00:00Z".parse().expect("valid"),
            day(2026, 11, 24),
        );

        assert_eq!(on_the_day[0].status, InstalmentStatus::Due);
        assert_eq!(the_day_after[0].status, InstalmentStatus::Missed);
    }

    #[test]
    fn the_first_date_is_today_to_ninety_days_ahead() {
        let today = day(2026, 11, 22);

        assert!(check_first_date(today, today).is_ok());
        assert!(check_first_date(day(2027, 2, 20), today).is_ok());
        assert!(check_first_date(day(2026, 11, 21), today).is_err());
        assert!(check_first_date(day(2027, 2, 21), today).is_err());
    }
}
