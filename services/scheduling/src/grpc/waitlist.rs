//! The waitlist over gRPC: entries, offers made when time frees up, accepting and declining.
//! The rule for who is offered what is in `domain::waitlist`.

use chrono::TimeDelta;
use clinic_common::auth::{Caller, Role, authorize};
use clinic_common::ids::{ProviderId, RequestId, request_fingerprint};
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::SchedulingGrpc;
use super::convert::{
    self, appointment_to_proto, optional, patient_id, provider_id, slot_preferences,
};
use super::convert::{date_range, entry_to_proto, offer_to_proto};
use crate::domain::waitlist::{
    FreedBy, NewOffer, OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistWish,
    offers_for_freed_time,
};
use crate::domain::{
    Appointment, AppointmentTypeId, BookingRequest, Note, SchedulingError, SlotSearch, free_slots,
};
use crate::store::offer_closed;

/// How far ahead new working hours are searched for an entry's first free slot.
const HOURS_SEARCH_DAYS: i64 = 30;

const STAFF: &[Role] = &[Role::Reception, Role::Manager];

/// The same id parse for every uuid the flow handlers take.
pub(super) fn uuid_field(
    violations: &mut FieldViolations,
    field: &str,
    text: &str,
) -> Option<Uuid> {
    violations.check(
        field,
        Uuid::parse_str(text).map_err(|_| "must be an id (UUID)"),
    )
}

impl SchedulingGrpc {
    pub(super) async fn do_create_waitlist_entry(
        &self,
        request: Request<pb::CreateWaitlistEntryRequest>,
    ) -> Result<Response<pb::WaitlistEntry>, Status> {
        let caller = authorize(&request, STAFF)?;
        let request = request.into_inner();
        let entry = request.waitlist_entry.unwrap_or_default();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
        let patient = violations.check("waitlist_entry.patient_id", patient_id(&entry.patient_id));
        let provider = violations.check(
            "waitlist_entry.provider_id",
            optional(&entry.provider_id, provider_id),
        );
        let type_id = violations.check(
            "waitlist_entry.appointment_type_id",
            optional(&entry.appointment_type_id, convert::appointment_type_id),
        );
        let preferences = slot_preferences(entry.preferences.as_ref(), &mut violations);
        let note = violations.check("waitlist_entry.note", Note::parse_optional(&entry.note));
        let today = local_date(self.clock.now(), self.settings.clinic.time_zone);
        let days = date_range(
            entry.date_range.as_ref(),
            "waitlist_entry.date_range",
            today,
            &mut violations,
        );
        // The type's length, or the one given.
        let mut length = None;
        if let Some(Some(type_id)) = type_id {
            match self.store.appointment_type(type_id).await? {
                Some(found) if found.deleted_at.is_none() => {
                    length = Some(found.details.length.as_delta());
                }
                _ => violations.add(
                    "waitlist_entry.appointment_type_id",
                    "is not a bookable appointment type",
                ),
            }
        } else if (5..=480).contains(&entry.duration_minutes) {
            length = Some(TimeDelta::minutes(i64::from(entry.duration_minutes)));
        } else {
            violations.add(
                "waitlist_entry.duration_minutes",
                "must be 5-480 minutes when no appointment_type_id is given",
            );
        }
        if let Some(Some(provider)) = provider
            && self.store.provider(provider).await?.is_none()
        {
            violations.add("waitlist_entry.provider_id", "is not a known provider");
        }
        let (
            Some(request_id),
            Some(patient),
            Some(provider),
            Some(type_id),
            Some(note),
            Some((first, last)),
            Some(length),
        ) = (request_id, patient, provider, type_id, note, days, length)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        if !violations.is_empty() {
            return Err(SchedulingError::from(violations).into());
        }
        match self.registry.initials(patient).await {
            Err(SchedulingError::UnknownPatient(_)) => {
                return Err(SchedulingError::from(FieldViolations::single(
                    "waitlist_entry.patient_id",
                    "is not a registered patient",
                ))
                .into());
            }
            other => {
                other?;
            }
        }
        let wish = WaitlistWish {
            patient_id: patient,
            provider_id: provider,
            appointment_type_id: type_id,
            length,
            preferences,
            first_day: first,
            last_day: last,
            note,
        };
        let fingerprint = wish_fingerprint(&wish);
        let created = self
            .store
            .create_waitlist_entry(
                &wish,
                (&request_id, &fingerprint),
                &caller,
                self.clock.now(),
            )
            .await?;
        tracing::info!(waitlist_entry_id = %created.waitlist_entry_id, "waitlist entry added");
        Ok(Response::new(entry_to_proto(&created)))
    }

