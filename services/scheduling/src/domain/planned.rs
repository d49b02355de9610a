//! Planned visits and recalls: "come back in about 3 months", recorded before the schedule for
//! then exists, listed when due, and booked once reception and the patient choose a slot.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId};
use uuid::Uuid;

use super::{AppointmentTypeId, Note};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlannedVisit {
    pub patient_id: PatientId,
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub provider_id: Option<ProviderId>,
    pub due_date: NaiveDate,
    pub note: Option<Note>,
}

impl NewPlannedVisit {
    /// A digest of the request, to recognise a retry.
    pub fn fingerprint(&self) -> String {
        clinic_common::ids::request_fingerprint(&[
            &self.patient_id.to_string(),
            &self
                .appointment_type_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            &self
                .provider_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            &self.due_date.to_string(),
            self.note.as_ref().map_or("", Note::as_str),
        ])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedStatus {
    Planned,
    Booked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVisit {
    pub planned_visit_id: Uuid,
    pub plan: NewPlannedVisit,
    pub status: PlannedStatus,
    pub appointment_id: Option<AppointmentId>,
    pub created_at: DateTime<Utc>,
}
