//! The ledger: its gap-free sequence, balances summed from it, and the change feed.
//!
//! Why the sequence comes from one counter row. A follower (collections) reads
//! `sequence > cursor` and moves its cursor to the last entry it saw, so it must never be able to
//! see entry N+1 before entry N is visible, or it would skip N for good. An identity column or
//! database sequence cannot promise that: numbers are handed out at insert time and transactions
//! commit in any order, so 8 can commit and be read while 7 is still in flight (and a rollback
//! leaves a hole that is never filled). Here each writer takes its number with
//! `UPDATE ledger_head SET last_sequence = last_sequence + 1 … RETURNING` inside the transaction
//! that inserts the entry. On PostgreSQL the update holds the row's lock until commit, so the
//! next writer waits on that row and gets its number only after this entry has committed (or
//! rolled back, which also undoes the increment: no gap). On SQLite `BEGIN IMMEDIATE` serialises
//! writers outright. Either way entries become visible exactly in sequence order, and
//! `ledger_head.last_sequence` is always the newest committed entry.
//!
//! The cost is that writers to the ledger are serialised for the rest of their transaction, so
//! the head is updated as late as each transaction allows. At a clinic's volume that is far below
//! what one hot row sustains (thousands of commits a second).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, with_db};

use super::{BillingStore, corrupt};
use crate::domain::{AccountBalance, BillingError, LedgerEntry, LedgerPage, LedgerSource};

/// An entry about to be appended; its sequence is assigned by [`LedgerTx::append_to_ledger`].
pub struct NewLedgerEntry {
    pub patient_id: PatientId,
    pub source: LedgerSource,
    /// Signed effect on the patient's balance.
    pub amount: Money,
    pub service_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// The ledger's statements inside a transaction that moves money.
pub(crate) trait LedgerTx {
    /// Appends `entry` to the ledger and returns its sequence. See the module documentation for
    /// why the number comes from `ledger_head` in this same transaction: from here until the
    /// transaction ends, every other ledger writer waits.
    async fn append_to_ledger(&mut self, entry: &NewLedgerEntry) -> anyhow::Result<i64>;

    /// Takes the ledger head's lock without appending, for a write that must be serialised with
    /// every ledger writer before it decides anything (what a charge or payment stands at,
    /// whether a day is closed). Writers that append later in the same transaction already hold
    /// it.
    async fn lock_ledger(&mut self) -> anyhow::Result<()>;

    /// Holding the ledger head: refuses ([`BillingError::DayClosed`]) an entry dated `day` when
    /// that day or a later one is closed.
    async fn ensure_day_open(&mut self, day: NaiveDate) -> Result<(), BillingError>;

