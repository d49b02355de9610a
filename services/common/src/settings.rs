//! Settings every service shares: the clinic itself and the token signing key. Each service adds
//! its own (listen address, database, upstream services) in its crate.

use std::path::Path;

use chrono_tz::Tz;
use secrecy::SecretString;
use serde::Deserialize;

use crate::money::Currency;

/// The clinic a deployment serves.
#[derive(Debug, Clone, Deserialize)]
pub struct ClinicSettings {
    /// Shown on receipts and the kiosk.
    pub name: String,
    /// IANA zone that "today", daily reports and reminder days are reckoned in.
    #[serde(deserialize_with = "deserialize_time_zone")]
    pub time_zone: Tz,
    /// The currency the clinic bills in.
    pub currency: Currency,
}

impl Default for ClinicSettings {
    fn default() -> Self {
        ClinicSettings {
            name: "Clínica Dental".into(),
            time_zone: chrono_tz::America::Mexico_City,
            currency: Currency::MXN,
        }
    }
}

/// How callers prove who they are.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// HS256 key for bearer tokens, at least 32 bytes; the same for every service of a deployment.
    pub signing_key: SecretString,
}

fn deserialize_time_zone<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Tz, D::Error> {
    let name = String::deserialize(deserializer)?;
    name.parse()
        .map_err(|_| serde::de::Error::custom(format!("unknown IANA time zone {name:?}")))
}

/// Loads settings of type `T` from an optional TOML file, then `CLINIC_`-prefixed environment
/// variables with `__` between sections (`CLINIC_BILLING__DATABASE_URL`), later sources winning.
pub fn load<T: serde::de::DeserializeOwned>(
    defaults: &str,
    file: Option<&Path>,
) -> anyhow::Result<T> {
    let mut builder = config::Config::builder()
        .add_source(config::File::from_str(defaults, config::FileFormat::Toml));
    if let Some(file) = file {
        builder = builder.add_source(config::File::from(file).format(config::FileFormat::Toml));
    }
    let settings = builder
        .add_source(
            config::Environment::with_prefix("CLINIC")
                .prefix_separator("_")
                .separator("__"),
        )
        .build()?
        .try_deserialize()?;
    Ok(settings)
}
