//! Corrections of charges (adjustments, credit notes, write-offs) and their ledger entries.
//!
//! The ledger head is taken before the charge is read: the checks (never below zero, no more
//! than is outstanding) and the release of payments' money must see every earlier correction,
//! payment and refund of the charge, and nothing may change it until this one commits.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{ChargeId, PatientId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::allocations::AllocationsTx;
use super::ledger::LedgerTx;
use super::{BillingStore, NewLedgerEntry, corrupt};
use crate::domain::{
    BillingError, Correction, CorrectionId, CorrectionKind, CreditNoteNumber, LedgerSource,
    NewCorrection, Operation, release,
};

/// The columns `CorrectionRow` reads.
macro_rules! correction_columns {
    () => {
        "correction_id, kind, patient_id, charge_id, amount_minor, currency, reason, \
         credit_note_number, released_minor, balance_after_minor, service_date, created_by, \
         request_id, created_at, ledger_sequence"
    };
}

fn operation(kind: CorrectionKind) -> Operation {
    match kind {
        CorrectionKind::Adjustment => Operation::PostAdjustment,
        CorrectionKind::CreditNote => Operation::IssueCreditNote,
        CorrectionKind::WriteOff => Operation::WriteOffCharge,
    }
}

/// A correction's row as it is inserted.
struct CorrectionRecord<'a> {
    correction_id: CorrectionId,
    new: &'a NewCorrection,
    patient_id: PatientId,
    currency: Currency,
    credit_note_number: Option<i64>,
    released_minor: i64,
    balance_after_minor: i64,
    service_date: NaiveDate,
    created_by: &'a str,
    ledger_sequence: i64,
    created_at: DateTime<Utc>,
}

/// The statements of posting a correction, inside its transaction.
trait CorrectionsTx {
    /// The next credit note number. Taken under the ledger head's lock, which every correction
    /// holds, so two credit notes never get one number.
    async fn number_credit_note(&mut self) -> anyhow::Result<i64>;

