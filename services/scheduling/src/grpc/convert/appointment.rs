//! Appointments: booking, listing, cancelling and rescheduling requests, and appointments
//! and their status history on the wire.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, RequestId};
use clinic_common::time::day_span;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_from_proto, timestamp_from_proto, timestamp_to_proto};

use super::{appointment_id, optional, page, patient_id, provider_id, resource_ids};
use crate::domain::{
    Appointment, AppointmentSlot, AppointmentStatus, AppointmentTypeId, BookingRequest, Note,
    PriceCode, RescheduleRequest, StatusChange,
};

/// Reports what is wrong with a requested slot under the request's field names, as far as the
/// request alone allows: with no end (left to the appointment type, or to the visit being
/// moved), against a one-minute visit, which shows whether the start is on a whole minute.
fn check_slot(
    (start, end): (DateTime<Utc>, Option<DateTime<Utc>>),
    (start_field, end_field): (&str, &str),
    violations: &mut FieldViolations,
) {
    let probe_end = end.unwrap_or(start + TimeDelta::minutes(1));
    let Err(problems) = AppointmentSlot::new(start, probe_end) else {
        return;
    };
    if let Some(problem) = problems.start {
        violations.add(start_field, problem);
    }
    if let Some(problem) = problems.end.filter(|_| end.is_some()) {
        violations.add(end_field, problem);
    }
}

/// The requested end of a booking: required unless an appointment type gives the length
/// (`Some(None)`); `None` when it is missing or invalid.
fn requested_end(
    end_time: Option<&prost_types::Timestamp>,
    has_type: bool,
    violations: &mut FieldViolations,
) -> Option<Option<DateTime<Utc>>> {
    match end_time {
        Some(end) => violations
            .check("appointment.end_time", timestamp_from_proto(Some(end)))
            .map(Some),
        None if has_type => Some(None),
        None => {
            violations.add(
                "appointment.end_time",
                "is required unless appointment_type_id is given",
            );
            None
        }
    }
}

pub fn new_appointment(
    request: pb::CreateAppointmentRequest,
) -> Result<BookingRequest, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(appointment) = request.appointment else {
        violations.add("appointment", "is required");
        return Err(violations);
    };
    let patient_id = violations.check(
        "appointment.patient_id",
        patient_id(&appointment.patient_id),
    );
    let provider_id = violations.check(
        "appointment.provider_id",
        provider_id(&appointment.provider_id),
    );
    let appointment_type_id = violations.check(
        "appointment.appointment_type_id",
        optional(&appointment.appointment_type_id, AppointmentTypeId::parse),
    );
    let start = violations.check(
        "appointment.start_time",
        timestamp_from_proto(appointment.start_time.as_ref()),
    );
    let end = requested_end(
        appointment.end_time.as_ref(),
        matches!(appointment_type_id, Some(Some(_))),
        &mut violations,
    );
    if let (Some(start), Some(end)) = (start, end) {
        check_slot(
            (start, end),
            ("appointment.start_time", "appointment.end_time"),
            &mut violations,
        );
    }
    let price_code = violations.check(
        "appointment.price_code",
        PriceCode::parse_optional(&appointment.price_code),
    );
    let reason = violations.check(
        "appointment.reason",
        Note::parse_optional(&appointment.reason),
    );
    let resource_ids = resource_ids(
        &appointment.resource_ids,
        "appointment.resource_ids",
        &mut violations,
    );
    match (
        patient_id,
        provider_id,
        appointment_type_id,
        start,
        end,
        price_code,
        reason,
        request_id,
        resource_ids,
    ) {
        (
            Some(patient_id),
            Some(provider_id),
            Some(appointment_type_id),
            Some(start),
            Some(end),
            Some(price_code),
            Some(reason),
            Some(request_id),
            Some(resource_ids),
        ) if violations.is_empty() => Ok(BookingRequest {
            patient_id,
            provider_id,
            start,
            end,
            price_code,
            reason,
            appointment_type_id,
            resource_ids,
            request_id,
        }),
        _ => Err(violations),
    }
}

/// What `ListAppointments` asks for.
pub struct AppointmentQuery {
    /// The clinic-local day, as the half-open span of instants it covers.
    pub span: (DateTime<Utc>, DateTime<Utc>),
    pub provider_id: Option<ProviderId>,
    pub patient_id: Option<PatientId>,
    pub size: u32,
    pub offset: u64,
}

