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
//! - `metrics`: the feed's lag behind billing, and the background tasks' last success.
//! - `registry`: what the patient registry says about reaching a patient.
//! - `app`: the application layer, what each RPC does once converted and authorised (the desk:
//!   composing the store's reads, the registry's and billing's answers and the domain's rules).
//! - `grpc`: `clinic.collections.v1.CollectionsService`, converting at the edge.
//! - `printing` and `export`: notices as PDF (any script), KPIs as CSV and XLSX.
//! - [`startup`] and [`config`]: building and running the service, with the ledger follower
//!   beside the server.

mod app;
pub mod config;
mod domain;
mod export;
mod follower;
mod grpc;
mod metrics;
mod printing;
mod registry;
pub mod startup;
mod store;

pub use config::Settings;
pub use startup::{App, SERVICE_NAME};

/// Applies the collections service's migrations to the database at `database_url` and returns.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let database = clinic_common::db::Database::connect(database_url).await?;
    let migrated = store::migrate(&database).await;
    database.close().await;
    migrated
}

/// Loading billing's ledger in bulk, through the same code the follower applies billing's feed
/// with (one transaction per page, the cursor moving with it). For benchmarks and for tools that
/// rebuild a collections database from an exported ledger; the service itself never calls it.
#[doc(hidden)]
pub mod load {
    use chrono::{DateTime, NaiveDate, Utc};
    use clinic_common::db::Database;
    use clinic_common::ids::PatientId;
    use clinic_common::{Currency, Money};

    use crate::domain::{EntryKind, LedgerEntry};
    use crate::store::{self, PageStop, ReceivablesStore};

    /// One ledger entry as billing's feed carries it.
    #[derive(Debug, Clone)]
    pub struct FeedEntry {
        pub sequence: i64,
        pub patient_id: PatientId,
        /// A charge (positive amount) or a payment (negative amount).
        pub is_payment: bool,
        pub amount_minor: i64,
        pub source_id: String,
        pub service_date: NaiveDate,
        pub created_at: DateTime<Utc>,
    }

    /// Applies `entries` (in ledger order, continuing the database's cursor) page by page.
    pub async fn apply_feed(
        database_url: &str,
        currency: Currency,
        entries: &[FeedEntry],
        page_size: usize,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let database = Database::connect(database_url).await?;
        store::migrate(&database).await?;
        let receivables = ReceivablesStore::new(database.clone(), currency);
        let head = entries.last().map_or(0, |entry| entry.sequence);
        for page in entries.chunks(page_size.max(1)) {
            let page: Vec<LedgerEntry> = page
                .iter()
                .map(|entry| LedgerEntry {
                    sequence: entry.sequence,
                    patient_id: entry.patient_id,
                    kind: if entry.is_payment {
                        EntryKind::Payment
                    } else {
                        EntryKind::Charge
                    },
                    amount: Money::from_minor(entry.amount_minor, currency),
                    source_id: entry.source_id.clone(),
                    service_date: entry.service_date,
                    created_at: entry.created_at,
                    related_source_id: None,
                })
                .collect();
            let outcome = receivables.apply_page(&page, head, now).await?;
            if let Some(stop) = outcome.stopped {
                let why = match stop {
                    PageStop::Gap { expected, found } => {
                        format!("expected sequence {expected}, found {found}")
                    }
                    PageStop::Refused(refused) => refused.to_string(),
                };
                anyhow::bail!("the feed stopped: {why}");
            }
        }
        database.close().await;
        Ok(())
    }
}
