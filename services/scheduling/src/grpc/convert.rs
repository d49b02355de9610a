//! Protobuf ⇄ domain conversions for scheduling. Requests become domain commands here, with every
//! invalid field reported at once; nothing past this module sees a protobuf type.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId, RequestId};
use clinic_common::time::day_span;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{
    date_from_proto, date_to_proto, page_from_proto, timestamp_from_proto, timestamp_to_proto,
};

use crate::domain::{
    Appointment, AppointmentSlot, AppointmentStatus, AppointmentType, AppointmentTypeId,
    BookingRequest, CallNext, ConfirmationCode, DisplayName, IdentityEvidence, KioskLookup,
    NameKey, NewAppointmentType, NewProvider, Note, PhoneLastFour, PriceCode, Provider,
    ProviderKind, ProviderUpdate, QueueEntry, QueueEntryKind, QueueEntryStatus, SlotProblems,
    StatusChange, TypeDetails, TypeName, VisitLength, Wait, WalkInRequest, waits,
};
use crate::domain::{
    ExceptionKind, ExceptionSpan, MAX_SEARCH_DAYS, MAX_WEEKLY_INTERVALS, MINUTES_PER_DAY,
    NewScheduleException, ScheduleException, ScheduleExceptionId, SlotPreferences, WeeklyHours,
    WeeklyHoursProblem, WorkingInterval, weekday_from_number,
};

/// Default and largest page sizes of the `List…` calls.
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 200;

pub fn appointment_id(text: &str) -> Result<AppointmentId, &'static str> {
    AppointmentId::parse(text).map_err(|_| "must be an appointment id (UUID)")
}

pub fn queue_entry_id(text: &str) -> Result<QueueEntryId, &'static str> {
    QueueEntryId::parse(text).map_err(|_| "must be a queue entry id (UUID)")
}

/// Reports what is wrong with a slot under the request's field names.
fn slot_problems(
    problems: SlotProblems,
    (start_field, end_field): (&str, &str),
    violations: &mut FieldViolations,
) {
    if let Some(problem) = problems.start {
        violations.add(start_field, problem);
    }
    if let Some(problem) = problems.end {
        violations.add(end_field, problem);
    }
}

pub(super) fn patient_id(text: &str) -> Result<PatientId, &'static str> {
    PatientId::parse(text).map_err(|_| "must be a patient id (UUID)")
}

pub(super) fn provider_id(text: &str) -> Result<ProviderId, &'static str> {
    ProviderId::parse(text).map_err(|_| "must be a provider id (UUID)")
}

/// An optional id filter: empty means no filter.
pub(super) fn optional<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Result<Option<T>, &'static str> {
    if text.is_empty() {
        Ok(None)
    } else {
        parse(text).map(Some)
    }
}

/// Page size and offset of a `List…` request.
pub fn page(
    page: Option<&clinic_proto::common::v1::PageRequest>,
    violations: &mut FieldViolations,
) -> Option<(u32, u64)> {
    violations.check("page", page_from_proto(page, PAGE_DEFAULT, PAGE_MAX))
}

