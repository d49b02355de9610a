//! The scheduling service's settings.

use std::net::SocketAddr;

use chrono::TimeDelta;
use clinic_common::settings::{AuthSettings, ClinicSettings};
use serde::Deserialize;

use crate::domain::{FirstVisitRoute, KioskGuard, ReturnVisitRoute, TriagePolicy};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The patient registry (`http://host:port`), asked whether a patient exists and to check
    /// identity evidence given at the kiosk.
    pub patients_url: String,
    pub clinic: ClinicSettings,
    pub auth: AuthSettings,
    /// A waiting patient is flagged overdue on the queue once they have waited this many
    /// minutes. Optional in configuration files, which predate it.
    #[serde(default = "default_queue_alert_after_minutes")]
    pub queue_alert_after_minutes: u32,
    /// Who receives a patient who arrives.
    #[serde(default)]
    pub triage: TriageSettings,
    /// How the kiosk is kept from being used to guess at other patients' visits.
    #[serde(default)]
    pub kiosk: KioskSettings,
    /// Waitlist offers, late-arrival calls and reminders.
    #[serde(default)]
    pub front_desk: FrontDeskSettings,
}

/// `[scheduling.front_desk]`: waitlist offers, late-arrival calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FrontDeskSettings {
    /// How long a waitlist offer stays open (it also closes when the offered time starts).
    pub offer_hold_minutes: u32,
    /// A patient not checked in this many minutes after their start gets a call task (the
    /// desk's rule is 10-15 minutes).
    pub late_after_minutes: u32,
    /// How often the background task looks for late patients.
    pub late_check_every_seconds: u32,
    /// Reminders go out this many hours before a visit (3 days and 1 day by default).
    pub reminder_offsets_hours: Vec<u32>,
    /// A waiting patient is sent their place and estimated wait every this many minutes.
    pub wait_update_every_minutes: u32,
    /// How often the background task writes due messages to the outbox and sends them.
    pub messages_every_seconds: u32,
    /// The SMTP relay for email; without it email is logged like SMS and WhatsApp.
    pub smtp: Option<SmtpSettings>,
}

/// `[scheduling.front_desk.smtp]`: a plain SMTP relay on the clinic's network (no TLS, no
/// login).
#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender, e.g. `Clínica Dental <citas@clinica.example>`.
    pub from: String,
}

impl Default for FrontDeskSettings {
    fn default() -> Self {
        FrontDeskSettings {
            offer_hold_minutes: 120,
            late_after_minutes: 10,
            late_check_every_seconds: 60,
            reminder_offsets_hours: vec![72, 24],
            wait_update_every_minutes: 10,
            messages_every_seconds: 30,
            smtp: None,
        }
    }
}

impl FrontDeskSettings {
    pub(crate) fn offer_hold(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.offer_hold_minutes.max(1)))
    }

    pub(crate) fn reminder_offsets(&self) -> Vec<TimeDelta> {
        self.reminder_offsets_hours
            .iter()
            .map(|hours| TimeDelta::hours(i64::from((*hours).clamp(1, 24 * 30))))
            .collect()
    }

    pub(crate) fn wait_update_every(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.wait_update_every_minutes.max(1)))
    }

    pub(crate) fn late_after(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.late_after_minutes.max(1)))
    }
}

/// The default of [`Settings::queue_alert_after_minutes`].
pub const DEFAULT_QUEUE_ALERT_AFTER_MINUTES: u32 = 10;

fn default_queue_alert_after_minutes() -> u32 {
    DEFAULT_QUEUE_ALERT_AFTER_MINUTES
}

/// `[scheduling.triage]`: who receives a patient who arrives.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TriageSettings {
    /// `consultant` (the least busy consultant on duty) or `provider`.
    pub first_visit: FirstVisitTo,
    /// `assistant` (the provider's assistant) or `provider`.
    pub return_visit: ReturnVisitTo,
    /// The expected length of a walk-in's visit when no appointment type says.
    pub walk_in_minutes: u32,
}

impl Default for TriageSettings {
    fn default() -> Self {
        TriageSettings {
            first_visit: FirstVisitTo::Consultant,
            return_visit: ReturnVisitTo::Assistant,
            walk_in_minutes: 30,
        }
    }
}

impl TriageSettings {
    pub(crate) fn policy(&self) -> TriagePolicy {
        TriagePolicy {
            first_visit: match self.first_visit {
                FirstVisitTo::Consultant => FirstVisitRoute::Consultant,
                FirstVisitTo::Provider => FirstVisitRoute::Provider,
            },
            return_visit: match self.return_visit {
                ReturnVisitTo::Assistant => ReturnVisitRoute::Assistant,
                ReturnVisitTo::Provider => ReturnVisitRoute::Provider,
            },
        }
    }

    /// A walk-in's expected length: at least a minute, at most a working day.
    pub fn walk_in_length(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.walk_in_minutes.clamp(1, 480)))
    }
}

/// Who receives a first visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstVisitTo {
    Consultant,
    Provider,
}

/// Who receives a return visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnVisitTo {
    Assistant,
    Provider,
}

/// `[scheduling.kiosk]`: a kiosk that misses `max_misses` times within `miss_window_minutes`
/// waits until enough of its misses have left the window; so does every lookup of one patient
/// (one code, one name) missed `max_misses_per_patient` times from any kiosk, while other
/// patients go on checking in.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct KioskSettings {
    pub max_misses: u32,
    pub max_misses_per_patient: u32,
    pub miss_window_minutes: u32,
}

impl Default for KioskSettings {
    fn default() -> Self {
        KioskSettings {
            max_misses: 10,
            max_misses_per_patient: 3,
            miss_window_minutes: 15,
        }
    }
}

impl KioskSettings {
    pub(crate) fn guard(&self) -> KioskGuard {
        KioskGuard {
            max_misses: self.max_misses.max(1),
            max_misses_per_patient: self.max_misses_per_patient.max(1),
            window: TimeDelta::minutes(i64::from(self.miss_window_minutes)),
        }
    }
}
