//! Chairs, rooms and equipment: adding and changing them, their exceptions, what appointment
//! types need, and how they read on the wire.

use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{timestamp_from_proto, timestamp_to_proto};

use super::{exception_kind, exception_kind_to_proto, optional};
use crate::domain::{
    AppointmentTypeId, DisplayName, ExceptionSpan, MAX_REQUIREMENTS, NewResource,
    NewResourceException, Note, Resource, ResourceException, ResourceId, ResourceKind,
    ResourceRequirement, ResourceUpdate,
};

/// A list of resource ids under `field`.
pub fn resource_ids(
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

pub fn resource_kind(kind: i32) -> Result<ResourceKind, &'static str> {
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

pub fn resource_to_proto(resource: &Resource) -> pb::Resource {
    pb::Resource {
        resource_id: resource.resource_id.to_string(),
        display_name: resource.display_name.as_str().to_owned(),
        kind: resource_kind_to_proto(resource.kind).into(),
        in_service: resource.in_service,
        create_time: Some(timestamp_to_proto(resource.created_at)),
        update_time: Some(timestamp_to_proto(resource.updated_at)),
    }
}

pub fn resource_exception_to_proto(exception: &ResourceException) -> pb::ResourceException {
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

pub fn requirements_to_proto(
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

pub fn new_resource(request: &pb::CreateResourceRequest) -> Result<NewResource, FieldViolations> {
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

pub fn resource_update(
    request: &pb::UpdateResourceRequest,
) -> Result<ResourceUpdate, FieldViolations> {
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

pub fn new_resource_exception(
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

pub fn type_requirements(
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
