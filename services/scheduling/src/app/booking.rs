//! Booking, and the changes to a booking that free its time: cancelling, rescheduling, no-shows.

use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::AppointmentId;
use clinic_common::validation::FieldViolations;

use super::Scheduling;
use crate::domain::waitlist::FreedBy;
use crate::domain::{
    Appointment, AppointmentSlot, AppointmentType, BookingRequest, NewAppointment, Note,
    Reschedule, RescheduleRequest, SchedulingError,
};
use crate::spans::record_appointment_id;

impl Scheduling {
    /// Books an appointment, or answers a retry with the appointment the first call booked, from
    /// what it stored: even if the registry is down or the appointment type has changed since.
    pub async fn create_appointment(
        &self,
        requested: BookingRequest,
        caller: &Caller,
    ) -> Result<Appointment, SchedulingError> {
        if let Some(earlier) = self
            .store
            .earlier_booking(&requested.request_id, &requested.fingerprint())
            .await?
        {
            record_appointment_id(earlier.appointment_id);
            return Ok(earlier);
        }
        let appointment_type = match requested.appointment_type_id {
            Some(appointment_type_id) => Some(
                self.store
                    .appointment_type(appointment_type_id)
                    .await?
                    .ok_or(SchedulingError::UnusableAppointmentType(
                        "is not a known appointment type",
                    ))?,
            ),
            None => None,
        };
        let appointment = self
            .book(requested, appointment_type.as_ref(), caller, self.now())
            .await?;
        record_appointment_id(appointment.appointment_id);
        tracing::info!("appointment booked");
        Ok(appointment)
    }

    /// Books `booking` with its appointment type, as read by the caller: the type's length,
    /// price code and resources, and the patient's initials from the registry. Every way of
    /// booking (the desk, the waitlist, a planned visit) goes through here.
    pub(super) async fn book(
        &self,
        booking: BookingRequest,
        appointment_type: Option<&AppointmentType>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Appointment, SchedulingError> {
        let mut new = booking.resolve(appointment_type)?;
        self.add_type_requirements(&mut new).await?;
        let initials = self.registry.initials(new.patient_id).await?;
        self.store
            .book(&new, &initials, caller, (now, self.time_zone()))
            .await
    }

    /// Adds to a booking the chairs, rooms or equipment its appointment type needs.
    async fn add_type_requirements(&self, new: &mut NewAppointment) -> Result<(), SchedulingError> {
        if let Some(type_id) = new.appointment_type_id {
            new.resources.requirements = self.store.type_requirements(type_id).await?;
        }
        Ok(())
    }

    /// Cancels an appointment; a patient already in the queue leaves it, and the freed time is
    /// offered to the waitlist.
    pub async fn cancel_appointment(
        &self,
        appointment_id: AppointmentId,
        reason: Note,
        caller: &Caller,
    ) -> Result<Appointment, SchedulingError> {
        let (appointment, change) = self
            .store
            .cancel(appointment_id, reason, caller, self.now())
            .await?;
        if let Some(change) = change {
            self.feed.publish(change).await;
        }
        self.offer_freed(&appointment, FreedBy::Cancelled).await;
        tracing::info!(
            late = appointment.cancellation.as_ref().is_some_and(|c| c.late),
            "appointment cancelled"
        );
        Ok(appointment)
    }

    /// Moves an appointment to a new time (and another provider, when asked), as long as the old
    /// one when the request leaves the end out, and offers the time it gave up to the waitlist.
    /// Returns `(old, new)`.
    pub async fn reschedule_appointment(
        &self,
        requested: RescheduleRequest,
        caller: &Caller,
    ) -> Result<(Appointment, Appointment), SchedulingError> {
        let end = match requested.end {
            Some(end) => end,
            None => {
                // As long as the visit it replaces.
                let current = self
                    .store
                    .appointment(requested.appointment_id)
                    .await?
                    .ok_or(SchedulingError::AppointmentNotFound(
                        requested.appointment_id,
                    ))?;
                requested.start + (current.slot.end() - current.slot.start())
            }
        };
        let slot = AppointmentSlot::new(requested.start, end).map_err(|problems| {
            let mut violations = FieldViolations::new();
            for (field, problem) in [("start_time", problems.start), ("end_time", problems.end)] {
                if let Some(problem) = problem {
                    violations.add(field, problem);
                }
            }
            SchedulingError::from(violations)
        })?;
        let command = Reschedule {
            appointment_id: requested.appointment_id,
            slot,
            provider_id: requested.provider_id,
            request_id: requested.request_id,
        };
        let (old, new) = self
            .store
            .reschedule(&command, caller, (self.now(), self.time_zone()))
            .await?;
        tracing::info!(new_appointment_id = %new.appointment_id, "appointment rescheduled");
        self.offer_freed(&old, FreedBy::Rescheduled).await;
        Ok((old, new))
    }

    /// Records that the patient did not come, once the appointment's start has passed, and
    /// offers its time to the waitlist.
    pub async fn mark_no_show(
        &self,
        appointment_id: AppointmentId,
        caller: &Caller,
    ) -> Result<Appointment, SchedulingError> {
        let now = self.now();
        let appointment = self
            .store
            .change_status(
                appointment_id,
                |current| current.mark_no_show(now),
                caller,
                now,
            )
            .await?;
        tracing::info!(status = appointment.status.as_str(), "appointment changed");
        self.offer_freed(&appointment, FreedBy::NoShow).await;
        Ok(appointment)
    }
}