    pub(super) async fn do_list_waitlist_entries(
        &self,
        request: Request<pb::ListWaitlistEntriesRequest>,
    ) -> Result<Response<pb::ListWaitlistEntriesResponse>, Status> {
        authorize(&request, STAFF)?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let patient = violations.check("patient_id", optional(&request.patient_id, patient_id));
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(patient), Some((size, offset))) = (patient, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        let entries = self
            .store
            .waitlist_entries(patient, request.show_closed, size, offset)
            .await?;
        Ok(Response::new(pb::ListWaitlistEntriesResponse {
            next_page_token: next_page_token(offset, size, entries.len()),
            waitlist_entries: entries.iter().map(entry_to_proto).collect(),
        }))
    }

    pub(super) async fn do_remove_waitlist_entry(
        &self,
        request: Request<pb::RemoveWaitlistEntryRequest>,
    ) -> Result<Response<pb::WaitlistEntry>, Status> {
        authorize(&request, STAFF)?;
        let mut violations = FieldViolations::new();
        let Some(entry_id) = uuid_field(
            &mut violations,
            "waitlist_entry_id",
            &request.get_ref().waitlist_entry_id,
        ) else {
            return Err(SchedulingError::from(violations).into());
        };
        let entry = self
            .store
            .remove_waitlist_entry(entry_id, self.clock.now())
            .await?;
        tracing::info!(waitlist_entry_id = %entry_id, "waitlist entry removed");
        Ok(Response::new(entry_to_proto(&entry)))
    }

    pub(super) async fn do_list_waitlist_offers(
        &self,
        request: Request<pb::ListWaitlistOffersRequest>,
    ) -> Result<Response<pb::ListWaitlistOffersResponse>, Status> {
        authorize(&request, STAFF)?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let entry_id = if request.waitlist_entry_id.is_empty() {
            Some(None)
        } else {
            uuid_field(
                &mut violations,
                "waitlist_entry_id",
                &request.waitlist_entry_id,
            )
            .map(Some)
        };
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(entry_id), Some((size, offset))) = (entry_id, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        let offers = self
            .store
            .waitlist_offers(
                entry_id,
                request.open_only,
                (size, offset),
                self.clock.now(),
            )
            .await?;
        Ok(Response::new(pb::ListWaitlistOffersResponse {
            next_page_token: next_page_token(offset, size, offers.len()),
            waitlist_offers: offers.iter().map(offer_to_proto).collect(),
        }))
    }

