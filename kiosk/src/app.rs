//! The application: one mode per process, chosen by the configuration. The same `ui` function
//! serves the real window (eframe) and the tests (egui_kittest).

use clinic_common::clock::SharedClock;
use eframe::egui;

use crate::backend::Backend;
use crate::config::{KioskConfig, Mode};
use crate::i18n::Lang;
use crate::outbox::{self, Outbox};
use crate::screens::checkin::{Checkin, CheckinSetup};
use crate::screens::collections::{CollectionsDesk, CollectionsSetup};
use crate::screens::counter::{Counter, CounterSetup};
use crate::screens::display::Display;
use crate::widgets;

pub enum Screen {
    Checkin(Box<Checkin>),
    Counter(Box<Counter>),
    Display(Box<Display>),
    Collections(Box<CollectionsDesk>),
}

pub struct KioskApp {
    config: KioskConfig,
    backend: Backend,
    /// Where every screen reads "now": the system clock in the program, any clock in tests.
    clock: SharedClock,
    screen: Option<Screen>,
}

impl KioskApp {
    /// Nothing is drawn or called until the first frame, which builds the mode's screens with
    /// the egui context their background work repaints.
    pub fn new(config: KioskConfig, backend: Backend, clock: SharedClock) -> KioskApp {
        KioskApp {
            config,
            backend,
            clock,
            screen: None,
        }
    }

    pub fn screen(&self) -> Option<&Screen> {
        self.screen.as_ref()
    }

    pub fn checkin(&self) -> Option<&Checkin> {
        match &self.screen {
            Some(Screen::Checkin(checkin)) => Some(checkin),
            _ => None,
        }
    }

    pub fn counter(&self) -> Option<&Counter> {
        match &self.screen {
            Some(Screen::Counter(counter)) => Some(counter),
            _ => None,
        }
    }

    pub fn display(&self) -> Option<&Display> {
        match &self.screen {
            Some(Screen::Display(display)) => Some(display),
            _ => None,
        }
    }

    pub fn collections(&self) -> Option<&CollectionsDesk> {
        match &self.screen {
            Some(Screen::Collections(desk)) => Some(desk),
            _ => None,
        }
    }

    fn build(&self, ctx: &egui::Context) -> anyhow::Result<Screen> {
        let config = &self.config;
        let clinic = config.clinic_settings()?;
        let loaded = crate::fonts::install(ctx, &config.fonts);
        tracing::info!(fonts = loaded.len(), "fonts loaded");
        let backend = self.backend.clone();
        Ok(match config.mode {
            Mode::Checkin => {
                widgets::apply_style(ctx, 26.0);
                let outbox = Outbox::open(&config.outbox_dir)?;
                let (outbox_state, nudge) =
                    outbox::start_poster(backend.clone(), outbox.clone(), ctx.clone());
                Screen::Checkin(Box::new(Checkin::new(CheckinSetup {
                    backend,
                    clinic,
                    clock: self.clock.clone(),
                    outbox,
                    outbox_state,
                    nudge,
                    language: config.language,
                    idle_seconds: config.checkin.idle_seconds,
                    card_terminal: config.checkin.card_terminal,
                    terminal_id: config.checkin.terminal_id.clone(),
                })))
            }
            Mode::Counter => {
                widgets::apply_style(ctx, 16.0);
                let outbox = Outbox::open(&config.outbox_dir)?;
                let (outbox_state, nudge) =
                    outbox::start_poster(backend.clone(), outbox.clone(), ctx.clone());
                Screen::Counter(Box::new(Counter::new(CounterSetup {
                    backend,
                    clinic,
                    clock: self.clock.clone(),
                    language: config.language,
                    terminal_id: config.counter.terminal_id.clone(),
                    printer: config.counter.printer.clone(),
                    exports_dir: config.counter.exports_dir.clone(),
                    outbox,
                    outbox_state,
                    nudge,
                })))
            }
            Mode::Display => {
                widgets::apply_style(ctx, 24.0);
                Screen::Display(Box::new(Display::new(backend, clinic, config.language)))
            }
            Mode::Collections => {
                widgets::apply_style(ctx, 16.0);
                let client = backend.collections.clone().ok_or_else(|| {
                    anyhow::anyhow!(
                        "the collections desk needs services.collections in its configuration"
                    )
                })?;
                Screen::Collections(Box::new(CollectionsDesk::new(CollectionsSetup {
                    backend,
                    client,
                    clinic,
                    language: config.language,
                    collector: config.collections.collector.clone(),
                    notices_dir: config.collections.notices_dir.clone(),
                })))
            }
        })
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.screen.is_none() {
            match self.build(ui.ctx()) {
                Ok(screen) => self.screen = Some(screen),
                Err(error) => {
                    tracing::error!(error = ?error, "the client could not start");
                    ui.label(format!("{error:#}"));
                    return;
                }
            }
        }
        match &mut self.screen {
            Some(Screen::Checkin(checkin)) => checkin.ui(ui),
            Some(Screen::Counter(counter)) => counter.ui(ui),
            Some(Screen::Display(display)) => display.ui(ui),
            Some(Screen::Collections(desk)) => desk.ui(ui),
            None => {}
        }
    }

    pub fn language(&self) -> Lang {
        match &self.screen {
            Some(Screen::Checkin(checkin)) => checkin.language(),
            Some(Screen::Counter(counter)) => counter.language(),
            Some(Screen::Collections(desk)) => desk.language(),
            _ => self.config.language,
        }
    }
}

impl eframe::App for KioskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        KioskApp::ui(self, ui);
    }
}