pub fn appointment_query(
    request: &pb::ListAppointmentsRequest,
    time_zone: Tz,
) -> Result<AppointmentQuery, FieldViolations> {
    let mut violations = FieldViolations::new();
    let day = violations.check("day", date_from_proto(request.day.as_ref()));
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let patient_id = violations.check("patient_id", optional(&request.patient_id, patient_id));
    let page = page(request.page.as_ref(), &mut violations);
    match (day, provider_id, patient_id, page) {
        (Some(day), Some(provider_id), Some(patient_id), Some((size, offset))) => {
            Ok(AppointmentQuery {
                span: day_span(day, time_zone),
                provider_id,
                patient_id,
                size,
                offset,
            })
        }
        _ => Err(violations),
    }
}

pub fn cancellation(
    request: &pb::CancelAppointmentRequest,
) -> Result<(AppointmentId, Note), FieldViolations> {
    let mut violations = FieldViolations::new();
    let appointment_id =
        violations.check("appointment_id", appointment_id(&request.appointment_id));
    let reason = violations.check("reason", Note::parse(&request.reason));
    match (appointment_id, reason) {
        (Some(appointment_id), Some(reason)) => Ok((appointment_id, reason)),
        _ => Err(violations),
    }
}

pub fn reschedule(
    request: &pb::RescheduleAppointmentRequest,
) -> Result<RescheduleRequest, FieldViolations> {
    let mut violations = FieldViolations::new();
    let appointment_id =
        violations.check("appointment_id", appointment_id(&request.appointment_id));
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
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
    if let (Some(start), Some(end)) = (start, end) {
        check_slot((start, end), ("start_time", "end_time"), &mut violations);
    }
    let provider = match request.provider_id.as_str() {
        "" => Some(None),
        text => violations.check("provider_id", provider_id(text)).map(Some),
    };
    match (appointment_id, start, end, provider, request_id) {
        (Some(appointment_id), Some(start), Some(end), Some(provider_id), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(RescheduleRequest {
                appointment_id,
                start,
                end,
                provider_id,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn status_to_proto(status: AppointmentStatus) -> pb::AppointmentStatus {
    match status {
        AppointmentStatus::Scheduled => pb::AppointmentStatus::Scheduled,
        AppointmentStatus::Confirmed => pb::AppointmentStatus::Confirmed,
        AppointmentStatus::Arrived => pb::AppointmentStatus::Arrived,
        AppointmentStatus::Seated => pb::AppointmentStatus::Seated,
        AppointmentStatus::Completed => pb::AppointmentStatus::Completed,
        AppointmentStatus::CheckedOut => pb::AppointmentStatus::CheckedOut,
        AppointmentStatus::Cancelled => pb::AppointmentStatus::Cancelled,
        AppointmentStatus::NoShow => pb::AppointmentStatus::NoShow,
        AppointmentStatus::Rescheduled => pb::AppointmentStatus::Rescheduled,
    }
}

pub fn appointment_to_proto(appointment: &Appointment) -> pb::Appointment {
    pb::Appointment {
        appointment_id: appointment.appointment_id.to_string(),
        patient_id: appointment.patient_id.to_string(),
        provider_id: appointment.provider_id.to_string(),
        start_time: Some(timestamp_to_proto(appointment.slot.start())),
        end_time: Some(timestamp_to_proto(appointment.slot.end())),
        status: status_to_proto(appointment.status).into(),
        price_code: appointment
            .price_code
            .as_ref()
            .map(|code| code.as_str().to_owned())
            .unwrap_or_default(),
        reason: appointment
            .reason
            .as_ref()
            .map(|reason| reason.as_str().to_owned())
            .unwrap_or_default(),
        confirmation_code: appointment.confirmation_code.as_str().to_owned(),
        create_time: Some(timestamp_to_proto(appointment.created_at)),
        update_time: Some(timestamp_to_proto(appointment.updated_at)),
        cancel_reason: appointment
            .cancellation
            .as_ref()
            .map(|cancellation| cancellation.reason.as_str().to_owned())
            .unwrap_or_default(),
        late_cancellation: appointment
            .cancellation
            .as_ref()
            .is_some_and(|cancellation| cancellation.late),
        rescheduled_to_appointment_id: appointment
            .rescheduled_to
            .map(|id| id.to_string())
            .unwrap_or_default(),
        rescheduled_from_appointment_id: appointment
            .rescheduled_from
            .map(|id| id.to_string())
            .unwrap_or_default(),
        appointment_type_id: appointment
            .appointment_type_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        resource_ids: appointment
            .resource_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

pub fn status_change_to_proto(change: &StatusChange) -> pb::AppointmentStatusChange {
    pb::AppointmentStatusChange {
        status: status_to_proto(change.status).into(),
        change_time: Some(timestamp_to_proto(change.changed_at)),
        changed_by: change.changed_by.clone(),
    }
}
