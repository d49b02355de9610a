//! Allocations: which payment's money pays which charge (see `domain::allocation`), read and
//! written inside the transactions that move money ([`AllocationsTx`]). Every method of it runs
//! after its transaction took the ledger head (see `ledger`), so what it reads cannot change
//! under it before the transaction commits.
//!
//! A charge's standing is computed, never stored: what it is due is its net price plus the
//! ledger entries that correct it, and what is allocated is the sum of its allocation rows.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{ChargeId, PatientId, PaymentId};
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, with_db};

use super::{BillingStore, corrupt};
use crate::domain::{AllocationLine, BillingError, ChargeStanding, Funds, Held};

/// The columns of a charge's standing: id, service date, sequence, due, allocated.
macro_rules! standing_columns {
    () => {
        "c.charge_id, c.service_date, c.ledger_sequence, \
         CAST(c.net_minor + COALESCE((SELECT SUM(l.amount_minor) FROM ledger_entries l \
              WHERE l.related_id = c.charge_id \
              AND l.kind IN ('adjustment', 'credit_note', 'write_off')), 0) AS BIGINT), \
         CAST(COALESCE((SELECT SUM(a.amount_minor) FROM allocations a \
              WHERE a.charge_id = c.charge_id), 0) AS BIGINT)"
    };
}

/// A charge's standing as read.
type StandingRow = (String, NaiveDate, i64, i64, i64);

/// Allocations read and written inside the transactions that move money, each after its
/// transaction took the ledger head.
pub(crate) trait AllocationsTx {
    /// Every charge of the patient with where it stands, oldest service day first (then in
    /// posting order).
    async fn charge_standings(
        &mut self,
        patient_id: PatientId,
    ) -> anyhow::Result<Vec<ChargeStanding>>;

    /// One charge's patient, currency and standing, or `None` when there is no such charge.
    async fn one_charge_standing(
        &mut self,
        charge_id: ChargeId,
    ) -> anyhow::Result<Option<(PatientId, Currency, ChargeStanding)>>;

    /// The patient's payments that hold money no charge does (their advance), oldest first.
    async fn patient_funds(&mut self, patient_id: PatientId) -> anyhow::Result<Vec<Funds>>;

    /// The money payments hold on the charge, by payment.
    async fn held_on_charge(&mut self, charge_id: ChargeId) -> anyhow::Result<Vec<Held>>;

    /// The money the payment holds on charges, by charge.
    async fn held_by_payment(&mut self, payment_id: PaymentId) -> anyhow::Result<Vec<Held>>;

