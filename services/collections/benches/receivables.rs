//! Collections at scale, on SQLite and on PostgreSQL:
//!
//! 1. the time to compute aging and the ranked worklist over 100,000 accounts with 1,000,000
//!    ledger events, over gRPC against the real service (the ledger is loaded through the same
//!    code the follower applies billing's feed with);
//! 2. how far behind billing the receivables view runs under a steady stream of payments: real
//!    patients, billing and collections services, payments posted to billing over gRPC, and the
//!    time from billing's acknowledgement until collections has applied each payment.
//!
//! `cargo bench -p clinic-collections --bench receivables`. PostgreSQL runs when
//! `CLINIC_TEST_POSTGRES_URL` names a server (as for the tests). Sizes can be changed with
//! `BENCH_ACCOUNTS`, `BENCH_EVENTS`, `BENCH_PAYMENTS` and `BENCH_PAYMENT_RATE` (per second).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use clinic_collections::load::{FeedEntry, apply_feed};
use clinic_common::auth::{BearerToken, Role, TokenKey};
use clinic_common::clock::{SharedClock, SystemClock};
use clinic_common::ids::PatientId;
use clinic_common::settings::ClinicSettings;
use clinic_common::time::local_date;
use clinic_common::{Currency, Money};
use clinic_proto::billing::v1 as billing;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::common::v1::{Date, PageRequest};
use clinic_proto::money_to_proto;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::{
    RunningService, TestDatabase, any_local_port, auth_settings, channel, signing_secret, spawn,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Authed = InterceptedService<Channel, BearerToken>;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let accounts = env_number("BENCH_ACCOUNTS", 100_000);
    let events = env_number("BENCH_EVENTS", 1_000_000);
    let payments = env_number("BENCH_PAYMENTS", 1_000);
    let rate = env_number("BENCH_PAYMENT_RATE", 100);
    println!(
        "collections benchmark: {accounts} accounts, {events} ledger events; \
         {payments} payments at {rate}/s"
    );
    let mut backends = vec![("sqlite", Some(TestDatabase::sqlite().await))];
    backends.push(("postgres", TestDatabase::postgres().await));
    for (name, database) in backends {
        let Some(database) = database else {
            println!("\n[{name}] skipped: CLINIC_TEST_POSTGRES_URL is not set");
            continue;
        };
        println!("\n[{name}]");
        scale(&database, accounts, events).await?;
        for poll_ms in [1_000, 100] {
            lag(&database, payments, rate, poll_ms).await?;
        }
    }
    Ok(())
}

fn token(role: Role) -> BearerToken {
    let key = TokenKey::from_secret(&signing_secret()).expect("the test key is long enough");
    BearerToken::new(&key.issue(&format!("{role}:bench"), role, Utc::now(), None))
        .expect("tokens are ASCII")
}

async fn authed(url: &str, role: Role) -> Authed {
    InterceptedService::new(channel(url).await, token(role))
}

/// A deterministic pseudo-random stream (xorshift64).
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// A year of a busy clinic: `events` entries spread evenly over the last 365 days, each for a
/// random one of `accounts` patients; 60 % charges of $300–$5,000, 40 % payments of
/// $100–$2,000 (some leave credit, many leave debts of every age).
fn ledger(accounts: u64, events: u64, now: DateTime<Utc>) -> Vec<FeedEntry> {
    let zone = chrono_tz::America::Mexico_City;
    let mut stream = Stream(0x2545_f491_4f6c_dd1d);
    let patients: Vec<PatientId> = (0..accounts).map(|_| PatientId::new()).collect();
    let start = now - TimeDelta::days(365);
    let step = TimeDelta::days(365).num_milliseconds() / i64::try_from(events.max(1)).unwrap_or(1);
    let mut entries = Vec::with_capacity(usize::try_from(events).unwrap_or(0));
    for index in 0..events {
        let sequence = i64::try_from(index).unwrap_or(i64::MAX) + 1;
        let created_at = start + TimeDelta::milliseconds(step * sequence);
        let patient_id = patients[usize::try_from(stream.below(accounts)).unwrap_or(0)];
        let is_payment = stream.below(10) < 4;
        let amount_minor = if is_payment {
            -(i64::try_from(stream.below(1_900)).unwrap_or(0) + 100) * 100
        } else {
            (i64::try_from(stream.below(4_700)).unwrap_or(0) + 300) * 100
        };
        entries.push(FeedEntry {
            sequence,
            patient_id,
            is_payment,
            amount_minor,
            source_id: format!("source-{sequence}"),
            service_date: local_date(created_at, zone),
            created_at,
        });
    }
    entries
}

