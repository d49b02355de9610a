//! Promises to pay, and the payments their status is derived from.
//!
//! Recording a promise is one transaction: the idempotency key is looked up first (a retry gets
//! the first promise), then the account's row is locked (PostgreSQL; SQLite's `BEGIN IMMEDIATE`
//! already serialises writers) so that two collectors cannot both leave an open promise, the
//! amount is checked against the balance, the promise still running is superseded and the new
//! one written.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::PatientId;
use clinic_common::{Money, for_each_backend, in_transaction, with_db};

use super::{ReceivablesStore, ReceivablesTx};
use crate::domain::{
    CollectionsError, ContactKind, NewPromise, Notes, Outcome, PaymentMade, Promise,
    PromiseContact, check_promise_conversation,
};

/// The idempotency-key operation name for recorded promises.
const RECORD_PROMISE: &str = "record_promise";

macro_rules! promise_columns {
    () => {
        "promise_id, patient_id, amount_minor, promised_date, note, contact_id, made_at, \
         recorded_by, superseded_at, superseded_by"
    };
}

/// Promises and the payments made on their accounts.
#[derive(Debug, Clone, Default)]
pub struct PromiseRecords {
    pub promises: Vec<Promise>,
    /// Every payment on each account that has a promise listed.
    pub payments: HashMap<PatientId, Vec<PaymentMade>>,
}

impl ReceivablesStore {
    /// Records a promise once per request id, superseding the account's promise whose day has
    /// not ended yet (`today` is the clinic-local day of `now`, which began at `day_started`).
    pub async fn record_promise(
        &self,
        promise: &NewPromise,
        recorded_by: &str,
        now: DateTime<Utc>,
        (today, day_started): (NaiveDate, DateTime<Utc>),
    ) -> Result<Promise, CollectionsError> {
        let fingerprint = promise.fingerprint();
        let key = IdempotencyKey::new(RECORD_PROMISE, &promise.request_id, &fingerprint);
        let promise_id = retrying("a promise", || {
            self.try_record_promise(promise, &key, recorded_by, now, (today, day_started))
        })
        .await?;
        self.promise(&promise_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("promise {promise_id} vanished after insert").into())
    }

    async fn try_record_promise(
        &self,
        promise: &NewPromise,
        key: &IdempotencyKey<'_>,
        recorded_by: &str,
        now: DateTime<Utc>,
        (today, day_started): (NaiveDate, DateTime<Utc>),
    ) -> Result<String, Attempt<CollectionsError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's promise, and nothing written.
            if let Some(promise_id) = tx.earlier_result(key).await? {
                return Ok(promise_id);
            }
            // The balance's row lock keeps two collectors from both leaving an open promise.
            let balance = tx.lock_balance(promise.patient_id, self.currency).await?;
            if promise.amount.minor_units() > balance.minor_units() {
                return Err(CollectionsError::PromiseExceedsBalance { balance }.into());
            }
            if let Some(contact_id) = &promise.contact_id {
                let contact = tx
                    .contact_on_account(contact_id, promise.patient_id)
                    .await?;
                // A carried-over promise may predate the conversation's entry in the log.
                if !promise.carried_over {
                    check_promise_conversation(&contact, day_started, now)
                        .map_err(CollectionsError::PromiseNeedsConversation)?;
                }
            }
            let promise_id = uuid::Uuid::new_v4().to_string();
            tx.supersede_running_promise(promise.patient_id, &promise_id, now, today)
                .await?;
            tx.insert_promise(&promise_id, promise, recorded_by, now)
                .await?;
            tx.claim(key, &promise_id, now).await?;
            Ok(promise_id)
        })
    }

    async fn promise(&self, promise_id: &str) -> anyhow::Result<Option<Promise>> {
        let row: Option<PromiseRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                promise_columns!(),
                " FROM promises WHERE promise_id = $1"
            ))
            .bind(promise_id)
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a promise")?;
        row.map(|row| row.into_promise(self.currency)).transpose()
    }

    /// Promises (one patient's, or every account's), newest recorded first, with the payments on their
    /// accounts. Superseded promises are included: judged as at an earlier moment, a promise
    /// superseded since was still running.
    pub async fn promises(&self, patient: Option<PatientId>) -> anyhow::Result<PromiseRecords> {
        let patient = patient.map(|patient_id| patient_id.to_string());
        let rows: Vec<PromiseRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                promise_columns!(),
                " FROM promises WHERE CAST($1 AS TEXT) IS NULL OR patient_id = $1 \
                 ORDER BY promise_seq DESC"
            ))
            .bind(patient.as_deref())
            .fetch_all(pool)
            .await
        })
        .context("failed to read promises")?;
        let payment_rows: Vec<(String, DateTime<Utc>, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT patient_id, created_at, amount_minor FROM ledger_entries \
                 WHERE kind = 'payment' AND ((CAST($1 AS TEXT) IS NULL AND patient_id IN \
                 (SELECT patient_id FROM promises)) OR patient_id = $1)",
            )
            .bind(patient.as_deref())
            .fetch_all(pool)
            .await
        })
        .context("failed to read payments on promised accounts")?;
        let mut promises = Vec::with_capacity(rows.len());
        for row in rows {
            promises.push(row.into_promise(self.currency)?);
        }
        let mut payments: HashMap<PatientId, Vec<PaymentMade>> = HashMap::new();
        for (id, at, amount_minor) in payment_rows {
            let patient_id = PatientId::parse(&id)
                .with_context(|| format!("ledger_entries holds a malformed id {id:?}"))?;
            // Ledger payments lower the balance: negative amounts.
            payments.entry(patient_id).or_default().push(PaymentMade {
                at,
                amount: Money::from_minor(amount_minor.saturating_neg(), self.currency),
            });
        }
        Ok(PromiseRecords { promises, payments })
    }
}