    /// Writes `lines` for the patient, caused by `cause` (`payment`, `refund`, `adjustment`,
    /// `credit_note`, `write_off`) with id `cause_id`.
    async fn insert_allocations(
        &mut self,
        patient_id: PatientId,
        currency: Currency,
        lines: &[AllocationLine],
        cause: &str,
        cause_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

/// The start of a query for the money held by (charge, payment); the caller adds the filter.
macro_rules! select_held {
    () => {
        "SELECT charge_id, payment_id, CAST(SUM(amount_minor) AS BIGINT), \
         CAST(MAX(allocation_seq) AS BIGINT) FROM allocations WHERE "
    };
}

for_each_backend! {
    impl AllocationsTx for Conn {
        async fn charge_standings(
            &mut self,
            patient_id: PatientId,
        ) -> anyhow::Result<Vec<ChargeStanding>> {
            let rows: Vec<StandingRow> = sqlx::query_as(concat!(
                "SELECT ",
                standing_columns!(),
                " FROM charges c WHERE c.patient_id = $1 \
                 ORDER BY c.service_date, c.ledger_sequence"
            ))
            .bind(patient_id.to_string())
            .fetch_all(&mut *self)
            .await
            .context("failed to read a patient's charges")?;
            read_standings(rows)
        }

        async fn one_charge_standing(
            &mut self,
            charge_id: ChargeId,
        ) -> anyhow::Result<Option<(PatientId, Currency, ChargeStanding)>> {
            let row: Option<(String, String, String, NaiveDate, i64, i64, i64)> =
                sqlx::query_as(concat!(
                    "SELECT c.patient_id, c.currency, ",
                    standing_columns!(),
                    " FROM charges c WHERE c.charge_id = $1"
                ))
                .bind(charge_id.to_string())
                .fetch_optional(&mut *self)
                .await
                .context("failed to read a charge")?;
            let Some((patient_id, currency, charge_id, service_date, sequence, due, allocated)) =
                row
            else {
                return Ok(None);
            };
            let standing = (charge_id, service_date, sequence, due, allocated);
            read_one_standing(&patient_id, &currency, standing).map(Some)
        }

        async fn patient_funds(&mut self, patient_id: PatientId) -> anyhow::Result<Vec<Funds>> {
            let rows: Vec<(String, NaiveDate, i64, i64)> = sqlx::query_as(
                "SELECT p.payment_id, p.service_date, p.ledger_sequence, \
                 CAST(p.received_minor \
                      - COALESCE((SELECT SUM(r.amount_minor) FROM refunds r \
                                  WHERE r.payment_id = p.payment_id), 0) \
                      - COALESCE((SELECT SUM(a.amount_minor) FROM allocations a \
                                  WHERE a.payment_id = p.payment_id), 0) AS BIGINT) \
                 FROM payments p WHERE p.patient_id = $1 \
                 ORDER BY p.service_date, p.ledger_sequence",
            )
            .bind(patient_id.to_string())
            .fetch_all(&mut *self)
            .await
            .context("failed to read a patient's payments")?;
            read_funds(rows)
        }

        async fn held_on_charge(&mut self, charge_id: ChargeId) -> anyhow::Result<Vec<Held>> {
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(concat!(
                select_held!(),
                "charge_id = $1 GROUP BY charge_id, payment_id"
            ))
            .bind(charge_id.to_string())
            .fetch_all(&mut *self)
            .await
            .context("failed to read allocations")?;
            read_held(rows)
        }

        async fn held_by_payment(&mut self, payment_id: PaymentId) -> anyhow::Result<Vec<Held>> {
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(concat!(
                select_held!(),
                "payment_id = $1 GROUP BY charge_id, payment_id"
            ))
            .bind(payment_id.to_string())
            .fetch_all(&mut *self)
            .await
            .context("failed to read allocations")?;
            read_held(rows)
        }

        async fn insert_allocations(
            &mut self,
            patient_id: PatientId,
            currency: Currency,
            lines: &[AllocationLine],
            cause: &str,
            cause_id: &str,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            for line in lines {
                sqlx::query(
                    "INSERT INTO allocations (patient_id, charge_id, payment_id, amount_minor, \
                     currency, cause, cause_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(patient_id.to_string())
                .bind(line.charge_id.to_string())
                .bind(line.payment_id.to_string())
                .bind(line.amount)
                .bind(currency.code())
                .bind(cause)
                .bind(cause_id)
                .bind(now)
                .execute(&mut *self)
                .await
                .context("failed to record an allocation")?;
            }
            Ok(())
        }
    }
}

fn read_standings(rows: Vec<StandingRow>) -> anyhow::Result<Vec<ChargeStanding>> {
    rows.into_iter().map(standing).collect()
}

fn standing(
    (charge_id, service_date, sequence, due, allocated): StandingRow,
) -> anyhow::Result<ChargeStanding> {
    Ok(ChargeStanding {
        charge_id: ChargeId::parse(&charge_id).map_err(|_| corrupt("charge_id", &charge_id))?,
        service_date,
        sequence,
        due,
        allocated,
    })
}

fn read_one_standing(
    patient_id: &str,
    currency: &str,
    row: StandingRow,
) -> anyhow::Result<(PatientId, Currency, ChargeStanding)> {
    let row_id = format!("charge {}", row.0);
    let patient_id = PatientId::parse(patient_id).map_err(|_| corrupt("patient_id", &row_id))?;
    let currency: Currency = currency.parse().map_err(|_| corrupt("currency", &row_id))?;
    Ok((patient_id, currency, standing(row)?))
}

fn read_funds(rows: Vec<(String, NaiveDate, i64, i64)>) -> anyhow::Result<Vec<Funds>> {
    let mut funds = Vec::new();
    for (payment_id, service_date, sequence, available) in rows {
        if available <= 0 {
            continue;
        }
        funds.push(Funds {
            payment_id: PaymentId::parse(&payment_id)
                .map_err(|_| corrupt("payment_id", &payment_id))?,
            service_date,
            sequence,
            available,
        });
    }
    Ok(funds)
}

fn read_held(rows: Vec<(String, String, i64, i64)>) -> anyhow::Result<Vec<Held>> {
    let mut held = Vec::with_capacity(rows.len());
    for (charge_id, payment_id, amount, newest) in rows {
        let row_id = format!("allocation of {payment_id} to {charge_id}");
        held.push(Held {
            charge_id: ChargeId::parse(&charge_id).map_err(|_| corrupt("charge_id", &row_id))?,
            payment_id: PaymentId::parse(&payment_id)
                .map_err(|_| corrupt("payment_id", &row_id))?,
            amount,
            newest,
        });
    }
    Ok(held)
}

/// A patient's open charges with where they stand, and their advance.
pub struct OpenCharges {
    pub charges: Vec<(crate::domain::Charge, ChargeStanding)>,
    pub advance: Money,
}

impl BillingStore {
    /// The patient's charges not fully paid, oldest first, and their advance. `currency` is the
    /// clinic's.
    pub async fn open_charges(
        &self,
        patient_id: PatientId,
        currency: Currency,
    ) -> Result<OpenCharges, BillingError> {
        use super::charges::{ChargeRow, charge_columns};
        let (standing_rows, charge_rows, advance) = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin().await?;
                let standings: Vec<StandingRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    standing_columns!(),
                    " FROM charges c WHERE c.patient_id = $1 \
                     ORDER BY c.service_date, c.ledger_sequence"
                ))
                .bind(patient_id.to_string())
                .fetch_all(&mut *tx)
                .await?;
                let charges: Vec<ChargeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    charge_columns!(),
                    " FROM charges WHERE patient_id = $1"
                ))
                .bind(patient_id.to_string())
                .fetch_all(&mut *tx)
                .await?;
                let advance: i64 = sqlx::query_scalar(
                    "SELECT CAST( \
                     COALESCE((SELECT -SUM(amount_minor) FROM ledger_entries \
                               WHERE patient_id = $1 AND kind IN ('payment', 'refund')), 0) \
                     - COALESCE((SELECT SUM(amount_minor) FROM allocations \
                                 WHERE patient_id = $1), 0) AS BIGINT)",
                )
                .bind(patient_id.to_string())
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>((standings, charges, advance))
            }
            .await
        })
        .context("failed to read a patient's open charges")?;
        let mut charges: std::collections::HashMap<ChargeId, crate::domain::Charge> =
            std::collections::HashMap::with_capacity(charge_rows.len());
        for row in charge_rows {
            let charge = row.into_charge()?;
            charges.insert(charge.charge_id, charge);
        }
        let mut open = Vec::new();
        for standing in read_standings(standing_rows)? {
            if standing.outstanding() <= 0 {
                continue;
            }
            let charge = charges.remove(&standing.charge_id).ok_or_else(|| {
                anyhow::anyhow!("charge {} vanished while being read", standing.charge_id)
            })?;
            open.push((charge, standing));
        }
        Ok(OpenCharges {
            charges: open,
            advance: Money::from_minor(advance, currency),
        })
    }
}
