//! Providers.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::db::Connection;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::ProviderId;
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::{SchedulingStore, sql_offset};
use crate::domain::{
    DisplayName, NewProvider, Provider, ProviderKind, ProviderUpdate, SchedulingError,
};

/// The idempotency-key operation name for adding a provider.
const CREATE_PROVIDER: &str = "create_provider";

/// The columns `ProviderRow` reads, as a literal so queries stay `&'static str`.
macro_rules! provider_columns {
    () => {
        "provider_id, display_name, kind, assistant_provider_id, created_at"
    };
}

impl SchedulingStore {
    /// Adds a provider, or returns the one a first call with the same request id added.
    pub async fn create_provider(
        &self,
        new: &NewProvider,
        now: DateTime<Utc>,
    ) -> Result<Provider, SchedulingError> {
        let fingerprint = new.fingerprint();
        let key = IdempotencyKey::new(CREATE_PROVIDER, &new.request_id, &fingerprint);
        let provider_id = retrying("a provider's request id", || {
            self.try_create_provider(new, &key, now)
        })
        .await?;
        self.provider(provider_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("provider {provider_id} vanished after insert").into())
    }

    async fn try_create_provider(
        &self,
        new: &NewProvider,
        key: &IdempotencyKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<ProviderId, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(provider_id) = tx.earlier_result(key).await? {
                return Ok(provider_id);
            }
            if let Some(assistant_id) = new.assistant {
                let kind: Option<String> =
                    sqlx::query_scalar("SELECT kind FROM providers WHERE provider_id = $1")
                        .bind(assistant_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .context("failed to read a provider")?;
                match kind.as_deref().and_then(ProviderKind::parse) {
                    None => {
                        return Err(
                            SchedulingError::UnusableAssistant("is not a known provider").into(),
                        );
                    }
                    Some(ProviderKind::Assistant) => {}
                    Some(_) => {
                        return Err(SchedulingError::UnusableAssistant(
                            "must be a provider of kind assistant",
                        )
                        .into());
                    }
                }
            }
            let provider_id = ProviderId::new();
            sqlx::query(
                "INSERT INTO providers (provider_id, display_name, kind, \
                 assistant_provider_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(provider_id.to_string())
            .bind(new.display_name.as_str())
            .bind(new.kind.as_str())
            .bind(new.assistant.map(|id| id.to_string()))
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to insert a provider")?;
            tx.claim(key, &provider_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(provider_id)
        })
    }

    /// Replaces a provider's name, kind and assistant. The assistant must be another provider,
    /// of kind assistant.
    pub async fn update_provider(
        &self,
        update: &ProviderUpdate,
    ) -> Result<Provider, SchedulingError> {
        let provider_id = update.provider_id;
        let current = self
            .provider(provider_id)
            .await?
            .ok_or(SchedulingError::ProviderNotFound(provider_id))?;
        if let Some(assistant_id) = update.assistant {
            let assistant =
                self.provider(assistant_id)
                    .await?
                    .ok_or(SchedulingError::UnusableAssistant(
                        "is not a known provider",
                    ))?;
            let updated = Provider {
                kind: update.kind,
                ..current.clone()
            };
            updated
                .accepts_assistant(&assistant)
                .map_err(SchedulingError::UnusableAssistant)?;
        }
        let changed = with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE providers SET display_name = $2, kind = $3, assistant_provider_id = $4 \
                 WHERE provider_id = $1",
            )
            .bind(provider_id.to_string())
            .bind(update.display_name.as_str())
            .bind(update.kind.as_str())
            .bind(update.assistant.map(|id| id.to_string()))
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to update a provider")?;
        if changed == 0 {
            return Err(SchedulingError::ProviderNotFound(provider_id));
        }
        Ok(Provider {
            display_name: update.display_name.clone(),
            kind: update.kind,
            assistant: update.assistant,
            ..current
        })
    }

    pub async fn provider(
        &self,
        provider_id: ProviderId,
    ) -> Result<Option<Provider>, SchedulingError> {
        let row: Option<ProviderRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                provider_columns!(),
                " FROM providers WHERE provider_id = $1"
            ))
            .bind(provider_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a provider")?;
        Ok(row.map(ProviderRow::into_provider).transpose()?)
    }

    /// Providers by name.
    pub async fn providers(
        &self,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Provider>, SchedulingError> {
        let rows: Vec<ProviderRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                provider_columns!(),
                " FROM providers ORDER BY display_name, provider_id LIMIT $1 OFFSET $2"
            ))
            .bind(i64::from(limit))
            .bind(sql_offset(offset))
            .fetch_all(pool)
            .await
        })
        .context("failed to list providers")?;
        let mut providers = Vec::with_capacity(rows.len());
        for row in rows {
            providers.push(row.into_provider()?);
        }
        Ok(providers)
    }
}

/// A provider's row inside another statement's transaction.
pub(crate) trait ProvidersTx {
    /// Locks a provider's row until the transaction ends; `false` when there is no such
    /// provider. Everything that books a provider's time or changes their hours takes this lock
    /// first, so those writes take turns: on PostgreSQL a second one waits for the first to
    /// commit and then sees what it wrote (under READ COMMITTED each statement reads what has
    /// committed). SQLite has no row locks and needs none: its transactions begin with
    /// `BEGIN IMMEDIATE`, so writers already run one at a time.
    async fn lock_provider(&mut self, provider_id: ProviderId) -> anyhow::Result<bool>;
}

for_each_backend! {
    impl ProvidersTx for Conn {
        async fn lock_provider(&mut self, provider_id: ProviderId) -> anyhow::Result<bool> {
            let lock = Conn::pick(
                "SELECT provider_id FROM providers WHERE provider_id = $1",
                "SELECT provider_id FROM providers WHERE provider_id = $1 FOR UPDATE",
            );
            let found: Option<String> = sqlx::query_scalar(lock)
                .bind(provider_id.to_string())
                .fetch_optional(&mut *self)
                .await
                .context("failed to lock a provider")?;
            Ok(found.is_some())
        }
    }
}

#[derive(sqlx::FromRow)]
struct ProviderRow {
    provider_id: String,
    display_name: String,
    kind: String,
    assistant_provider_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl ProviderRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_provider(self) -> anyhow::Result<Provider> {
        let corrupt =
            |field: &str| anyhow::anyhow!("providers.{field} of {} is corrupt", self.provider_id);
        Ok(Provider {
            provider_id: ProviderId::parse(&self.provider_id)
                .map_err(|_| corrupt("provider_id"))?,
            display_name: DisplayName::parse(&self.display_name)
                .map_err(|_| corrupt("display_name"))?,
            kind: ProviderKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            assistant: self
                .assistant_provider_id
                .as_deref()
                .map(ProviderId::parse)
                .transpose()
                .map_err(|_| corrupt("assistant_provider_id"))?,
            created_at: self.created_at,
        })
    }
}
