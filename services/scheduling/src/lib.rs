//! Scheduling: the clinic's providers, their weekly working hours and the exceptions to them
//! (holidays, blocks, breaks), finding free time, appointment types, their appointments through
//! the whole visit (booking to check-out, cancellations, no-shows, reschedules), check-in at the
//! desk or the kiosk, and the live waiting-room queue with its waits.
//!
//! - `domain`: the model and its rules (no storage, no transport).
//! - `store`: the tables, on SQLite or PostgreSQL.
//! - `app`: the application layer, what a request does when it takes more than one step (asking the patient
//!   registry, reading what a write needs, announcing queue changes, offering freed time to the
//!   waitlist); the gRPC handlers call one function of it.
//! - `metrics`: the queue's and the outbox's gauges.
//! - `feed`: announcing queue changes to everyone watching the queue.
//! - `grpc`: `clinic.scheduling.v1.SchedulingService`, converting at the edge, and the client of
//!   the patient registry this service asks about patients.
//! - [`startup`] and [`config`]: building and running the service.
//! - [`direct`]: the store calls of a booking and a check-in without gRPC, for the benchmark.

mod app;
pub mod config;
pub mod direct;
mod domain;
mod feed;
mod front_desk;
mod grpc;
mod metrics;
mod reminders;
mod spans;
pub mod startup;
mod store;

pub use config::Settings;
pub use startup::{App, SERVICE_NAME};

/// Applies scheduling's migrations to the database at `database_url` and returns.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let database = clinic_common::db::Database::connect(database_url).await?;
    let migrated = store::SchedulingStore::new(database.clone())
        .migrate()
        .await;
    database.close().await;
    migrated
}
