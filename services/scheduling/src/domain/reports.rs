//! The front desk's appointment figures for a day, week or month in clinic-local time: how many
//! were scheduled, confirmed, attended, missed and cancelled (late or early), and how long
//! patients waited to be called.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;

/// The stretch of clinic-local days a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPeriod {
    Day,
    /// Monday to Sunday.
    Week,
    /// The calendar month.
    Month,
}

/// The days a report covers, both included, and the instants they span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSpan {
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// `[start, end)`: from the first day's local midnight to the one after the last day.
    pub instants: (DateTime<Utc>, DateTime<Utc>),
}

impl ReportSpan {
    /// The `period` holding `day`, in `time_zone`.
    pub fn new(period: ReportPeriod, day: NaiveDate, time_zone: Tz) -> Self {
        let (first, last) = match period {
            ReportPeriod::Day => (day, day),
            ReportPeriod::Week => {
                let back = i64::from(day.weekday().num_days_from_monday());
                let first = day - chrono::TimeDelta::days(back);
                (first, first + chrono::TimeDelta::days(6))
            }
            ReportPeriod::Month => {
                let first = day.with_day(1).unwrap_or(day);
                let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
                (first, next.pred_opt().unwrap_or(first))
            }
        };
        let (start, _) = clinic_common::time::day_span(first, time_zone);
        let (_, end) = clinic_common::time::day_span(last, time_zone);
        ReportSpan {
            first,
            last,
            instants: (start, end),
        }
    }
}

/// What the store counts for a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleCounts {
    /// Appointments starting in the period, rescheduled ones left out (their replacements count).
    pub scheduled: i64,
    /// Of those, the ones confirmed at some point.
    pub confirmed: i64,
    /// Arrived, seated, completed or checked out.
    pub attended: i64,
    pub no_shows: i64,
    pub late_cancellations: i64,
    pub early_cancellations: i64,
    /// For each patient seated from the queue: seconds from check-in to first being called (or
    /// seated, when never called).
    pub waits: Vec<i64>,
}

/// The report's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleReport {
    pub span: ReportSpan,
    pub counts: ScheduleCounts,
    pub confirmed_basis_points: i64,
    pub attendance_basis_points: i64,
    pub no_show_basis_points: i64,
    pub average_wait_seconds: i64,
}

impl ScheduleReport {
    pub fn new(span: ReportSpan, counts: ScheduleCounts) -> Self {
        let came_or_not = counts.attended + counts.no_shows;
        let waited: i64 = counts.waits.iter().sum();
        let seated = i64::try_from(counts.waits.len()).unwrap_or(i64::MAX);
        ScheduleReport {
            span,
            confirmed_basis_points: basis_points(counts.confirmed, counts.scheduled),
            attendance_basis_points: basis_points(counts.attended, came_or_not),
            no_show_basis_points: basis_points(counts.no_shows, came_or_not),
            average_wait_seconds: rounded_ratio(waited, seated),
            counts,
        }
    }
}

/// `part / whole` in basis points (1 % = 100), rounded half up; 0 when `whole` is 0.
pub fn basis_points(part: i64, whole: i64) -> i64 {
    rounded_ratio(part.saturating_mul(10_000), whole)
}

/// `numerator / denominator` rounded half up (both non-negative); 0 when `denominator` is 0.
fn rounded_ratio(numerator: i64, denominator: i64) -> i64 {
    if denominator <= 0 {
        return 0;
    }
    (numerator.saturating_add(denominator / 2)) / denominator
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEXICO: Tz = chrono_tz::America::Mexico_City;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a date")
    }

    #[test]
    fn weeks_run_monday_to_sunday_and_months_to_their_last_day() {
        // Sunday 22 November 2026.
        let week = ReportSpan::new(ReportPeriod::Week, day(2026, 11, 22), MEXICO);
        assert_eq!(
            (week.first, week.last),
            (day(2026, 11, 16), day(2026, 11, 22))
        );
        let month = ReportSpan::new(ReportPeriod::Month, day(2028, 2, 10), MEXICO);
        assert_eq!(
            (month.first, month.last),
            (day(2028, 2, 1), day(2028, 2, 29))
        );
        let one = ReportSpan::new(ReportPeriod::Day, day(2026, 11, 22), MEXICO);
        assert_eq!(
            one.instants,
            (
                "2026-11-22T06:00:00Z".parse().expect("valid"),
                "2026-11-23T06:00:00Z".parse().expect("valid")
            )
        );
    }

    #[test]
    fn shares_round_half_up_and_nothing_counts_as_zero() {
        assert_eq!(basis_points(1, 3), 3333);
        assert_eq!(basis_points(2, 3), 6667);
        assert_eq!(basis_points(0, 0), 0);
        let report = ScheduleReport::new(
            ReportSpan::new(ReportPeriod::Day, day(2026, 11, 22), MEXICO),
            ScheduleCounts {
                scheduled: 4,
                confirmed: 3,
                attended: 2,
                no_shows: 1,
                waits: vec![60, 121],
                ..Default::default()
            },
        );
        assert_eq!(report.confirmed_basis_points, 7500);
        assert_eq!(report.attendance_basis_points, 6667);
        assert_eq!(report.no_show_basis_points, 3333);
        assert_eq!(report.average_wait_seconds, 91);
    }
}
