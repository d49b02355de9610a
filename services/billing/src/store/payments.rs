//! Payments, their parts, receipt numbers, ledger entries and allocations.
//!
//! A payment's ledger entry is its new money only: a part drawn from the advance moves money
//! that is already on the ledger from an earlier payment, so it is an allocation, not an entry.
//! A payment made entirely from the advance has no ledger entry; it still takes the ledger head,
//! so that it is serialised with every other writer deciding where a patient's money goes.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::allocations::AllocationsTx;
use super::drawer::DrawerTx;
use super::ledger::LedgerTx;
use super::{BillingStore, NewLedgerEntry, corrupt};
use crate::domain::{
    AuthorizationCode, BillingError, CardLastFour, CardType, ChargeStanding, DrawerSessionId,
    Funds, LedgerSource, NewPayment, Operation, Payment, PaymentMethod, ReceiptNumber, StoredPart,
    TransferReference, draw_advance, format_money, pair, spread,
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

/// A payment's row as it is inserted.
struct PaymentRecord<'a> {
    payment_id: PaymentId,
    new: &'a NewPayment,
    received_minor: i64,
    receipt_number: i64,
    balance_after_minor: i64,
    advance_after_minor: i64,
    service_date: NaiveDate,
    received_by: &'a str,
    /// `None` for a payment made entirely from the advance, which appends no entry.
    ledger_sequence: Option<i64>,
    created_at: DateTime<Utc>,
}

/// The statements of posting a payment, inside its transaction.
trait PaymentsTx {
    /// The next receipt number. Taken under the ledger head's lock, so receipts follow the
    /// ledger's order.
    async fn number_receipt(&mut self) -> anyhow::Result<i64>;

    /// The patient's advance before payment `payment_id`: payments less refunds, less what
    /// charges hold. The payment's own entry is left out; its allocations are not written yet.
    async fn advance_before(
        &mut self,
        patient_id: PatientId,
        payment_id: PaymentId,
    ) -> anyhow::Result<i64>;

