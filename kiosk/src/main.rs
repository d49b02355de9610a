//! `kiosk`: the clinic's egui client. `kiosk --mode checkin|counter|display|collections` reads
//! `kiosk-<mode>.toml` from the current directory (as `clinic up --demo` writes them into its
//! data directory), or the file given with `--config`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use clinic_common::clock::SystemClock;
use clinic_kiosk::KioskApp;
use clinic_kiosk::backend::Backend;
use clinic_kiosk::config::{KioskConfig, Mode};
use eframe::egui;

#[derive(Debug, Parser)]
#[command(
    name = "kiosk",
    version,
    about = "The clinic's check-in kiosk, reception counter, waiting-room display and collections desk"
)]
struct Cli {
    /// The mode; its default configuration file is ./kiosk-<mode>.toml.
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// The configuration file (its `mode` is used when --mode is not given).
    #[arg(long, env = "KIOSK_CONFIG")]
    config: Option<PathBuf>,
    /// Window size as WIDTHxHEIGHT (default 1280x800; the display fills the screen).
    #[arg(long)]
    size: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let cli = Cli::parse();
    clinic_common::telemetry::init("info");
    let path = match (&cli.config, cli.mode) {
        (Some(path), _) => path.clone(),
        (None, Some(mode)) => PathBuf::from(mode.default_config_file()),
        (None, None) => {
            anyhow::bail!("give --mode checkin|counter|display|collections, or --config FILE")
        }
    };
    let mut config = KioskConfig::load(&path)?;
    if let Some(mode) = cli.mode {
        anyhow::ensure!(
            mode == config.mode,
            "{} is for the {} mode, not {}",
            path.display(),
            config.mode.name(),
            mode.name()
        );
        config.mode = mode;
    }
    let (width, height) = match cli.size.as_deref() {
        Some(size) => {
            let (w, h) = size.split_once('x').context("--size is WIDTHxHEIGHT")?;
            (w.parse::<f32>()?, h.parse::<f32>()?)
        }
        None => (1280.0, 800.0),
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let backend = Backend::new(runtime.handle().clone(), &config.services, &config.token)?;
    let fullscreen = config.mode == Mode::Display && config.display.fullscreen;
    let title = format!("{} · {}", config.clinic.name, config.mode.name());
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title.clone())
            .with_inner_size([width, height])
            .with_position([0.0, 0.0])
            .with_fullscreen(fullscreen),
        ..Default::default()
    };
    let mode = config.mode;
    eframe::run_native(
        &title,
        options,
        Box::new(move |_cc| {
            let first_frame = FirstFrame {
                started,
                mode,
                app: KioskApp::new(config, backend, Arc::new(SystemClock)),
                reported: false,
            };
            Ok(Box::new(first_frame))
        }),
    )
    .map_err(|error| anyhow::anyhow!("the window failed: {error}"))?;
    drop(runtime);
    Ok(())
}

/// Logs how long the process took to show its first frame, then steps aside.
struct FirstFrame {
    started: Instant,
    mode: Mode,
    app: KioskApp,
    reported: bool,
}

impl eframe::App for FirstFrame {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        eframe::App::ui(&mut self.app, ui, frame);
        if !self.reported {
            self.reported = true;
            tracing::info!(
                mode = self.mode.name(),
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "first frame drawn"
            );
        }
    }
}
