//! Anthropic's Messages API at api.anthropic.com/v1: the key in `x-api-key` with
//! `anthropic-version: 2023-06-01`, `system` messages in the top-level `system` field, a
//! `max_tokens` the API requires, the paginated `GET /v1/models`, and its own SSE events
//! (`stream.rs`) and error bodies (`errors.rs`).

mod errors;
mod stream;

/// Anthropic's stream decoder, for `providers::decode_body`.
pub(super) fn stream_decoder() -> stream::Decoder {
    stream::Decoder::default()
}

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use super::{BaseUrl, Call, ChatRequest, OpenedChat, Provider, ProviderLinks, ProviderSpec, sse};
use crate::failure::{ApiFailure, ProviderError, RawFailure, classify_transport};
use crate::http::Operation;
use crate::prices::PriceNames;
use crate::protocol::{ModelInfo, ModelKind, Role};
use crate::untrusted;

pub struct Anthropic;

/// The API version every request names; the stream and error formats below are its.
const API_VERSION: &str = "2023-06-01";
/// Pages of the model list read at most (100 models each).
const MAX_MODEL_PAGES: usize = 20;

static SPEC: ProviderSpec = ProviderSpec {
    id: "anthropic",
    name: "Anthropic",
    base_url: BaseUrl::Fixed {
        default: "https://api.anthropic.com/v1",
        env: "SIDEKICK_ANTHROPIC_BASE_URL",
    },
    requires_key: true,
    supports_organization: false,
    env_key_var: Some("ANTHROPIC_API_KEY"),
    key_placeholder: Some("sk-ant-…"),
    model_kind: ModelKind::Model,
    suggested_models: &[
        "claude-sonnet-4-5",
        "claude-sonnet-4-0",
        "claude-3-7-sonnet-latest",
    ],
    links: ProviderLinks {
        api_keys: Some("https://console.anthropic.com/settings/keys"),
        billing: Some("https://console.anthropic.com/settings/billing"),
        organization: None,
        rate_limits: Some("https://console.anthropic.com/settings/limits"),
        status: Some("https://status.anthropic.com"),
    },
    price_names: PriceNames {
        prefix: None,
        vendor_prefixed: false,
    },
    otel_name: "anthropic",
};

#[derive(Debug, Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<Message<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
}

#[derive(Debug, Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

/// One page of `GET /v1/models`.
#[derive(Debug, Deserialize)]
struct ModelPage {
    #[serde(deserialize_with = "super::readable_entries")]
    data: Vec<WireModel>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireModel {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

/// The API requires `max_tokens`. Claude 3 models stop at 4,096 output tokens; later ones
/// allow far more, but a large value also counts against a low tier's output-token rate limit
/// from the start, so 8,192 unless the user's setting or the chat says otherwise.
fn default_max_tokens(model: &str) -> u32 {
    let claude_3 = model.starts_with("claude-3-")
        && !model.starts_with("claude-3-5")
        && !model.starts_with("claude-3-7");
    if claude_3 { 4096 } else { 8192 }
}

fn headers(call: &Call<'_>) -> HeaderMap {
    let mut h = HeaderMap::new();
    // The key was checked to be printable ASCII before any call.
    if let Some(v) = call
        .key()
        .and_then(|k| HeaderValue::from_str(k.expose()).ok())
    {
        h.insert("x-api-key", v);
    }
    h.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
    h
}

/// System messages go to the top-level `system` field, joined; the rest keep their order.
fn body<'a>(call: &Call<'_>, request: &'a ChatRequest<'a>) -> Body<'a> {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let messages = request
        .messages
        .iter()
        .filter_map(|m| match m.role {
            Role::System => None,
            Role::User => Some(Message {
                role: "user",
                content: &m.content,
            }),
            Role::Assistant => Some(Message {
                role: "assistant",
                content: &m.content,
            }),
        })
        .collect();
    Body {
        model: request.model,
        max_tokens: request
            .max_tokens
            .or(call.settings.anthropic_max_tokens)
            .unwrap_or_else(|| default_max_tokens(request.model)),
        system: (!system.is_empty()).then(|| system.join("\n\n")),
        messages,
        stream: true,
        temperature: request.temperature,
    }
}

impl Anthropic {
    async fn models(&self, call: &Call<'_>) -> Result<Vec<ModelInfo>, ProviderError> {
        let client = call.http.client().await?;
        let mut models = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_MODEL_PAGES {
            let mut url = url::Url::parse(&call.url("/models")).map_err(|e| {
                ProviderError::Unexpected(format!("the base URL cannot take a path: {e}"))
            })?;
            url.query_pairs_mut().append_pair("limit", "100");
            if let Some(id) = &after {
                url.query_pairs_mut().append_pair("after_id", id);
            }
            let request = client
                .get(url)
                .headers(headers(call))
                .build()
                .map_err(|e| classify_transport(&e))?;
            let body = call
                .http
                .send_for_body(
                    Operation::Models,
                    request,
                    call.timeouts(),
                    call.key(),
                    &|r| self.classify(r),
                    &call.seen,
                )
                .await?;
            let page: ModelPage = serde_json::from_slice(&body).map_err(|_| {
                ProviderError::Unexpected(format!(
                    "{} answered with something that is not a model list",
                    call.url("/models")
                ))
            })?;
            models.extend(
                page.data
                    .into_iter()
                    .filter(|m| untrusted::is_plain_identifier(&m.id, untrusted::MAX_MODEL_ID))
                    .map(model_info),
            );
            match page.last_id.filter(|_| page.has_more) {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        Ok(models)
    }
}

fn model_info(m: WireModel) -> ModelInfo {
    let created = m
        .created_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    ModelInfo {
        name: m
            .display_name
            .map(|n| untrusted::clean(&n, 200, true))
            .filter(|n| !n.is_empty()),
        owned_by: Some("anthropic".into()),
        created,
        ..ModelInfo::listed(m.id)
    }
}

impl Provider for Anthropic {
    fn spec(&self) -> &'static ProviderSpec {
        &SPEC
    }

    fn list_models<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        // Newest first, as the API lists them.
        self.models(call).boxed()
    }

