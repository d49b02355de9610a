//! The waitlist: patients who want time the schedule does not have ("only Dr. X", "only after
//! 18:00", "Saturdays in December"), and the offers made to them when time frees up.
//!
//! **Who is offered what.** When a provider's time frees up (a cancellation, a no-show, a visit
//! rescheduled away, new working hours), every waiting entry whose constraints fit gets an offer
//! of the earliest part of that time it can use: same provider (or an entry that takes anyone),
//! on one of its days and weekdays, within its time of day, long enough for its visit, not in
//! the past. The offers of one freed time are ranked by how long each patient has waited: the
//! earliest request is rank 1. The first offer accepted books the time; the others of the same
//! time become `taken`. An offer not answered within the hold (or by the slot's start, if
//! sooner) expires.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, request_fingerprint};
use uuid::Uuid;

use super::hours::local_instant;
use super::{AppointmentTypeId, Note, SlotPreferences};

/// Candidate starts inside freed time are on the quarter hours, as free slots are.
const STEP_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitlistStatus {
    Waiting,
    Booked,
    Removed,
}

impl WaitlistStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "waiting" => Some(WaitlistStatus::Waiting),
            "booked" => Some(WaitlistStatus::Booked),
            "removed" => Some(WaitlistStatus::Removed),
            _ => None,
        }
    }
}

/// What a patient on the waitlist can take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistWish {
    pub patient_id: PatientId,
    /// `None`: any provider.
    pub provider_id: Option<ProviderId>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub length: TimeDelta,
    pub preferences: SlotPreferences,
    /// Clinic-local days, both included.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub note: Option<Note>,
}

impl WaitlistWish {
    /// A digest of the wish, to recognise a retry of the request that made it.
    pub fn fingerprint(&self) -> String {
        let preferences = &self.preferences;
        request_fingerprint(&[
            &self.patient_id.to_string(),
            &self
                .provider_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            &self
                .appointment_type_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            &self.length.num_minutes().to_string(),
            &format!(
                "{:?}-{:?}-{:?}",
                preferences.earliest_start_minute,
                preferences.latest_end_minute,
                preferences.weekdays
            ),
            &self.first_day.to_string(),
            &self.last_day.to_string(),
            self.note.as_ref().map_or("", Note::as_str),
        ])
    }

    /// The earliest `[start, end)` inside the freed time `[from, until)` of `provider_id` that
    /// this wish can take, starting on a quarter hour, not before `now`.
    pub fn fit(
        &self,
        provider_id: ProviderId,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
        time_zone: Tz,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.provider_id.is_some_and(|wanted| wanted != provider_id) {
            return None;
        }
        if self.length <= TimeDelta::zero() {
            return None;
        }
        let mut start = round_up_to_quarter(from.max(now));
        while start + self.length <= until {
            if self.admits(start, time_zone) {
                return Some((start, start + self.length));
            }
            start += TimeDelta::seconds(STEP_SECONDS);
        }
        None
    }

    /// Whether a visit of this wish's length starting at `start` is on its days and within its
    /// time of day.
    fn admits(&self, start: DateTime<Utc>, time_zone: Tz) -> bool {
        let day = start.with_timezone(&time_zone).date_naive();
        if day < self.first_day || day > self.last_day {
            return false;
        }
        let preferences = &self.preferences;
        if !preferences.weekdays.is_empty() && !preferences.weekdays.contains(&day.weekday()) {
            return false;
        }
        if let Some(minute) = preferences.earliest_start_minute
            && start < local_instant(day, minute, time_zone)
        {
            return false;
        }
        if let Some(minute) = preferences.latest_end_minute
            && start + self.length > local_instant(day, minute, time_zone)
        {
            return false;
        }
        true
    }
}

/// A patient's place on the waitlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistEntry {
    pub waitlist_entry_id: Uuid,
    pub wish: WaitlistWish,
    pub status: WaitlistStatus,
    pub appointment_id: Option<AppointmentId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferStatus {
    Open,
    Accepted,
    Declined,
    Expired,
    Taken,
    Withdrawn,
}

impl OfferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Open => "open",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
            OfferStatus::Taken => "taken",
            OfferStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(OfferStatus::Open),
            "accepted" => Some(OfferStatus::Accepted),
            "declined" => Some(OfferStatus::Declined),
            "expired" => Some(OfferStatus::Expired),
            "taken" => Some(OfferStatus::Taken),
            "withdrawn" => Some(OfferStatus::Withdrawn),
            _ => None,
        }
    }
}

/// Why time freed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreedBy {
    Cancelled,
    NoShow,
    Rescheduled,
    Hours,
}

impl FreedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FreedBy::Cancelled => "cancelled",
            FreedBy::NoShow => "no_show",
            FreedBy::Rescheduled => "rescheduled",
            FreedBy::Hours => "hours",
        }
    }
}

/// An offer about to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOffer {
    pub waitlist_entry_id: Uuid,
    pub provider_id: ProviderId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub rank: u32,
    pub freed_by: FreedBy,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistOffer {
    pub waitlist_offer_id: Uuid,
    pub waitlist_entry_id: Uuid,
    pub patient_id: PatientId,
    pub provider_id: ProviderId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub rank: u32,
    pub status: OfferStatus,
    pub freed_by: String,
    pub expires_at: DateTime<Utc>,
    pub appointment_id: Option<AppointmentId>,
    pub created_at: DateTime<Utc>,
}

