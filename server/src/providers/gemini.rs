//! Google Gemini through its OpenAI-compatible endpoint (generativelanguage.googleapis.com/
//! v1beta/openai): OpenAI's request and stream, Google's errors — often a JSON list of
//! `{"error": {code, message, status, details}}` with `status` strings such as
//! `RESOURCE_EXHAUSTED`, and a `RetryInfo` detail saying how long to wait.

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::openai_wire::{self, Dialect, OPENAI, TokenLimit};
use super::{BaseUrl, Call, ChatRequest, OpenedChat, Provider, ProviderLinks, ProviderSpec};
use crate::failure::{
    ApiFailure, Category, ProviderError, RawFailure, standard_retry_hint, truncate,
};
use crate::http::Operation;
use crate::prices::PriceNames;
use crate::protocol::{ModelInfo, ModelKind};

pub struct Gemini;

static SPEC: ProviderSpec = ProviderSpec {
    id: "gemini",
    name: "Google Gemini",
    base_url: BaseUrl::Fixed {
        default: "https://generativelanguage.googleapis.com/v1beta/openai",
        env: "SIDEKICK_GEMINI_BASE_URL",
    },
    requires_key: true,
    supports_organization: false,
    env_key_var: Some("GEMINI_API_KEY"),
    key_placeholder: Some("AIza…"),
    model_kind: ModelKind::Model,
    suggested_models: &["gemini-2.5-flash", "gemini-2.0-flash"],
    links: ProviderLinks {
        api_keys: Some("https://aistudio.google.com/apikey"),
        billing: Some("https://aistudio.google.com/usage"),
        organization: None,
        rate_limits: Some("https://ai.google.dev/gemini-api/docs/rate-limits"),
        status: Some("https://aistudio.google.com/status"),
    },
    price_names: PriceNames {
        prefix: Some("gemini/"),
        vendor_prefixed: false,
    },
    otel_name: "gcp.gemini",
};

pub(super) const DIALECT: Dialect = Dialect {
    token_limit: TokenLimit::Learn,
    organization_headers: false,
    classify_event,
    ..OPENAI
};

impl Provider for Gemini {
    fn spec(&self) -> &'static ProviderSpec {
        &SPEC
    }

    fn list_models<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async move {
            let models =
                openai_wire::list_models(call, &DIALECT, Operation::Models, &|r| self.classify(r))
                    .await?;
            Ok(chat_models(models))
        }
        .boxed()
    }

    fn open_chat<'a>(
        &'a self,
        call: &'a Call<'a>,
        request: &'a ChatRequest<'a>,
    ) -> BoxFuture<'a, Result<OpenedChat, ProviderError>> {
        async move { openai_wire::open_chat(call, &DIALECT, request, &|r| self.classify(r)).await }
            .boxed()
    }

    fn classify(&self, raw: &RawFailure<'_>) -> ApiFailure {
        let Some(body) = serde_json::from_slice::<Value>(raw.body).ok() else {
            return openai_wire::classify(raw);
        };
        let Some(mut f) = google_failure(&body, Some(raw.status)) else {
            return openai_wire::classify(raw);
        };
        if f.category.is_retryable() {
            f.retry_after = standard_retry_hint(raw.headers).or(f.retry_after);
        }
        f.request_id = crate::failure::request_id(raw.headers);
        f
    }
}

fn classify_event(v: &Value) -> ApiFailure {
    google_failure(v, None).unwrap_or_else(|| openai_wire::classify_event(v))
}

/// The models, ids as a chat sends them (the list says `models/gemini-2.5-flash`, the chat
/// endpoint takes `gemini-2.5-flash`), the ones a chat cannot use marked.
fn chat_models(models: Vec<ModelInfo>) -> Vec<ModelInfo> {
    const NOT_CHAT: [&str; 8] = [
        "embedding",
        "aqa",
        "imagen",
        "veo",
        "-tts",
        "native-audio",
        "-live",
        "computer-use",
    ];
    models
        .into_iter()
        .map(|mut m| {
            if let Some(id) = m.id.strip_prefix("models/") {
                m.id = id.to_string();
            }
            m.chat = !NOT_CHAT.iter().any(|n| m.id.contains(n));
            m
        })
        .collect()
}

