//! Working hours and schedule exceptions, and the days and times of day they are made of.

use chrono::{DateTime, TimeDelta, Utc, Weekday};
use clinic_common::ids::{ProviderId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{timestamp_from_proto, timestamp_to_proto};

use super::{optional, page, provider_id};
use crate::domain::{
    ExceptionKind, ExceptionSpan, MAX_WEEKLY_INTERVALS, NewScheduleException, Note,
    ScheduleException, ScheduleExceptionId, WeeklyHours, WeeklyHoursProblem, WorkingInterval,
    weekday_from_number,
};

/// The longest range `ListScheduleExceptions` reads at once.
const MAX_EXCEPTION_RANGE: TimeDelta = TimeDelta::days(366);

pub fn day_of_week(day: i32) -> Result<Weekday, &'static str> {
    match pb::DayOfWeek::try_from(day) {
        Ok(pb::DayOfWeek::Unspecified) => Err("is required"),
        Ok(known) => u32::try_from(i32::from(known))
            .ok()
            .and_then(weekday_from_number)
            .ok_or("is not a known day of the week"),
        Err(_) => Err("is not a known day of the week"),
    }
}

pub fn day_of_week_to_proto(weekday: Weekday) -> pb::DayOfWeek {
    match weekday {
        Weekday::Mon => pb::DayOfWeek::Monday,
        Weekday::Tue => pb::DayOfWeek::Tuesday,
        Weekday::Wed => pb::DayOfWeek::Wednesday,
        Weekday::Thu => pb::DayOfWeek::Thursday,
        Weekday::Fri => pb::DayOfWeek::Friday,
        Weekday::Sat => pb::DayOfWeek::Saturday,
        Weekday::Sun => pb::DayOfWeek::Sunday,
    }
}

/// Minutes past local midnight of a wall time; 24:00 is read as 1440 (only an end may be that).
pub fn minute_of_day(time: Option<&pb::TimeOfDay>) -> Result<u16, &'static str> {
    let time = time.ok_or("is required")?;
    let in_range = (0..=24).contains(&time.hours)
        && (0..60).contains(&time.minutes)
        && !(time.hours == 24 && time.minutes != 0);
    if !in_range {
        return Err("must be a time of day from 00:00 to 24:00");
    }
    u16::try_from(time.hours * 60 + time.minutes).map_err(|_| "must be a time of day")
}

pub fn time_of_day_to_proto(minute: u16) -> pb::TimeOfDay {
    pb::TimeOfDay {
        hours: i32::from(minute / 60),
        minutes: i32::from(minute % 60),
    }
}

pub fn working_hours(
    request: &pb::SetWorkingHoursRequest,
) -> Result<(ProviderId, WeeklyHours), FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(hours) = &request.working_hours else {
        violations.add("working_hours", "is required");
        return Err(violations);
    };
    let provider_id =
        violations.check("working_hours.provider_id", provider_id(&hours.provider_id));
    if hours.intervals.len() > MAX_WEEKLY_INTERVALS {
        violations.add(
            "working_hours.intervals",
            format!("must list at most {MAX_WEEKLY_INTERVALS} intervals"),
        );
        return Err(violations);
    }
    let week = weekly_hours(&hours.intervals, "working_hours.intervals", &mut violations);
    match (provider_id, week) {
        (Some(provider_id), Some(week)) if violations.is_empty() => Ok((provider_id, week)),
        _ => Err(violations),
    }
}

/// A working week from its intervals, each bad one reported under `field[index]`.
pub fn weekly_hours(
    given: &[pb::WorkingInterval],
    field: &str,
    violations: &mut FieldViolations,
) -> Option<WeeklyHours> {
    let mut intervals = Vec::with_capacity(given.len());
    for (index, interval) in given.iter().enumerate() {
        let field = |name: &str| format!("{field}[{index}].{name}");
        let weekday = violations.check(&field("day_of_week"), day_of_week(interval.day_of_week));
        let start = violations.check(
            &field("start_time"),
            minute_of_day(interval.start_time.as_ref()),
        );
        let end = violations.check(
            &field("end_time"),
            minute_of_day(interval.end_time.as_ref()),
        );
        if let (Some(weekday), Some(start), Some(end)) = (weekday, start, end) {
            match WorkingInterval::new(weekday, start, end) {
                Ok(interval) => intervals.push(interval),
                Err((start_problem, end_problem)) => {
                    if let Some(problem) = start_problem {
                        violations.add(field("start_time"), problem);
                    }
                    if let Some(problem) = end_problem {
                        violations.add(field("end_time"), problem);
                    }
                }
            }
        }
    }
    if !violations.is_empty() {
        return None;
    }
    match WeeklyHours::new(intervals) {
        Ok(week) => Some(week),
        Err(WeeklyHoursProblem::Overlapping(indexes)) => {
            for index in indexes {
                violations.add(
                    format!("{field}[{index}]"),
                    "overlaps another interval of the same day",
                );
            }
            None
        }
        Err(WeeklyHoursProblem::TooMany) => {
            violations.add(
                field,
                format!("must list at most {MAX_WEEKLY_INTERVALS} intervals"),
            );
            None
        }
    }
}

