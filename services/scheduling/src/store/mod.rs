//! Scheduling's tables, on SQLite or PostgreSQL. Queries are written once in the SQL both
//! backends share (see `clinic_common::db`). Where the backends differ, row locking, the helper
//! that takes the lock picks its statement per backend with `Connection::pick`: a `SELECT … FOR
//! UPDATE` on PostgreSQL, where concurrent transactions must queue for the rows they are about to
//! change; the same query unlocked on SQLite, whose transactions begin with `BEGIN IMMEDIATE`, so
//! writers already run one at a time.
//!
//! Each area's statements that run inside another statement's transaction are the methods of a
//! trait implemented for both backends' connections (`clinic_common::for_each_backend!`), which a
//! transaction body calls as `tx.lock_provider(provider_id).await?`. They depend on each other in
//! one direction only: `history` and `providers` stand alone; `hours` locks providers; `resources`
//! reads hours; `appointments` books with all of them; `queue` checks appointments in.
//!
//! Writes that a retry could repeat take an idempotency key (`clinic_common::idempotency`): the
//! transaction looks the key up, claims it with what it wrote, and a lost race runs again.

mod appointment_types;
mod appointments;
mod history;
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

pub use queue::{CheckedIn, Stepped};
pub use waitlist::offer_closed;

use clinic_common::db::Database;
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The statuses that hold a provider's time, as SQL. Must list exactly the statuses for which
/// `AppointmentStatus::is_active` holds (a unit test below checks).
macro_rules! active_statuses {
    () => {
        "('scheduled', 'confirmed', 'arrived', 'seated')"
    };
}

pub(crate) use active_statuses;

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
}

/// Offsets beyond `i64` cannot be stored by either backend; clamp rather than fail.
fn sql_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use crate::domain::AppointmentStatus;

    #[test]
    fn the_sql_list_of_active_statuses_matches_the_domain() {
        let active: Vec<String> = AppointmentStatus::ALL
            .into_iter()
            .filter(AppointmentStatus::is_active)
            .map(|status| format!("'{}'", status.as_str()))
            .collect();
        assert_eq!(active_statuses!(), format!("({})", active.join(", ")));
    }
}
