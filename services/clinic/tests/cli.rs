//! The `clinic` binary as an operator runs it: real processes, real ports, both databases.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use clinic_common::auth::{Caller, Role, TokenKey};
use clinic_test_support::{TestDatabase, backend_tests, signing_secret};
use secrecy::ExposeSecret;

backend_tests!(
    migrate_applies_every_schema_and_can_run_again,
    up_with_demo_serves_seeds_once_and_stops_on_ctrl_c,
    a_service_that_only_checks_migrations_waits_for_them_and_tolerates_newer_ones,
);

const SERVICES: [&str; 4] = ["patients", "scheduling", "billing", "collections"];

/// `clinic` with a private data directory and the test signing key, nothing from the caller's
/// environment that could point it elsewhere.
fn clinic(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clinic"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("CLINIC_AUTH__SIGNING_KEY", signing_secret().expose_secret())
        .arg("--data-dir")
        .arg(data_dir);
    // Metrics endpoints off unless a test asks: the default ports are shared by every test.
    for service in SERVICES {
        command.env(
            format!("CLINIC_{}__ADMIN_LISTEN", service.to_uppercase()),
            "",
        );
    }
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("clinic runs")
}

#[test]
fn token_issue_signs_a_token_the_services_accept() {
    let data_dir = tempfile_dir();
    let output = run(clinic(data_dir.path()).args([
        "token",
        "issue",
        "--role",
        "reception",
        "--subject",
        "reception:maria",
    ]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let token = String::from_utf8(output.stdout).expect("ASCII token");
    let key = TokenKey::from_secret(&signing_secret()).expect("long enough");
    assert_eq!(
        key.verify(token.trim(), chrono::Utc::now()),
        Ok(Caller {
            subject: "reception:maria".into(),
            role: Role::Reception
        })
    );
    let expired = key.verify(
        token.trim(),
        chrono::Utc::now() + chrono::TimeDelta::hours(13),
    );
    assert!(
        expired.is_err(),
        "staff tokens expire after 12 hours by default"
    );
}

#[test]
fn token_issue_refuses_an_unknown_role_and_a_missing_key() {
    let data_dir = tempfile_dir();
    let output = run(clinic(data_dir.path()).args([
        "token",
        "issue",
        "--role",
        "janitor",
        "--subject",
        "x",
    ]));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role"));

    let output = run(clinic(data_dir.path())
        .env_remove("CLINIC_AUTH__SIGNING_KEY")
        .args([
            "token",
            "issue",
            "--role",
            "kiosk",
            "--subject",
            "kiosk:lobby",
        ]));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no signing key"));
}

async fn migrate_applies_every_schema_and_can_run_again(database: TestDatabase) {
    let data_dir = tempfile_dir();
    let databases = databases_for_each_service(database).await;
    for _ in 0..2 {
        let mut command = clinic(data_dir.path());
        with_databases(&mut command, &databases);
        let output = run(command.arg("migrate"));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        for service in SERVICES {
            assert!(
                stdout.contains(&format!("{service}: migrations applied")),
                "{stdout}"
            );
        }
    }
}

async fn up_with_demo_serves_seeds_once_and_stops_on_ctrl_c(database: TestDatabase) {
    let data_dir = tempfile_dir();
    let databases = databases_for_each_service(database).await;
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let admin_ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let configure = |command: &mut Command| {
        with_databases(command, &databases);
        for ((service, port), admin_port) in SERVICES.iter().zip(&ports).zip(&admin_ports) {
            let upper = service.to_uppercase();
            command.env(
                format!("CLINIC_{upper}__LISTEN"),
                format!("127.0.0.1:{port}"),
            );
            command.env(
                format!("CLINIC_{upper}__URL"),
                format!("http://127.0.0.1:{port}"),
            );
            command.env(
                format!("CLINIC_{upper}__ADMIN_LISTEN"),
                format!("127.0.0.1:{admin_port}"),
            );
        }
    };

    let mut up = clinic(data_dir.path());
    configure(&mut up);
    let (mut child, banner) = start_and_read_banner(up.args(["up", "--demo"]));
    assert!(
        banner.contains("Seeded the demo clinic: 5 providers, 12 price-list items, 8 kinds of visit, 56 patients"),
        "{banner}"
    );
    for role in ["kiosk", "reception", "collections", "manager"] {
        assert!(
            banner
                .lines()
                .any(|line| line.trim_start().starts_with(role) && line.contains("eyJ")),
            "{banner}"
        );
    }

    let mut status = clinic(data_dir.path());
    configure(&mut status);
    let output = run(status.arg("status"));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for service in SERVICES {
        assert!(
            report.contains(&format!("clinic.{service}.v1.")),
            "reflection lists {service}: {report}"
        );
    }
    assert_eq!(report.matches("SERVING").count(), 4, "{report}");

    // Each service's metrics, moved by the demo's seeding over gRPC.
    let patients = http_get(admin_ports[0], "/metrics");
    assert!(
        patients.contains(
            "clinic_rpc_requests_total{service=\"patients\",\
             method=\"clinic.patients.v1.PatientService/CreatePatient\",code=\"OK\"} 56"
        ),
        "{patients}"
    );
    assert!(
        patients.contains("clinic_health_serving{service=\"patients\"} 1"),
        "{patients}"
    );
    let billing = http_get(admin_ports[2], "/metrics");
    assert!(
        billing.contains("clinic_db_transaction_duration_seconds_count{service=\"billing\"}"),
        "{billing}"
    );
    // The services' own gauges: the waiting room and the outbox, collections caught up with
    // billing's ledger, and the background tasks' rounds.
    let scheduling = http_get(admin_ports[1], "/metrics");
    for series in [
        "clinic_queue_waiting{service=\"scheduling\"}",
        "clinic_queue_longest_wait_seconds{service=\"scheduling\"}",
        "clinic_outbox_messages{service=\"scheduling\",state=\"pending\"}",
        "clinic_outbox_oldest_pending_age_seconds{service=\"scheduling\"}",
    ] {
        assert!(
            metric(&scheduling, series).is_some(),
            "{series}: {scheduling}"
        );
    }
    let collections = metrics_when(admin_ports[3], |text| {
        metric(
            text,
            "clinic_collections_feed_last_applied_timestamp_seconds{service=\"collections\"}",
        )
        .is_some_and(|at| at > 0.0)
            && metric(
                text,
                "clinic_collections_feed_lag_entries{service=\"collections\"}",
            ) == Some(0.0)
    });
    assert!(
        metric(
            &collections,
            "clinic_background_task_last_success_timestamp_seconds{service=\"collections\",task=\"ledger_follower\"}"
        )
        .is_some_and(|at| at > 1.0e9),
        "{collections}"
    );
    let scheduling = metrics_when(admin_ports[1], |text| {
        metric(
            text,
            "clinic_background_task_last_success_timestamp_seconds{service=\"scheduling\",task=\"messages\"}",
        )
        .is_some()
    });
    assert!(
        metric(
            &scheduling,
            "clinic_background_task_last_success_timestamp_seconds{service=\"scheduling\",task=\"late_arrivals\"}"
        )
        .is_some_and(|at| at > 1.0e9),
        "{scheduling}"
    );
    // One process answers health for the whole server, its service, and liveness.
    for name in ["", "clinic.billing.v1.BillingService", "liveness"] {
        let mut health = clinic(data_dir.path());
        let output = run(health.args([
            "health",
            &format!("127.0.0.1:{}", ports[2]),
            "--service",
            name,
        ]));
        assert!(output.status.success(), "{name}: {output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "SERVING");
    }

    interrupt_and_wait(&mut child);

    let output = run(clinic(data_dir.path()).args(["health", &format!("127.0.0.1:{}", ports[2])]));
    assert!(!output.status.success(), "a stopped service is not healthy");

    let mut again = clinic(data_dir.path());
    configure(&mut again);
    let (mut child, banner) = start_and_read_banner(again.args(["up", "--demo"]));
    assert!(
        banner.contains("Demo data is already in"),
        "seeded only once: {banner}"
    );
    interrupt_and_wait(&mut child);
}

/// With `migrations = "check"` a service refuses to start on a database that lacks its
/// migrations, starts once `clinic migrate` has run, and still starts when the database has a
/// migration it does not know (a newer release's, as after a rollback).
async fn a_service_that_only_checks_migrations_waits_for_them_and_tolerates_newer_ones(
    database: TestDatabase,
) {
    let data_dir = tempfile_dir();
    let port = free_port();
    let serve = |database: &TestDatabase| {
        let mut command = clinic(data_dir.path());
        command
            .env("CLINIC_MIGRATIONS", "check")
            .env("CLINIC_PATIENTS__DATABASE_URL", database.url())
            .env("CLINIC_PATIENTS__LISTEN", format!("127.0.0.1:{port}"))
            .args(["serve", "patients"]);
        command
    };

    let refused = run(&mut serve(&database));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("clinic migrate"), "{stderr}");

    let mut migrate = clinic(data_dir.path());
    migrate.env("CLINIC_PATIENTS__DATABASE_URL", database.url());
    assert!(run(migrate.args(["migrate", "patients"])).status.success());
    // A release after this one added a migration.
    add_unknown_migration(&database).await;

    let mut child = serve(&database)
        .env("CLINIC_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("clinic starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let output = run(clinic(data_dir.path()).args(["health", &format!("127.0.0.1:{port}")]));
        if output.status.success() {
            break;
        }
        assert!(
            child.try_wait().expect("waitable").is_none(),
            "the service stopped instead of serving"
        );
        assert!(
            Instant::now() < deadline,
            "the service never became healthy"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    interrupt_and_wait(&mut child);
    // Its log, asked for as JSON, is one object per line.
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut log)
        .expect("the log is read");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "listening"),
        "{log}"
    );
}

/// Records a migration no release of this build has, as a newer release would have.
async fn add_unknown_migration(database: &TestDatabase) {
    use sqlx::Connection;
    let insert = "INSERT INTO _sqlx_migrations \
         (version, description, installed_on, success, checksum, execution_time) \
         VALUES (99999999, 'from a newer release', CURRENT_TIMESTAMP, TRUE, $1, 0)";
    let checksum = vec![0_u8; 48];
    if database.url().starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(database.url())
            .await
            .expect("SQLite opens");
        sqlx::query(insert)
            .bind(checksum)
            .execute(&mut connection)
            .await
            .expect("recorded");
    } else {
        let mut connection = sqlx::PgConnection::connect(database.url())
            .await
            .expect("PostgreSQL connects");
        sqlx::query(insert)
            .bind(checksum)
            .execute(&mut connection)
            .await
            .expect("recorded");
    }
}

