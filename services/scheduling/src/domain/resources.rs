//! Chairs, rooms and equipment: what an appointment holds besides its provider, and the rule
//! that picks free ones for a booking. Like a provider, a resource is never in two active
//! appointments at once; it may have weekly hours and exceptions (maintenance), and clinic-wide
//! exceptions close it too.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clinic_common::ids::{AppointmentId, RequestId, request_fingerprint};

use super::error::booked_span;
use super::{
    AppointmentSlot, DisplayName, ExceptionKind, ExceptionSpan, Note, Unavailable, WeeklyHours,
    weekday_name,
};

/// A stretch a resource is closed: `(start, end, kind, clinic_wide)`.
pub type Closure = (DateTime<Utc>, DateTime<Utc>, ExceptionKind, bool);

/// The most requirements one appointment type may state.
pub const MAX_REQUIREMENTS: usize = 10;

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new id; version 7 UUIDs sort by creation time, like the shared ids.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                $name(uuid::Uuid::now_v7())
            }

            pub fn parse(text: &str) -> Result<Self, &'static str> {
                uuid::Uuid::try_parse(text)
                    .map($name)
                    .map_err(|_| concat!("must be a ", $what, " id (UUID)"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        /// Parsed from its stored form (an idempotency key's resource id).
        impl std::str::FromStr for $name {
            type Err = &'static str;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }
    };
}

uuid_id!(ResourceId, "resource");
uuid_id!(ResourceExceptionId, "resource exception");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Chair,
    Room,
    Equipment,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 3] = [
        ResourceKind::Chair,
        ResourceKind::Room,
        ResourceKind::Equipment,
    ];

    /// The stored form, also used in messages ("no chair is free").
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceKind::Chair => "chair",
            ResourceKind::Room => "room",
            ResourceKind::Equipment => "equipment",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub resource_id: ResourceId,
    pub display_name: DisplayName,
    pub kind: ResourceKind,
    pub in_service: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewResource {
    pub display_name: DisplayName,
    pub kind: ResourceKind,
    pub in_service: bool,
    pub request_id: RequestId,
}

impl NewResource {
    /// A digest of the request, to recognise a retry.
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            self.display_name.as_str(),
            self.kind.as_str(),
            if self.in_service { "1" } else { "0" },
        ])
    }
}

#[derive(Debug, Clone)]
pub struct ResourceUpdate {
    pub resource_id: ResourceId,
    pub display_name: DisplayName,
    pub in_service: bool,
}

#[derive(Debug, Clone)]
pub struct NewResourceException {
    pub resource_id: ResourceId,
    pub span: ExceptionSpan,
    pub kind: ExceptionKind,
    pub note: Option<Note>,
    pub request_id: RequestId,
}

impl NewResourceException {
    /// A digest of the request, to recognise a retry.
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            &self.resource_id.to_string(),
            &self.span.start().to_rfc3339(),
            &self.span.end().to_rfc3339(),
            self.kind.as_str(),
            self.note.as_ref().map(Note::as_str).unwrap_or_default(),
        ])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceException {
    pub resource_exception_id: ResourceExceptionId,
    pub resource_id: ResourceId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: ExceptionKind,
    pub note: Option<Note>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// One resource an appointment type needs: exactly `resource_id`, or any one of `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceRequirement {
    pub kind: ResourceKind,
    pub resource_id: Option<ResourceId>,
}

/// What a booking asks of resources: the type's requirements and the resources the caller chose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceNeeds {
    pub requirements: Vec<ResourceRequirement>,
    pub chosen: Vec<ResourceId>,
}

impl ResourceNeeds {
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && self.chosen.is_empty()
    }

    /// The kinds a booking may have to lock: those required, and those of the chosen resources
    /// (given as `chosen_kinds`).
    pub fn kinds(&self, chosen_kinds: &[ResourceKind]) -> [bool; 3] {
        let mut wanted = [false; 3];
        let kinds = self
            .requirements
            .iter()
            .map(|requirement| requirement.kind)
            .chain(chosen_kinds.iter().copied());
        for kind in kinds {
            wanted[kind_index(kind)] = true;
        }
        wanted
    }
}

fn kind_index(kind: ResourceKind) -> usize {
    match kind {
        ResourceKind::Chair => 0,
        ResourceKind::Room => 1,
        ResourceKind::Equipment => 2,
    }
}

