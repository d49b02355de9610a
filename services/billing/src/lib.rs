//! Billing: the price list, charges, payments and refunds posted to patients' accounts, their
//! balances, the ledger every money movement is appended to (which other services follow as a
//! change feed), the counter terminals' cash drawers, and payment receipts.
//!
//! - `domain`: the model and its rules (no storage, no transport).
//! - `store`: the tables, on SQLite or PostgreSQL; the ledger and its gap-free sequence.
//! - `grpc`: `clinic.billing.v1.BillingService`, converting at the edge, and the patient
//!   registry as billing asks it.
//! - [`printing`]: receipts as ESC/POS or PDF, and sending them to a printer.
//! - [`seal`]: the clinic's CSD and the seal of CFDI invoices.
//! - [`pac`]: stamping sealed CFDI by a PAC, and the sandbox stand-in.
//! - `export`: the daily close as CSV or XLSX.
//! - [`app`] and [`config`]: building and running the service.

pub mod app;
pub mod config;
mod domain;
mod export;
mod grpc;
pub mod pac;
pub mod printing;
pub mod seal;
mod store;

pub use app::{App, SERVICE_NAME};
pub use config::Settings;

/// Applies billing's migrations to the database at `database_url` and returns.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let database = clinic_common::db::Database::connect(database_url).await?;
    let migrated = store::BillingStore::new(database.clone()).migrate().await;
    database.close().await;
    migrated
}
