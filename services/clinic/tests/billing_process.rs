//! Billing as the real `clinic` binary runs it: the demo day's drawer closes with a zero
//! difference, and killing billing with SIGKILL while payments stream in loses none that it
//! acknowledged, on both databases.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clinic_common::auth::{BearerToken, Role, TokenKey};
use clinic_proto::billing::v1 as billing;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::common::v1::{Date, Money};
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::{TestDatabase, backend_tests, signing_secret};
use secrecy::ExposeSecret;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

backend_tests!(
    the_demo_days_drawer_closes_with_a_zero_difference,
    killing_billing_loses_no_acknowledged_payment,
);

const SERVICES: [&str; 4] = ["patients", "scheduling", "billing", "collections"];

type Billing = BillingServiceClient<InterceptedService<Channel, BearerToken>>;

/// `clinic` with a private data directory and the test signing key.
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("bound")
        .port()
}

/// Each service's address and database in the environment of `command`. On SQLite the data
/// directory's files are used, as out of the box.
fn configure(command: &mut Command, ports: &[u16], databases: &[TestDatabase]) {
    for (service, port) in SERVICES.iter().zip(ports) {
        let upper = service.to_uppercase();
        command.env(
            format!("CLINIC_{upper}__LISTEN"),
            format!("127.0.0.1:{port}"),
        );
        command.env(
            format!("CLINIC_{upper}__URL"),
            format!("http://127.0.0.1:{port}"),
        );
    }
    for (service, database) in SERVICES.iter().zip(databases) {
        command.env(
            format!("CLINIC_{}__DATABASE_URL", service.to_uppercase()),
            database.url(),
        );
    }
}

async fn databases_for_each_service(database: TestDatabase) -> Vec<TestDatabase> {
    if database.url().starts_with("sqlite:") {
        return Vec::new();
    }
    let mut databases = vec![database.sibling().await, database.sibling().await];
    databases.insert(0, database.sibling().await);
    databases.insert(0, database);
    databases
}

/// Starts `command` and waits until it prints `ready` on stdout.
fn start_until(command: &mut Command, ready: &str) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("clinic starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if line.expect("readable output").contains(ready) {
            // Keep draining, so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return child;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("clinic exited before printing {ready:?}");
}