/// Google's error object, whether alone or the first of a list; None when there is none.
fn google_failure(body: &Value, status: Option<u16>) -> Option<ApiFailure> {
    let first = match body {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let err = first.get("error")?;
    let state = err.get("status").and_then(Value::as_str)?;
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let details: &[Value] = err
        .get("details")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let code = err
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    let mut f = ApiFailure::new(
        category(state, message, details, status.or(code)),
        status.or(code),
    );
    f.code = Some(reason(details).unwrap_or(state).to_string());
    f.message = Some(truncate(message, 2000)).filter(|m| !m.is_empty());
    if f.category.is_retryable() {
        f.retry_after = retry_delay(details);
    }
    Some(f)
}

/// `ErrorInfo.reason`, e.g. `API_KEY_INVALID`: more precise than the status.
fn reason(details: &[Value]) -> Option<&str> {
    details
        .iter()
        .find_map(|d| d.get("reason").and_then(Value::as_str))
}

fn category(state: &str, message: &str, details: &[Value], status: Option<u16>) -> Category {
    let msg = message.to_ascii_lowercase();
    match state {
        "INVALID_ARGUMENT"
            if reason(details) == Some("API_KEY_INVALID") || msg.contains("api key") =>
        {
            Category::InvalidKey
        }
        "INVALID_ARGUMENT"
            if msg.contains("token count") || msg.contains("maximum number of tokens") =>
        {
            Category::ContextLengthExceeded
        }
        "INVALID_ARGUMENT" => Category::BadRequest,
        "UNAUTHENTICATED" => Category::InvalidKey,
        // A key Google found published and blocked: the key, not its permissions, must change.
        "PERMISSION_DENIED" if msg.contains("api key") && msg.contains("leaked") => {
            Category::InvalidKey
        }
        "PERMISSION_DENIED" => Category::PermissionDenied,
        "RESOURCE_EXHAUSTED" => exhausted(&msg, details),
        "NOT_FOUND" if msg.contains("model") => Category::ModelNotFound,
        "NOT_FOUND" => Category::EndpointNotFound,
        "FAILED_PRECONDITION" if msg.contains("location") || msg.contains("country") => {
            Category::RegionUnsupported
        }
        "UNAVAILABLE" => Category::Overloaded,
        "INTERNAL" | "UNKNOWN" => Category::ServerError,
        "DEADLINE_EXCEEDED" => Category::Timeout,
        _ => Category::from_status(status.unwrap_or(500)),
    }
}

/// Gemini says "You exceeded your current quota" for per-minute limits too: the quota that
/// ran out (`QuotaFailure`) and `RetryInfo` tell a pause from a used-up allowance.
fn exhausted(msg: &str, details: &[Value]) -> Category {
    let quota_ids: Vec<String> = details
        .iter()
        .filter_map(|d| d.get("violations").and_then(Value::as_array))
        .flatten()
        .filter_map(|v| {
            let id = v.get("quotaId").or_else(|| v.get("quotaMetric"))?;
            id.as_str().map(str::to_ascii_lowercase)
        })
        .collect();
    let retry_info = retry_delay(details).is_some();
    if quota_ids.iter().any(|q| q.contains("perday")) {
        Category::QuotaExceeded
    } else if retry_info || quota_ids.iter().any(|q| q.contains("perminute")) {
        Category::RateLimited
    } else if msg.contains("billing") || msg.contains("exceeded your current quota") {
        Category::QuotaExceeded
    } else {
        Category::RateLimited
    }
}

/// `RetryInfo.retryDelay`: Google's duration, `"35s"` or `"1.5s"`.
fn retry_delay(details: &[Value]) -> Option<Duration> {
    details.iter().find_map(|d| {
        let delay = d.get("retryDelay")?.as_str()?;
        let secs: f64 = delay.strip_suffix('s')?.parse().ok()?;
        Duration::try_from_secs_f64(secs).ok()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn classify(status: u16, body: &str) -> ApiFailure {
        Gemini.classify(&RawFailure {
            status,
            headers: &HeaderMap::new(),
            body: body.as_bytes(),
        })
    }

    #[test]
    fn google_errors() {
        let f = classify(
            400,
            r#"[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}]"#,
        );
        assert_eq!(f.category, Category::InvalidKey);
        assert_eq!(f.code.as_deref(), Some("API_KEY_INVALID"));
        let per_minute = r#"[{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"35s"}]}}]"#;
        let f = classify(429, per_minute);
        assert_eq!(f.category, Category::RateLimited);
        assert_eq!(f.retry_after, Some(Duration::from_secs(35)));
        let per_day = per_minute.replace("PerMinute", "PerDay");
        assert_eq!(classify(429, &per_day).category, Category::QuotaExceeded);
        let f = classify(
            403,
            r#"{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}"#,
        );
        assert_eq!(f.category, Category::PermissionDenied);
        let f = classify(
            403,
            r#"[{"error":{"code":403,"message":"Your API key was reported as leaked. Please use another API key.","status":"PERMISSION_DENIED"}}]"#,
        );
        assert_eq!(
            f.category,
            Category::InvalidKey,
            "a leaked key must be replaced"
        );
        let f = classify(
            503,
            r#"{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"#,
        );
        assert_eq!(f.category, Category::Overloaded);
    }

    #[test]
    fn model_ids_lose_their_prefix_and_non_chat_models_are_marked() {
        let m = |id: &str| ModelInfo {
            owned_by: Some("google".into()),
            ..ModelInfo::listed(id)
        };
        let marked: Vec<(String, bool)> = chat_models(vec![
            m("models/gemini-2.5-flash"),
            m("models/gemini-embedding-001"),
            m("models/imagen-4.0-generate-001"),
            m("models/gemma-3-27b-it"),
        ])
        .into_iter()
        .map(|m| (m.id, m.chat))
        .collect();
        assert_eq!(
            marked,
            [
                ("gemini-2.5-flash".into(), true),
                ("gemini-embedding-001".into(), false),
                ("imagen-4.0-generate-001".into(), false),
                ("gemma-3-27b-it".into(), true)
            ]
        );
    }

    #[test]
    fn recorded_streams_and_errors() {
        use crate::providers::ChatEvent;
        use crate::providers::openai_wire::Decoder;
        use crate::providers::sse::decode_recorded;
        use fake_providers::fixtures::gemini as fx;

        let (events, err) = decode_recorded(Decoder::new(&DIALECT), fx::STREAM_TEXT);
        assert!(err.is_none());
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Hello!");
        for (f, want) in [
            (fx::INVALID_KEY, Category::InvalidKey),
            (fx::PERMISSION_DENIED, Category::PermissionDenied),
            (fx::RATE_LIMITED, Category::RateLimited),
            (fx::QUOTA_EXCEEDED, Category::QuotaExceeded),
            (fx::MODEL_NOT_FOUND, Category::ModelNotFound),
            (fx::OVERLOADED, Category::Overloaded),
        ] {
            assert_eq!(classify(f.status, f.body).category, want, "{}", f.body);
        }
        assert_eq!(
            classify(429, fx::RATE_LIMITED.body).retry_after,
            Some(Duration::from_secs(35))
        );
    }
}
