//! The patient registry: who the clinic's patients are, how to reach them, what they consented
//! to, and who looked at their records.
//!
//! - `domain`: the model and its rules (no storage, no transport).
//! - `store`: the tables, on SQLite or PostgreSQL.
//! - `grpc`: `clinic.patients.v1.PatientService`, converting at the edge.
//! - [`startup`] and [`config`]: building and running the service.

pub mod config;
mod domain;
mod grpc;
pub mod startup;
mod store;

pub use config::Settings;
pub use startup::{App, SERVICE_NAME};

/// Applies the registry's migrations to the database at `database_url` and returns.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let database = clinic_common::db::Database::connect(database_url).await?;
    let migrated = store::PatientStore::new(database.clone()).migrate().await;
    database.close().await;
    migrated
}
