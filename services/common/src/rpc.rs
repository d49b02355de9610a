//! What happens around every call a service answers: a request id, a tracing span, one log line,
//! metrics, and what a call to another service made while answering carries along.
//!
//! - **Request id.** A caller may send `x-request-id` (printable ASCII, at most 128 characters);
//!   otherwise one is made. It is echoed in the response's metadata, logged, and sent on with
//!   every call to another service made while answering, so one visit to the counter can be
//!   followed through billing, the registry and scheduling.
//! - **Deadline.** The caller's `grpc-timeout` is remembered, and a call to another service made
//!   while answering carries what is left of it, so nobody keeps working for a caller who gave up.
//! - **One log line per call**: method, status code, latency, the caller's subject (a staff
//!   member, device or service — never a patient's data) and the request id. Health and
//!   reflection calls are logged at debug level only: probes arrive every few seconds.
//! - **Metrics**: calls by method and code, their latency, calls in flight
//!   ([`crate::metrics::ServiceMetrics`]).
//! - **Connection activity**: every call, observed or not, counts on its connection until its
//!   response has been sent, so the connection is not closed as idle under it
//!   ([`crate::connections`]).
//! - **Trace context**: with OpenTelemetry export on ([`crate::telemetry`]), the W3C
//!   `traceparent` header of the caller becomes the call span's parent, and calls to other
//!   services carry the span on.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::connections::{ConnectionInfo, CountedBody};
use crate::metrics::{RpcLabels, ServiceMetrics};

/// The metadata key of the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What the service knows about the call it is answering.
#[derive(Debug)]
pub struct RequestContext {
    /// The caller's id for this call, or one made for it.
    pub request_id: String,
    /// When the caller stops waiting, if it said.
    pub deadline: Option<Instant>,
    /// The service answering, e.g. `billing`.
    pub service: &'static str,
    /// Who is calling, once their token is checked ([`crate::auth::Authenticate`] sets it).
    subject: OnceLock<String>,
    /// The person the call is for: the caller, or the one a calling service named. Calls this
    /// one makes to other services name them, so that a registry read is audited as theirs.
    person: OnceLock<String>,
}

impl RequestContext {
    fn from_headers(headers: &http::HeaderMap, service: &'static str) -> RequestContext {
        let request_id = headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|id| acceptable_request_id(id))
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
        let deadline = headers
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_grpc_timeout)
            .and_then(|timeout| Instant::now().checked_add(timeout));
        RequestContext {
            request_id,
            deadline,
            service,
            subject: OnceLock::new(),
            person: OnceLock::new(),
        }
    }

    /// Records the person the call is for (the first time only).
    pub fn set_person(&self, subject: &str) {
        let _ = self.person.set(subject.to_owned());
    }

    /// Records who is calling (the first time only).
    pub fn set_subject(&self, subject: &str) {
        let _ = self.subject.set(subject.to_owned());
    }

    pub fn subject(&self) -> Option<&str> {
        self.subject.get().map(String::as_str)
    }

    /// What is left of the caller's deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }
}

tokio::task_local! {
    static CURRENT: Arc<RequestContext>;
}

/// The call being answered on this task, if any.
pub fn current() -> Option<Arc<RequestContext>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// The service answering the call on this task, if any.
pub fn current_service() -> Option<&'static str> {
    CURRENT.try_with(|context| context.service).ok()
}

/// Marks `message`, a call to another service that reads personal data the person being
/// answered will see (a list of names and phones, a greeting), as made for that person, so that
/// the callee's audit records it as their read. Calls that only check something (does this
/// patient exist) are left unmarked.
pub fn for_the_person<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(context) = current()
        && let Some(Ok(person)) = context.person.get().map(|person| person.parse())
    {
        request
            .metadata_mut()
            .insert(crate::auth::ON_BEHALF_OF_HEADER, person);
    }
    request
}

/// Adds to an outgoing call to another service what the call being answered carries on: its
/// request id, what is left of its deadline, and the trace context.
pub fn carry_on(request: &mut tonic::Request<()>) {
    if let Some(context) = current() {
        if let Ok(value) = context.request_id.parse() {
            request.metadata_mut().insert(REQUEST_ID_HEADER, value);
        }
        if let Some(remaining) = context.remaining() {
            request.set_timeout(remaining);
        }
    }
    let trace_context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(
            &trace_context,
            &mut MetadataInjector(request.metadata_mut()),
        );
    });
}

/// A request id the service takes as given: what fits in a log line and a header.
fn acceptable_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|byte| byte.is_ascii_graphic())
}

