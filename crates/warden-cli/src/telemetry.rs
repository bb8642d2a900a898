//! Where `warden serve` writes what it does: log lines to standard error (JSON objects, or text
//! with colours only on a terminal, so a file or a journal never gets escape codes), and, when an
//! OTLP endpoint is configured, traces exported over OTLP/HTTP — a span per request, per decision
//! and per store transaction.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::output::CliError;
use crate::settings::{LogFormat, Settings};

/// What must be flushed before the process ends.
#[derive(Debug)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered.
    pub fn shutdown(self) {
        if let Some(provider) = self.traces
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "traces not all exported at shutdown");
        }
    }
}

pub fn init(settings: &Settings) -> Result<Telemetry, CliError> {
    let filter = EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| EnvFilter::new("warden=info,warn"));
    let terminal = std::io::stderr().is_terminal();
    let json = match settings.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !terminal,
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(terminal && !json);
    let lines = if json {
        // A line is its event: span contexts are in the traces, not repeated in every line.
        lines
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed()
    } else {
        lines.boxed()
    };
    let traces = match &settings.otlp_endpoint {
        Some(endpoint) => Some(exporter(endpoint)?),
        None => None,
    };
    let spans = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("warden"))
            // Spans of Warden's own targets only: the HTTP stack's would drown them.
            .with_filter(EnvFilter::new("warden=info"))
    });
    let _ = tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(spans)
        .try_init();
    Ok(Telemetry { traces })
}

fn exporter(endpoint: &str) -> Result<SdkTracerProvider, CliError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| {
            CliError::new(
                "config",
                format!("setting `otlp_endpoint`: cannot export traces to `{endpoint}`: {e}"),
            )
        })?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("warden")
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
