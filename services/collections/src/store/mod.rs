//! The receivables tables, on SQLite or PostgreSQL. Queries are written once in the SQL both
//! backends share (see `clinic_common::db`); a statement that runs inside another's transaction
//! is a method of a transaction trait implemented for both backends' connections
//! ([`ReceivablesTx`] here, one per area beside it).
//!
//! `ledger` applies billing's ledger, exactly once; `contacts` holds the contact log and what
//! governs contacting a patient; `promises` the promises to pay; `plans` the payment plans;
//! `desk` disputes, escalations, phone payments and the access audit; `worklist` gathers what
//! the worklist is ranked from.

mod contacts;
mod desk;
mod ledger;
mod plans;
mod promises;
#[cfg(test)]
mod tests;

pub use contacts::ContactToRecord;
pub use desk::EscalationFacts;
pub use ledger::{PageOutcome, PageStop};
pub use plans::{PlanReplacement, PlanToCreate};
pub use promises::PromiseRecords;

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::{Backend, Connection, Database};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money, for_each_backend, with_db};
use sqlx::migrate::Migrator;

use crate::domain::{EntryKind, LedgerEntry, LedgerSyncStatus, Receivable, ReceivablesPage};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Applies the service's migrations.
pub async fn migrate(db: &Database) -> anyhow::Result<()> {
    db.migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await
}

/// The columns `ReceivableRow` reads, as a literal so queries stay `&'static str`.
macro_rules! receivable_columns {
    () => {
        "patient_id, patient_name, balance_minor, oldest_open_charge_date, last_payment_at, \
         last_activity_at"
    };
}

#[derive(Debug, Clone)]
pub struct ReceivablesStore {
    db: Database,
    /// The clinic's currency: every amount on disk is in its minor units.
    currency: Currency,
}

impl ReceivablesStore {
    pub fn new(db: Database, currency: Currency) -> Self {
        ReceivablesStore { db, currency }
    }

    /// How far the receivables have followed billing's ledger.
    pub async fn sync_status(&self) -> anyhow::Result<LedgerSyncStatus> {
        let (applied_sequence, billing_head_sequence, last_sync_at): (
            i64,
            i64,
            Option<DateTime<Utc>>,
        ) = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT applied_sequence, billing_head_sequence, last_sync_at \
                 FROM ledger_cursor WHERE cursor_id = 1",
            )
            .fetch_one(pool)
            .await
        })
        .context("failed to read the ledger cursor")?;
        Ok(LedgerSyncStatus {
            applied_sequence,
            billing_head_sequence,
            last_sync_at,
        })
    }

    /// Accounts whose holder's name has not been asked for yet, at most `limit`.
    pub async fn unnamed_accounts(&self, limit: u32) -> anyhow::Result<Vec<PatientId>> {
        let ids: Vec<String> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT patient_id FROM receivable_accounts WHERE patient_name IS NULL \
                 ORDER BY patient_id LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })
        .context("failed to read unnamed accounts")?;
        let mut patient_ids = Vec::with_capacity(ids.len());
        for id in ids {
            patient_ids.push(
                PatientId::parse(&id)
                    .with_context(|| format!("receivable_accounts holds a malformed id {id:?}"))?,
            );
        }
        Ok(patient_ids)
    }

    /// Records the registry's name for an account holder; empty when the registry did not know
    /// the patient, so that nobody asks again.
    pub async fn set_patient_name(&self, patient_id: PatientId, name: &str) -> anyhow::Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query("UPDATE receivable_accounts SET patient_name = $2 WHERE patient_id = $1")
                .bind(patient_id.to_string())
                .bind(name)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("failed to record a patient name")?;
        Ok(())
    }

    /// The ledger entries billing recorded before `posted_before` (all patients', or one's), as
    /// applied so far. The cursor is read first and bounds the entries, so a page the follower
    /// commits meanwhile is either wholly in or wholly out.
    pub async fn ledger_history(
        &self,
        posted_before: DateTime<Utc>,
        patient_id: Option<PatientId>,
    ) -> anyhow::Result<LedgerHistory> {
        let applied_sequence = self.sync_status().await?.applied_sequence;
        let patient = patient_id.map(|patient_id| patient_id.to_string());
        let rows: Vec<EntryRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT sequence, patient_id, kind, amount_minor, source_id, service_date, \
                 created_at, related_source_id FROM ledger_entries \
                 WHERE sequence <= $1 AND created_at < $2 \
                 AND (CAST($3 AS TEXT) IS NULL OR patient_id = $3) \
                 ORDER BY sequence",
            )
            .bind(applied_sequence)
            .bind(posted_before)
            .bind(patient.as_deref())
            .fetch_all(pool)
            .await
        })
        .context("failed to read the ledger history")?;
        let named: Vec<(String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT patient_id, patient_name FROM receivable_accounts \
                 WHERE patient_name IS NOT NULL AND patient_name <> '' \
                 AND (CAST($1 AS TEXT) IS NULL OR patient_id = $1)",
            )
            .bind(patient.as_deref())
            .fetch_all(pool)
            .await
        })
        .context("failed to read account holders' names")?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            entries.push(row.into_entry(self.currency)?);
        }
        let mut names = HashMap::with_capacity(named.len());
        for (id, name) in named {
            let patient_id = PatientId::parse(&id)
                .with_context(|| format!("receivable_accounts holds a malformed id {id:?}"))?;
            names.insert(patient_id, name);
        }
        Ok(LedgerHistory {
            entries,
            applied_sequence,
            names,
        })
    }

    /// Accounts with something owing, largest balance first (then by patient id, so pages are
    /// stable), with the total over all of them and the ledger sequence they reflect.
    pub async fn list_receivables(
        &self,
        limit: u32,
        offset: u64,
    ) -> anyhow::Result<ReceivablesPage> {
        let limit = i64::from(limit);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        // The page, the total and the sequence must come from one snapshot, or a page could
        // disagree with its total while the follower commits.
        let (rows, total_open, as_of_sequence) = with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await.context("failed to begin a read")?;
            tx.read_one_snapshot().await?;
            let read = tx.read_receivables(limit, offset).await?;
            tx.rollback().await.context("failed to end a read")?;
            read
        });
        let mut accounts = Vec::with_capacity(rows.len());
        for row in rows {
            accounts.push(row.into_receivable(self.currency)?);
        }
        Ok(ReceivablesPage {
            accounts,
            total_open: Money::from_minor(total_open, self.currency),
            as_of_sequence,
        })
    }

    /// Every open debt (patient, service day, what remains; one row per account and day), the
    /// names of the accounts' holders, and the ledger sequence they reflect, from one snapshot.
    pub async fn open_debts(&self, patient_id: Option<PatientId>) -> anyhow::Result<OpenDebts> {
        let patient = patient_id.map(|patient_id| patient_id.to_string());
        let (rows, names, applied_sequence) = with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await.context("failed to begin a read")?;
            tx.read_one_snapshot().await?;
            let read = tx.read_open_debts(patient.as_deref()).await?;
            tx.rollback().await.context("failed to end a read")?;
            read
        });
        let mut debts = Vec::with_capacity(rows.len());
        for (id, service_date, remaining_minor) in rows {
            let patient_id = PatientId::parse(&id)
                .with_context(|| format!("account_charges holds a malformed id {id:?}"))?;
            debts.push((
                patient_id,
                service_date,
                Money::from_minor(remaining_minor, self.currency),
            ));
        }
        let mut named = HashMap::with_capacity(names.len());
        for (id, name) in names {
            let patient_id = PatientId::parse(&id)
                .with_context(|| format!("receivable_accounts holds a malformed id {id:?}"))?;
            named.insert(patient_id, name);
        }
        Ok(OpenDebts {
            debts,
            names: named,
            applied_sequence,
        })
    }
}

