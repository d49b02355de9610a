//! Finding time: the free slots of a given length in a provider's working hours over a range of
//! clinic-local days, minus exceptions and the provider's appointments, narrowed by what the
//! patient prefers (only after 18:00, only Saturdays).
//!
//! Candidate starts are every [`SLOT_STEP`] (15 minutes), on the quarter hours of the clock
//! (:00, :15, :30, :45). Every time zone's offset from UTC is a whole number of quarter hours, so
//! the quarter hours of UTC and of the clinic's clock are the same instants.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use clinic_common::ids::ProviderId;

use super::hours::local_instant;
use super::{AppointmentTypeId, WeeklyHours};

/// How far apart candidate starts are.
pub const SLOT_STEP: TimeDelta = TimeDelta::minutes(15);

/// The most days one search may cover: a month ahead is what the desk offers on the phone, and it
/// bounds the work of one call.
pub const MAX_SEARCH_DAYS: i64 = 31;

/// What the patient can do, in clinic-local time. Empty fields do not narrow the search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotPreferences {
    /// Start at or after this wall time (minutes after midnight).
    pub earliest_start_minute: Option<u16>,
    /// End at or before this wall time (minutes after midnight; 1440 is midnight at day's end) of
    /// the day the slot starts.
    pub latest_end_minute: Option<u16>,
    /// Only on these weekdays; empty means any.
    pub weekdays: Vec<Weekday>,
}

/// What `FindFreeSlots` asks for: slots of an appointment type's length on the local days
/// `first..=last`, of one provider or of anyone, one page of them.
#[derive(Debug, Clone)]
pub struct SlotQuery {
    pub appointment_type_id: AppointmentTypeId,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub provider_id: Option<ProviderId>,
    pub preferences: SlotPreferences,
    pub size: u32,
    pub offset: u64,
}

/// A search for free time: the local days `first..=last`, slots `length` long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSearch {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub length: TimeDelta,
    pub preferences: SlotPreferences,
}

impl SlotSearch {
    /// The instants any slot of the search, or anything that could get in its way, can touch:
    /// from the first day's start to the last day's end plus one slot (a slot starting late on
    /// the last day ends after it).
    pub fn reach(&self, time_zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let (start, _) = clinic_common::time::day_span(self.first, time_zone);
        let (_, end) = clinic_common::time::day_span(self.last, time_zone);
        (start, end + self.length)
    }
}

/// The starts of the free slots for one provider, earliest first: inside one stretch of
/// `hours`, overlapping nothing in `blocked` (exceptions and active appointments, in any order),
/// not before `now`, on the search's days and within the patient's preferences. A provider
/// without hours has no free slots: there is no time of theirs to offer.
pub fn free_slots(
    hours: &WeeklyHours,
    blocked: &[(DateTime<Utc>, DateTime<Utc>)],
    search: &SlotSearch,
    now: DateTime<Utc>,
    time_zone: Tz,
) -> Vec<DateTime<Utc>> {
    let mut starts = Vec::new();
    if search.length <= TimeDelta::zero() {
        return starts;
    }
    // From the day before: an interval ending at 24:00 joins the next day's first stretch.
    let from = search.first.pred_opt().unwrap_or(search.first);
    for (window_start, window_end) in hours.windows(from, search.last, time_zone) {
        let mut start = round_up_to_step(window_start.max(now));
        while start + search.length <= window_end {
            if fits(start, blocked, search, time_zone) {
                starts.push(start);
            }
            start += SLOT_STEP;
        }
    }
    starts
}

/// Whether a slot starting at `start` is on the search's days, within the preferences, and
/// clear of everything blocked.
fn fits(
    start: DateTime<Utc>,
    blocked: &[(DateTime<Utc>, DateTime<Utc>)],
    search: &SlotSearch,
    time_zone: Tz,
) -> bool {
    let end = start + search.length;
    let day = start.with_timezone(&time_zone).date_naive();
    if day < search.first || day > search.last {
        return false;
    }
    let preferences = &search.preferences;
    if !preferences.weekdays.is_empty() && !preferences.weekdays.contains(&day.weekday()) {
        return false;
    }
    if let Some(minute) = preferences.earliest_start_minute
        && start < local_instant(day, minute, time_zone)
    {
        return false;
    }
    if let Some(minute) = preferences.latest_end_minute
        && end > local_instant(day, minute, time_zone)
    {
        return false;
    }
    !blocked
        .iter()
        .any(|(blocked_start, blocked_end)| *blocked_start < end && start < *blocked_end)
}

