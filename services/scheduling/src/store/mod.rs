//! Scheduling's tables, on SQLite or PostgreSQL. Queries are written once in the SQL both
//! backends share (see `clinic_common::db`); the one place they differ is row locking, chosen in
//! [`SchedulingStore::locking`].

mod appointment_types;
mod appointments;
mod hours;
mod kiosk;
mod providers;
mod queue;
mod reports;
mod resources;
// Front desk flow: waitlist, planned visits, call tasks.
mod calls;
mod outbox;
mod planned;
mod waitlist;

pub use queue::Stepped;
pub use waitlist::offer_closed;

use std::future::Future;

use clinic_common::db::Database;
use sqlx::migrate::Migrator;

use crate::domain::SchedulingError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Looks up an idempotency key inside the open transaction `$tx`: `Some((fingerprint,
/// resource_id))` when the key was used before. A macro, because it runs inside
/// `in_transaction!`'s body, which is expanded once per backend.
macro_rules! earlier_request {
    ($tx:ident, $operation:expr, $request_id:expr) => {
        sqlx::query_as::<_, (String, String)>(
            "SELECT fingerprint, resource_id FROM idempotency_keys \
             WHERE operation = $1 AND request_id = $2",
        )
        .bind($operation)
        .bind($request_id.as_str())
        .fetch_optional(&mut *$tx)
        .await
        .context("failed to look up an idempotency key")?
    };
}

/// Records an idempotency key inside `$tx`. When a concurrent first attempt with the same key
/// committed first, returns `Attempt::KeyTaken` from the enclosing function (rolling back), and
/// the retry finds the winner's result.
macro_rules! record_request {
    ($tx:ident, $operation:expr, $request_id:expr, $fingerprint:expr, $resource_id:expr, $now:expr) => {
        let recorded = sqlx::query(
            "INSERT INTO idempotency_keys \
             (operation, request_id, fingerprint, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($operation)
        .bind($request_id.as_str())
        .bind($fingerprint)
        .bind($resource_id)
        .bind($now)
        .execute(&mut *$tx)
        .await;
        match recorded {
            Err(error) if clinic_common::db::is_unique_violation(&error, "idempotency_keys") => {
                return Err($crate::store::Attempt::KeyTaken);
            }
            other => {
                other.context("failed to record an idempotency key")?;
            }
        }
    };
}

/// Appends a status change to an appointment's history inside `$tx`.
macro_rules! record_status {
    ($tx:ident, $appointment_id:expr, $status:expr, $caller:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO appointment_status_history \
             (appointment_id, status, changed_at, changed_by) VALUES ($1, $2, $3, $4)",
        )
        .bind($appointment_id.to_string())
        .bind($status.as_str())
        .bind($now)
        .bind($caller.subject.as_str())
        .execute(&mut *$tx)
        .await
        .context("failed to record a status change")?;
    };
}

/// Appends a status change to a queue entry's history inside `$tx`.
macro_rules! record_queue_status {
    ($tx:ident, $queue_entry_id:expr, $status:expr, $caller:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO queue_entry_history \
             (queue_entry_id, status, changed_at, changed_by) VALUES ($1, $2, $3, $4)",
        )
        .bind($queue_entry_id.to_string())
        .bind($status.as_str())
        .bind($now)
        .bind($caller.subject.as_str())
        .execute(&mut *$tx)
        .await
        .context("failed to record a queue status change")?;
    };
}

pub(crate) use {earlier_request, record_queue_status, record_request, record_status};

/// How often a create is attempted when it loses a race it can retry: a concurrent first call
/// with the same idempotency key, or a confirmation code that another booking took.
const ATTEMPTS: usize = 5;

/// Why one attempt at creating something ended.
pub(crate) enum Attempt {
    /// Another call with the same idempotency key committed first.
    KeyTaken,
    /// The random confirmation code was already in use.
    CodeTaken,
    Failed(SchedulingError),
}

impl From<SchedulingError> for Attempt {
    fn from(error: SchedulingError) -> Self {
        Attempt::Failed(error)
    }
}

impl From<anyhow::Error> for Attempt {
    fn from(error: anyhow::Error) -> Self {
        Attempt::Failed(SchedulingError::Unexpected(error))
    }
}

/// Runs `attempt` until it succeeds, fails for good, or has lost [`ATTEMPTS`] retryable races.
async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, SchedulingError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Attempt>>,
{
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt::Failed(error)) => return Err(error),
            Err(Attempt::KeyTaken | Attempt::CodeTaken) => continue,
        }
    }
    Err(anyhow::anyhow!("{what} stayed contended after {ATTEMPTS} attempts").into())
}

/// All of scheduling's data.
#[derive(Debug, Clone)]
pub struct SchedulingStore {
    db: Database,
}

impl SchedulingStore {
    pub fn new(db: Database) -> Self {
        SchedulingStore { db }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.db
            .migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS)
            .await
    }

    /// `postgres` (a `SELECT … FOR UPDATE`) on PostgreSQL, where concurrent transactions must
    /// queue for the rows they are about to change; `sqlite` (the same query unlocked) on SQLite,
    /// which has no row locks and needs none: its transactions begin with `BEGIN IMMEDIATE`, so
    /// writers already run one at a time.
    fn locking(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.db {
            Database::Sqlite(_) => sqlite,
            Database::Postgres(_) => postgres,
        }
    }
}

/// Offsets beyond `i64` cannot be stored by either backend; clamp rather than fail.
fn sql_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}
