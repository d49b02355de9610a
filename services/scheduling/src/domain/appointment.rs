//! Appointments: when a patient sees a provider, the rules a booking must follow, and which status
//! changes are allowed.

use chrono::{DateTime, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, RequestId, request_fingerprint};
use clinic_common::time::local_date;
use clinic_common::validation::{FieldViolations, optional_text, required_text};

use super::{AppointmentType, AppointmentTypeId, ResourceId, ResourceNeeds, SchedulingError};

/// The longest appointment that can be booked: a full working day.
pub const MAX_APPOINTMENT_LENGTH: TimeDelta = TimeDelta::hours(8);

/// A cancellation closer than this to the start is late (a KPI, and often a fee).
pub const LATE_CANCELLATION_NOTICE: TimeDelta = TimeDelta::hours(24);

/// Where an appointment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentStatus {
    Scheduled,
    Confirmed,
    Arrived,
    Seated,
    Completed,
    CheckedOut,
    Cancelled,
    NoShow,
    Rescheduled,
}

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 9] = [
        AppointmentStatus::Scheduled,
        AppointmentStatus::Confirmed,
        AppointmentStatus::Arrived,
        AppointmentStatus::Seated,
        AppointmentStatus::Completed,
        AppointmentStatus::CheckedOut,
        AppointmentStatus::Cancelled,
        AppointmentStatus::NoShow,
        AppointmentStatus::Rescheduled,
    ];

    /// The stored form.
    pub fn as_str(&self) -> &'static str {
        match self {
            AppointmentStatus::Scheduled => "scheduled",
            AppointmentStatus::Confirmed => "confirmed",
            AppointmentStatus::Arrived => "arrived",
            AppointmentStatus::Seated => "seated",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::CheckedOut => "checked_out",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::NoShow => "no_show",
            AppointmentStatus::Rescheduled => "rescheduled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the appointment still holds its provider's time. Active appointments of one
    /// provider never overlap; only active appointments can be cancelled.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            AppointmentStatus::Scheduled
                | AppointmentStatus::Confirmed
                | AppointmentStatus::Arrived
                | AppointmentStatus::Seated
        )
    }

    /// The life cycle: the status `step` leads to from this one, or `None` when the step is not
    /// allowed here. Every status change goes through this one table.
    ///
    /// ```text
    /// scheduled ─confirm→ confirmed
    /// scheduled | confirmed ─check in→ arrived ─seat→ seated ─complete→ completed ─check out→ checked_out
    /// scheduled | confirmed | arrived | seated ─cancel→ cancelled
    /// scheduled | confirmed ─no-show→ no_show          (once the start has passed)
    /// scheduled | confirmed ─reschedule→ rescheduled   (linked to the new appointment)
    /// ```
    pub fn after(self, step: Step) -> Option<AppointmentStatus> {
        use AppointmentStatus as S;
        match (self, step) {
            (S::Scheduled, Step::Confirm) => Some(S::Confirmed),
            (S::Scheduled | S::Confirmed, Step::CheckIn) => Some(S::Arrived),
            (S::Arrived, Step::Seat) => Some(S::Seated),
            (S::Seated, Step::Complete) => Some(S::Completed),
            (S::Completed, Step::CheckOut) => Some(S::CheckedOut),
            (S::Scheduled | S::Confirmed | S::Arrived | S::Seated, Step::Cancel) => {
                Some(S::Cancelled)
            }
            (S::Scheduled | S::Confirmed, Step::MarkNoShow) => Some(S::NoShow),
            (S::Scheduled | S::Confirmed, Step::Reschedule) => Some(S::Rescheduled),
            _ => None,
        }
    }
}

/// A step in an appointment's life, as staff, the kiosk or the queue take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Confirm,
    CheckIn,
    Seat,
    Complete,
    CheckOut,
    Cancel,
    MarkNoShow,
    Reschedule,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Confirm,
        Step::CheckIn,
        Step::Seat,
        Step::Complete,
        Step::CheckOut,
        Step::Cancel,
        Step::MarkNoShow,
        Step::Reschedule,
    ];

    /// How an error message words the step: "appointment … is completed and cannot be {this}".
    pub fn as_action(self) -> &'static str {
        match self {
            Step::Confirm => "confirmed",
            Step::CheckIn => "checked in",
            Step::Seat => "seated",
            Step::Complete => "completed",
            Step::CheckOut => "checked out",
            Step::Cancel => "cancelled",
            Step::MarkNoShow => "marked as a no-show",
            Step::Reschedule => "rescheduled",
        }
    }
}