/// Whether a resource can be used for `slot` apart from its appointments: an exception covering
/// it (its own or the clinic's, given as `(start, end, kind, clinic_wide)`) always closes it;
/// hours, when it has any, must hold the whole slot. Unlike a provider, a resource without hours
/// still honours exceptions: an X-ray under repair is out of use whatever its hours.
pub fn resource_availability(
    slot: &AppointmentSlot,
    hours: &WeeklyHours,
    exceptions: &[Closure],
    time_zone: Tz,
) -> Result<(), Unavailable> {
    for (start, end, kind, clinic_wide) in exceptions {
        if *start < slot.end() && slot.start() < *end {
            return Err(Unavailable::Exception {
                kind: *kind,
                clinic_wide: *clinic_wide,
            });
        }
    }
    if hours.is_empty() {
        return Ok(());
    }
    let first = slot.start().with_timezone(&time_zone).date_naive();
    let last = slot.end().with_timezone(&time_zone).date_naive();
    // From the day before: an interval ending at 24:00 reaches into the next day's first instant.
    let from = first.pred_opt().unwrap_or(first);
    let inside = hours
        .windows(from, last, time_zone)
        .iter()
        .any(|(start, end)| *start <= slot.start() && slot.end() <= *end);
    if inside {
        Ok(())
    } else {
        Err(Unavailable::OutsideHours {
            weekday: chrono::Datelike::weekday(&first),
        })
    }
}

/// Why a resource cannot be given to a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Obstacle {
    OutOfService,
    Unavailable(Unavailable),
    /// Another active appointment holds it then; `zone` is the clinic's, for messages.
    Busy {
        appointment_id: AppointmentId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        zone: Tz,
    },
}

/// A resource a booking could use, as found inside the booking transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub resource_id: ResourceId,
    pub name: String,
    pub kind: ResourceKind,
    /// `None`: free for the slot.
    pub obstacle: Option<Obstacle>,
}

/// Why resources could not be assigned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("resource {0} not found")]
    NotFound(ResourceId),
    #[error("resource exception {0} not found")]
    ExceptionNotFound(ResourceExceptionId),
    #[error("another resource already has that name")]
    NameTaken,
    /// A booking names a resource this service does not know.
    #[error("resource {0} does not exist")]
    Unknown(ResourceId),
    /// A requirement names a resource this service does not know.
    #[error("resource {0} does not exist")]
    UnknownRequirement(ResourceId),
    /// A requirement names a resource of another kind.
    #[error("resource {0} is not of the kind required")]
    WrongKind(ResourceId),
    /// A given resource is in the way: named, with why.
    #[error("{}", obstacle_message(kind, name, obstacle))]
    InTheWay {
        kind: ResourceKind,
        name: String,
        obstacle: Obstacle,
    },
    /// No resource of a kind is free; names the first one and what holds it.
    #[error("no {} is free at that time{}", kind.as_str(), first_obstacle(first))]
    NoneFree {
        kind: ResourceKind,
        first: Option<(String, Obstacle)>,
    },
}

fn obstacle_message(kind: &ResourceKind, name: &str, obstacle: &Obstacle) -> String {
    let kind = kind.as_str();
    match obstacle {
        Obstacle::OutOfService => format!("the {kind} {name} is out of service"),
        Obstacle::Unavailable(Unavailable::OutsideHours { weekday }) => format!(
            "the time is outside the {kind} {name}'s hours on {}",
            weekday_name(*weekday)
        ),
        Obstacle::Unavailable(Unavailable::Exception {
            kind: exception,
            clinic_wide: true,
        }) => format!("the time falls on a clinic {}", exception.as_str()),
        Obstacle::Unavailable(Unavailable::Exception {
            kind: exception,
            clinic_wide: false,
        }) => format!(
            "the time falls on a {} of the {kind} {name}",
            exception.as_str()
        ),
        Obstacle::Busy {
            appointment_id,
            start,
            end,
            zone,
        } => format!(
            "the {kind} {name} is already booked {} (appointment {appointment_id})",
            booked_span(*start, *end, *zone)
        ),
    }
}

