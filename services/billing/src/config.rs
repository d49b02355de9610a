//! Billing's settings.

use std::net::SocketAddr;

use clinic_common::settings::{AuthSettings, ClinicSettings};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The patient registry (`http://host:port`), asked whether a patient exists before anything
    /// is posted to their account.
    pub patients_url: String,
    /// Scheduling (`http://host:port`), asked what a completed appointment was to charge it.
    pub scheduling_url: String,
    /// The clinic; its `currency` is the only one billing accepts, and "today" (the default
    /// service date) is reckoned in its `time_zone`.
    pub clinic: ClinicSettings,
    pub auth: AuthSettings,
    /// A closing difference (counted − expected) whose absolute value exceeds this many minor
    /// units needs a manager's approval before the close is final.
    #[serde(default = "default_drawer_difference_limit_minor")]
    pub drawer_difference_limit_minor: i64,
    /// An ad hoc discount above this percentage of a charge's list amount needs a manager.
    #[serde(default = "default_discount_limit_percent")]
    pub discount_limit_percent: u8,
    /// The issuer of CFDI invoices and its CSD; without it billing issues no invoices.
    #[serde(default)]
    pub cfdi: Option<CfdiSettings>,
}

/// The clinic as the issuer (emisor) of its CFDI 4.0 invoices.
#[derive(Debug, Clone, Deserialize)]
pub struct CfdiSettings {
    /// The clinic's RFC.
    pub issuer_rfc: String,
    /// Its name as registered with the SAT.
    pub issuer_name: String,
    /// Its c_RegimenFiscal code, e.g. 612 (a person with a business) or 601 (a company).
    pub issuer_tax_regime: String,
    /// LugarExpedicion: the postal code of the place invoices are issued from.
    pub place_of_issue: String,
    /// The invoices' series (Serie), e.g. "F".
    #[serde(default = "default_series")]
    pub series: String,
    /// The CSD certificate (`.cer`, DER).
    pub certificate_path: std::path::PathBuf,
    /// The CSD private key (`.key`: PKCS#8, encrypted or not, DER or PEM).
    pub key_path: std::path::PathBuf,
    /// The key's password (empty for an unencrypted key).
    #[serde(default)]
    pub key_password: secrecy::SecretString,
}

fn default_series() -> String {
    "F".into()
}

/// The default for [`Settings::drawer_difference_limit_minor`]: $50.00.
pub const DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR: i64 = 5_000;

fn default_drawer_difference_limit_minor() -> i64 {
    DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR
}

/// The default for [`Settings::discount_limit_percent`]: 10 %.
pub const DEFAULT_DISCOUNT_LIMIT_PERCENT: u8 = 10;

fn default_discount_limit_percent() -> u8 {
    DEFAULT_DISCOUNT_LIMIT_PERCENT
}
