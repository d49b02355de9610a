//! The waitlist: adding entries, offering freed time and new hours to them, and booking an
//! accepted offer. The rule for who is offered what is in `domain::waitlist`.

use chrono::{NaiveDate, TimeDelta};
use clinic_common::auth::Caller;
use clinic_common::ids::{PatientId, ProviderId, RequestId};
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use uuid::Uuid;

use super::Scheduling;
use crate::domain::waitlist::{
    FreedBy, NewOffer, OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistWish,
    offers_for_freed_time,
};
use crate::domain::{
    Appointment, AppointmentTypeId, BookingRequest, Initials, Note, SchedulingError,
    SlotPreferences, SlotSearch, free_slots,
};
use crate::store::offer_closed;

/// How far ahead new working hours are searched for an entry's first free slot.
const HOURS_SEARCH_DAYS: i64 = 30;

/// The shortest and longest visit an entry without an appointment type may wait for, in
/// minutes.
const WAIT_MINUTES: std::ops::RangeInclusive<i32> = 5..=480;

/// A new waitlist entry as the request gave it: each field parsed, `None` where it was invalid
/// (and reported in `violations`), before the checks only the store and the registry can make.
/// Every problem is reported at once, whichever of the two found it.
pub struct WaitlistDraft {
    pub request_id: Option<RequestId>,
    pub patient_id: Option<PatientId>,
    pub provider_id: Option<Option<ProviderId>>,
    pub appointment_type_id: Option<Option<AppointmentTypeId>>,
    /// The visit's length when no appointment type gives it.
    pub duration_minutes: i32,
    pub preferences: SlotPreferences,
    pub note: Option<Option<Note>>,
    pub days: Option<(NaiveDate, NaiveDate)>,
    pub violations: FieldViolations,
}

impl Scheduling {
    /// Adds a waitlist entry, or returns the one a first call with the same request id added.
    /// The appointment type must be bookable (its length is the visit's), the provider known
    /// and the patient registered.
    pub async fn create_waitlist_entry(
        &self,
        draft: WaitlistDraft,
        caller: &Caller,
    ) -> Result<WaitlistEntry, SchedulingError> {
        let mut violations = draft.violations;
        let length = self
            .wish_length(
                draft.appointment_type_id,
                draft.duration_minutes,
                &mut violations,
            )
            .await?;
        if let Some(Some(provider)) = draft.provider_id
            && self.store.provider(provider).await?.is_none()
        {
            violations.add("waitlist_entry.provider_id", "is not a known provider");
        }
        let (
            Some(request_id),
            Some(patient_id),
            Some(provider_id),
            Some(appointment_type_id),
            Some(note),
            Some((first_day, last_day)),
            Some(length),
        ) = (
            draft.request_id,
            draft.patient_id,
            draft.provider_id,
            draft.appointment_type_id,
            draft.note,
            draft.days,
            length,
        )
        else {
            return Err(violations.into());
        };
        if !violations.is_empty() {
            return Err(violations.into());
        }
        self.registered_initials(patient_id, "waitlist_entry.patient_id")
            .await?;
        let wish = WaitlistWish {
            patient_id,
            provider_id,
            appointment_type_id,
            length,
            preferences: draft.preferences,
            first_day,
            last_day,
            note,
        };
        let created = self
            .store
            .create_waitlist_entry(&wish, &request_id, caller, self.now())
            .await?;
        tracing::info!(waitlist_entry_id = %created.waitlist_entry_id, "waitlist entry added");
        Ok(created)
    }