    fn open_chat<'a>(
        &'a self,
        call: &'a Call<'a>,
        request: &'a ChatRequest<'a>,
    ) -> BoxFuture<'a, Result<OpenedChat, ProviderError>> {
        async move {
            let body = serde_json::to_vec(&body(call, request))
                .map_err(|e| ProviderError::Unexpected(e.to_string()))?;
            let client = call.http.client().await?;
            let http_request = client
                .post(call.url("/messages"))
                .headers(headers(call))
                .header(CONTENT_TYPE, "application/json")
                .body(body)
                .build()
                .map_err(|e| classify_transport(&e))?;
            let response = call
                .http
                .send(
                    Operation::Chat,
                    http_request,
                    call.timeouts(),
                    call.key(),
                    &|r| self.classify(r),
                    &call.seen,
                )
                .await?;
            Ok(OpenedChat {
                events: sse::chat_stream(
                    response,
                    call.timeouts().idle,
                    call.key().cloned(),
                    stream::Decoder::default(),
                ),
            })
        }
        .boxed()
    }

    fn classify(&self, raw: &RawFailure<'_>) -> ApiFailure {
        errors::classify(raw)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::http::Http;
    use crate::protocol::ChatMessage;
    use crate::providers::Endpoint;
    use crate::settings::Settings;

    #[test]
    fn system_goes_to_the_top_and_max_tokens_is_always_sent() {
        let messages = [
            ChatMessage {
                role: Role::System,
                content: "Be brief.".into(),
                context: Vec::new(),
            },
            ChatMessage {
                role: Role::User,
                content: "Hi".into(),
                context: Vec::new(),
            },
            ChatMessage {
                role: Role::System,
                content: "Use British spelling.".into(),
                context: Vec::new(),
            },
        ];
        let http = Http::default();
        let endpoint = Endpoint {
            base_url: "https://api.anthropic.com/v1".into(),
            key: None,
            organization: None,
            project: None,
        };
        let settings = Settings::default();
        let call = Call::new(&http, &endpoint, &settings);
        let request = ChatRequest {
            model: "claude-3-haiku-20240307",
            messages: &messages,
            temperature: None,
            max_tokens: None,
        };
        let v = serde_json::to_value(body(&call, &request)).unwrap();
        assert_eq!(v["system"], "Be brief.\n\nUse British spelling.");
        assert_eq!(v["messages"].as_array().unwrap().len(), 1);
        assert_eq!(v["messages"][0]["role"], "user");
        assert_eq!(v["max_tokens"], 4096);
        assert_eq!(v["stream"], true);
        let capped = Settings {
            anthropic_max_tokens: Some(1000),
            ..settings.clone()
        };
        let call = Call {
            settings: &capped,
            ..call
        };
        let request = ChatRequest {
            model: "claude-sonnet-4-5",
            ..request
        };
        assert_eq!(
            serde_json::to_value(body(&call, &request)).unwrap()["max_tokens"],
            1000
        );
    }

    #[test]
    fn recorded_streams_and_errors() {
        use crate::failure::{Category, RawFailure};
        use crate::protocol::FinishReason;
        use crate::providers::ChatEvent;
        use crate::providers::sse::decode_recorded;
        use fake_providers::fixtures::anthropic as fx;

        let (events, err) = decode_recorded(stream::Decoder::default(), fx::STREAM_TEXT);
        assert!(err.is_none());
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Hello!");
        assert!(events.contains(&ChatEvent::Finish(FinishReason::Stop)));
        let (events, _) = decode_recorded(stream::Decoder::default(), fx::STREAM_THINKING);
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "27 × 453 = 12,231.", "thinking is not answer text");
        let (events, err) = decode_recorded(stream::Decoder::default(), fx::STREAM_ERROR);
        assert!(events.contains(&ChatEvent::Text("Here is the first part".into())));
        assert_eq!(err.unwrap().category(), Category::Overloaded);

        for (f, want) in [
            (fx::AUTHENTICATION_ERROR, Category::InvalidKey),
            (fx::PERMISSION_ERROR, Category::PermissionDenied),
            (fx::NOT_FOUND_MODEL, Category::ModelNotFound),
            (fx::CREDIT_BALANCE_TOO_LOW, Category::QuotaExceeded),
            (fx::PROMPT_TOO_LONG, Category::ContextLengthExceeded),
            (fx::REQUEST_TOO_LARGE, Category::RequestTooLarge),
            (fx::RATE_LIMIT_ERROR, Category::RateLimited),
            (fx::OVERLOADED_ERROR, Category::Overloaded),
            (fx::API_ERROR, Category::ServerError),
            (fx::MISSING_VERSION, Category::BadRequest),
        ] {
            let mut headers = reqwest::header::HeaderMap::new();
            for (k, v) in f.headers {
                headers.insert(*k, v.parse().unwrap());
            }
            let got = Anthropic.classify(&RawFailure {
                status: f.status,
                headers: &headers,
                body: f.body.as_bytes(),
            });
            assert_eq!(got.category, want, "{}", f.body);
        }
    }
}
