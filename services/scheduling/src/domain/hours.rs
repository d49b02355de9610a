//! Providers' weekly working hours and the exceptions to them (holidays, blocks, breaks), and the
//! rule a booking must keep: inside the provider's hours, outside every exception that covers the
//! provider or the whole clinic.
//!
//! Hours are clinic-local wall times ("09:00–14:00 on Tuesdays"), turned into UTC instants per
//! calendar day with the clinic's time zone, so a daylight-saving change moves them correctly.

use std::fmt;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use clinic_common::ids::{ProviderId, RequestId, request_fingerprint};

use super::{AppointmentSlot, Note};

/// A schedule exception. Scheduling's own id (the shared id list is for ids that cross services).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScheduleExceptionId(uuid::Uuid);

impl ScheduleExceptionId {
    /// A new id; version 7 UUIDs sort by creation time, like the shared ids.
    pub fn new() -> Self {
        ScheduleExceptionId(uuid::Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        uuid::Uuid::try_parse(text)
            .map(ScheduleExceptionId)
            .map_err(|_| "must be a schedule exception id (UUID)")
    }
}

impl fmt::Display for ScheduleExceptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Parsed from its stored form (an idempotency key's resource id).
impl std::str::FromStr for ScheduleExceptionId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The longest exception: a year. Longer absences are better handled by changing the hours.
pub const MAX_EXCEPTION_LENGTH: TimeDelta = TimeDelta::days(366);

/// The stretch an exception covers, `[start, end)`: on whole minutes, at most a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionSpan {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl ExceptionSpan {
    /// `Err` names what is wrong: `(start problem, end problem)`.
    pub fn new(
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Self, (Option<&'static str>, Option<&'static str>)> {
        let whole_minute = |instant: DateTime<Utc>| {
            instant.timestamp() % 60 == 0 && instant.timestamp_subsec_nanos() == 0
        };
        let start_problem = (!whole_minute(start)).then_some("must be on a whole minute");
        let end_problem = if !whole_minute(end) {
            Some("must be on a whole minute")
        } else if end <= start {
            Some("must be after start_time")
        } else if end - start > MAX_EXCEPTION_LENGTH {
            Some("must be at most 366 days after start_time")
        } else {
            None
        };
        if start_problem.is_some() || end_problem.is_some() {
            return Err((start_problem, end_problem));
        }
        Ok(ExceptionSpan { start, end })
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
}

/// Minutes in a day: an interval may end at 24:00 (given as minute 1440).
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// At most this many intervals in one provider's week: plenty for split shifts, and a bound on
/// what a request can make us store.
pub const MAX_WEEKLY_INTERVALS: usize = 50;

/// One stretch of a weekday a provider works, in clinic-local minutes since midnight, `[start,
/// end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingInterval {
    weekday: Weekday,
    start_minute: u16,
    end_minute: u16,
}

impl WorkingInterval {
    /// `Err` names what is wrong: `(start problem, end problem)`.
    pub fn new(
        weekday: Weekday,
        start_minute: u16,
        end_minute: u16,
    ) -> Result<Self, (Option<&'static str>, Option<&'static str>)> {
        let start_problem = (start_minute >= MINUTES_PER_DAY).then_some("must be before 24:00");
        let end_problem = if end_minute > MINUTES_PER_DAY {
            Some("must be at most 24:00")
        } else if end_minute <= start_minute {
            Some("must be after the start time")
        } else {
            None
        };
        if start_problem.is_some() || end_problem.is_some() {
            return Err((start_problem, end_problem));
        }
        Ok(WorkingInterval {
            weekday,
            start_minute,
            end_minute,
        })
    }

    pub fn weekday(&self) -> Weekday {
        self.weekday
    }

    pub fn start_minute(&self) -> u16 {
        self.start_minute
    }

    pub fn end_minute(&self) -> u16 {
        self.end_minute
    }

    /// The instants this interval covers on `day` (which must be its weekday) in `time_zone`.
    fn on(&self, day: NaiveDate, time_zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            local_instant(day, self.start_minute, time_zone),
            local_instant(day, self.end_minute, time_zone),
        )
    }
}

/// The instant of `minute` past local midnight on `day`. A wall time a daylight-saving change
/// skips is read as the first one that exists after it; one it repeats, as the earlier.
pub(super) fn local_instant(day: NaiveDate, minute: u16, time_zone: Tz) -> DateTime<Utc> {
    let mut local = day.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute));
    // Gaps are at most a few hours; step forward a quarter hour at a time until past it.
    for _ in 0..16 {
        match time_zone.from_local_datetime(&local) {
            LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => {
                return instant.with_timezone(&Utc);
            }
            LocalResult::None => local += TimeDelta::minutes(15),
        }
    }
    local.and_utc()
}

