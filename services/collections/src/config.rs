//! The collections service's settings.

use std::net::SocketAddr;

use chrono::NaiveTime;
use clinic_common::settings::{AuthSettings, ClinicSettings};
use serde::Deserialize;

use crate::domain::{ContactRules, EscalationPolicy};

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
    /// Days after the service day that a charge falls due; aging counts from then. 0 (the
    /// default): due on the day of the service, as at a front desk that takes payment at checkout.
    #[serde(default)]
    pub payment_terms_days: u32,
    /// The clinic's contact rules; every field defaults to Regulation F's numbers.
    #[serde(default)]
    pub contact_rules: ContactRulesSettings,
    /// When an account may be escalated to an agency or proposed for write-off.
    #[serde(default)]
    pub escalation: EscalationSettings,
    pub clinic: ClinicSettings,
    pub auth: AuthSettings,
}

/// When and how often collectors may contact patients (see `domain::contact`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ContactRulesSettings {
    /// First local time (patient's zone) a contact may be made, "HH:MM:SS"; default 08:00:00.
    pub earliest: NaiveTime,
    /// From this local time on no contact may be made, "HH:MM:SS"; default 21:00:00.
    pub latest: NaiveTime,
    /// Most outbound calls per account in any `call_window_days`; default 7.
    pub max_call_attempts: u32,
    /// Default 7.
    pub call_window_days: u32,
    /// Days without calls after a call conversation the clinic started; default 7.
    pub quiet_days_after_conversation: u32,
}

impl Default for ContactRulesSettings {
    fn default() -> Self {
        let rules = ContactRules::default();
        ContactRulesSettings {
            earliest: rules.earliest,
            latest: rules.latest,
            max_call_attempts: rules.max_call_attempts,
            call_window_days: rules.call_window_days,
            quiet_days_after_conversation: rules.quiet_days_after_conversation,
        }
    }
}

impl ContactRulesSettings {
    /// The rules, once they make sense: a non-empty contact window.
    pub fn rules(&self) -> anyhow::Result<ContactRules> {
        anyhow::ensure!(
            self.earliest < self.latest,
            "contact_rules.earliest must be before contact_rules.latest"
        );
        Ok(ContactRules {
            earliest: self.earliest,
            latest: self.latest,
            max_call_attempts: self.max_call_attempts,
            call_window_days: self.call_window_days,
            quiet_days_after_conversation: self.quiet_days_after_conversation,
        })
    }
}

/// The clinic's escalation policy (see `domain::dispute`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EscalationSettings {
    /// Days past due before an account may go to an external agency; default 90.
    pub agency_after_days: u32,
    /// Days past due before an account may be proposed for write-off; default 180.
    pub write_off_after_days: u32,
}

impl Default for EscalationSettings {
    fn default() -> Self {
        let policy = EscalationPolicy::default();
        EscalationSettings {
            agency_after_days: policy.agency_after_days,
            write_off_after_days: policy.write_off_after_days,
        }
    }
}

impl EscalationSettings {
    pub fn policy(&self) -> EscalationPolicy {
        EscalationPolicy {
            agency_after_days: self.agency_after_days,
            write_off_after_days: self.write_off_after_days,
        }
    }
}

/// A second: fresh enough for a collections desk, light on billing.
fn default_ledger_poll_interval_ms() -> u64 {
    1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_poll_every_second_charges_fall_due_on_the_day_and_rules_follow_regulation_f() {
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
        assert_eq!(settings.payment_terms_days, 0);
        assert_eq!(
            settings.contact_rules.rules().expect("valid rules"),
            ContactRules::default()
        );
    }
}

#[cfg(test)]
mod contact_rules_tests {
    use super::*;

    #[test]
    fn a_clinic_may_set_its_own_contact_hours_but_not_an_empty_window() {
        let narrower: ContactRulesSettings =
            serde_json::from_str(r#"{"earliest": "09:00:00", "max_call_attempts": 3}"#)
                .expect("valid rules");
        let empty: ContactRulesSettings =
            serde_json::from_str(r#"{"earliest": "21:00:00", "latest": "08:00:00"}"#)
                .expect("well-formed rules");

        let rules = narrower.rules().expect("valid");
        assert_eq!(
            rules.earliest,
            NaiveTime::from_hms_opt(9, 0, 0).expect("valid")
        );
        assert_eq!(rules.max_call_attempts, 3);
        assert_eq!(rules.call_window_days, 7);
        assert!(empty.rules().is_err());
    }
}
