//! Corrections of charges (adjustments, credit notes, write-offs) and their ledger entries.
//!
//! The ledger head is taken before the charge is read: the checks (never below zero, no more
//! than is outstanding) and the release of payments' money must see every earlier correction,
//! payment and refund of the charge, and nothing may change it until this one commits.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{ChargeId, PatientId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::allocations::{held, insert_allocations, one_charge_standing};
use super::ledger::{append_to_ledger, ensure_day_open, lock_ledger, patient_balance_minor};
use super::{BillingStore, NewLedgerEntry, WriteError, claiming_key, corrupt};
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

impl BillingStore {
    /// The correction an earlier call with this request id posted, when `fingerprint` shows
    /// this request is a retry of it.
    pub async fn earlier_correction(
        &self,
        new: &NewCorrection,
    ) -> Result<Option<Correction>, BillingError> {
        let Some(correction_id) = self
            .earlier_resource(operation(new.kind), &new.request_id, &new.fingerprint())
            .await?
        else {
            return Ok(None);
        };
        let correction_id = CorrectionId::parse(&correction_id)
            .map_err(|_| corrupt("idempotency_keys.resource_id", &correction_id))?;
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
        let correction_id = claiming_key(&new.request_id, || {
            self.try_post_correction(new, &fingerprint, created_by, today, now)
        })
        .await?;
        self.correction(correction_id).await?.ok_or_else(|| {
            anyhow::anyhow!("correction {correction_id} vanished after insert").into()
        })
    }

    async fn try_post_correction(
        &self,
        new: &NewCorrection,
        fingerprint: &str,
        created_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<CorrectionId, WriteError> {
        let operation = operation(new.kind);
        in_transaction!(&self.db, |tx| {
            if let Some(correction_id) = earlier_result!(tx, operation, new.request_id, fingerprint)
            {
                let correction_id = CorrectionId::parse(&correction_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &correction_id))?;
                Ok::<_, WriteError>(correction_id)
            } else {
                let correction_id = CorrectionId::new();
                claim_request_id!(
                    tx,
                    operation,
                    new.request_id,
                    fingerprint,
                    correction_id.to_string(),
                    now
                );
                lock_ledger!(tx);
                ensure_day_open!(tx, today);
                let Some((patient_id, currency, charge)) = one_charge_standing!(tx, new.charge_id)
                else {
                    return Err(BillingError::ChargeNotFound(new.charge_id).into());
                };
                if currency != new.amount.currency() {
                    return Err(corrupt("currency", &format!("charge {}", new.charge_id)).into());
                }
                let to_release = new.against(&charge)?;
                let credit_note_number = if new.kind == CorrectionKind::CreditNote {
                    let last: Option<i64> =
                        sqlx::query_scalar("SELECT MAX(credit_note_number) FROM corrections")
                            .fetch_one(&mut *tx)
                            .await
                            .context("failed to number a credit note")?;
                    Some(last.unwrap_or(0) + 1)
                } else {
                    None
                };
                let sequence = append_to_ledger!(
                    tx,
                    &NewLedgerEntry {
                        patient_id,
                        source: LedgerSource::Correction {
                            kind: new.kind,
                            correction_id,
                            charge_id: new.charge_id,
                        },
                        amount: new.amount,
                        service_date: today,
                        created_at: now,
                    }
                );
                let balance_after = patient_balance_minor!(tx, patient_id);
                sqlx::query(
                    "INSERT INTO corrections (correction_id, kind, patient_id, charge_id, \
                     amount_minor, currency, reason, credit_note_number, released_minor, \
                     balance_after_minor, service_date, created_by, request_id, \
                     ledger_sequence, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(correction_id.to_string())
                .bind(new.kind.as_str())
                .bind(patient_id.to_string())
                .bind(new.charge_id.to_string())
                .bind(new.amount.minor_units())
                .bind(currency.code())
                .bind(new.reason.as_str())
                .bind(credit_note_number)
                .bind(to_release)
                .bind(balance_after)
                .bind(today)
                .bind(created_by)
                .bind(new.request_id.as_str())
                .bind(sequence)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to insert a correction")?;
                if to_release > 0 {
                    let held = held!(tx, charge_id = new.charge_id);
                    let lines = release(to_release, &held);
                    insert_allocations!(
                        tx,
                        patient_id,
                        currency,
                        &lines,
                        new.kind.as_str(),
                        correction_id,
                        now
                    );
                }
                Ok(correction_id)
            }
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
