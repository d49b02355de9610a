//! Refunds and their reversing ledger entries.
//!
//! Why the remainder is checked after the ledger entry is appended: appending takes the ledger
//! head's lock (see `ledger`), so every earlier refund of the payment has committed by then and
//! the sum of refunds sees them all. Two refunds racing for the same remainder are serialised
//! there, and the second one finds the first.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{PatientId, PaymentId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::allocations::{held, insert_allocations};
use super::drawer::lock_open_session;
use super::ledger::{append_to_ledger, ensure_day_open, patient_balance_minor};
use super::{BillingStore, NewLedgerEntry, WriteError, claiming_key, corrupt};
use crate::domain::{
    BillingError, DrawerSessionId, LedgerSource, NewRefund, Operation, Refund, RefundId,
    refundable_remainder, release,
};

/// The columns `RefundRow` reads.
macro_rules! refund_columns {
    () => {
        "refund_id, payment_id, patient_id, amount_minor, currency, method, reason, \
         drawer_session_id, balance_after_minor, service_date, refunded_by, request_id, created_at, \
         part_position"
    };
}

impl BillingStore {
    /// The refund an earlier call with this request id recorded, when `fingerprint` shows this
    /// request is a retry of it.
    pub async fn earlier_refund(
        &self,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Refund>, BillingError> {
        let Some(refund_id) = self
            .earlier_resource(Operation::RefundPayment, request_id, fingerprint)
            .await?
        else {
            return Ok(None);
        };
        let refund_id = RefundId::parse(&refund_id)
            .map_err(|_| corrupt("idempotency_keys.resource_id", &refund_id))?;
        self.refund(refund_id).await
    }

    /// Refunds (part of) a payment by its method, with a reversing ledger entry; a cash refund
    /// at a terminal comes out of its open drawer. Or returns the refund a first call with the
    /// same request id recorded.
    pub async fn refund_payment(
        &self,
        new: &NewRefund,
        refunded_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Refund, BillingError> {
        let fingerprint = new.fingerprint();
        let refund_id = claiming_key(&new.request_id, || {
            self.try_refund_payment(new, &fingerprint, refunded_by, today, now)
        })
        .await?;
        self.refund(refund_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("refund {refund_id} vanished after insert").into())
    }

    async fn try_refund_payment(
        &self,
        new: &NewRefund,
        fingerprint: &str,
        refunded_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<RefundId, WriteError> {
        let operation = Operation::RefundPayment;
        let currency = new.amount.currency();
        in_transaction!(&self.db, |tx| {
            if let Some(refund_id) = earlier_result!(tx, operation, new.request_id, fingerprint) {
                let refund_id = RefundId::parse(&refund_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &refund_id))?;
                Ok::<_, WriteError>(refund_id)
            } else {
                let refund_id = RefundId::new();
                claim_request_id!(
                    tx,
                    operation,
                    new.request_id,
                    fingerprint,
                    refund_id.to_string(),
                    now
                );
                let paid: Option<(String, i64, String)> = sqlx::query_as(
                    "SELECT patient_id, received_minor, currency FROM payments \
                     WHERE payment_id = $1",
                )
                .bind(new.payment_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to read the payment to refund")?;
                let Some((patient_id, paid_minor, paid_currency)) = paid else {
                    return Err(BillingError::PaymentNotFound(new.payment_id).into());
                };
                let row_id = format!("payment {}", new.payment_id);
                if paid_currency != currency.code() {
                    return Err(corrupt("currency", &row_id).into());
                }
                let patient_id =
                    PatientId::parse(&patient_id).map_err(|_| corrupt("patient_id", &row_id))?;
                // The part the money goes back on, and so its method.
                let parts: Vec<(i32, String, i64)> = sqlx::query_as(
                    "SELECT position, method, amount_minor FROM payment_parts \
                     WHERE payment_id = $1 AND method <> 'advance' ORDER BY position",
                )
                .bind(new.payment_id.to_string())
                .fetch_all(&mut *tx)
                .await
                .context("failed to read the parts of the payment to refund")?;
                let (part, method, part_minor) = choose_part(new.part, parts)?;
                // Cash goes back over the counter: out of the terminal's open drawer, whose row
                // stays locked so the drawer cannot be closed around the refund.
                let drawer_session_id = match (method.as_str(), &new.terminal_id) {
                    ("cash", Some(terminal_id)) => match lock_open_session!(tx, terminal_id) {
                        Some((session_id, _)) => Some(session_id),
                        None => {
                            return Err(BillingError::DrawerNotOpen(terminal_id.clone()).into());
                        }
                    },
                    _ => None,
                };
                let sequence = append_to_ledger!(
                    tx,
                    &NewLedgerEntry {
                        patient_id,
                        source: LedgerSource::Refund {
                            refund_id,
                            payment_id: new.payment_id,
                        },
                        amount: new.amount,
                        service_date: today,
                        created_at: now,
                    }
                );
                let (refunded_minor, part_refunded_minor): (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(CASE WHEN part_position = $2 THEN amount_minor \
                                            ELSE 0 END), 0) AS BIGINT) \
                     FROM refunds WHERE payment_id = $1",
                )
                .bind(new.payment_id.to_string())
                .bind(part)
                .fetch_one(&mut *tx)
                .await
                .context("failed to sum a payment's refunds")?;
                let remaining = refundable_remainder(
                    Money::from_minor(part_minor, currency),
                    Money::from_minor(part_refunded_minor, currency),
                )
                .context("a payment's refunds are out of range")?;
                if new.amount.minor_units() > remaining.minor_units() {
                    return Err(BillingError::RefundExceedsRemainder {
                        remaining: crate::domain::format_money(remaining),
                    }
                    .into());
                }
                ensure_day_open!(tx, today);
                // The money goes back out of what the payment holds unallocated (its part of the
                // advance) first; beyond that, the charges it paid, newest first, open again.
                let allocated: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM allocations \
                     WHERE payment_id = $1",
                )
                .bind(new.payment_id.to_string())
                .fetch_one(&mut *tx)
                .await
                .context("failed to sum a payment's allocations")?;
                let unallocated = (paid_minor - refunded_minor - allocated).max(0);
                let to_release = new.amount.minor_units() - unallocated;
                let released = if to_release > 0 {
                    let held = held!(tx, payment_id = new.payment_id);
                    release(to_release, &held)
                } else {
                    Vec::new()
                };
                let balance_after = patient_balance_minor!(tx, patient_id);
                sqlx::query(
                    "INSERT INTO refunds (refund_id, payment_id, patient_id, amount_minor, \
                     currency, method, reason, drawer_session_id, balance_after_minor, \
                     service_date, refunded_by, request_id, ledger_sequence, created_at, \
                     part_position) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(refund_id.to_string())
                .bind(new.payment_id.to_string())
                .bind(patient_id.to_string())
                .bind(new.amount.minor_units())
                .bind(currency.code())
                .bind(method.as_str())
                .bind(new.reason.as_str())
                .bind(drawer_session_id)
                .bind(balance_after)
                .bind(today)
                .bind(refunded_by)
                .bind(new.request_id.as_str())
                .bind(sequence)
                .bind(now)
                .bind(part)
                .execute(&mut *tx)
                .await
                .context("failed to insert a refund")?;
                insert_allocations!(
                    tx, patient_id, currency, &released, "refund", refund_id, now
                );
                Ok(refund_id)
            }
        })
    }

    pub async fn refund(&self, refund_id: RefundId) -> Result<Option<Refund>, BillingError> {
        let row: Option<RefundRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                refund_columns!(),
                " FROM refunds WHERE refund_id = $1"
            ))
            .bind(refund_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a refund")?;
        Ok(row.map(RefundRow::into_refund).transpose()?)
    }
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    refund_id: String,
    payment_id: String,
    patient_id: String,
    amount_minor: i64,
    currency: String,
    method: String,
    reason: String,
    drawer_session_id: Option<String>,
    balance_after_minor: i64,
    service_date: NaiveDate,
    refunded_by: String,
    request_id: String,
    created_at: DateTime<Utc>,
    part_position: i32,
}

