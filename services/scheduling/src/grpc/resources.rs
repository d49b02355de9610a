//! The resource RPCs (chairs, rooms, equipment, and what appointment types need), their
//! conversions, and how resource errors become statuses.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use clinic_common::auth::{Role, authorize};
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{next_page_token, timestamp_from_proto, timestamp_to_proto};
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{
    exception_kind, exception_kind_to_proto, intervals_to_proto, optional, page, weekly_hours,
};
use crate::domain::{
    AppointmentSlot, AppointmentTypeId, DisplayName, ExceptionSpan, MAX_REQUIREMENTS, NewResource,
    NewResourceException, Note, Resource, ResourceCalendar, ResourceError, ResourceException,
    ResourceExceptionId, ResourceId, ResourceKind, ResourceNeeds, ResourceRequirement,
    ResourceUpdate, SchedulingError, can_assign,
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

/// A list of resource ids under `field`.
pub(super) fn resource_ids(
    given: &[String],
    field: &str,
    violations: &mut FieldViolations,
) -> Option<Vec<ResourceId>> {
    if given.len() > MAX_REQUIREMENTS {
        violations.add(
            field,
            format!("must list at most {MAX_REQUIREMENTS} resources"),
        );
        return None;
    }
    let mut ids = Vec::with_capacity(given.len());
    for (index, text) in given.iter().enumerate() {
        let id = violations.check(&format!("{field}[{index}]"), ResourceId::parse(text))?;
        if ids.contains(&id) {
            violations.add(format!("{field}[{index}]"), "is listed twice");
            return None;
        }
        ids.push(id);
    }
    Some(ids)
}

/// Whether the resources `needs` asks for are free for a slot starting at `start`.
pub(super) fn resources_allow(
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

fn resource_kind(kind: i32) -> Result<ResourceKind, &'static str> {
    match pb::ResourceKind::try_from(kind) {
        Ok(pb::ResourceKind::Chair) => Ok(ResourceKind::Chair),
        Ok(pb::ResourceKind::Room) => Ok(ResourceKind::Room),
        Ok(pb::ResourceKind::Equipment) => Ok(ResourceKind::Equipment),
        Ok(pb::ResourceKind::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known resource kind"),
    }
}

fn resource_kind_to_proto(kind: ResourceKind) -> pb::ResourceKind {
    match kind {
        ResourceKind::Chair => pb::ResourceKind::Chair,
        ResourceKind::Room => pb::ResourceKind::Room,
        ResourceKind::Equipment => pb::ResourceKind::Equipment,
    }
}

fn resource_to_proto(resource: &Resource) -> pb::Resource {
    pb::Resource {
        resource_id: resource.resource_id.to_string(),
        display_name: resource.display_name.as_str().to_owned(),
        kind: resource_kind_to_proto(resource.kind).into(),
        in_service: resource.in_service,
        create_time: Some(timestamp_to_proto(resource.created_at)),
        update_time: Some(timestamp_to_proto(resource.updated_at)),
    }
}

fn resource_exception_to_proto(exception: &ResourceException) -> pb::ResourceException {
    pb::ResourceException {
        resource_exception_id: exception.resource_exception_id.to_string(),
        resource_id: exception.resource_id.to_string(),
        start_time: Some(timestamp_to_proto(exception.start)),
        end_time: Some(timestamp_to_proto(exception.end)),
        kind: exception_kind_to_proto(exception.kind).into(),
        note: exception
            .note
            .as_ref()
            .map(|note| note.as_str().to_owned())
            .unwrap_or_default(),
        create_time: Some(timestamp_to_proto(exception.created_at)),
        created_by: exception.created_by.clone(),
    }
}

fn requirements_to_proto(
    appointment_type_id: AppointmentTypeId,
    requirements: &[ResourceRequirement],
) -> pb::AppointmentTypeResources {
    pb::AppointmentTypeResources {
        appointment_type_id: appointment_type_id.to_string(),
        requirements: requirements
            .iter()
            .map(|requirement| pb::ResourceRequirement {
                kind: resource_kind_to_proto(requirement.kind).into(),
                resource_id: requirement
                    .resource_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

fn one_id<T>(field: &str, parsed: Result<T, &'static str>) -> Result<T, SchedulingError> {
    parsed.map_err(|problem| FieldViolations::single(field, problem).into())
}

fn new_resource(request: &pb::CreateResourceRequest) -> Result<NewResource, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(resource) = &request.resource else {
        violations.add("resource", "is required");
        return Err(violations);
    };
    let display_name = violations.check(
        "resource.display_name",
        DisplayName::parse(&resource.display_name),
    );
    let kind = violations.check("resource.kind", resource_kind(resource.kind));
    match (display_name, kind, request_id) {
        (Some(display_name), Some(kind), Some(request_id)) if violations.is_empty() => {
            Ok(NewResource {
                display_name,
                kind,
                // New resources are in service whatever the request says: one is only taken
                // out of service later, by UpdateResource.
                in_service: true,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

fn resource_update(request: &pb::UpdateResourceRequest) -> Result<ResourceUpdate, FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(resource) = &request.resource else {
        violations.add("resource", "is required");
        return Err(violations);
    };
    let resource_id = violations.check(
        "resource.resource_id",
        ResourceId::parse(&resource.resource_id),
    );
    let display_name = violations.check(
        "resource.display_name",
        DisplayName::parse(&resource.display_name),
    );
    match (resource_id, display_name) {
        (Some(resource_id), Some(display_name)) if violations.is_empty() => Ok(ResourceUpdate {
            resource_id,
            display_name,
            in_service: resource.in_service,
        }),
        _ => Err(violations),
    }
}

fn new_resource_exception(
    request: &pb::AddResourceExceptionRequest,
) -> Result<NewResourceException, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(exception) = &request.resource_exception else {
        violations.add("resource_exception", "is required");
        return Err(violations);
    };
    let resource_id = violations.check(
        "resource_exception.resource_id",
        ResourceId::parse(&exception.resource_id),
    );
    let start = violations.check(
        "resource_exception.start_time",
        timestamp_from_proto(exception.start_time.as_ref()),
    );
    let end = violations.check(
        "resource_exception.end_time",
        timestamp_from_proto(exception.end_time.as_ref()),
    );
    let kind = violations.check("resource_exception.kind", exception_kind(exception.kind));
    let note = violations.check(
        "resource_exception.note",
        Note::parse_optional(&exception.note),
    );
    let span = match (start, end) {
        (Some(start), Some(end)) => match ExceptionSpan::new(start, end) {
            Ok(span) => Some(span),
            Err((start_problem, end_problem)) => {
                if let Some(problem) = start_problem {
                    violations.add("resource_exception.start_time", problem);
                }
                if let Some(problem) = end_problem {
                    violations.add("resource_exception.end_time", problem);
                }
                None
            }
        },
        _ => None,
    };
    match (resource_id, span, kind, note, request_id) {
        (Some(resource_id), Some(span), Some(kind), Some(note), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewResourceException {
                resource_id,
                span,
                kind,
                note,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

fn type_requirements(
    request: &pb::SetAppointmentTypeResourcesRequest,
) -> Result<(AppointmentTypeId, Vec<ResourceRequirement>), FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(resources) = &request.appointment_type_resources else {
        violations.add("appointment_type_resources", "is required");
        return Err(violations);
    };
    let type_id = violations.check(
        "appointment_type_resources.appointment_type_id",
        AppointmentTypeId::parse(&resources.appointment_type_id),
    );
    if resources.requirements.len() > MAX_REQUIREMENTS {
        violations.add(
            "appointment_type_resources.requirements",
            format!("must list at most {MAX_REQUIREMENTS} requirements"),
        );
        return Err(violations);
    }
    let mut requirements = Vec::with_capacity(resources.requirements.len());
    for (index, requirement) in resources.requirements.iter().enumerate() {
        let field = |name: &str| format!("appointment_type_resources.requirements[{index}].{name}");
        let kind = violations.check(&field("kind"), resource_kind(requirement.kind));
        let resource_id = violations.check(
            &field("resource_id"),
            optional(&requirement.resource_id, ResourceId::parse),
        );
        if let (Some(kind), Some(resource_id)) = (kind, resource_id) {
            requirements.push(ResourceRequirement { kind, resource_id });
        }
    }
    match type_id {
        Some(type_id) if violations.is_empty() => Ok((type_id, requirements)),
        _ => Err(violations),
    }
}

/// The RPC bodies; `SchedulingService` in `grpc/mod.rs` forwards to these.
impl SchedulingGrpc {
    /// What a type needs of resources, and what is known of those resources over `reach`.
    pub(super) async fn resource_calendars(
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

    pub(super) async fn create_resource_rpc(
        &self,
        request: Request<pb::CreateResourceRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        authorize(&request, &[Role::Manager])?;
        let new = new_resource(request.get_ref()).map_err(SchedulingError::from)?;
        let resource = self.store.create_resource(&new, self.clock.now()).await?;
        tracing::info!(resource_id = %resource.resource_id, "resource added");
        Ok(Response::new(resource_to_proto(&resource)))
    }

    pub(super) async fn list_resources_rpc(
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

    pub(super) async fn update_resource_rpc(
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

    pub(super) async fn set_resource_hours_rpc(
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

    pub(super) async fn get_resource_hours_rpc(
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

    pub(super) async fn add_resource_exception_rpc(
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

    pub(super) async fn list_resource_exceptions_rpc(
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

    pub(super) async fn delete_resource_exception_rpc(
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

    pub(super) async fn set_appointment_type_resources_rpc(
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

    pub(super) async fn get_appointment_type_resources_rpc(
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
