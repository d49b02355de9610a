//! Appointment types: the kinds of visit the clinic books ("Limpieza", "Consulta"), each with how
//! long it takes, what billing charges for it, and whether it needs the X-ray.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use clinic_common::ids::{RequestId, request_fingerprint};

use super::{MAX_APPOINTMENT_LENGTH, PriceCode};

/// An appointment type. Scheduling's own id (the shared id list is for ids that cross services).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppointmentTypeId(uuid::Uuid);

impl AppointmentTypeId {
    /// A new id; version 7 UUIDs sort by creation time, like the shared ids.
    pub fn new() -> Self {
        AppointmentTypeId(uuid::Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        uuid::Uuid::try_parse(text)
            .map(AppointmentTypeId)
            .map_err(|_| "must be an appointment type id (UUID)")
    }
}

impl fmt::Display for AppointmentTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Parsed from its stored form (an idempotency key's resource id).
impl std::str::FromStr for AppointmentTypeId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// A type's name as reception picks it ("Limpieza dental"): 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName(String);

impl TypeName {
    pub fn parse(text: &str) -> Result<Self, String> {
        clinic_common::validation::single_line_text(text, 100).map(TypeName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a visit of a type is booked for: whole minutes, 1 up to the longest appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitLength(u32);

impl VisitLength {
    pub fn parse(minutes: i32) -> Result<Self, &'static str> {
        match u32::try_from(minutes) {
            Ok(minutes)
                if minutes >= 1 && i64::from(minutes) <= MAX_APPOINTMENT_LENGTH.num_minutes() =>
            {
                Ok(VisitLength(minutes))
            }
            _ => Err("must be from 1 to 480 minutes"),
        }
    }

    pub fn minutes(&self) -> u32 {
        self.0
    }

    pub fn as_delta(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.0))
    }
}

/// What a manager sets on a type, at creation and at every update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDetails {
    pub name: TypeName,
    pub length: VisitLength,
    pub price_code: PriceCode,
    pub needs_xray: bool,
}

impl TypeDetails {
    /// A digest of the details, to recognise a retried create.
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            self.name.as_str(),
            &self.length.minutes().to_string(),
            self.price_code.as_str(),
            if self.needs_xray { "xray" } else { "" },
        ])
    }
}

/// A request to add an appointment type.
#[derive(Debug, Clone)]
pub struct NewAppointmentType {
    pub details: TypeDetails,
    pub request_id: RequestId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentType {
    pub appointment_type_id: AppointmentTypeId,
    pub details: TypeDetails,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set once deleted. Deleted types stay on record, as appointments booked with them refer to
    /// them, but new bookings cannot use them.
    pub deleted_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_lasts_from_one_minute_to_eight_hours() {
        assert!(VisitLength::parse(0).is_err());
        assert!(VisitLength::parse(-30).is_err());
        assert_eq!(VisitLength::parse(1).map(|l| l.minutes()), Ok(1));
        assert_eq!(VisitLength::parse(480).map(|l| l.minutes()), Ok(480));
        assert!(VisitLength::parse(481).is_err());
    }

    #[test]
    fn type_names_are_trimmed_and_bounded() {
        assert_eq!(
            TypeName::parse(" Limpieza ").expect("valid").as_str(),
            "Limpieza"
        );
        assert!(TypeName::parse("").is_err());
        assert!(TypeName::parse(&"x".repeat(101)).is_err());
        assert!(TypeName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn appointment_type_ids_round_trip_through_text() {
        let id = AppointmentTypeId::new();
        assert_eq!(AppointmentTypeId::parse(&id.to_string()), Ok(id));
        assert!(AppointmentTypeId::parse("cleaning").is_err());
    }
}
