//! The collections desk's reports: billing-issue trends from the contact log, and the KPIs the
//! clinic's collections targets are measured by (recovery rate ≥ 95 %, current receivables
//! ≥ 90 %, overdue < 10 %, DSO < 30 days, promises kept, follow-ups on time 100 %).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money};

use super::{
    AgingBucket, BillingIssue, EntryKind, LedgerEntry, PromiseStatus, PromiseView, age_ledger,
};

/// The longest span trends are computed over, in days.
pub const TRENDS_MAX_DAYS: i64 = 366;

/// How days are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    /// Monday to Sunday.
    Week,
    Month,
}

impl Period {
    pub fn as_str(&self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The first day of the period `day` falls in.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => day,
            Period::Week => day
                .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
                .unwrap_or(day),
            Period::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The last day of the period `day` falls in.
    pub fn end(self, day: NaiveDate) -> NaiveDate {
        let start = self.start(day);
        let next = match self {
            Period::Day => start.checked_add_days(Days::new(1)),
            Period::Week => start.checked_add_days(Days::new(7)),
            Period::Month => start.checked_add_months(Months::new(1)),
        };
        next.and_then(|next| next.pred_opt()).unwrap_or(start)
    }
}

/// The issues a contact can be tagged with, in report order.
pub const ISSUES: [BillingIssue; 4] = [
    BillingIssue::WrongCharge,
    BillingIssue::Insurance,
    BillingIssue::Price,
    BillingIssue::ServiceComplaint,
];

/// One period's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuePeriod {
    pub start: NaiveDate,
    /// One per entry of [`ISSUES`].
    pub counts: [i64; 4],
    /// Every contact in the period.
    pub contacts: i64,
}

/// Contacts (each by its clinic-local day and issue) counted per issue and period, over
/// `from..=to`. Periods without contacts are listed too, so a chart has no holes.
pub fn issue_trends(
    contacts: &[(NaiveDate, BillingIssue)],
    from: NaiveDate,
    to: NaiveDate,
    period: Period,
) -> Vec<IssuePeriod> {
    let mut periods: BTreeMap<NaiveDate, IssuePeriod> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        let start = period.start(day).max(from);
        periods.entry(start).or_insert(IssuePeriod {
            start,
            counts: [0; 4],
            contacts: 0,
        });
        let Some(next) = period.end(day).succ_opt() else {
            break;
        };
        day = next;
    }
    for (day, issue) in contacts {
        if *day < from || *day > to {
            continue;
        }
        let start = period.start(*day).max(from);
        if let Some(counted) = periods.get_mut(&start) {
            counted.contacts += 1;
            if let Some(index) = ISSUES.iter().position(|known| known == issue) {
                counted.counts[index] += 1;
            }
        }
    }
    periods.into_values().collect()
}

/// A ratio in basis points, `None` when there is nothing to divide by.
pub fn basis_points(part: i64, whole: i64) -> Option<i64> {
    if whole <= 0 {
        return None;
    }
    let scaled = i128::from(part) * 10_000 / i128::from(whole);
    Some(i64::try_from(scaled).unwrap_or(i64::MAX))
}

/// A contact whose next step fell due, for the follow-up KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactMade {
    pub patient_id: PatientId,
    pub at: DateTime<Utc>,
    pub next_step_date: Option<NaiveDate>,
}

/// Everything the KPIs of one period are computed from.
pub struct KpiInputs<'a> {
    pub currency: Currency,
    pub payment_terms_days: u32,
    pub period_start: NaiveDate,
    /// The last day counted: the period's last day, or today if the period is still running.
    pub counted_until: NaiveDate,
    /// The instants bounding the period: its first instant and the end of `counted_until`.
    pub from_instant: DateTime<Utc>,
    pub until_instant: DateTime<Utc>,
    /// Billing's ledger up to `until_instant`, in ledger order.
    pub entries: &'a [LedgerEntry],
    /// Promises judged at `until_instant`, or now if that is still to come.
    pub promises: &'a [PromiseView],
    /// Contacts of the accounts that had a next step due in the period, with the instant the
    /// step's day ended (clinic-local).
    pub contacts: &'a [ContactMade],
    pub next_step_deadline: &'a dyn Fn(NaiveDate) -> DateTime<Utc>,
    /// (collector, amount) of each payment taken by phone in the period.
    pub phone_payments: &'a [(String, Money)],
}

