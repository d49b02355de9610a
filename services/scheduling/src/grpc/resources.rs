//! The resource RPCs (chairs, rooms, equipment, and what appointment types need), and how
//! resource errors become statuses.

use chrono::TimeDelta;
use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{next_page_token, timestamp_from_proto};
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{intervals_to_proto, page, weekly_hours};
use super::convert::{
    new_resource, new_resource_exception, requirements_to_proto, resource_exception_to_proto,
    resource_kind, resource_to_proto, resource_update, type_requirements,
};
use crate::domain::{
    AppointmentTypeId, ResourceError, ResourceExceptionId, ResourceId, SchedulingError,
};

/// The widest range `ListResourceExceptions` accepts.
const MAX_EXCEPTION_RANGE: TimeDelta = TimeDelta::days(366);

/// The one mapping of resource errors to statuses (called from `grpc::error`).
pub(super) fn status(error: ResourceError) -> Status {
    match error {
        error @ (ResourceError::NotFound(_) | ResourceError::ExceptionNotFound(_)) => {
            Status::not_found(error.to_string())
        }
        error @ ResourceError::NameTaken => Status::already_exists(error.to_string()),
        // Only a booking's chosen resources can be unknown: requirements are checked when set.
        ResourceError::Unknown(_) => {
            clinic_common::status::invalid_argument(&FieldViolations::single(
                "appointment.resource_ids",
                "names a resource that does not exist",
            ))
        }
        ResourceError::UnknownRequirement(_) => {
            clinic_common::status::invalid_argument(&FieldViolations::single(
                "appointment_type_resources.requirements",
                "names a resource that does not exist",
            ))
        }
        ResourceError::WrongKind(_) => {
            clinic_common::status::invalid_argument(&FieldViolations::single(
                "appointment_type_resources.requirements",
                "names a resource of another kind",
            ))
        }
        error @ (ResourceError::InTheWay { .. } | ResourceError::NoneFree { .. }) => {
            Status::failed_precondition(error.to_string())
        }
    }
}

fn one_id<T>(field: &str, parsed: Result<T, &'static str>) -> Result<T, SchedulingError> {
    parsed.map_err(|problem| FieldViolations::single(field, problem).into())
}

/// The RPC bodies; `SchedulingService` in `grpc/mod.rs` forwards to these.
impl SchedulingGrpc {
    pub(super) async fn do_create_resource(
        &self,
        request: Request<pb::CreateResourceRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        authorize(&request, &[Role::Manager])?;
        let new = new_resource(request.get_ref()).map_err(SchedulingError::from)?;
        let resource = self.store.create_resource(&new, self.clock.now()).await?;
        tracing::info!(resource_id = %resource.resource_id, "resource added");
        Ok(Response::new(resource_to_proto(&resource)))
    }

    pub(super) async fn do_list_resources(
        &self,
        request: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let mut violations = FieldViolations::new();
        let given = request.get_ref();
        let kind = if given.kind == i32::from(pb::ResourceKind::Unspecified) {
            Some(None)
        } else {
            violations
                .check("kind", resource_kind(given.kind))
                .map(Some)
        };
        let paging = page(given.page.as_ref(), &mut violations);
        let (Some(kind), Some((size, offset))) = (kind, paging) else {
            return Err(SchedulingError::from(violations).into());
        };
        let resources = self.store.resources(kind, size, offset).await?;
        Ok(Response::new(pb::ListResourcesResponse {
            next_page_token: next_page_token(offset, size, resources.len()),
            resources: resources.iter().map(resource_to_proto).collect(),
        }))
    }

    pub(super) async fn do_update_resource(
        &self,
        request: Request<pb::UpdateResourceRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        authorize(&request, &[Role::Manager])?;
        let update = resource_update(request.get_ref()).map_err(SchedulingError::from)?;
        let resource = self
            .store
            .update_resource(&update, self.clock.now())
            .await?;
        tracing::info!(resource_id = %resource.resource_id, "resource updated");
        Ok(Response::new(resource_to_proto(&resource)))
    }

    pub(super) async fn do_set_resource_hours(
        &self,
        request: Request<pb::SetResourceHoursRequest>,
    ) -> Result<Response<pb::ResourceHours>, Status> {
        authorize(&request, &[Role::Manager])?;
        let mut violations = FieldViolations::new();
        let Some(given) = &request.get_ref().resource_hours else {
            violations.add("resource_hours", "is required");
            return Err(SchedulingError::from(violations).into());
        };
        let resource_id = violations.check(
            "resource_hours.resource_id",
            ResourceId::parse(&given.resource_id),
        );
        let week = weekly_hours(
            &given.intervals,
            "resource_hours.intervals",
            &mut violations,
        );
        let (Some(resource_id), Some(week)) = (resource_id, week) else {
            return Err(SchedulingError::from(violations).into());
        };
        let hours = self.store.set_resource_hours(resource_id, &week).await?;
        tracing::info!(%resource_id, intervals = hours.intervals().len(), "resource hours set");
        Ok(Response::new(pb::ResourceHours {
            resource_id: resource_id.to_string(),
            intervals: intervals_to_proto(&hours),
        }))
    }