    /// Inserts the payment's row.
    async fn insert_payment(&mut self, record: &PaymentRecord<'_>) -> anyhow::Result<()>;

    /// Inserts the parts of payment `new`, numbered from 1; its cash part counts into the
    /// drawer session `drawer_session_id`.
    async fn insert_parts(
        &mut self,
        payment_id: PaymentId,
        new: &NewPayment,
        drawer_session_id: Option<&str>,
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl PaymentsTx for Conn {
        async fn number_receipt(&mut self) -> anyhow::Result<i64> {
            let receipt_number: i64 = sqlx::query_scalar(
                "UPDATE receipt_counter SET last_number = last_number + 1 \
                 WHERE counter_id = 1 RETURNING last_number",
            )
            .fetch_one(&mut *self)
            .await
            .context("failed to number a receipt")?;
            Ok(receipt_number)
        }

        async fn advance_before(
            &mut self,
            patient_id: PatientId,
            payment_id: PaymentId,
        ) -> anyhow::Result<i64> {
            let advance: i64 = sqlx::query_scalar(
                "SELECT CAST( \
                 COALESCE((SELECT -SUM(amount_minor) FROM ledger_entries \
                           WHERE patient_id = $1 AND kind IN ('payment', 'refund') \
                           AND source_id <> $2), 0) \
                 - COALESCE((SELECT SUM(amount_minor) FROM allocations \
                             WHERE patient_id = $1), 0) AS BIGINT)",
            )
            .bind(patient_id.to_string())
            .bind(payment_id.to_string())
            .fetch_one(&mut *self)
            .await
            .context("failed to read a patient's advance")?;
            Ok(advance)
        }

        async fn insert_payment(&mut self, record: &PaymentRecord<'_>) -> anyhow::Result<()> {
            let new = record.new;
            sqlx::query(
                "INSERT INTO payments (payment_id, patient_id, amount_minor, received_minor, \
                 currency, receipt_number, balance_after_minor, advance_after_minor, \
                 service_date, received_by, request_id, ledger_sequence, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(record.payment_id.to_string())
            .bind(new.patient_id.to_string())
            .bind(new.amount.minor_units())
            .bind(record.received_minor)
            .bind(new.amount.currency().code())
            .bind(record.receipt_number)
            .bind(record.balance_after_minor)
            .bind(record.advance_after_minor)
            .bind(record.service_date)
            .bind(record.received_by)
            .bind(new.request_id.as_str())
            .bind(record.ledger_sequence)
            .bind(record.created_at)
            .execute(&mut *self)
            .await
            .context("failed to insert a payment")?;
            Ok(())
        }

        async fn insert_parts(
            &mut self,
            payment_id: PaymentId,
            new: &NewPayment,
            drawer_session_id: Option<&str>,
        ) -> anyhow::Result<()> {
            for (position, part) in (1_i32..).zip(&new.parts) {
                let columns = PartColumns::of(&part.method, drawer_session_id);
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
                .bind(new.amount.currency().code())
                .bind(columns.tendered)
                .bind(columns.change)
                .bind(columns.authorization_code)
                .bind(columns.last_four)
                .bind(columns.card_type)
                .bind(columns.transfer_reference)
                .bind(columns.drawer_session_id)
                .execute(&mut *self)
                .await
                .context("failed to insert a payment part")?;
            }
            Ok(())
        }
    }
}

/// The method-specific columns of a payment part; those of other methods stay NULL.
struct PartColumns<'a> {
    tendered: Option<i64>,
    change: Option<i64>,
    authorization_code: Option<&'a str>,
    last_four: Option<&'a str>,
    card_type: Option<&'static str>,
    transfer_reference: Option<&'a str>,
    /// Only cash is counted into a drawer.
    drawer_session_id: Option<&'a str>,
}

impl<'a> PartColumns<'a> {
    fn of(method: &'a PaymentMethod, drawer_session_id: Option<&'a str>) -> Self {
        let mut columns = PartColumns {
            tendered: None,
            change: None,
            authorization_code: None,
            last_four: None,
            card_type: None,
            transfer_reference: None,
            drawer_session_id: None,
        };
        match method {
            PaymentMethod::Cash { tendered, change } => {
                columns.tendered = Some(tendered.minor_units());
                columns.change = Some(change.minor_units());
                columns.drawer_session_id = drawer_session_id;
            }
            PaymentMethod::Card {
                authorization_code,
                last_four,
                card_type,
            } => {
                columns.authorization_code = Some(authorization_code.as_str());
                columns.last_four = Some(last_four.as_str());
                columns.card_type = Some(card_type.as_str());
            }
            PaymentMethod::BankTransfer { reference } => {
                columns.transfer_reference = Some(reference.as_str());
            }
            PaymentMethod::Advance => {}
        }
        columns
    }
}

/// The earlier payments' money a payment draws `from_advance` from, oldest first; refused when
/// the patient's advance (`funds`) holds less.
fn draw_from_advance(
    from_advance: i64,
    funds: &[Funds],
    currency: Currency,
) -> Result<Vec<(PaymentId, i64)>, BillingError> {
    let Some(drawn) = draw_advance(from_advance, funds) else {
        let available = funds.iter().map(|funds| funds.available).sum();
        return Err(BillingError::AdvanceInsufficient(format_money(
            Money::from_minor(available, currency),
        )));
    };
    Ok(drawn)
}

/// What each of the patient's `charges` takes of the payment, in the order paid. Money drawn
/// from the advance only moves onto charges, so the charges must take at least `from_advance`.
fn spread_payment(
    new: &NewPayment,
    charges: &[ChargeStanding],
    from_advance: i64,
) -> Result<Vec<(ChargeId, i64)>, BillingError> {
    let spread = spread(
        new.amount.minor_units(),
        charges,
        &new.allocations,
        new.allocation_mode,
    )?;
    let taken: i64 = spread.per_charge.iter().map(|(_, amount)| amount).sum();
    if taken < from_advance {
        return Err(FieldViolations::single(
            "parts",
            "draw more from the advance than the payment's charges take",
        )
        .into());
    }
    Ok(spread.per_charge)
}

impl BillingStore {
    /// The payment an earlier call with this request id recorded, when `fingerprint` shows this
    /// request is a retry of it.
    pub async fn earlier_payment(
        &self,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Payment>, BillingError> {
        let key = IdempotencyKey::new(Operation::PostPayment.as_str(), request_id, fingerprint);
        let Some(payment_id) = self.db.earlier_result(&key).await? else {
            return Ok(None);
        };
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
        let key = IdempotencyKey::new(
            Operation::PostPayment.as_str(),
            &new.request_id,
            &fingerprint,
        );
        let payment_id = retrying("a payment", || {
            self.try_post_payment(new, &key, received_by, today, now)
        })
        .await?;
        self.payment(payment_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("payment {payment_id} vanished after insert").into())
    }

    async fn try_post_payment(
        &self,
        new: &NewPayment,
        key: &IdempotencyKey<'_>,
        received_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<PaymentId, Attempt<BillingError>> {
        let currency = new.amount.currency();
        let received = new.received().minor_units();
        let from_advance = new.drawn_from_advance().minor_units();
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(payment_id) = tx.earlier_result(key).await? {
                return Ok(payment_id);
            }
            let payment_id = PaymentId::new();
            // The key first: a racing duplicate stops here, before it waits on the ledger.
            tx.claim(key, &payment_id.to_string(), now).await?;
            // Cash taken at a terminal goes into its open drawer; the session row stays
            // locked until commit, so the drawer cannot be closed around this payment.
            let drawer_session_id = match (new.cash(), &new.terminal_id) {
                (Some(_), Some(terminal_id)) => {
                    Some(tx.lock_open_session(terminal_id).await?.session_id)
                }
                _ => None,
            };
            tx.lock_ledger().await?;
            tx.ensure_day_open(today).await?;
            // Where the money goes, decided under the ledger head: the patient's charges
            // and advance cannot change until this commits.
            let drawn = if from_advance > 0 {
                let funds = tx.patient_funds(new.patient_id).await?;
                draw_from_advance(from_advance, &funds, currency)?
            } else {
                Vec::new()
            };
            let charges = tx.charge_standings(new.patient_id).await?;
            let per_charge = spread_payment(new, &charges, from_advance)?;
            let ledger_sequence = if received > 0 {
                let entry = NewLedgerEntry {
                    patient_id: new.patient_id,
                    source: LedgerSource::Payment(payment_id),
                    amount: Money::from_minor(-received, currency),
                    service_date: today,
                    created_at: now,
                };
                Some(tx.append_to_ledger(&entry).await?)
            } else {
                None
            };
            // Numbered under the ledger head's lock, so receipts follow the ledger's order.
            let receipt_number = tx.number_receipt().await?;
            let balance_after_minor = tx.patient_balance_minor(new.patient_id).await?;
            let advance_before = tx.advance_before(new.patient_id, payment_id).await?;
            let mut sources = drawn;
            sources.push((payment_id, received));
            let lines = pair(&per_charge, &sources);
            let allocated: i64 = lines.iter().map(|line| line.amount).sum();
            let record = PaymentRecord {
                payment_id,
                new,
                received_minor: received,
                receipt_number,
                balance_after_minor,
                advance_after_minor: advance_before + received - allocated,
                service_date: today,
                received_by,
                ledger_sequence,
                created_at: now,
            };
            tx.insert_payment(&record).await?;
            tx.insert_parts(payment_id, new, drawer_session_id.as_deref())
                .await?;
            let cause_id = payment_id.to_string();
            tx.insert_allocations(new.patient_id, currency, &lines, "payment", &cause_id, now)
                .await?;
            Ok(payment_id)
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
