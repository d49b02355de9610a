//! Applying billing's ledger to the receivables, exactly once.
//!
//! A page of entries and the cursor that records how far the receivables have got move in one
//! transaction, and only an entry whose sequence is the cursor's plus one is applied. A crash
//! between pages re-reads the page; nothing is applied twice and nothing is skipped. The
//! transaction's steps are the methods of [`LedgerTx`]; the decisions (how an entry changes an
//! account, whether it may) are the domain's [`Account::apply`].

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money, for_each_backend, in_transaction};

use super::ReceivablesStore;
use crate::domain::{Account, ApplyError, LedgerEntry, OpenCharge};

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

/// An account being changed by a page, with what its charges held when it was loaded, so that
/// only changed charges are written back.
pub(crate) struct Working {
    account: Account,
    /// (amount, remaining) of each charge as loaded.
    loaded_remaining: HashMap<i64, (i64, i64)>,
    /// The last entry of the page applied to the account; 0 while none has been.
    last_sequence: i64,
}

impl ReceivablesStore {
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
            let cursor = tx.lock_cursor().await?;
            // Each account is loaded once, changed by every entry of the page that is its, and
            // written back once.
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
                        vacant.insert(tx.load_account(entry.patient_id, currency).await?)
                    }
                };
                if let Err(refused) = working.account.apply(entry) {
                    stopped = Some(PageStop::Refused(refused));
                    break;
                }
                working.last_sequence = entry.sequence;
                tx.record_entry(entry, now).await?;
                next += 1;
            }

            // An account loaded only for an entry it then refused has nothing new to write.
            for working in accounts
                .values()
                .filter(|working| working.last_sequence > 0)
            {
                tx.write_account(working).await?;
            }

            let applied_sequence = next - 1;
            tx.advance_cursor(applied_sequence, billing_head, now)
                .await?;
            anyhow::Ok(PageOutcome {
                applied: usize::try_from(applied_sequence - cursor).unwrap_or_default(),
                applied_sequence,
                stopped,
            })
        })
    }
}

/// The steps of applying a page, inside its transaction.
pub(crate) trait LedgerTx {
    /// The cursor (the last ledger sequence applied), read under a row lock on PostgreSQL that
    /// holds until the transaction ends: several replicas may follow at once, and the second
    /// waits, then skips what the first applied. SQLite's `BEGIN IMMEDIATE` already serialises
    /// writers.
    async fn lock_cursor(&mut self) -> anyhow::Result<i64>;

    /// An account and its open charges as stored, or a new account for a patient the
    /// receivables have not seen. Fails when the stored balance disagrees with the charges.
    async fn load_account(
        &mut self,
        patient_id: PatientId,
        currency: Currency,
    ) -> anyhow::Result<Working>;

    /// Records a ledger entry as applied at `now`.
    async fn record_entry(&mut self, entry: &LedgerEntry, now: DateTime<Utc>)
    -> anyhow::Result<()>;

    /// Writes an account the page changed back: its figures, and each charge whose amount or
    /// remainder is not what was loaded.
    async fn write_account(&mut self, working: &Working) -> anyhow::Result<()>;

    /// Moves the cursor to `applied_sequence` and records billing's head and `now` as the last
    /// successful sync.
    async fn advance_cursor(
        &mut self,
        applied_sequence: i64,
        billing_head: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl LedgerTx for Conn {
        async fn lock_cursor(&mut self) -> anyhow::Result<i64> {
            // An UPDATE that changes nothing takes the row lock.
            sqlx::query_scalar(
                "UPDATE ledger_cursor SET applied_sequence = applied_sequence \
                 WHERE cursor_id = 1 RETURNING applied_sequence",
            )
            .fetch_one(&mut *self)
            .await
            .context("failed to lock the ledger cursor")
        }

        async fn load_account(
            &mut self,
            patient_id: PatientId,
            currency: Currency,
        ) -> anyhow::Result<Working> {
            let row: Option<AccountRow> = sqlx::query_as(
                "SELECT balance_minor, credit_minor, last_payment_at, last_activity_at \
                 FROM receivable_accounts WHERE patient_id = $1",
            )
            .bind(patient_id.to_string())
            .fetch_optional(&mut *self)
            .await
            .context("failed to read a receivable account")?;
            let Some(stored) = row else {
                return Ok(Working {
                    account: Account::new(patient_id, currency),
                    loaded_remaining: HashMap::new(),
                    last_sequence: 0,
                });
            };
            let charges: Vec<ChargeRow> = sqlx::query_as(
                "SELECT charge_sequence, source_id, service_date, amount_minor, \
                 remaining_minor FROM account_charges \
                 WHERE patient_id = $1 AND remaining_minor > 0 \
                 ORDER BY service_date, charge_sequence",
            )
            .bind(patient_id.to_string())
            .fetch_all(&mut *self)
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
                currency,
                charges
                    .into_iter()
                    .map(|charge| charge.into_open_charge(currency))
                    .collect(),
                Money::from_minor(stored.credit_minor, currency),
                stored.last_payment_at,
                stored.last_activity_at,
            )
            .filter(|account| account.balance().minor_units() == stored.balance_minor)
            .with_context(|| format!("account {patient_id}'s balance disagrees with its charges"))?;
            Ok(Working {
                account,
                loaded_remaining,
                last_sequence: 0,
            })
        }

        async fn record_entry(
            &mut self,
            entry: &LedgerEntry,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
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
            .execute(&mut *self)
            .await
            .context("failed to record a ledger entry")?;
            Ok(())
        }

        async fn write_account(&mut self, working: &Working) -> anyhow::Result<()> {
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
            .execute(&mut *self)
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
                .execute(&mut *self)
                .await
                .context("failed to write an account charge")?;
            }
            Ok(())
        }

        async fn advance_cursor(
            &mut self,
            applied_sequence: i64,
            billing_head: i64,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "UPDATE ledger_cursor SET applied_sequence = $1, billing_head_sequence = $2, \
                 last_sync_at = $3 WHERE cursor_id = 1",
            )
            .bind(applied_sequence)
            .bind(billing_head.max(0))
            .bind(now)
            .execute(&mut *self)
            .await
            .context("failed to advance the ledger cursor")?;
            Ok(())
        }
    }
}

/// An account's figures as stored.
#[derive(sqlx::FromRow)]
struct AccountRow {
    balance_minor: i64,
    credit_minor: i64,
    last_payment_at: Option<DateTime<Utc>>,
    last_activity_at: Option<DateTime<Utc>>,
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
