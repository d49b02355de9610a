//! Ready configurations for the egui client's four modes, written into the data directory by
//! `clinic up --demo`, so that `kiosk --mode checkin|counter|display|collections` started there
//! connects with no editing: the services' URLs, the clinic, and a token for each device.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::TimeDelta;
use clinic_common::auth::{Role, TokenKey};
use clinic_common::clock::Clock;

use crate::config::Config;

/// The staff tokens (the counter's and the collector's) last as long as the other demo tokens;
/// the lobby devices are enrolled, so theirs do not expire.
const STAFF_TOKEN_TTL_DAYS: i64 = 30;

/// The demo collector, to whom the demo assigns part of the overdue book.
pub(super) const DEMO_COLLECTOR: &str = "collections:ana";

/// Writes `kiosk-checkin.toml`, `kiosk-counter.toml`, `kiosk-display.toml` and
/// `kiosk-collections.toml` into the data directory (replacing earlier ones: the URLs and tokens follow the current configuration) and
/// returns their paths.
pub fn write_configs(
    config: &Config,
    key: &TokenKey,
    clock: &dyn Clock,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (mode, role, subject, ttl) in [
        ("checkin", Role::Kiosk, "kiosk:lobby-1", None),
        ("display", Role::Kiosk, "kiosk:waiting-room-1", None),
        (
            "counter",
            Role::Reception,
            "reception:recepcion-1",
            Some(TimeDelta::days(STAFF_TOKEN_TTL_DAYS)),
        ),
        (
            "collections",
            Role::Collections,
            DEMO_COLLECTOR,
            Some(TimeDelta::days(STAFF_TOKEN_TTL_DAYS)),
        ),
    ] {
        let token = key.issue(subject, role, clock.now(), ttl);
        let text = device_config(config, mode, &token)?;
        let path = config.data_dir.join(format!("kiosk-{mode}.toml"));
        write_private(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

fn device_config(config: &Config, mode: &str, token: &str) -> anyhow::Result<String> {
    let mut clinic = toml::Table::new();
    clinic.insert("name".into(), config.clinic.name.clone().into());
    clinic.insert("time_zone".into(), config.clinic.time_zone.name().into());
    clinic.insert("currency".into(), config.clinic.currency.code().into());
    let mut services = toml::Table::new();
    services.insert("patients".into(), config.patients.url.clone().into());
    services.insert(
        "scheduling".into(),
        config.scheduling.service.url.clone().into(),
    );
    services.insert("billing".into(), config.billing.service.url.clone().into());
    services.insert(
        "collections".into(),
        config.collections.service.url.clone().into(),
    );

    let mut device = toml::Table::new();
    device.insert("mode".into(), mode.into());
    device.insert("token".into(), token.into());
    device.insert("language".into(), "es".into());
    // Each device keeps its own approved card payments; paths are relative to this file.
    device.insert("outbox_dir".into(), format!("kiosk-outbox-{mode}").into());
    device.insert("clinic".into(), clinic.into());
    device.insert("services".into(), services.into());
    match mode {
        "checkin" => {
            let mut checkin = toml::Table::new();
            checkin.insert("idle_seconds".into(), 20.into());
            checkin.insert("terminal_id".into(), "kiosk-lobby-1".into());
            checkin.insert("card_terminal".into(), true.into());
            device.insert("checkin".into(), checkin.into());
        }
        "counter" => {
            let mut printer = toml::Table::new();
            // No thermal printer on a demo machine: receipts become PDF files. For a printer:
            // kind = "escpos", address = "192.0.2.10:9100".
            printer.insert("kind".into(), "pdf".into());
            printer.insert("directory".into(), "receipts".into());
            let mut counter = toml::Table::new();
            counter.insert("terminal_id".into(), "counter-1".into());
            counter.insert("exports_dir".into(), "exports".into());
            counter.insert("printer".into(), printer.into());
            device.insert("counter".into(), counter.into());
        }
        "collections" => {
            let mut desk = toml::Table::new();
            desk.insert("collector".into(), DEMO_COLLECTOR.into());
            desk.insert("notices_dir".into(), "notices".into());
            device.insert("collections".into(), desk.into());
        }
        _ => {
            let mut display = toml::Table::new();
            display.insert("fullscreen".into(), true.into());
            device.insert("display".into(), display.into());
        }
    }
    let body = toml::to_string(&device).context("failed to write a kiosk configuration")?;
    Ok(format!(
        "# The clinic's {mode} device, written by `clinic up --demo`; run `kiosk --mode {mode}` here.\n{body}"
    ))
}

/// Tokens are credentials: the file is readable by its owner only.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("failed to write {}", path.display()))?;
        file.write_all(contents.as_bytes())?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, contents)
            .with_context(|| format!("failed to write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_device_file_names_its_mode_the_services_and_a_token() {
        let config = Config::load(None).expect("the built-in defaults load");
        for mode in ["checkin", "counter", "display", "collections"] {
            let text = device_config(&config, mode, "a-token").expect("written");
            let table: toml::Table = text.parse().expect("valid TOML");
            assert_eq!(table["mode"].as_str(), Some(mode));
            assert_eq!(table["token"].as_str(), Some("a-token"));
            assert_eq!(
                table["services"]["billing"].as_str(),
                Some(config.billing.service.url.as_str())
            );
            assert_eq!(
                table["services"]["collections"].as_str(),
                Some(config.collections.service.url.as_str())
            );
            assert_eq!(table["clinic"]["currency"].as_str(), Some("MXN"));
            assert!(table.contains_key(mode), "the {mode} section");
        }
    }
}