fn collections_settings(
    database: &TestDatabase,
    billing_url: String,
    patients_url: String,
    poll_ms: u64,
) -> clinic_collections::Settings {
    clinic_collections::Settings {
        listen: any_local_port(),
        database_url: database.url().to_owned(),
        billing_url,
        patients_url,
        ledger_poll_interval_ms: poll_ms,
        payment_terms_days: 0,
        contact_rules: Default::default(),
        escalation: Default::default(),
        clinic: ClinicSettings::default(),
        auth: auth_settings(),
    }
}

async fn start_collections(
    settings: clinic_collections::Settings,
) -> anyhow::Result<RunningService> {
    let clock: SharedClock = Arc::new(SystemClock);
    let app = clinic_collections::App::build(settings, clock).await?;
    Ok(spawn(app.local_addr(), |shutdown| {
        app.run_until_stopped(shutdown)
    }))
}

/// Times `f` `runs` times; returns the fastest and the median.
async fn timed<F, Fut, T>(runs: usize, mut f: F) -> anyhow::Result<(Duration, Duration, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f().await?);
        times.push(started.elapsed());
    }
    times.sort();
    let last = last.ok_or_else(|| anyhow::anyhow!("no run"))?;
    Ok((times[0], times[times.len() / 2], last))
}

async fn scale(database: &TestDatabase, accounts: u64, events: u64) -> anyhow::Result<()> {
    let now = Utc::now();
    let entries = ledger(accounts, events, now);
    let started = Instant::now();
    apply_feed(database.url(), Currency::MXN, &entries, 500, now).await?;
    println!(
        "  load {} ledger entries through the follower's path (pages of 500): {:.1} s",
        entries.len(),
        started.elapsed().as_secs_f64()
    );
    drop(entries);
    if database.url().starts_with("postgres") {
        // Fresh tables: let the planner see them before measuring.
        let db = clinic_common::db::Database::connect(database.url()).await?;
        clinic_common::with_db!(&db, |pool| sqlx::query("ANALYZE")
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        db.close().await;
    }

    // Billing and the registry are not needed to read what is loaded; the follower's calls to
    // them fail quietly and are retried in the background.
    let nowhere = "http://127.0.0.1:9".to_owned();
    let service = start_collections(collections_settings(
        database,
        nowhere.clone(),
        nowhere,
        60_000,
    ))
    .await?;
    let mut client = CollectionsServiceClient::new(authed(&service.url(), Role::Manager).await)
        .max_decoding_message_size(64 * 1024 * 1024);
    let page = Some(PageRequest {
        page_size: 50,
        page_token: String::new(),
    });
    let (fastest, median, aging) = timed(3, || {
        let mut client = client.clone();
        let page = page.clone();
        async move {
            Ok(client
                .get_aging(pb::GetAgingRequest {
                    as_of: None,
                    patient_id: String::new(),
                    page,
                })
                .await?
                .into_inner())
        }
    })
    .await?;
    let total = aging
        .total
        .and_then(|total| total.total)
        .map_or(0, |money| money.minor_units);
    println!(
        "  GetAging (totals over every account + the first page of 50): median {:.0} ms, \
         fastest {:.0} ms; {} of open debt",
        median.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        Money::from_minor(total, Currency::MXN)
    );
    let (fastest, median, worklist) = timed(3, || {
        let mut client = client.clone();
        let page = page.clone();
        async move {
            Ok(client
                .list_worklist(pb::ListWorklistRequest {
                    as_of: None,
                    collector: String::new(),
                    page,
                })
                .await?
                .into_inner())
        }
    })
    .await?;
    println!(
        "  ListWorklist (every open account ranked, first page of 50): median {:.0} ms, \
         fastest {:.0} ms; top score {}",
        median.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        worklist.items.first().map_or(0, |item| item.score)
    );
    let open = client
        .list_receivables(pb::ListReceivablesRequest { page: None })
        .await?
        .into_inner();
    println!(
        "  (open accounts' total {}, as of ledger sequence {})",
        Money::from_minor(
            open.total_open.map_or(0, |money| money.minor_units),
            Currency::MXN
        ),
        open.as_of_sequence
    );
    service.stop().await;
    Ok(())
}

/// Patients, billing and collections on fresh databases of `base`'s backend; payments posted to
/// billing at `rate` per second; the lag from billing's acknowledgement to collections applying
/// each one.
async fn lag(base: &TestDatabase, payments: u64, rate: u64, poll_ms: u64) -> anyhow::Result<()> {
    let clock: SharedClock = Arc::new(SystemClock);
    let patients_db = base.sibling().await;
    let billing_db = base.sibling().await;
    let collections_db = base.sibling().await;
    let registry = clinic_patients::App::build(
        clinic_patients::Settings {
            listen: any_local_port(),
            database_url: patients_db.url().to_owned(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
        },
        clock.clone(),
    )
    .await?;
    let registry = spawn(registry.local_addr(), |shutdown| {
        registry.run_until_stopped(shutdown)
    });
    let billing_app = clinic_billing::App::build(
        clinic_billing::Settings {
            listen: any_local_port(),
            database_url: billing_db.url().to_owned(),
            patients_url: registry.url(),
            // The benchmark charges no appointments: nothing needs to listen there.
            scheduling_url: "http://127.0.0.1:9".into(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
            drawer_difference_limit_minor:
                clinic_billing::config::DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
            discount_limit_percent: clinic_billing::config::DEFAULT_DISCOUNT_LIMIT_PERCENT,
            cfdi: None,
        },
        clock.clone(),
    )
    .await?;
    let billing_service = spawn(billing_app.local_addr(), |shutdown| {
        billing_app.run_until_stopped(shutdown)
    });
    let collections = start_collections(collections_settings(
        &collections_db,
        billing_service.url(),
        registry.url(),
        poll_ms,
    ))
    .await?;

    let mut reception = PatientServiceClient::new(authed(&registry.url(), Role::Reception).await);
    let patient_id = reception
        .create_patient(patients::CreatePatientRequest {
            patient: Some(patients::Patient {
                given_name: "Carga".into(),
                family_name: "Continua".into(),
                date_of_birth: Some(Date {
                    year: 1980,
                    month: 1,
                    day: 1,
                }),
                phone: "+525500000001".into(),
                ..Default::default()
            }),
            request_id: "bench-patient".into(),
        })
        .await?
        .into_inner()
        .patient_id;
    let mut billing =
        BillingServiceClient::new(authed(&billing_service.url(), Role::Manager).await);
    let head = billing
        .list_ledger_entries(billing::ListLedgerEntriesRequest {
            after_sequence: 0,
            page_size: 1,
        })
        .await?
        .into_inner()
        .head_sequence;
    let mut status_client =
        CollectionsServiceClient::new(authed(&collections.url(), Role::Manager).await);

    // Samples collections' cursor every 5 ms, noting when each sequence was first applied.
    let total = usize::try_from(payments).unwrap_or(0);
    let sampler_started = Instant::now();
    let sampler = tokio::spawn(async move {
        let mut applied_at: Vec<Option<Duration>> = vec![None; total];
        loop {
            let status = status_client
                .get_ledger_sync_status(pb::GetLedgerSyncStatusRequest {})
                .await
                .map(tonic::Response::into_inner);
            if let Ok(status) = status {
                let applied = usize::try_from(status.applied_sequence - head).unwrap_or(0);
                let now = sampler_started.elapsed();
                for slot in applied_at.iter_mut().take(applied.min(total)) {
                    slot.get_or_insert(now);
                }
                if applied >= total {
                    return applied_at;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });

    let mut acked_at = Vec::with_capacity(total);
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let mut reception_billing =
        BillingServiceClient::new(authed(&billing_service.url(), Role::Reception).await);
    let posting = Instant::now();
    for index in 0..total {
        ticker.tick().await;
        reception_billing
            .post_payment(billing::PostPaymentRequest {
                patient_id: patient_id.clone(),
                amount: Some(money_to_proto(Money::from_minor(100, Currency::MXN))),
                method: Some(billing::post_payment_request::Method::Cash(
                    billing::CashPayment {
                        tendered: Some(money_to_proto(Money::from_minor(100, Currency::MXN))),
                    },
                )),
                request_id: format!("bench-pay-{index}"),
                ..Default::default()
            })
            .await?;
        acked_at.push(sampler_started.elapsed());
    }
    let posted_in = posting.elapsed();
    let applied_at = tokio::time::timeout(Duration::from_secs(60), sampler).await??;
    let mut lags: Vec<Duration> = applied_at
        .iter()
        .zip(&acked_at)
        .map(|(applied, acked)| applied.unwrap_or_default().saturating_sub(*acked))
        .collect();
    lags.sort();
    let percentile = |p: usize| lags[(lags.len() * p / 100).min(lags.len() - 1)];
    println!(
        "  lag behind billing, poll interval {poll_ms} ms, {total} payments in {:.1} s \
         ({:.0}/s): p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        posted_in.as_secs_f64(),
        total as f64 / posted_in.as_secs_f64(),
        percentile(50).as_secs_f64() * 1e3,
        percentile(95).as_secs_f64() * 1e3,
        lags.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    collections.stop().await;
    billing_service.stop().await;
    registry.stop().await;
    Ok(())
}
