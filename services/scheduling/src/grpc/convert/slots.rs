//! Finding free slots: the search and the slots found.

use chrono::{DateTime, TimeDelta, Utc};
use clinic_common::ids::ProviderId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_from_proto, timestamp_to_proto};

use super::{day_of_week, minute_of_day, optional, page, provider_id};
use crate::domain::{
    AppointmentTypeId, MAX_SEARCH_DAYS, MINUTES_PER_DAY, SlotPreferences, SlotQuery,
};

pub fn slot_query(request: &pb::FindFreeSlotsRequest) -> Result<SlotQuery, FieldViolations> {
    let mut violations = FieldViolations::new();
    let appointment_type_id = violations.check(
        "appointment_type_id",
        AppointmentTypeId::parse(&request.appointment_type_id),
    );
    let range = request.date_range.as_ref();
    if range.is_none() {
        violations.add("date_range", "is required");
    }
    let first = range.and_then(|range| {
        violations.check(
            "date_range.start_date",
            date_from_proto(range.start_date.as_ref()),
        )
    });
    let last = range.and_then(|range| {
        violations.check(
            "date_range.end_date",
            date_from_proto(range.end_date.as_ref()),
        )
    });
    if let (Some(first), Some(last)) = (first, last) {
        if last < first {
            violations.add("date_range.end_date", "must not be before start_date");
        } else if (last - first).num_days() >= MAX_SEARCH_DAYS {
            violations.add(
                "date_range.end_date",
                format!("must be at most {MAX_SEARCH_DAYS} days from start_date, both included"),
            );
        }
    }
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let preferences = slot_preferences(request.preferences.as_ref(), &mut violations);
    let page = page(request.page.as_ref(), &mut violations);
    match (appointment_type_id, first, last, provider_id, page) {
        (
            Some(appointment_type_id),
            Some(first),
            Some(last),
            Some(provider_id),
            Some((size, offset)),
        ) if violations.is_empty() => Ok(SlotQuery {
            appointment_type_id,
            first,
            last,
            provider_id,
            preferences,
            size,
            offset,
        }),
        _ => Err(violations),
    }
}

pub fn slot_preferences(
    preferences: Option<&pb::SlotPreferences>,
    violations: &mut FieldViolations,
) -> SlotPreferences {
    let Some(preferences) = preferences else {
        return SlotPreferences::default();
    };
    let earliest_start_minute = match &preferences.earliest_start_time {
        Some(time) => violations.check(
            "preferences.earliest_start_time",
            minute_of_day(Some(time)).and_then(|minute| {
                if minute < MINUTES_PER_DAY {
                    Ok(minute)
                } else {
                    Err("must be before 24:00")
                }
            }),
        ),
        None => None,
    };
    let latest_end_minute = match &preferences.latest_end_time {
        Some(time) => violations.check("preferences.latest_end_time", minute_of_day(Some(time))),
        None => None,
    };
    if let (Some(earliest), Some(latest)) = (earliest_start_minute, latest_end_minute)
        && latest <= earliest
    {
        violations.add(
            "preferences.latest_end_time",
            "must be after earliest_start_time",
        );
    }
    let mut weekdays = Vec::with_capacity(preferences.days_of_week.len());
    for (index, day) in preferences.days_of_week.iter().enumerate() {
        if let Some(weekday) = violations.check(
            &format!("preferences.days_of_week[{index}]"),
            day_of_week(*day),
        ) {
            weekdays.push(weekday);
        }
    }
    SlotPreferences {
        earliest_start_minute,
        latest_end_minute,
        weekdays,
    }
}

pub fn free_slot_to_proto(
    (start, provider_id): (DateTime<Utc>, ProviderId),
    length: TimeDelta,
) -> pb::FreeSlot {
    pb::FreeSlot {
        provider_id: provider_id.to_string(),
        start_time: Some(timestamp_to_proto(start)),
        end_time: Some(timestamp_to_proto(start + length)),
    }
}
