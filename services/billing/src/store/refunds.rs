//! Refunds and their reversing ledger entries.
//!
//! Why the remainder is checked after the ledger entry is appended: appending takes the ledger
//! head's lock (see `ledger`), so every earlier refund of the payment has committed by then and
//! the sum of refunds sees them all. Two refunds racing for the same remainder are serialised
//! there, and the second one finds the first.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{PatientId, PaymentId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::allocations::AllocationsTx;
use super::drawer::DrawerTx;
use super::ledger::LedgerTx;
use super::{BillingStore, NewLedgerEntry, corrupt};
use crate::domain::{
    BillingError, DrawerSessionId, LedgerSource, NewRefund, Operation, Refund, RefundId,
    format_money, refundable_remainder, release,
};

/// The columns `RefundRow` reads.
macro_rules! refund_columns {
    () => {
        "refund_id, payment_id, patient_id, amount_minor, currency, method, reason, \
         drawer_session_id, balance_after_minor, service_date, refunded_by, request_id, created_at, \
         part_position"
    };
}

/// A part of a payment that brought money: its position, method and amount.
type PartRow = (i32, String, i64);

/// A refund's row as it is inserted.
struct RefundRecord<'a> {
    refund_id: RefundId,
    new: &'a NewRefund,
    patient_id: PatientId,
    part: i32,
    method: &'a str,
    drawer_session_id: Option<&'a str>,
    balance_after_minor: i64,
    service_date: NaiveDate,
    refunded_by: &'a str,
    ledger_sequence: i64,
    created_at: DateTime<Utc>,
}

/// The statements of refunding a payment, inside its transaction.
trait RefundsTx {
    /// The patient a payment is from and the new money it brought; refuses
    /// ([`BillingError::PaymentNotFound`]) an unknown payment. `currency` is the refund's: a
    /// payment in another one is not what billing wrote.
    async fn payment_to_refund(
        &mut self,
        payment_id: PaymentId,
        currency: Currency,
    ) -> Result<(PatientId, i64), BillingError>;

    /// The payment's parts that brought money, by position.
    async fn parts_with_money(&mut self, payment_id: PaymentId) -> anyhow::Result<Vec<PartRow>>;

    /// What was refunded on the payment so far, in all and on its part `part`. Run after this
    /// refund's ledger entry, so every earlier refund has committed (see the module
    /// documentation); the sums include none of this one, whose row is not written yet.
    async fn refunded_so_far(
        &mut self,
        payment_id: PaymentId,
        part: i32,
    ) -> anyhow::Result<(i64, i64)>;

    /// What the payment's money allocations hold on charges, net.
    async fn allocated_minor(&mut self, payment_id: PaymentId) -> anyhow::Result<i64>;

    /// Inserts the refund's row.
    async fn insert_refund(&mut self, record: &RefundRecord<'_>) -> anyhow::Result<()>;
}

for_each_backend! {
    impl RefundsTx for Conn {
        async fn payment_to_refund(
            &mut self,
            payment_id: PaymentId,
            currency: Currency,
        ) -> Result<(PatientId, i64), BillingError> {
            let paid: Option<(String, i64, String)> = sqlx::query_as(
                "SELECT patient_id, received_minor, currency FROM payments \
                 WHERE payment_id = $1",
            )
            .bind(payment_id.to_string())
            .fetch_optional(&mut *self)
            .await
            .context("failed to read the payment to refund")?;
            let Some((patient_id, paid_minor, paid_currency)) = paid else {
                return Err(BillingError::PaymentNotFound(payment_id));
            };
            let row_id = format!("payment {payment_id}");
            if paid_currency != currency.code() {
                return Err(corrupt("currency", &row_id).into());
            }
            let patient_id =
                PatientId::parse(&patient_id).map_err(|_| corrupt("patient_id", &row_id))?;
            Ok((patient_id, paid_minor))
        }

        async fn parts_with_money(
            &mut self,
            payment_id: PaymentId,
        ) -> anyhow::Result<Vec<PartRow>> {
            let parts: Vec<PartRow> = sqlx::query_as(
                "SELECT position, method, amount_minor FROM payment_parts \
                 WHERE payment_id = $1 AND method <> 'advance' ORDER BY position",
            )
            .bind(payment_id.to_string())
            .fetch_all(&mut *self)
            .await
            .context("failed to read the parts of the payment to refund")?;
            Ok(parts)
        }

        async fn refunded_so_far(
            &mut self,
            payment_id: PaymentId,
            part: i32,
        ) -> anyhow::Result<(i64, i64)> {
            let refunded: (i64, i64) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN part_position = $2 THEN amount_minor \
                                        ELSE 0 END), 0) AS BIGINT) \
                 FROM refunds WHERE payment_id = $1",
            )
            .bind(payment_id.to_string())
            .bind(part)
            .fetch_one(&mut *self)
            .await
            .context("failed to sum a payment's refunds")?;
            Ok(refunded)
        }

        async fn allocated_minor(&mut self, payment_id: PaymentId) -> anyhow::Result<i64> {
            let allocated: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM allocations \
                 WHERE payment_id = $1",
            )
            .bind(payment_id.to_string())
            .fetch_one(&mut *self)
            .await
            .context("failed to sum a payment's allocations")?;
            Ok(allocated)
        }

        async fn insert_refund(&mut self, record: &RefundRecord<'_>) -> anyhow::Result<()> {
            let new = record.new;
            sqlx::query(
                "INSERT INTO refunds (refund_id, payment_id, patient_id, amount_minor, \
                 currency, method, reason, drawer_session_id, balance_after_minor, \
                 service_date, refunded_by, request_id, ledger_sequence, created_at, \
                 part_position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(record.refund_id.to_string())
            .bind(new.payment_id.to_string())
            .bind(record.patient_id.to_string())
            .bind(new.amount.minor_units())
            .bind(new.amount.currency().code())
            .bind(record.method)
            .bind(new.reason.as_str())
            .bind(record.drawer_session_id)
            .bind(record.balance_after_minor)
            .bind(record.service_date)
            .bind(record.refunded_by)
            .bind(new.request_id.as_str())
            .bind(record.ledger_sequence)
            .bind(record.created_at)
            .bind(record.part)
            .execute(&mut *self)
            .await
            .context("failed to insert a refund")?;
            Ok(())
        }
    }
}