/// A week's intervals as protobuf.
pub fn intervals_to_proto(hours: &WeeklyHours) -> Vec<pb::WorkingInterval> {
    hours
        .intervals()
        .iter()
        .map(|interval| pb::WorkingInterval {
            day_of_week: day_of_week_to_proto(interval.weekday()).into(),
            start_time: Some(time_of_day_to_proto(interval.start_minute())),
            end_time: Some(time_of_day_to_proto(interval.end_minute())),
        })
        .collect()
}

pub fn working_hours_to_proto(provider_id: ProviderId, hours: &WeeklyHours) -> pb::WorkingHours {
    pb::WorkingHours {
        provider_id: provider_id.to_string(),
        intervals: hours
            .intervals()
            .iter()
            .map(|interval| pb::WorkingInterval {
                day_of_week: day_of_week_to_proto(interval.weekday()).into(),
                start_time: Some(time_of_day_to_proto(interval.start_minute())),
                end_time: Some(time_of_day_to_proto(interval.end_minute())),
            })
            .collect(),
    }
}

pub fn exception_kind(kind: i32) -> Result<ExceptionKind, &'static str> {
    match pb::ScheduleExceptionKind::try_from(kind) {
        Ok(pb::ScheduleExceptionKind::Holiday) => Ok(ExceptionKind::Holiday),
        Ok(pb::ScheduleExceptionKind::Block) => Ok(ExceptionKind::Block),
        Ok(pb::ScheduleExceptionKind::Break) => Ok(ExceptionKind::Break),
        Ok(pb::ScheduleExceptionKind::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known schedule exception kind"),
    }
}

pub fn exception_kind_to_proto(kind: ExceptionKind) -> pb::ScheduleExceptionKind {
    match kind {
        ExceptionKind::Holiday => pb::ScheduleExceptionKind::Holiday,
        ExceptionKind::Block => pb::ScheduleExceptionKind::Block,
        ExceptionKind::Break => pb::ScheduleExceptionKind::Break,
    }
}

pub fn new_schedule_exception(
    request: &pb::AddScheduleExceptionRequest,
) -> Result<NewScheduleException, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(exception) = &request.schedule_exception else {
        violations.add("schedule_exception", "is required");
        return Err(violations);
    };
    let provider_id = violations.check(
        "schedule_exception.provider_id",
        optional(&exception.provider_id, provider_id),
    );
    let start = violations.check(
        "schedule_exception.start_time",
        timestamp_from_proto(exception.start_time.as_ref()),
    );
    let end = violations.check(
        "schedule_exception.end_time",
        timestamp_from_proto(exception.end_time.as_ref()),
    );
    let kind = violations.check("schedule_exception.kind", exception_kind(exception.kind));
    let note = violations.check(
        "schedule_exception.note",
        Note::parse_optional(&exception.note),
    );
    let span = match (start, end) {
        (Some(start), Some(end)) => match ExceptionSpan::new(start, end) {
            Ok(span) => Some(span),
            Err((start_problem, end_problem)) => {
                if let Some(problem) = start_problem {
                    violations.add("schedule_exception.start_time", problem);
                }
                if let Some(problem) = end_problem {
                    violations.add("schedule_exception.end_time", problem);
                }
                None
            }
        },
        _ => None,
    };
    match (request_id, provider_id, span, kind, note) {
        (Some(request_id), Some(provider_id), Some(span), Some(kind), Some(note))
            if violations.is_empty() =>
        {
            Ok(NewScheduleException {
                provider_id,
                span,
                kind,
                note,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn schedule_exception_to_proto(exception: &ScheduleException) -> pb::ScheduleException {
    pb::ScheduleException {
        schedule_exception_id: exception.schedule_exception_id.to_string(),
        provider_id: exception
            .provider_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        start_time: Some(timestamp_to_proto(exception.start)),
        end_time: Some(timestamp_to_proto(exception.end)),
        kind: exception_kind_to_proto(exception.kind).into(),
        note: exception
            .note
            .as_ref()
            .map(|note| note.as_str().to_owned())
            .unwrap_or_default(),
        create_time: Some(timestamp_to_proto(exception.created_at)),
        created_by: exception.created_by.clone(),
    }
}

/// What `ListScheduleExceptions` asks for.
pub struct ExceptionQuery {
    pub span: (DateTime<Utc>, DateTime<Utc>),
    pub provider_id: Option<ProviderId>,
    pub size: u32,
    pub offset: u64,
}

pub fn exception_query(
    request: &pb::ListScheduleExceptionsRequest,
) -> Result<ExceptionQuery, FieldViolations> {
    let mut violations = FieldViolations::new();
    let start = violations.check(
        "start_time",
        timestamp_from_proto(request.start_time.as_ref()),
    );
    let end = violations.check("end_time", timestamp_from_proto(request.end_time.as_ref()));
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            violations.add("end_time", "must be after start_time");
        } else if end - start > MAX_EXCEPTION_RANGE {
            violations.add("end_time", "must be at most 366 days after start_time");
        }
    }
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let page = page(request.page.as_ref(), &mut violations);
    match (start, end, provider_id, page) {
        (Some(start), Some(end), Some(provider_id), Some((size, offset)))
            if violations.is_empty() =>
        {
            Ok(ExceptionQuery {
                span: (start, end),
                provider_id,
                size,
                offset,
            })
        }
        _ => Err(violations),
    }
}

pub fn schedule_exception_id(text: &str) -> Result<ScheduleExceptionId, FieldViolations> {
    ScheduleExceptionId::parse(text)
        .map_err(|problem| FieldViolations::single("schedule_exception_id", problem))
}
