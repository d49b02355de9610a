//! Charges, their ledger entries, and the packages they sell and use up.
//!
//! A charge is priced inside its transaction, after the ledger head is taken: whether a package
//! of the patient's covers it depends on the sessions earlier charges used, and two charges
//! racing for a package's last session must not both get it.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::is_unique_violation;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{AppointmentId, ChargeId, PatientId, RequestId};
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::ledger::LedgerTx;
use super::{BillingStore, NewLedgerEntry, corrupt};
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

/// The statements of posting a charge, inside its transaction.
trait ChargesTx {
    /// The oldest package of the patient's for item `covers` with sessions left, and how many
    /// are left.
    async fn package_with_sessions_left(
        &mut self,
        patient_id: PatientId,
        covers: &PriceCode,
    ) -> anyhow::Result<Option<(PackageId, i64)>>;

    /// Inserts the priced charge, whose ledger entry has `sequence`. Refuses
    /// ([`BillingError::AppointmentAlreadyCharged`]) a second charge of one appointment.
    async fn insert_charge(&mut self, charge: &Charge, sequence: i64) -> Result<(), BillingError>;

    /// Records the package the charge sold the patient, with its sessions all left.
    async fn record_package_sold(
        &mut self,
        order: &ChargeOrder,
        charge: &Charge,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl ChargesTx for Conn {
        async fn package_with_sessions_left(
            &mut self,
            patient_id: PatientId,
            covers: &PriceCode,
        ) -> anyhow::Result<Option<(PackageId, i64)>> {
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
            .bind(patient_id.to_string())
            .bind(covers.as_str())
            .fetch_optional(&mut *self)
            .await
            .context("failed to look for a package")?;
            let Some((package_id, left)) = row else {
                return Ok(None);
            };
            let package_id =
                PackageId::parse(&package_id).map_err(|_| corrupt("package_id", &package_id))?;
            Ok(Some((package_id, left)))
        }

        async fn insert_charge(
            &mut self,
            charge: &Charge,
            sequence: i64,
        ) -> Result<(), BillingError> {
            let discount = DiscountColumns::of(charge.discount.as_ref());
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
            .bind(discount.amount_minor)
            .bind(discount.promotion_code)
            .bind(discount.percent)
            .bind(discount.reason)
            .bind(discount.authorized_by)
            .bind(charge.origin.as_str())
            .bind(provider_id)
            .bind(provider_name)
            .execute(&mut *self)
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
                    Err(BillingError::AppointmentAlreadyCharged(appointment_id))
                }
                other => {
                    other.context("failed to insert a charge")?;
                    Ok(())
                }
            }
        }

        async fn record_package_sold(
            &mut self,
            order: &ChargeOrder,
            charge: &Charge,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            let terms = order
                .item
                .package
                .as_ref()
                .ok_or_else(|| corrupt("package terms", &format!("item {}", order.item.code)))?;
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
            .execute(&mut *self)
            .await
            .context("failed to record a package sold")?;
            Ok(())
        }
    }
}

/// A charge's discount as its columns store it: a promotion by code, or an ad hoc discount with
/// its reason (and percent and authorising manager, when there were any).
struct DiscountColumns<'a> {
    amount_minor: i64,
    promotion_code: Option<&'a str>,
    percent: Option<i32>,
    reason: Option<&'a str>,
    authorized_by: Option<&'a str>,
}

impl<'a> DiscountColumns<'a> {
    fn of(discount: Option<&'a AppliedDiscount>) -> Self {
        let mut columns = DiscountColumns {
            amount_minor: discount.map_or(0, |discount| discount.amount.minor_units()),
            promotion_code: None,
            percent: None,
            reason: None,
            authorized_by: None,
        };
        match discount.map(|discount| &discount.kind) {
            None => {}
            Some(AppliedDiscountKind::Promotion(code)) => {
                columns.promotion_code = Some(code.as_str())
            }
            Some(AppliedDiscountKind::AdHoc {
                percent,
                reason,
                authorized_by,
            }) => {
                columns.percent = percent.map(i32::from);
                columns.reason = Some(reason.as_str());
                columns.authorized_by = authorized_by.as_deref();
            }
        }
        columns
    }
}

impl BillingStore {
    /// The charge an earlier call of `operation` with this request id posted, when
    /// `fingerprint` shows this request is a retry of it.
    pub async fn earlier_charge(
        &self,
        operation: Operation,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<Charge>, BillingError> {
        let key = IdempotencyKey::new(operation.as_str(), request_id, fingerprint);
        let Some(charge_id) = self.db.earlier_result(&key).await? else {
            return Ok(None);
        };
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
        let key = IdempotencyKey::new(operation.as_str(), &order.new.request_id, fingerprint);
        let charge_id =
            retrying("a charge", || self.try_post_charge(order, &key, today, now)).await?;
        self.charge(charge_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("charge {charge_id} vanished after insert").into())
    }

    async fn try_post_charge(
        &self,
        order: &ChargeOrder,
        key: &IdempotencyKey<'_>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ChargeId, Attempt<BillingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(charge_id) = tx.earlier_result(key).await? {
                return Ok(charge_id);
            }
            tx.lock_ledger().await?;
            let package = if order.may_use_package() {
                tx.package_with_sessions_left(order.new.patient_id, &order.item.code)
                    .await?
            } else {
                None
            };
            let charge = order.price(package, today, now)?;
            tx.ensure_day_open(charge.service_date).await?;
            tx.claim(key, &charge.charge_id.to_string(), now).await?;
            let entry = NewLedgerEntry {
                patient_id: charge.patient_id,
                source: LedgerSource::Charge(charge.charge_id),
                amount: charge.net,
                service_date: charge.service_date,
                created_at: charge.created_at,
            };
            let sequence = tx.append_to_ledger(&entry).await?;
            tx.insert_charge(&charge, sequence).await?;
            if order.item.kind == PriceListItemKind::Package {
                tx.record_package_sold(order, &charge, now).await?;
            }
            Ok(charge.charge_id)
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
