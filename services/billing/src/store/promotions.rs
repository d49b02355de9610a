//! Promotions and the items they apply to. A promotion is never edited: charges name it, and
//! what it was is what they were priced by.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::db::is_unique_violation;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::{BillingStore, corrupt};
use crate::domain::{
    BillingError, ItemDescription, NewPromotion, Operation, PriceCode, Promotion, PromotionCode,
    PromotionDiscount,
};

type PromotionRow = (
    String,
    String,
    Option<i32>,
    Option<i64>,
    String,
    NaiveDate,
    NaiveDate,
    String,
    DateTime<Utc>,
);

/// The columns a `PromotionRow` reads.
macro_rules! promotion_columns {
    () => {
        "code, description, percent_off, amount_off_minor, currency, valid_from, valid_to, \
         created_by, created_at"
    };
}

/// The statements of setting up a promotion, inside its transaction.
trait PromotionsTx {
    /// Refuses a promotion naming an item that is not on the price list; every such item is
    /// reported at once.
    async fn ensure_items_listed(&mut self, new: &NewPromotion) -> Result<(), BillingError>;

    /// Inserts the promotion and its items. Refuses ([`BillingError::PromotionCodeTaken`]) a
    /// code already taken.
    async fn insert_promotion(
        &mut self,
        new: &NewPromotion,
        currency: Currency,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), BillingError>;
}

