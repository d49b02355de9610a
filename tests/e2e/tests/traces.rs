//! With an OTLP endpoint configured, every call is a span exported over OTLP/gRPC, and a call
//! one service makes while answering another belongs to the same trace. The collector here is
//! a real OTLP/gRPC `TraceService` on loopback, built from the OpenTelemetry protocol's own
//! definitions.

mod two_services;

use std::sync::{Arc, Mutex};

use clinic_common::auth::Role;
use clinic_common::telemetry::{LogFormat, TelemetrySettings};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use two_services::{FAMILY_NAME, TwoServices};

/// The spans the collector received.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Span>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().expect("never poisoned");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value| match &value.value {
            Some(Value::StringValue(text)) => Some(text.as_str()),
            _ => None,
        })
}

fn call_span<'a>(spans: &'a [Span], method: &str) -> &'a Span {
    spans
        .iter()
        .find(|span| attribute(span, "method").is_some_and(|m| m.ends_with(method)))
        .unwrap_or_else(|| panic!("no span for {method} among {} spans", spans.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_exported_as_spans_and_a_call_to_the_registry_joins_the_trace() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the collector");
    let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
    let serving = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let telemetry = clinic_common::telemetry::init_with(
        "info",
        LogFormat::Text,
        &TelemetrySettings {
            otlp_endpoint: Some(endpoint),
        },
    )
    .expect("export is set up");

    let clinic = TwoServices::start().await;
    let booking = clinic.booking().await;
    clinic
        .scheduling_as(Role::Reception, "reception:ana")
        .await
        .create_appointment(booking)
        .await
        .expect("the visit is booked");
    clinic.stop().await;
    // Dropping the guard flushes every span still batched.
    tokio::task::spawn_blocking(move || drop(telemetry))
        .await
        .expect("flushed");
    serving.abort();

    let spans = collector.0.lock().expect("never poisoned").clone();
    let booked = call_span(&spans, "SchedulingService/CreateAppointment");
    let asked = call_span(&spans, "PatientService/GetPatient");
    assert_eq!(
        asked.trace_id, booked.trace_id,
        "the registry's span joins the booking's trace"
    );
    assert_ne!(asked.span_id, booked.span_id);
    assert!(
        attribute(booked, "request_id").is_some(),
        "spans carry the request id"
    );
    for span in &spans {
        for attribute in &span.attributes {
            let text = format!("{:?}", attribute.value);
            assert!(!text.contains(FAMILY_NAME), "no patient data in spans");
        }
    }
}
