//! Clinic-local calendar helpers. Instants are UTC everywhere; "today", a day's appointments and
//! daily reports are in the clinic's IANA time zone, and these functions are the bridge.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The clinic-local calendar day that `instant` falls on.
pub fn local_date(instant: DateTime<Utc>, time_zone: Tz) -> NaiveDate {
    instant.with_timezone(&time_zone).date_naive()
}

/// The first instant of `day` in `time_zone`. Where a daylight-saving change skips local
/// midnight, the day starts at the first local time that exists.
pub fn start_of_day(day: NaiveDate, time_zone: Tz) -> DateTime<Utc> {
    let mut local = day.and_time(NaiveTime::MIN);
    // Gaps are at most a few hours; step forward a quarter hour at a time until we are past it.
    for _ in 0..16 {
        match time_zone.from_local_datetime(&local) {
            LocalResult::Single(start) | LocalResult::Ambiguous(start, _) => {
                return start.with_timezone(&Utc);
            }
            LocalResult::None => local += chrono::TimeDelta::minutes(15),
        }
    }
    // No zone in the tz database skips four hours; fall back to the UTC reading of the date.
    day.and_time(NaiveTime::MIN).and_utc()
}

/// The half-open span `[start, end)` of instants that make up `day` in `time_zone`.
pub fn day_span(day: NaiveDate, time_zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = day.succ_opt().unwrap_or(day);
    (start_of_day(day, time_zone), start_of_day(next, time_zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mexico_city_day_runs_from_six_utc_to_six_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date");
        let (start, end) = day_span(day, chrono_tz::America::Mexico_City);
        assert_eq!(start.to_rfc3339(), "2026-11-22T06:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-23T06:00:00+00:00");
    }

    #[test]
    fn late_evening_utc_is_still_the_same_local_day_in_mexico() {
        let instant = "2026-11-23T05:30:00Z".parse().expect("valid instant");
        assert_eq!(
            local_date(instant, chrono_tz::America::Mexico_City),
            NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date")
        );
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_the_first_valid_time() {
        // Santiago moves clocks from 00:00 to 01:00 on 2026-09-06.
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).expect("valid date");
        let start = start_of_day(day, chrono_tz::America::Santiago);
        assert_eq!(
            start
                .with_timezone(&chrono_tz::America::Santiago)
                .date_naive(),
            day
        );
        assert!(start < start_of_day(day.succ_opt().expect("valid"), chrono_tz::America::Santiago));
    }
}
