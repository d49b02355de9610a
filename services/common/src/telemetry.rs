//! Logging and traces. Services log through `tracing` to standard error (standard output is for
//! what a command prints, such as a token); `RUST_LOG` picks what is shown.
//!
//! - `CLINIC_LOG_FORMAT=json` (or `log_format = "json"`) writes one JSON object per line, for a
//!   log collector; the default is plain text, coloured on a terminal.
//! - With an OTLP endpoint (`telemetry.otlp_endpoint`, e.g. `http://otel-collector:4317`),
//!   spans — one per call, see [`crate::rpc`] — are exported to it over OTLP/gRPC, and the W3C
//!   trace context crosses service boundaries.

use std::io::IsTerminal;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// What a deployment says about logs and traces.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TelemetrySettings {
    /// Where to export spans over OTLP/gRPC; none: no export.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
}

/// Keeps span export running; dropping it flushes what is left.
#[must_use = "dropping the guard stops span export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("failed to flush the last spans: {error}");
        }
    }
}

/// Installs the process-wide subscriber. `default_filter` applies when `RUST_LOG` is unset.
/// Calling it again (as tests do) is harmless.
pub fn init(default_filter: &str) {
    let format = match std::env::var("CLINIC_LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        _ => LogFormat::Text,
    };
    let _no_export = init_with(default_filter, format, &TelemetrySettings::default());
}

/// Installs the process-wide subscriber in `format`, exporting spans when `settings` name an
/// OTLP endpoint. Must run inside a Tokio runtime when they do (the exporter's gRPC channel
/// lives on it).
pub fn init_with(
    default_filter: &str,
    format: LogFormat,
    settings: &TelemetrySettings,
) -> anyhow::Result<Telemetry> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let provider = match settings
        .otlp_endpoint
        .as_deref()
        .filter(|url| !url.is_empty())
    {
        Some(endpoint) => Some(otlp_provider(endpoint)?),
        None => None,
    };
    let traces = provider.as_ref().map(|provider| {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        tracing_opentelemetry::layer().with_tracer(provider.tracer("clinic"))
    });
    let text = (format == LogFormat::Text).then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(std::io::stderr)
            // Colour codes only where a person reads them, not in files and log collectors.
            .with_ansi(std::io::stderr().is_terminal())
    });
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr)
    });
    let _already_installed = tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .with(traces)
        .try_init();
    Ok(Telemetry { provider })
}

fn otlp_provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .with_context(|| format!("failed to set up span export to {endpoint}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("clinic")
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
