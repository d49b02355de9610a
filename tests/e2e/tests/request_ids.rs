//! A call's request id comes back in its response, travels with the calls a service makes
//! while answering it, and is in one log line per call with the method, status code, latency
//! and caller — never a patient's data.

mod two_services;

use std::io::Write;
use std::sync::{Arc, Mutex};

use clinic_common::auth::Role;
use tracing_subscriber::fmt::MakeWriter;
use two_services::{FAMILY_NAME, TwoServices};

/// Log lines written by the services in this process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("the log buffer is never poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    /// The call log lines, as JSON objects.
    fn calls(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().expect("never poisoned").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["target"] == "clinic::rpc")
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("never poisoned")).into_owned()
    }
}

fn call_line<'a>(
    calls: &'a [serde_json::Value],
    method: &str,
    request_id: &str,
) -> Option<&'a serde_json::Value> {
    calls.iter().find(|line| {
        line["fields"]["method"]
            .as_str()
            .is_some_and(|m| m.ends_with(method))
            && line["fields"]["request_id"] == request_id
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_is_echoed_carried_to_the_registry_and_logged_once_per_call() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("clinic::rpc=info")
        .with_writer(logs.clone())
        .init();
    let clinic = TwoServices::start().await;
    let booking = clinic.booking().await;
    let mut reception = clinic.scheduling_as(Role::Reception, "reception:ana").await;

    let mut request = tonic::Request::new(booking);
    request
        .metadata_mut()
        .insert("x-request-id", "visit-42".parse().expect("ASCII"));
    request.set_timeout(std::time::Duration::from_secs(30));
    let response = reception
        .create_appointment(request)
        .await
        .expect("the visit is booked");
    let unnamed = reception
        .list_providers(clinic_proto::scheduling::v1::ListProvidersRequest::default())
        .await
        .expect("providers are listed");
    clinic.stop().await;

    assert_eq!(
        response
            .metadata()
            .get("x-request-id")
            .map(|v| v.to_str().ok()),
        Some(Some("visit-42")),
        "the caller's id comes back"
    );
    let made = unnamed
        .metadata()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .expect("a call without an id is given one");
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");

    let calls = logs.calls();
    let booked = call_line(&calls, "SchedulingService/CreateAppointment", "visit-42")
        .unwrap_or_else(|| panic!("the booking is logged: {calls:#?}"));
    assert_eq!(booked["fields"]["code"], "OK");
    assert_eq!(booked["fields"]["subject"], "reception:ana");
    assert!(booked["fields"]["latency_ms"].as_f64().is_some());
    let asked = call_line(&calls, "PatientService/GetPatient", "visit-42")
        .unwrap_or_else(|| panic!("the registry's answer carries the id: {calls:#?}"));
    assert_eq!(asked["fields"]["subject"], "service:scheduling");
    assert_eq!(
        calls
            .iter()
            .filter(|line| line["fields"]["request_id"] == "visit-42")
            .count(),
        2,
        "one line per call: {calls:#?}"
    );
    assert!(
        !logs.text().contains(FAMILY_NAME),
        "no patient data in the logs"
    );
}