/// A provider's whole working week: intervals sorted by day and start, none overlapping another
/// on the same day (touching is fine: 09:00–14:00 and 14:00–18:00 are one stretch). Empty means
/// the provider has no hours defined, and is bookable at any time, as before hours existed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours(Vec<WorkingInterval>);

impl WeeklyHours {
    /// Sorts the intervals; `Err` gives the index (in the order given) of each interval that
    /// overlaps an earlier one of the same day, or says there are too many.
    pub fn new(intervals: Vec<WorkingInterval>) -> Result<Self, WeeklyHoursProblem> {
        if intervals.len() > MAX_WEEKLY_INTERVALS {
            return Err(WeeklyHoursProblem::TooMany);
        }
        let mut overlapping = Vec::new();
        for (index, interval) in intervals.iter().enumerate() {
            let clashes = intervals[..index].iter().any(|earlier| {
                earlier.weekday == interval.weekday
                    && earlier.start_minute < interval.end_minute
                    && interval.start_minute < earlier.end_minute
            });
            if clashes {
                overlapping.push(index);
            }
        }
        if !overlapping.is_empty() {
            return Err(WeeklyHoursProblem::Overlapping(overlapping));
        }
        let mut sorted = intervals;
        sorted
            .sort_by_key(|interval| (interval.weekday.number_from_monday(), interval.start_minute));
        Ok(WeeklyHours(sorted))
    }

    pub fn intervals(&self) -> &[WorkingInterval] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The instants worked between local days `first` and `last` (inclusive), as half-open
    /// spans sorted by start, with touching or overlapping spans joined into one.
    pub fn windows(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        time_zone: Tz,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut spans = Vec::new();
        for day in first.iter_days().take_while(|day| *day <= last) {
            for interval in &self.0 {
                if interval.weekday == day.weekday() {
                    let (start, end) = interval.on(day, time_zone);
                    if start < end {
                        spans.push((start, end));
                    }
                }
            }
        }
        spans.sort();
        let mut joined: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match joined.last_mut() {
                Some(last_span) if start <= last_span.1 => last_span.1 = last_span.1.max(end),
                _ => joined.push((start, end)),
            }
        }
        joined
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeeklyHoursProblem {
    TooMany,
    /// Indexes of the intervals that overlap an earlier one on the same day.
    Overlapping(Vec<usize>),
}

/// Why a provider is not available: a clinic holiday, a blocked stretch (meetings, training,
/// equipment maintenance) or a break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionKind {
    Holiday,
    Block,
    Break,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 3] = [
        ExceptionKind::Holiday,
        ExceptionKind::Block,
        ExceptionKind::Break,
    ];

    /// The stored form.
    pub fn as_str(&self) -> &'static str {
        match self {
            ExceptionKind::Holiday => "holiday",
            ExceptionKind::Block => "block",
            ExceptionKind::Break => "break",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A request to add an exception to the schedule.
#[derive(Debug, Clone)]
pub struct NewScheduleException {
    /// `None`: the whole clinic.
    pub provider_id: Option<ProviderId>,
    pub span: ExceptionSpan,
    pub kind: ExceptionKind,
    pub note: Option<Note>,
    pub request_id: RequestId,
}

impl NewScheduleException {
    /// A digest of the request, to recognise a retry.
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            &self
                .provider_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            &self.span.start().to_rfc3339(),
            &self.span.end().to_rfc3339(),
            self.kind.as_str(),
            self.note.as_ref().map(Note::as_str).unwrap_or_default(),
        ])
    }
}