fn first_obstacle(first: &Option<(String, Obstacle)>) -> String {
    let Some((name, obstacle)) = first else {
        return String::new();
    };
    match obstacle {
        Obstacle::Busy {
            appointment_id,
            start,
            end,
            zone,
        } => format!(
            ": {name} is booked {} (appointment {appointment_id})",
            booked_span(*start, *end, *zone)
        ),
        Obstacle::OutOfService => format!(": {name} is out of service"),
        Obstacle::Unavailable(Unavailable::OutsideHours { weekday }) => {
            format!(
                ": {name} is outside its hours on {}",
                weekday_name(*weekday)
            )
        }
        Obstacle::Unavailable(Unavailable::Exception {
            kind,
            clinic_wide: true,
        }) => format!(": the clinic has a {}", kind.as_str()),
        Obstacle::Unavailable(Unavailable::Exception {
            kind,
            clinic_wide: false,
        }) => format!(": {name} is on a {}", kind.as_str()),
    }
}

/// The resources a booking holds: every chosen one, plus, for each requirement no chosen
/// resource meets, the first free candidate of its kind (candidates come in resource id order,
/// so the pick is stable). Chosen and named resources must be free; otherwise the error names
/// what is in the way. Returns the ids sorted.
pub fn assign(
    needs: &ResourceNeeds,
    candidates: &[Candidate],
) -> Result<Vec<ResourceId>, ResourceError> {
    let find = |id: ResourceId| candidates.iter().find(|c| c.resource_id == id);
    let usable = |candidate: &Candidate| -> Result<(), ResourceError> {
        match &candidate.obstacle {
            None => Ok(()),
            Some(obstacle) => Err(ResourceError::InTheWay {
                kind: candidate.kind,
                name: candidate.name.clone(),
                obstacle: obstacle.clone(),
            }),
        }
    };
    let mut held: Vec<ResourceId> = Vec::new();
    // Chosen resources not yet counted against a requirement.
    let mut spare: Vec<&Candidate> = Vec::new();
    for id in &needs.chosen {
        let candidate = find(*id).ok_or(ResourceError::Unknown(*id))?;
        usable(candidate)?;
        if !held.contains(id) {
            held.push(*id);
            spare.push(candidate);
        }
    }
    // Named requirements first, so that "any chair" never takes the chair another names.
    for requirement in needs
        .requirements
        .iter()
        .filter(|r| r.resource_id.is_some())
    {
        let id = requirement.resource_id.unwrap_or_else(ResourceId::new);
        let candidate = find(id).ok_or(ResourceError::Unknown(id))?;
        if candidate.kind != requirement.kind {
            return Err(ResourceError::WrongKind(id));
        }
        usable(candidate)?;
        if let Some(position) = spare.iter().position(|c| c.resource_id == id) {
            spare.remove(position);
        } else if !held.contains(&id) {
            held.push(id);
        }
    }
    for requirement in needs
        .requirements
        .iter()
        .filter(|r| r.resource_id.is_none())
    {
        if let Some(position) = spare.iter().position(|c| c.kind == requirement.kind) {
            spare.remove(position);
            continue;
        }
        let of_kind = || candidates.iter().filter(|c| c.kind == requirement.kind);
        match of_kind().find(|c| c.obstacle.is_none() && !held.contains(&c.resource_id)) {
            Some(free) => held.push(free.resource_id),
            None => {
                let first = of_kind().find_map(|c| {
                    c.obstacle
                        .clone()
                        .map(|obstacle| (c.name.clone(), obstacle))
                });
                return Err(ResourceError::NoneFree {
                    kind: requirement.kind,
                    first,
                });
            }
        }
    }
    held.sort();
    Ok(held)
}

/// What is known of one resource over a search's reach, to find free slots without a
/// transaction: the same facts a booking reads, read once.
#[derive(Debug, Clone)]
pub struct ResourceCalendar {
    pub resource_id: ResourceId,
    pub name: String,
    pub kind: ResourceKind,
    pub in_service: bool,
    pub hours: WeeklyHours,
    /// `(start, end, kind, clinic_wide)`.
    pub exceptions: Vec<Closure>,
    /// Active appointments holding it.
    pub busy: Vec<(AppointmentId, DateTime<Utc>, DateTime<Utc>)>,
}

impl ResourceCalendar {
    /// The resource as a booking of `slot` would find it.
    pub fn candidate(&self, slot: &AppointmentSlot, time_zone: Tz) -> Candidate {
        Candidate {
            resource_id: self.resource_id,
            name: self.name.clone(),
            kind: self.kind,
            obstacle: obstacle(self, slot, time_zone),
        }
    }
}

