//! Bookings and check-ins per second and their latency through scheduling's gRPC API, with 1, 8
//! and 32 clients at once, on SQLite and on PostgreSQL; beside the same store calls made
//! straight on the same database in the same run (`clinic_scheduling::direct`, no gRPC), with
//! the ratio; and the delay from a check-in to its event at a `WatchQueue` watcher: one on the
//! same service, and on PostgreSQL one on a second replica of the service sharing the database
//! (the event crosses by `LISTEN/NOTIFY`); and what observing calls costs (the per-call log
//! line, metrics, request id and span): bookings over gRPC with and without, alternating, in
//! the same run.
//!
//! Scheduling runs in this process on 127.0.0.1:0 beside a real patient registry (which it asks
//! for the patient's initials at every booking), each on a fresh database: a new SQLite file, and
//! a new PostgreSQL database created and dropped on the server `CLINIC_TEST_POSTGRES_URL` names
//! (skipped when it is not set).
//!
//! Run with `cargo bench -p clinic-scheduling --bench scheduling`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use clinic_common::auth::{BearerToken, Role};
use clinic_common::clock::FixedClock;
use clinic_common::db::Database;
use clinic_common::settings::ClinicSettings;
use clinic_proto::common::v1::Date;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_scheduling::direct::DirectStore;
use clinic_scheduling::{App, Settings};
use clinic_test_support::bench::with_and_without_observing;
use clinic_test_support::{RunningService, TestDatabase, any_local_port, auth_settings, spawn};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Client = SchedulingServiceClient<InterceptedService<Channel, BearerToken>>;

/// Each booking configuration runs this long.
const RUN_FOR: Duration = Duration::from_secs(3);
const CLIENTS: [usize; 3] = [1, 8, 32];
/// Clients of the runs with and without observing calls, each run [`OBSERVING_ROUNDS`] times.
const OBSERVING_CLIENTS: [usize; 2] = [1, 8];
const OBSERVING_ROUNDS: usize = 4;
/// Check-ins per configuration, shared among the clients (each needs an appointment today).
const CHECK_INS: usize = 640;
/// Check-ins whose event is awaited at a watcher.
const WATCHED: usize = 100;
/// 08:00 on Sunday 22 November 2026 in Mexico City, the clinic's zone.
const NOW: &str = "2026-11-22T14:00:00Z";
const ZONE: Tz = chrono_tz::America::Mexico_City;

struct Figures {
    operations: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn new(started: Instant, latencies: Vec<Duration>) -> Self {
        Figures {
            operations: latencies.len(),
            elapsed: started.elapsed(),
            latencies,
        }
    }

    fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64()
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

fn now() -> DateTime<Utc> {
    NOW.parse().expect("a valid instant")
}

/// Minute `minute` after local midnight of November `day`, 2026.
fn local_minute(day: u32, minute: i64) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(2026, 11, day).expect("a November day");
    let midnight = ZONE
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("an unambiguous midnight");
    midnight.with_timezone(&Utc) + TimeDelta::minutes(minute)
}

