//! Planned visits over gRPC: recording, the due list, booking a chosen slot. Recording and
//! booking are in `app::planned`.

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_from_proto, next_page_token};
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{self, appointment_to_proto, plan_to_proto};
use crate::domain::SchedulingError;

const STAFF: &[Role] = &[Role::Reception, Role::Manager];

/// The longest due list one call returns days of.
const MAX_DUE_DAYS: i64 = 366;

impl SchedulingGrpc {
    pub(super) async fn do_create_planned_visit(
        &self,
        request: Request<pb::CreatePlannedVisitRequest>,
    ) -> Result<Response<pb::PlannedVisit>, Status> {
        let caller = authorize(&request, STAFF)?;
        let draft = convert::planned_visit_draft(request.into_inner());
        let planned = self.scheduling.create_planned_visit(draft, &caller).await?;
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
        let command =
            convert::book_planned_visit(request.get_ref()).map_err(SchedulingError::from)?;
        let (planned, appointment) = self.scheduling.book_planned_visit(command, &caller).await?;
        Ok(Response::new(pb::BookPlannedVisitResponse {
            planned_visit: Some(plan_to_proto(&planned)),
            appointment: Some(appointment_to_proto(&appointment)),
        }))
    }
}