impl RefundRow {
    fn into_refund(self) -> anyhow::Result<Refund> {
        let row_id = format!("refund {}", self.refund_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        Ok(Refund {
            refund_id: RefundId::parse(&self.refund_id).map_err(|_| corrupt("refund_id"))?,
            payment_id: PaymentId::parse(&self.payment_id).map_err(|_| corrupt("payment_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            amount: Money::from_minor(self.amount_minor, currency),
            method: self.method,
            reason: self.reason,
            drawer_session_id: self
                .drawer_session_id
                .map(|id| DrawerSessionId::parse(&id).map_err(|_| corrupt("drawer_session_id")))
                .transpose()?,
            balance_after: Money::from_minor(self.balance_after_minor, currency),
            service_date: self.service_date,
            refunded_by: self.refunded_by,
            request_id: RequestId::parse(&self.request_id).map_err(|_| corrupt("request_id"))?,
            created_at: self.created_at,
            part: self.part_position,
        })
    }
}

/// The part of a payment a refund gives money back on: the one named, or the payment's only
/// part that brought money. `parts` are those parts as `(position, method, amount)`.
fn choose_part(
    named: Option<i32>,
    parts: Vec<(i32, String, i64)>,
) -> Result<(i32, String, i64), BillingError> {
    match named {
        Some(position) => parts
            .into_iter()
            .find(|(candidate, _, _)| *candidate == position)
            .ok_or_else(|| {
                FieldViolations::single(
                    "part",
                    "is not a part of the payment that brought money (advance parts are not \
                     refunded)",
                )
                .into()
            }),
        None => {
            let mut parts = parts.into_iter();
            match (parts.next(), parts.next()) {
                (Some(only), None) => Ok(only),
                (Some(_), Some(_)) => Err(FieldViolations::single(
                    "part",
                    "is required: the payment was split across methods",
                )
                .into()),
                (None, _) => Err(FieldViolations::single(
                    "payment_id",
                    "was paid from the advance: refund the payment that brought the money",
                )
                .into()),
            }
        }
    }
}
