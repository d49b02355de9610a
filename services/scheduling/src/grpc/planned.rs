//! Planned visits over gRPC: recording, the due list, booking a chosen slot.

use clinic_common::auth::{Role, authorize};
use clinic_common::ids::RequestId;
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_from_proto, next_page_token, timestamp_from_proto};
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::plan_to_proto;
use super::convert::{self, appointment_to_proto, optional, patient_id, provider_id};
use super::waitlist::uuid_field;
use crate::domain::planned::{NewPlannedVisit, PlannedStatus};
use crate::domain::{BookingRequest, Note, SchedulingError};

const STAFF: &[Role] = &[Role::Reception, Role::Manager];

/// The longest due list one call returns days of.
const MAX_DUE_DAYS: i64 = 366;

impl SchedulingGrpc {
    pub(super) async fn do_create_planned_visit(
        &self,
        request: Request<pb::CreatePlannedVisitRequest>,
    ) -> Result<Response<pb::PlannedVisit>, Status> {
        let caller = authorize(&request, STAFF)?;
        let request = request.into_inner();
        let plan = request.planned_visit.unwrap_or_default();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
        let patient = violations.check("planned_visit.patient_id", patient_id(&plan.patient_id));
        let provider = violations.check(
            "planned_visit.provider_id",
            optional(&plan.provider_id, provider_id),
        );
        let type_id = violations.check(
            "planned_visit.appointment_type_id",
            optional(&plan.appointment_type_id, convert::appointment_type_id),
        );
        let due = violations.check(
            "planned_visit.due_date",
            date_from_proto(plan.due_date.as_ref()),
        );
        let note = violations.check("planned_visit.note", Note::parse_optional(&plan.note));
        if let Some(Some(type_id)) = type_id {
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
        if let Some(Some(provider)) = provider
            && self.store.provider(provider).await?.is_none()
        {
            violations.add("planned_visit.provider_id", "is not a known provider");
        }
        let (Some(request_id), Some(patient), Some(provider), Some(type_id), Some(due), Some(note)) =
            (request_id, patient, provider, type_id, due, note)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        if !violations.is_empty() {
            return Err(SchedulingError::from(violations).into());
        }
        match self.registry.initials(patient).await {
            Err(SchedulingError::UnknownPatient(_)) => {
                return Err(SchedulingError::from(FieldViolations::single(
                    "planned_visit.patient_id",
                    "is not a registered patient",
                ))
                .into());
            }
            other => {
                other?;
            }
        }
        let new = NewPlannedVisit {
            patient_id: patient,
            appointment_type_id: type_id,
            provider_id: provider,
            due_date: due,
            note,
        };
        let planned = self
            .store
            .create_planned_visit(&new, &request_id, &caller, self.clock.now())
            .await?;
        tracing::info!(planned_visit_id = %planned.planned_visit_id, "visit planned");
        Ok(Response::new(plan_to_proto(&planned)))
    }

    pub(super) async fn do_list_planned_visits(
        &self,
        request: Request<pb::ListPlannedVisitsRequest>,
    ) -> Result<Response<pb::ListPlannedVisitsResponse>, Status> {
        authorize(&request, STAFF)?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let range = match request.due_range.as_ref() {
            None => {
                violations.add("due_range", "is required");
                None
            }
            Some(range) => {
                let first = violations.check(
                    "due_range.start_date",
                    date_from_proto(range.start_date.as_ref()),
                );
                let last = violations.check(
                    "due_range.end_date",
                    date_from_proto(range.end_date.as_ref()),
                );
                match (first, last) {
                    (Some(first), Some(last)) if last < first => {
                        violations.add("due_range.end_date", "must not be before start_date");
                        None
                    }
                    (Some(first), Some(last)) if (last - first).num_days() >= MAX_DUE_DAYS => {
                        violations.add(
                            "due_range.end_date",
                            format!("must be at most {MAX_DUE_DAYS} days from start_date"),
                        );
                        None
                    }
                    (Some(first), Some(last)) => Some((first, last)),
                    _ => None,
                }
            }
        };
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(range), Some((size, offset))) = (range, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        let plans = self
            .store
            .planned_visits_due(range, request.show_booked, size, offset)
            .await?;
        Ok(Response::new(pb::ListPlannedVisitsResponse {
            next_page_token: next_page_token(offset, size, plans.len()),
            planned_visits: plans.iter().map(plan_to_proto).collect(),
        }))
    }

    pub(super) async fn do_book_planned_visit(
        &self,
        request: Request<pb::BookPlannedVisitRequest>,
    ) -> Result<Response<pb::BookPlannedVisitResponse>, Status> {
        let caller = authorize(&request, STAFF)?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let planned_visit_id = uuid_field(
            &mut violations,
            "planned_visit_id",
            &request.planned_visit_id,
        );
        let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
        let provider = violations.check("provider_id", optional(&request.provider_id, provider_id));
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
        let (Some(planned_visit_id), Some(request_id), Some(provider), Some(start), Some(end)) =
            (planned_visit_id, request_id, provider, start, end)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        let plan = self
            .store
            .planned_visit(planned_visit_id)
            .await?
            .ok_or_else(|| SchedulingError::FlowNotFound {
                what: "planned visit",
                id: planned_visit_id.to_string(),
            })?;
        // Booked already: the same booking, whatever this call asks.
        if plan.status == PlannedStatus::Booked
            && let Some(appointment_id) = plan.appointment_id
        {
            let appointment = self
                .store
                .appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
            return Ok(Response::new(pb::BookPlannedVisitResponse {
                planned_visit: Some(plan_to_proto(&plan)),
                appointment: Some(appointment_to_proto(&appointment)),
            }));
        }
        let provider = match (provider, plan.plan.provider_id) {
            (Some(given), _) => given,
            (None, Some(planned)) => planned,
            (None, None) => {
                return Err(SchedulingError::from(FieldViolations::single(
                    "provider_id",
                    "is required when the plan names no provider",
                ))
                .into());
            }
        };
        let appointment_type = match plan.plan.appointment_type_id {
            Some(type_id) => self.store.appointment_type(type_id).await?,
            None => None,
        };
        let booking = BookingRequest {
            patient_id: plan.plan.patient_id,
            provider_id: provider,
            start,
            end,
            price_code: None,
            reason: plan.plan.note.clone(),
            appointment_type_id: plan.plan.appointment_type_id,
            resource_ids: Vec::new(),
            request_id,
        };
        let mut new = booking.resolve(appointment_type.as_ref())?;
        self.add_type_requirements(&mut new).await?;
        let initials = self.registry.initials(new.patient_id).await?;
        let now = self.clock.now();
        let appointment = self
            .store
            .book(
                &new,
                &initials,
                &caller,
                (now, self.settings.clinic.time_zone),
            )
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
        Ok(Response::new(pb::BookPlannedVisitResponse {
            planned_visit: Some(plan_to_proto(&booked)),
            appointment: Some(appointment_to_proto(&appointment)),
        }))
    }

    /// Today in the clinic, for callers that default to it.
    pub(super) fn clinic_today(&self) -> chrono::NaiveDate {
        local_date(self.clock.now(), self.settings.clinic.time_zone)
    }
}
