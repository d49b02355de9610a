//! Charges, their ledger entries, and the packages they sell and use up.
//!
//! A charge is priced inside its transaction, after the ledger head is taken: whether a package
//! of the patient's covers it depends on the sessions earlier charges used, and two charges
//! racing for a package's last session must not both get it.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::is_unique_violation;
use clinic_common::ids::{AppointmentId, ChargeId, PatientId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::ledger::{append_to_ledger, ensure_day_open, lock_ledger};
use super::{BillingStore, NewLedgerEntry, WriteError, claiming_key, corrupt};
use crate::domain::{
    AppliedDiscount, AppliedDiscountKind, BillingError, Charge, ChargeOrder, ChargeOrigin,
    ItemDescription, LedgerSource, Operation, PackageCover, PackageId, PatientPackage, PriceCode,
    PriceListItemKind, Quantity,
};

/// The columns `ChargeRow` reads.
macro_rules! charge_columns {
    () => {
        "charge_id, patient_id, appointment_id, price_code, description, quantity, \
         unit_price_minor, amount_minor, currency, service_date, posted_by, request_id, \
         created_at, net_minor, covered_quantity, package_id, discount_minor, promotion_code, \
         discount_percent, discount_reason, discount_authorized_by, origin, provider_id, \
         provider_name"
    };
}

pub(super) use charge_columns;

impl BillingStore {
    /// The charge an earlier call of `operation` with this request id posted, when
    /// `fingerprint` shows this request is a retry of it.
    pub async fn earlier_charge(
        &self,
        operation: Operation,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Charge>, BillingError> {
        let Some(charge_id) = self
            .earlier_resource(operation, request_id, fingerprint)
            .await?
        else {
            return Ok(None);
        };
        let charge_id = ChargeId::parse(&charge_id)
            .map_err(|_| corrupt("idempotency_keys.resource_id", &charge_id))?;
        self.charge(charge_id).await
    }

    /// Prices and posts a charge with its ledger entry (and, for a package, the patient's
    /// package), or returns the charge a first call with the same request id posted.
    pub async fn post_charge(
        &self,
        operation: Operation,
        order: &ChargeOrder,
        fingerprint: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Charge, BillingError> {
        let charge_id = claiming_key(&order.new.request_id, || {
            self.try_post_charge(operation, order, fingerprint, today, now)
        })
        .await?;
        self.charge(charge_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("charge {charge_id} vanished after insert").into())
    }

    async fn try_post_charge(
        &self,
        operation: Operation,
        order: &ChargeOrder,
        fingerprint: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ChargeId, WriteError> {
        let new = &order.new;
        in_transaction!(&self.db, |tx| {
            if let Some(charge_id) = earlier_result!(tx, operation, new.request_id, fingerprint) {
                let charge_id = ChargeId::parse(&charge_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &charge_id))?;
                Ok::<_, WriteError>(charge_id)
            } else {
                lock_ledger!(tx);
                // The oldest package of the patient's for this item with sessions left.
                let package = if order.may_use_package() {
                    let row: Option<(String, i64)> = sqlx::query_as(
                        "SELECT k.package_id, CAST(k.sessions - COALESCE((SELECT \
                         SUM(c.covered_quantity) FROM charges c \
                         WHERE c.package_id = k.package_id), 0) AS BIGINT) AS sessions_left \
                         FROM patient_packages k \
                         WHERE k.patient_id = $1 AND k.covers = $2 AND k.sessions > \
                         COALESCE((SELECT SUM(c.covered_quantity) FROM charges c \
                                   WHERE c.package_id = k.package_id), 0) \
                         ORDER BY k.service_date, k.created_at, k.package_id LIMIT 1",
                    )
                    .bind(new.patient_id.to_string())
                    .bind(order.item.code.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to look for a package")?;
                    match row {
                        Some((package_id, left)) => Some((
                            PackageId::parse(&package_id)
                                .map_err(|_| corrupt("package_id", &package_id))?,
                            left,
                        )),
                        None => None,
                    }
                } else {
                    None
                };
                let charge = order.price(package, today, now)?;
                ensure_day_open!(tx, charge.service_date);
                claim_request_id!(
                    tx,
                    operation,
                    new.request_id,
                    fingerprint,
                    charge.charge_id.to_string(),
                    now
                );
                let sequence = append_to_ledger!(
                    tx,
                    &NewLedgerEntry {
                        patient_id: charge.patient_id,
                        source: LedgerSource::Charge(charge.charge_id),
                        amount: charge.net,
                        service_date: charge.service_date,
                        created_at: charge.created_at,
                    }
                );
                let (promotion_code, discount_percent, discount_reason, authorized_by) =
                    match charge.discount.as_ref().map(|discount| &discount.kind) {
                        None => (None, None, None, None),
                        Some(AppliedDiscountKind::Promotion(code)) => {
                            (Some(code.as_str()), None, None, None)
                        }
                        Some(AppliedDiscountKind::AdHoc {
                            percent,
                            reason,
                            authorized_by,
                        }) => (
                            None,
                            percent.map(i32::from),
                            Some(reason.as_str()),
                            authorized_by.as_deref(),
                        ),
                    };
                let (provider_id, provider_name) = match &charge.origin {
                    ChargeOrigin::Counter => (None, None),
                    ChargeOrigin::Appointment {
                        provider_id,
                        provider_name,
                    } => (Some(provider_id.as_str()), Some(provider_name.as_str())),
                };
                let inserted = sqlx::query(
                    "INSERT INTO charges (charge_id, patient_id, appointment_id, price_code, \
                     description, quantity, unit_price_minor, amount_minor, currency, \
                     service_date, posted_by, request_id, ledger_sequence, created_at, \
                     net_minor, covered_quantity, package_id, discount_minor, promotion_code, \
                     discount_percent, discount_reason, discount_authorized_by, origin, \
                     provider_id, provider_name) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)",
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
                .bind(charge.net.minor_units())
                .bind(charge.cover.map_or(0, |cover| i32::from(cover.quantity)))
                .bind(charge.cover.map(|cover| cover.package_id.to_string()))
                .bind(
                    charge
                        .discount
                        .as_ref()
                        .map_or(0, |discount| discount.amount.minor_units()),
                )
                .bind(promotion_code)
                .bind(discount_percent)
                .bind(discount_reason)
                .bind(authorized_by)
                .bind(charge.origin.as_str())
                .bind(provider_id)
                .bind(provider_name)
                .execute(&mut *tx)
                .await;
                match inserted {
                    // PostgreSQL names the index; SQLite names the column.
                    Err(error)
                        if is_unique_violation(&error, "charges_one_per_appointment")
                            || is_unique_violation(&error, "charges.appointment_id") =>
                    {
                        let appointment_id = charge.appointment_id.ok_or_else(|| {
                            anyhow::anyhow!("a charge without an appointment clashed on one")
                        })?;
                        return Err(BillingError::AppointmentAlreadyCharged(appointment_id).into());
                    }
                    other => other.context("failed to insert a charge")?,
                };
                if order.item.kind == PriceListItemKind::Package {
                    let terms = order.item.package.as_ref().ok_or_else(|| {
                        corrupt("package terms", &format!("item {}", order.item.code))
                    })?;
                    sqlx::query(
                        "INSERT INTO patient_packages (package_id, patient_id, charge_id, \
                         package_code, covers, sessions, service_date, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(PackageId::new().to_string())
                    .bind(charge.patient_id.to_string())
                    .bind(charge.charge_id.to_string())
                    .bind(charge.price_code.as_str())
                    .bind(terms.covers.as_str())
                    .bind(i32::from(terms.sessions))
                    .bind(charge.service_date)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .context("failed to record a package sold")?;
                }
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

    /// The packages the patient bought, oldest first, with the sessions used.
    pub async fn patient_packages(
        &self,
        patient_id: PatientId,
    ) -> Result<Vec<PatientPackage>, BillingError> {
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            i64,
            NaiveDate,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT k.package_id, k.charge_id, k.package_code, k.covers, \
                 CAST(k.sessions AS BIGINT), CAST(COALESCE((SELECT SUM(c.covered_quantity) \
                 FROM charges c WHERE c.package_id = k.package_id), 0) AS BIGINT), \
                 k.service_date, k.created_at FROM patient_packages k WHERE k.patient_id = $1 \
                 ORDER BY k.service_date, k.created_at, k.package_id",
            )
            .bind(patient_id.to_string())
            .fetch_all(pool)
            .await
        })
        .context("failed to read a patient's packages")?;
        let mut packages = Vec::with_capacity(rows.len());
        for (package_id, charge_id, package_code, covers, sessions, used, day, created_at) in rows {
            let row_id = format!("package {package_id}");
            packages.push(PatientPackage {
                package_id: PackageId::parse(&package_id)
                    .map_err(|_| corrupt("package_id", &row_id))?,
                patient_id,
                charge_id: ChargeId::parse(&charge_id)
                    .map_err(|_| corrupt("charge_id", &row_id))?,
                package_code: PriceCode::parse(&package_code)
                    .map_err(|_| corrupt("package_code", &row_id))?,
                covers: PriceCode::parse(&covers).map_err(|_| corrupt("covers", &row_id))?,
                sessions,
                used,
                service_date: day,
                created_at,
            });
        }
        Ok(packages)
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
    net_minor: i64,
    covered_quantity: i32,
    package_id: Option<String>,
    discount_minor: i64,
    promotion_code: Option<String>,
    discount_percent: Option<i32>,
    discount_reason: Option<String>,
    discount_authorized_by: Option<String>,
    origin: String,
    provider_id: Option<String>,
    provider_name: Option<String>,
}

impl ChargeRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    pub(super) fn into_charge(self) -> anyhow::Result<Charge> {
        let row_id = format!("charge {}", self.charge_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        let cover = match (self.package_id, self.covered_quantity) {
            (None, 0) => None,
            (Some(package_id), quantity @ 1..) => Some(PackageCover {
                package_id: PackageId::parse(&package_id).map_err(|_| corrupt("package_id"))?,
                quantity: u16::try_from(quantity).map_err(|_| corrupt("covered_quantity"))?,
            }),
            _ => return Err(corrupt("package_id")),
        };
        let discount = match (self.promotion_code, self.discount_reason) {
            _ if self.discount_minor == 0 => None,
            (Some(code), None) => Some(AppliedDiscount {
                amount: Money::from_minor(self.discount_minor, currency),
                kind: AppliedDiscountKind::Promotion(
                    PriceCode::parse(&code).map_err(|_| corrupt("promotion_code"))?,
                ),
            }),
            (None, Some(reason)) => Some(AppliedDiscount {
                amount: Money::from_minor(self.discount_minor, currency),
                kind: AppliedDiscountKind::AdHoc {
                    percent: self
                        .discount_percent
                        .map(|percent| u8::try_from(percent).map_err(|_| corrupt("percent")))
                        .transpose()?,
                    reason,
                    authorized_by: self.discount_authorized_by,
                },
            }),
            _ => return Err(corrupt("discount")),
        };
        let origin = match (self.origin.as_str(), self.provider_id, self.provider_name) {
            ("counter", None, None) => ChargeOrigin::Counter,
            ("appointment", Some(provider_id), Some(provider_name)) => ChargeOrigin::Appointment {
                provider_id,
                provider_name,
            },
            _ => return Err(corrupt("origin")),
        };
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
            cover,
            discount,
            net: Money::from_minor(self.net_minor, currency),
            service_date: self.service_date,
            created_at: self.created_at,
            posted_by: self.posted_by,
            request_id: RequestId::parse(&self.request_id).map_err(|_| corrupt("request_id"))?,
            origin,
        })
    }
}
