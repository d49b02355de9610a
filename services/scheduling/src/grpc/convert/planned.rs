//! Planned visits: recording one, booking it, and plans on the wire.

use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_from_proto, date_to_proto, timestamp_from_proto, timestamp_to_proto};

use super::{appointment_type_id, optional, patient_id, provider_id, uuid_field};
use crate::app::{BookPlannedVisit, PlannedVisitDraft};
use crate::domain::Note;
use crate::domain::planned::{PlannedStatus, PlannedVisit};

/// A `CreatePlannedVisit` request, each field parsed and every problem reported.
pub fn planned_visit_draft(request: pb::CreatePlannedVisitRequest) -> PlannedVisitDraft {
    let plan = request.planned_visit.unwrap_or_default();
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let patient_id = violations.check("planned_visit.patient_id", patient_id(&plan.patient_id));
    let provider_id = violations.check(
        "planned_visit.provider_id",
        optional(&plan.provider_id, provider_id),
    );
    let appointment_type_id = violations.check(
        "planned_visit.appointment_type_id",
        optional(&plan.appointment_type_id, appointment_type_id),
    );
    let due_date = violations.check(
        "planned_visit.due_date",
        date_from_proto(plan.due_date.as_ref()),
    );
    let note = violations.check("planned_visit.note", Note::parse_optional(&plan.note));
    PlannedVisitDraft {
        request_id,
        patient_id,
        provider_id,
        appointment_type_id,
        due_date,
        note,
        violations,
    }
}

/// A `BookPlannedVisit` request.
pub fn book_planned_visit(
    request: &pb::BookPlannedVisitRequest,
) -> Result<BookPlannedVisit, FieldViolations> {
    let mut violations = FieldViolations::new();
    let planned_visit_id = uuid_field(
        &mut violations,
        "planned_visit_id",
        &request.planned_visit_id,
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let start = violations.check(
        "start_time",
        timestamp_from_proto(request.start_time.as_ref()),
    );
    let end = match &request.end_time {
        Some(end) => violations
            .check("end_time", timestamp_from_proto(Some(end)))
            .map(Some),
        None => Some(None),
    };
    match (planned_visit_id, request_id, provider_id, start, end) {
        (Some(planned_visit_id), Some(request_id), Some(provider_id), Some(start), Some(end)) => {
            Ok(BookPlannedVisit {
                planned_visit_id,
                request_id,
                provider_id,
                start,
                end,
            })
        }
        _ => Err(violations),
    }
}

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