fn timestamp(instant: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.timestamp(),
        nanos: 0,
    }
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    clinic_test_support::bench::log_like_a_service()?;
    runtime.block_on(async {
        println!(
            "backend   operation  clients  grpc ops/s  p50 ms  p99 ms | sqlx ops/s  p50 ms  \
             p99 ms | grpc/sqlx"
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
    scheduling: RunningService,
    /// The service's clock: each check-in run happens on a day of its own, so that every run
    /// starts with an empty queue.
    clock: Arc<FixedClock>,
    registry: RunningService,
    _registry_database: TestDatabase,
    patient_ids: Vec<String>,
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
    let mut patient_client = PatientServiceClient::new(
        registry
            .channel_as(Role::Reception, "reception:bench")
            .await,
    );
    let mut patient_ids = Vec::new();
    for index in 0..32 {
        patient_ids.push(
            patient_client
                .create_patient(patients::CreatePatientRequest {
                    patient: Some(patients::Patient {
                        given_name: format!("Paciente {index}"),
                        family_name: "Prueba".into(),
                        date_of_birth: Some(Date {
                            year: 1990,
                            month: 1,
                            day: 1,
                        }),
                        phone: format!("+52 55 3000 {index:04}"),
                        ..Default::default()
                    }),
                    request_id: format!("bench-patient-{index}"),
                })
                .await?
                .into_inner()
                .patient_id,
        );
    }
    let scheduling = serve_scheduling(database.url(), &registry.url(), &clock).await?;
    Ok(Clinic {
        scheduling,
        clock,
        registry,
        _registry_database: registry_database,
        patient_ids,
    })
}

/// A scheduling service on `database_url`, serving in this process.
async fn serve_scheduling(
    database_url: &str,
    patients_url: &str,
    clock: &Arc<FixedClock>,
) -> anyhow::Result<RunningService> {
    let app = App::build(
        Settings {
            listen: any_local_port(),
            database_url: database_url.to_owned(),
            patients_url: patients_url.to_owned(),
            clinic: ClinicSettings::default(),
            auth: auth_settings(),
            queue_alert_after_minutes: 10,
            triage: Default::default(),
            kiosk: Default::default(),
            front_desk: Default::default(),
        },
        clock.clone(),
    )
    .await?;
    Ok(spawn(app.local_addr(), |stop| app.run_until_stopped(stop)))
}

async fn client(clinic: &Clinic) -> Client {
    client_of(&clinic.scheduling).await
}

async fn client_of(service: &RunningService) -> Client {
    SchedulingServiceClient::new(service.channel_as(Role::Reception, "reception:bench").await)
}

/// `count` new providers, one per client of a run, so that no run's bookings meet another's.
async fn providers(clinic: &Clinic, count: usize, run: &str) -> anyhow::Result<Vec<String>> {
    let mut manager = SchedulingServiceClient::new(
        clinic
            .scheduling
            .channel_as(Role::Manager, "manager:bench")
            .await,
    );
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        ids.push(
            manager
                .create_provider(pb::CreateProviderRequest {
                    provider: Some(pb::Provider {
                        display_name: format!("Dr. {run} {index}"),
                        kind: pb::ProviderKind::Dentist.into(),
                        ..Default::default()
                    }),
                    request_id: format!("bench-provider-{run}-{index}"),
                })
                .await?
                .into_inner()
                .provider_id,
        );
    }
    Ok(ids)
}

async fn measure_backend(backend: &str, database: TestDatabase) -> anyhow::Result<()> {
    let clinic = start(&database).await?;
    let sql = Database::connect(database.url()).await?;
    let direct = DirectStore::new(sql.clone());
    // First, while today's queue is short: how soon a watcher hears of a check-in.
    watch_delays(backend, &clinic, &database, &direct).await?;
    for clients in CLIENTS {
        let grpc_providers = providers(&clinic, clients, &format!("grpc-{clients}")).await?;
        let sql_providers = providers(&clinic, clients, &format!("sqlx-{clients}")).await?;
        let patient_ids = &clinic.patient_ids[..clients];
        let mut grpc = grpc_bookings(&clinic, patient_ids, &grpc_providers).await?;
        let mut sqlx = direct_bookings(&direct, patient_ids, &sql_providers).await?;
        report(backend, "booking", clients, &mut grpc, &mut sqlx);
    }
    // Check-ins from the 23rd on, a day per run.
    let mut day = 22;
    for clients in CLIENTS {
        let patient_ids = &clinic.patient_ids[..clients];
        day += 1;
        let grpc_providers = providers(&clinic, clients, &format!("grpc-in-{clients}")).await?;
        let grpc_today = todays_appointments(&direct, patient_ids, &grpc_providers, day).await?;
        clinic.clock.set(local_minute(day, 8 * 60));
        let mut grpc = grpc_check_ins(&clinic, grpc_today).await?;
        day += 1;
        let sql_providers = providers(&clinic, clients, &format!("sqlx-in-{clients}")).await?;
        let sql_today = todays_appointments(&direct, patient_ids, &sql_providers, day).await?;
        let mut sqlx = direct_check_ins(&direct, sql_today, local_minute(day, 8 * 60)).await?;
        report(backend, "check-in", clients, &mut grpc, &mut sqlx);
    }
    observing_cost(backend, &clinic).await?;
    sql.close().await;
    Ok(())
}

/// Bookings over gRPC with calls observed (log line, metrics, request id, span) and without,
/// each run with providers of its own.
async fn observing_cost(backend: &str, clinic: &Clinic) -> anyhow::Result<()> {
    let mut run = 0;
    for clients in OBSERVING_CLIENTS {
        let patient_ids = &clinic.patient_ids[..clients];
        let (observed, unobserved) = with_and_without_observing(OBSERVING_ROUNDS, || {
            run += 1;
            let name = format!("observing-{run}");
            async move {
                let provider_ids = providers(clinic, clients, &name).await?;
                Ok(grpc_bookings(clinic, patient_ids, &provider_ids)
                    .await?
                    .per_second())
            }
        })
        .await?;
        println!(
            "{backend:<9} booking    {clients:>7}  observed {observed:>6.0} ops/s, not observed \
             {unobserved:>6.0} ops/s: ratio {:.3}",
            observed / unobserved
        );
    }
    Ok(())
}

fn report(backend: &str, operation: &str, clients: usize, grpc: &mut Figures, sqlx: &mut Figures) {
    println!(
        "{backend:<9} {operation:<9}  {clients:>7}  {:>10.0}  {:>6.2}  {:>6.2} | {:>10.0}  \
         {:>6.2}  {:>6.2} | {:>9.2}",
        grpc.per_second(),
        millis(grpc.percentile(50)),
        millis(grpc.percentile(99)),
        sqlx.per_second(),
        millis(sqlx.percentile(50)),
        millis(sqlx.percentile(99)),
        grpc.per_second() / sqlx.per_second(),
    );
}

/// The start of client booking number `n`: back to back 15-minute visits from 1 December on.
fn booking_start(n: i64) -> DateTime<Utc> {
    local_minute(30, 24 * 60) + TimeDelta::minutes(15 * n)
}

/// One client per provider, each booking its provider's next free quarter hour through gRPC for
/// [`RUN_FOR`]: bookings that never conflict.
async fn grpc_bookings(
    clinic: &Clinic,
    patient_ids: &[String],
    provider_ids: &[String],
) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (patient_id, provider_id) in patient_ids.iter().zip(provider_ids) {
        let mut client = client(clinic).await;
        let (patient_id, provider_id) = (patient_id.clone(), provider_id.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            while started.elapsed() < RUN_FOR {
                let start = booking_start(n);
                let request = pb::CreateAppointmentRequest {
                    appointment: Some(pb::Appointment {
                        patient_id: patient_id.clone(),
                        provider_id: provider_id.clone(),
                        start_time: Some(timestamp(start)),
                        end_time: Some(timestamp(start + TimeDelta::minutes(15))),
                        ..Default::default()
                    }),
                    request_id: uuid::Uuid::now_v7().to_string(),
                };
                let call = Instant::now();
                client.create_appointment(request).await?;
                latencies.push(call.elapsed());
                n += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Figures::new(started, latencies))
}

/// The same bookings through the store directly.
async fn direct_bookings(
    direct: &DirectStore,
    patient_ids: &[String],
    provider_ids: &[String],
) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (patient_id, provider_id) in patient_ids.iter().zip(provider_ids) {
        let direct = direct.clone();
        let (patient_id, provider_id) = (patient_id.clone(), provider_id.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            while started.elapsed() < RUN_FOR {
                let start = booking_start(n);
                let call = Instant::now();
                direct
                    .book(
                        (&patient_id, &provider_id),
                        (start, start + TimeDelta::minutes(15)),
                        &uuid::Uuid::now_v7().to_string(),
                        (now(), ZONE),
                    )
                    .await?;
                latencies.push(call.elapsed());
                n += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Figures::new(started, latencies))
}

/// [`CHECK_INS`] one-minute appointments on November `day`, shared among the clients, each
/// client's with its own provider; returns each client's appointment ids.
async fn todays_appointments(
    direct: &DirectStore,
    patient_ids: &[String],
    provider_ids: &[String],
    day: u32,
) -> anyhow::Result<Vec<Vec<String>>> {
    let per_client = CHECK_INS / patient_ids.len();
    let mut appointments = Vec::with_capacity(patient_ids.len());
    for (patient_id, provider_id) in patient_ids.iter().zip(provider_ids) {
        let mut ids = Vec::with_capacity(per_client);
        for minute in 0..per_client {
            let start = local_minute(day, i64::try_from(minute)?);
            ids.push(
                direct
                    .book(
                        (patient_id, provider_id),
                        (start, start + TimeDelta::minutes(1)),
                        &uuid::Uuid::now_v7().to_string(),
                        (now(), ZONE),
                    )
                    .await?,
            );
        }
        appointments.push(ids);
    }
    Ok(appointments)
}

async fn grpc_check_ins(
    clinic: &Clinic,
    appointments: Vec<Vec<String>>,
) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for ids in appointments {
        let mut client = client(clinic).await;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(ids.len());
            for appointment_id in ids {
                let call = Instant::now();
                client
                    .check_in_appointment(check_in(&appointment_id))
                    .await?;
                latencies.push(call.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Figures::new(started, latencies))
}

async fn direct_check_ins(
    direct: &DirectStore,
    appointments: Vec<Vec<String>>,
    at: DateTime<Utc>,
) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for ids in appointments {
        let direct = direct.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(ids.len());
            for appointment_id in ids {
                let call = Instant::now();
                direct.check_in(&appointment_id, (at, ZONE)).await?;
                latencies.push(call.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Figures::new(started, latencies))
}

fn check_in(appointment_id: &str) -> pb::CheckInAppointmentRequest {
    pb::CheckInAppointmentRequest {
        appointment_id: appointment_id.into(),
        identity: None,
        confirmation_code: String::new(),
    }
}

/// How soon a watcher hears of a check-in: on the service that made it, and on PostgreSQL on
/// another replica of the service.
async fn watch_delays(
    backend: &str,
    clinic: &Clinic,
    database: &TestDatabase,
    direct: &DirectStore,
) -> anyhow::Result<()> {
    let provider_ids = providers(clinic, 1, "watched").await?;
    let patient_ids = &clinic.patient_ids[..1];
    let mut appointments = todays_appointments(direct, patient_ids, &provider_ids, 22)
        .await?
        .swap_remove(0)
        .into_iter();
    let mut figures = watch_delay(clinic, &clinic.scheduling, appointments.by_ref()).await?;
    report_watch(backend, "WatchQueue event", &mut figures);
    if backend == "postgres" {
        let replica =
            serve_scheduling(database.url(), &clinic.registry.url(), &clinic.clock).await?;
        let mut figures = watch_delay(clinic, &replica, appointments).await?;
        report_watch(backend, "WatchQueue event on another replica", &mut figures);
        replica.stop().await;
    }
    Ok(())
}

/// [`WATCHED`] check-ins of `appointments` one after another on `clinic`'s service, each timed
/// from the call until a `WatchQueue` watcher on `watched` receives the queue change it made.
async fn watch_delay(
    clinic: &Clinic,
    watched: &RunningService,
    appointments: impl Iterator<Item = String>,
) -> anyhow::Result<Figures> {
    let mut watcher = client_of(watched).await;
    let mut stream = watcher
        .watch_queue(pb::WatchQueueRequest {})
        .await?
        .into_inner();
    // The first message is the queue as it is.
    stream.message().await?;
    let mut desk = client(clinic).await;
    let mut delays = Vec::with_capacity(WATCHED);
    for appointment_id in appointments.take(WATCHED) {
        let call = Instant::now();
        let entry = desk
            .check_in_appointment(check_in(&appointment_id))
            .await?
            .into_inner()
            .queue_entry
            .ok_or_else(|| anyhow::anyhow!("a check-in without a queue entry"))?;
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), stream.message())
                .await??
                .ok_or_else(|| anyhow::anyhow!("the watch ended"))?;
            if message.changed_queue_entry_id == entry.queue_entry_id {
                delays.push(call.elapsed());
                break;
            }
        }
    }
    Ok(Figures {
        operations: delays.len(),
        elapsed: Duration::ZERO,
        latencies: delays,
    })
}

fn report_watch(backend: &str, event: &str, figures: &mut Figures) {
    let (p50, p99) = (figures.percentile(50), figures.percentile(99));
    println!(
        "{backend:<9} check-in -> {event}, {} check-ins one at a time: p50 {:.2} ms, \
         p99 {:.2} ms",
        figures.operations,
        millis(p50),
        millis(p99),
    );
}
