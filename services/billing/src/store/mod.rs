//! Billing's tables, on SQLite or PostgreSQL. Queries are written once in the SQL both backends
//! share (see `clinic_common::db`). Reads on the pool are methods of [`BillingStore`] through
//! `with_db!`. A write runs in `in_transaction!`, and each step it takes inside the transaction
//! is a documented method of a trait implemented for both backends' connections with
//! `for_each_backend!`: the shared ones (`LedgerTx` in `ledger`, `AllocationsTx` in
//! `allocations`, `DrawerTx` in `drawer`) and each module's own (`PaymentsTx`, `InvoicesTx`, …).
//! A transaction body so reads as its steps (`tx.lock_ledger().await?`,
//! `tx.ensure_day_open(today).await?`), a refusal is the `Err` such a step returns, and the
//! decisions between the steps are pure functions of `domain`. The daily close reads its groups
//! of figures the same way (`DayFiguresTx`), in one read transaction.
//!
//! Every write that a retry could duplicate follows `clinic_common::idempotency`: inside its
//! transaction it looks its key (named by its `Operation`) up and claims it, so the key and what
//! it stands for commit together or not at all, and it runs under `retrying`, which repeats an
//! attempt that lost its key to a concurrent first call.
//!
//! Locks: a write that moves money takes the ledger head before it decides anything that depends
//! on the ledger (see `ledger`); one that also counts cash into a drawer locks the drawer's
//! session row first (see `drawer`).
//!
//! - `price_list`: items and their listing.
//! - `charges` and `payments`: posting them, each with its ledger entry; payments allocated.
//! - `allocations`: which payment's money pays which charge, and the patient's advance.
//! - `corrections`: adjustments, credit notes and write-offs of charges.
//! - `cfdi_documents`: what PPD invoices, credit notes' CFDI and payment complements bill.
//! - `closed_days`: closing a day, after which nothing can be dated on it.
//! - `promotions`: promotions managers set up for the counter to apply.
//! - `ledger`: the gap-free sequence, balances and the change feed.
//! - `drawer`: cash-drawer sessions, their counts and cash movements.
//! - `refunds`: refunds and their reversing ledger entries.
//! - `daily_close`: the figures of a clinic day for the daily close report.
//! - `statements`: a patient's statement and today's unpaid accounts, read from the ledger.

use clinic_common::db::Database;
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

mod allocations;
mod cfdi_documents;
mod charges;
mod closed_days;
mod corrections;
mod daily_close;
mod drawer;
mod invoices;
mod ledger;
mod payments;
mod price_list;
mod promotions;
mod refunds;
mod statements;

pub use allocations::OpenCharges;
pub use invoices::{InvoiceDraft, Sealed};
pub use ledger::NewLedgerEntry;

/// Billing's database.
#[derive(Debug, Clone)]
pub struct BillingStore {
    db: Database,
}

impl BillingStore {
    pub fn new(db: Database) -> Self {
        BillingStore { db }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.db
            .migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS)
            .await
    }
}

/// A stored value that no longer parses: the row is corrupt, which is never the caller's fault.
fn corrupt(column: &str, row_id: &str) -> anyhow::Error {
    anyhow::anyhow!("{column} of {row_id} is corrupt")
}
