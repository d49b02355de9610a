//! The receivables tables, on SQLite or PostgreSQL. Queries are written once in the SQL both
//! backends share (see `clinic_common::db`).
//!
//! Applying billing's ledger is exactly-once: a page of entries and the cursor that records how far
//! the receivables have got move in one transaction, and only an entry whose sequence is the
//! cursor's plus one is applied. A crash between pages re-reads the page; nothing is applied twice
//! and nothing is skipped.
//!
//! `contacts` holds the contact log and what governs contacting a patient; `promises` the promises
//! to pay; `plans` the payment plans; `worklist` gathers what the worklist is ranked from.

mod contacts;
mod desk;
mod plans;
mod promises;
#[cfg(test)]
mod tests;

pub use contacts::ContactToRecord;
pub use desk::EscalationFacts;
pub use plans::PlanReplacement;
pub use promises::PromiseRecords;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::Database;
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money, in_transaction, with_db};
use sqlx::migrate::Migrator;

use crate::domain::{
    Account, ApplyError, EntryKind, LedgerEntry, LedgerSyncStatus, OpenCharge, Receivable,
    ReceivablesPage,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Applies the service's migrations.
pub async fn migrate(db: &Database) -> anyhow::Result<()> {
    db.migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await
}

/// Why applying a page stopped before its end. Everything before the stop is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStop {
    /// The next entry's sequence was not the one after the cursor: billing's feed skipped
    /// entries, which it promises never to do.
    Gap { expected: i64, found: i64 },
    /// An account could not take the entry.
    Refused(ApplyError),
}

/// What applying a page did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOutcome {
    /// How many entries were applied now.
    pub applied: usize,
    /// The cursor after the page.
    pub applied_sequence: i64,
    pub stopped: Option<PageStop>,
}

/// The columns `ReceivableRow` reads, as a literal so queries stay `&'static str`.
macro_rules! receivable_columns {
    () => {
        "patient_id, patient_name, balance_minor, oldest_open_charge_date, last_payment_at, \
         last_activity_at"
    };
}

/// Reads one page of receivables and the figures over all of them inside the open transaction
/// `$tx`. A macro, because the two backends' transactions are different types; the caller makes
/// sure both queries see one snapshot.
macro_rules! read_receivables {
    ($tx:ident, $limit:expr, $offset:expr) => {{
        let rows: Vec<ReceivableRow> = sqlx::query_as(concat!(
            "SELECT ",
            receivable_columns!(),
            " FROM receivable_accounts WHERE balance_minor > 0 \
             ORDER BY balance_minor DESC, patient_id LIMIT $1 OFFSET $2"
        ))
        .bind($limit)
        .bind($offset)
        .fetch_all(&mut *$tx)
        .await
        .context("failed to read receivables")?;
        // CAST: PostgreSQL sums BIGINT as NUMERIC.
        let (total_open, as_of_sequence): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT), \
             (SELECT applied_sequence FROM ledger_cursor WHERE cursor_id = 1) \
             FROM receivable_accounts WHERE balance_minor > 0",
        )
        .fetch_one(&mut *$tx)
        .await
        .context("failed to total receivables")?;
        anyhow::Ok((rows, total_open, as_of_sequence))
    }};
}