fn obstacle(
    calendar: &ResourceCalendar,
    slot: &AppointmentSlot,
    time_zone: Tz,
) -> Option<Obstacle> {
    if !calendar.in_service {
        return Some(Obstacle::OutOfService);
    }
    let clash = calendar
        .busy
        .iter()
        .filter(|(_, start, end)| *start < slot.end() && slot.start() < *end)
        .min_by_key(|(id, start, _)| (*start, id.to_string()));
    if let Some((appointment_id, start, end)) = clash {
        return Some(Obstacle::Busy {
            appointment_id: *appointment_id,
            start: *start,
            end: *end,
            zone: time_zone,
        });
    }
    resource_availability(slot, &calendar.hours, &calendar.exceptions, time_zone)
        .err()
        .map(Obstacle::Unavailable)
}

/// Whether `needs` can be met for `slot` with the resources in `calendars`: the same rule as
/// [`assign`], for finding free slots.
pub fn can_assign(
    needs: &ResourceNeeds,
    calendars: &[ResourceCalendar],
    slot: &AppointmentSlot,
    time_zone: Tz,
) -> bool {
    let candidates: Vec<Candidate> = calendars
        .iter()
        .map(|calendar| calendar.candidate(slot, time_zone))
        .collect();
    assign(needs, &candidates).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(kind: ResourceKind, name: &str, obstacle: Option<Obstacle>) -> Candidate {
        Candidate {
            resource_id: ResourceId::new(),
            name: name.into(),
            kind,
            obstacle,
        }
    }

    fn busy() -> Obstacle {
        Obstacle::Busy {
            appointment_id: AppointmentId::new(),
            start: "2026-11-23T15:00:00Z".parse().expect("valid"),
            end: "2026-11-23T15:30:00Z".parse().expect("valid"),
            zone: chrono_tz::America::Mexico_City,
        }
    }

    #[test]
    fn any_chair_takes_the_first_free_one_and_a_named_xray_must_be_free() {
        let chair_1 = candidate(ResourceKind::Chair, "Sillón 1", Some(busy()));
        let chair_2 = candidate(ResourceKind::Chair, "Sillón 2", None);
        let xray = candidate(ResourceKind::Equipment, "Rayos X", None);
        let needs = ResourceNeeds {
            requirements: vec![
                ResourceRequirement {
                    kind: ResourceKind::Chair,
                    resource_id: None,
                },
                ResourceRequirement {
                    kind: ResourceKind::Equipment,
                    resource_id: Some(xray.resource_id),
                },
            ],
            chosen: vec![],
        };
        let candidates = vec![chair_1.clone(), chair_2.clone(), xray.clone()];
        let mut expected = vec![chair_2.resource_id, xray.resource_id];
        expected.sort();
        assert_eq!(assign(&needs, &candidates), Ok(expected));

        let taken = Candidate {
            obstacle: Some(busy()),
            ..xray
        };
        let error = assign(&needs, &[chair_1, chair_2, taken]).expect_err("x-ray taken");
        assert!(
            error
                .to_string()
                .starts_with("the equipment Rayos X is already booked from"),
            "{error}"
        );
    }

    #[test]
    fn a_chosen_chair_meets_the_any_chair_requirement_and_none_free_names_the_first() {
        let chair_1 = candidate(ResourceKind::Chair, "Sillón 1", None);
        let chair_2 = candidate(ResourceKind::Chair, "Sillón 2", None);
        let needs = ResourceNeeds {
            requirements: vec![ResourceRequirement {
                kind: ResourceKind::Chair,
                resource_id: None,
            }],
            chosen: vec![chair_2.resource_id],
        };
        assert_eq!(
            assign(&needs, &[chair_1.clone(), chair_2.clone()]),
            Ok(vec![chair_2.resource_id])
        );
        let all_busy = [
            Candidate {
                obstacle: Some(Obstacle::OutOfService),
                ..chair_1
            },
            Candidate {
                obstacle: Some(busy()),
                ..chair_2
            },
        ];
        let needs = ResourceNeeds {
            chosen: vec![],
            ..needs
        };
        let error = assign(&needs, &all_busy).expect_err("no chair");
        assert_eq!(
            error.to_string(),
            "no chair is free at that time: Sillón 1 is out of service"
        );
    }
}
