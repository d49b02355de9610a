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
    /// The Serie of credit notes (CFDI type E), numbered apart from invoices.
    #[serde(default = "default_credit_note_series")]
    pub credit_note_series: String,
    /// The Serie of payment documents (CFDI type P, the Pagos 2.0 complement).
    #[serde(default = "default_payment_series")]
    pub payment_series: String,
    /// Who stamps the sealed CFDI; without it invoices stay sealed (no UUID), and credit notes
    /// and payment complements, which name an invoice's UUID, cannot be issued.
    #[serde(default)]
    pub pac: Option<PacSettings>,
}

/// The PAC that stamps the clinic's CFDI. Only the sandbox is built: a stand-in that stamps
/// like a PAC with a certificate of its own and calls no one; its stamps have no fiscal value.
/// A real PAC (its URL, user and password or token, as the PAC's contract gives them) would be
/// another kind here, with a client implementing `pac::Pac`; none is included.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PacSettings {
    Sandbox(SandboxPacSettings),
}

/// The sandbox PAC's identity and the certificate it signs SelloSAT with.
#[derive(Debug, Clone, Deserialize)]
pub struct SandboxPacSettings {
    /// RfcProvCertif in its stamps.
    #[serde(default = "default_sandbox_pac_rfc")]
    pub rfc: String,
    /// Its certificate (`.cer`, DER) and key (PKCS#8), as for the CSD.
    pub certificate_path: std::path::PathBuf,
    pub key_path: std::path::PathBuf,
    #[serde(default)]
    pub key_password: secrecy::SecretString,
}

fn default_sandbox_pac_rfc() -> String {
    // SAT's generic RFC for tests.
    "AAA010101AAA".into()
}

fn default_credit_note_series() -> String {
    "NC".into()
}

fn default_payment_series() -> String {
    "P".into()
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
