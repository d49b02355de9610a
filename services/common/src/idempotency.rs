//! Idempotency keys: a retry of a call that creates a record or moves money returns the first
//! call's result and writes nothing, the same key for different content is refused, and two
//! first calls racing with one key end with one record.
//!
//! Every service keeps its own `idempotency_keys` table, with the same shape:
//!
//! ```sql
//! operation TEXT, request_id TEXT, fingerprint TEXT, resource_id TEXT, created_at,
//! PRIMARY KEY (operation, request_id)
//! ```
//!
//! The protocol, the same in every write that takes a key:
//!
//! 1. Inside the write's transaction, [`IdempotencyKeys::earlier_result`] looks the key up: the
//!    resource a first call created (this call is its retry: answer with it), nothing (go on),
//!    or [`KeyError::Reused`] when the key was used for a request with other content.
//! 2. The write claims the key with [`IdempotencyKeys::claim`] in the same transaction, so the
//!    key and what it stands for commit together or not at all.
//! 3. Two first calls with one key can both find it free on PostgreSQL (SQLite's writers take
//!    turns from `BEGIN IMMEDIATE`); the second claim then fails on the table's primary key once
//!    the first commits ([`KeyError::Lost`]), which becomes [`Attempt::Lost`]: the transaction rolls back whole and
//!    [`retrying`] runs it again, which finds the winner's result in step 1.
//!
//! A read outside any transaction ([`Database::earlier_result`]) lets a service answer a retry
//! before doing expensive work (asking another service); the write still checks again.

use std::future::Future;
use std::str::FromStr;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::db::{Database, is_unique_violation};
use crate::ids::RequestId;

/// How many times [`retrying`] runs a write that keeps losing races it can retry. One lost race
/// is the common case (two first calls with one key); five leaves room for a write that also
/// retries a random code colliding, without letting a fault loop for long.
pub const ATTEMPTS: usize = 5;

/// A request's idempotency key, with what it is for and what it said.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    /// The kind of call, e.g. `post_payment`: one key may be used once per operation.
    pub operation: &'a str,
    /// The client's key.
    pub request_id: &'a RequestId,
    /// A digest of the request's content ([`crate::ids::request_fingerprint`]).
    pub fingerprint: &'a str,
}

impl<'a> IdempotencyKey<'a> {
    pub fn new(operation: &'a str, request_id: &'a RequestId, fingerprint: &'a str) -> Self {
        IdempotencyKey {
            operation,
            request_id,
            fingerprint,
        }
    }
}

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key was used before for a request with different content. Each service turns this
    /// into its own error, answered `INVALID_ARGUMENT` naming `request_id`.
    #[error("this request_id was already used for a different request")]
    Reused,
    /// Another transaction claimed the key first (only [`IdempotencyKeys::claim`] says so).
    #[error("another call claimed this request_id first")]
    Lost,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// How one attempt at a write that claims a key (or draws a random code) ended, short of success.
#[derive(Debug)]
pub enum Attempt<E> {
    /// It lost a race a new attempt can win: another call claimed the same key first, or a
    /// random code it drew was taken. Nothing was written.
    Lost,
    /// It failed for good.
    Failed(E),
}

impl<E: From<anyhow::Error>> From<anyhow::Error> for Attempt<E> {
    fn from(error: anyhow::Error) -> Self {
        Attempt::Failed(E::from(error))
    }
}

impl<E: From<KeyError>> From<KeyError> for Attempt<E> {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Lost => Attempt::Lost,
            other => Attempt::Failed(E::from(other)),
        }
    }
}

/// Runs `attempt` until it succeeds, fails for good, or has lost [`ATTEMPTS`] races; `what`
/// names the write in the error that last case gives.
pub async fn retrying<T, E, F, Fut>(what: &str, mut attempt: F) -> Result<T, E>
where
    E: From<anyhow::Error>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Attempt<E>>>,
{
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt::Failed(error)) => return Err(error),
            Err(Attempt::Lost) => continue,
        }
    }
    Err(anyhow::anyhow!("{what} stayed contended after {ATTEMPTS} attempts").into())
}

/// The statements of the protocol, on a connection inside the write's transaction.
pub trait IdempotencyKeys {
    /// What `key` already stands for: the resource a first call with the same content created
    /// (parsed as `R`), `None` when the key is free, [`KeyError::Reused`] when it was used for
    /// other content.
    fn earlier_result<R: FromStr>(
        &mut self,
        key: &IdempotencyKey<'_>,
    ) -> impl Future<Output = Result<Option<R>, KeyError>> + Send;