/// A stretch of time when a provider, or the whole clinic, is not bookable.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleException {
    pub schedule_exception_id: ScheduleExceptionId,
    /// `None`: the whole clinic.
    pub provider_id: Option<ProviderId>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: ExceptionKind,
    pub note: Option<Note>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// Why a time cannot be booked with a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The time is not inside the provider's working hours on that (clinic-local) weekday.
    OutsideHours { weekday: Weekday },
    /// The time overlaps an exception.
    Exception {
        kind: ExceptionKind,
        clinic_wide: bool,
    },
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::OutsideHours { weekday } => {
                write!(f, "working hours on {}", weekday_name(*weekday))
            }
            Unavailable::Exception { kind, clinic_wide } => {
                let whose = if *clinic_wide { "clinic" } else { "provider" };
                write!(f, "{whose} {}", kind.as_str())
            }
        }
    }
}

/// The weekday numbered `number` from Monday (1) to Sunday (7), as ISO 8601 and the stored
/// form number them.
pub fn weekday_from_number(number: u32) -> Option<Weekday> {
    let mut weekday = Weekday::Mon;
    for _ in 1..number {
        weekday = weekday.succ();
    }
    (1..=7).contains(&number).then_some(weekday)
}

/// The English name of a weekday, for messages.
pub fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Whether `slot` can be booked with a provider whose week is `hours`, given the `exceptions`
/// that cover the provider or the clinic. A provider without hours is bookable at any time, and
/// exceptions then do not apply either: until a clinic sets hours, booking works as it always
/// did. Otherwise the slot must lie wholly inside one stretch of work (joined across touching
/// intervals) and overlap no exception; exceptions are checked first, as the likelier reason
/// ("clinic holiday" says more than "outside hours" on a holiday).
pub fn check_availability(
    slot: &AppointmentSlot,
    hours: &WeeklyHours,
    exceptions: &[ScheduleException],
    time_zone: Tz,
) -> Result<(), Unavailable> {
    if hours.is_empty() {
        return Ok(());
    }
    for exception in exceptions {
        if exception.start < slot.end() && slot.start() < exception.end {
            return Err(Unavailable::Exception {
                kind: exception.kind,
                clinic_wide: exception.provider_id.is_none(),
            });
        }
    }
    let first = slot.start().with_timezone(&time_zone).date_naive();
    let last = slot.end().with_timezone(&time_zone).date_naive();
    // From the day before: an interval ending at 24:00 reaches into the next day's first instant.
    let from = first.pred_opt().unwrap_or(first);
    let inside = hours
        .windows(from, last, time_zone)
        .iter()
        .any(|(start, end)| *start <= slot.start() && slot.end() <= *end);
    if inside {
        Ok(())
    } else {
        Err(Unavailable::OutsideHours {
            weekday: first.weekday(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEXICO: Tz = chrono_tz::America::Mexico_City;

    fn hhmm(text: &str) -> u16 {
        let time = NaiveTime::parse_from_str(text, "%H:%M").expect("a HH:MM time");
        u16::try_from(time.signed_duration_since(NaiveTime::MIN).num_minutes()).expect("fits")
    }

    fn interval(weekday: Weekday, start: &str, end: &str) -> WorkingInterval {
        let end_minute = if end == "24:00" {
            MINUTES_PER_DAY
        } else {
            hhmm(end)
        };
        WorkingInterval::new(weekday, hhmm(start), end_minute).expect("valid interval")
    }

    fn at(zone: Tz, text: &str) -> DateTime<Utc> {
        let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("valid");
        zone.from_local_datetime(&local)
            .earliest()
            .expect("exists")
            .with_timezone(&Utc)
    }

    fn slot(zone: Tz, start: &str, end: &str) -> AppointmentSlot {
        AppointmentSlot::new(at(zone, start), at(zone, end)).expect("valid slot")
    }

    fn exception(provider: bool, kind: ExceptionKind, start: &str, end: &str) -> ScheduleException {
        ScheduleException {
            schedule_exception_id: ScheduleExceptionId::new(),
            provider_id: provider.then(ProviderId::new),
            start: at(MEXICO, start),
            end: at(MEXICO, end),
            kind,
            note: None,
            created_at: at(MEXICO, "2026-11-01 08:00"),
            created_by: "manager:tester".into(),
        }
    }

    /// Tuesdays 09:00–14:00 and 16:00–20:00.
    fn split_tuesdays() -> WeeklyHours {
        WeeklyHours::new(vec![
            interval(Weekday::Tue, "16:00", "20:00"),
            interval(Weekday::Tue, "09:00", "14:00"),
        ])
        .expect("valid week")
    }

    #[test]
    fn weekdays_are_numbered_from_monday() {
        assert_eq!(weekday_from_number(1), Some(Weekday::Mon));
        assert_eq!(weekday_from_number(7), Some(Weekday::Sun));
        assert_eq!(weekday_from_number(0), None);
        assert_eq!(weekday_from_number(8), None);
        for number in 1..=7 {
            let weekday = weekday_from_number(number).expect("a weekday");
            assert_eq!(weekday.number_from_monday(), number);
        }
    }

    #[test]
    fn intervals_end_after_they_start_and_within_the_day() {
        assert!(WorkingInterval::new(Weekday::Mon, 600, 600).is_err());
        assert!(WorkingInterval::new(Weekday::Mon, 600, 540).is_err());
        assert!(WorkingInterval::new(Weekday::Mon, 1440, 1441).is_err());
        assert!(WorkingInterval::new(Weekday::Mon, 1200, MINUTES_PER_DAY).is_ok());
    }

    #[test]
    fn overlapping_intervals_on_one_day_are_refused_but_touching_ones_are_not() {
        let overlapping = WeeklyHours::new(vec![
            interval(Weekday::Mon, "09:00", "14:00"),
            interval(Weekday::Tue, "09:00", "14:00"),
            interval(Weekday::Mon, "13:00", "15:00"),
        ]);
        let touching = WeeklyHours::new(vec![
            interval(Weekday::Mon, "09:00", "14:00"),
            interval(Weekday::Mon, "14:00", "18:00"),
        ]);

        assert_eq!(overlapping, Err(WeeklyHoursProblem::Overlapping(vec![2])));
        assert!(touching.is_ok());
    }

    #[test]
    fn a_provider_without_hours_is_bookable_at_any_time_even_on_a_holiday() {
        let holiday = exception(
            false,
            ExceptionKind::Holiday,
            "2026-11-24 00:00",
            "2026-11-25 00:00",
        );
        let night = slot(MEXICO, "2026-11-24 03:00", "2026-11-24 04:00");

        assert_eq!(
            check_availability(&night, &WeeklyHours::default(), &[holiday], MEXICO),
            Ok(())
        );
    }

    #[test]
    fn a_booking_must_lie_inside_one_stretch_of_the_day() {
        let hours = split_tuesdays();
        let check = |start: &str, end: &str| {
            check_availability(&slot(MEXICO, start, end), &hours, &[], MEXICO)
        };

        assert_eq!(check("2026-11-24 09:00", "2026-11-24 14:00"), Ok(()));
        assert_eq!(check("2026-11-24 19:30", "2026-11-24 20:00"), Ok(()));
        let outside = Err(Unavailable::OutsideHours {
            weekday: Weekday::Tue,
        });
        assert_eq!(check("2026-11-24 13:30", "2026-11-24 16:30"), outside);
        assert_eq!(check("2026-11-24 08:45", "2026-11-24 09:15"), outside);
        assert_eq!(
            check("2026-11-25 09:00", "2026-11-25 10:00"),
            Err(Unavailable::OutsideHours {
                weekday: Weekday::Wed
            })
        );
    }

    #[test]
    fn touching_intervals_make_one_stretch() {
        let hours = WeeklyHours::new(vec![
            interval(Weekday::Tue, "09:00", "14:00"),
            interval(Weekday::Tue, "14:00", "18:00"),
        ])
        .expect("valid week");

        let across = slot(MEXICO, "2026-11-24 13:00", "2026-11-24 15:00");

        assert_eq!(check_availability(&across, &hours, &[], MEXICO), Ok(()));
    }

    #[test]
    fn hours_ending_at_midnight_join_the_next_day_starting_at_midnight() {
        let hours = WeeklyHours::new(vec![
            interval(Weekday::Mon, "20:00", "24:00"),
            interval(Weekday::Tue, "00:00", "02:00"),
        ])
        .expect("valid week");

        let overnight = slot(MEXICO, "2026-11-23 23:00", "2026-11-24 01:00");

        assert_eq!(check_availability(&overnight, &hours, &[], MEXICO), Ok(()));
    }

    #[test]
    fn an_exception_that_clips_either_end_of_a_booking_refuses_it() {
        let hours = split_tuesdays();
        let lunch = exception(
            true,
            ExceptionKind::Break,
            "2026-11-24 11:00",
            "2026-11-24 11:30",
        );
        let check = |start: &str, end: &str| {
            check_availability(
                &slot(MEXICO, start, end),
                &hours,
                std::slice::from_ref(&lunch),
                MEXICO,
            )
        };
        let on_break = Err(Unavailable::Exception {
            kind: ExceptionKind::Break,
            clinic_wide: false,
        });

        assert_eq!(check("2026-11-24 10:45", "2026-11-24 11:15"), on_break);
        assert_eq!(check("2026-11-24 11:15", "2026-11-24 12:00"), on_break);
        assert_eq!(check("2026-11-24 10:00", "2026-11-24 12:00"), on_break);
        // Touching the break on either side is fine.
        assert_eq!(check("2026-11-24 10:30", "2026-11-24 11:00"), Ok(()));
        assert_eq!(check("2026-11-24 11:30", "2026-11-24 12:00"), Ok(()));
    }

    #[test]
    fn a_clinic_holiday_says_so() {
        let hours = split_tuesdays();
        let holiday = exception(
            false,
            ExceptionKind::Holiday,
            "2026-11-24 00:00",
            "2026-11-25 00:00",
        );

        let refused = check_availability(
            &slot(MEXICO, "2026-11-24 10:00", "2026-11-24 10:30"),
            &hours,
            &[holiday],
            MEXICO,
        )
        .expect_err("a holiday");

        assert_eq!(refused.to_string(), "clinic holiday");
    }

    #[test]
    fn hours_follow_the_wall_clock_across_a_daylight_saving_change() {
        // New York springs forward on Sunday 2026-03-08 at 02:00 (to 03:00), and falls back on
        // Sunday 2026-11-01 at 02:00 (to 01:00).
        let zone = chrono_tz::America::New_York;
        let hours =
            WeeklyHours::new(vec![interval(Weekday::Sun, "09:00", "17:00")]).expect("valid week");
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).expect("valid date");
        let winter = NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid date");

        let spring_windows = hours.windows(spring, spring, zone);
        let winter_windows = hours.windows(winter, winter, zone);

        // 09:00 EDT is 13:00 UTC; 09:00 EST, a week earlier, 14:00 UTC.
        assert_eq!(
            spring_windows[0].0.to_rfc3339(),
            "2026-03-08T13:00:00+00:00"
        );
        assert_eq!(
            winter_windows[0].0.to_rfc3339(),
            "2026-03-01T14:00:00+00:00"
        );
        assert_eq!(
            check_availability(
                &slot(zone, "2026-03-08 09:00", "2026-03-08 17:00"),
                &hours,
                &[],
                zone
            ),
            Ok(())
        );
    }

    #[test]
    fn hours_through_a_skipped_hour_are_an_hour_shorter() {
        let zone = chrono_tz::America::New_York;
        let hours =
            WeeklyHours::new(vec![interval(Weekday::Sun, "01:00", "04:00")]).expect("valid week");
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).expect("valid date");

        let windows = hours.windows(spring, spring, zone);

        assert_eq!(windows.len(), 1);
        assert_eq!(windows[0].1 - windows[0].0, TimeDelta::hours(2));
    }
}