/// What is wrong with a requested time slot, per end of the slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotProblems {
    pub start: Option<&'static str>,
    pub end: Option<&'static str>,
}

/// The half-open interval `[start, end)` an appointment occupies. Two slots overlap when each
/// starts before the other ends, so back-to-back appointments (one ends at 10:00, the next starts
/// at 10:00) do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppointmentSlot {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl AppointmentSlot {
    /// A slot for a new booking: both ends on a whole minute, the end after the start, at most
    /// [`MAX_APPOINTMENT_LENGTH`] long. A slot in the past is allowed: the desk records walk-ins
    /// after the fact, and demo data is seeded for a whole day.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, SlotProblems> {
        let mut problems = SlotProblems::default();
        if !on_whole_minute(start) {
            problems.start = Some("must be on a whole minute");
        }
        problems.end = if !on_whole_minute(end) {
            Some("must be on a whole minute")
        } else if end <= start {
            Some("must be after start_time")
        } else if end - start > MAX_APPOINTMENT_LENGTH {
            Some("must be at most 8 hours after start_time")
        } else {
            None
        };
        if problems == SlotProblems::default() {
            Ok(AppointmentSlot { start, end })
        } else {
            Err(problems)
        }
    }

    /// A slot read back from storage, where it was checked on the way in.
    pub fn stored(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(AppointmentSlot { start, end })
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
}

fn on_whole_minute(instant: DateTime<Utc>) -> bool {
    instant.second() == 0 && instant.nanosecond() == 0
}

/// The code a reminder carries so that a patient can find their appointment at the kiosk. It is
/// short enough to type and uses no characters that are easily confused (0/O, 1/I/L).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationCode(String);

impl ConfirmationCode {
    /// 31 symbols: 2-9 and A-Z without I, L and O. Six of them give about 887 million codes.
    pub const ALPHABET: &'static [u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    pub const LENGTH: usize = 6;

    /// A fresh random code. Uniqueness is the store's job: it retries on a collision.
    pub fn generate() -> Self {
        // The largest multiple of the alphabet's size below 256: bytes at or above it are
        // skipped, so that every symbol is equally likely.
        let limit = (256 / Self::ALPHABET.len() * Self::ALPHABET.len()) as u8;
        let mut code = String::with_capacity(Self::LENGTH);
        while code.len() < Self::LENGTH {
            // Version 4 UUIDs carry 122 bits from the operating system's CSPRNG; bytes 6 and 8
            // hold the version and variant bits and are left out.
            let random = uuid::Uuid::new_v4().into_bytes();
            for (index, byte) in random.into_iter().enumerate() {
                if index == 6 || index == 8 || byte >= limit || code.len() == Self::LENGTH {
                    continue;
                }
                code.push(char::from(
                    Self::ALPHABET[usize::from(byte) % Self::ALPHABET.len()],
                ));
            }
        }
        ConfirmationCode(code)
    }

