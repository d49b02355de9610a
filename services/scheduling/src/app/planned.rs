//! Planned visits: recording one, and booking the slot reception chose for it.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::{PatientId, ProviderId, RequestId};
use clinic_common::validation::FieldViolations;
use uuid::Uuid;

use super::Scheduling;
use crate::domain::planned::{NewPlannedVisit, PlannedStatus, PlannedVisit};
use crate::domain::{Appointment, AppointmentTypeId, BookingRequest, Note, SchedulingError};

/// A new planned visit as the request gave it: each field parsed, `None` where it was invalid
/// (and reported in `violations`), before the checks only the store and the registry can make.
/// Every problem is reported at once, whichever of the two found it.
pub struct PlannedVisitDraft {
    pub request_id: Option<RequestId>,
    pub patient_id: Option<PatientId>,
    pub provider_id: Option<Option<ProviderId>>,
    pub appointment_type_id: Option<Option<AppointmentTypeId>>,
    pub due_date: Option<NaiveDate>,
    pub note: Option<Option<Note>>,
    pub violations: FieldViolations,
}

/// Booking a planned visit at a chosen time.
pub struct BookPlannedVisit {
    pub planned_visit_id: Uuid,
    pub request_id: RequestId,
    /// Who sees the patient; the plan's provider when `None`.
    pub provider_id: Option<ProviderId>,
    pub start: DateTime<Utc>,
    /// `None` when the appointment type's length decides the end.
    pub end: Option<DateTime<Utc>>,
}

impl Scheduling {
    /// Records a planned visit, or returns the one a first call with the same request id
    /// recorded. The appointment type must be bookable, the provider known and the patient
    /// registered.
    pub async fn create_planned_visit(
        &self,
        draft: PlannedVisitDraft,
        caller: &Caller,
    ) -> Result<PlannedVisit, SchedulingError> {
        let mut violations = draft.violations;
        if let Some(Some(type_id)) = draft.appointment_type_id {
            let bookable = self
                .store
                .appointment_type(type_id)
                .await?
                .is_some_and(|found| found.deleted_at.is_none());
            if !bookable {
                violations.add(
                    "planned_visit.appointment_type_id",
                    "is not a bookable appointment type",
                );
            }
        }
        if let Some(Some(provider)) = draft.provider_id
            && self.store.provider(provider).await?.is_none()
        {
            violations.add("planned_visit.provider_id", "is not a known provider");
        }
        let (
            Some(request_id),
            Some(patient_id),
            Some(provider_id),
            Some(appointment_type_id),
            Some(due_date),
            Some(note),
        ) = (
            draft.request_id,
            draft.patient_id,
            draft.provider_id,
            draft.appointment_type_id,
            draft.due_date,
            draft.note,
        )
        else {
            return Err(violations.into());
        };
        if !violations.is_empty() {
            return Err(violations.into());
        }
        self.registered_initials(patient_id, "planned_visit.patient_id")
            .await?;
        let new = NewPlannedVisit {
            patient_id,
            appointment_type_id,
            provider_id,
            due_date,
            note,
        };
        let planned = self
            .store
            .create_planned_visit(&new, &request_id, caller, self.now())
            .await?;
        tracing::info!(planned_visit_id = %planned.planned_visit_id, "visit planned");
        Ok(planned)
    }

    /// Books a planned visit at the time chosen, with its type, patient and note, and links the
    /// plan to the booking. A plan already booked answers with that booking, whatever this call
    /// asks.
    pub async fn book_planned_visit(
        &self,
        command: BookPlannedVisit,
        caller: &Caller,
    ) -> Result<(PlannedVisit, Appointment), SchedulingError> {
        let planned_visit_id = command.planned_visit_id;
        let plan = self
            .store
            .planned_visit(planned_visit_id)
            .await?
            .ok_or_else(|| SchedulingError::FlowNotFound {
                what: "planned visit",
                id: planned_visit_id.to_string(),
            })?;
        if plan.status == PlannedStatus::Booked
            && let Some(appointment_id) = plan.appointment_id
        {
            let appointment = self
                .store
                .appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
            return Ok((plan, appointment));
        }
        let Some(provider_id) = command.provider_id.or(plan.plan.provider_id) else {
            return Err(FieldViolations::single(
                "provider_id",
                "is required when the plan names no provider",
            )
            .into());
        };
        let appointment_type = match plan.plan.appointment_type_id {
            Some(type_id) => self.store.appointment_type(type_id).await?,
            None => None,
        };
        let booking = BookingRequest {
            patient_id: plan.plan.patient_id,
            provider_id,
            start: command.start,
            end: command.end,
            price_code: None,
            reason: plan.plan.note.clone(),
            appointment_type_id: plan.plan.appointment_type_id,
            resource_ids: Vec::new(),
            request_id: command.request_id,
        };
        let now = self.now();
        let appointment = self
            .book(booking, appointment_type.as_ref(), caller, now)
            .await?;
        let booked = self
            .store
            .planned_visit_booked(planned_visit_id, appointment.appointment_id, now)
            .await?;
        tracing::info!(
            planned_visit_id = %planned_visit_id,
            appointment_id = %appointment.appointment_id,
            "planned visit booked"
        );
        Ok((booked, appointment))
    }
}