    /// How long the visit an entry waits for is: its appointment type's length, which must be
    /// bookable, or (no type given) `duration_minutes`. `None` with the problem reported.
    async fn wish_length(
        &self,
        appointment_type_id: Option<Option<AppointmentTypeId>>,
        duration_minutes: i32,
        violations: &mut FieldViolations,
    ) -> Result<Option<TimeDelta>, SchedulingError> {
        if let Some(Some(type_id)) = appointment_type_id {
            return Ok(match self.store.appointment_type(type_id).await? {
                Some(found) if found.deleted_at.is_none() => Some(found.details.length.as_delta()),
                _ => {
                    violations.add(
                        "waitlist_entry.appointment_type_id",
                        "is not a bookable appointment type",
                    );
                    None
                }
            });
        }
        if WAIT_MINUTES.contains(&duration_minutes) {
            return Ok(Some(TimeDelta::minutes(i64::from(duration_minutes))));
        }
        violations.add(
            "waitlist_entry.duration_minutes",
            "must be 5-480 minutes when no appointment_type_id is given",
        );
        Ok(None)
    }

    /// The patient's initials from the registry; a patient it does not know is an invalid
    /// `field`.
    pub(super) async fn registered_initials(
        &self,
        patient_id: PatientId,
        field: &str,
    ) -> Result<Initials, SchedulingError> {
        match self.registry.initials(patient_id).await {
            Err(SchedulingError::UnknownPatient(_)) => Err(SchedulingError::from(
                FieldViolations::single(field, "is not a registered patient"),
            )),
            other => other,
        }
    }

