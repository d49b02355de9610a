//! Protobuf ⇄ domain conversions for scheduling, one module per area as in `domain`. Requests
//! become domain commands here, with every invalid field reported at once; nothing past this
//! module sees a protobuf type.

mod appointment;
mod appointment_type;
mod calls;
mod hours;
mod kiosk;
mod planned;
mod provider;
mod queue;
mod reminders;
mod reports;
mod resources;
mod slots;
mod waitlist;

pub use appointment::{
    appointment_query, appointment_to_proto, cancellation, new_appointment, reschedule,
    status_change_to_proto, status_to_proto,
};
pub use appointment_type::{
    appointment_type_id, appointment_type_to_proto, new_appointment_type, type_update,
};
pub use calls::{outcome_from_proto, task_to_proto};
pub use hours::{
    day_of_week, day_of_week_to_proto, exception_kind, exception_kind_to_proto, exception_query,
    intervals_to_proto, minute_of_day, new_schedule_exception, schedule_exception_id,
    schedule_exception_to_proto, time_of_day_to_proto, weekly_hours, working_hours,
    working_hours_to_proto,
};
pub use kiosk::{KioskView, check_in, kiosk_appointment_to_proto, kiosk_lookup};
pub use planned::{book_planned_visit, plan_to_proto, planned_visit_draft};
pub use provider::{new_provider, provider_to_proto, provider_update};
pub use queue::{call_next, queue_entry_to_proto, staff_queue, waiting_room, walk_in};
pub use reminders::{message_to_proto, reply};
pub use reports::{report_period, report_to_proto};
pub use resources::{
    new_resource, new_resource_exception, requirements_to_proto, resource_exception_to_proto,
    resource_ids, resource_kind, resource_to_proto, resource_update, type_requirements,
};
pub use slots::{free_slot_to_proto, slot_preferences, slot_query};
pub use waitlist::{entry_to_proto, offer_to_proto, waitlist_draft};

use clinic_common::ids::{AppointmentId, PatientId, ProviderId, QueueEntryId};
use clinic_common::validation::FieldViolations;
use clinic_proto::page_from_proto;
use uuid::Uuid;

/// Default and largest page sizes of the `List…` calls.
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 200;

pub fn appointment_id(text: &str) -> Result<AppointmentId, &'static str> {
    AppointmentId::parse(text).map_err(|_| "must be an appointment id (UUID)")
}

pub fn queue_entry_id(text: &str) -> Result<QueueEntryId, &'static str> {
    QueueEntryId::parse(text).map_err(|_| "must be a queue entry id (UUID)")
}

pub fn patient_id(text: &str) -> Result<PatientId, &'static str> {
    PatientId::parse(text).map_err(|_| "must be a patient id (UUID)")
}

pub fn provider_id(text: &str) -> Result<ProviderId, &'static str> {
    ProviderId::parse(text).map_err(|_| "must be a provider id (UUID)")
}

pub fn provider_id_of(text: &str) -> Result<ProviderId, FieldViolations> {
    provider_id(text).map_err(|problem| FieldViolations::single("provider_id", problem))
}

/// An optional id filter: empty means no filter.
pub fn optional<T>(
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

/// The same id parse for every uuid the front desk's requests carry.
pub fn uuid_field(violations: &mut FieldViolations, field: &str, text: &str) -> Option<Uuid> {
    violations.check(
        field,
        Uuid::parse_str(text).map_err(|_| "must be an id (UUID)"),
    )
}
