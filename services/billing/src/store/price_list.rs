//! The price list's table.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::Currency;
use clinic_common::Money;
use clinic_common::db::is_unique_violation;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::validation::FieldViolations;
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::{BillingStore, corrupt};
use crate::domain::{
    BillingError, ItemDescription, NewPriceListItem, Operation, PackageTerms, PriceCode,
    PriceListItem, PriceListItemKind, SatCodes,
};

/// The columns `PriceListItemRow` reads, as a literal so queries stay `&'static str`.
macro_rules! price_list_item_columns {
    () => {
        "code, description, unit_price_minor, currency, kind, created_at, package_sessions, \
         package_covers, sat_product_code, sat_unit_code"
    };
}

const SELECT_PRICE_LIST_ITEM: &str = concat!(
    "SELECT ",
    price_list_item_columns!(),
    " FROM price_list_items WHERE code = $1"
);

/// The statements of adding an item to the price list, inside its transaction.
trait PriceListTx {
    /// Refuses a package whose `covers` is not on the list, or is a package itself: a package
    /// of packages would never be used up.
    async fn ensure_coverable(&mut self, package: &PackageTerms) -> Result<(), BillingError>;

    /// Inserts the item. Refuses ([`BillingError::PriceCodeTaken`]) a code already listed.
    async fn insert_item(
        &mut self,
        new: &NewPriceListItem,
        now: DateTime<Utc>,
    ) -> Result<(), BillingError>;
}

for_each_backend! {
    impl PriceListTx for Conn {
        async fn ensure_coverable(&mut self, package: &PackageTerms) -> Result<(), BillingError> {
            let covered: Option<String> =
                sqlx::query_scalar("SELECT kind FROM price_list_items WHERE code = $1")
                    .bind(package.covers.as_str())
                    .fetch_optional(&mut *self)
                    .await
                    .context("failed to read the item a package covers")?;
            match covered.as_deref() {
                None => Err(FieldViolations::single(
                    "item.package_covers",
                    "is not on the price list",
                )
                .into()),
                Some("package") => Err(FieldViolations::single(
                    "item.package_covers",
                    "is a package itself",
                )
                .into()),
                Some(_) => Ok(()),
            }
        }

        async fn insert_item(
            &mut self,
            new: &NewPriceListItem,
            now: DateTime<Utc>,
        ) -> Result<(), BillingError> {
            let inserted = sqlx::query(
                "INSERT INTO price_list_items (code, description, unit_price_minor, \
                 currency, kind, created_at, package_sessions, package_covers, \
                 sat_product_code, sat_unit_code) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(new.code.as_str())
            .bind(new.description.as_str())
            .bind(new.unit_price.minor_units())
            .bind(new.unit_price.currency().code())
            .bind(new.kind.as_str())
            .bind(now)
            .bind(
                new.package
                    .as_ref()
                    .map(|package| i32::from(package.sessions)),
            )
            .bind(new.package.as_ref().map(|package| package.covers.as_str()))
            .bind(new.sat.as_ref().map(|sat| sat.product_code.as_str()))
            .bind(new.sat.as_ref().map(|sat| sat.unit_code.as_str()))
            .execute(&mut *self)
            .await;
            match inserted {
                Err(error) if is_unique_violation(&error, "price_list_items") => {
                    Err(BillingError::PriceCodeTaken(new.code.clone()))
                }
                other => {
                    other.context("failed to insert a price list item")?;
                    Ok(())
                }
            }
        }
    }
}

impl BillingStore {
    /// Adds an item, or returns the item a first call with the same request id added.
    pub async fn create_price_list_item(
        &self,
        new: &NewPriceListItem,
        now: DateTime<Utc>,
    ) -> Result<PriceListItem, BillingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(
            Operation::CreatePriceListItem.as_str(),
            &new.request_id,
            &fingerprint,
        );
        let code = retrying("a price list item", || {
            self.try_create_price_list_item(new, &key, now)
        })
        .await?;
        self.price_list_item(&code)
            .await?
            .ok_or_else(|| anyhow::anyhow!("price list item {code} vanished after insert").into())
    }

    async fn try_create_price_list_item(
        &self,
        new: &NewPriceListItem,
        key: &IdempotencyKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<PriceCode, Attempt<BillingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(code) = tx.earlier_result(key).await? {
                return Ok(code);
            }
            tx.claim(key, new.code.as_str(), now).await?;
            if let Some(package) = &new.package {
                tx.ensure_coverable(package).await?;
            }
            tx.insert_item(new, now).await?;
            Ok(new.code.clone())
        })
    }

    pub async fn price_list_item(
        &self,
        code: &PriceCode,
    ) -> Result<Option<PriceListItem>, BillingError> {
        let row: Option<PriceListItemRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_PRICE_LIST_ITEM)
                .bind(code.as_str())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a price list item")?;
        Ok(row.map(PriceListItemRow::into_item).transpose()?)
    }

    /// A page of the price list, by code.
    pub async fn list_price_list_items(
        &self,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<PriceListItem>, BillingError> {
        let rows: Vec<PriceListItemRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                price_list_item_columns!(),
                " FROM price_list_items ORDER BY code LIMIT $1 OFFSET $2"
            ))
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
        })
        .context("failed to list the price list")?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(row.into_item()?);
        }
        Ok(items)
    }
}

#[derive(sqlx::FromRow)]
struct PriceListItemRow {
    code: String,
    description: String,
    unit_price_minor: i64,
    currency: String,
    kind: String,
    created_at: DateTime<Utc>,
    package_sessions: Option<i32>,
    package_covers: Option<String>,
    sat_product_code: Option<String>,
    sat_unit_code: Option<String>,
}

impl PriceListItemRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_item(self) -> anyhow::Result<PriceListItem> {
        let row_id = format!("price list item {}", self.code);
        let currency: Currency = self
            .currency
            .parse()
            .map_err(|_| corrupt("currency", &row_id))?;
        Ok(PriceListItem {
            code: PriceCode::parse(&self.code).map_err(|_| corrupt("code", &row_id))?,
            description: ItemDescription::parse(&self.description)
                .map_err(|_| corrupt("description", &row_id))?,
            unit_price: Money::from_minor(self.unit_price_minor, currency),
            kind: PriceListItemKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &row_id))?,
            package: match (self.package_sessions, self.package_covers) {
                (None, None) => None,
                (Some(sessions), Some(covers)) => Some(PackageTerms {
                    sessions: PackageTerms::sessions(sessions)
                        .map_err(|_| corrupt("package_sessions", &row_id))?,
                    covers: PriceCode::parse(&covers)
                        .map_err(|_| corrupt("package_covers", &row_id))?,
                }),
                _ => return Err(corrupt("package", &row_id)),
            },
            sat: match (self.sat_product_code, self.sat_unit_code) {
                (Some(product_code), Some(unit_code)) => Some(SatCodes {
                    product_code,
                    unit_code,
                }),
                _ => None,
            },
            created_at: self.created_at,
        })
    }
}
