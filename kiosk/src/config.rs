//! The client's configuration: one TOML file per device, naming its mode, the services, its
//! token and its hardware. `clinic up --demo` writes one per mode into its data directory
//! (`kiosk-checkin.toml`, `kiosk-counter.toml`, `kiosk-display.toml`, `kiosk-collections.toml`),
//! so `kiosk --mode M` run there connects with no editing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clinic_common::money::Currency;
use clinic_common::settings::ClinicSettings;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// What the device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The lobby kiosk patients check in at.
    Checkin,
    /// Reception's terminal.
    Counter,
    /// The waiting-room screen.
    Display,
    /// A collector's desk, at the clinic or at home.
    Collections,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Checkin => "checkin",
            Mode::Counter => "counter",
            Mode::Display => "display",
            Mode::Collections => "collections",
        }
    }

    /// The file `clinic up --demo` writes for this mode, and the one `kiosk --mode M` reads
    /// from the current directory when no `--config` is given.
    pub fn default_config_file(self) -> String {
        format!("kiosk-{}.toml", self.name())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KioskConfig {
    pub mode: Mode,
    /// The bearer token this device calls with: a `kiosk` token for check-in and display, a
    /// `reception` token for the counter, a `collections` token for a collector's desk.
    pub token: String,
    /// The language the device starts in (and returns to after idling).
    #[serde(default)]
    pub language: Lang,
    pub clinic: ClinicInfo,
    pub services: ServiceUrls,
    #[serde(default)]
    pub checkin: CheckinConfig,
    #[serde(default)]
    pub counter: CounterConfig,
    #[serde(default)]
    pub display: DisplayConfig,
    #[serde(default)]
    pub collections: CollectionsConfig,
    /// Where approved card payments wait until billing has recorded them. Relative paths are
    /// taken from the configuration file's directory.
    #[serde(default = "default_outbox_dir")]
    pub outbox_dir: PathBuf,
    /// Extra font files (TTF/OTF) to fall back on, e.g. a CJK font where none of the usual
    /// system fonts is installed.
    #[serde(default)]
    pub fonts: Vec<PathBuf>,
}

/// The clinic as the devices show it: its name, and the zone and currency of its services.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClinicInfo {
    pub name: String,
    /// IANA zone: times are shown in it and "today" is reckoned in it.
    pub time_zone: String,
    /// ISO 4217 code of the one currency the clinic bills in.
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceUrls {
    pub patients: String,
    pub scheduling: String,
    pub billing: String,
    /// Needed by the collections desk only.
    #[serde(default)]
    pub collections: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckinConfig {
    /// Seconds without a touch before the kiosk returns to its start screen.
    pub idle_seconds: u32,
    /// The kiosk's name for billing, e.g. `kiosk-lobby-1`.
    pub terminal_id: String,
    /// Whether the lobby has a card terminal patients pay at.
    pub card_terminal: bool,
}

impl Default for CheckinConfig {
    fn default() -> Self {
        CheckinConfig {
            idle_seconds: 20,
            terminal_id: "kiosk-lobby-1".into(),
            card_terminal: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CounterConfig {
    /// The terminal's name for the cash drawer, e.g. `counter-1`.
    pub terminal_id: String,
    pub printer: PrinterConfig,
    /// Where daily-close exports are written (relative to the configuration file).
    pub exports_dir: PathBuf,
}

impl Default for CounterConfig {
    fn default() -> Self {
        CounterConfig {
            terminal_id: "counter-1".into(),
            exports_dir: PathBuf::from("exports"),
            printer: PrinterConfig::Pdf {
                directory: PathBuf::from("receipts"),
            },
        }
    }
}

/// Where receipts go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PrinterConfig {
    /// A thermal printer taking ESC/POS over TCP (usually port 9100).
    Escpos { address: SocketAddr },
    /// PDF files written into a directory (relative to the configuration file).
    Pdf { directory: PathBuf },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DisplayConfig {
    pub fullscreen: bool,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig { fullscreen: true }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CollectionsConfig {
    /// The collector at this desk as the services know them (their token's subject, e.g.
    /// `collections:ana`): "only my accounts" shows the accounts assigned to them. Empty: the
    /// desk shows the whole worklist only.
    pub collector: String,
    /// Where statements and notices are saved as PDF (relative to the configuration file).
    pub notices_dir: PathBuf,
}

impl Default for CollectionsConfig {
    fn default() -> Self {
        CollectionsConfig {
            collector: String::new(),
            notices_dir: PathBuf::from("notices"),
        }
    }
}

fn default_outbox_dir() -> PathBuf {
    PathBuf::from("kiosk-outbox")
}

impl KioskConfig {
    /// Reads `path`, resolving relative directories against the file's own directory.
    pub fn load(path: &Path) -> anyhow::Result<KioskConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        let mut config: KioskConfig =
            toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
        config
            .clinic_settings()
            .with_context(|| format!("invalid [clinic] in {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    /// The clinic's name, zone and currency, parsed.
    pub fn clinic_settings(&self) -> anyhow::Result<ClinicSettings> {
        let time_zone =
            self.clinic.time_zone.parse().map_err(|_| {
                anyhow::anyhow!("{:?} is not an IANA time zone", self.clinic.time_zone)
            })?;
        let currency: Currency =
            self.clinic.currency.parse().map_err(|_| {
                anyhow::anyhow!("{:?} is not a known currency", self.clinic.currency)
            })?;
        Ok(ClinicSettings {
            name: self.clinic.name.clone(),
            time_zone,
            currency,
        })
    }

    /// Makes relative paths relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        resolve(&mut self.outbox_dir);
        resolve(&mut self.counter.exports_dir);
        resolve(&mut self.collections.notices_dir);
        if let PrinterConfig::Pdf { directory } = &mut self.counter.printer {
            resolve(directory);
        }
        for font in &mut self.fonts {
            resolve(font);
        }
    }

    pub fn to_toml(&self) -> anyhow::Result<String> {
        toml::to_string(self).context("failed to write the kiosk configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_file_gets_the_defaults_and_relative_paths_follow_the_file() {
        let text = r#"
            mode = "counter"
            token = "t"
            [clinic]
            name = "Clínica"
            time_zone = "America/Mexico_City"
            currency = "MXN"
            [services]
            patients = "http://127.0.0.1:1"
            scheduling = "http://127.0.0.1:2"
            billing = "http://127.0.0.1:3"
        "#;
        let mut config: KioskConfig = toml::from_str(text).expect("valid");
        config.resolve_paths(Path::new("/srv/clinic"));
        assert_eq!(config.mode, Mode::Counter);
        assert_eq!(config.language, Lang::Es);
        assert_eq!(config.checkin.idle_seconds, 20);
        assert_eq!(
            config.clinic_settings().expect("valid").currency,
            Currency::MXN
        );
        assert_eq!(config.outbox_dir, PathBuf::from("/srv/clinic/kiosk-outbox"));
        assert_eq!(
            config.collections.notices_dir,
            PathBuf::from("/srv/clinic/notices")
        );
        assert!(config.services.collections.is_empty());
        assert!(matches!(
            &config.counter.printer,
            PrinterConfig::Pdf { directory } if directory == Path::new("/srv/clinic/receipts")
        ));
        let again: KioskConfig =
            toml::from_str(&config.to_toml().expect("serialises")).expect("round trips");
        assert_eq!(again.counter.terminal_id, "counter-1");
    }
}