    pub(super) async fn do_get_resource_hours(
        &self,
        request: Request<pb::GetResourceHoursRequest>,
    ) -> Result<Response<pb::ResourceHours>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let resource_id = one_id(
            "resource_id",
            ResourceId::parse(&request.get_ref().resource_id),
        )?;
        let hours = self.store.resource_hours(resource_id).await?;
        Ok(Response::new(pb::ResourceHours {
            resource_id: resource_id.to_string(),
            intervals: intervals_to_proto(&hours),
        }))
    }

    pub(super) async fn do_add_resource_exception(
        &self,
        request: Request<pb::AddResourceExceptionRequest>,
    ) -> Result<Response<pb::ResourceException>, Status> {
        let caller = authorize(&request, &[Role::Manager, Role::Reception])?;
        let new = new_resource_exception(request.get_ref()).map_err(SchedulingError::from)?;
        let exception = self
            .store
            .add_resource_exception(&new, &caller, self.clock.now())
            .await?;
        tracing::info!(resource_id = %exception.resource_id, "resource exception added");
        Ok(Response::new(resource_exception_to_proto(&exception)))
    }

    pub(super) async fn do_list_resource_exceptions(
        &self,
        request: Request<pb::ListResourceExceptionsRequest>,
    ) -> Result<Response<pb::ListResourceExceptionsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let given = request.get_ref();
        let mut violations = FieldViolations::new();
        let resource_id = violations.check("resource_id", ResourceId::parse(&given.resource_id));
        let start = violations.check(
            "start_time",
            timestamp_from_proto(given.start_time.as_ref()),
        );
        let end = violations.check("end_time", timestamp_from_proto(given.end_time.as_ref()));
        if let (Some(start), Some(end)) = (start, end) {
            if end <= start {
                violations.add("end_time", "must be after start_time");
            } else if end - start > MAX_EXCEPTION_RANGE {
                violations.add("end_time", "must be at most 366 days after start_time");
            }
        }
        let (Some(resource_id), Some(start), Some(end)) = (resource_id, start, end) else {
            return Err(SchedulingError::from(violations).into());
        };
        if !violations.is_empty() {
            return Err(SchedulingError::from(violations).into());
        }
        let exceptions = self
            .store
            .resource_exceptions(resource_id, (start, end))
            .await?;
        Ok(Response::new(pb::ListResourceExceptionsResponse {
            resource_exceptions: exceptions.iter().map(resource_exception_to_proto).collect(),
        }))
    }

    pub(super) async fn do_delete_resource_exception(
        &self,
        request: Request<pb::DeleteResourceExceptionRequest>,
    ) -> Result<Response<pb::ResourceException>, Status> {
        authorize(&request, &[Role::Manager])?;
        let exception_id = one_id(
            "resource_exception_id",
            ResourceExceptionId::parse(&request.get_ref().resource_exception_id),
        )?;
        let exception = self.store.delete_resource_exception(exception_id).await?;
        tracing::info!(resource_id = %exception.resource_id, "resource exception deleted");
        Ok(Response::new(resource_exception_to_proto(&exception)))
    }

    pub(super) async fn do_set_appointment_type_resources(
        &self,
        request: Request<pb::SetAppointmentTypeResourcesRequest>,
    ) -> Result<Response<pb::AppointmentTypeResources>, Status> {
        authorize(&request, &[Role::Manager])?;
        let (type_id, requirements) =
            type_requirements(request.get_ref()).map_err(SchedulingError::from)?;
        let requirements = self
            .store
            .set_type_requirements(type_id, &requirements)
            .await?;
        tracing::info!(appointment_type_id = %type_id, "appointment type resources set");
        Ok(Response::new(requirements_to_proto(type_id, &requirements)))
    }

    pub(super) async fn do_get_appointment_type_resources(
        &self,
        request: Request<pb::GetAppointmentTypeResourcesRequest>,
    ) -> Result<Response<pb::AppointmentTypeResources>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let type_id = one_id(
            "appointment_type_id",
            AppointmentTypeId::parse(&request.get_ref().appointment_type_id),
        )?;
        let requirements = self.store.type_requirements(type_id).await?;
        Ok(Response::new(requirements_to_proto(type_id, &requirements)))
    }
}
