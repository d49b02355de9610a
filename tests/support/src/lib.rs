//! The test harness every clinic crate shares.
//!
//! - [`TestDatabase`]: a fresh SQLite file, or a fresh PostgreSQL database created on the server
//!   named by `CLINIC_TEST_POSTGRES_URL` and dropped afterwards.
//! - [`backend_tests!`]: runs each listed test once per backend.
//! - [`spawn`] and [`RunningService`]: a service serving on `127.0.0.1:0` in-process, over real
//!   TCP, until the test stops it.
//! - [`token`], [`auth_settings`], [`clock_at`]: callers, keys and time under the test's control.
//! - [`bench`]: what the benchmarks share.

pub mod bench;
pub mod proxy;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clinic_common::auth::{BearerToken, Role, TokenKey};
use clinic_common::clock::FixedClock;
use clinic_common::settings::AuthSettings;
use secrecy::SecretString;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Names the PostgreSQL server tests create their databases on, as a URL to a database the test
/// user can connect to and `CREATE DATABASE` from, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_VAR: &str = "CLINIC_TEST_POSTGRES_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    kind: Kind,
}

enum Kind {
    /// Keeps the directory (and so the file) alive for the test.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDatabase {
    /// A new, empty SQLite database file.
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("failed to create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDatabase {
            url,
            kind: Kind::Sqlite(dir),
        }
    }

    /// A new, empty PostgreSQL database, or `None` when no server is configured (benchmarks
    /// skip their PostgreSQL rows then). Under CI (the `CI` variable set) a missing server is an
    /// error, so PostgreSQL is never skipped there.
    pub async fn postgres() -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{POSTGRES_URL_VAR} must be set in CI so that PostgreSQL is tested"
            );
            eprintln!("skipping the PostgreSQL run: {POSTGRES_URL_VAR} is not set");
            return None;
        };
        let name = format!("clinic_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|error| panic!("failed to connect to {POSTGRES_URL_VAR}: {error}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("failed to create a test database");
        // A test's commits need not wait for the disk: the server is not crashed under a test,
        // and a commit is still atomic and visible to every other connection at once.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} SET synchronous_commit = off"
        )))
        .execute(&mut admin)
        .await
        .expect("failed to configure a test database");
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            kind: Kind::Postgres { admin_url, name },
        })
    }

    /// A new, empty PostgreSQL database for a test that needs one: such tests are marked
    /// `#[ignore]` (see [`backend_tests!`]) and run only when asked for, so a missing server is
    /// a failure here, never a silent pass.
    pub async fn postgres_for_test() -> TestDatabase {
        match TestDatabase::postgres().await {
            Some(database) => database,
            None => panic!(
                "{POSTGRES_URL_VAR} is not set: point it at a PostgreSQL server \
                 (postgres://user@host:port/database) or run scripts/test, which starts one"
            ),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A second, independent database on the same backend (for a second service in one test).
    pub async fn sibling(&self) -> TestDatabase {
        match self.kind {
            Kind::Sqlite(_) => TestDatabase::sqlite().await,
            Kind::Postgres { .. } => TestDatabase::postgres()
                .await
                .expect("the PostgreSQL server was configured a moment ago"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Kind::Postgres { admin_url, name } = &self.kind else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime drops the database, ending any connections still open.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.url);
        }
    }
}

/// Runs each named `async fn(TestDatabase)` once on SQLite (`sqlite::<name>`) and once on
/// PostgreSQL (`postgres::<name>`).
///
/// The PostgreSQL runs are `#[ignore]`d with a message saying what they need, so a plain
/// `cargo test` reports them as ignored rather than as passed without running; `scripts/test`
/// starts a server, sets [`POSTGRES_URL_VAR`] and runs them (`--run-ignored all`). Asked to run
/// without a server, they fail.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestDatabase::sqlite().await).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set CLINIC_TEST_POSTGRES_URL and run ignored \
                            tests (scripts/test does both)"]
                async fn $name() {
                    super::$name($crate::TestDatabase::postgres_for_test().await).await;
                }
            )+
        }
    };
}

