//! OpenTelemetry spans for teams. When `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, every provider call the ledger records is also
//! exported as a span over OTLP/HTTP (protobuf), following the GenAI semantic conventions, so a
//! team sends every developer's Sidekick calls to the collector it already runs. The exporter
//! reads the standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`). Unset,
//! nothing is built: no exporter, no thread, no client. No prompt, answer or key is ever in a
//! span — a ledger record has none to give.

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, SpanKind, Status, Tracer, TracerProvider};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::ledger::CallRecord;
use crate::protocol::{CallOutcome, LedgerOperation};

struct Exporting {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

static EXPORT: OnceLock<Option<Exporting>> = OnceLock::new();

/// Whether the environment asks for spans.
pub fn configured(get: impl Fn(&str) -> Option<String>) -> bool {
    [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|v| get(v).is_some_and(|s| !s.trim().is_empty()))
}

/// Starts the exporter if the environment asks for one; call once, early. A broken
/// configuration is logged and exports nothing.
pub fn init() {
    EXPORT.get_or_init(|| {
        if !configured(|v| std::env::var(v).ok()) {
            return None;
        }
        crate::http::install_tls_crypto();
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build();
        match exporter {
            Ok(exporter) => {
                let provider = SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(
                        Resource::builder()
                            .with_service_name("sidekick")
                            .with_attribute(KeyValue::new(
                                "service.version",
                                env!("CARGO_PKG_VERSION"),
                            ))
                            .build(),
                    )
                    .build();
                let tracer = provider.tracer("sidekick-server");
                tracing::info!("exporting provider calls as OpenTelemetry spans (OTLP/HTTP)");
                Some(Exporting { provider, tracer })
            }
            Err(e) => {
                tracing::warn!("OpenTelemetry export is configured but could not start: {e}");
                None
            }
        }
    });
}

/// Sends what is queued; call before the process exits.
pub fn shutdown() {
    if let Some(Some(e)) = EXPORT.get()
        && let Err(err) = e.provider.shutdown()
    {
        tracing::warn!("OpenTelemetry shutdown: {err}");
    }
}

/// One finished call as a span, if spans are exported.
pub fn export(r: &CallRecord) {
    let Some(Some(e)) = EXPORT.get() else {
        return;
    };
    let start = UNIX_EPOCH + Duration::from_millis(u64::try_from(r.started_at_ms).unwrap_or(0));
    let end = start + Duration::from_millis(r.duration_ms);
    let operation = match r.operation {
        LedgerOperation::Chat => "chat",
        LedgerOperation::Models => "list_models",
        LedgerOperation::Validate => "validate_key",
        LedgerOperation::Usage => "usage",
    };
    let model = r.request_model.as_deref().or(r.model.as_deref());
    let name = match model {
        Some(m) => format!("{operation} {m}"),
        None => operation.to_string(),
    };
    let mut attributes = vec![
        KeyValue::new("gen_ai.operation.name", operation),
        KeyValue::new("gen_ai.provider.name", r.provider_name),
        KeyValue::new("server.address", r.host.clone()),
    ];
    let mut put = |k: &'static str, v: Option<opentelemetry::Value>| {
        if let Some(v) = v {
            attributes.push(KeyValue::new(k, v));
        }
    };
    put("gen_ai.request.model", model.map(|m| m.to_string().into()));
    put("gen_ai.response.model", r.model.clone().map(Into::into));
    put("gen_ai.response.id", r.response_id.clone().map(Into::into));
    put("sidekick.request_id", r.request_id.clone().map(Into::into));
    put(
        "gen_ai.response.finish_reasons",
        r.finish_reason
            .clone()
            .map(|f| opentelemetry::Value::Array(opentelemetry::Array::String(vec![f.into()]))),
    );
    let usage = r.usage.as_ref();
    put(
        "gen_ai.usage.input_tokens",
        usage.map(|u| (u.prompt_tokens.min(i64::MAX as u64) as i64).into()),
    );
    put(
        "gen_ai.usage.output_tokens",
        usage.map(|u| (u.completion_tokens.min(i64::MAX as u64) as i64).into()),
    );
    put(
        "http.response.status_code",
        r.http_status.map(|s| i64::from(s).into()),
    );
    put("error.type", r.guidance_kind.clone().map(Into::into));
    put(
        "sidekick.cost_usd",
        r.cost_nanos.map(|n| (n as f64 / 1e9).into()),
    );
    put("sidekick.chat_id", r.chat_id.clone().map(Into::into));
    put("sidekick.attempt", r.attempt.map(|a| i64::from(a).into()));
    put(
        "sidekick.outcome",
        Some(
            match r.outcome {
                CallOutcome::Ok => "ok",
                CallOutcome::Failed => "failed",
                CallOutcome::Cancelled => "cancelled",
            }
            .into(),
        ),
    );
    let mut span = e
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes(attributes)
        .start(&e.tracer);
    if r.outcome == CallOutcome::Failed {
        span.set_status(Status::error(
            r.guidance_kind.clone().unwrap_or_else(|| "failed".into()),
        ));
    }
    span.end_with_timestamp(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_set_endpoint_turns_export_on() {
        assert!(!configured(|_| None));
        assert!(!configured(|_| Some("  ".into())));
        assert!(configured(
            |v| (v == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://127.0.0.1:4318".into())
        ));
        assert!(configured(|v| (v == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .then(|| "http://collector/v1/traces".into())));
    }
}