    /// Books an open offer's time for its entry's patient; the entry is then booked and the
    /// other offers of that time closed. Accepting again returns the first booking. An offer
    /// whose time someone else has taken meanwhile is closed as taken.
    pub async fn accept_waitlist_offer(
        &self,
        offer_id: Uuid,
        caller: &Caller,
    ) -> Result<(WaitlistOffer, Appointment), SchedulingError> {
        let now = self.now();
        let offer = self.store.waitlist_offer(offer_id, now).await?;
        if offer.status == OfferStatus::Accepted
            && let Some(appointment_id) = offer.appointment_id
        {
            let appointment = self
                .store
                .appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
            return Ok((offer, appointment));
        }
        if offer.status != OfferStatus::Open {
            return Err(offer_closed(&offer, "accepted"));
        }
        let entry = self
            .store
            .waitlist_entry(offer.waitlist_entry_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("an offer's waitlist entry is missing"))?;
        let appointment = match self.book_offer(&offer, &entry, caller).await {
            Ok(appointment) => appointment,
            Err(
                error @ (SchedulingError::ProviderBusy { .. }
                | SchedulingError::ProviderUnavailable { .. }),
            ) => {
                // Someone else has the time now: the offer can never be accepted.
                self.store
                    .close_offer(offer_id, OfferStatus::Taken, caller, now)
                    .await?;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let accepted = self
            .store
            .offer_accepted(&offer, appointment.appointment_id, caller, now)
            .await?;
        tracing::info!(
            waitlist_offer_id = %offer_id,
            appointment_id = %appointment.appointment_id,
            "waitlist offer accepted"
        );
        Ok((accepted, appointment))
    }

    /// Books an offer's time for its entry's patient. The idempotency key is the offer's own,
    /// so accepting again (or retrying after a failure between booking and recording) finds the
    /// first booking.
    async fn book_offer(
        &self,
        offer: &WaitlistOffer,
        entry: &WaitlistEntry,
        caller: &Caller,
    ) -> Result<Appointment, SchedulingError> {
        let request_id =
            RequestId::parse(&format!("waitlist-offer-{}", offer.waitlist_offer_id))
                .map_err(|problem| anyhow::anyhow!("an offer's request id is {problem}"))?;
        let appointment_type = match entry.wish.appointment_type_id {
            Some(type_id) => self.store.appointment_type(type_id).await?,
            None => None,
        };
        let booking = BookingRequest {
            patient_id: entry.wish.patient_id,
            provider_id: offer.provider_id,
            start: offer.start,
            end: Some(offer.end),
            price_code: None,
            reason: entry.wish.note.clone(),
            appointment_type_id: entry.wish.appointment_type_id,
            resource_ids: Vec::new(),
            request_id,
        };
        self.book(booking, appointment_type.as_ref(), caller, self.now())
            .await
    }

    /// Offers the time `appointment` held, now free, to the waitlist. The appointment's own
    /// patient is not offered their own time back. Failures are logged, not returned: the
    /// change that freed the time has already been made.
    pub(super) async fn offer_freed(&self, appointment: &Appointment, freed_by: FreedBy) {
        if let Err(error) = self.try_offer_freed(appointment, freed_by).await {
            tracing::warn!(error = %error, "failed to offer freed time to the waitlist");
        }
    }

    async fn try_offer_freed(
        &self,
        appointment: &Appointment,
        freed_by: FreedBy,
    ) -> Result<(), SchedulingError> {
        let now = self.now();
        let time_zone = self.time_zone();
        let entries: Vec<WaitlistEntry> = self
            .store
            .waiting_entries_for(appointment.provider_id, local_date(now, time_zone))
            .await?
            .into_iter()
            .filter(|entry| entry.wish.patient_id != appointment.patient_id)
            .collect();
        let candidates = offers_for_freed_time(
            &entries,
            appointment.provider_id,
            (appointment.slot.start(), appointment.slot.end()),
            freed_by,
            (now, self.settings.front_desk.offer_hold(), time_zone),
        );
        // Part of the time may be taken already (a reschedule by a quarter hour, an exception):
        // only time that is really free is offered.
        let blocked = self
            .store
            .blocked_times(
                appointment.provider_id,
                (appointment.slot.start(), appointment.slot.end()),
            )
            .await?;
        let offers: Vec<NewOffer> = candidates
            .into_iter()
            .filter(|offer| {
                !blocked
                    .iter()
                    .any(|(start, end)| *start < offer.end && offer.start < *end)
            })
            .collect();
        let added = self.store.record_offers(&offers, now).await?;
        if added > 0 {
            tracing::info!(
                offers = added,
                freed_by = freed_by.as_str(),
                "waitlist offers made"
            );
        }
        Ok(())
    }

    /// After working hours were set or an exception removed: each waiting entry that could take
    /// time of one of `providers` is offered the first free slot that fits it in the next
    /// [`HOURS_SEARCH_DAYS`]. Failures are logged, not returned.
    pub(super) async fn offer_new_hours(&self, providers: Vec<ProviderId>) {
        for provider_id in providers {
            if let Err(error) = self.try_offer_new_hours(provider_id).await {
                tracing::warn!(error = %error, "failed to offer new hours to the waitlist");
            }
        }
    }

    async fn try_offer_new_hours(&self, provider_id: ProviderId) -> Result<(), SchedulingError> {
        let now = self.now();
        let time_zone = self.time_zone();
        let today = local_date(now, time_zone);
        let hours = self.store.working_hours(provider_id).await?;
        if hours.is_empty() {
            return Ok(());
        }
        let hold = self.settings.front_desk.offer_hold();
        let mut offers: Vec<NewOffer> = Vec::new();
        for entry in self.store.waiting_entries_for(provider_id, today).await? {
            let first = entry.wish.first_day.max(today);
            let last = entry
                .wish
                .last_day
                .min(first + TimeDelta::days(HOURS_SEARCH_DAYS));
            let search = SlotSearch {
                first,
                last,
                length: entry.wish.length,
                preferences: entry.wish.preferences.clone(),
            };
            let blocked = self
                .store
                .blocked_times(provider_id, search.reach(time_zone))
                .await?;
            let Some(start) = free_slots(&hours, &blocked, &search, now, time_zone)
                .into_iter()
                .next()
            else {
                continue;
            };
            // Entries come oldest first: rank among the entries offered the same start.
            let earlier = offers.iter().filter(|offer| offer.start == start).count();
            offers.push(NewOffer {
                waitlist_entry_id: entry.waitlist_entry_id,
                provider_id,
                start,
                end: start + entry.wish.length,
                rank: u32::try_from(earlier + 1).unwrap_or(u32::MAX),
                freed_by: FreedBy::Hours,
                expires_at: (now + hold).min(start),
            });
        }
        let added = self.store.record_offers(&offers, now).await?;
        if added > 0 {
            tracing::info!(offers = added, "waitlist offers made for new hours");
        }
        Ok(())
    }
}