/// The offers to make for time `freed` of `provider_id`: one per waiting entry that fits, ranked
/// earliest request first. `entries` may come in any order; those not waiting are skipped.
pub fn offers_for_freed_time(
    entries: &[WaitlistEntry],
    provider_id: ProviderId,
    freed: (DateTime<Utc>, DateTime<Utc>),
    freed_by: FreedBy,
    (now, hold, time_zone): (DateTime<Utc>, TimeDelta, Tz),
) -> Vec<NewOffer> {
    let mut waiting: Vec<&WaitlistEntry> = entries
        .iter()
        .filter(|entry| entry.status == WaitlistStatus::Waiting)
        .collect();
    waiting.sort_by_key(|entry| (entry.created_at, entry.waitlist_entry_id));
    let mut offers = Vec::new();
    for entry in waiting {
        if let Some((start, end)) = entry.wish.fit(provider_id, freed, now, time_zone) {
            offers.push(NewOffer {
                waitlist_entry_id: entry.waitlist_entry_id,
                provider_id,
                start,
                end,
                rank: u32::try_from(offers.len() + 1).unwrap_or(u32::MAX),
                freed_by,
                expires_at: (now + hold).min(start),
            });
        }
    }
    offers
}

/// ISO weekday numbers, comma-separated ("1,6"), as the table keeps them.
pub fn weekdays_to_text(weekdays: &[Weekday]) -> String {
    let numbers: Vec<String> = weekdays
        .iter()
        .map(|day| day.number_from_monday().to_string())
        .collect();
    numbers.join(",")
}

/// The reverse of [`weekdays_to_text`]; `None` for anything else.
pub fn weekdays_from_text(text: &str) -> Option<Vec<Weekday>> {
    let mut weekdays = Vec::new();
    for part in text.split(',').filter(|part| !part.is_empty()) {
        let number: u32 = part.parse().ok()?;
        weekdays.push(super::weekday_from_number(number)?);
    }
    Some(weekdays)
}

fn round_up_to_quarter(instant: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = instant.timestamp();
    let past = seconds.rem_euclid(STEP_SECONDS);
    if past == 0 && instant.timestamp_subsec_nanos() == 0 {
        return instant;
    }
    let whole = seconds - past + STEP_SECONDS;
    DateTime::from_timestamp(whole, 0).unwrap_or(instant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const ZONE: Tz = chrono_tz::America::Mexico_City;

    fn local(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        ZONE.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
            .single()
            .expect("a local time")
            .with_timezone(&Utc)
    }

    fn entry(
        created_minute: u32,
        provider_id: Option<ProviderId>,
        after: Option<u16>,
    ) -> WaitlistEntry {
        WaitlistEntry {
            waitlist_entry_id: Uuid::new_v4(),
            wish: WaitlistWish {
                patient_id: PatientId::new(),
                provider_id,
                appointment_type_id: None,
                length: TimeDelta::minutes(30),
                preferences: SlotPreferences {
                    earliest_start_minute: after,
                    ..Default::default()
                },
                first_day: NaiveDate::from_ymd_opt(2026, 11, 20).expect("a day"),
                last_day: NaiveDate::from_ymd_opt(2026, 11, 30).expect("a day"),
                note: None,
            },
            status: WaitlistStatus::Waiting,
            appointment_id: None,
            created_at: local(1, 9, created_minute),
        }
    }

    #[test]
    fn the_earliest_request_that_fits_ranks_first_and_others_are_skipped() {
        let dentist = ProviderId::new();
        let someone_else = ProviderId::new();
        let later = entry(30, None, None);
        let earlier = entry(10, Some(dentist), None);
        let wrong_provider = entry(0, Some(someone_else), None);
        let only_evenings = entry(5, None, Some(18 * 60));
        let freed = (local(24, 10, 0), local(24, 11, 0));

        let offers = offers_for_freed_time(
            &[
                later.clone(),
                wrong_provider,
                earlier.clone(),
                only_evenings,
            ],
            dentist,
            freed,
            FreedBy::Cancelled,
            (local(22, 8, 0), TimeDelta::hours(2), ZONE),
        );

        let ranked: Vec<(Uuid, u32)> = offers
            .iter()
            .map(|offer| (offer.waitlist_entry_id, offer.rank))
            .collect();
        assert_eq!(
            ranked,
            [(earlier.waitlist_entry_id, 1), (later.waitlist_entry_id, 2)]
        );
        assert_eq!(
            (offers[0].start, offers[0].end),
            (local(24, 10, 0), local(24, 10, 30))
        );
        assert_eq!(offers[0].expires_at, local(22, 10, 0));
    }

    #[test]
    fn a_wish_takes_the_part_of_freed_time_within_its_hours_and_not_the_past() {
        let dentist = ProviderId::new();
        let evenings = entry(0, None, Some(18 * 60));

        let fit = evenings.wish.fit(
            dentist,
            (local(24, 17, 0), local(24, 19, 0)),
            local(22, 8, 0),
            ZONE,
        );
        let past_half = entry(0, None, None).wish.fit(
            dentist,
            (local(24, 9, 0), local(24, 10, 0)),
            local(24, 9, 10),
            ZONE,
        );
        let too_short = entry(0, None, None).wish.fit(
            dentist,
            (local(24, 9, 0), local(24, 9, 20)),
            local(22, 8, 0),
            ZONE,
        );

        assert_eq!(fit, Some((local(24, 18, 0), local(24, 18, 30))));
        assert_eq!(past_half, Some((local(24, 9, 15), local(24, 9, 45))));
        assert_eq!(too_short, None);
    }

    #[test]
    fn weekdays_round_trip_through_text() {
        let days = [Weekday::Mon, Weekday::Sat];
        assert_eq!(weekdays_to_text(&days), "1,6");
        assert_eq!(weekdays_from_text("1,6"), Some(days.to_vec()));
        assert_eq!(weekdays_from_text(""), Some(Vec::new()));
        assert_eq!(weekdays_from_text("9"), None);
    }
}
