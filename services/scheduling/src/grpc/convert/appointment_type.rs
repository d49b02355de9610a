//! Appointment types: adding and changing them, and how they read on the wire.

use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::timestamp_to_proto;

use crate::domain::{
    AppointmentType, AppointmentTypeId, NewAppointmentType, PriceCode, TypeDetails, TypeName,
    VisitLength,
};

pub fn appointment_type_id(text: &str) -> Result<AppointmentTypeId, &'static str> {
    AppointmentTypeId::parse(text)
}

/// The settable fields of an `AppointmentType`, reported under `appointment_type.`.
fn type_details(
    appointment_type: &pb::AppointmentType,
    violations: &mut FieldViolations,
) -> Option<TypeDetails> {
    let name = violations.check(
        "appointment_type.display_name",
        TypeName::parse(&appointment_type.display_name),
    );
    let length = violations.check(
        "appointment_type.duration_minutes",
        VisitLength::parse(appointment_type.duration_minutes),
    );
    let price_code = violations.check(
        "appointment_type.price_code",
        PriceCode::parse_optional(&appointment_type.price_code)
            .and_then(|code| code.ok_or("is required")),
    );
    match (name, length, price_code) {
        (Some(name), Some(length), Some(price_code)) => Some(TypeDetails {
            name,
            length,
            price_code,
            needs_xray: appointment_type.needs_xray,
        }),
        _ => None,
    }
}

pub fn new_appointment_type(
    request: &pb::CreateAppointmentTypeRequest,
) -> Result<NewAppointmentType, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(appointment_type) = &request.appointment_type else {
        violations.add("appointment_type", "is required");
        return Err(violations);
    };
    let details = type_details(appointment_type, &mut violations);
    match (details, request_id) {
        (Some(details), Some(request_id)) if violations.is_empty() => Ok(NewAppointmentType {
            details,
            request_id,
        }),
        _ => Err(violations),
    }
}

pub fn type_update(
    request: &pb::UpdateAppointmentTypeRequest,
) -> Result<(AppointmentTypeId, TypeDetails), FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(appointment_type) = &request.appointment_type else {
        violations.add("appointment_type", "is required");
        return Err(violations);
    };
    let appointment_type_id = violations.check(
        "appointment_type.appointment_type_id",
        AppointmentTypeId::parse(&appointment_type.appointment_type_id),
    );
    let details = type_details(appointment_type, &mut violations);
    match (appointment_type_id, details) {
        (Some(appointment_type_id), Some(details)) if violations.is_empty() => {
            Ok((appointment_type_id, details))
        }
        _ => Err(violations),
    }
}

pub fn appointment_type_to_proto(appointment_type: &AppointmentType) -> pb::AppointmentType {
    let details = &appointment_type.details;
    pb::AppointmentType {
        appointment_type_id: appointment_type.appointment_type_id.to_string(),
        display_name: details.name.as_str().to_owned(),
        duration_minutes: i32::try_from(details.length.minutes()).unwrap_or(i32::MAX),
        price_code: details.price_code.as_str().to_owned(),
        needs_xray: details.needs_xray,
        create_time: Some(timestamp_to_proto(appointment_type.created_at)),
        update_time: Some(timestamp_to_proto(appointment_type.updated_at)),
        delete_time: appointment_type.deleted_at.map(timestamp_to_proto),
    }
}