impl BillingStore {
    /// The refund an earlier call with this request id recorded, when `fingerprint` shows this
    /// request is a retry of it.
    pub async fn earlier_refund(
        &self,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Refund>, BillingError> {
        let key = IdempotencyKey::new(Operation::RefundPayment.as_str(), request_id, fingerprint);
        let Some(refund_id) = self.db.earlier_result(&key).await? else {
            return Ok(None);
        };
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
        let key = IdempotencyKey::new(
            Operation::RefundPayment.as_str(),
            &new.request_id,
            &fingerprint,
        );
        let refund_id = retrying("a refund", || {
            self.try_refund_payment(new, &key, refunded_by, today, now)
        })
        .await?;
        self.refund(refund_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("refund {refund_id} vanished after insert").into())
    }

    async fn try_refund_payment(
        &self,
        new: &NewRefund,
        key: &IdempotencyKey<'_>,
        refunded_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<RefundId, Attempt<BillingError>> {
        let currency = new.amount.currency();
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(refund_id) = tx.earlier_result(key).await? {
                return Ok(refund_id);
            }
            let refund_id = RefundId::new();
            tx.claim(key, &refund_id.to_string(), now).await?;
            let (patient_id, paid_minor) = tx.payment_to_refund(new.payment_id, currency).await?;
            // The part the money goes back on, and so its method.
            let parts = tx.parts_with_money(new.payment_id).await?;
            let (part, method, part_minor) = choose_part(new.part, parts)?;
            // Cash goes back over the counter: out of the terminal's open drawer, whose row
            // stays locked so the drawer cannot be closed around the refund.
            let drawer_session_id = match (method.as_str(), &new.terminal_id) {
                ("cash", Some(terminal_id)) => {
                    Some(tx.lock_open_session(terminal_id).await?.session_id)
                }
                _ => None,
            };
            let entry = NewLedgerEntry {
                patient_id,
                source: LedgerSource::Refund {
                    refund_id,
                    payment_id: new.payment_id,
                },
                amount: new.amount,
                service_date: today,
                created_at: now,
            };
            let ledger_sequence = tx.append_to_ledger(&entry).await?;
            let (refunded_minor, part_refunded_minor) =
                tx.refunded_so_far(new.payment_id, part).await?;
            ensure_within_remainder(new.amount, part_minor, part_refunded_minor)?;
            tx.ensure_day_open(today).await?;
            // The money goes back out of what the payment holds unallocated (its part of the
            // advance) first; beyond that, the charges it paid, newest first, open again.
            let allocated = tx.allocated_minor(new.payment_id).await?;
            let unallocated = (paid_minor - refunded_minor - allocated).max(0);
            let to_release = new.amount.minor_units() - unallocated;
            let released = if to_release > 0 {
                let held = tx.held_by_payment(new.payment_id).await?;
                release(to_release, &held)
            } else {
                Vec::new()
            };
            let balance_after_minor = tx.patient_balance_minor(patient_id).await?;
            let record = RefundRecord {
                refund_id,
                new,
                patient_id,
                part,
                method: &method,
                drawer_session_id: drawer_session_id.as_deref(),
                balance_after_minor,
                service_date: today,
                refunded_by,
                ledger_sequence,
                created_at: now,
            };
            tx.insert_refund(&record).await?;
            let cause_id = refund_id.to_string();
            tx.insert_allocations(patient_id, currency, &released, "refund", &cause_id, now)
                .await?;
            Ok(refund_id)
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

/// Refuses a refund of `amount` beyond what is left to refund on its part, which brought
/// `part_minor` and had `part_refunded_minor` refunded before.
fn ensure_within_remainder(
    amount: Money,
    part_minor: i64,
    part_refunded_minor: i64,
) -> Result<(), BillingError> {
    let currency = amount.currency();
    let remaining = refundable_remainder(
        Money::from_minor(part_minor, currency),
        Money::from_minor(part_refunded_minor, currency),
    )
    .context("a payment's refunds are out of range")?;
    if amount.minor_units() > remaining.minor_units() {
        return Err(BillingError::RefundExceedsRemainder {
            remaining: format_money(remaining),
        });
    }
    Ok(())
}

/// The part of a payment a refund gives money back on: the one named, or the payment's only
/// part that brought money. `parts` are those parts as `(position, method, amount)`.
fn choose_part(named: Option<i32>, parts: Vec<PartRow>) -> Result<PartRow, BillingError> {
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