/// Loads an account and its open charges inside the open transaction `$tx`, or starts a new one.
/// A macro for the same reason as `read_receivables!`.
macro_rules! load_account {
    ($tx:ident, $patient_id:expr, $currency:expr) => {{
        let patient_id: PatientId = $patient_id;
        let row: Option<(i64, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT balance_minor, credit_minor, last_payment_at, last_activity_at \
                 FROM receivable_accounts WHERE patient_id = $1",
        )
        .bind(patient_id.to_string())
        .fetch_optional(&mut *$tx)
        .await
        .context("failed to read a receivable account")?;
        match row {
            None => Working {
                account: Account::new(patient_id, $currency),
                loaded_remaining: HashMap::new(),
                last_sequence: 0,
            },
            Some((balance_minor, credit_minor, last_payment_at, last_activity_at)) => {
                let charges: Vec<ChargeRow> = sqlx::query_as(
                    "SELECT charge_sequence, source_id, service_date, amount_minor, \
                     remaining_minor FROM account_charges \
                     WHERE patient_id = $1 AND remaining_minor > 0 \
                     ORDER BY service_date, charge_sequence",
                )
                .bind(patient_id.to_string())
                .fetch_all(&mut *$tx)
                .await
                .context("failed to read an account's charges")?;
                let loaded_remaining = charges
                    .iter()
                    .map(|charge| {
                        (
                            charge.charge_sequence,
                            (charge.amount_minor, charge.remaining_minor),
                        )
                    })
                    .collect();
                let account = Account::restore(
                    patient_id,
                    $currency,
                    charges
                        .into_iter()
                        .map(|charge| charge.into_open_charge($currency))
                        .collect(),
                    Money::from_minor(credit_minor, $currency),
                    last_payment_at,
                    last_activity_at,
                )
                .filter(|account| account.balance().minor_units() == balance_minor)
                .with_context(|| {
                    format!("account {patient_id}'s balance disagrees with its charges")
                })?;
                Working {
                    account,
                    loaded_remaining,
                    last_sequence: 0,
                }
            }
        }
    }};
}

#[derive(Debug, Clone)]
pub struct ReceivablesStore {
    db: Database,
    /// The clinic's currency: every amount on disk is in its minor units.
    currency: Currency,
}

/// An account being changed by a page, with what its charges held when it was loaded, so that
/// only changed charges are written back.
struct Working {
    account: Account,
    /// (amount, remaining) of each charge as loaded.
    loaded_remaining: HashMap<i64, (i64, i64)>,
    last_sequence: i64,
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

