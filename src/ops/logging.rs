//! Logging to stderr: text lines (coloured only on a terminal, so log files stay free of escape
//! codes) or one JSON object per line (`LOG_FORMAT=json`). Request lines carry the request id,
//! operation, role, outcome and latency; never a token, a header value or a query text.

use std::io::IsTerminal;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

use super::config::LogFormat;

/// The filter when `RUST_LOG` is unset: our own info lines, only warnings from the libraries.
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

/// Whether text logs may use colour: stderr is a terminal and `NO_COLOR` is unset.
pub fn colour_allowed() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber; `RUST_LOG` overrides the default filter. Lines go through
/// a background writer that drops them rather than block when stderr is slow or full (a
/// request must never wait for a log reader); keep the guard alive to flush at exit.
pub fn init(format: LogFormat) -> Logs {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .finish(std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt = match format {
        LogFormat::Text => fmt.with_ansi(colour_allowed()).boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    let registry = tracing_subscriber::registry().with(fmt);
    #[cfg(feature = "otel")]
    let registry = registry.with(super::otel::layer());
    // A second initialisation (tests, embedding) keeps the first subscriber.
    let _ = registry.with(filter).try_init();
    Logs { _writer: guard }
}

/// Keeps the log writer (and the trace exporter) running; dropping it flushes both.
pub struct Logs {
    _writer: WorkerGuard,
}

impl Drop for Logs {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        super::otel::shutdown();
    }
}
