//! The deployment's configuration: one TOML file for all four services, overridden by
//! `CLINIC_`-prefixed environment variables (`CLINIC_BILLING__DATABASE_URL=postgres://…`).
//! Each service's own `Settings` is built from it here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clinic_common::auth::TokenKey;
use clinic_common::db::MigrationMode;
use clinic_common::settings::{AuthSettings, ClinicSettings};
use clinic_common::telemetry::{LogFormat, TelemetrySettings};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Built-in defaults: everything on this machine, SQLite files in `./clinic-data`.
const DEFAULTS: &str = include_str!("../../../deploy/config/clinic.toml");

/// The name of the generated signing key in the data directory.
const SIGNING_KEY_FILE: &str = "signing.key";

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Where SQLite files and the generated signing key live.
    pub data_dir: PathBuf,
    pub clinic: ClinicSettings,
    pub auth: AuthConfig,
    pub patients: ServiceConfig,
    pub scheduling: SchedulingConfig,
    pub billing: BillingConfig,
    pub collections: CollectionsConfig,
    /// Whether services apply their migrations when they start, or only check them.
    #[serde(default)]
    pub migrations: MigrationMode,
    /// `text` or `json` log lines.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Where traces go.
    #[serde(default)]
    pub telemetry: TelemetrySettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    /// The HS256 key. Empty: use `<data_dir>/signing.key`, created on first start.
    #[serde(default)]
    pub signing_key: Option<SecretString>,
    /// A file holding the key (a mounted secret); takes precedence over `signing_key`.
    #[serde(default)]
    pub signing_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceConfig {
    pub listen: SocketAddr,
    /// Empty: a SQLite file in the data directory.
    #[serde(default)]
    pub database_url: String,
    /// A file holding the database URL (a mounted secret, credentials included); takes
    /// precedence over `database_url`.
    #[serde(default)]
    pub database_url_file: Option<PathBuf>,
    /// Where the other services call it.
    pub url: String,
    /// Where `GET /metrics` answers; empty: nowhere.
    #[serde(default)]
    pub admin_listen: String,
}

impl ServiceConfig {
    /// The admin address, if one is set.
    pub fn admin_listen(&self) -> anyhow::Result<Option<SocketAddr>> {
        let text = self.admin_listen.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .with_context(|| format!("admin_listen {text:?} is not an address like 0.0.0.0:9101"))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SchedulingConfig {
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// Minutes a patient may wait before the queue flags them to staff.
    pub queue_alert_after_minutes: u32,
    /// Who receives a patient who arrives.
    #[serde(default)]
    pub triage: clinic_scheduling::config::TriageSettings,
    /// How the kiosk is kept from guessing at other patients' visits.
    #[serde(default)]
    pub kiosk: clinic_scheduling::config::KioskSettings,
    /// Waitlist offers and late-arrival calls.
    #[serde(default)]
    pub front_desk: clinic_scheduling::config::FrontDeskSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BillingConfig {
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// A cash-drawer closing difference beyond this many minor units needs a manager.
    pub drawer_difference_limit_minor: i64,
    /// An ad hoc discount above this percentage of a charge's list amount needs a manager.
    #[serde(default = "default_discount_limit_percent")]
    pub discount_limit_percent: u8,
    /// The clinic as CFDI issuer and its CSD; absent: no invoices are issued.
    #[serde(default)]
    pub cfdi: Option<clinic_billing::config::CfdiSettings>,
}

fn default_discount_limit_percent() -> u8 {
    clinic_billing::config::DEFAULT_DISCOUNT_LIMIT_PERCENT
}

#[derive(Debug, Clone, Deserialize)]
pub struct CollectionsConfig {
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// How often collections asks billing for new ledger entries when it is caught up.
    pub ledger_poll_interval_ms: u64,
    /// Days after the service day a charge falls due.
    #[serde(default)]
    pub payment_terms_days: u32,
    /// Contact hours and frequency limits collectors work under.
    #[serde(default)]
    pub contact_rules: clinic_collections::config::ContactRulesSettings,
    /// How far past due an account must be to go to an agency or be proposed for write-off.
    #[serde(default)]
    pub escalation: clinic_collections::config::EscalationSettings,
}

/// Which of the four services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    Patients,
    Scheduling,
    Billing,
    Collections,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Patients,
        Service::Scheduling,
        Service::Billing,
        Service::Collections,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Service::Patients => "patients",
            Service::Scheduling => "scheduling",
            Service::Billing => "billing",
            Service::Collections => "collections",
        }
    }
}

