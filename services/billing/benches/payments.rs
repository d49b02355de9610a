//! Payments per second and their latency through billing's gRPC API, with 1, 8 and 32 clients
//! at once, on SQLite and on PostgreSQL; beside the same SQL work done straight through sqlx on
//! the same database in the same run, with the ratio; then the daily close of a day with 100,000
//! payments; and what observing calls costs (the per-call log line, metrics, request id and
//! span): payments over gRPC with and without, alternating, in the same run.
//!
//! Billing runs in this process on 127.0.0.1:0 beside a real patient registry (which billing asks
//! about every new payment), as in the API tests. PostgreSQL is measured when
//! `CLINIC_TEST_POSTGRES_URL` names a server (`scripts/test` prints one).
//!
//! Run with `cargo bench -p clinic-billing --bench payments`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use clinic_billing::config::{
    DEFAULT_DISCOUNT_LIMIT_PERCENT, DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
};
use clinic_billing::{App, Settings};
use clinic_common::auth::{BearerToken, Role};
use clinic_common::clock::FixedClock;
use clinic_common::db::Database;
use clinic_common::ids::{ChargeId, PatientId, PaymentId};
use clinic_common::settings::ClinicSettings;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::common::v1::{Date, Money};
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::bench::with_and_without_observing;
use clinic_test_support::{RunningService, TestDatabase, any_local_port, auth_settings, spawn};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Client = BillingServiceClient<InterceptedService<Channel, BearerToken>>;

/// Each configuration runs this long.
const RUN_FOR: Duration = Duration::from_secs(3);
const CLIENTS: [usize; 3] = [1, 8, 32];
/// Clients of the runs with and without observing calls, each run [`OBSERVING_ROUNDS`] times.
const OBSERVING_CLIENTS: [usize; 2] = [1, 8];
const OBSERVING_ROUNDS: usize = 4;
const CLOSE_PAYMENTS: i64 = 100_000;
/// Noon, 2026-11-22, in the clinic's zone.
const NOW: &str = "2026-11-22T18:00:00Z";

fn mxn(minor_units: i64) -> Money {
    Money {
        minor_units,
        currency_code: "MXN".into(),
    }
}

struct Figures {
    payments: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.payments as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, percent: usize) -> Duration {
        self.latencies.sort();
        let index = (self.latencies.len() * percent / 100).min(self.latencies.len() - 1);
        self.latencies[index]
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    clinic_test_support::bench::log_like_a_service()?;
    runtime.block_on(async {
        println!(
            "backend   clients  grpc pay/s  p50 ms  p99 ms | sqlx pay/s  p50 ms  p99 ms | grpc/sqlx"
        );
        measure_backend("sqlite", TestDatabase::sqlite().await).await?;
        match TestDatabase::postgres().await {
            Some(database) => measure_backend("postgres", database).await?,
            None => println!("postgres: skipped, CLINIC_TEST_POSTGRES_URL is not set"),
        }
        anyhow::Ok(())
    })
}

struct Clinic {
    billing: RunningService,
    registry: RunningService,
    _registry_database: TestDatabase,
}

async fn start(database: &TestDatabase) -> anyhow::Result<Clinic> {
    let clock: Arc<FixedClock> = Arc::new(clinic_test_support::clock_at(NOW));
    let registry_database = database.sibling().await;
    let app = clinic_patients::App::build(
        clinic_patients::Settings {
            listen: any_local_port(),
            database_url: registry_database.url().to_owned(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
        },
        clock.clone(),
    )
    .await?;
    let registry = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));
    let app = App::build(
        Settings {
            listen: any_local_port(),
            database_url: database.url().to_owned(),
            patients_url: registry.url(),
            scheduling_url: "http://127.0.0.1:9".into(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
            drawer_difference_limit_minor: DEFAULT_DRAWER_DIFFERENCE_LIMIT_MINOR,
            discount_limit_percent: DEFAULT_DISCOUNT_LIMIT_PERCENT,
            cfdi: None,
        },
        clock,
    )
    .await?;
    let billing = spawn(app.local_addr(), |stop| app.run_until_stopped(stop));
    Ok(Clinic {
        billing,
        registry,
        _registry_database: registry_database,
    })
}

async fn client(service: &RunningService) -> Client {
    BillingServiceClient::new(service.channel_as(Role::Reception, "reception:bench").await)
}

