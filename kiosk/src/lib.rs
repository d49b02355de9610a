//! The clinic's egui client, one mode per device:
//!
//! - `checkin`: the lobby kiosk where patients check in (touch first, four languages);
//! - `counter`: reception's terminal (schedule, patients, payments, receipts, drawer, close);
//! - `display`: the waiting-room screen (tickets and initials only).
//!
//! Layout: [`config`] (the device's file), [`backend`] (calls off the UI thread), [`outbox`]
//! (approved card payments kept until billing has them), [`printing`], [`i18n`], [`format`],
//! [`fonts`], [`widgets`], [`keyboard`] (the on-screen keyboards for free text), [`screens`] (one
//! module per mode) and [`app`] (the mode switch).

pub mod app;
pub mod backend;
pub mod config;
pub mod fonts;
pub mod format;
pub mod i18n;
pub mod keyboard;
pub mod outbox;
pub mod printing;
pub mod screens;
pub mod widgets;

pub use app::KioskApp;