/// Starts `command` and waits until something listens on `port`.
fn start_listening(command: &mut Command, port: u16) -> Child {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("clinic starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().expect("waitable") {
            panic!("clinic exited before listening: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "nothing listened on {port} in 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("waitable").is_none() {
        assert!(Instant::now() < deadline, "clinic did not stop in 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn token(role: Role, subject: &str) -> BearerToken {
    let key = TokenKey::from_secret(&signing_secret()).expect("long enough");
    BearerToken::new(&key.issue(subject, role, chrono::Utc::now(), None)).expect("ASCII")
}

async fn billing_client(port: u16, role: Role) -> Billing {
    let channel = clinic_test_support::channel(&format!("http://127.0.0.1:{port}")).await;
    BillingServiceClient::new(InterceptedService::new(
        channel,
        token(role, &format!("{role}:tester")),
    ))
}

fn mxn(minor_units: i64) -> Money {
    Money {
        minor_units,
        currency_code: "MXN".into(),
    }
}

/// `minor` counted as a blind count would: the largest notes and coins first.
fn count_of(mut minor: i64) -> Vec<billing::DenominationCount> {
    let table = [
        (billing::DenominationKind::Note, 100_000),
        (billing::DenominationKind::Note, 50_000),
        (billing::DenominationKind::Note, 20_000),
        (billing::DenominationKind::Note, 10_000),
        (billing::DenominationKind::Note, 5_000),
        (billing::DenominationKind::Note, 2_000),
        (billing::DenominationKind::Coin, 1_000),
        (billing::DenominationKind::Coin, 500),
        (billing::DenominationKind::Coin, 200),
        (billing::DenominationKind::Coin, 100),
        (billing::DenominationKind::Coin, 50),
    ];
    let mut count = Vec::new();
    for (kind, value) in table {
        let pieces = minor / value;
        if pieces > 0 {
            count.push(billing::DenominationCount {
                kind: kind.into(),
                value: Some(mxn(value)),
                count: i32::try_from(pieces).expect("a drawer's worth"),
            });
            minor -= pieces * value;
        }
    }
    assert_eq!(minor, 0, "the amount is counted to the last coin");
    count
}

async fn the_demo_days_drawer_closes_with_a_zero_difference(database: TestDatabase) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let databases = databases_for_each_service(database).await;
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut up = clinic(data_dir.path());
    configure(&mut up, &ports, &databases);
    let mut child = start_until(up.args(["up", "--demo"]), "Press Ctrl-C to stop");
    let mut reception = billing_client(ports[2], Role::Reception).await;
    // What the drawer should hold is the manager's to see: reception counts blind.
    let mut manager = billing_client(ports[2], Role::Manager).await;

    // Act
    let drawer = manager
        .get_cash_drawer(billing::GetCashDrawerRequest {
            terminal_id: "counter-1".into(),
            ..Default::default()
        })
        .await
        .expect("the demo drawer is open")
        .into_inner();
    let report = drawer.report.clone().expect("an X report");
    let expected = report.expected.as_ref().expect("expected").minor_units;
    let closed = reception
        .close_cash_drawer(billing::CloseCashDrawerRequest {
            terminal_id: "counter-1".into(),
            closing_count: count_of(expected),
            difference_reason: String::new(),
            request_id: "close-demo-drawer".into(),
        })
        .await
        .expect("the drawer closes")
        .into_inner();
    let closed = manager
        .get_cash_drawer(billing::GetCashDrawerRequest {
            session_id: closed.session_id,
            ..Default::default()
        })
        .await
        .expect("the closed drawer")
        .into_inner();
    stop(&mut child);

    // Assert: a float of 1,500.00, 3,500.00 handed over, 1,000.00 in change, 150.00 out.
    assert_eq!(drawer.opening_float, Some(mxn(150_000)));
    assert_eq!(report.cash_payment_count, 3);
    assert_eq!(report.cash_taken, Some(mxn(350_000)));
    assert_eq!(report.change_given, Some(mxn(100_000)));
    assert_eq!(report.cash_out, Some(mxn(15_000)));
    assert_eq!(expected, 385_000);
    assert_eq!(closed.difference, Some(mxn(0)));
    assert_eq!(closed.state(), billing::CashDrawerState::Closed);
}

async fn killing_billing_loses_no_acknowledged_payment(database: TestDatabase) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let databases = databases_for_each_service(database).await;
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let serve = |service: &str| {
        let mut command = clinic(data_dir.path());
        configure(&mut command, &ports, &databases);
        command.args(["serve", service]);
        command
    };
    let mut registry = start_listening(&mut serve("patients"), ports[0]);
    let mut billing = start_listening(&mut serve("billing"), ports[2]);
    let channel = clinic_test_support::channel(&format!("http://127.0.0.1:{}", ports[0])).await;
    let patient_id = PatientServiceClient::new(InterceptedService::new(
        channel,
        token(Role::Reception, "reception:tester"),
    ))
    .create_patient(patients::CreatePatientRequest {
        patient: Some(patients::Patient {
            given_name: "Lucía".into(),
            family_name: "Hernández".into(),
            date_of_birth: Some(Date {
                year: 1990,
                month: 7,
                day: 2,
            }),
            phone: "+525511112222".into(),
            ..Default::default()
        }),
        request_id: "kill-patient".into(),
    })
    .await
    .expect("registered")
    .into_inner()
    .patient_id;
    let payment = {
        let patient_id = patient_id.clone();
        move |request_id: &str| billing::PostPaymentRequest {
            patient_id: patient_id.clone(),
            amount: Some(mxn(1_000)),
            method: Some(billing::post_payment_request::Method::Card(
                billing::CardPayment {
                    authorization_code: "A1B2C3".into(),
                    last_four: "4242".into(),
                    card_type: billing::CardType::Debit.into(),
                },
            )),
            request_id: request_id.into(),
            ..Default::default()
        }
    };

    // Act: four counters post payments as fast as billing takes them; billing is killed with
    // SIGKILL once 200 have been acknowledged, mid-stream.
    let acknowledged: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let sent: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut counters = Vec::new();
    for counter in 0..4 {
        let mut client = billing_client(ports[2], Role::Reception).await;
        let acknowledged = acknowledged.clone();
        let sent = sent.clone();
        let payment = payment.clone();
        counters.push(tokio::spawn(async move {
            for number in 0..10_000 {
                let request_id = format!("kill-{counter}-{number}");
                sent.lock()
                    .expect("not poisoned")
                    .insert(request_id.clone());
                match client.post_payment(payment(&request_id)).await {
                    Ok(response) => {
                        acknowledged
                            .lock()
                            .expect("not poisoned")
                            .insert(request_id, response.into_inner().payment_id);
                    }
                    // Billing is gone: this counter stops, its last request unanswered.
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("not poisoned").len() < 200 {
        assert!(Instant::now() < deadline, "payments did not flow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    billing.kill().expect("SIGKILL");
    billing.wait().expect("reaped");
    for counter in counters {
        counter.await.expect("the counter ran");
    }
    let acknowledged = acknowledged.lock().expect("not poisoned").clone();
    let sent = sent.lock().expect("not poisoned").clone();
    let mut billing = start_listening(&mut serve("billing"), ports[2]);
    let mut manager = billing_client(ports[2], Role::Manager).await;
    let mut ledger = Vec::new();
    let mut after_sequence = 0;
    loop {
        let page = manager
            .list_ledger_entries(billing::ListLedgerEntriesRequest {
                after_sequence,
                page_size: 1000,
            })
            .await
            .expect("the ledger after the restart")
            .into_inner();
        if page.entries.is_empty() {
            break;
        }
        after_sequence = page.last_sequence;
        ledger.extend(page.entries);
    }
    // Every request sent is retried: acknowledged ones return what they returned, the one each
    // counter had in flight is posted now or found posted, and none is posted twice.
    let mut retried = BTreeMap::new();
    for request_id in &sent {
        let answer = manager
            .post_payment(payment(request_id))
            .await
            .expect("a retry is answered")
            .into_inner();
        retried.insert(request_id.clone(), answer.payment_id);
    }
    let balance = manager
        .get_account_balance(billing::GetAccountBalanceRequest {
            patient_id: patient_id.clone(),
            ..Default::default()
        })
        .await
        .expect("the balance")
        .into_inner();
    stop(&mut billing);
    stop(&mut registry);

    // Assert
    let in_ledger: BTreeSet<&str> = ledger
        .iter()
        .map(|entry| entry.source_id.as_str())
        .collect();
    let lost: Vec<&String> = acknowledged
        .values()
        .filter(|payment_id| !in_ledger.contains(payment_id.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged payments lost: {lost:?}");
    let sequences: Vec<i64> = ledger.iter().map(|entry| entry.sequence).collect();
    let gapless: Vec<i64> = (1..=ledger.len() as i64).collect();
    assert_eq!(sequences, gapless, "the ledger has no gap");
    for (request_id, payment_id) in &acknowledged {
        assert_eq!(
            &retried[request_id], payment_id,
            "{request_id} kept its payment"
        );
    }
    let distinct: BTreeSet<&String> = retried.values().collect();
    assert_eq!(distinct.len(), sent.len(), "one payment per request id");
    assert_eq!(
        balance.total_paid,
        Some(mxn(1_000 * sent.len() as i64)),
        "each request paid once"
    );
}