async fn measure_backend(backend: &str, database: TestDatabase) -> anyhow::Result<()> {
    let clinic = start(&database).await?;
    let mut manager = BillingServiceClient::new(
        clinic
            .billing
            .channel_as(Role::Manager, "manager:bench")
            .await,
    );
    manager
        .create_price_list_item(pb::CreatePriceListItemRequest {
            item: Some(pb::PriceListItem {
                code: "ORTO".into(),
                description: "Ortodoncia completa".into(),
                unit_price: Some(mxn(100_000_000)),
                kind: pb::PriceListItemKind::Therapy.into(),
                ..Default::default()
            }),
            request_id: "bench-item".into(),
        })
        .await?;
    // One patient per client, each owing a large treatment their payments go to.
    let mut registry = PatientServiceClient::new(
        clinic
            .registry
            .channel_as(Role::Reception, "reception:bench")
            .await,
    );
    let mut patient_ids = Vec::new();
    for index in 0..32 {
        let patient_id = registry
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    given_name: format!("Paciente {index}"),
                    family_name: "Prueba".into(),
                    date_of_birth: Some(Date {
                        year: 1990,
                        month: 1,
                        day: 1,
                    }),
                    phone: "+525511112222".into(),
                    ..Default::default()
                }),
                request_id: format!("bench-patient-{index}"),
            })
            .await?
            .into_inner()
            .patient_id;
        manager
            .post_charge(pb::PostChargeRequest {
                patient_id: patient_id.clone(),
                price_code: "ORTO".into(),
                quantity: 1,
                request_id: format!("bench-charge-{index}"),
                ..Default::default()
            })
            .await?;
        patient_ids.push(patient_id);
    }
    let sql = Database::connect(database.url()).await?;
    for clients in CLIENTS {
        let mut grpc = grpc_run(&clinic, &patient_ids[..clients]).await?;
        let mut direct = sql_run(&sql, &patient_ids[..clients]).await?;
        println!(
            "{backend:<9} {clients:>7}  {:>10.0}  {:>6.2}  {:>6.2} | {:>10.0}  {:>6.2}  {:>6.2} | {:>8.2}",
            grpc.per_second(),
            millis(grpc.percentile(50)),
            millis(grpc.percentile(99)),
            direct.per_second(),
            millis(direct.percentile(50)),
            millis(direct.percentile(99)),
            grpc.per_second() / direct.per_second(),
        );
    }
    observing_cost(backend, &clinic, &patient_ids).await?;
    daily_close(backend, &clinic, &sql).await?;
    sql.close().await;
    Ok(())
}

/// Payments over gRPC with calls observed (log line, metrics, request id, span) and without.
async fn observing_cost(
    backend: &str,
    clinic: &Clinic,
    patient_ids: &[String],
) -> anyhow::Result<()> {
    for clients in OBSERVING_CLIENTS {
        let (observed, unobserved) = with_and_without_observing(OBSERVING_ROUNDS, || async move {
            Ok(grpc_run(clinic, &patient_ids[..clients])
                .await?
                .per_second())
        })
        .await?;
        println!(
            "{backend:<9} {clients:>7}  observed {observed:>6.0} pay/s, not observed \
             {unobserved:>6.0} pay/s: ratio {:.3}",
            observed / unobserved
        );
    }
    Ok(())
}

