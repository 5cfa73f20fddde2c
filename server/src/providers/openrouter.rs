//! OpenRouter: OpenAI's wire at openrouter.ai/api/v1 in front of hundreds of models. Its model
//! list answers without a key, so the key is checked with `GET /key`; credits run out as a
//! 402; its rate limits say when they reset inside the error's metadata.

use std::time::{Duration, UNIX_EPOCH};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use reqwest::header::AUTHORIZATION;
use serde_json::Value;

use super::openai_wire::{self, Dialect, OPENAI, TokenLimit};
use super::{BaseUrl, Call, ChatRequest, OpenedChat, Provider, ProviderLinks, ProviderSpec};
use crate::failure::{ApiFailure, Category, ProviderError, RawFailure, classify_transport, until};
use crate::http::Operation;
use crate::prices::PriceNames;
use crate::protocol::{ModelInfo, ModelKind};

pub struct OpenRouter;

static SPEC: ProviderSpec = ProviderSpec {
    id: "openrouter",
    name: "OpenRouter",
    base_url: BaseUrl::Fixed {
        default: "https://openrouter.ai/api/v1",
        env: "SIDEKICK_OPENROUTER_BASE_URL",
    },
    requires_key: true,
    supports_organization: false,
    env_key_var: Some("OPENROUTER_API_KEY"),
    key_placeholder: Some("sk-or-v1-…"),
    model_kind: ModelKind::Model,
    suggested_models: &[
        "openai/gpt-5-mini",
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4.5",
    ],
    links: ProviderLinks {
        api_keys: Some("https://openrouter.ai/settings/keys"),
        billing: Some("https://openrouter.ai/settings/credits"),
        organization: None,
        rate_limits: Some("https://openrouter.ai/docs/api-reference/limits"),
        status: Some("https://status.openrouter.ai"),
    },
    price_names: PriceNames {
        prefix: Some("openrouter/"),
        vendor_prefixed: true,
    },
    otel_name: "openrouter",
};

pub(super) const DIALECT: Dialect = Dialect {
    // Some routed models refuse `max_completion_tokens`; OpenRouter maps `max_tokens` for all.
    token_limit: TokenLimit::Learn,
    organization_headers: false,
    // OpenRouter's app attribution: requests show up as Sidekick in the user's activity.
    extra_headers: &[
        ("x-title", "Sidekick"),
        ("http-referer", "https://github.com/sidekick/sidekick"),
    ],
    ..OPENAI
};

impl Provider for OpenRouter {
    fn spec(&self) -> &'static ProviderSpec {
        &SPEC
    }

    fn list_models<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async move {
            let mut models =
                openai_wire::list_models(call, &DIALECT, Operation::Models, &|r| self.classify(r))
                    .await?;
            // Newest first, as OpenRouter's own list shows them; the picker searches the rest.
            models.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
            Ok(models)
        }
        .boxed()
    }

    fn validate<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async move {
            // `/models` answers anyone; `/key` only a valid key.
            let client = call.http.client().await?;
            let mut request = client.get(call.url("/key"));
            if let Some(key) = call.key() {
                request = request.header(AUTHORIZATION, format!("Bearer {}", key.expose()));
            }
            let request = request.build().map_err(|e| classify_transport(&e))?;
            call.http
                .send_for_body(
                    Operation::Validate,
                    request,
                    call.timeouts(),
                    call.key(),
                    &|r| self.classify(r),
                    &call.seen,
                )
                .await?;
            self.list_models(call).await
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
        let mut f = openai_wire::classify(raw);
        let body = serde_json::from_slice::<Value>(raw.body).ok();
        let message = f
            .message
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        // A moderated model refuses flagged input with 403.
        if raw.status == 403 && (message.contains("flagged") || message.contains("moderation")) {
            f.category = Category::ContentFiltered;
        }
        if f.category == Category::RateLimited && f.retry_after.is_none() {
            f.retry_after = body.as_ref().and_then(reset_in_metadata);
        }
        f
    }
}

/// `error.metadata.headers["X-RateLimit-Reset"]`: when the limit resets, in Unix milliseconds.
fn reset_in_metadata(body: &Value) -> Option<Duration> {
    let headers = body.pointer("/error/metadata/headers")?.as_object()?;
    let reset = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-ratelimit-reset"))
        .map(|(_, v)| v)?;
    let ms = match reset {
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        other => other.as_u64()?,
    };
    // A reset in the past means now; one further than a day away is not a pause to wait out.
    let wait = until(UNIX_EPOCH.checked_add(Duration::from_millis(ms))?);
    (wait <= Duration::from_secs(24 * 3600)).then_some(wait)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;
    use std::time::SystemTime;

    fn classify(status: u16, body: &str) -> ApiFailure {
        OpenRouter.classify(&RawFailure {
            status,
            headers: &HeaderMap::new(),
            body: body.as_bytes(),
        })
    }

    #[test]
    fn openrouter_failures() {
        let f = classify(
            402,
            r#"{"error":{"message":"Insufficient credits. Add more using https://openrouter.ai/settings/credits","code":402}}"#,
        );
        assert_eq!(f.category, Category::QuotaExceeded);
        assert!(!f.category.is_retryable());
        let f = classify(
            401,
            r#"{"error":{"message":"No auth credentials found","code":401}}"#,
        );
        assert_eq!(f.category, Category::InvalidKey);
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        let f = classify(
            429,
            &format!(
                r#"{{"error":{{"message":"Rate limit exceeded: free-models-per-min.","code":429,"metadata":{{"headers":{{"X-RateLimit-Limit":"20","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"{reset}"}}}}}}}}"#
            ),
        );
        assert_eq!(f.category, Category::RateLimited);
        let wait = f.retry_after.unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        let f = classify(
            403,
            r#"{"error":{"message":"openai/gpt-4o requires moderation on OpenRouter. Your input was flagged for \"harassment\".","code":403,"metadata":{"reasons":["harassment"],"flagged_input":"…"}}}"#,
        );
        assert_eq!(f.category, Category::ContentFiltered);
    }

    #[test]
    fn recorded_streams_and_errors() {
        use crate::providers::ChatEvent;
        use crate::providers::openai_wire::Decoder;
        use crate::providers::sse::decode_recorded;
        use fake_providers::fixtures::openrouter as fx;

        let (events, err) = decode_recorded(Decoder::new(&DIALECT), fx::STREAM_COMMENTS);
        assert!(err.is_none(), "comments are not events");
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Hello!");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ChatEvent::Usage(u) if u.total_tokens == 11))
        );
        let (events, err) = decode_recorded(Decoder::new(&DIALECT), fx::STREAM_ERROR);
        assert!(events.contains(&ChatEvent::Text("Partial answer".into())));
        assert_eq!(err.unwrap().category(), Category::ServerError);
        for (f, want) in [
            (fx::INSUFFICIENT_CREDITS, Category::QuotaExceeded),
            (fx::USER_NOT_FOUND, Category::InvalidKey),
            (fx::NO_CREDENTIALS, Category::InvalidKey),
            (fx::RATE_LIMITED, Category::RateLimited),
            (fx::MODERATION_FLAGGED, Category::ContentFiltered),
        ] {
            assert_eq!(classify(f.status, f.body).category, want, "{}", f.body);
        }
    }
}