/// What aging on today is computed from.
pub struct OpenDebts {
    pub debts: Vec<(PatientId, NaiveDate, Money)>,
    pub names: HashMap<PatientId, String>,
    pub applied_sequence: i64,
}

/// An open debt as read: (patient id, service day, what remains in minor units).
type DebtRow = (String, NaiveDate, i64);

/// Statements that several of the store's areas run inside an open transaction.
pub(crate) trait ReceivablesTx {
    /// Makes the open transaction one read-only snapshot, so that reads in it agree with each
    /// other while the follower commits: PostgreSQL needs REPEATABLE READ for that, SQLite's
    /// deferred transaction already reads one snapshot (WAL) without taking the write lock.
    async fn read_one_snapshot(&mut self) -> anyhow::Result<()>;

    /// One page of the accounts with something owing, largest balance first (then by patient
    /// id, so pages are stable), with the total over all of them and the ledger sequence they
    /// reflect.
    async fn read_receivables(
        &mut self,
        limit: i64,
        offset: i64,
    ) -> anyhow::Result<(Vec<ReceivableRow>, i64, i64)>;

    /// The open debts (one row per account and service day) of one account or all, the names
    /// of their holders, and the ledger sequence they reflect.
    async fn read_open_debts(
        &mut self,
        patient_id: Option<&str>,
    ) -> anyhow::Result<(Vec<DebtRow>, Vec<(String, String)>, i64)>;

    /// An account's balance, read under the account's row lock (PostgreSQL; SQLite's
    /// `BEGIN IMMEDIATE` already serialises writers) so that what is decided from it holds
    /// until the transaction ends. Zero for an account in credit or never seen.
    async fn lock_balance(
        &mut self,
        patient_id: PatientId,
        currency: Currency,
    ) -> anyhow::Result<Money>;
}

