//! The database a service runs on: embedded SQLite by default, PostgreSQL in production.
//!
//! Each service keeps one set of migrations per backend and writes its queries in the SQL the two
//! share (`$1` placeholders, `RETURNING`, `ON CONFLICT`, integer money, UTC instants bound as
//! `DateTime<Utc>`). [`with_db!`] and [`in_transaction!`] expand one such query for whichever pool
//! the service runs on: sqlx's pools are distinct types, and writing each query out twice would
//! invite the two copies to drift. Where the backends really differ (row locks, notifications),
//! a store matches on [`Database`] explicitly, or asks [`Connection::pick`].
//!
//! A helper that runs inside a transaction is a method of a trait the service implements for
//! both backends' connections, written once inside [`for_each_backend!`]: the transaction body
//! calls it like any method (`tx.lock_ledger().await?`), so its control flow is a visible `?`,
//! and it can be documented, tested and followed like any other function.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use sqlx::{PgConnection, SqliteConnection};

/// A connection pool on one of the two supported backends.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which backend a [`Database`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection of one of the two backends, as a transaction body holds it (a
/// `sqlx::Transaction` dereferences to it).
pub trait Connection: Send {
    /// Which backend this connection talks to.
    const BACKEND: Backend;

    /// `sqlite` on SQLite, `postgres` on PostgreSQL: for the few statements whose text differs,
    /// such as a `SELECT … FOR UPDATE` that SQLite (whose writers already run one at a time)
    /// neither needs nor understands.
    fn pick(sqlite: &'static str, postgres: &'static str) -> &'static str {
        match Self::BACKEND {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }
}

impl Connection for SqliteConnection {
    const BACKEND: Backend = Backend::Sqlite;
}

impl Connection for PgConnection {
    const BACKEND: Backend = Backend::Postgres;
}

/// What a service does with its migrations when it starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationMode {
    /// Apply what is missing (one machine; `clinic migrate`).
    #[default]
    Apply,
    /// Only check that nothing is missing, and refuse to start otherwise: where a deployment
    /// runs `clinic migrate` once per release (a Kubernetes Job) before the services roll out.
    Check,
}

static MIGRATION_MODE: std::sync::OnceLock<MigrationMode> = std::sync::OnceLock::new();

/// Sets the process's [`MigrationMode`] (once; the deployment's setting). `clinic migrate`
/// always applies.
pub fn set_migration_mode(mode: MigrationMode) {
    let _ = MIGRATION_MODE.set(mode);
}

fn migration_mode() -> MigrationMode {
    MIGRATION_MODE.get().copied().unwrap_or_default()
}