/// The body of a plain HTTP GET of `path` on a local port.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// The value of one series (its name and labels exactly as written) in a scrape.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// The metrics at `port` once `ready` holds of them (the follower and background tasks run on
/// their own schedule), or a failure after 30 s.
fn metrics_when(port: u16, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = http_get(port, "/metrics");
        if ready(&text) {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "never ready: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts `command` and returns it with everything it printed up to "Press Ctrl-C to stop".
fn start_and_read_banner(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("clinic starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut banner = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("readable output");
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("Press Ctrl-C to stop") {
            return (child, banner);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("clinic up exited before it was ready:\n{banner}");
}

fn interrupt_and_wait(child: &mut Child) {
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            assert!(
                status.success(),
                "clinic up exits cleanly on Ctrl-C, not {status}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "clinic up did not stop within 20 s of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Four databases on the backend `database` is on; on SQLite the data directory's default files
/// are used instead, as `clinic up` does out of the box.
async fn databases_for_each_service(database: TestDatabase) -> Vec<TestDatabase> {
    if database.url().starts_with("sqlite:") {
        return Vec::new();
    }
    let mut databases = vec![
        database.sibling().await,
        database.sibling().await,
        database.sibling().await,
    ];
    databases.insert(0, database);
    databases
}

fn with_databases(command: &mut Command, databases: &[TestDatabase]) {
    for (service, database) in SERVICES.iter().zip(databases) {
        command.env(
            format!("CLINIC_{}__DATABASE_URL", service.to_uppercase()),
            database.url(),
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("bound")
        .port()
}

fn tempfile_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}