for_each_backend! {
    impl ReceivablesTx for Conn {
        async fn read_one_snapshot(&mut self) -> anyhow::Result<()> {
            if <Conn as Connection>::BACKEND == Backend::Postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *self)
                    .await
                    .context("failed to set the read's isolation")?;
            }
            Ok(())
        }

        async fn read_receivables(
            &mut self,
            limit: i64,
            offset: i64,
        ) -> anyhow::Result<(Vec<ReceivableRow>, i64, i64)> {
            let rows: Vec<ReceivableRow> = sqlx::query_as(concat!(
                "SELECT ",
                receivable_columns!(),
                " FROM receivable_accounts WHERE balance_minor > 0 \
                 ORDER BY balance_minor DESC, patient_id LIMIT $1 OFFSET $2"
            ))
            .bind(limit)
            .bind(offset)
            .fetch_all(&mut *self)
            .await
            .context("failed to read receivables")?;
            // CAST: PostgreSQL sums BIGINT as NUMERIC.
            let (total_open, as_of_sequence): (i64, i64) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT), \
                 (SELECT applied_sequence FROM ledger_cursor WHERE cursor_id = 1) \
                 FROM receivable_accounts WHERE balance_minor > 0",
            )
            .fetch_one(&mut *self)
            .await
            .context("failed to total receivables")?;
            Ok((rows, total_open, as_of_sequence))
        }

        async fn read_open_debts(
            &mut self,
            patient_id: Option<&str>,
        ) -> anyhow::Result<(Vec<DebtRow>, Vec<(String, String)>, i64)> {
            let rows: Vec<DebtRow> = sqlx::query_as(
                "SELECT patient_id, service_date, CAST(SUM(remaining_minor) AS BIGINT) \
                 FROM account_charges WHERE remaining_minor > 0 \
                 AND (CAST($1 AS TEXT) IS NULL OR patient_id = $1) \
                 GROUP BY patient_id, service_date",
            )
            .bind(patient_id)
            .fetch_all(&mut *self)
            .await
            .context("failed to read open debts")?;
            let names: Vec<(String, String)> = sqlx::query_as(
                "SELECT patient_id, patient_name FROM receivable_accounts \
                 WHERE patient_name IS NOT NULL AND patient_name <> '' AND balance_minor > 0 \
                 AND (CAST($1 AS TEXT) IS NULL OR patient_id = $1)",
            )
            .bind(patient_id)
            .fetch_all(&mut *self)
            .await
            .context("failed to read account holders' names")?;
            let applied_sequence: i64 =
                sqlx::query_scalar("SELECT applied_sequence FROM ledger_cursor WHERE cursor_id = 1")
                    .fetch_one(&mut *self)
                    .await
                    .context("failed to read the ledger cursor")?;
            Ok((rows, names, applied_sequence))
        }

        async fn lock_balance(
            &mut self,
            patient_id: PatientId,
            currency: Currency,
        ) -> anyhow::Result<Money> {
            // An UPDATE that changes nothing, to read the balance under the row lock.
            let balance_minor: Option<i64> = sqlx::query_scalar(
                "UPDATE receivable_accounts SET patient_id = patient_id \
                 WHERE patient_id = $1 RETURNING balance_minor",
            )
            .bind(patient_id.to_string())
            .fetch_optional(&mut *self)
            .await
            .context("failed to lock a receivable account")?;
            Ok(Money::from_minor(balance_minor.unwrap_or(0).max(0), currency))
        }
    }
}

/// Billing's ledger as collections had applied it, up to a moment: the basis of aging on any day.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerHistory {
    /// Entries billing recorded before the moment, in ledger order.
    pub entries: Vec<LedgerEntry>,
    /// The last ledger sequence applied when read.
    pub applied_sequence: i64,
    /// Account holders' names, where the registry has answered.
    pub names: HashMap<PatientId, String>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    sequence: i64,
    patient_id: String,
    kind: String,
    amount_minor: i64,
    source_id: String,
    service_date: NaiveDate,
    created_at: DateTime<Utc>,
    related_source_id: Option<String>,
}

impl EntryRow {
    fn into_entry(self, currency: Currency) -> anyhow::Result<LedgerEntry> {
        Ok(LedgerEntry {
            sequence: self.sequence,
            patient_id: PatientId::parse(&self.patient_id).with_context(|| {
                format!("ledger_entries holds a malformed id {:?}", self.patient_id)
            })?,
            kind: EntryKind::parse(&self.kind)
                .with_context(|| format!("ledger_entries holds an unknown kind {:?}", self.kind))?,
            amount: Money::from_minor(self.amount_minor, currency),
            source_id: self.source_id,
            service_date: self.service_date,
            created_at: self.created_at,
            related_source_id: self.related_source_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReceivableRow {
    patient_id: String,
    patient_name: Option<String>,
    balance_minor: i64,
    oldest_open_charge_date: Option<NaiveDate>,
    last_payment_at: Option<DateTime<Utc>>,
    last_activity_at: Option<DateTime<Utc>>,
}

impl ReceivableRow {
    fn into_receivable(self, currency: Currency) -> anyhow::Result<Receivable> {
        Ok(Receivable {
            patient_id: PatientId::parse(&self.patient_id).with_context(|| {
                format!(
                    "receivable_accounts holds a malformed id {:?}",
                    self.patient_id
                )
            })?,
            patient_name: self.patient_name,
            balance: Money::from_minor(self.balance_minor, currency),
            oldest_open_charge_date: self.oldest_open_charge_date,
            last_payment_at: self.last_payment_at,
            last_activity_at: self.last_activity_at,
        })
    }
}

// Last, so that the column macros above are in scope there.
mod worklist;