pub fn new_provider(request: pb::CreateProviderRequest) -> Result<NewProvider, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(provider) = request.provider else {
        violations.add("provider", "is required");
        return Err(violations);
    };
    let display_name = violations.check(
        "provider.display_name",
        DisplayName::parse(&provider.display_name),
    );
    let kind = violations.check("provider.kind", provider_kind(provider.kind));
    let assistant = violations.check(
        "provider.assistant_provider_id",
        optional(&provider.assistant_provider_id, provider_id),
    );
    match (display_name, kind, assistant, request_id) {
        (Some(display_name), Some(kind), Some(assistant), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewProvider {
                display_name,
                kind,
                assistant,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn provider_update(
    request: &pb::UpdateProviderRequest,
) -> Result<ProviderUpdate, FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(provider) = &request.provider else {
        violations.add("provider", "is required");
        return Err(violations);
    };
    let target = violations.check("provider.provider_id", provider_id(&provider.provider_id));
    let display_name = violations.check(
        "provider.display_name",
        DisplayName::parse(&provider.display_name),
    );
    let kind = violations.check("provider.kind", provider_kind(provider.kind));
    let assistant = violations.check(
        "provider.assistant_provider_id",
        optional(&provider.assistant_provider_id, provider_id),
    );
    match (target, display_name, kind, assistant) {
        (Some(provider_id), Some(display_name), Some(kind), Some(assistant))
            if violations.is_empty() =>
        {
            Ok(ProviderUpdate {
                provider_id,
                display_name,
                kind,
                assistant,
            })
        }
        _ => Err(violations),
    }
}

fn provider_kind(kind: i32) -> Result<ProviderKind, &'static str> {
    match pb::ProviderKind::try_from(kind) {
        Ok(pb::ProviderKind::Dentist) => Ok(ProviderKind::Dentist),
        Ok(pb::ProviderKind::Hygienist) => Ok(ProviderKind::Hygienist),
        Ok(pb::ProviderKind::Assistant) => Ok(ProviderKind::Assistant),
        Ok(pb::ProviderKind::Consultant) => Ok(ProviderKind::Consultant),
        Ok(pb::ProviderKind::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known provider kind"),
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
    let end = match &appointment.end_time {
        Some(end) => violations
            .check("appointment.end_time", timestamp_from_proto(Some(end)))
            .map(Some),
        None if matches!(appointment_type_id, Some(Some(_))) => Some(None),
        None => {
            violations.add(
                "appointment.end_time",
                "is required unless appointment_type_id is given",
            );
            None
        }
    };
    if let (Some(start), Some(end)) = (start, end) {
        // Checked as far as the request alone allows; with no end, against a one-minute visit,
        // which shows whether the start is on a whole minute.
        let probe_end = end.unwrap_or(start + TimeDelta::minutes(1));
        if let Err(problems) = AppointmentSlot::new(start, probe_end) {
            let problems = SlotProblems {
                end: problems.end.filter(|_| end.is_some()),
                ..problems
            };
            slot_problems(
                problems,
                ("appointment.start_time", "appointment.end_time"),
                &mut violations,
            );
        }
    }
    let price_code = violations.check(
        "appointment.price_code",
        PriceCode::parse_optional(&appointment.price_code),
    );
    let reason = violations.check(
        "appointment.reason",
        Note::parse_optional(&appointment.reason),
    );
    let resource_ids = super::resources::resource_ids(
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

/// A `RescheduleAppointment` request. The new end is `None` when the request leaves it to the
/// old appointment's length, which only the store knows.
pub struct RescheduleRequest {
    pub appointment_id: AppointmentId,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub request_id: RequestId,
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
        // Checked here as far as the request alone allows; with no end, against a one-minute
        // visit, which shows whether the start is on a whole minute.
        let probe_end = end.unwrap_or(start + chrono::TimeDelta::minutes(1));
        if let Err(problems) = AppointmentSlot::new(start, probe_end) {
            let problems = SlotProblems {
                end: problems.end.filter(|_| end.is_some()),
                ..problems
            };
            slot_problems(problems, ("start_time", "end_time"), &mut violations);
        }
    }
    match (appointment_id, start, end, request_id) {
        (Some(appointment_id), Some(start), Some(end), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(RescheduleRequest {
                appointment_id,
                start,
                end,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn call_next(request: &pb::CallNextRequest) -> Result<CallNext, FieldViolations> {
    let mut violations = FieldViolations::new();
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (provider_id, request_id) {
        (Some(provider_id), Some(request_id)) => Ok(CallNext {
            provider_id,
            request_id,
        }),
        _ => Err(violations),
    }
}

/// Which appointment a check-in is for.
pub enum CheckInTarget {
    Id(AppointmentId),
    Code(ConfirmationCode),
}

pub struct CheckInCommand {
    pub target: CheckInTarget,
    pub identity: Option<IdentityEvidence>,
}

/// A check-in request. `identity_required` holds for kiosk callers.
pub fn check_in(
    request: &pb::CheckInAppointmentRequest,
    identity_required: bool,
) -> Result<CheckInCommand, FieldViolations> {
    let mut violations = FieldViolations::new();
    let target = match (
        request.appointment_id.is_empty(),
        request.confirmation_code.is_empty(),
    ) {
        (false, true) => violations
            .check("appointment_id", appointment_id(&request.appointment_id))
            .map(CheckInTarget::Id),
        (true, false) => violations
            .check(
                "confirmation_code",
                ConfirmationCode::parse(&request.confirmation_code),
            )
            .map(CheckInTarget::Code),
        (true, true) => {
            violations.add(
                "appointment_id",
                "is required unless confirmation_code is given",
            );
            None
        }
        (false, false) => {
            violations.add("confirmation_code", "must not be given with appointment_id");
            None
        }
    };
    let identity = match &request.identity {
        Some(identity) => {
            let date_of_birth = violations.check(
                "identity.date_of_birth",
                date_from_proto(identity.date_of_birth.as_ref()),
            );
            // The confirmation code is itself a secret from the patient's reminder: with it,
            // the date of birth is enough.
            let by_code =
                request.appointment_id.is_empty() && !request.confirmation_code.is_empty();
            let last_four = if identity.phone_last_four.is_empty() && by_code {
                Some(None)
            } else {
                violations
                    .check(
                        "identity.phone_last_four",
                        PhoneLastFour::parse(&identity.phone_last_four),
                    )
                    .map(Some)
            };
            match (date_of_birth, last_four) {
                (Some(date_of_birth), Some(phone_last_four)) => Some(IdentityEvidence {
                    date_of_birth,
                    phone_last_four,
                }),
                _ => None,
            }
        }
        None => {
            if identity_required {
                violations.add("identity", "is required at a kiosk");
            }
            None
        }
    };
    match target {
        Some(target) if violations.is_empty() => Ok(CheckInCommand { target, identity }),
        _ => Err(violations),
    }
}

pub fn kiosk_lookup(
    request: &pb::FindTodaysAppointmentRequest,
) -> Result<KioskLookup, FieldViolations> {
    use pb::find_todays_appointment_request::Lookup;
    let mut violations = FieldViolations::new();
    let lookup = match &request.lookup {
        Some(Lookup::ByCode(by_code)) => {
            let code = violations.check(
                "by_code.confirmation_code",
                ConfirmationCode::parse(&by_code.confirmation_code),
            );
            let date_of_birth = violations.check(
                "by_code.date_of_birth",
                date_from_proto(by_code.date_of_birth.as_ref()),
            );
            match (code, date_of_birth) {
                (Some(code), Some(date_of_birth)) => Some(KioskLookup::ByCode {
                    code,
                    date_of_birth,
                }),
                _ => None,
            }
        }
        Some(Lookup::ByName(by_name)) => {
            let family_name =
                violations.check("by_name.family_name", NameKey::parse(&by_name.family_name));
            let given_name =
                violations.check("by_name.given_name", NameKey::parse(&by_name.given_name));
            let date_of_birth = violations.check(
                "by_name.date_of_birth",
                date_from_proto(by_name.date_of_birth.as_ref()),
            );
            let phone_last_four = violations.check(
                "by_name.phone_last_four",
                PhoneLastFour::parse(&by_name.phone_last_four),
            );
            match (family_name, given_name, date_of_birth, phone_last_four) {
                (
                    Some(family_name),
                    Some(given_name),
                    Some(date_of_birth),
                    Some(phone_last_four),
                ) => Some(KioskLookup::ByName {
                    family_name,
                    given_name,
                    date_of_birth,
                    phone_last_four,
                }),
                _ => None,
            }
        }
        None => {
            violations.add("lookup", "is required: by_code or by_name");
            None
        }
    };
    match lookup {
        Some(lookup) if violations.is_empty() => Ok(lookup),
        _ => Err(violations),
    }
}

/// What the kiosk shows of a found appointment.
pub struct KioskView<'a> {
    pub appointment: &'a Appointment,
    pub provider_display_name: &'a str,
    pub given_name: &'a str,
    pub first_visit: bool,
}

pub fn kiosk_appointment_to_proto(view: &KioskView<'_>) -> pb::KioskAppointment {
    let appointment = view.appointment;
    pb::KioskAppointment {
        appointment_id: appointment.appointment_id.to_string(),
        patient_id: appointment.patient_id.to_string(),
        start_time: Some(timestamp_to_proto(appointment.slot.start())),
        provider_display_name: view.provider_display_name.to_owned(),
        patient_given_name: view.given_name.to_owned(),
        patient_initials: appointment.patient_initials.as_str().to_owned(),
        status: status_to_proto(appointment.status).into(),
        first_visit: view.first_visit,
    }
}

pub fn walk_in(request: &pb::RegisterWalkInRequest) -> Result<WalkInRequest, FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let provider = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let appointment_type_id = violations.check(
        "appointment_type_id",
        optional(&request.appointment_type_id, AppointmentTypeId::parse),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, provider, appointment_type_id, request_id) {
        (Some(patient_id), Some(provider_id), Some(appointment_type_id), Some(request_id)) => {
            Ok(WalkInRequest {
                patient_id,
                provider_id,
                appointment_type_id,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn provider_to_proto(provider: &Provider) -> pb::Provider {
    pb::Provider {
        provider_id: provider.provider_id.to_string(),
        display_name: provider.display_name.as_str().to_owned(),
        kind: match provider.kind {
            ProviderKind::Dentist => pb::ProviderKind::Dentist,
            ProviderKind::Hygienist => pb::ProviderKind::Hygienist,
            ProviderKind::Assistant => pb::ProviderKind::Assistant,
            ProviderKind::Consultant => pb::ProviderKind::Consultant,
        }
        .into(),
        create_time: Some(timestamp_to_proto(provider.created_at)),
        assistant_provider_id: provider
            .assistant
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}

fn status_to_proto(status: AppointmentStatus) -> pb::AppointmentStatus {
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

fn queue_status_to_proto(status: QueueEntryStatus) -> pb::QueueEntryStatus {
    match status {
        QueueEntryStatus::Waiting => pb::QueueEntryStatus::Waiting,
        QueueEntryStatus::Called => pb::QueueEntryStatus::Called,
        QueueEntryStatus::Seated => pb::QueueEntryStatus::Seated,
        QueueEntryStatus::Left => pb::QueueEntryStatus::Left,
    }
}

fn position(entry: &QueueEntry) -> i32 {
    i32::try_from(entry.position).unwrap_or(i32::MAX)
}

pub fn queue_entry_to_proto(entry: &QueueEntry) -> pb::QueueEntry {
    pb::QueueEntry {
        queue_entry_id: entry.queue_entry_id.to_string(),
        ticket_number: entry.ticket.to_string(),
        patient_id: entry.patient_id.to_string(),
        appointment_id: entry
            .appointment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        provider_id: entry.provider_id.to_string(),
        initials: entry.initials.as_str().to_owned(),
        status: queue_status_to_proto(entry.status).into(),
        arrived_time: Some(timestamp_to_proto(entry.arrived_at)),
        appointment_start_time: entry.appointment_start.map(timestamp_to_proto),
        kind: match entry.kind() {
            QueueEntryKind::Appointment => pb::QueueEntryKind::Appointment,
            QueueEntryKind::WalkIn => pb::QueueEntryKind::WalkIn,
        }
        .into(),
        first_visit: entry.first_visit,
        routed_to_provider_id: entry.routed_to.to_string(),
        position: position(entry),
        called_time: entry.called_at.map(timestamp_to_proto),
        call_count: i32::try_from(entry.call_count).unwrap_or(i32::MAX),
        waited_minutes: 0,
        estimated_wait_minutes: 0,
        overdue: false,
    }
}

fn minutes(minutes: u32) -> i32 {
    i32::try_from(minutes).unwrap_or(i32::MAX)
}

/// An entry as the staff watch shows it, with its wait when it is waiting.
fn watched_entry(entry: &QueueEntry, wait: Option<Wait>) -> pb::QueueEntry {
    let mut shown = queue_entry_to_proto(entry);
    if let Some(wait) = wait {
        shown.waited_minutes = minutes(wait.waited_minutes);
        shown.estimated_wait_minutes = minutes(wait.estimated_minutes);
        shown.overdue = wait.overdue;
    }
    shown
}

/// The waiting-room display's view of the queue: tickets and initials, nothing that identifies
/// a patient. Entries that left are not shown.
pub fn waiting_room(
    entries: &[QueueEntry],
    alert_after: TimeDelta,
    now: DateTime<Utc>,
) -> pb::WatchWaitingRoomResponse {
    let mut tickets = Vec::with_capacity(entries.len());
    for (entry, wait) in entries.iter().zip(waits(entries, now, alert_after)) {
        if entry.status == QueueEntryStatus::Left {
            continue;
        }
        tickets.push(pb::WaitingRoomTicket {
            ticket_number: entry.ticket.to_string(),
            initials: entry.initials.as_str().to_owned(),
            status: queue_status_to_proto(entry.status).into(),
            position: position(entry),
            estimated_wait_minutes: wait.map_or(0, |wait| minutes(wait.estimated_minutes)),
        });
    }
    pb::WatchWaitingRoomResponse {
        tickets,
        event_time: Some(timestamp_to_proto(now)),
    }
}

pub fn staff_queue(
    day: NaiveDate,
    entries: &[QueueEntry],
    changed: Option<clinic_common::ids::QueueEntryId>,
    alert_after: TimeDelta,
    now: DateTime<Utc>,
) -> pb::WatchQueueResponse {
    let waits = waits(entries, now, alert_after);
    pb::WatchQueueResponse {
        day: Some(date_to_proto(day)),
        entries: entries
            .iter()
            .zip(waits)
            .map(|(entry, wait)| watched_entry(entry, wait))
            .collect(),
        changed_queue_entry_id: changed.map(|id| id.to_string()).unwrap_or_default(),
        event_time: Some(timestamp_to_proto(now)),
    }
}

/// The longest range `ListScheduleExceptions` reads at once.
const MAX_EXCEPTION_RANGE: TimeDelta = TimeDelta::days(366);

fn day_of_week(day: i32) -> Result<Weekday, &'static str> {
    match pb::DayOfWeek::try_from(day) {
        Ok(pb::DayOfWeek::Unspecified) => Err("is required"),
        Ok(known) => u32::try_from(i32::from(known))
            .ok()
            .and_then(weekday_from_number)
            .ok_or("is not a known day of the week"),
        Err(_) => Err("is not a known day of the week"),
    }
}

pub(super) fn day_of_week_to_proto(weekday: Weekday) -> pb::DayOfWeek {
    match weekday {
        Weekday::Mon => pb::DayOfWeek::Monday,
        Weekday::Tue => pb::DayOfWeek::Tuesday,
        Weekday::Wed => pb::DayOfWeek::Wednesday,
        Weekday::Thu => pb::DayOfWeek::Thursday,
        Weekday::Fri => pb::DayOfWeek::Friday,
        Weekday::Sat => pb::DayOfWeek::Saturday,
        Weekday::Sun => pb::DayOfWeek::Sunday,
    }
}

/// Minutes past local midnight of a wall time; 24:00 is read as 1440 (only an end may be that).
fn minute_of_day(time: Option<&pb::TimeOfDay>) -> Result<u16, &'static str> {
    let time = time.ok_or("is required")?;
    let in_range = (0..=24).contains(&time.hours)
        && (0..60).contains(&time.minutes)
        && !(time.hours == 24 && time.minutes != 0);
    if !in_range {
        return Err("must be a time of day from 00:00 to 24:00");
    }
    u16::try_from(time.hours * 60 + time.minutes).map_err(|_| "must be a time of day")
}

pub(super) fn time_of_day_to_proto(minute: u16) -> pb::TimeOfDay {
    pb::TimeOfDay {
        hours: i32::from(minute / 60),
        minutes: i32::from(minute % 60),
    }
}

pub fn working_hours(
    request: &pb::SetWorkingHoursRequest,
) -> Result<(ProviderId, WeeklyHours), FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(hours) = &request.working_hours else {
        violations.add("working_hours", "is required");
        return Err(violations);
    };
    let provider_id =
        violations.check("working_hours.provider_id", provider_id(&hours.provider_id));
    if hours.intervals.len() > MAX_WEEKLY_INTERVALS {
        violations.add(
            "working_hours.intervals",
            format!("must list at most {MAX_WEEKLY_INTERVALS} intervals"),
        );
        return Err(violations);
    }
    let week = weekly_hours(&hours.intervals, "working_hours.intervals", &mut violations);
    match (provider_id, week) {
        (Some(provider_id), Some(week)) if violations.is_empty() => Ok((provider_id, week)),
        _ => Err(violations),
    }
}

/// A working week from its intervals, each bad one reported under `field[index]`.
pub(super) fn weekly_hours(
    given: &[pb::WorkingInterval],
    field: &str,
    violations: &mut FieldViolations,
) -> Option<WeeklyHours> {
    let mut intervals = Vec::with_capacity(given.len());
    for (index, interval) in given.iter().enumerate() {
        let field = |name: &str| format!("{field}[{index}].{name}");
        let weekday = violations.check(&field("day_of_week"), day_of_week(interval.day_of_week));
        let start = violations.check(
            &field("start_time"),
            minute_of_day(interval.start_time.as_ref()),
        );
        let end = violations.check(
            &field("end_time"),
            minute_of_day(interval.end_time.as_ref()),
        );
        if let (Some(weekday), Some(start), Some(end)) = (weekday, start, end) {
            match WorkingInterval::new(weekday, start, end) {
                Ok(interval) => intervals.push(interval),
                Err((start_problem, end_problem)) => {
                    if let Some(problem) = start_problem {
                        violations.add(field("start_time"), problem);
                    }
                    if let Some(problem) = end_problem {
                        violations.add(field("end_time"), problem);
                    }
                }
            }
        }
    }
    if !violations.is_empty() {
        return None;
    }
    match WeeklyHours::new(intervals) {
        Ok(week) => Some(week),
        Err(WeeklyHoursProblem::Overlapping(indexes)) => {
            for index in indexes {
                violations.add(
                    format!("{field}[{index}]"),
                    "overlaps another interval of the same day",
                );
            }
            None
        }
        Err(WeeklyHoursProblem::TooMany) => {
            violations.add(
                field,
                format!("must list at most {MAX_WEEKLY_INTERVALS} intervals"),
            );
            None
        }
    }
}

/// A week's intervals as protobuf.
pub(super) fn intervals_to_proto(hours: &WeeklyHours) -> Vec<pb::WorkingInterval> {
    hours
        .intervals()
        .iter()
        .map(|interval| pb::WorkingInterval {
            day_of_week: day_of_week_to_proto(interval.weekday()).into(),
            start_time: Some(time_of_day_to_proto(interval.start_minute())),
            end_time: Some(time_of_day_to_proto(interval.end_minute())),
        })
        .collect()
}

pub fn working_hours_to_proto(provider_id: ProviderId, hours: &WeeklyHours) -> pb::WorkingHours {
    pb::WorkingHours {
        provider_id: provider_id.to_string(),
        intervals: hours
            .intervals()
            .iter()
            .map(|interval| pb::WorkingInterval {
                day_of_week: day_of_week_to_proto(interval.weekday()).into(),
                start_time: Some(time_of_day_to_proto(interval.start_minute())),
                end_time: Some(time_of_day_to_proto(interval.end_minute())),
            })
            .collect(),
    }
}

pub fn provider_id_of(text: &str) -> Result<ProviderId, FieldViolations> {
    provider_id(text).map_err(|problem| FieldViolations::single("provider_id", problem))
}

pub(super) fn exception_kind(kind: i32) -> Result<ExceptionKind, &'static str> {
    match pb::ScheduleExceptionKind::try_from(kind) {
        Ok(pb::ScheduleExceptionKind::Holiday) => Ok(ExceptionKind::Holiday),
        Ok(pb::ScheduleExceptionKind::Block) => Ok(ExceptionKind::Block),
        Ok(pb::ScheduleExceptionKind::Break) => Ok(ExceptionKind::Break),
        Ok(pb::ScheduleExceptionKind::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known schedule exception kind"),
    }
}

pub(super) fn exception_kind_to_proto(kind: ExceptionKind) -> pb::ScheduleExceptionKind {
    match kind {
        ExceptionKind::Holiday => pb::ScheduleExceptionKind::Holiday,
        ExceptionKind::Block => pb::ScheduleExceptionKind::Block,
        ExceptionKind::Break => pb::ScheduleExceptionKind::Break,
    }
}

pub fn new_schedule_exception(
    request: &pb::AddScheduleExceptionRequest,
) -> Result<NewScheduleException, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(exception) = &request.schedule_exception else {
        violations.add("schedule_exception", "is required");
        return Err(violations);
    };
    let provider_id = violations.check(
        "schedule_exception.provider_id",
        optional(&exception.provider_id, provider_id),
    );
    let start = violations.check(
        "schedule_exception.start_time",
        timestamp_from_proto(exception.start_time.as_ref()),
    );
    let end = violations.check(
        "schedule_exception.end_time",
        timestamp_from_proto(exception.end_time.as_ref()),
    );
    let kind = violations.check("schedule_exception.kind", exception_kind(exception.kind));
    let note = violations.check(
        "schedule_exception.note",
        Note::parse_optional(&exception.note),
    );
    let span = match (start, end) {
        (Some(start), Some(end)) => match ExceptionSpan::new(start, end) {
            Ok(span) => Some(span),
            Err((start_problem, end_problem)) => {
                if let Some(problem) = start_problem {
                    violations.add("schedule_exception.start_time", problem);
                }
                if let Some(problem) = end_problem {
                    violations.add("schedule_exception.end_time", problem);
                }
                None
            }
        },
        _ => None,
    };
    match (request_id, provider_id, span, kind, note) {
        (Some(request_id), Some(provider_id), Some(span), Some(kind), Some(note))
            if violations.is_empty() =>
        {
            Ok(NewScheduleException {
                provider_id,
                span,
                kind,
                note,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn schedule_exception_to_proto(exception: &ScheduleException) -> pb::ScheduleException {
    pb::ScheduleException {
        schedule_exception_id: exception.schedule_exception_id.to_string(),
        provider_id: exception
            .provider_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
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

/// What `ListScheduleExceptions` asks for.
pub struct ExceptionQuery {
    pub span: (DateTime<Utc>, DateTime<Utc>),
    pub provider_id: Option<ProviderId>,
    pub size: u32,
    pub offset: u64,
}

pub fn exception_query(
    request: &pb::ListScheduleExceptionsRequest,
) -> Result<ExceptionQuery, FieldViolations> {
    let mut violations = FieldViolations::new();
    let start = violations.check(
        "start_time",
        timestamp_from_proto(request.start_time.as_ref()),
    );
    let end = violations.check("end_time", timestamp_from_proto(request.end_time.as_ref()));
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            violations.add("end_time", "must be after start_time");
        } else if end - start > MAX_EXCEPTION_RANGE {
            violations.add("end_time", "must be at most 366 days after start_time");
        }
    }
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let page = page(request.page.as_ref(), &mut violations);
    match (start, end, provider_id, page) {
        (Some(start), Some(end), Some(provider_id), Some((size, offset)))
            if violations.is_empty() =>
        {
            Ok(ExceptionQuery {
                span: (start, end),
                provider_id,
                size,
                offset,
            })
        }
        _ => Err(violations),
    }
}

pub fn schedule_exception_id(text: &str) -> Result<ScheduleExceptionId, FieldViolations> {
    ScheduleExceptionId::parse(text)
        .map_err(|problem| FieldViolations::single("schedule_exception_id", problem))
}

/// What `FindFreeSlots` asks for.
pub struct SlotQuery {
    pub appointment_type_id: AppointmentTypeId,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub provider_id: Option<ProviderId>,
    pub preferences: SlotPreferences,
    pub size: u32,
    pub offset: u64,
}

pub fn slot_query(request: &pb::FindFreeSlotsRequest) -> Result<SlotQuery, FieldViolations> {
    let mut violations = FieldViolations::new();
    let appointment_type_id = violations.check(
        "appointment_type_id",
        AppointmentTypeId::parse(&request.appointment_type_id),
    );
    let range = request.date_range.as_ref();
    if range.is_none() {
        violations.add("date_range", "is required");
    }
    let first = range.and_then(|range| {
        violations.check(
            "date_range.start_date",
            date_from_proto(range.start_date.as_ref()),
        )
    });
    let last = range.and_then(|range| {
        violations.check(
            "date_range.end_date",
            date_from_proto(range.end_date.as_ref()),
        )
    });
    if let (Some(first), Some(last)) = (first, last) {
        if last < first {
            violations.add("date_range.end_date", "must not be before start_date");
        } else if (last - first).num_days() >= MAX_SEARCH_DAYS {
            violations.add(
                "date_range.end_date",
                format!("must be at most {MAX_SEARCH_DAYS} days from start_date, both included"),
            );
        }
    }
    let provider_id = violations.check("provider_id", optional(&request.provider_id, provider_id));
    let preferences = slot_preferences(request.preferences.as_ref(), &mut violations);
    let page = page(request.page.as_ref(), &mut violations);
    match (appointment_type_id, first, last, provider_id, page) {
        (
            Some(appointment_type_id),
            Some(first),
            Some(last),
            Some(provider_id),
            Some((size, offset)),
        ) if violations.is_empty() => Ok(SlotQuery {
            appointment_type_id,
            first,
            last,
            provider_id,
            preferences,
            size,
            offset,
        }),
        _ => Err(violations),
    }
}

pub(super) fn slot_preferences(
    preferences: Option<&pb::SlotPreferences>,
    violations: &mut FieldViolations,
) -> SlotPreferences {
    let Some(preferences) = preferences else {
        return SlotPreferences::default();
    };
    let earliest_start_minute = match &preferences.earliest_start_time {
        Some(time) => violations.check(
            "preferences.earliest_start_time",
            minute_of_day(Some(time)).and_then(|minute| {
                if minute < MINUTES_PER_DAY {
                    Ok(minute)
                } else {
                    Err("must be before 24:00")
                }
            }),
        ),
        None => None,
    };
    let latest_end_minute = match &preferences.latest_end_time {
        Some(time) => violations.check("preferences.latest_end_time", minute_of_day(Some(time))),
        None => None,
    };
    if let (Some(earliest), Some(latest)) = (earliest_start_minute, latest_end_minute)
        && latest <= earliest
    {
        violations.add(
            "preferences.latest_end_time",
            "must be after earliest_start_time",
        );
    }
    let mut weekdays = Vec::with_capacity(preferences.days_of_week.len());
    for (index, day) in preferences.days_of_week.iter().enumerate() {
        if let Some(weekday) = violations.check(
            &format!("preferences.days_of_week[{index}]"),
            day_of_week(*day),
        ) {
            weekdays.push(weekday);
        }
    }
    SlotPreferences {
        earliest_start_minute,
        latest_end_minute,
        weekdays,
    }
}

pub fn free_slot_to_proto(
    (start, provider_id): (DateTime<Utc>, ProviderId),
    length: TimeDelta,
) -> pb::FreeSlot {
    pb::FreeSlot {
        provider_id: provider_id.to_string(),
        start_time: Some(timestamp_to_proto(start)),
        end_time: Some(timestamp_to_proto(start + length)),
    }
}
