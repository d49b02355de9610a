//! Payments, their receipt numbers and their ledger entries.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::allocations::{charge_standings, insert_allocations};
use super::drawer::lock_open_session;
use super::ledger::{append_to_ledger, ensure_day_open, patient_balance_minor};
use super::{BillingStore, NewLedgerEntry, WriteError, claiming_key, corrupt};
use crate::domain::{
    AuthorizationCode, BillingError, CardLastFour, CardType, DrawerSessionId, LedgerSource,
    NewPayment, Operation, Payment, PaymentMethod, ReceiptNumber, TransferReference, pair, spread,
};

/// The columns `PaymentRow` reads.
macro_rules! payment_columns {
    () => {
        "payment_id, patient_id, amount_minor, currency, method, tendered_minor, change_minor, \
         authorization_code, card_last_four, card_type, transfer_reference, receipt_number, \
         balance_after_minor, service_date, received_by, request_id, created_at, drawer_session_id, \
         advance_after_minor"
    };
}

impl BillingStore {
    /// The payment an earlier call with this request id recorded, when `fingerprint` shows this
    /// request is a retry of it.
    pub async fn earlier_payment(
        &self,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Payment>, BillingError> {
        let Some(payment_id) = self
            .earlier_resource(Operation::PostPayment, request_id, fingerprint)
            .await?
        else {
            return Ok(None);
        };
        let payment_id = PaymentId::parse(&payment_id)
            .map_err(|_| corrupt("idempotency_keys.resource_id", &payment_id))?;
        self.payment(payment_id).await
    }

    /// Records a payment with the next receipt number and its ledger entry, or returns the
    /// payment a first call with the same request id recorded, unchanged.
    pub async fn post_payment(
        &self,
        new: &NewPayment,
        received_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Payment, BillingError> {
        let fingerprint = new.fingerprint();
        let payment_id = claiming_key(&new.request_id, || {
            self.try_post_payment(new, &fingerprint, received_by, today, now)
        })
        .await?;
        self.payment(payment_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("payment {payment_id} vanished after insert").into())
    }

    async fn try_post_payment(
        &self,
        new: &NewPayment,
        fingerprint: &str,
        received_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<PaymentId, WriteError> {
        let operation = Operation::PostPayment;
        in_transaction!(&self.db, |tx| {
            if let Some(payment_id) = earlier_result!(tx, operation, new.request_id, fingerprint) {
                let payment_id = PaymentId::parse(&payment_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &payment_id))?;
                Ok::<_, WriteError>(payment_id)
            } else {
                let payment_id = PaymentId::new();
                // The key first: a racing duplicate stops here, before it waits on the ledger.
                claim_request_id!(
                    tx,
                    operation,
                    new.request_id,
                    fingerprint,
                    payment_id.to_string(),
                    now
                );
                // Cash taken at a terminal goes into its open drawer; the session row stays
                // locked until commit, so the drawer cannot be closed around this payment.
                let drawer_session_id = match (&new.method, &new.terminal_id) {
                    (PaymentMethod::Cash { .. }, Some(terminal_id)) => {
                        match lock_open_session!(tx, terminal_id) {
                            Some((session_id, _)) => Some(session_id),
                            None => {
                                return Err(BillingError::DrawerNotOpen(terminal_id.clone()).into());
                            }
                        }
                    }
                    _ => None,
                };
                let sequence = append_to_ledger!(
                    tx,
                    &NewLedgerEntry {
                        patient_id: new.patient_id,
                        source: LedgerSource::Payment(payment_id),
                        amount: new.amount.negated(),
                        service_date: today,
                        created_at: now,
                    }
                );
                // Numbered under the ledger head's lock, so receipts follow the ledger's order.
                let receipt_number: i64 = sqlx::query_scalar(
                    "UPDATE receipt_counter SET last_number = last_number + 1 \
                     WHERE counter_id = 1 RETURNING last_number",
                )
                .fetch_one(&mut *tx)
                .await
                .context("failed to number a receipt")?;
                ensure_day_open!(tx, today);
                let balance_after = patient_balance_minor!(tx, new.patient_id);
                // Where the money goes, decided under the ledger head: the patient's charges
                // cannot change until this commits.
                let charges = charge_standings!(tx, new.patient_id);
                let spread = spread(
                    new.amount.minor_units(),
                    &charges,
                    &new.allocations,
                    new.allocation_mode,
                )
                .map_err(BillingError::from)?;
                let advance_before: i64 = sqlx::query_scalar(
                    "SELECT CAST( \
                     COALESCE((SELECT -SUM(amount_minor) FROM ledger_entries \
                               WHERE patient_id = $1 AND kind IN ('payment', 'refund') \
                               AND sequence <> $2), 0) \
                     - COALESCE((SELECT SUM(amount_minor) FROM allocations \
                                 WHERE patient_id = $1), 0) AS BIGINT)",
                )
                .bind(new.patient_id.to_string())
                .bind(sequence)
                .fetch_one(&mut *tx)
                .await
                .context("failed to read a patient's advance")?;
                let advance_after = advance_before + spread.left_over;

                let (tendered, change) = match &new.method {
                    PaymentMethod::Cash { tendered, change } => {
                        (Some(tendered.minor_units()), Some(change.minor_units()))
                    }
                    _ => (None, None),
                };
                let (authorization_code, last_four, card_type) = match &new.method {
                    PaymentMethod::Card {
                        authorization_code,
                        last_four,
                        card_type,
                    } => (
                        Some(authorization_code.as_str()),
                        Some(last_four.as_str()),
                        Some(card_type.as_str()),
                    ),
                    _ => (None, None, None),
                };
                let transfer_reference = match &new.method {
                    PaymentMethod::BankTransfer { reference } => Some(reference.as_str()),
                    _ => None,
                };
                sqlx::query(
                    "INSERT INTO payments (payment_id, patient_id, amount_minor, currency, method, \
                     tendered_minor, change_minor, authorization_code, card_last_four, card_type, \
                     transfer_reference, receipt_number, balance_after_minor, service_date, \
                     received_by, request_id, ledger_sequence, created_at, drawer_session_id, \
                     advance_after_minor) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19, $20)",
                )
                .bind(payment_id.to_string())
                .bind(new.patient_id.to_string())
                .bind(new.amount.minor_units())
                .bind(new.amount.currency().code())
                .bind(new.method.name())
                .bind(tendered)
                .bind(change)
                .bind(authorization_code)
                .bind(last_four)
                .bind(card_type)
                .bind(transfer_reference)
                .bind(receipt_number)
                .bind(balance_after)
                .bind(today)
                .bind(received_by)
                .bind(new.request_id.as_str())
                .bind(sequence)
                .bind(now)
                .bind(drawer_session_id)
                .bind(advance_after)
                .execute(&mut *tx)
                .await
                .context("failed to insert a payment")?;
                let lines = pair(
                    &spread.per_charge,
                    &[(payment_id, new.amount.minor_units())],
                );
                insert_allocations!(
                    tx,
                    new.patient_id,
                    new.amount.currency(),
                    &lines,
                    "payment",
                    payment_id,
                    now
                );
                Ok(payment_id)
            }
        })
    }

    pub async fn payment(&self, payment_id: PaymentId) -> Result<Option<Payment>, BillingError> {
        let (row, allocations) = with_db!(&self.db, |pool| {
            async {
                let row: Option<PaymentRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    payment_columns!(),
                    " FROM payments WHERE payment_id = $1"
                ))
                .bind(payment_id.to_string())
                .fetch_optional(pool)
                .await?;
                // What the payment itself put on charges, in the order it did.
                let allocations: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT charge_id, CAST(SUM(amount_minor) AS BIGINT) FROM allocations \
                     WHERE cause = 'payment' AND cause_id = $1 \
                     GROUP BY charge_id ORDER BY MIN(allocation_seq)",
                )
                .bind(payment_id.to_string())
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((row, allocations))
            }
            .await
        })
        .context("failed to read a payment")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut payment = row.into_payment()?;
        for (charge_id, amount) in allocations {
            let charge_id = ChargeId::parse(&charge_id)
                .map_err(|_| corrupt("charge_id", &format!("allocation of {payment_id}")))?;
            payment.allocations.push((
                charge_id,
                Money::from_minor(amount, payment.amount.currency()),
            ));
        }
        Ok(Some(payment))
    }
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    payment_id: String,
    patient_id: String,
    amount_minor: i64,
    currency: String,
    method: String,
    tendered_minor: Option<i64>,
    change_minor: Option<i64>,
    authorization_code: Option<String>,
    card_last_four: Option<String>,
    card_type: Option<String>,
    transfer_reference: Option<String>,
    receipt_number: i64,
    balance_after_minor: i64,
    service_date: NaiveDate,
    received_by: String,
    request_id: String,
    created_at: DateTime<Utc>,
    drawer_session_id: Option<String>,
    advance_after_minor: Option<i64>,
}