    /// Inserts the correction's row.
    async fn insert_correction(&mut self, record: &CorrectionRecord<'_>) -> anyhow::Result<()>;
}

for_each_backend! {
    impl CorrectionsTx for Conn {
        async fn number_credit_note(&mut self) -> anyhow::Result<i64> {
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(credit_note_number) FROM corrections")
                    .fetch_one(&mut *self)
                    .await
                    .context("failed to number a credit note")?;
            Ok(last.unwrap_or(0) + 1)
        }

        async fn insert_correction(
            &mut self,
            record: &CorrectionRecord<'_>,
        ) -> anyhow::Result<()> {
            let new = record.new;
            sqlx::query(
                "INSERT INTO corrections (correction_id, kind, patient_id, charge_id, \
                 amount_minor, currency, reason, credit_note_number, released_minor, \
                 balance_after_minor, service_date, created_by, request_id, \
                 ledger_sequence, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(record.correction_id.to_string())
            .bind(new.kind.as_str())
            .bind(record.patient_id.to_string())
            .bind(new.charge_id.to_string())
            .bind(new.amount.minor_units())
            .bind(record.currency.code())
            .bind(new.reason.as_str())
            .bind(record.credit_note_number)
            .bind(record.released_minor)
            .bind(record.balance_after_minor)
            .bind(record.service_date)
            .bind(record.created_by)
            .bind(new.request_id.as_str())
            .bind(record.ledger_sequence)
            .bind(record.created_at)
            .execute(&mut *self)
            .await
            .context("failed to insert a correction")?;
            Ok(())
        }
    }
}

impl BillingStore {
    /// The correction an earlier call with this request id posted, when `fingerprint` shows
    /// this request is a retry of it.
    pub async fn earlier_correction(
        &self,
        new: &NewCorrection,
    ) -> Result<Option<Correction>, BillingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(operation(new.kind).as_str(), &new.request_id, &fingerprint);
        let Some(correction_id) = self.db.earlier_result(&key).await? else {
            return Ok(None);
        };
        self.correction(correction_id).await
    }

    /// Posts a correction of a charge, dated `today`, with its ledger entry; releases payments'
    /// money the charge no longer needs. Or returns what a first call with the same request id
    /// posted.
    pub async fn post_correction(
        &self,
        new: &NewCorrection,
        created_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Correction, BillingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(operation(new.kind).as_str(), &new.request_id, &fingerprint);
        let correction_id = retrying("a correction", || {
            self.try_post_correction(new, &key, created_by, today, now)
        })
        .await?;
        self.correction(correction_id).await?.ok_or_else(|| {
            anyhow::anyhow!("correction {correction_id} vanished after insert").into()
        })
    }

    async fn try_post_correction(
        &self,
        new: &NewCorrection,
        key: &IdempotencyKey<'_>,
        created_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<CorrectionId, Attempt<BillingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(correction_id) = tx.earlier_result(key).await? {
                return Ok(correction_id);
            }
            let correction_id = CorrectionId::new();
            tx.claim(key, &correction_id.to_string(), now).await?;
            tx.lock_ledger().await?;
            tx.ensure_day_open(today).await?;
            let Some((patient_id, currency, charge)) =
                tx.one_charge_standing(new.charge_id).await?
            else {
                return Err(BillingError::ChargeNotFound(new.charge_id).into());
            };
            if currency != new.amount.currency() {
                return Err(corrupt("currency", &format!("charge {}", new.charge_id)).into());
            }
            let to_release = new.against(&charge)?;
            let credit_note_number = if new.kind == CorrectionKind::CreditNote {
                Some(tx.number_credit_note().await?)
            } else {
                None
            };
            let entry = NewLedgerEntry {
                patient_id,
                source: LedgerSource::Correction {
                    kind: new.kind,
                    correction_id,
                    charge_id: new.charge_id,
                },
                amount: new.amount,
                service_date: today,
                created_at: now,
            };
            let ledger_sequence = tx.append_to_ledger(&entry).await?;
            let balance_after_minor = tx.patient_balance_minor(patient_id).await?;
            let record = CorrectionRecord {
                correction_id,
                new,
                patient_id,
                currency,
                credit_note_number,
                released_minor: to_release,
                balance_after_minor,
                service_date: today,
                created_by,
                ledger_sequence,
                created_at: now,
            };
            tx.insert_correction(&record).await?;
            if to_release > 0 {
                let held = tx.held_on_charge(new.charge_id).await?;
                let lines = release(to_release, &held);
                let cause_id = correction_id.to_string();
                tx.insert_allocations(
                    patient_id,
                    currency,
                    &lines,
                    new.kind.as_str(),
                    &cause_id,
                    now,
                )
                .await?;
            }
            Ok(correction_id)
        })
    }

    pub async fn correction(
        &self,
        correction_id: CorrectionId,
    ) -> Result<Option<Correction>, BillingError> {
        let row: Option<CorrectionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                correction_columns!(),
                " FROM corrections WHERE correction_id = $1"
            ))
            .bind(correction_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a correction")?;
        Ok(row.map(CorrectionRow::into_correction).transpose()?)
    }
}

#[derive(sqlx::FromRow)]
struct CorrectionRow {
    correction_id: String,
    kind: String,
    patient_id: String,
    charge_id: String,
    amount_minor: i64,
    currency: String,
    reason: String,
    credit_note_number: Option<i64>,
    released_minor: i64,
    balance_after_minor: i64,
    service_date: NaiveDate,
    created_by: String,
    request_id: String,
    created_at: DateTime<Utc>,
    ledger_sequence: i64,
}

impl CorrectionRow {
    fn into_correction(self) -> anyhow::Result<Correction> {
        let row_id = format!("correction {}", self.correction_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        Ok(Correction {
            correction_id: CorrectionId::parse(&self.correction_id)
                .map_err(|_| corrupt("correction_id"))?,
            kind: CorrectionKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            charge_id: ChargeId::parse(&self.charge_id).map_err(|_| corrupt("charge_id"))?,
            amount: Money::from_minor(self.amount_minor, currency),
            reason: self.reason,
            credit_note_number: self.credit_note_number.map(CreditNoteNumber::new),
            released: Money::from_minor(self.released_minor, currency),
            balance_after: Money::from_minor(self.balance_after_minor, currency),
            service_date: self.service_date,
            created_by: self.created_by,
            request_id: RequestId::parse(&self.request_id).map_err(|_| corrupt("request_id"))?,
            created_at: self.created_at,
            ledger_sequence: self.ledger_sequence,
        })
    }
}
