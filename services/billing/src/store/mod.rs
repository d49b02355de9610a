//! Billing's tables, on SQLite or PostgreSQL. Queries are written once in the SQL both backends
//! share (see `clinic_common::db`) and expanded per backend by `with_db!` / `in_transaction!`.
//!
//! Every write that a retry could duplicate claims its idempotency key in the same transaction
//! as the write, so the key and what it stands for commit together or not at all.
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

use std::future::Future;

use anyhow::Context;
use clinic_common::db::Database;
use clinic_common::ids::RequestId;
use sqlx::migrate::Migrator;

use crate::domain::{BillingError, Operation};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

const SELECT_IDEMPOTENCY_KEY: &str = "SELECT fingerprint, resource_id FROM idempotency_keys \
     WHERE operation = $1 AND request_id = $2";

/// Inside the open transaction `$tx`: what `$request_id` already stands for. Evaluates to
/// `Some(resource_id)` when this request is a retry of the one that claimed the key, `None` when
/// the key is free, and returns `RequestIdReused` (rolling back) when the key was used for a
/// different request. A macro, because it runs inside `in_transaction!`'s body, which is expanded
/// once per backend.
macro_rules! earlier_result {
    ($tx:ident, $operation:expr, $request_id:expr, $fingerprint:expr) => {{
        let earlier: Option<(String, String)> =
            sqlx::query_as(crate::store::SELECT_IDEMPOTENCY_KEY)
                .bind($operation.as_str())
                .bind($request_id.as_str())
                .fetch_optional(&mut *$tx)
                .await
                .context("failed to look up an idempotency key")?;
        match earlier {
            Some((fingerprint, resource_id)) if fingerprint == $fingerprint => Some(resource_id),
            Some(_) => return Err(crate::domain::BillingError::RequestIdReused.into()),
            None => None,
        }
    }};
}

/// Inside the open transaction `$tx`: claims `$request_id` for `$resource_id`. When another
/// transaction claimed it first (two first attempts racing on PostgreSQL), returns
/// `WriteError::KeyTaken`, rolling back, so that the caller's second pass finds the winner.
macro_rules! claim_request_id {
    ($tx:ident, $operation:expr, $request_id:expr, $fingerprint:expr, $resource_id:expr, $now:expr) => {
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys \
             (operation, request_id, fingerprint, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($operation.as_str())
        .bind($request_id.as_str())
        .bind($fingerprint)
        .bind($resource_id)
        .bind($now)
        .execute(&mut *$tx)
        .await;
        match claimed {
            Err(error) if clinic_common::db::is_unique_violation(&error, "idempotency_keys") => {
                return Err(crate::store::WriteError::KeyTaken);
            }
            other => {
                other.context("failed to record an idempotency key")?;
            }
        }
    };
}

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

    /// The resource a first call with `request_id` created, when this request (by its
    /// `fingerprint`) is a retry of it. Read outside any transaction, so that a retry can be
    /// answered without asking the patient registry again; the write itself checks once more.
    async fn earlier_resource(
        &self,
        operation: Operation,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<String>, BillingError> {
        let earlier: Option<(String, String)> = clinic_common::with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_IDEMPOTENCY_KEY)
                .bind(operation.as_str())
                .bind(request_id.as_str())
                .fetch_optional(pool)
                .await
        })
        .context("failed to look up an idempotency key")?;
        match earlier {
            Some((earlier_fingerprint, resource_id)) if earlier_fingerprint == fingerprint => {
                Ok(Some(resource_id))
            }
            Some(_) => Err(BillingError::RequestIdReused),
            None => Ok(None),
        }
    }
}

/// How a write that claims an idempotency key can fail.
enum WriteError {
    /// Another transaction claimed the key first; try again to find its result.
    KeyTaken,
    Billing(BillingError),
}

impl From<BillingError> for WriteError {
    fn from(error: BillingError) -> Self {
        WriteError::Billing(error)
    }
}

impl From<anyhow::Error> for WriteError {
    fn from(error: anyhow::Error) -> Self {
        WriteError::Billing(BillingError::Unexpected(error))
    }
}

/// Runs `write`, a transaction that claims `request_id`, at most twice. Two first attempts with
/// one key can race on PostgreSQL (SQLite serialises writers from `BEGIN IMMEDIATE`): the
/// loser's claim fails on the key's primary key once the winner commits, its transaction rolls
/// back whole, and its second pass finds the winner's result.
async fn claiming_key<T, F, Fut>(request_id: &RequestId, mut write: F) -> Result<T, BillingError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WriteError>>,
{
    for attempt in 0..2 {
        match write().await {
            Err(WriteError::KeyTaken) if attempt == 0 => continue,
            Err(WriteError::KeyTaken) => break,
            Err(WriteError::Billing(error)) => return Err(error),
            Ok(value) => return Ok(value),
        }
    }
    Err(anyhow::anyhow!("idempotency key {request_id} stayed contended").into())
}

/// A stored value that no longer parses: the row is corrupt, which is never the caller's fault.
fn corrupt(column: &str, row_id: &str) -> anyhow::Error {
    anyhow::anyhow!("{column} of {row_id} is corrupt")
}
