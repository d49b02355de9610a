//! Billing: the price list, charges, payments and refunds posted to patients' accounts, their
//! balances, the ledger every money movement is appended to (which other services follow as a
//! change feed), the counter terminals' cash drawers, payment receipts, the daily close and CFDI
//! invoices.
//!
//! - `domain`: the model and its rules (no storage, no transport).
//! - `store`: the tables, on SQLite or PostgreSQL; the ledger and its gap-free sequence.
//! - `app`: the application layer: what each request does once it is read and authorised
//!   (composing the store, the patient registry and scheduling as billing asks them, the PAC
//!   and the domain's rules).
//! - `grpc`: `clinic.billing.v1.BillingService`: each handler converts at the edge, checks the
//!   caller's role and calls one `app` or `store` function.
//! - [`printing`]: receipts as ESC/POS or PDF, and sending them to a printer.
//! - [`seal`]: the clinic's CSD and the seal of CFDI invoices.
//! - [`pac`]: stamping sealed CFDI by a PAC, and the sandbox stand-in.
//! - `export`: the daily close as CSV or XLSX.
//! - [`startup`] and [`config`]: building and running the service.

mod app;
pub mod config;
mod domain;
mod export;
mod grpc;
pub mod pac;
pub mod printing;
pub mod seal;
pub mod startup;
mod store;

pub use config::Settings;
pub use startup::{App, SERVICE_NAME};

/// Applies billing's migrations to the database at `database_url` and returns.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let database = clinic_common::db::Database::connect(database_url).await?;
    let migrated = store::BillingStore::new(database.clone()).migrate().await;
    database.close().await;
    migrated
}