    /// Claims `key` for `resource_id`. [`KeyError::Lost`] when another transaction claimed it
    /// first; the caller's transaction must then roll back (return the error, which becomes
    /// [`Attempt::Lost`]) and try again.
    fn claim(
        &mut self,
        key: &IdempotencyKey<'_>,
        resource_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), KeyError>> + Send;
}

const SELECT_KEY: &str = "SELECT fingerprint, resource_id FROM idempotency_keys \
     WHERE operation = $1 AND request_id = $2";

const INSERT_KEY: &str = "INSERT INTO idempotency_keys \
     (operation, request_id, fingerprint, resource_id, created_at) VALUES ($1, $2, $3, $4, $5)";

crate::for_each_backend! {
    impl IdempotencyKeys for Conn {
        async fn earlier_result<R: FromStr>(
            &mut self,
            key: &IdempotencyKey<'_>,
        ) -> Result<Option<R>, KeyError> {
            let earlier: Option<(String, String)> = sqlx::query_as(SELECT_KEY)
                .bind(key.operation)
                .bind(key.request_id.as_str())
                .fetch_optional(&mut *self)
                .await
                .context("failed to look up an idempotency key")?;
            judge(key, earlier)
        }

        async fn claim(
            &mut self,
            key: &IdempotencyKey<'_>,
            resource_id: &str,
            now: DateTime<Utc>,
        ) -> Result<(), KeyError> {
            let claimed = sqlx::query(INSERT_KEY)
                .bind(key.operation)
                .bind(key.request_id.as_str())
                .bind(key.fingerprint)
                .bind(resource_id)
                .bind(now)
                .execute(&mut *self)
                .await;
            match claimed {
                Err(error) if is_unique_violation(&error, "idempotency_keys") => Err(KeyError::Lost),
                Err(error) => Err(anyhow::Error::new(error)
                    .context("failed to record an idempotency key")
                    .into()),
                Ok(_) => Ok(()),
            }
        }
    }
}

impl Database {
    /// [`IdempotencyKeys::earlier_result`] outside any transaction: lets a retry be answered
    /// before the work a first call needs (such as asking another service). The write's own
    /// transaction checks the key again.
    pub async fn earlier_result<R: FromStr>(
        &self,
        key: &IdempotencyKey<'_>,
    ) -> Result<Option<R>, KeyError> {
        let earlier: Option<(String, String)> = crate::with_db!(self, |pool| {
            sqlx::query_as(SELECT_KEY)
                .bind(key.operation)
                .bind(key.request_id.as_str())
                .fetch_optional(pool)
                .await
        })
        .context("failed to look up an idempotency key")?;
        judge(key, earlier)
    }
}

