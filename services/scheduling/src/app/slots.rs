//! Finding free slots: the providers' hours and what blocks them, and the chairs, rooms and
//! equipment the appointment type needs.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use clinic_common::ids::ProviderId;
use clinic_common::validation::FieldViolations;

use super::Scheduling;
use crate::domain::{
    AppointmentSlot, AppointmentTypeId, ResourceCalendar, ResourceNeeds, SchedulingError,
    SlotQuery, SlotSearch, can_assign, free_slots,
};

/// One page of free slots.
pub struct FreeSlots {
    /// `(start, provider)`, by start then provider.
    pub slots: Vec<(DateTime<Utc>, ProviderId)>,
    /// How long each slot is: the appointment type's length.
    pub length: TimeDelta,
}

impl Scheduling {
    /// The free slots of an appointment type's length in the days asked for, of one provider
    /// or of every provider with working hours, where the type's resources are free too.
    pub async fn find_free_slots(&self, query: &SlotQuery) -> Result<FreeSlots, SchedulingError> {
        let appointment_type = self
            .store
            .appointment_type(query.appointment_type_id)
            .await?
            .ok_or(SchedulingError::AppointmentTypeNotFound(
                query.appointment_type_id,
            ))?;
        if appointment_type.deleted_at.is_some() {
            return Err(SchedulingError::from(FieldViolations::single(
                "appointment_type_id",
                "is deleted and can no longer be booked",
            )));
        }
        let time_zone = self.time_zone();
        let search = SlotSearch {
            first: query.first,
            last: query.last,
            length: appointment_type.details.length.as_delta(),
            preferences: query.preferences.clone(),
        };
        let providers = match query.provider_id {
            Some(provider_id) => vec![provider_id],
            None => self.store.providers_with_hours().await?,
        };
        let now = self.now();
        let reach = search.reach(time_zone);
        let (needs, calendars) = self
            .resource_calendars(query.appointment_type_id, reach)
            .await?;
        let mut slots = Vec::new();
        for provider_id in providers {
            // Reads the hours first, so an unknown provider is NOT_FOUND.
            let hours = self.store.working_hours(provider_id).await?;
            if hours.is_empty() {
                continue;
            }
            let blocked = self.store.blocked_times(provider_id, reach).await?;
            for start in free_slots(&hours, &blocked, &search, now, time_zone) {
                if resources_allow(&needs, &calendars, (start, search.length), time_zone) {
                    slots.push((start, provider_id));
                }
            }
        }
        slots.sort_by_key(|(start, provider_id)| (*start, provider_id.to_string()));
        let page = slots
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.size).unwrap_or(usize::MAX))
            .collect();
        Ok(FreeSlots {
            slots: page,
            length: search.length,
        })
    }

    /// What a type needs of resources, and what is known of those resources over `reach`.
    async fn resource_calendars(
        &self,
        appointment_type_id: AppointmentTypeId,
        reach: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<(ResourceNeeds, Vec<ResourceCalendar>), SchedulingError> {
        let needs = ResourceNeeds {
            requirements: self.store.type_requirements(appointment_type_id).await?,
            chosen: Vec::new(),
        };
        let calendars = if needs.is_empty() {
            Vec::new()
        } else {
            self.store
                .resource_calendars(needs.kinds(&[]), reach)
                .await?
        };
        Ok((needs, calendars))
    }
}

/// Whether the resources `needs` asks for are free for a slot starting at `start`.
fn resources_allow(
    needs: &ResourceNeeds,
    calendars: &[ResourceCalendar],
    (start, length): (DateTime<Utc>, TimeDelta),
    time_zone: Tz,
) -> bool {
    if needs.is_empty() {
        return true;
    }
    match AppointmentSlot::stored(start, start + length) {
        Some(slot) => can_assign(needs, calendars, &slot, time_zone),
        None => false,
    }
}
