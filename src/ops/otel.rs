//! OpenTelemetry traces (cargo feature `otel`): every `tracing` span — the HTTP request, the
//! GraphQL operation and its resolvers (async-graphql's tracing extension), each SQL statement
//! (SeaORM's `tracing-spans`) — exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set (the standard `OTEL_*` variables configure the exporter).

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::{Layer, registry::LookupSpan};

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// The exporting layer, when an endpoint is configured.
pub fn layer<S>() -> Option<impl Layer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(err) => {
            eprintln!("OpenTelemetry exporter not started: {err}");
            return None;
        }
    };
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("crm-gateway").build())
        .build();
    let tracer = provider.tracer("crm-gateway");
    let _ = PROVIDER.set(provider);
    Some(tracing_opentelemetry::layer().with_tracer(tracer))
}

/// Exports the spans still buffered; called when logging shuts down.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.shutdown();
    }
}