/// `grpc-timeout`: up to 8 digits and a unit (H, M, S, m, u, n), per the gRPC HTTP/2 protocol.
fn parse_grpc_timeout(text: &str) -> Option<Duration> {
    if text.len() < 2 || text.len() > 9 {
        return None;
    }
    let (digits, unit) = text.split_at(text.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The canonical name of a gRPC status code, as metrics and logs show it.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Whether calls are observed (see [`set_observing`]).
static OBSERVING: AtomicBool = AtomicBool::new(true);

/// Turns the per-call log line, metrics, request ids and spans off (`false`) or back on for
/// every service in this process, to measure what they cost: the benchmarks compare the two in
/// one run. A running clinic always observes its calls.
pub fn set_observing(on: bool) {
    OBSERVING.store(on, Ordering::Relaxed);
}

/// The tower layer that wraps a service's routes with the above.
#[derive(Clone)]
pub struct RpcLayer {
    metrics: Arc<ServiceMetrics>,
    /// The service's fully qualified gRPC name: calls to other paths (health, reflection, or
    /// nonsense) are labelled without their method, so nobody can grow the metrics at will.
    grpc_name: &'static str,
}

impl RpcLayer {
    pub fn new(metrics: Arc<ServiceMetrics>, grpc_name: &'static str) -> RpcLayer {
        RpcLayer { metrics, grpc_name }
    }
}

impl<S> tower::Layer<S> for RpcLayer {
    type Service = Rpc<S>;

    fn layer(&self, inner: S) -> Rpc<S> {
        Rpc {
            inner,
            layer: self.clone(),
        }
    }
}

/// What a wrapped call answers, later.
type Answer<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// A service wrapped by [`RpcLayer`].
#[derive(Clone)]
pub struct Rpc<S> {
    inner: S,
    layer: RpcLayer,
}

/// How a path is named in metrics and whether its calls are logged at info level.
fn method_label(path: &str, grpc_name: &str) -> (String, bool) {
    let method = path.trim_start_matches('/');
    match method.split_once('/') {
        Some((service, _)) if service == grpc_name => (method.to_owned(), true),
        Some((service, _))
            if service == "grpc.health.v1.Health" || service.starts_with("grpc.reflection.") =>
        {
            (service.to_owned(), false)
        }
        _ => ("other".to_owned(), true),
    }
}

impl<S, B, R> tower::Service<http::Request<B>> for Rpc<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Send + 'static,
{
    type Response = http::Response<CountedBody<R>>;
    type Error = S::Error;
    type Future = Answer<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The call keeps its connection from being closed as idle until its response is sent,
        // whether or not calls are observed.
        let on_connection = request
            .extensions()
            .get::<ConnectionInfo>()
            .map(|connection| connection.activity.begin());
        let answered = if OBSERVING.load(Ordering::Relaxed) {
            self.observed_call(request)
        } else {
            Box::pin(self.inner.call(request))
        };
        Box::pin(async move {
            let response = answered.await?;
            Ok(response.map(|body| CountedBody::new(body, on_connection)))
        })
    }
}

impl<S> Rpc<S> {
    /// Answers the call with its request id, span, log line and metrics.
    fn observed_call<B, R>(
        &mut self,
        mut request: http::Request<B>,
    ) -> Answer<http::Response<R>, S::Error>
    where
        S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        B: Send + 'static,
    {
        let metrics = Arc::clone(&self.layer.metrics);
        let context = Arc::new(RequestContext::from_headers(
            request.headers(),
            metrics.service(),
        ));
        request.extensions_mut().insert(Arc::clone(&context));
        let path = request.uri().path().to_owned();
        let (method, loud) = method_label(&path, self.layer.grpc_name);
        let span = tracing::info_span!("rpc", method = %path, request_id = %context.request_id);
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let _ = span.set_parent(parent);
        // The ready service is the one to call; a fresh clone takes its place (tower's rule).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let started = Instant::now();
        let in_flight = InFlight::enter(Arc::clone(&metrics));
        let answered = CURRENT.scope(
            Arc::clone(&context),
            async move { inner.call(request).await },
        );
        Box::pin(
            async move {
                let mut result = answered.await;
                drop(in_flight);
                let elapsed = started.elapsed();
                let code = match &result {
                    Ok(response) => status_of(response.headers()),
                    Err(_) => tonic::Code::Unknown,
                };
                let labels = RpcLabels {
                    method,
                    code: code_name(code).to_owned(),
                };
                metrics.rpc_requests.get_or_create(&labels).inc();
                metrics
                    .rpc_duration
                    .get_or_create(&labels)
                    .observe(elapsed.as_secs_f64());
                log_call(&path, &labels.code, elapsed, &context, loud);
                if let Ok(response) = &mut result
                    && let Ok(value) = http::HeaderValue::from_str(&context.request_id)
                {
                    response.headers_mut().insert(REQUEST_ID_HEADER, value);
                }
                result
            }
            .instrument(span),
        )
    }
}

fn log_call(path: &str, code: &str, elapsed: Duration, context: &RequestContext, loud: bool) {
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let subject = context.subject().unwrap_or("-");
    if loud {
        tracing::info!(
            target: "clinic::rpc",
            method = path,
            code,
            latency_ms,
            subject,
            request_id = %context.request_id,
            "answered"
        );
    } else {
        tracing::debug!(
            target: "clinic::rpc",
            method = path,
            code,
            latency_ms,
            subject,
            request_id = %context.request_id,
            "answered"
        );
    }
}

/// The status of a response whose headers are written: an error is answered in the headers
/// ("trailers only"); an answer that got as far as a body carries its status in trailers, which
/// for these services means it succeeded (a stream that fails later is logged where it fails).
fn status_of(headers: &http::HeaderMap) -> tonic::Code {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from)
}

