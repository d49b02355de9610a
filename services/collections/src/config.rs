//! The collections service's settings.

use std::net::SocketAddr;

use clinic_common::settings::{AuthSettings, ClinicSettings};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Billing, whose ledger feed the receivables follow.
    pub billing_url: String,
    /// The patient registry, asked for the names of account holders.
    pub patients_url: String,
    /// How long to wait before asking billing again once the receivables have caught up with its
    /// ledger. While billing has more to send, pages are fetched back to back.
    #[serde(default = "default_ledger_poll_interval_ms")]
    pub ledger_poll_interval_ms: u64,
    pub clinic: ClinicSettings,
    pub auth: AuthSettings,
}

/// A second: fresh enough for a collections desk, light on billing.
fn default_ledger_poll_interval_ms() -> u64 {
    1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_defaults_to_a_second() {
        let settings: Settings = serde_json::from_str(
            r#"{
                "listen": "127.0.0.1:0",
                "database_url": "sqlite://collections.db",
                "billing_url": "http://127.0.0.1:50053",
                "patients_url": "http://127.0.0.1:50051",
                "clinic": {"name": "Clínica", "time_zone": "America/Mexico_City", "currency": "MXN"},
                "auth": {"signing_key": "test-signing-key-that-is-long-enough-for-hs256"}
            }"#,
        )
        .expect("valid settings");
        assert_eq!(settings.ledger_poll_interval_ms, 1000);
    }
}
