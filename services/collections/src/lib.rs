//! Receivables and collections work, kept current from billing's ledger.
//!
//! Collections never reads billing's tables: it follows billing's ledger change feed
//! (`BillingService.ListLedgerEntries`) and keeps its own receivables, one account per patient.
//!
//! - `domain`: the receivables model and its rules: how payments are allocated to charges, aging,
//!   the contact rules engine, the worklist score, promises to pay and payment plans (whose
//!   statuses are derived from the payments in the ledger) (no storage, no transport).
//! - `store`: the tables, on SQLite or PostgreSQL: applying a page of the ledger exactly once, the
//!   append-only contact log (a contact and the rule check behind it in one transaction),
//!   collectors' assignments, promises to pay and payment plans.
//! - `follower`: the background task that reads billing's feed and the patient registry.
//! - `registry`: what the patient registry says about reaching a patient.
//! - `grpc`: `clinic.collections.v1.CollectionsService`, converting at the edge.
//! - `printing` and `export`: notices as PDF (any script), KPIs as CSV and XLSX.
//! - [`app`] and [`config`]: building and running the service.

pub mod app;
pub mod config;
mod domain;
mod export;
mod follower;
mod grpc;
mod printing;
mod registry;
mod store;

pub use app::{App, SERVICE_NAME};
pub use config::Settings;

/// Applies the collections service's migrations to the database at `database_url` and returns.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let database = clinic_common::db::Database::connect(database_url).await?;
    let migrated = store::migrate(&database).await;
    database.close().await;
    migrated
}