for_each_backend! {
    impl PromotionsTx for Conn {
        async fn ensure_items_listed(&mut self, new: &NewPromotion) -> Result<(), BillingError> {
            let mut violations = FieldViolations::new();
            for (index, price_code) in new.price_codes.iter().enumerate() {
                let listed: Option<String> =
                    sqlx::query_scalar("SELECT code FROM price_list_items WHERE code = $1")
                        .bind(price_code.as_str())
                        .fetch_optional(&mut *self)
                        .await
                        .context("failed to read the price list")?;
                if listed.is_none() {
                    violations.add(
                        format!("promotion.price_codes[{index}]"),
                        "is not on the price list",
                    );
                }
            }
            if !violations.is_empty() {
                return Err(violations.into());
            }
            Ok(())
        }

        async fn insert_promotion(
            &mut self,
            new: &NewPromotion,
            currency: Currency,
            created_by: &str,
            now: DateTime<Utc>,
        ) -> Result<(), BillingError> {
            let (percent, amount) = match new.discount {
                PromotionDiscount::Percent(percent) => (Some(i32::from(percent)), None),
                PromotionDiscount::AmountPerUnit(amount) => (None, Some(amount.minor_units())),
            };
            let inserted = sqlx::query(
                "INSERT INTO promotions (code, description, percent_off, amount_off_minor, \
                 currency, valid_from, valid_to, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(new.code.as_str())
            .bind(new.description.as_str())
            .bind(percent)
            .bind(amount)
            .bind(currency.code())
            .bind(new.valid_from)
            .bind(new.valid_to)
            .bind(created_by)
            .bind(now)
            .execute(&mut *self)
            .await;
            match inserted {
                Err(error) if is_unique_violation(&error, "promotions") => {
                    return Err(BillingError::PromotionCodeTaken(new.code.to_string()));
                }
                other => other.context("failed to insert a promotion")?,
            };
            for price_code in &new.price_codes {
                sqlx::query(
                    "INSERT INTO promotion_items (promotion_code, price_code) \
                     VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(new.code.as_str())
                .bind(price_code.as_str())
                .execute(&mut *self)
                .await
                .context("failed to record a promotion's item")?;
            }
            Ok(())
        }
    }
}

impl BillingStore {
    /// Sets up a promotion, or returns the one a first call with the same request id set up.
    /// `currency` is the clinic's.
    pub async fn create_promotion(
        &self,
        new: &NewPromotion,
        currency: Currency,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Promotion, BillingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(
            Operation::CreatePromotion.as_str(),
            &new.request_id,
            &fingerprint,
        );
        let code = retrying("a promotion", || {
            self.try_create_promotion(new, currency, &key, created_by, now)
        })
        .await?;
        self.promotion(&code)
            .await?
            .ok_or_else(|| anyhow::anyhow!("promotion {code} vanished after insert").into())
    }

    async fn try_create_promotion(
        &self,
        new: &NewPromotion,
        currency: Currency,
        key: &IdempotencyKey<'_>,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<PromotionCode, Attempt<BillingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(code) = tx.earlier_result(key).await? {
                return Ok(code);
            }
            tx.claim(key, new.code.as_str(), now).await?;
            tx.ensure_items_listed(new).await?;
            tx.insert_promotion(new, currency, created_by, now).await?;
            Ok(new.code.clone())
        })
    }

    pub async fn promotion(&self, code: &PromotionCode) -> Result<Option<Promotion>, BillingError> {
        let (row, items) = with_db!(&self.db, |pool| {
            async {
                let row: Option<PromotionRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    promotion_columns!(),
                    " FROM promotions WHERE code = $1"
                ))
                .bind(code.as_str())
                .fetch_optional(pool)
                .await?;
                let items: Vec<String> = sqlx::query_scalar(
                    "SELECT price_code FROM promotion_items WHERE promotion_code = $1 \
                     ORDER BY price_code",
                )
                .bind(code.as_str())
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((row, items))
            }
            .await
        })
        .context("failed to read a promotion")?;
        row.map(|row| promotion_from(row, items))
            .transpose()
            .map_err(BillingError::from)
    }

    /// Every promotion by code; with `active_on`, only those running that day.
    pub async fn promotions(
        &self,
        active_on: Option<NaiveDate>,
    ) -> Result<Vec<Promotion>, BillingError> {
        let (rows, items) = with_db!(&self.db, |pool| {
            async {
                let rows: Vec<PromotionRow> = match active_on {
                    Some(day) => {
                        sqlx::query_as(concat!(
                            "SELECT ",
                            promotion_columns!(),
                            " FROM promotions WHERE valid_from <= $1 AND valid_to >= $1 \
                             ORDER BY code"
                        ))
                        .bind(day)
                        .fetch_all(pool)
                        .await?
                    }
                    None => {
                        sqlx::query_as(concat!(
                            "SELECT ",
                            promotion_columns!(),
                            " FROM promotions ORDER BY code"
                        ))
                        .fetch_all(pool)
                        .await?
                    }
                };
                let items: Vec<(String, String)> = sqlx::query_as(
                    "SELECT promotion_code, price_code FROM promotion_items \
                     ORDER BY promotion_code, price_code",
                )
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((rows, items))
            }
            .await
        })
        .context("failed to list the promotions")?;
        let mut by_promotion: HashMap<String, Vec<String>> = HashMap::new();
        for (promotion, price_code) in items {
            by_promotion.entry(promotion).or_default().push(price_code);
        }
        let mut promotions = Vec::with_capacity(rows.len());
        for row in rows {
            let items = by_promotion.remove(&row.0).unwrap_or_default();
            promotions.push(promotion_from(row, items)?);
        }
        Ok(promotions)
    }
}

fn promotion_from(row: PromotionRow, items: Vec<String>) -> anyhow::Result<Promotion> {
    let (code, description, percent, amount, currency, valid_from, valid_to, created_by, at) = row;
    let row_id = format!("promotion {code}");
    let discount = match (percent, amount) {
        (Some(percent), None) => PromotionDiscount::Percent(
            u8::try_from(percent).map_err(|_| corrupt("percent_off", &row_id))?,
        ),
        (None, Some(amount)) => {
            let currency: Currency = currency.parse().map_err(|_| corrupt("currency", &row_id))?;
            PromotionDiscount::AmountPerUnit(Money::from_minor(amount, currency))
        }
        _ => return Err(corrupt("discount", &row_id)),
    };
    let price_codes = items
        .iter()
        .map(|code| PriceCode::parse(code).map_err(|_| corrupt("price_code", &row_id)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Promotion {
        code: PriceCode::parse(&code).map_err(|_| corrupt("code", &row_id))?,
        description: ItemDescription::parse(&description)
            .map_err(|_| corrupt("description", &row_id))?,
        discount,
        price_codes,
        valid_from,
        valid_to,
        created_by,
        created_at: at,
    })
}