    /// The patient's balance in minor units, summed over their ledger entries, including any
    /// appended earlier in the transaction. Run after [`LedgerTx::append_to_ledger`], every
    /// earlier writer has committed (they held the head), so on PostgreSQL this statement's
    /// snapshot sees all of the patient's entries.
    async fn patient_balance_minor(&mut self, patient_id: PatientId) -> anyhow::Result<i64>;
}

for_each_backend! {
    impl LedgerTx for Conn {
        async fn append_to_ledger(&mut self, entry: &NewLedgerEntry) -> anyhow::Result<i64> {
            let sequence: i64 = sqlx::query_scalar(
                "UPDATE ledger_head SET last_sequence = last_sequence + 1 \
                 WHERE head_id = 1 RETURNING last_sequence",
            )
            .fetch_one(&mut *self)
            .await
            .context("failed to advance the ledger head")?;
            sqlx::query(
                "INSERT INTO ledger_entries (sequence, patient_id, kind, amount_minor, currency, \
                 source_id, service_date, created_at, related_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(sequence)
            .bind(entry.patient_id.to_string())
            .bind(entry.source.kind().as_str())
            .bind(entry.amount.minor_units())
            .bind(entry.amount.currency().code())
            .bind(entry.source.id())
            .bind(entry.service_date)
            .bind(entry.created_at)
            .bind(entry.source.related_id())
            .execute(&mut *self)
            .await
            .context("failed to append a ledger entry")?;
            Ok(sequence)
        }

        async fn lock_ledger(&mut self) -> anyhow::Result<()> {
            sqlx::query("UPDATE ledger_head SET last_sequence = last_sequence WHERE head_id = 1")
                .execute(&mut *self)
                .await
                .context("failed to lock the ledger head")?;
            Ok(())
        }

        async fn ensure_day_open(&mut self, day: NaiveDate) -> Result<(), BillingError> {
            let closed: Option<NaiveDate> = sqlx::query_scalar("SELECT MAX(day) FROM closed_days")
                .fetch_one(&mut *self)
                .await
                .context("failed to read the closed days")?;
            if closed.is_some_and(|closed| day <= closed) {
                return Err(BillingError::DayClosed(day));
            }
            Ok(())
        }

        async fn patient_balance_minor(&mut self, patient_id: PatientId) -> anyhow::Result<i64> {
            let balance: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries \
                 WHERE patient_id = $1",
            )
            .bind(patient_id.to_string())
            .fetch_one(&mut *self)
            .await
            .context("failed to sum a patient's ledger entries")?;
            Ok(balance)
        }
    }
}

/// The columns `LedgerEntryRow` reads.
macro_rules! ledger_entry_columns {
    () => {
        "sequence, patient_id, kind, amount_minor, currency, source_id, service_date, created_at, \
         related_id"
    };
}

impl BillingStore {
    /// A patient's totals, summed from the ledger. `currency` is the clinic's: every entry is in
    /// it, and an entry that is not means the data is not what billing wrote.
    pub async fn account_balance(
        &self,
        patient_id: PatientId,
        currency: Currency,
    ) -> Result<AccountBalance, BillingError> {
        // One statement, so the sums, the allocations and the sequence come from one snapshot.
        let rows: Vec<(String, i64, i64, i64, i64, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT currency, \
                 CAST(COALESCE(SUM(CASE WHEN kind = 'charge' THEN amount_minor ELSE 0 END), 0) \
                      AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN kind IN ('payment', 'refund') \
                                        THEN -amount_minor ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN kind IN ('adjustment', 'credit_note', 'write_off') \
                                        THEN amount_minor ELSE 0 END), 0) AS BIGINT), \
                 CAST((SELECT COALESCE(SUM(a.amount_minor), 0) FROM allocations a \
                       WHERE a.patient_id = $1) AS BIGINT), \
                 CAST(MAX(sequence) AS BIGINT) \
                 FROM ledger_entries WHERE patient_id = $1 GROUP BY currency",
            )
            .bind(patient_id.to_string())
            .fetch_all(pool)
            .await
        })
        .context("failed to sum a patient's ledger entries")?;
        match rows.as_slice() {
            [] => Ok(AccountBalance::empty(patient_id, currency)),
            [(stored, charged, paid, corrections, allocated, last_sequence)]
                if stored.as_str() == currency.code() =>
            {
                Ok(AccountBalance {
                    patient_id,
                    total_charged: Money::from_minor(*charged, currency),
                    total_paid: Money::from_minor(*paid, currency),
                    total_corrections: Money::from_minor(*corrections, currency),
                    total_allocated: Money::from_minor(*allocated, currency),
                    as_of_sequence: *last_sequence,
                })
            }
            _ => Err(anyhow::anyhow!(
                "the ledger of {patient_id} holds entries in a currency other than {currency}"
            )
            .into()),
        }
    }

    /// Up to `limit` entries after `after_sequence`, in order, with the head they were read at.
    pub async fn ledger_page(
        &self,
        after_sequence: i64,
        limit: u32,
    ) -> Result<LedgerPage, BillingError> {
        // The head is read first and bounds the page: everything up to it has committed, so the
        // page is a gap-free run and `head_sequence` is never behind `last_sequence`.
        let (head_sequence, rows) = with_db!(&self.db, |pool| {
            async {
                let head: i64 =
                    sqlx::query_scalar("SELECT last_sequence FROM ledger_head WHERE head_id = 1")
                        .fetch_one(pool)
                        .await?;
                let rows: Vec<LedgerEntryRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    ledger_entry_columns!(),
                    " FROM ledger_entries WHERE sequence > $1 AND sequence <= $2 \
                     ORDER BY sequence LIMIT $3"
                ))
                .bind(after_sequence)
                .bind(head)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((head, rows))
            }
            .await
        })
        .context("failed to read the ledger")?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            entries.push(row.into_entry()?);
        }
        let last_sequence = entries
            .last()
            .map_or(after_sequence, |entry| entry.sequence);
        Ok(LedgerPage {
            entries,
            last_sequence,
            head_sequence,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LedgerEntryRow {
    sequence: i64,
    patient_id: String,
    kind: String,
    amount_minor: i64,
    currency: String,
    source_id: String,
    service_date: NaiveDate,
    created_at: DateTime<Utc>,
    related_id: Option<String>,
}

impl LedgerEntryRow {
    fn into_entry(self) -> anyhow::Result<LedgerEntry> {
        let row_id = format!("ledger entry {}", self.sequence);
        let currency: Currency = self
            .currency
            .parse()
            .map_err(|_| corrupt("currency", &row_id))?;
        Ok(LedgerEntry {
            sequence: self.sequence,
            patient_id: PatientId::parse(&self.patient_id)
                .map_err(|_| corrupt("patient_id", &row_id))?,
            source: LedgerSource::parse(&self.kind, &self.source_id, self.related_id.as_deref())
                .ok_or_else(|| corrupt("kind, source_id or related_id", &row_id))?,
            amount: Money::from_minor(self.amount_minor, currency),
            service_date: self.service_date,
            created_at: self.created_at,
        })
    }
}
