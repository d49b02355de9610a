//! Charges and their ledger entries.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::{AppointmentId, ChargeId, PatientId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::ledger::{append_to_ledger, ensure_day_open};
use super::{BillingStore, NewLedgerEntry, WriteError, claiming_key, corrupt};
use crate::domain::{
    BillingError, Charge, ItemDescription, LedgerSource, Operation, PriceCode, Quantity,
};

/// The columns `ChargeRow` reads.
macro_rules! charge_columns {
    () => {
        "charge_id, patient_id, appointment_id, price_code, description, quantity, \
         unit_price_minor, amount_minor, currency, service_date, posted_by, request_id, created_at"
    };
}

pub(super) use charge_columns;

impl BillingStore {
    /// The charge an earlier call with this request id posted, when `fingerprint` shows this
    /// request is a retry of it.
    pub async fn earlier_charge(
        &self,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Charge>, BillingError> {
        let Some(charge_id) = self
            .earlier_resource(Operation::PostCharge, request_id, fingerprint)
            .await?
        else {
            return Ok(None);
        };
        let charge_id = ChargeId::parse(&charge_id)
            .map_err(|_| corrupt("idempotency_keys.resource_id", &charge_id))?;
        self.charge(charge_id).await
    }

    /// Posts a priced charge and its ledger entry, or returns the charge a first call with the
    /// same request id posted.
    pub async fn post_charge(
        &self,
        charge: &Charge,
        fingerprint: &str,
    ) -> Result<Charge, BillingError> {
        let charge_id = claiming_key(&charge.request_id, || {
            self.try_post_charge(charge, fingerprint)
        })
        .await?;
        self.charge(charge_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("charge {charge_id} vanished after insert").into())
    }

    async fn try_post_charge(
        &self,
        charge: &Charge,
        fingerprint: &str,
    ) -> Result<ChargeId, WriteError> {
        let operation = Operation::PostCharge;
        in_transaction!(&self.db, |tx| {
            if let Some(charge_id) = earlier_result!(tx, operation, charge.request_id, fingerprint)
            {
                let charge_id = ChargeId::parse(&charge_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &charge_id))?;
                Ok::<_, WriteError>(charge_id)
            } else {
                claim_request_id!(
                    tx,
                    operation,
                    charge.request_id,
                    fingerprint,
                    charge.charge_id.to_string(),
                    charge.created_at
                );
                let sequence = append_to_ledger!(
                    tx,
                    &NewLedgerEntry {
                        patient_id: charge.patient_id,
                        source: LedgerSource::Charge(charge.charge_id),
                        amount: charge.amount,
                        service_date: charge.service_date,
                        created_at: charge.created_at,
                    }
                );
                ensure_day_open!(tx, charge.service_date);
                sqlx::query(
                    "INSERT INTO charges (charge_id, patient_id, appointment_id, price_code, \
                     description, quantity, unit_price_minor, amount_minor, currency, \
                     service_date, posted_by, request_id, ledger_sequence, created_at, \
                     net_minor) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(charge.charge_id.to_string())
                .bind(charge.patient_id.to_string())
                .bind(charge.appointment_id.map(|id| id.to_string()))
                .bind(charge.price_code.as_str())
                .bind(charge.description.as_str())
                .bind(i32::from(charge.quantity.get()))
                .bind(charge.unit_price.minor_units())
                .bind(charge.amount.minor_units())
                .bind(charge.amount.currency().code())
                .bind(charge.service_date)
                .bind(charge.posted_by.as_str())
                .bind(charge.request_id.as_str())
                .bind(sequence)
                .bind(charge.created_at)
                .bind(charge.amount.minor_units())
                .execute(&mut *tx)
                .await
                .context("failed to insert a charge")?;
                Ok(charge.charge_id)
            }
        })
    }

    pub async fn charge(&self, charge_id: ChargeId) -> Result<Option<Charge>, BillingError> {
        let row: Option<ChargeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                charge_columns!(),
                " FROM charges WHERE charge_id = $1"
            ))
            .bind(charge_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a charge")?;
        Ok(row.map(ChargeRow::into_charge).transpose()?)
    }
}

impl BillingStore {
    /// The patient's charges for one service day, in the order they were posted: what a receipt
    /// lists.
    pub async fn charges_on(
        &self,
        patient_id: PatientId,
        service_date: NaiveDate,
    ) -> Result<Vec<Charge>, BillingError> {
        let rows: Vec<ChargeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                charge_columns!(),
                " FROM charges WHERE patient_id = $1 AND service_date = $2 \
                 ORDER BY created_at, charge_id"
            ))
            .bind(patient_id.to_string())
            .bind(service_date)
            .fetch_all(pool)
            .await
        })
        .context("failed to read a day's charges")?;
        let mut charges = Vec::with_capacity(rows.len());
        for row in rows {
            charges.push(row.into_charge()?);
        }
        Ok(charges)
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ChargeRow {
    charge_id: String,
    patient_id: String,
    appointment_id: Option<String>,
    price_code: String,
    description: String,
    quantity: i32,
    unit_price_minor: i64,
    amount_minor: i64,
    currency: String,
    service_date: NaiveDate,
    posted_by: String,
    request_id: String,
    created_at: DateTime<Utc>,
}

impl ChargeRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    pub(super) fn into_charge(self) -> anyhow::Result<Charge> {
        let row_id = format!("charge {}", self.charge_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        Ok(Charge {
            charge_id: ChargeId::parse(&self.charge_id).map_err(|_| corrupt("charge_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            appointment_id: self
                .appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .map_err(|_| corrupt("appointment_id"))?,
            price_code: PriceCode::parse(&self.price_code).map_err(|_| corrupt("price_code"))?,
            description: ItemDescription::parse(&self.description)
                .map_err(|_| corrupt("description"))?,
            quantity: Quantity::parse(self.quantity).map_err(|_| corrupt("quantity"))?,
            unit_price: Money::from_minor(self.unit_price_minor, currency),
            amount: Money::from_minor(self.amount_minor, currency),
            service_date: self.service_date,
            created_at: self.created_at,
            posted_by: self.posted_by,
            request_id: RequestId::parse(&self.request_id).map_err(|_| corrupt("request_id"))?,
        })
    }
}