/// `clients` clients posting card payments through gRPC for [`RUN_FOR`].
async fn grpc_run(clinic: &Clinic, patient_ids: &[String]) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for patient_id in patient_ids {
        let mut client = client(&clinic.billing).await;
        let patient_id = patient_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < RUN_FOR {
                let request = pb::PostPaymentRequest {
                    patient_id: patient_id.clone(),
                    amount: Some(mxn(10_000)),
                    method: Some(pb::post_payment_request::Method::Card(pb::CardPayment {
                        authorization_code: "A1B2C3".into(),
                        last_four: "4242".into(),
                        card_type: pb::CardType::Debit.into(),
                    })),
                    request_id: PaymentId::new().to_string(),
                    ..Default::default()
                };
                let call = Instant::now();
                client.post_payment(request).await?;
                latencies.push(call.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Figures {
        payments: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    })
}

/// The same clients doing the SQL of a card payment that pays one open charge, straight
/// through sqlx, for [`RUN_FOR`]: key, ledger head, closed days, the charge's standing, ledger
/// entry, receipt number, balance, advance, payment, part and allocation, in one transaction.
async fn sql_run(sql: &Database, patient_ids: &[String]) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for patient_id in patient_ids {
        let sql = sql.clone();
        let patient_id = patient_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < RUN_FOR {
                let call = Instant::now();
                pay_directly(&sql, &patient_id).await?;
                latencies.push(call.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Figures {
        payments: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    })
}

async fn pay_directly(sql: &Database, patient_id: &str) -> anyhow::Result<()> {
    let payment_id = PaymentId::new().to_string();
    let now = Utc::now();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
    let result: anyhow::Result<()> = clinic_common::in_transaction!(sql, |tx| {
        async {
            let earlier: Option<(String, String)> = sqlx::query_as(
                "SELECT fingerprint, resource_id FROM idempotency_keys \
                 WHERE operation = $1 AND request_id = $2",
            )
            .bind("post_payment")
            .bind(&payment_id)
            .fetch_optional(&mut *tx)
            .await?;
            assert!(earlier.is_none());
            sqlx::query(
                "INSERT INTO idempotency_keys (operation, request_id, fingerprint, resource_id, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind("post_payment")
            .bind(&payment_id)
            .bind("fingerprint")
            .bind(&payment_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE ledger_head SET last_sequence = last_sequence WHERE head_id = 1")
                .execute(&mut *tx)
                .await?;
            let _closed: Option<NaiveDate> = sqlx::query_scalar("SELECT MAX(day) FROM closed_days")
                .fetch_one(&mut *tx)
                .await?;
            let charges: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT c.charge_id, \
                 CAST(c.net_minor + COALESCE((SELECT SUM(l.amount_minor) FROM ledger_entries l \
                 WHERE l.related_id = c.charge_id \
                 AND l.kind IN ('adjustment', 'credit_note', 'write_off')), 0) AS BIGINT), \
                 CAST(COALESCE((SELECT SUM(a.amount_minor) FROM allocations a \
                 WHERE a.charge_id = c.charge_id), 0) AS BIGINT) \
                 FROM charges c WHERE c.patient_id = $1 ORDER BY c.service_date, c.ledger_sequence",
            )
            .bind(patient_id)
            .fetch_all(&mut *tx)
            .await?;
            let sequence: i64 = sqlx::query_scalar(
                "UPDATE ledger_head SET last_sequence = last_sequence + 1 WHERE head_id = 1 \
                 RETURNING last_sequence",
            )
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO ledger_entries (sequence, patient_id, kind, amount_minor, currency, \
                 source_id, service_date, created_at, related_id) \
                 VALUES ($1, $2, 'payment', -10000, 'MXN', $3, $4, $5, NULL)",
            )
            .bind(sequence)
            .bind(patient_id)
            .bind(&payment_id)
            .bind(today)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let receipt: i64 = sqlx::query_scalar(
                "UPDATE receipt_counter SET last_number = last_number + 1 WHERE counter_id = 1 \
                 RETURNING last_number",
            )
            .fetch_one(&mut *tx)
            .await?;
            let balance: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries \
                 WHERE patient_id = $1",
            )
            .bind(patient_id)
            .fetch_one(&mut *tx)
            .await?;
            let advance: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE((SELECT -SUM(amount_minor) FROM ledger_entries \
                 WHERE patient_id = $1 AND kind IN ('payment', 'refund') AND source_id <> $2), 0) \
                 - COALESCE((SELECT SUM(amount_minor) FROM allocations WHERE patient_id = $1), 0) \
                 AS BIGINT)",
            )
            .bind(patient_id)
            .bind(&payment_id)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO payments (payment_id, patient_id, amount_minor, received_minor, \
                 currency, receipt_number, balance_after_minor, advance_after_minor, service_date, \
                 received_by, request_id, ledger_sequence, created_at) \
                 VALUES ($1, $2, 10000, 10000, 'MXN', $3, $4, $5, $6, 'reception:bench', $1, \
                 $7, $8)",
            )
            .bind(&payment_id)
            .bind(patient_id)
            .bind(receipt)
            .bind(balance)
            .bind(advance)
            .bind(today)
            .bind(sequence)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO payment_parts (payment_id, position, method, amount_minor, \
                 currency, authorization_code, card_last_four, card_type) \
                 VALUES ($1, 1, 'card', 10000, 'MXN', 'A1B2C3', '4242', 'debit')",
            )
            .bind(&payment_id)
            .execute(&mut *tx)
            .await?;
            let (charge_id, _, _) = charges.first().expect("the patient's treatment");
            sqlx::query(
                "INSERT INTO allocations (patient_id, charge_id, payment_id, amount_minor, \
                 currency, cause, cause_id, created_at) \
                 VALUES ($1, $2, $3, 10000, 'MXN', 'payment', $3, $4)",
            )
            .bind(patient_id)
            .bind(charge_id)
            .bind(&payment_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            anyhow::Ok(())
        }
        .await
    });
    result
}