/// The first quarter hour at or after `instant`.
fn round_up_to_step(instant: DateTime<Utc>) -> DateTime<Utc> {
    let step = SLOT_STEP.num_seconds();
    let seconds = instant.timestamp();
    let past = seconds.rem_euclid(step);
    let whole = if past == 0 && instant.timestamp_subsec_nanos() == 0 {
        seconds
    } else {
        seconds - past + step
    };
    DateTime::from_timestamp(whole, 0).unwrap_or(instant)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::{AppointmentSlot, WorkingInterval, check_availability};

    const MEXICO: Tz = chrono_tz::America::Mexico_City;

    fn at(text: &str) -> DateTime<Utc> {
        let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("valid");
        MEXICO
            .from_local_datetime(&local)
            .single()
            .expect("exists")
            .with_timezone(&Utc)
    }

    fn day(number: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, number).expect("a November day")
    }

    /// Tuesdays 09:00–10:00 and 16:00–17:00; Saturdays 10:00–11:00.
    fn hours() -> WeeklyHours {
        WeeklyHours::new(vec![
            WorkingInterval::new(Weekday::Tue, 540, 600).expect("valid"),
            WorkingInterval::new(Weekday::Tue, 960, 1020).expect("valid"),
            WorkingInterval::new(Weekday::Sat, 600, 660).expect("valid"),
        ])
        .expect("valid week")
    }

    fn search(first: u32, last: u32, minutes: i64) -> SlotSearch {
        SlotSearch {
            first: day(first),
            last: day(last),
            length: TimeDelta::minutes(minutes),
            preferences: SlotPreferences::default(),
        }
    }

    fn local_times(starts: &[DateTime<Utc>]) -> Vec<String> {
        starts
            .iter()
            .map(|start| start.with_timezone(&MEXICO).format("%d %H:%M").to_string())
            .collect()
    }

    const SUNDAY_MORNING: &str = "2026-11-22 08:00";

    #[test]
    fn candidates_are_every_quarter_hour_that_fits_the_length() {
        let starts = free_slots(
            &hours(),
            &[],
            &search(24, 24, 30),
            at(SUNDAY_MORNING),
            MEXICO,
        );

        assert_eq!(
            local_times(&starts),
            [
                "24 09:00", "24 09:15", "24 09:30", "24 16:00", "24 16:15", "24 16:30"
            ]
        );
    }

    #[test]
    fn blocked_time_is_skipped_and_touching_it_is_fine() {
        let blocked = [(at("2026-11-24 09:15"), at("2026-11-24 09:45"))];

        let starts = free_slots(
            &hours(),
            &blocked,
            &search(24, 24, 15),
            at(SUNDAY_MORNING),
            MEXICO,
        );

        assert_eq!(
            local_times(&starts[..2]),
            ["24 09:00", "24 09:45"],
            "09:00-09:15 touches the block, 09:45 starts as it ends"
        );
    }

    #[test]
    fn nothing_is_offered_in_the_past() {
        let now = at("2026-11-24 09:20");

        let starts = free_slots(&hours(), &[], &search(24, 24, 30), now, MEXICO);

        assert_eq!(local_times(&starts)[0], "24 09:30");
    }

    #[test]
    fn preferences_narrow_the_days_and_times() {
        let mut after_four = search(22, 30, 30);
        after_four.preferences.earliest_start_minute = Some(16 * 60);
        let mut saturdays = search(22, 30, 30);
        saturdays.preferences.weekdays = vec![Weekday::Sat];
        let mut ending_by_half_past_nine = search(24, 24, 30);
        ending_by_half_past_nine.preferences.latest_end_minute = Some(9 * 60 + 30);

        let now = at(SUNDAY_MORNING);
        let after_four = free_slots(&hours(), &[], &after_four, now, MEXICO);
        let saturdays = free_slots(&hours(), &[], &saturdays, now, MEXICO);
        let early = free_slots(&hours(), &[], &ending_by_half_past_nine, now, MEXICO);

        assert_eq!(
            local_times(&after_four),
            ["24 16:00", "24 16:15", "24 16:30"]
        );
        assert_eq!(
            local_times(&saturdays),
            ["28 10:00", "28 10:15", "28 10:30"]
        );
        assert_eq!(local_times(&early), ["24 09:00"]);
    }

    #[test]
    fn only_the_searched_days_are_offered() {
        let starts = free_slots(
            &hours(),
            &[],
            &search(25, 27, 30),
            at(SUNDAY_MORNING),
            MEXICO,
        );

        assert!(starts.is_empty());
    }

    #[test]
    fn a_provider_without_hours_has_no_free_slots() {
        let starts = free_slots(
            &WeeklyHours::default(),
            &[],
            &search(22, 30, 30),
            at(SUNDAY_MORNING),
            MEXICO,
        );

        assert!(starts.is_empty());
    }

    #[test]
    fn starts_off_the_quarter_hour_round_up_to_it() {
        let off = WeeklyHours::new(vec![
            WorkingInterval::new(Weekday::Tue, 550, 600).expect("valid"),
        ])
        .expect("valid week");

        let starts = free_slots(&off, &[], &search(24, 24, 15), at(SUNDAY_MORNING), MEXICO);

        // Work starts at 09:10: the first quarter hour in it is 09:15.
        assert_eq!(local_times(&starts), ["24 09:15", "24 09:30", "24 09:45"]);
    }

    #[test]
    fn every_free_slot_is_one_a_booking_would_accept() {
        let search = search(22, 30, 30);
        let starts = free_slots(&hours(), &[], &search, at(SUNDAY_MORNING), MEXICO);

        for start in starts {
            let slot = AppointmentSlot::new(start, start + search.length).expect("valid slot");
            assert_eq!(check_availability(&slot, &hours(), &[], MEXICO), Ok(()));
        }
    }
}