impl Config {
    /// Defaults, then `file` if given, then the environment; then the secrets kept in files.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut config: Config =
            clinic_common::settings::load(DEFAULTS, file).context("invalid configuration")?;
        config.read_secret_files()?;
        Ok(config)
    }

    /// Replaces settings that name a file (`*_file`) with the file's contents, trimmed: how
    /// containers receive credentials (a mounted secret) without putting them in the
    /// environment.
    fn read_secret_files(&mut self) -> anyhow::Result<()> {
        if let Some(path) = &self.auth.signing_key_file {
            self.auth.signing_key = Some(SecretString::from(read_secret(path)?));
        }
        for service in Service::ALL {
            let config = self.service_mut(service);
            if let Some(path) = &config.database_url_file {
                config.database_url = read_secret(path)?;
            }
        }
        Ok(())
    }

    fn service_mut(&mut self, service: Service) -> &mut ServiceConfig {
        match service {
            Service::Patients => &mut self.patients,
            Service::Scheduling => &mut self.scheduling.service,
            Service::Billing => &mut self.billing.service,
            Service::Collections => &mut self.collections.service,
        }
    }

    pub fn service(&self, service: Service) -> &ServiceConfig {
        match service {
            Service::Patients => &self.patients,
            Service::Scheduling => &self.scheduling.service,
            Service::Billing => &self.billing.service,
            Service::Collections => &self.collections.service,
        }
    }

    /// The service's database: as configured, or `sqlite://<data_dir>/<service>.db`.
    pub fn database_url(&self, service: Service) -> String {
        let configured = &self.service(service).database_url;
        if configured.is_empty() {
            format!(
                "sqlite://{}",
                self.data_dir
                    .join(format!("{}.db", service.name()))
                    .display()
            )
        } else {
            configured.clone()
        }
    }

    /// The signing key: configured, or read from the data directory. With `create`, a missing
    /// key file is generated (readable by the owner only).
    pub fn signing_key(&self, create: bool) -> anyhow::Result<SecretString> {
        if let Some(key) = &self.auth.signing_key
            && !key.expose_secret().is_empty()
        {
            return Ok(key.clone());
        }
        let path = self.data_dir.join(SIGNING_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(SecretString::from(text.trim().to_owned())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && create => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("failed to create {}", self.data_dir.display()))?;
                let key = TokenKey::generate_secret();
                write_private(&path, key.expose_secret())?;
                tracing::info!(path = %path.display(), "generated a token signing key");
                Ok(key)
            }
            Err(error) => Err(error).with_context(|| {
                format!(
                    "no signing key: set auth.signing_key or run `clinic up` once to create {}",
                    path.display()
                )
            }),
        }
    }

    pub fn auth_settings(&self, create: bool) -> anyhow::Result<AuthSettings> {
        Ok(AuthSettings {
            signing_key: self.signing_key(create)?,
        })
    }

    pub fn patients_settings(&self, auth: &AuthSettings) -> clinic_patients::Settings {
        clinic_patients::Settings {
            listen: self.patients.listen,
            database_url: self.database_url(Service::Patients),
            clinic: self.clinic.clone(),
            auth: auth.clone(),
        }
    }

    pub fn scheduling_settings(&self, auth: &AuthSettings) -> clinic_scheduling::Settings {
        clinic_scheduling::Settings {
            listen: self.scheduling.service.listen,
            database_url: self.database_url(Service::Scheduling),
            patients_url: self.patients.url.clone(),
            queue_alert_after_minutes: self.scheduling.queue_alert_after_minutes,
            triage: self.scheduling.triage.clone(),
            kiosk: self.scheduling.kiosk.clone(),
            front_desk: self.scheduling.front_desk.clone(),
            clinic: self.clinic.clone(),
            auth: auth.clone(),
        }
    }

    pub fn billing_settings(&self, auth: &AuthSettings) -> clinic_billing::Settings {
        clinic_billing::Settings {
            listen: self.billing.service.listen,
            database_url: self.database_url(Service::Billing),
            patients_url: self.patients.url.clone(),
            scheduling_url: self.scheduling.service.url.clone(),
            clinic: self.clinic.clone(),
            auth: auth.clone(),
            drawer_difference_limit_minor: self.billing.drawer_difference_limit_minor,
            discount_limit_percent: self.billing.discount_limit_percent,
            cfdi: self.billing.cfdi.clone(),
        }
    }

    pub fn collections_settings(&self, auth: &AuthSettings) -> clinic_collections::Settings {
        clinic_collections::Settings {
            listen: self.collections.service.listen,
            database_url: self.database_url(Service::Collections),
            billing_url: self.billing.service.url.clone(),
            patients_url: self.patients.url.clone(),
            ledger_poll_interval_ms: self.collections.ledger_poll_interval_ms,
            payment_terms_days: self.collections.payment_terms_days,
            contact_rules: self.collections.contact_rules.clone(),
            escalation: self.collections.escalation.clone(),
            clinic: self.clinic.clone(),
            auth: auth.clone(),
        }
    }
}

fn read_secret(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the secret in {}", path.display()))?;
    let text = text.trim();
    anyhow::ensure!(!text.is_empty(), "{} is empty", path.display());
    Ok(text.to_owned())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("failed to create {}", path.display()))
}