    pub(super) async fn do_accept_waitlist_offer(
        &self,
        request: Request<pb::AcceptWaitlistOfferRequest>,
    ) -> Result<Response<pb::AcceptWaitlistOfferResponse>, Status> {
        let caller = authorize(&request, STAFF)?;
        let offer_id = requested_offer(request.get_ref().waitlist_offer_id.as_str())?;
        let now = self.clock.now();
        let offer = self.store.waitlist_offer(offer_id, now).await?;
        if offer.status == OfferStatus::Accepted
            && let Some(appointment_id) = offer.appointment_id
        {
            let appointment = self
                .store
                .appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
            return Ok(Response::new(pb::AcceptWaitlistOfferResponse {
                waitlist_offer: Some(offer_to_proto(&offer)),
                appointment: Some(appointment_to_proto(&appointment)),
            }));
        }
        if offer.status != OfferStatus::Open {
            return Err(offer_closed(&offer, "accepted").into());
        }
        let entry = self
            .store
            .waitlist_entry(offer.waitlist_entry_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("an offer's waitlist entry is missing"))
            .map_err(SchedulingError::from)?;
        let appointment = match self.book_offer(&offer, &entry, &caller).await {
            Ok(appointment) => appointment,
            Err(
                error @ (SchedulingError::ProviderBusy { .. }
                | SchedulingError::ProviderUnavailable { .. }),
            ) => {
                // Someone else has the time now: the offer can never be accepted.
                self.store
                    .close_offer(offer_id, OfferStatus::Taken, &caller, now)
                    .await?;
                return Err(error.into());
            }
            Err(error) => return Err(error.into()),
        };
        let accepted = self
            .store
            .offer_accepted(&offer, appointment.appointment_id, &caller, now)
            .await?;
        tracing::info!(
            waitlist_offer_id = %offer_id,
            appointment_id = %appointment.appointment_id,
            "waitlist offer accepted"
        );
        Ok(Response::new(pb::AcceptWaitlistOfferResponse {
            waitlist_offer: Some(offer_to_proto(&accepted)),
            appointment: Some(appointment_to_proto(&appointment)),
        }))
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
        let mut new = booking.resolve(appointment_type.as_ref())?;
        self.add_type_requirements(&mut new).await?;
        let initials = self.registry.initials(new.patient_id).await?;
        self.store
            .book(
                &new,
                &initials,
                caller,
                (self.clock.now(), self.settings.clinic.time_zone),
            )
            .await
    }

    pub(super) async fn do_decline_waitlist_offer(
        &self,
        request: Request<pb::DeclineWaitlistOfferRequest>,
    ) -> Result<Response<pb::WaitlistOffer>, Status> {
        let caller = authorize(&request, STAFF)?;
        let offer_id = requested_offer(request.get_ref().waitlist_offer_id.as_str())?;
        let offer = self
            .store
            .close_offer(offer_id, OfferStatus::Declined, &caller, self.clock.now())
            .await?;
        tracing::info!(waitlist_offer_id = %offer_id, "waitlist offer declined");
        Ok(Response::new(offer_to_proto(&offer)))
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
        let now = self.clock.now();
        let time_zone = self.settings.clinic.time_zone;
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

    /// [`Self::offer_freed`] for the appointment `text` names (a no-show just recorded).
    pub(super) async fn offer_freed_by_id(&self, text: &str, freed_by: FreedBy) {
        let Ok(appointment_id) = convert::appointment_id(text) else {
            return;
        };
        match self.store.appointment(appointment_id).await {
            Ok(Some(appointment)) => self.offer_freed(&appointment, freed_by).await,
            Ok(None) => {}
            Err(error) => tracing::warn!(error = %error, "failed to offer freed time"),
        }
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
        let now = self.clock.now();
        let time_zone = self.settings.clinic.time_zone;
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

fn requested_offer(text: &str) -> Result<Uuid, Status> {
    let mut violations = FieldViolations::new();
    uuid_field(&mut violations, "waitlist_offer_id", text)
        .ok_or_else(|| SchedulingError::from(violations).into())
}

fn wish_fingerprint(wish: &WaitlistWish) -> String {
    let preferences = &wish.preferences;
    request_fingerprint(&[
        &wish.patient_id.to_string(),
        &wish
            .provider_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        &wish
            .appointment_type_id
            .map(|id: AppointmentTypeId| id.to_string())
            .unwrap_or_default(),
        &wish.length.num_minutes().to_string(),
        &format!(
            "{:?}-{:?}-{:?}",
            preferences.earliest_start_minute, preferences.latest_end_minute, preferences.weekdays
        ),
        &wish.first_day.to_string(),
        &wish.last_day.to_string(),
        wish.note.as_ref().map_or("", Note::as_str),
    ])
}