impl PaymentRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_payment(self) -> anyhow::Result<Payment> {
        let row_id = format!("payment {}", self.payment_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        let method = match self.method.as_str() {
            "cash" => PaymentMethod::Cash {
                tendered: Money::from_minor(
                    self.tendered_minor
                        .ok_or_else(|| corrupt("tendered_minor"))?,
                    currency,
                ),
                change: Money::from_minor(
                    self.change_minor.ok_or_else(|| corrupt("change_minor"))?,
                    currency,
                ),
            },
            "card" => PaymentMethod::Card {
                authorization_code: AuthorizationCode::parse(
                    self.authorization_code.as_deref().unwrap_or_default(),
                )
                .map_err(|_| corrupt("authorization_code"))?,
                last_four: CardLastFour::parse(self.card_last_four.as_deref().unwrap_or_default())
                    .map_err(|_| corrupt("card_last_four"))?,
                card_type: CardType::parse(self.card_type.as_deref().unwrap_or_default())
                    .ok_or_else(|| corrupt("card_type"))?,
            },
            "bank_transfer" => PaymentMethod::BankTransfer {
                reference: TransferReference::parse(
                    self.transfer_reference.as_deref().unwrap_or_default(),
                )
                .map_err(|_| corrupt("transfer_reference"))?,
            },
            _ => return Err(corrupt("method")),
        };
        Ok(Payment {
            payment_id: PaymentId::parse(&self.payment_id).map_err(|_| corrupt("payment_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            amount: Money::from_minor(self.amount_minor, currency),
            method,
            receipt_number: ReceiptNumber::new(self.receipt_number),
            service_date: self.service_date,
            created_at: self.created_at,
            received_by: self.received_by,
            request_id: RequestId::parse(&self.request_id).map_err(|_| corrupt("request_id"))?,
            balance_after: Money::from_minor(self.balance_after_minor, currency),
            drawer_session_id: self
                .drawer_session_id
                .map(|id| DrawerSessionId::parse(&id).map_err(|_| corrupt("drawer_session_id")))
                .transpose()?,
            allocations: Vec::new(),
            advance_after: self
                .advance_after_minor
                .map(|minor| Money::from_minor(minor, currency)),
        })
    }
}