/// How long a writer waits for SQLite's write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Database {
    /// Connects to `url`: `sqlite://path/to/file.db` (created if missing) or
    /// `postgres://user@host:port/database`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("invalid SQLite URL {url:?}"))?
                .create_if_missing(true)
                .foreign_keys(true)
                // WAL lets readers work while one writer commits.
                .journal_mode(SqliteJournalMode::Wal)
                // FULL syncs the WAL on every commit: an acknowledged write survives power loss,
                // not only a crash of the process.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .with_context(|| format!("failed to open SQLite database {url:?}"))?;
            Ok(Database::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .context("failed to connect to PostgreSQL")?;
            Ok(Database::Postgres(pool))
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite:// or postgres://")
        }
    }

    /// Brings the service's schema up to date, or checks that it is, as the process's
    /// [`MigrationMode`] says. Either way, migrations the database has and this build does not
    /// know are tolerated: a newer release applied them, and an older one (a rollback) must still
    /// start. Applying takes the migrator's lock (an advisory lock on PostgreSQL), so replicas
    /// starting together apply each migration once.
    pub async fn migrate(&self, sqlite: &Migrator, postgres: &Migrator) -> anyhow::Result<()> {
        let migrator = match self {
            Database::Sqlite(_) => sqlite,
            Database::Postgres(_) => postgres,
        };
        let mut migrator = Migrator::with_migrations(migrator.iter().cloned().collect());
        migrator.set_ignore_missing(true);
        match migration_mode() {
            MigrationMode::Apply => match self {
                Database::Sqlite(pool) => migrator.run(pool).await,
                Database::Postgres(pool) => migrator.run(pool).await,
            }
            .context("failed to apply database migrations"),
            MigrationMode::Check => self.check_migrated(&migrator).await,
        }
    }

    /// Refuses unless every migration of `migrator` has been applied, unchanged.
    async fn check_migrated(&self, migrator: &Migrator) -> anyhow::Result<()> {
        let applied: Vec<(i64, Vec<u8>, bool)> = crate::with_db!(self, |pool| {
            sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations")
                .fetch_all(pool)
                .await
        })
        .context("the database has no migrations applied: run `clinic migrate` first")?;
        for migration in migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
        {
            let found = applied
                .iter()
                .find(|(version, _, _)| *version == migration.version);
            match found {
                Some((_, checksum, true)) if checksum.as_slice() == migration.checksum.as_ref() => {
                }
                Some((_, _, true)) => anyhow::bail!(
                    "migration {} ({}) was changed after it was applied",
                    migration.version,
                    migration.description
                ),
                _ => anyhow::bail!(
                    "migration {} ({}) is not applied: run `clinic migrate` first",
                    migration.version,
                    migration.description
                ),
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> anyhow::Result<()> {
        crate::with_db!(self, |pool| sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(pool)
            .await)?;
        Ok(())
    }

    /// The pool's connections: open, of which idle, and the most it opens.
    pub fn pool_stats(&self) -> (u32, u32, u32) {
        crate::with_db!(self, |pool| (
            pool.size(),
            u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            pool.options().get_max_connections()
        ))
    }

    /// Closes every connection; pending work finishes first.
    pub async fn close(&self) {
        crate::with_db!(self, |pool| pool.close().await)
    }
}

/// Writes `items` (typically one `impl SomeTrait for Conn { … }`) once for each backend: in the
/// first copy `Conn` is [`SqliteConnection`], in the second [`PgConnection`]. This is how a
/// service implements its transaction helpers for both backends from one SQL text; the copies
/// sit in anonymous `const` blocks, so nothing but the impls escapes.
///
/// ```ignore
/// pub(crate) trait LedgerTx {
///     /// Serialises writers of the ledger until the transaction ends.
///     async fn lock_ledger(&mut self) -> anyhow::Result<()>;
/// }
///
/// clinic_common::for_each_backend! {
///     impl LedgerTx for Conn {
///         async fn lock_ledger(&mut self) -> anyhow::Result<()> {
///             sqlx::query("UPDATE ledger_head SET locked_at = locked_at")
///                 .execute(&mut *self)
///                 .await?;
///             Ok(())
///         }
///     }
/// }
/// ```
#[macro_export]
macro_rules! for_each_backend {
    ($($item:item)*) => {
        const _: () = {
            type Conn = $crate::db::SqliteConnection;
            $($item)*
        };
        const _: () = {
            type Conn = $crate::db::PgConnection;
            $($item)*
        };
    };
}

/// Runs `$body` with `$pool` bound to whichever sqlx pool `$db` holds. The body is written once
/// and type-checked against each backend.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite($pool) => $body,
            $crate::db::Database::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside a transaction on `$db`, with `$tx` bound to the open transaction, and
/// commits when the body returns `Ok`. An `Err` (or a panic) rolls back.
///
/// SQLite transactions start with `BEGIN IMMEDIATE`, which takes the write lock up front: a
/// deferred transaction that reads and then writes can otherwise fail with `SQLITE_BUSY` when
/// another connection commits in between. The body's error type must convert from
/// `anyhow::Error`.
///
/// A `return` inside the body leaves the enclosing function without committing: the
/// transaction rolls back. That is right for a refusal and for an answer that wrote nothing
/// (a retry finding its first result); anything that wrote must be the body's value.
#[macro_export]
macro_rules! in_transaction {
    ($db:expr, |$tx:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite(pool) => {
                let started = ::std::time::Instant::now();
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(|error| {
                    ::anyhow::Error::new(error).context("failed to begin a transaction")
                })?;
                let outcome = $body;
                if outcome.is_ok() {
                    $tx.commit()
                        .await
                        .map_err(|error| ::anyhow::Error::new(error).context("failed to commit"))?;
                }
                $crate::metrics::observe_transaction(started.elapsed());
                outcome
            }
            $crate::db::Database::Postgres(pool) => {
                let started = ::std::time::Instant::now();
                let mut $tx = pool.begin().await.map_err(|error| {
                    ::anyhow::Error::new(error).context("failed to begin a transaction")
                })?;
                let outcome = $body;
                if outcome.is_ok() {
                    $tx.commit()
                        .await
                        .map_err(|error| ::anyhow::Error::new(error).context("failed to commit"))?;
                }
                $crate::metrics::observe_transaction(started.elapsed());
                outcome
            }
        }
    };
}

/// Whether `error` is a unique violation of `constraint`. PostgreSQL names the constraint; SQLite
/// only lists the `table.column`s involved, so a table name (or `table.column`) also matches
/// there: pass the narrowest name that tells the violations of one statement apart.
pub fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    let sqlx::Error::Database(db_error) = error else {
        return false;
    };
    if !db_error.is_unique_violation() {
        return false;
    }
    db_error.constraint() == Some(constraint) || db_error.message().contains(constraint)
}

/// What a failed database call says about the database, for the caller's retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database could not be reached or is restarting (a refused or broken connection, a
    /// pool that found no connection in time, PostgreSQL shutting down or starting up, too many
    /// connections, SQLite's lock held past its busy timeout): the same call may well succeed
    /// in a moment.
    Unreachable,
    /// PostgreSQL aborted the transaction for a conflicting one (serialization failure,
    /// deadlock): retrying the whole call succeeds.
    Conflict,
    /// Anything else: a fault to look into.
    Other,
}

/// Classifies the first database error in `error`'s chain.
pub fn failure_of(error: &anyhow::Error) -> Failure {
    let Some(error) = error.chain().find_map(|e| e.downcast_ref::<sqlx::Error>()) else {
        return Failure::Other;
    };
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Failure::Unreachable,
        sqlx::Error::Database(db_error) => {
            let code = db_error.code().unwrap_or_default();
            match code.as_ref() {
                // PostgreSQL: connection exceptions (class 08), admin or crash shutdown, cannot
                // connect now (starting up or shutting down), too many connections.
                c if c.starts_with("08") => Failure::Unreachable,
                "57P01" | "57P02" | "57P03" | "53300" => Failure::Unreachable,
                "40001" | "40P01" => Failure::Conflict,
                // SQLite: SQLITE_BUSY and SQLITE_LOCKED (extended codes keep the low byte).
                c => match c.parse::<i32>() {
                    Ok(sqlite) if matches!(sqlite & 0xff, 5 | 6) => Failure::Unreachable,
                    _ => Failure::Other,
                },
            }
        }
        _ => Failure::Other,
    }
}