/// The KPIs of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpis {
    pub collected: Money,
    pub collectible: Money,
    pub recovery_rate_bp: Option<i64>,
    pub receivables: Money,
    pub current_bp: Option<i64>,
    pub overdue_bp: Option<i64>,
    pub dso_centidays: Option<i64>,
    pub promises_kept_bp: Option<i64>,
    pub promises_judged: i64,
    pub follow_ups_on_time_bp: Option<i64>,
    pub follow_ups_due: i64,
    /// Collector, total and count, by collector.
    pub by_collector: Vec<(String, Money, i64)>,
}

/// Computes the KPIs (definitions in `collections.proto`, `CollectionsKpis`).
pub fn kpis(inputs: &KpiInputs<'_>) -> anyhow::Result<Kpis> {
    let currency = inputs.currency;
    let opening = opening_total(inputs)?;
    let (collected, charged) = collected_and_charged(inputs);
    let collectible = opening.saturating_add(charged);
    let position = receivables_position(inputs, charged)?;
    let (kept, judged) = promises_kept(inputs);
    let (on_time, due) = follow_ups_on_time(inputs);
    Ok(Kpis {
        collected: Money::from_minor(collected, currency),
        collectible: Money::from_minor(collectible, currency),
        recovery_rate_bp: basis_points(collected, collectible),
        receivables: Money::from_minor(position.receivables, currency),
        current_bp: position.current_bp,
        overdue_bp: position.current_bp.map(|current| 10_000 - current),
        dso_centidays: position.dso_centidays,
        promises_kept_bp: basis_points(kept, judged),
        promises_judged: judged,
        follow_ups_on_time_bp: basis_points(on_time, due),
        follow_ups_due: due,
        by_collector: by_collector(inputs.phone_payments, currency),
    })
}

/// What was open when the period began, in minor units: the ledger before its first instant,
/// aged at the end of the day before.
fn opening_total(inputs: &KpiInputs<'_>) -> anyhow::Result<i64> {
    let before_start: Vec<LedgerEntry> = inputs
        .entries
        .iter()
        .filter(|entry| entry.created_at < inputs.from_instant)
        .cloned()
        .collect();
    let day_before = inputs
        .period_start
        .pred_opt()
        .unwrap_or(inputs.period_start);
    open_total(
        &before_start,
        inputs.currency,
        day_before,
        inputs.payment_terms_days,
    )
}

/// What was collected and what was charged in the period, in minor units.
fn collected_and_charged(inputs: &KpiInputs<'_>) -> (i64, i64) {
    let mut collected: i64 = 0;
    let mut charged: i64 = 0;
    for entry in inputs.entries {
        if entry.created_at < inputs.from_instant || entry.created_at >= inputs.until_instant {
            continue;
        }
        let amount = entry.amount.minor_units();
        match entry.kind {
            EntryKind::Payment => collected = collected.saturating_sub(amount),
            // Money given back reduces what was collected.
            EntryKind::Refund => collected = collected.saturating_sub(amount),
            // Charges net of their corrections: what was really billed.
            EntryKind::Charge | EntryKind::Adjustment | EntryKind::CreditNote => {
                charged = charged.saturating_add(amount)
            }
            // Written off is what collections failed to collect: it stays collectible.
            EntryKind::WriteOff | EntryKind::Other => {}
        }
    }
    (collected, charged)
}

/// The receivables at the end of the last day counted.
struct Position {
    /// Minor units.
    receivables: i64,
    /// The share not yet due.
    current_bp: Option<i64>,
    dso_centidays: Option<i64>,
}

/// The receivables at the end of the last day counted, how much of them is current, and the
/// days of sales they stand for (`charged` in the period, in minor units, being the sales).
fn receivables_position(inputs: &KpiInputs<'_>, charged: i64) -> anyhow::Result<Position> {
    let aged = age_ledger(
        inputs.entries,
        inputs.currency,
        inputs.counted_until,
        inputs.payment_terms_days,
    )?;
    let mut receivables: i64 = 0;
    let mut current: i64 = 0;
    for account in &aged {
        receivables = receivables.saturating_add(account.balance.minor_units());
        current = current.saturating_add(account.buckets.get(AgingBucket::NotYetDue).minor_units());
    }
    let days = (inputs.counted_until - inputs.period_start).num_days() + 1;
    let dso_centidays = if charged > 0 {
        let scaled = i128::from(receivables) * i128::from(days) * 100 / i128::from(charged);
        Some(i64::try_from(scaled).unwrap_or(i64::MAX))
    } else {
        None
    };
    Ok(Position {
        receivables,
        current_bp: basis_points(current, receivables),
        dso_centidays,
    })
}