    /// A code as a patient types it: surrounding spaces and case do not matter.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let code = text.trim().to_ascii_uppercase();
        if code.len() != Self::LENGTH || !code.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            return Err("must be the six-character code from the reminder");
        }
        Ok(ConfirmationCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A patient's initials as the waiting-room display shows them ("M. G."): never a full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initials(String);

impl Initials {
    /// The initials of a given and a family name, by one rule for every script: the first
    /// letter of the given name and the first letter of the family name, each marked as the
    /// rest of a name hidden, and nothing more of either name.
    ///
    /// - Alphabetic scripts (Latin, Cyrillic, …): the letters capitalised, each followed by a
    ///   period, given name first as the names are said: "María José García Núñez" is "M. G.".
    /// - Chinese, Japanese and Korean script, where one character is a syllable and the family
    ///   name comes first: each name's first character followed by "*", the usual mark there
    ///   for a masked name, family name first: "张 伟" is "张* 伟*", "佐藤 美咲" is "佐* 美*".
    ///
    /// Which of the two is decided by the family name's first letter. A name with no letter
    /// contributes nothing.
    pub fn of(given_name: &str, family_name: &str) -> Self {
        let initial = |name: &str| {
            let first = name.chars().find(|c| c.is_alphabetic())?;
            Some(if is_cjk(first) {
                format!("{first}*")
            } else {
                format!("{}.", first.to_uppercase())
            })
        };
        let family_first = family_name
            .chars()
            .find(|c| c.is_alphabetic())
            .is_some_and(is_cjk);
        let order = if family_first {
            [family_name, given_name]
        } else {
            [given_name, family_name]
        };
        let parts: Vec<String> = order.into_iter().filter_map(initial).collect();
        if parts.is_empty() {
            // Registered names always have a letter; keep the display from showing nothing.
            return Initials("?".into());
        }
        Initials(parts.join(" "))
    }

    /// Initials read back from storage.
    pub fn stored(text: String) -> Self {
        Initials(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `c` is a Han ideograph, kana or hangul: scripts whose names are not abbreviated to
/// initials.
fn is_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{3040}'..='\u{30FF}' // hiragana and katakana
            | '\u{3400}'..='\u{4DBF}' // CJK extension A
            | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
            | '\u{AC00}'..='\u{D7AF}' // hangul syllables
            | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
            | '\u{20000}'..='\u{3134F}' // CJK extensions B to G
    )
}

/// Billing's price-list code for the visit ("CONS-01"): 1 to 32 letters, digits, `-`, `_`, `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceCode(String);

impl PriceCode {
    /// An optional code: empty means none.
    pub fn parse_optional(text: &str) -> Result<Option<Self>, &'static str> {
        let code = text.trim();
        if code.is_empty() {
            return Ok(None);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if code.len() > 32 || !code.chars().all(allowed) {
            return Err("must be up to 32 letters, digits, '-', '_' or '.'");
        }
        Ok(Some(PriceCode(code.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text of up to 500 characters: why the patient comes, or why a visit was cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(text: &str) -> Result<Self, String> {
        required_text(text, Self::MAX_CHARS).map(Note)
    }

    pub fn parse_optional(text: &str) -> Result<Option<Self>, String> {
        Ok(optional_text(text, Self::MAX_CHARS)?.map(Note))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A booking as requested, before its appointment type (if it names one) fills in the rest.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub patient_id: PatientId,
    pub provider_id: ProviderId,
    pub start: DateTime<Utc>,
    /// `None` when the appointment type's length decides the end.
    pub end: Option<DateTime<Utc>>,
    pub price_code: Option<PriceCode>,
    pub reason: Option<Note>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    /// Chairs, rooms or equipment the caller chose.
    pub resource_ids: Vec<ResourceId>,
    pub request_id: RequestId,
}

impl BookingRequest {
    /// A digest of the request as given (not as the type completed it, since a type can change
    /// between a first call and its retry), to recognise a retry. Requests without a type digest
    /// exactly as bookings did before types existed.
    pub fn fingerprint(&self) -> String {
        let start = self.start.to_rfc3339();
        let end = self.end.map(|end| end.to_rfc3339()).unwrap_or_default();
        let (patient_id, provider_id) = (self.patient_id.to_string(), self.provider_id.to_string());
        let mut parts: Vec<&str> = vec![
            &patient_id,
            &provider_id,
            &start,
            &end,
            self.price_code.as_ref().map_or("", PriceCode::as_str),
            self.reason.as_ref().map_or("", Note::as_str),
        ];
        let type_id = self.appointment_type_id.map(|id| id.to_string());
        if let Some(type_id) = &type_id {
            parts.push(type_id);
        }
        let resources: Vec<String> = self.resource_ids.iter().map(|id| id.to_string()).collect();
        if !resources.is_empty() {
            parts.push("resources");
            parts.extend(resources.iter().map(String::as_str));
        }
        request_fingerprint(&parts)
    }

    /// The booking to make: the type, when named, gives the end (as long as the type's visit)
    /// and the price code, unless the request gives them itself. A deleted type cannot be
    /// booked.
    pub fn resolve(
        self,
        appointment_type: Option<&AppointmentType>,
    ) -> Result<NewAppointment, SchedulingError> {
        let fingerprint = self.fingerprint();
        let (end, price_code) = match appointment_type {
            Some(appointment_type) => {
                if appointment_type.deleted_at.is_some() {
                    return Err(SchedulingError::UnusableAppointmentType(
                        "is deleted and cannot be booked",
                    ));
                }
                let details = &appointment_type.details;
                (
                    self.end.unwrap_or(self.start + details.length.as_delta()),
                    self.price_code.or_else(|| Some(details.price_code.clone())),
                )
            }
            None => match self.end {
                Some(end) => (end, self.price_code),
                None => {
                    return Err(FieldViolations::single(
                        "appointment.end_time",
                        "is required unless appointment_type_id is given",
                    )
                    .into());
                }
            },
        };
        let slot = AppointmentSlot::new(self.start, end).map_err(|problems| {
            let mut violations = FieldViolations::new();
            if let Some(problem) = problems.start {
                violations.add("appointment.start_time", problem);
            }
            if let Some(problem) = problems.end {
                violations.add("appointment.end_time", problem);
            }
            SchedulingError::from(violations)
        })?;
        Ok(NewAppointment {
            patient_id: self.patient_id,
            provider_id: self.provider_id,
            slot,
            price_code,
            reason: self.reason,
            appointment_type_id: self.appointment_type_id,
            // The type's requirements are added by the caller, which reads them from the store.
            resources: ResourceNeeds {
                requirements: Vec::new(),
                chosen: self.resource_ids,
            },
            request_id: self.request_id,
            fingerprint,
        })
    }
}

/// A request to book an appointment, complete.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub patient_id: PatientId,
    pub provider_id: ProviderId,
    pub slot: AppointmentSlot,
    pub price_code: Option<PriceCode>,
    pub reason: Option<Note>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    /// The resources to hold: the type's requirements and the caller's choices.
    pub resources: ResourceNeeds,
    pub request_id: RequestId,
    /// The [`BookingRequest`]'s digest, to recognise a retry.
    pub fingerprint: String,
}

/// A `RescheduleAppointment` request as given: the new end is `None` when the request leaves it
/// to the old appointment's length, which only the store knows.
#[derive(Debug, Clone)]
pub struct RescheduleRequest {
    pub appointment_id: AppointmentId,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// Another provider; the same when `None`.
    pub provider_id: Option<ProviderId>,
    pub request_id: RequestId,
}

/// A request to move an appointment to a new time (and perhaps another provider): the old one
/// becomes rescheduled and a new one, with the same patient, price code and reason, takes its
/// place.
#[derive(Debug, Clone)]
pub struct Reschedule {
    pub appointment_id: AppointmentId,
    pub slot: AppointmentSlot,
    /// Another provider; the same when `None`.
    pub provider_id: Option<ProviderId>,
    pub request_id: RequestId,
}

impl Reschedule {
    /// A digest of the request, to recognise a retry.
    pub fn fingerprint(&self) -> String {
        let mut parts = vec![
            self.appointment_id.to_string(),
            self.slot.start().to_rfc3339(),
            self.slot.end().to_rfc3339(),
        ];
        // Only when asked, so that a move to the same provider digests as it always has.
        parts.extend(self.provider_id.map(|id| id.to_string()));
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        request_fingerprint(&parts)
    }
}

/// How and when an appointment was called off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub reason: Note,
    /// Less than [`LATE_CANCELLATION_NOTICE`] before the start.
    pub late: bool,
}

/// What checking in an appointment comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckIn {
    /// First check-in: the patient joins the queue.
    Admit,
    /// The patient is already in the queue; they get the ticket they have.
    AlreadyQueued,
}

/// What confirming an appointment comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Confirm,
    AlreadyConfirmed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    pub appointment_id: AppointmentId,
    pub patient_id: PatientId,
    pub provider_id: ProviderId,
    pub slot: AppointmentSlot,
    pub status: AppointmentStatus,
    pub price_code: Option<PriceCode>,
    pub reason: Option<Note>,
    /// The type it was booked as, if any.
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub confirmation_code: ConfirmationCode,
    pub patient_initials: Initials,
    pub cancellation: Option<Cancellation>,
    /// Set once rescheduled: the appointment that replaced this one.
    pub rescheduled_to: Option<AppointmentId>,
    /// Set on a replacement: the appointment it replaced.
    pub rescheduled_from: Option<AppointmentId>,
    /// The chairs, rooms and equipment it holds, sorted.
    pub resource_ids: Vec<ResourceId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Appointment {
    /// The status `step` takes the appointment to, or `WrongStatus` naming the current one.
    pub fn advance(&self, step: Step) -> Result<AppointmentStatus, SchedulingError> {
        self.status
            .after(step)
            .ok_or_else(|| self.wrong_status(step.as_action()))
    }

    /// Whether the patient can be marked as not having come: only a scheduled or confirmed
    /// appointment, and only once its start has passed (until then they may still come).
    pub fn mark_no_show(&self, now: DateTime<Utc>) -> Result<AppointmentStatus, SchedulingError> {
        let next = self.advance(Step::MarkNoShow)?;
        if now < self.slot.start() {
            return Err(SchedulingError::NotStartedYet {
                appointment_id: self.appointment_id,
                start: self.slot.start(),
            });
        }
        Ok(next)
    }

    /// The clinic-local day the appointment starts on.
    pub fn local_day(&self, time_zone: Tz) -> NaiveDate {
        local_date(self.slot.start(), time_zone)
    }

    /// Calls the appointment off at `now`. Only active appointments can be cancelled.
    pub fn cancel(
        &self,
        reason: Note,
        now: DateTime<Utc>,
    ) -> Result<Cancellation, SchedulingError> {
        self.advance(Step::Cancel)?;
        Ok(Cancellation {
            reason,
            late: self.slot.start() - now < LATE_CANCELLATION_NOTICE,
        })
    }

    /// Whether the patient can check in on `today`: the appointment must be today's and
    /// scheduled or confirmed. Checking in twice is not an error.
    pub fn check_in(&self, today: NaiveDate, time_zone: Tz) -> Result<CheckIn, SchedulingError> {
        match self.status {
            AppointmentStatus::Arrived | AppointmentStatus::Seated => Ok(CheckIn::AlreadyQueued),
            _ => {
                self.advance(Step::CheckIn)?;
                let day = self.local_day(time_zone);
                if day == today {
                    Ok(CheckIn::Admit)
                } else {
                    Err(SchedulingError::NotToday {
                        appointment_id: self.appointment_id,
                        day,
                    })
                }
            }
        }
    }

    /// Whether the patient's confirmation can be recorded: only scheduled appointments move to
    /// confirmed; confirming twice is not an error.
    pub fn confirm(&self) -> Result<Confirmation, SchedulingError> {
        match self.status {
            AppointmentStatus::Confirmed => Ok(Confirmation::AlreadyConfirmed),
            _ => self.advance(Step::Confirm).map(|_| Confirmation::Confirm),
        }
    }

    fn wrong_status(&self, action: &'static str) -> SchedulingError {
        SchedulingError::WrongStatus {
            appointment_id: self.appointment_id,
            status: self.status,
            action,
        }
    }
}

/// One entry of an appointment's status history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub status: AppointmentStatus,
    pub changed_at: DateTime<Utc>,
    /// The caller's subject, e.g. `reception:maria`.
    pub changed_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().expect("valid instant")
    }

    const NOW: &str = "2026-11-22T14:00:00Z";

    #[test]
    fn a_slot_starts_and_ends_on_whole_minutes() {
        let problems =
            AppointmentSlot::new(at("2026-11-22T15:00:30Z"), at("2026-11-22T15:30:00.5Z"))
                .expect_err("refused");
        assert_eq!(problems.start, Some("must be on a whole minute"));
        assert_eq!(problems.end, Some("must be on a whole minute"));
    }

    #[test]
    fn a_slot_ends_after_it_starts_and_within_eight_hours() {
        let start = at("2026-11-22T15:00:00Z");
        let ends = |end: &str| AppointmentSlot::new(start, at(end)).map_err(|p| p.end);
        assert_eq!(
            ends("2026-11-22T15:00:00Z"),
            Err(Some("must be after start_time"))
        );
        assert_eq!(
            ends("2026-11-22T14:00:00Z"),
            Err(Some("must be after start_time"))
        );
        assert!(ends("2026-11-22T23:00:00Z").is_ok());
        assert_eq!(
            ends("2026-11-22T23:01:00Z"),
            Err(Some("must be at most 8 hours after start_time"))
        );
    }

    #[test]
    fn only_scheduled_confirmed_arrived_and_seated_are_active() {
        let active: Vec<_> = AppointmentStatus::ALL
            .into_iter()
            .filter(AppointmentStatus::is_active)
            .collect();
        assert_eq!(
            active,
            [
                AppointmentStatus::Scheduled,
                AppointmentStatus::Confirmed,
                AppointmentStatus::Arrived,
                AppointmentStatus::Seated
            ]
        );
        for status in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn confirmation_codes_use_only_unambiguous_characters() {
        for _ in 0..200 {
            let code = ConfirmationCode::generate();
            assert_eq!(code.as_str().len(), ConfirmationCode::LENGTH);
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| !"0O1IL".contains(c) && (c.is_ascii_uppercase() || c.is_ascii_digit())),
                "{code:?}"
            );
        }
        assert_ne!(ConfirmationCode::generate(), ConfirmationCode::generate());
    }

    #[test]
    fn confirmation_codes_are_read_in_any_case() {
        assert_eq!(
            ConfirmationCode::parse(" k7mp2x ").expect("valid").as_str(),
            "K7MP2X"
        );
        assert!(ConfirmationCode::parse("K7MP2").is_err());
        assert!(
            ConfirmationCode::parse("K7MP2O").is_err(),
            "O is not in the alphabet"
        );
    }

    #[test]
    fn initials_take_the_first_letter_of_each_name_in_every_script() {
        assert_eq!(Initials::of("María José", "García Núñez").as_str(), "M. G.");
        assert_eq!(Initials::of("ёлка", "Пётр").as_str(), "Ё. П.");
        assert_eq!(Initials::of("伟", "张").as_str(), "张* 伟*");
        assert_eq!(Initials::of("小明", "欧阳").as_str(), "欧* 小*");
        assert_eq!(Initials::of("美咲", "佐藤").as_str(), "佐* 美*");
        assert_eq!(Initials::of("민준", "김").as_str(), "김* 민*");
        assert_eq!(Initials::of("", "张").as_str(), "张*");
        assert_eq!(Initials::of("Wei", "Zhang").as_str(), "W. Z.");
        assert_eq!(Initials::of("", "").as_str(), "?");
    }

    #[test]
    fn price_codes_are_short_and_plain() {
        assert_eq!(
            PriceCode::parse_optional(" CONS-01 ").expect("valid"),
            Some(PriceCode("CONS-01".into()))
        );
        assert_eq!(PriceCode::parse_optional(""), Ok(None));
        assert!(PriceCode::parse_optional("CONS 01").is_err());
        assert!(PriceCode::parse_optional(&"A".repeat(33)).is_err());
    }

    fn appointment(start: &str, status: AppointmentStatus) -> Appointment {
        Appointment {
            appointment_id: AppointmentId::new(),
            patient_id: PatientId::new(),
            provider_id: ProviderId::new(),
            slot: AppointmentSlot::stored(at(start), at(start) + TimeDelta::minutes(30))
                .expect("valid"),
            status,
            price_code: None,
            reason: None,
            appointment_type_id: None,
            confirmation_code: ConfirmationCode::generate(),
            patient_initials: Initials::of("María", "García"),
            cancellation: None,
            rescheduled_to: None,
            rescheduled_from: None,
            resource_ids: Vec::new(),
            created_at: at(NOW),
            updated_at: at(NOW),
        }
    }

    #[test]
    fn cancelling_less_than_a_day_ahead_is_late() {
        let reason = || Note::parse("patient is ill").expect("valid");
        let tomorrow = appointment("2026-11-23T14:00:00Z", AppointmentStatus::Scheduled);
        assert!(
            !tomorrow
                .cancel(reason(), at(NOW))
                .expect("cancellable")
                .late
        );
        let soon = appointment("2026-11-23T13:59:00Z", AppointmentStatus::Confirmed);
        assert!(soon.cancel(reason(), at(NOW)).expect("cancellable").late);
        let cancelled = appointment("2026-11-23T14:00:00Z", AppointmentStatus::Cancelled);
        assert!(matches!(
            cancelled.cancel(reason(), at(NOW)),
            Err(SchedulingError::WrongStatus { .. })
        ));
    }

    #[test]
    fn check_in_is_for_todays_scheduled_or_confirmed_appointments() {
        let mexico = chrono_tz::America::Mexico_City;
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid");
        // 23:30 in Mexico City on the 22nd is already the 23rd in UTC.
        let late_tonight = appointment("2026-11-23T05:30:00Z", AppointmentStatus::Confirmed);
        assert_eq!(
            late_tonight.check_in(today, mexico).ok(),
            Some(CheckIn::Admit)
        );
        let tomorrow = appointment("2026-11-23T15:00:00Z", AppointmentStatus::Scheduled);
        assert!(matches!(
            tomorrow.check_in(today, mexico),
            Err(SchedulingError::NotToday { .. })
        ));
        let arrived = appointment("2026-11-22T15:00:00Z", AppointmentStatus::Arrived);
        assert_eq!(
            arrived.check_in(today, mexico).ok(),
            Some(CheckIn::AlreadyQueued)
        );
        let no_show = appointment("2026-11-22T15:00:00Z", AppointmentStatus::NoShow);
        assert!(no_show.check_in(today, mexico).is_err());
    }

    #[test]
    fn only_scheduled_appointments_can_be_confirmed() {
        let scheduled = appointment("2026-11-23T15:00:00Z", AppointmentStatus::Scheduled);
        assert_eq!(scheduled.confirm().ok(), Some(Confirmation::Confirm));
        let confirmed = appointment("2026-11-23T15:00:00Z", AppointmentStatus::Confirmed);
        assert_eq!(
            confirmed.confirm().ok(),
            Some(Confirmation::AlreadyConfirmed)
        );
        let cancelled = appointment("2026-11-23T15:00:00Z", AppointmentStatus::Cancelled);
        assert!(cancelled.confirm().is_err());
    }

    /// The whole life cycle, written out as a table independent of `after`'s match: every pair
    /// of status and step not listed here must be refused.
    const ALLOWED: [(AppointmentStatus, Step, AppointmentStatus); 14] = {
        use AppointmentStatus as S;
        [
            (S::Scheduled, Step::Confirm, S::Confirmed),
            (S::Scheduled, Step::CheckIn, S::Arrived),
            (S::Confirmed, Step::CheckIn, S::Arrived),
            (S::Arrived, Step::Seat, S::Seated),
            (S::Seated, Step::Complete, S::Completed),
            (S::Completed, Step::CheckOut, S::CheckedOut),
            (S::Scheduled, Step::Cancel, S::Cancelled),
            (S::Confirmed, Step::Cancel, S::Cancelled),
            (S::Arrived, Step::Cancel, S::Cancelled),
            (S::Seated, Step::Cancel, S::Cancelled),
            (S::Scheduled, Step::MarkNoShow, S::NoShow),
            (S::Confirmed, Step::MarkNoShow, S::NoShow),
            (S::Scheduled, Step::Reschedule, S::Rescheduled),
            (S::Confirmed, Step::Reschedule, S::Rescheduled),
        ]
    };

    #[test]
    fn the_life_cycle_allows_exactly_the_listed_steps_from_every_status() {
        for status in AppointmentStatus::ALL {
            for step in Step::ALL {
                let expected = ALLOWED
                    .iter()
                    .find(|(from, by, _)| *from == status && *by == step)
                    .map(|(_, _, to)| *to);
                assert_eq!(status.after(step), expected, "{status:?} by {step:?}");
            }
        }
    }

    #[test]
    fn finished_appointments_take_no_further_step() {
        for status in [
            AppointmentStatus::CheckedOut,
            AppointmentStatus::Cancelled,
            AppointmentStatus::NoShow,
            AppointmentStatus::Rescheduled,
        ] {
            for step in Step::ALL {
                assert_eq!(status.after(step), None, "{status:?} by {step:?}");
            }
        }
    }

    #[test]
    fn a_refused_step_names_the_current_status() {
        let completed = appointment("2026-11-22T15:00:00Z", AppointmentStatus::Completed);
        let error = completed.advance(Step::Seat).expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!(
                "appointment {} is completed and cannot be seated",
                completed.appointment_id
            )
        );
    }

    #[test]
    fn a_no_show_is_marked_only_once_the_start_has_passed() {
        let at_nine = appointment("2026-11-22T15:00:00Z", AppointmentStatus::Confirmed);
        assert!(matches!(
            at_nine.mark_no_show(at("2026-11-22T14:59:00Z")),
            Err(SchedulingError::NotStartedYet { .. })
        ));
        assert_eq!(
            at_nine.mark_no_show(at("2026-11-22T15:00:00Z")).ok(),
            Some(AppointmentStatus::NoShow)
        );
        let arrived = appointment("2026-11-22T15:00:00Z", AppointmentStatus::Arrived);
        assert!(matches!(
            arrived.mark_no_show(at("2026-11-22T16:00:00Z")),
            Err(SchedulingError::WrongStatus { .. })
        ));
    }
}
