//! The scheduling service's settings.

use std::net::SocketAddr;

use clinic_common::settings::{AuthSettings, ClinicSettings};
use serde::Deserialize;

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
}

/// The default of [`Settings::queue_alert_after_minutes`].
pub const DEFAULT_QUEUE_ALERT_AFTER_MINUTES: u32 = 10;

fn default_queue_alert_after_minutes() -> u32 {
    DEFAULT_QUEUE_ALERT_AFTER_MINUTES
}