/// The statements of recording a promise, inside its transaction.
pub(crate) trait PromisesTx {
    /// The contact as the promise rules read it; `ContactNotFound` when it is not in this
    /// patient's contact log.
    async fn contact_on_account(
        &mut self,
        contact_id: &str,
        patient_id: PatientId,
    ) -> Result<PromiseContact, CollectionsError>;

    /// Marks the account's promise still running on `today` as superseded by `by_promise`.
    /// Promises whose day has ended keep the status the ledger gives them (kept, broken).
    async fn supersede_running_promise(
        &mut self,
        patient_id: PatientId,
        by_promise: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> anyhow::Result<()>;

    /// Writes the promise.
    async fn insert_promise(
        &mut self,
        promise_id: &str,
        promise: &NewPromise,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl PromisesTx for Conn {
        async fn contact_on_account(
            &mut self,
            contact_id: &str,
            patient_id: PatientId,
        ) -> Result<PromiseContact, CollectionsError> {
            let found: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
                "SELECT kind, outcome, occurred_at FROM contacts \
                 WHERE contact_id = $1 AND patient_id = $2",
            )
            .bind(contact_id)
            .bind(patient_id.to_string())
            .fetch_optional(&mut *self)
            .await
            .context("failed to look up a contact")?;
            let Some((kind, outcome, occurred_at)) = found else {
                return Err(CollectionsError::ContactNotFound(contact_id.to_owned()));
            };
            Ok(PromiseContact {
                kind: ContactKind::parse(&kind)
                    .with_context(|| format!("contacts holds an unknown kind {kind:?}"))?,
                outcome: Outcome::parse(&outcome)
                    .with_context(|| format!("contacts holds an unknown outcome {outcome:?}"))?,
                occurred_at,
            })
        }

        async fn supersede_running_promise(
            &mut self,
            patient_id: PatientId,
            by_promise: &str,
            now: DateTime<Utc>,
            today: NaiveDate,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "UPDATE promises SET superseded_at = $2, superseded_by = $3 \
                 WHERE patient_id = $1 AND superseded_at IS NULL AND promised_date >= $4",
            )
            .bind(patient_id.to_string())
            .bind(now)
            .bind(by_promise)
            .bind(today)
            .execute(&mut *self)
            .await
            .context("failed to supersede a promise")?;
            Ok(())
        }

        async fn insert_promise(
            &mut self,
            promise_id: &str,
            promise: &NewPromise,
            recorded_by: &str,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "INSERT INTO promises (promise_id, patient_id, amount_minor, promised_date, \
                 note, contact_id, made_at, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(promise_id)
            .bind(promise.patient_id.to_string())
            .bind(promise.amount.minor_units())
            .bind(promise.promised_date)
            .bind(promise.note.as_str())
            .bind(promise.contact_id.as_deref())
            .bind(now)
            .bind(recorded_by)
            .execute(&mut *self)
            .await
            .context("failed to record a promise")?;
            Ok(())
        }
    }
}

#[derive(sqlx::FromRow)]
struct PromiseRow {
    promise_id: String,
    patient_id: String,
    amount_minor: i64,
    promised_date: NaiveDate,
    note: String,
    contact_id: Option<String>,
    made_at: DateTime<Utc>,
    recorded_by: String,
    superseded_at: Option<DateTime<Utc>>,
    superseded_by: Option<String>,
}

impl PromiseRow {
    fn into_promise(self, currency: clinic_common::Currency) -> anyhow::Result<Promise> {
        Ok(Promise {
            patient_id: PatientId::parse(&self.patient_id)
                .with_context(|| format!("promises holds a malformed id {:?}", self.patient_id))?,
            note: Notes::parse(&self.note)
                .map_err(|reason| anyhow::anyhow!("promises holds a note that {reason}"))?,
            promise_id: self.promise_id,
            amount: Money::from_minor(self.amount_minor, currency),
            promised_date: self.promised_date,
            contact_id: self.contact_id,
            made_at: self.made_at,
            recorded_by: self.recorded_by,
            superseded_at: self.superseded_at,
            superseded_by: self.superseded_by,
        })
    }
}
