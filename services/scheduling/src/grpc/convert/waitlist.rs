//! The waitlist: a new entry and the range of days it covers, and entries and offers on the
//! wire.

use chrono::NaiveDate;
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_from_proto, date_to_proto, timestamp_to_proto};

use super::{
    appointment_type_id, day_of_week_to_proto, optional, patient_id, provider_id, slot_preferences,
    time_of_day_to_proto,
};
use crate::app::WaitlistDraft;
use crate::domain::Note;
use crate::domain::waitlist::{OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus};

/// A `CreateWaitlistEntry` request, each field parsed and every problem reported; `today`
/// (clinic-local) is the earliest day the range may end on.
pub fn waitlist_draft(request: pb::CreateWaitlistEntryRequest, today: NaiveDate) -> WaitlistDraft {
    let entry = request.waitlist_entry.unwrap_or_default();
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let patient_id = violations.check("waitlist_entry.patient_id", patient_id(&entry.patient_id));
    let provider_id = violations.check(
        "waitlist_entry.provider_id",
        optional(&entry.provider_id, provider_id),
    );
    let appointment_type_id = violations.check(
        "waitlist_entry.appointment_type_id",
        optional(&entry.appointment_type_id, appointment_type_id),
    );
    let preferences = slot_preferences(entry.preferences.as_ref(), &mut violations);
    let note = violations.check("waitlist_entry.note", Note::parse_optional(&entry.note));
    let days = date_range(
        entry.date_range.as_ref(),
        "waitlist_entry.date_range",
        today,
        &mut violations,
    );
    WaitlistDraft {
        request_id,
        patient_id,
        provider_id,
        appointment_type_id,
        duration_minutes: entry.duration_minutes,
        preferences,
        note,
        days,
        violations,
    }
}

/// The longest date range an entry may cover.
const MAX_WAITLIST_DAYS: i64 = 366;

/// A required date range of clinic-local days, not ending before `today`, at most
/// [`MAX_WAITLIST_DAYS`] long.
fn date_range(
    range: Option<&clinic_proto::common::v1::DateRange>,
    field: &str,
    today: NaiveDate,
    violations: &mut FieldViolations,
) -> Option<(NaiveDate, NaiveDate)> {
    let Some(range) = range else {
        violations.add(field, "is required");
        return None;
    };
    let first = violations.check(
        &format!("{field}.start_date"),
        date_from_proto(range.start_date.as_ref()),
    );
    let last = violations.check(
        &format!("{field}.end_date"),
        date_from_proto(range.end_date.as_ref()),
    );
    let (first, last) = (first?, last?);
    if last < first {
        violations.add(format!("{field}.end_date"), "must not be before start_date");
        return None;
    }
    if last < today {
        violations.add(format!("{field}.end_date"), "must not be in the past");
        return None;
    }
    if (last - first).num_days() >= MAX_WAITLIST_DAYS {
        violations.add(
            format!("{field}.end_date"),
            format!("must be at most {MAX_WAITLIST_DAYS} days from start_date"),
        );
        return None;
    }
    Some((first, last))
}

fn entry_status_to_proto(status: WaitlistStatus) -> pb::WaitlistEntryStatus {
    match status {
        WaitlistStatus::Waiting => pb::WaitlistEntryStatus::Waiting,
        WaitlistStatus::Booked => pb::WaitlistEntryStatus::Booked,
        WaitlistStatus::Removed => pb::WaitlistEntryStatus::Removed,
    }
}

pub fn entry_to_proto(entry: &WaitlistEntry) -> pb::WaitlistEntry {
    let wish = &entry.wish;
    pb::WaitlistEntry {
        waitlist_entry_id: entry.waitlist_entry_id.to_string(),
        patient_id: wish.patient_id.to_string(),
        provider_id: wish
            .provider_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        appointment_type_id: wish
            .appointment_type_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        duration_minutes: i32::try_from(wish.length.num_minutes()).unwrap_or(i32::MAX),
        preferences: Some(pb::SlotPreferences {
            earliest_start_time: wish
                .preferences
                .earliest_start_minute
                .map(time_of_day_to_proto),
            latest_end_time: wish.preferences.latest_end_minute.map(time_of_day_to_proto),
            days_of_week: wish
                .preferences
                .weekdays
                .iter()
                .map(|day| i32::from(day_of_week_to_proto(*day)))
                .collect(),
        }),
        date_range: Some(clinic_proto::common::v1::DateRange {
            start_date: Some(date_to_proto(wish.first_day)),
            end_date: Some(date_to_proto(wish.last_day)),
        }),
        note: wish
            .note
            .as_ref()
            .map(|note| note.as_str().to_owned())
            .unwrap_or_default(),
        status: entry_status_to_proto(entry.status).into(),
        appointment_id: entry
            .appointment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        create_time: Some(timestamp_to_proto(entry.created_at)),
    }
}

fn offer_status_to_proto(status: OfferStatus) -> pb::WaitlistOfferStatus {
    match status {
        OfferStatus::Open => pb::WaitlistOfferStatus::Open,
        OfferStatus::Accepted => pb::WaitlistOfferStatus::Accepted,
        OfferStatus::Declined => pb::WaitlistOfferStatus::Declined,
        OfferStatus::Expired => pb::WaitlistOfferStatus::Expired,
        OfferStatus::Taken => pb::WaitlistOfferStatus::Taken,
        OfferStatus::Withdrawn => pb::WaitlistOfferStatus::Withdrawn,
    }
}

pub fn offer_to_proto(offer: &WaitlistOffer) -> pb::WaitlistOffer {
    pb::WaitlistOffer {
        waitlist_offer_id: offer.waitlist_offer_id.to_string(),
        waitlist_entry_id: offer.waitlist_entry_id.to_string(),
        patient_id: offer.patient_id.to_string(),
        provider_id: offer.provider_id.to_string(),
        start_time: Some(timestamp_to_proto(offer.start)),
        end_time: Some(timestamp_to_proto(offer.end)),
        rank: i32::try_from(offer.rank).unwrap_or(i32::MAX),
        status: offer_status_to_proto(offer.status).into(),
        freed_by: offer.freed_by.clone(),
        expire_time: Some(timestamp_to_proto(offer.expires_at)),
        appointment_id: offer
            .appointment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        create_time: Some(timestamp_to_proto(offer.created_at)),
    }
}
