//! Payments, their parts, receipt numbers, ledger entries and allocations.
//!
//! A payment's ledger entry is its new money only: a part drawn from the advance moves money
//! that is already on the ledger from an earlier payment, so it is an allocation, not an entry.
//! A payment made entirely from the advance has no ledger entry; it still takes the ledger head,
//! so that it is serialised with every other writer deciding where a patient's money goes.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::allocations::{charge_standings, insert_allocations, patient_funds};
use super::drawer::lock_open_session;
use super::ledger::{append_to_ledger, ensure_day_open, lock_ledger, patient_balance_minor};
use super::{BillingStore, NewLedgerEntry, WriteError, claiming_key, corrupt};
use crate::domain::{
    AuthorizationCode, BillingError, CardLastFour, CardType, DrawerSessionId, LedgerSource,
    NewPayment, Operation, Payment, PaymentMethod, ReceiptNumber, StoredPart, TransferReference,
    draw_advance, format_money, pair, spread,
};

/// The columns `PaymentRow` reads.
macro_rules! payment_columns {
    () => {
        "payment_id, patient_id, amount_minor, received_minor, currency, receipt_number, \
         balance_after_minor, service_date, received_by, request_id, created_at, \
         advance_after_minor"
    };
}

/// The columns `PartRow` reads.
macro_rules! part_columns {
    () => {
        "position, method, amount_minor, tendered_minor, change_minor, authorization_code, \
         card_last_four, card_type, transfer_reference, drawer_session_id"
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

    /// Records a payment with the next receipt number, its ledger entry (for its new money) and
    /// its allocations, or returns the payment a first call with the same request id recorded,
    /// unchanged.
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
        let currency = new.amount.currency();
        let received = new.received().minor_units();
        let from_advance = new.drawn_from_advance().minor_units();
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
                let drawer_session_id = match (new.cash(), &new.terminal_id) {
                    (Some(_), Some(terminal_id)) => match lock_open_session!(tx, terminal_id) {
                        Some((session_id, _)) => Some(session_id),
                        None => {
                            return Err(BillingError::DrawerNotOpen(terminal_id.clone()).into());
                        }
                    },
                    _ => None,
                };
                lock_ledger!(tx);
                ensure_day_open!(tx, today);
                // Where the money goes, decided under the ledger head: the patient's charges
                // and advance cannot change until this commits.
                let drawn = if from_advance > 0 {
                    let funds = patient_funds!(tx, new.patient_id);
                    let Some(drawn) = draw_advance(from_advance, &funds) else {
                        let available = funds.iter().map(|funds| funds.available).sum();
                        return Err(BillingError::AdvanceInsufficient(format_money(
                            Money::from_minor(available, currency),
                        ))
                        .into());
                    };
                    drawn
                } else {
                    Vec::new()
                };
                let charges = charge_standings!(tx, new.patient_id);
                let spread = spread(
                    new.amount.minor_units(),
                    &charges,
                    &new.allocations,
                    new.allocation_mode,
                )
                .map_err(BillingError::from)?;
                let taken: i64 = spread.per_charge.iter().map(|(_, amount)| amount).sum();
                if taken < from_advance {
                    return Err(BillingError::from(
                        clinic_common::validation::FieldViolations::single(
                            "parts",
                            "draw more from the advance than the payment's charges take",
                        ),
                    )
                    .into());
                }
                let sequence = if received > 0 {
                    Some(append_to_ledger!(
                        tx,
                        &NewLedgerEntry {
                            patient_id: new.patient_id,
                            source: LedgerSource::Payment(payment_id),
                            amount: Money::from_minor(-received, currency),
                            service_date: today,
                            created_at: now,
                        }
                    ))
                } else {
                    None
                };
                // Numbered under the ledger head's lock, so receipts follow the ledger's order.
                let receipt_number: i64 = sqlx::query_scalar(
                    "UPDATE receipt_counter SET last_number = last_number + 1 \
                     WHERE counter_id = 1 RETURNING last_number",
                )
                .fetch_one(&mut *tx)
                .await
                .context("failed to number a receipt")?;
                let balance_after = patient_balance_minor!(tx, new.patient_id);
                // The advance before this payment: payments less refunds, less what charges
                // hold. This payment's own entry is not in it; its allocations are not yet.
                let advance_before: i64 = sqlx::query_scalar(
                    "SELECT CAST( \
                     COALESCE((SELECT -SUM(amount_minor) FROM ledger_entries \
                               WHERE patient_id = $1 AND kind IN ('payment', 'refund') \
                               AND source_id <> $2), 0) \
                     - COALESCE((SELECT SUM(amount_minor) FROM allocations \
                                 WHERE patient_id = $1), 0) AS BIGINT)",
                )
                .bind(new.patient_id.to_string())
                .bind(payment_id.to_string())
                .fetch_one(&mut *tx)
                .await
                .context("failed to read a patient's advance")?;
                let mut sources = drawn;
                sources.push((payment_id, received));
                let lines = pair(&spread.per_charge, &sources);
                let allocated: i64 = lines.iter().map(|line| line.amount).sum();
                let advance_after = advance_before + received - allocated;

                sqlx::query(
                    "INSERT INTO payments (payment_id, patient_id, amount_minor, received_minor, \
                     currency, receipt_number, balance_after_minor, advance_after_minor, \
                     service_date, received_by, request_id, ledger_sequence, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(payment_id.to_string())
                .bind(new.patient_id.to_string())
                .bind(new.amount.minor_units())
                .bind(received)
                .bind(currency.code())
                .bind(receipt_number)
                .bind(balance_after)
                .bind(advance_after)
                .bind(today)
                .bind(received_by)
                .bind(new.request_id.as_str())
                .bind(sequence)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to insert a payment")?;
                for (position, part) in (1_i32..).zip(&new.parts) {
                    let (tendered, change) = match &part.method {
                        PaymentMethod::Cash { tendered, change } => {
                            (Some(tendered.minor_units()), Some(change.minor_units()))
                        }
                        _ => (None, None),
                    };
                    let (authorization_code, last_four, card_type) = match &part.method {
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
                    let transfer_reference = match &part.method {
                        PaymentMethod::BankTransfer { reference } => Some(reference.as_str()),
                        _ => None,
                    };
                    let drawer = match part.method {
                        PaymentMethod::Cash { .. } => drawer_session_id.as_deref(),
                        _ => None,
                    };
                    sqlx::query(
                        "INSERT INTO payment_parts (payment_id, position, method, amount_minor, \
                         currency, tendered_minor, change_minor, authorization_code, \
                         card_last_four, card_type, transfer_reference, drawer_session_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(payment_id.to_string())
                    .bind(position)
                    .bind(part.method.name())
                    .bind(part.amount.minor_units())
                    .bind(currency.code())
                    .bind(tendered)
                    .bind(change)
                    .bind(authorization_code)
                    .bind(last_four)
                    .bind(card_type)
                    .bind(transfer_reference)
                    .bind(drawer)
                    .execute(&mut *tx)
                    .await
                    .context("failed to insert a payment part")?;
                }
                insert_allocations!(
                    tx,
                    new.patient_id,
                    currency,
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
        let (row, parts, allocations) = with_db!(&self.db, |pool| {
            async {
                let row: Option<PaymentRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    payment_columns!(),
                    " FROM payments WHERE payment_id = $1"
                ))
                .bind(payment_id.to_string())
                .fetch_optional(pool)
                .await?;
                let parts: Vec<PartRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    part_columns!(),
                    " FROM payment_parts WHERE payment_id = $1 ORDER BY position"
                ))
                .bind(payment_id.to_string())
                .fetch_all(pool)
                .await?;
                // What the payment itself put on charges, in the order it did: its own money
                // and what it drew from the advance.
                let allocations: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT charge_id, CAST(SUM(amount_minor) AS BIGINT) FROM allocations \
                     WHERE cause = 'payment' AND cause_id = $1 \
                     GROUP BY charge_id ORDER BY MIN(allocation_seq)",
                )
                .bind(payment_id.to_string())
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((row, parts, allocations))
            }
            .await
        })
        .context("failed to read a payment")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut payment = row.into_payment(parts)?;
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
    received_minor: i64,
    currency: String,
    receipt_number: i64,
    balance_after_minor: i64,
    service_date: NaiveDate,
    received_by: String,
    request_id: String,
    created_at: DateTime<Utc>,
    advance_after_minor: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(super) struct PartRow {
    position: i32,
    method: String,
    amount_minor: i64,
    tendered_minor: Option<i64>,
    change_minor: Option<i64>,
    authorization_code: Option<String>,
    card_last_four: Option<String>,
    card_type: Option<String>,
    transfer_reference: Option<String>,
    drawer_session_id: Option<String>,
}

impl PartRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    pub(super) fn into_part(self, currency: Currency, row_id: &str) -> anyhow::Result<StoredPart> {
        let corrupt = |column: &str| corrupt(column, &format!("{row_id} part {}", self.position));
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
            "advance" => PaymentMethod::Advance,
            _ => return Err(corrupt("method")),
        };
        Ok(StoredPart {
            position: self.position,
            amount: Money::from_minor(self.amount_minor, currency),
            method,
            drawer_session_id: self
                .drawer_session_id
                .as_deref()
                .map(|id| DrawerSessionId::parse(id).map_err(|_| corrupt("drawer_session_id")))
                .transpose()?,
        })
    }
}

impl PaymentRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_payment(self, parts: Vec<PartRow>) -> anyhow::Result<Payment> {
        let row_id = format!("payment {}", self.payment_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        if parts.is_empty() {
            return Err(corrupt("parts"));
        }
        let parts = parts
            .into_iter()
            .map(|part| part.into_part(currency, &row_id))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Payment {
            payment_id: PaymentId::parse(&self.payment_id).map_err(|_| corrupt("payment_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            amount: Money::from_minor(self.amount_minor, currency),
            received: Money::from_minor(self.received_minor, currency),
            parts,
            receipt_number: ReceiptNumber::new(self.receipt_number),
            service_date: self.service_date,
            created_at: self.created_at,
            received_by: self.received_by,
            request_id: RequestId::parse(&self.request_id).map_err(|_| corrupt("request_id"))?,
            balance_after: Money::from_minor(self.balance_after_minor, currency),
            allocations: Vec::new(),
            advance_after: self
                .advance_after_minor
                .map(|minor| Money::from_minor(minor, currency)),
        })
    }
}
