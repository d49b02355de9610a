//! Scheduling's model and rules, free of storage and transport.

mod appointment;
mod appointment_type;
mod error;
mod hours;
mod kiosk;
mod provider;
mod queue;
mod reports;
mod resources;
mod slots;
mod triage;
// Front desk flow: waitlist, planned visits, call tasks.
pub mod calls;
pub mod planned;
pub mod reminders;
pub mod waitlist;

use std::fmt;

use chrono::NaiveDate;

pub use appointment::{
    Appointment, AppointmentSlot, AppointmentStatus, BookingRequest, Cancellation, CheckIn,
    Confirmation, ConfirmationCode, Initials, MAX_APPOINTMENT_LENGTH, NewAppointment, Note,
    PriceCode, Reschedule, RescheduleRequest, StatusChange, Step,
};
pub use appointment_type::{
    AppointmentType, AppointmentTypeId, NewAppointmentType, TypeDetails, TypeName, VisitLength,
};
pub use error::SchedulingError;
pub use hours::{
    ExceptionKind, ExceptionSpan, MAX_WEEKLY_INTERVALS, MINUTES_PER_DAY, NewScheduleException,
    ScheduleException, ScheduleExceptionId, Unavailable, WeeklyHours, WeeklyHoursProblem,
    WorkingInterval, check_availability, weekday_from_number, weekday_name,
};
pub use kiosk::{
    CheckInCommand, CheckInTarget, KioskGuard, KioskLock, KioskLookup, KioskMiss, LockScope,
    LookupTarget, NameKey, PatientFacts, PhoneLastFour, findable_at_kiosk,
};
pub use provider::{DisplayName, NewProvider, Provider, ProviderKind, ProviderUpdate};
pub use queue::{
    CallNext, CalledTo, QueueEntry, QueueEntryKind, QueueEntryStatus, QueueStep, Ticket, Wait,
    arrange, waits,
};
pub use reports::{ReportPeriod, ReportSpan, ScheduleCounts, ScheduleReport};
pub use resources::{
    Candidate, Closure, MAX_REQUIREMENTS, NewResource, NewResourceException, Obstacle, Resource,
    ResourceCalendar, ResourceError, ResourceException, ResourceExceptionId, ResourceId,
    ResourceKind, ResourceNeeds, ResourceRequirement, ResourceUpdate, assign, can_assign,
    resource_availability,
};
pub use slots::{MAX_SEARCH_DAYS, SlotPreferences, SlotQuery, SlotSearch, free_slots};
pub use triage::{
    ConsultantLoad, FirstVisitRoute, ReturnVisitRoute, Routing, TriagePolicy, WalkIn, WalkInRequest,
};

/// Evidence a patient gives at the kiosk that they are who the appointment is for. It is checked
/// by the patient registry, which holds the facts; scheduling never stores it.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityEvidence {
    pub date_of_birth: NaiveDate,
    /// Exactly four digits. May be left out when the appointment was named by its confirmation
    /// code, which is itself a secret only the patient's reminder carries.
    pub phone_last_four: Option<PhoneLastFour>,
}

impl fmt::Debug for IdentityEvidence {
    // Personal data: never in a log line, even by accident.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityEvidence(..)")
    }
}