/// Counts a call in flight until dropped, also when the caller goes away mid-call.
struct InFlight(Arc<ServiceMetrics>);

impl InFlight {
    fn enter(metrics: Arc<ServiceMetrics>) -> InFlight {
        metrics.rpc_in_flight.inc();
        InFlight(metrics)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.rpc_in_flight.dec();
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl opentelemetry::propagation::Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit_and_nonsense_is_ignored() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
    }

    #[tokio::test]
    async fn a_call_made_while_answering_carries_the_id_and_what_is_left_of_the_deadline() {
        let context = Arc::new(RequestContext {
            request_id: "counter-1:visit-7".into(),
            deadline: Instant::now().checked_add(Duration::from_secs(3)),
            service: "test",
            subject: OnceLock::new(),
            person: OnceLock::new(),
        });

        let outgoing = CURRENT
            .scope(context, async {
                let mut request = tonic::Request::new(());
                carry_on(&mut request);
                request
            })
            .await;
        let mut unrelated = tonic::Request::new(());
        carry_on(&mut unrelated);

        let metadata = outgoing.metadata();
        assert_eq!(
            metadata
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok()),
            Some("counter-1:visit-7")
        );
        let left = metadata
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
            .expect("the deadline travels");
        assert!(
            left <= Duration::from_secs(3) && left > Duration::from_secs(2),
            "{left:?}"
        );
        assert!(unrelated.metadata().get(REQUEST_ID_HEADER).is_none());
        assert!(unrelated.metadata().get("grpc-timeout").is_none());
    }

    #[tokio::test]
    async fn a_read_for_the_person_names_them_and_other_calls_do_not() {
        let context = Arc::new(RequestContext::from_headers(
            &http::HeaderMap::new(),
            "test",
        ));
        context.set_person("reception:ana");

        let (marked, plain) = CURRENT
            .scope(context, async {
                let mut plain = tonic::Request::new(());
                carry_on(&mut plain);
                (for_the_person(()), plain)
            })
            .await;

        let named = |request: &tonic::Request<()>| {
            request
                .metadata()
                .get(crate::auth::ON_BEHALF_OF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(named(&marked), Some("reception:ana".to_owned()));
        assert_eq!(named(&plain), None);
        assert_eq!(named(&for_the_person(())), None, "no call being answered");
    }

    #[test]
    fn request_ids_are_kept_only_when_printable_and_short() {
        assert!(acceptable_request_id("counter-1:7f3a"));
        assert!(!acceptable_request_id(""));
        assert!(!acceptable_request_id("has space"));
        assert!(!acceptable_request_id(&"x".repeat(129)));
    }

    #[test]
    fn only_the_services_own_methods_are_named_in_metrics() {
        let own = "clinic.billing.v1.BillingService";
        assert_eq!(
            method_label("/clinic.billing.v1.BillingService/PostPayment", own),
            (
                "clinic.billing.v1.BillingService/PostPayment".to_owned(),
                true
            )
        );
        assert_eq!(
            method_label("/grpc.health.v1.Health/Check", own),
            ("grpc.health.v1.Health".to_owned(), false)
        );
        assert_eq!(
            method_label("/made.up.Service/AnythingAtAll", own),
            ("other".to_owned(), true)
        );
    }
}
