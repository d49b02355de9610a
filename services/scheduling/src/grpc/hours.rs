//! The RPCs of providers' working hours and the schedule's exceptions (holidays, blocks,
//! breaks).

use clinic_common::auth::{Role, authorize};
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert;
use crate::domain::{ExceptionKind, SchedulingError};

impl SchedulingGrpc {
    pub(super) async fn do_set_working_hours(
        &self,
        request: Request<pb::SetWorkingHoursRequest>,
    ) -> Result<Response<pb::WorkingHours>, Status> {
        authorize(&request, &[Role::Manager])?;
        let (provider_id, hours) =
            convert::working_hours(request.get_ref()).map_err(SchedulingError::from)?;
        tracing::Span::current().record("provider_id", tracing::field::display(provider_id));
        let hours = self
            .scheduling
            .set_working_hours(provider_id, &hours)
            .await?;
        Ok(Response::new(convert::working_hours_to_proto(
            provider_id,
            &hours,
        )))
    }

    pub(super) async fn do_get_working_hours(
        &self,
        request: Request<pb::GetWorkingHoursRequest>,
    ) -> Result<Response<pb::WorkingHours>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let provider_id = convert::provider_id_of(&request.get_ref().provider_id)
            .map_err(SchedulingError::from)?;
        tracing::Span::current().record("provider_id", tracing::field::display(provider_id));
        let hours = self.store.working_hours(provider_id).await?;
        Ok(Response::new(convert::working_hours_to_proto(
            provider_id,
            &hours,
        )))
    }

    pub(super) async fn do_add_schedule_exception(
        &self,
        request: Request<pb::AddScheduleExceptionRequest>,
    ) -> Result<Response<pb::ScheduleException>, Status> {
        let caller = authorize(&request, &[Role::Manager, Role::Reception])?;
        let new =
            convert::new_schedule_exception(request.get_ref()).map_err(SchedulingError::from)?;
        // The desk may block time (a patient's long visit, a chair out of use); holidays and
        // breaks shape everyone's week and are the manager's to set.
        if caller.role == Role::Reception && new.kind != ExceptionKind::Block {
            return Err(Status::permission_denied(
                "reception may add blocks only; holidays and breaks are for a manager",
            ));
        }
        let exception = self
            .store
            .add_schedule_exception(&new, &caller, self.clock.now())
            .await?;
        tracing::Span::current().record(
            "schedule_exception_id",
            tracing::field::display(exception.schedule_exception_id),
        );
        tracing::info!(kind = exception.kind.as_str(), "schedule exception added");
        Ok(Response::new(convert::schedule_exception_to_proto(
            &exception,
        )))
    }

    pub(super) async fn do_list_schedule_exceptions(
        &self,
        request: Request<pb::ListScheduleExceptionsRequest>,
    ) -> Result<Response<pb::ListScheduleExceptionsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let query = convert::exception_query(request.get_ref()).map_err(SchedulingError::from)?;
        let exceptions = self
            .store
            .schedule_exceptions(query.span, query.provider_id, query.size, query.offset)
            .await?;
        Ok(Response::new(pb::ListScheduleExceptionsResponse {
            next_page_token: next_page_token(query.offset, query.size, exceptions.len()),
            schedule_exceptions: exceptions
                .iter()
                .map(convert::schedule_exception_to_proto)
                .collect(),
        }))
    }

    pub(super) async fn do_delete_schedule_exception(
        &self,
        request: Request<pb::DeleteScheduleExceptionRequest>,
    ) -> Result<Response<pb::ScheduleException>, Status> {
        authorize(&request, &[Role::Manager])?;
        let exception_id = convert::schedule_exception_id(&request.get_ref().schedule_exception_id)
            .map_err(SchedulingError::from)?;
        tracing::Span::current().record(
            "schedule_exception_id",
            tracing::field::display(exception_id),
        );
        let exception = self
            .scheduling
            .delete_schedule_exception(exception_id)
            .await?;
        Ok(Response::new(convert::schedule_exception_to_proto(
            &exception,
        )))
    }
}
