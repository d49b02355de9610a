//! Planned visits on the wire.

use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_to_proto, timestamp_to_proto};

use crate::domain::planned::{PlannedStatus, PlannedVisit};

pub fn plan_to_proto(planned: &PlannedVisit) -> pb::PlannedVisit {
    let plan = &planned.plan;
    pb::PlannedVisit {
        planned_visit_id: planned.planned_visit_id.to_string(),
        patient_id: plan.patient_id.to_string(),
        appointment_type_id: plan
            .appointment_type_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        provider_id: plan
            .provider_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        due_date: Some(date_to_proto(plan.due_date)),
        note: plan
            .note
            .as_ref()
            .map(|note| note.as_str().to_owned())
            .unwrap_or_default(),
        status: match planned.status {
            PlannedStatus::Planned => pb::PlannedVisitStatus::Planned,
            PlannedStatus::Booked => pb::PlannedVisitStatus::Booked,
        }
        .into(),
        appointment_id: planned
            .appointment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        create_time: Some(timestamp_to_proto(planned.created_at)),
    }
}