/// (kept, judged): of the promises due in the period and judged by now, how many were kept.
fn promises_kept(inputs: &KpiInputs<'_>) -> (i64, i64) {
    let mut kept = 0;
    let mut judged = 0;
    for view in inputs.promises {
        let day = view.promise.promised_date;
        if day < inputs.period_start || day > inputs.counted_until {
            continue;
        }
        match view.status {
            PromiseStatus::Kept => {
                kept += 1;
                judged += 1;
            }
            PromiseStatus::PartlyKept | PromiseStatus::Broken => judged += 1,
            PromiseStatus::Open | PromiseStatus::Superseded => {}
        }
    }
    (kept, judged)
}

/// (on time, due): of the next steps due in the period, how many were followed by another
/// contact with the account before their day ended.
fn follow_ups_on_time(inputs: &KpiInputs<'_>) -> (i64, i64) {
    let mut by_patient: HashMap<PatientId, Vec<DateTime<Utc>>> = HashMap::new();
    for contact in inputs.contacts {
        by_patient
            .entry(contact.patient_id)
            .or_default()
            .push(contact.at);
    }
    let mut due = 0;
    let mut on_time = 0;
    for contact in inputs.contacts {
        let Some(step_day) = contact.next_step_date else {
            continue;
        };
        if step_day < inputs.period_start || step_day > inputs.counted_until {
            continue;
        }
        due += 1;
        let deadline = (inputs.next_step_deadline)(step_day);
        let followed = by_patient
            .get(&contact.patient_id)
            .is_some_and(|made| made.iter().any(|at| *at > contact.at && *at < deadline));
        if followed {
            on_time += 1;
        }
    }
    (on_time, due)
}

/// Each collector's total and count of payments taken by phone, by collector.
fn by_collector(
    phone_payments: &[(String, Money)],
    currency: Currency,
) -> Vec<(String, Money, i64)> {
    let mut collectors: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (collector, amount) in phone_payments {
        let totals = collectors.entry(collector.as_str()).or_default();
        totals.0 = totals.0.saturating_add(amount.minor_units());
        totals.1 += 1;
    }
    collectors
        .into_iter()
        .map(|(collector, (minor, count))| {
            (
                collector.to_owned(),
                Money::from_minor(minor, currency),
                count,
            )
        })
        .collect()
}

/// What was open at the end of `as_of`, over every account.
fn open_total(
    entries: &[LedgerEntry],
    currency: Currency,
    as_of: NaiveDate,
    payment_terms_days: u32,
) -> anyhow::Result<i64> {
    let mut total: i64 = 0;
    for account in age_ledger(entries, currency, as_of, payment_terms_days)? {
        total = total.saturating_add(account.balance.minor_units());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, day).expect("valid")
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-11-22 is a Sunday.
        assert_eq!(Period::Week.start(day(11, 22)), day(11, 16));
        assert_eq!(Period::Week.end(day(11, 16)), day(11, 22));
        assert_eq!(Period::Month.start(day(11, 22)), day(11, 1));
        assert_eq!(Period::Month.end(day(2, 10)), day(2, 28));
        assert_eq!(Period::Day.end(day(11, 22)), day(11, 22));
    }

    #[test]
    fn trends_count_each_issue_per_period_with_empty_periods_listed() {
        let contacts = [
            (day(11, 2), BillingIssue::WrongCharge),
            (day(11, 3), BillingIssue::WrongCharge),
            (day(11, 3), BillingIssue::NoIssue),
            (day(11, 17), BillingIssue::Insurance),
            (day(12, 1), BillingIssue::Price),
        ];

        let weeks = issue_trends(&contacts, day(11, 4), day(11, 22), Period::Week);
        let months = issue_trends(&contacts, day(11, 1), day(11, 30), Period::Month);

        let starts: Vec<NaiveDate> = weeks.iter().map(|week| week.start).collect();
        assert_eq!(starts, [day(11, 4), day(11, 9), day(11, 16)]);
        assert_eq!(weeks[0].contacts, 0, "the 3rd is before the span");
        assert_eq!(weeks[2].counts, [0, 1, 0, 0]);
        assert_eq!(months.len(), 1);
        assert_eq!(months[0].counts, [2, 1, 0, 0]);
        assert_eq!(months[0].contacts, 4);
    }

    #[test]
    fn ratios_are_in_basis_points_and_undefined_over_nothing() {
        assert_eq!(basis_points(955, 1_000), Some(9_550));
        assert_eq!(basis_points(1, 3), Some(3_333));
        assert_eq!(basis_points(5, 0), None);
    }
}