/// Runs each named `async fn(TestDatabase)` on PostgreSQL only (`postgres::<name>`), for what
/// only PostgreSQL does (several replicas on one database); ignored unless asked for, as the
/// PostgreSQL runs of [`backend_tests!`] are.
#[macro_export]
macro_rules! postgres_tests {
    ($($name:ident),+ $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set CLINIC_TEST_POSTGRES_URL and run ignored \
                            tests (scripts/test does both)"]
                async fn $name() {
                    super::$name($crate::TestDatabase::postgres_for_test().await).await;
                }
            )+
        }
    };
}

/// The signing key every test deployment uses.
pub fn signing_secret() -> SecretString {
    SecretString::from("test-signing-key-that-is-long-enough-for-hs256")
}

pub fn auth_settings() -> AuthSettings {
    AuthSettings {
        signing_key: signing_secret(),
    }
}

/// A valid token for `subject` in `role`, signed with the test key.
pub fn token(role: Role, subject: &str) -> String {
    TokenKey::from_secret(&signing_secret())
        .expect("the test key is long enough")
        .issue(subject, role, Utc::now(), None)
}

/// A clock stopped at `rfc3339`.
pub fn clock_at(rfc3339: &str) -> FixedClock {
    let now: DateTime<Utc> = rfc3339.parse().expect("a valid RFC 3339 instant");
    FixedClock::new(now)
}

/// The `127.0.0.1:0` address services listen on in tests.
pub fn any_local_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A service serving in the background of a test.
pub struct RunningService {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningService {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel to the service; calls made on it carry no token.
    pub async fn channel(&self) -> Channel {
        channel(&self.url()).await
    }

    /// A channel that sends `role`'s token with every call.
    pub async fn channel_as(
        &self,
        role: Role,
        subject: &str,
    ) -> InterceptedService<Channel, BearerToken> {
        let bearer = BearerToken::new(&token(role, subject)).expect("tokens are ASCII");
        InterceptedService::new(self.channel().await, bearer)
    }

    /// Stops the service and waits for it to finish, failing the test if it had failed.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task)
            .await
            .expect("the service task panicked")
            .expect("the service failed");
    }
}

/// Runs a built service in the background: `serve` receives the future that resolves when the
/// test calls [`RunningService::stop`].
pub fn spawn<F>(addr: SocketAddr, serve: impl FnOnce(Shutdown) -> F) -> RunningService
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(Box::pin(async move {
        let _ = stopped.await;
    })));
    RunningService {
        addr,
        shutdown: Some(shutdown),
        task,
    }
}

/// Connects to `url`, retrying briefly while a just-started server comes up.
pub async fn channel(url: &str) -> Channel {
    let endpoint = Channel::from_shared(url.to_owned()).expect("a valid URL");
    let mut last_error = None;
    for _ in 0..50 {
        match endpoint.connect().await {
            Ok(channel) => return channel,
            Err(error) => last_error = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("could not connect to {url}: {last_error:?}");
}

/// A service running outside the test (a container or another host), reached at its URL with
/// tokens signed by the deployment's own key.
pub struct DeployedService {
    url: String,
    key: TokenKey,
}

impl DeployedService {
    /// `signing_key_file` holds the deployment's signing key (`auth.signing_key_file`).
    pub fn new(url: &str, signing_key_file: &Path) -> anyhow::Result<DeployedService> {
        let secret = std::fs::read_to_string(signing_key_file).map_err(|error| {
            anyhow::anyhow!("cannot read {}: {error}", signing_key_file.display())
        })?;
        let key = TokenKey::from_secret(&SecretString::from(secret.trim().to_owned()))?;
        Ok(DeployedService {
            url: url.to_owned(),
            key,
        })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A channel that sends a token for `subject` in `role`, valid for an hour, with every call.
    pub async fn channel_as(
        &self,
        role: Role,
        subject: &str,
    ) -> InterceptedService<Channel, BearerToken> {
        let token = self
            .key
            .issue(subject, role, Utc::now(), Some(chrono::TimeDelta::hours(1)));
        let bearer = BearerToken::new(&token).expect("tokens are ASCII");
        InterceptedService::new(channel(&self.url).await, bearer)
    }
}