/// A stored `(fingerprint, resource_id)` judged against this request.
fn judge<R: FromStr>(
    key: &IdempotencyKey<'_>,
    earlier: Option<(String, String)>,
) -> Result<Option<R>, KeyError> {
    let Some((fingerprint, resource_id)) = earlier else {
        return Ok(None);
    };
    if fingerprint != key.fingerprint {
        return Err(KeyError::Reused);
    }
    let resource = resource_id.parse().map_err(|_| {
        anyhow::anyhow!(
            "idempotency_keys holds a malformed resource id {resource_id:?} for {}",
            key.operation
        )
    })?;
    Ok(Some(resource))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::in_transaction;

    const CREATE_TABLE: &str = "CREATE TABLE idempotency_keys (operation TEXT NOT NULL, \
         request_id TEXT NOT NULL, fingerprint TEXT NOT NULL, resource_id TEXT NOT NULL, \
         created_at TEXT NOT NULL, PRIMARY KEY (operation, request_id))";

    async fn database() -> (tempfile::TempDir, Database) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("keys.db").display());
        let db = Database::connect(&url).await.expect("SQLite opens");
        crate::with_db!(&db, |pool| {
            sqlx::query(CREATE_TABLE)
                .execute(pool)
                .await
                .expect("the table is created");
        });
        (directory, db)
    }

    #[derive(Debug)]
    enum TestError {
        Reused,
        Unexpected(anyhow::Error),
    }

    impl From<anyhow::Error> for TestError {
        fn from(error: anyhow::Error) -> Self {
            TestError::Unexpected(error)
        }
    }

    impl From<KeyError> for TestError {
        fn from(error: KeyError) -> Self {
            match error {
                KeyError::Reused => TestError::Reused,
                other => TestError::Unexpected(other.into()),
            }
        }
    }

    /// One write under `key`: the earlier result, or a claim for `resource`.
    async fn write(
        db: &Database,
        key: &IdempotencyKey<'_>,
        resource: &str,
    ) -> Result<String, Attempt<TestError>> {
        in_transaction!(db, |tx| {
            if let Some(earlier) = tx.earlier_result::<String>(key).await? {
                return Ok(earlier);
            }
            tx.claim(key, resource, Utc::now()).await?;
            Ok(resource.to_owned())
        })
    }

    #[tokio::test]
    async fn a_retry_gets_the_first_result_and_other_content_is_refused() {
        let (_directory, db) = database().await;
        let request_id = RequestId::parse("key-1").expect("a valid key");
        let first = IdempotencyKey::new("create_thing", &request_id, "fingerprint-a");

        let created = retrying("a thing", || write(&db, &first, "thing-1")).await;
        let retried = retrying("a thing", || write(&db, &first, "thing-2")).await;
        let other = IdempotencyKey::new("create_thing", &request_id, "fingerprint-b");
        let reused = retrying("a thing", || write(&db, &other, "thing-3")).await;
        let elsewhere = IdempotencyKey::new("delete_thing", &request_id, "fingerprint-b");
        let other_operation = retrying("a thing", || write(&db, &elsewhere, "thing-4")).await;

        assert_eq!(created.expect("the first call succeeds"), "thing-1");
        assert_eq!(retried.expect("the retry succeeds"), "thing-1");
        assert!(matches!(reused, Err(TestError::Reused)), "{reused:?}");
        assert_eq!(
            other_operation.expect("one key serves each operation once"),
            "thing-4"
        );
        let outside: Option<String> = db.earlier_result(&first).await.expect("a lookup");
        assert_eq!(outside.as_deref(), Some("thing-1"));
    }

    #[tokio::test]
    async fn a_lost_attempt_rolls_back_whole_and_the_next_one_runs_afresh() {
        let (_directory, db) = database().await;
        let request_id = RequestId::parse("key-2").expect("a valid key");
        let key = IdempotencyKey::new("create_thing", &request_id, "fingerprint");
        let attempts = AtomicUsize::new(0);

        let result = retrying("a thing", || async {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst);
            in_transaction!(&db, |tx| {
                if let Some(earlier) = tx.earlier_result::<String>(&key).await? {
                    return Ok(earlier);
                }
                let resource = format!("attempt-{attempt}");
                tx.claim(&key, &resource, Utc::now()).await?;
                if attempt == 0 {
                    // As if a random code this write drew were taken after its claim.
                    return Err(Attempt::Lost);
                }
                Ok::<_, Attempt<TestError>>(resource)
            })
        })
        .await;

        assert_eq!(attempts.load(Ordering::SeqCst), 2);
        // The first attempt's claim rolled back with it, so the second one's stands.
        assert_eq!(result.expect("the second attempt succeeds"), "attempt-1");
    }

    #[tokio::test]
    async fn a_write_that_keeps_losing_gives_up_after_the_documented_attempts() {
        let attempts = AtomicUsize::new(0);
        let result: Result<(), TestError> = retrying("a thing", || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(Attempt::Lost)
        })
        .await;

        assert_eq!(attempts.load(Ordering::SeqCst), ATTEMPTS);
        let Err(TestError::Unexpected(error)) = result else {
            panic!("expected an unexpected error, got {result:?}");
        };
        assert!(error.to_string().contains("stayed contended"), "{error}");
    }

    #[tokio::test]
    async fn a_claim_of_a_taken_key_is_lost() {
        let (_directory, db) = database().await;
        let request_id = RequestId::parse("key-3").expect("a valid key");
        let key = IdempotencyKey::new("create_thing", &request_id, "fingerprint");
        let claim = |resource: &'static str| {
            let key = &key;
            let db = &db;
            async move {
                in_transaction!(db, |tx| {
                    tx.claim(key, resource, Utc::now()).await?;
                    Ok::<_, Attempt<TestError>>(())
                })
            }
        };
        assert!(claim("first").await.is_ok());

        let second = claim("second").await;

        assert!(matches!(second, Err(Attempt::Lost)), "{second:?}");
    }
}