    /// Applies a page of billing's ledger, in order, and advances the cursor past what it applied,
    /// all in one transaction. Entries at or below the cursor were applied already (by another
    /// replica, or before a crash) and are skipped; applying stops at a gap or at an entry an
    /// account refuses. Records `billing_head` and `now` as the last successful sync either way.
    pub async fn apply_page(
        &self,
        entries: &[LedgerEntry],
        billing_head: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<PageOutcome> {
        let currency = self.currency;
        in_transaction!(&self.db, |tx| {
            // An UPDATE that changes nothing, to read the cursor under a row lock on PostgreSQL
            // (several replicas may follow at once; the second waits, then skips what the first
            // applied). SQLite's `BEGIN IMMEDIATE` already serialises writers.
            let cursor: i64 = sqlx::query_scalar(
                "UPDATE ledger_cursor SET applied_sequence = applied_sequence \
                 WHERE cursor_id = 1 RETURNING applied_sequence",
            )
            .fetch_one(&mut *tx)
            .await
            .context("failed to lock the ledger cursor")?;

            let mut accounts: BTreeMap<PatientId, Working> = BTreeMap::new();
            let mut next = cursor + 1;
            let mut stopped = None;
            for entry in entries {
                if entry.sequence < next {
                    continue;
                }
                if entry.sequence > next {
                    stopped = Some(PageStop::Gap {
                        expected: next,
                        found: entry.sequence,
                    });
                    break;
                }
                let working = match accounts.entry(entry.patient_id) {
                    Entry::Occupied(held) => held.into_mut(),
                    Entry::Vacant(vacant) => {
                        vacant.insert(load_account!(tx, entry.patient_id, currency))
                    }
                };
                if let Err(refused) = working.account.apply(entry) {
                    stopped = Some(PageStop::Refused(refused));
                    break;
                }
                working.last_sequence = entry.sequence;
                sqlx::query(
                    "INSERT INTO ledger_entries (sequence, patient_id, kind, amount_minor, \
                     source_id, service_date, created_at, applied_at, related_source_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(entry.sequence)
                .bind(entry.patient_id.to_string())
                .bind(entry.kind.as_str())
                .bind(entry.amount.minor_units())
                .bind(entry.source_id.as_str())
                .bind(entry.service_date)
                .bind(entry.created_at)
                .bind(now)
                .bind(entry.related_source_id.as_deref())
                .execute(&mut *tx)
                .await
                .context("failed to record a ledger entry")?;
                next += 1;
            }

            // An account loaded only for an entry it then refused has nothing new to write.
            for working in accounts
                .values()
                .filter(|working| working.last_sequence > 0)
            {
                let account = &working.account;
                sqlx::query(
                    "INSERT INTO receivable_accounts (patient_id, balance_minor, credit_minor, \
                     oldest_open_charge_date, last_payment_at, last_activity_at, \
                     updated_sequence) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (patient_id) DO UPDATE SET \
                     balance_minor = excluded.balance_minor, \
                     credit_minor = excluded.credit_minor, \
                     oldest_open_charge_date = excluded.oldest_open_charge_date, \
                     last_payment_at = excluded.last_payment_at, \
                     last_activity_at = excluded.last_activity_at, \
                     updated_sequence = excluded.updated_sequence",
                )
                .bind(account.patient_id().to_string())
                .bind(account.balance().minor_units())
                .bind(account.credit().minor_units())
                .bind(account.oldest_open_charge_date())
                .bind(account.last_payment_at())
                .bind(account.last_activity_at())
                .bind(working.last_sequence)
                .execute(&mut *tx)
                .await
                .context("failed to write a receivable account")?;
                for charge in account.charges() {
                    let remaining = charge.remaining.minor_units();
                    let held = (charge.amount.minor_units(), remaining);
                    if working.loaded_remaining.get(&charge.sequence) == Some(&held) {
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO account_charges (charge_sequence, patient_id, source_id, \
                         service_date, amount_minor, remaining_minor) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (charge_sequence) DO UPDATE SET \
                         amount_minor = excluded.amount_minor, \
                         remaining_minor = excluded.remaining_minor",
                    )
                    .bind(charge.sequence)
                    .bind(account.patient_id().to_string())
                    .bind(charge.source_id.as_str())
                    .bind(charge.service_date)
                    .bind(charge.amount.minor_units())
                    .bind(remaining)
                    .execute(&mut *tx)
                    .await
                    .context("failed to write an account charge")?;
                }
            }

            let applied_sequence = next - 1;
            sqlx::query(
                "UPDATE ledger_cursor SET applied_sequence = $1, billing_head_sequence = $2, \
                 last_sync_at = $3 WHERE cursor_id = 1",
            )
            .bind(applied_sequence)
            .bind(billing_head.max(0))
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to advance the ledger cursor")?;
            anyhow::Ok(PageOutcome {
                applied: usize::try_from(applied_sequence - cursor).unwrap_or_default(),
                applied_sequence,
                stopped,
            })
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
        let (rows, total_open, as_of_sequence) = match &self.db {
            Database::Sqlite(pool) => {
                // A deferred transaction reads one snapshot (WAL) without taking the write lock.
                let mut tx = pool.begin().await.context("failed to begin a read")?;
                let read = read_receivables!(tx, limit, offset)?;
                tx.rollback().await.context("failed to end a read")?;
                read
            }
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await.context("failed to begin a read")?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await
                    .context("failed to set the read's isolation")?;
                let read = read_receivables!(tx, limit, offset)?;
                tx.rollback().await.context("failed to end a read")?;
                read
            }
        };
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
struct ChargeRow {
    charge_sequence: i64,
    source_id: String,
    service_date: NaiveDate,
    amount_minor: i64,
    remaining_minor: i64,
}

impl ChargeRow {
    fn into_open_charge(self, currency: Currency) -> OpenCharge {
        OpenCharge {
            sequence: self.charge_sequence,
            source_id: self.source_id,
            service_date: self.service_date,
            amount: Money::from_minor(self.amount_minor, currency),
            remaining: Money::from_minor(self.remaining_minor, currency),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ReceivableRow {
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
