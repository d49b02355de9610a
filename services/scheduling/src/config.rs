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
}