/// Adds payments up to [`CLOSE_PAYMENTS`] on the day (straight through SQL, in batches, with
/// their ledger entries, parts and a charge each pays), then times the daily close over gRPC.
async fn daily_close(backend: &str, clinic: &Clinic, sql: &Database) -> anyhow::Result<()> {
    let existing: i64 = clinic_common::with_db!(sql, |pool| {
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM payments")
            .fetch_one(pool)
            .await
    })?;
    let seeding = Instant::now();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
    let now = Utc::now();
    let mut left = CLOSE_PAYMENTS - existing;
    while left > 0 {
        let batch = left.min(1_000);
        let result: anyhow::Result<()> = clinic_common::in_transaction!(sql, |tx| {
            async {
                for _ in 0..batch {
                    let patient_id = PatientId::new().to_string();
                    let charge_id = ChargeId::new().to_string();
                    let payment_id = PaymentId::new().to_string();
                    let sequence: i64 = sqlx::query_scalar(
                        "UPDATE ledger_head SET last_sequence = last_sequence + 2 \
                         WHERE head_id = 1 RETURNING last_sequence",
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let receipt: i64 = sqlx::query_scalar(
                        "UPDATE receipt_counter SET last_number = last_number + 1 \
                         WHERE counter_id = 1 RETURNING last_number",
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO ledger_entries (sequence, patient_id, kind, amount_minor, \
                         currency, source_id, service_date, created_at) VALUES \
                         ($1, $3, 'charge', 50000, 'MXN', $4, $6, $7), \
                         ($2, $3, 'payment', -50000, 'MXN', $5, $6, $7)",
                    )
                    .bind(sequence - 1)
                    .bind(sequence)
                    .bind(&patient_id)
                    .bind(&charge_id)
                    .bind(&payment_id)
                    .bind(today)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO charges (charge_id, patient_id, price_code, description, \
                         quantity, unit_price_minor, amount_minor, currency, service_date, \
                         posted_by, request_id, ledger_sequence, created_at, net_minor) \
                         VALUES ($1, $2, 'ORTO', 'Ortodoncia completa', 1, 50000, 50000, 'MXN', \
                         $3, 'reception:bench', $1, $4, $5, 50000)",
                    )
                    .bind(&charge_id)
                    .bind(&patient_id)
                    .bind(today)
                    .bind(sequence - 1)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO payments (payment_id, patient_id, amount_minor, \
                         received_minor, currency, receipt_number, balance_after_minor, \
                         advance_after_minor, service_date, received_by, request_id, \
                         ledger_sequence, created_at) VALUES ($1, $2, 50000, 50000, 'MXN', $3, \
                         0, 0, $4, 'reception:bench', $1, $5, $6)",
                    )
                    .bind(&payment_id)
                    .bind(&patient_id)
                    .bind(receipt)
                    .bind(today)
                    .bind(sequence)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO payment_parts (payment_id, position, method, amount_minor, \
                         currency, tendered_minor, change_minor) \
                         VALUES ($1, 1, 'cash', 50000, 'MXN', 50000, 0)",
                    )
                    .bind(&payment_id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO allocations (patient_id, charge_id, payment_id, \
                         amount_minor, currency, cause, cause_id, created_at) \
                         VALUES ($1, $2, $3, 50000, 'MXN', 'payment', $3, $4)",
                    )
                    .bind(&patient_id)
                    .bind(&charge_id)
                    .bind(&payment_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                anyhow::Ok(())
            }
            .await
        });
        result?;
        left -= batch;
    }
    if let Database::Postgres(pool) = sql {
        // Fresh tables: let the planner see them as they are (see STACK.md).
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    let seeded = seeding.elapsed();
    let mut manager = BillingServiceClient::new(
        clinic
            .billing
            .channel_as(Role::Manager, "manager:bench")
            .await,
    );
    let mut timings = Vec::new();
    let mut close = None;
    for _ in 0..3 {
        let started = Instant::now();
        close = Some(
            manager
                .get_daily_close(pb::GetDailyCloseRequest { day: None })
                .await?
                .into_inner(),
        );
        timings.push(started.elapsed());
    }
    let started = Instant::now();
    let xlsx = manager
        .export_daily_close(pb::ExportDailyCloseRequest {
            day: None,
            format: pb::ReportFormat::Xlsx.into(),
            language: String::new(),
        })
        .await?
        .into_inner();
    let export = started.elapsed();
    let close = close.expect("measured");
    timings.sort();
    println!(
        "{backend}: daily close over {} payments: {:.0} ms (best of 3; {:.0} ms worst), \
         XLSX export {:.0} ms ({} KiB); seeding by SQL took {:.1} s",
        close.payment_count,
        millis(timings[0]),
        millis(timings[2]),
        millis(export),
        xlsx.content.len() / 1024,
        seeded.as_secs_f64()
    );
    Ok(())
}
