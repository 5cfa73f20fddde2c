//! OpenAI's chat-completions wire, shared by every OpenAI-format provider (OpenAI, Azure
//! OpenAI, OpenRouter, Gemini's compatible endpoint, local servers): the request body,
//! `GET /models`, the SSE chunks (`stream.rs`) and the error bodies (`errors.rs`). A
//! `Dialect` says where each provider differs: auth header, paths, token-limit field.
//! snake_case wire types, lenient on input; they never cross the protocol.

mod errors;
mod stream;

use std::collections::BTreeSet;
use std::sync::Mutex;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use errors::{classify, classify_event, classify_value};
pub use stream::Decoder;

use super::{Call, ChatRequest, OpenedChat, sse};
use crate::failure::{ApiFailure, Category, ProviderError, classify_transport};
use crate::http::{Classify, Operation};
use crate::prices::Price;
use crate::protocol::{ChatMessage, ModelInfo, ModelPrice, Role};
use crate::untrusted;

/// How the key travels.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key alone in this header (Azure's `api-key`).
    Header(&'static str),
}

/// Which field carries `maxTokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimit {
    /// `max_completion_tokens` always: reasoning models refuse `max_tokens`.
    CompletionTokens,
    /// `max_tokens`, which most servers know, until a server's 400 names it; then
    /// `max_completion_tokens` for that model, remembered.
    Learn,
}

/// Where one OpenAI-format provider differs from OpenAI.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    pub auth: Auth,
    /// Appended to the base URL.
    pub chat_path: &'static str,
    pub models_path: &'static str,
    pub token_limit: TokenLimit,
    /// `OpenAI-Organization` / `OpenAI-Project` headers.
    pub organization_headers: bool,
    /// A `content_filter` finish fails the answer (Azure's filter) instead of ending it.
    pub content_filter_fails: bool,
    /// Reads an in-stream error object, for providers whose error objects differ.
    pub classify_event: fn(&Value) -> ApiFailure,
    /// Sent with every request (OpenRouter's app attribution).
    pub extra_headers: &'static [(&'static str, &'static str)],
}

/// OpenAI's own dialect; the others start from it.
pub const OPENAI: Dialect = Dialect {
    auth: Auth::Bearer,
    chat_path: "/chat/completions",
    models_path: "/models",
    token_limit: TokenLimit::CompletionTokens,
    organization_headers: true,
    content_filter_fails: false,
    classify_event,
    extra_headers: &[],
};

/// Models (by base URL and id) that refused `max_tokens`, learned from their 400s.
static COMPLETION_TOKEN_MODELS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

#[derive(Debug, Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    stream: bool,
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Debug, Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

impl<'a> From<&'a ChatMessage> for Message<'a> {
    fn from(m: &'a ChatMessage) -> Self {
        let role = match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        Message {
            role,
            content: &m.content,
        }
    }
}

/// `GET /models`, read leniently: servers add fields (OpenRouter's `name`, `context_length`).
#[derive(Debug, Deserialize)]
struct ModelList {
    #[serde(deserialize_with = "super::readable_entries")]
    data: Vec<WireModel>,
}

/// Numbers are read as `Value`s: a server that sends a float or a string where a number belongs
/// must not lose the whole list.
#[derive(Debug, Deserialize)]
struct WireModel {
    id: String,
    #[serde(default)]
    owned_by: Option<String>,
    #[serde(default, alias = "created_at")]
    created: Option<Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    context_length: Option<Value>,
    /// Azure's: `chat_completion: false` marks a model no chat can use.
    #[serde(default)]
    capabilities: Option<Value>,
    /// OpenRouter's: USD per token, as decimal strings (`"0.0000025"`).
    #[serde(default)]
    pricing: Option<Value>,
}

impl WireModel {
    fn chat_capable(&self) -> bool {
        self.capabilities
            .as_ref()
            .and_then(|c| c.get("chat_completion"))
            .and_then(Value::as_bool)
            != Some(false)
    }
}

/// The headers every request of this dialect carries.
pub(super) fn headers(call: &Call<'_>, dialect: &Dialect) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        // Keys and IDs were checked to be printable ASCII before any call.
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    if let Some(key) = call.key() {
        match dialect.auth {
            Auth::Bearer => put(AUTHORIZATION.as_str(), &format!("Bearer {}", key.expose())),
            Auth::Header(name) => put(name, key.expose()),
        }
    }
    for (name, value) in dialect.extra_headers {
        put(name, value);
    }
    if dialect.organization_headers {
        if let Some(org) = &call.endpoint.organization {
            put("openai-organization", org);
        }
        if let Some(project) = &call.endpoint.project {
            put("openai-project", project);
        }
    }
    h
}

/// The chat models the server lists, as served (the provider filters and orders them).
pub async fn list_models(
    call: &Call<'_>,
    dialect: &Dialect,
    operation: Operation,
    classify: Classify<'_>,
) -> Result<Vec<ModelInfo>, ProviderError> {
    let client = call.http.client().await?;
    let request = client
        .get(call.url(dialect.models_path))
        .headers(headers(call, dialect))
        .build()
        .map_err(|e| classify_transport(&e))?;
    let body = call
        .http
        .send_for_body(
            operation,
            request,
            call.timeouts(),
            call.key(),
            classify,
            &call.seen,
        )
        .await?;
    parse_models(&body, &call.url(dialect.models_path))
}

/// A model list, or what the server said instead.
pub fn parse_models(body: &[u8], url: &str) -> Result<Vec<ModelInfo>, ProviderError> {
    match serde_json::from_slice::<ModelList>(body) {
        Ok(list) => Ok(list
            .data
            .into_iter()
            .filter(WireModel::chat_capable)
            // An id that cannot be shown or sent back as it is, is no model we can offer.
            .filter(|m| untrusted::is_plain_identifier(&m.id, untrusted::MAX_MODEL_ID))
            .map(model_info)
            .collect()),
        Err(_) => Err(match serde_json::from_slice::<Value>(body) {
            // A 200 that carries an error object (some gateways answer so).
            Ok(v) if v.get("error").is_some() => {
                ProviderError::api_failure(classify_value(&v, Some(200)).masked(None))
            }
            _ => ProviderError::Unexpected(format!(
                "{url} answered with something that is not a model list"
            )),
        }),
    }
}

fn model_info(m: WireModel) -> ModelInfo {
    ModelInfo {
        name: m
            .name
            .or(m.display_name)
            .map(|n| untrusted::clean(&n, 200, true))
            .filter(|n| !n.is_empty()),
        owned_by: m.owned_by.map(|o| untrusted::clean(&o, 100, true)),
        created: m.created.as_ref().and_then(Value::as_i64),
        context_window: m.context_length.as_ref().and_then(Value::as_u64),
        price: m.pricing.as_ref().and_then(price_per_mtok),
        ..ModelInfo::listed(m.id)
    }
}

/// Per-token prices (strings or numbers) as USD per million tokens; none unless both are
/// sane. OpenRouter marks a variable-priced router with `-1`.
fn price_per_mtok(pricing: &Value) -> Option<ModelPrice> {
    let per_token = |field: &str| -> Option<f64> {
        let v = pricing.get(field)?;
        let n = match v {
            Value::String(s) => s.trim().parse::<f64>().ok()?,
            other => other.as_f64()?,
        };
        (n.is_finite() && (0.0..1.0).contains(&n)).then_some(n)
    };
    let price = Price {
        input: per_token("prompt")?,
        output: per_token("completion")?,
        cached_input: None,
        cache_write: None,
        max_input_tokens: None,
    };
    Some(price.shown())
}

fn memory_key(call: &Call<'_>, model: &str) -> String {
    format!("{} {model}", call.endpoint.base_url)
}

/// Sends a chat and returns its event stream once the headers arrived. A server that refuses
/// `max_tokens` gets the same request once more with `max_completion_tokens`, remembered.
pub async fn open_chat(
    call: &Call<'_>,
    dialect: &Dialect,
    request: &ChatRequest<'_>,
    classify: Classify<'_>,
) -> Result<OpenedChat, ProviderError> {
    let learned = || {
        COMPLETION_TOKEN_MODELS
            .lock()
            .is_ok_and(|s| s.contains(&memory_key(call, request.model)))
    };
    let completion_tokens = dialect.token_limit == TokenLimit::CompletionTokens || learned();
    match send_chat(call, dialect, request, completion_tokens, classify).await {
        Err(ProviderError::Api(f))
            if !completion_tokens && request.max_tokens.is_some() && refuses_max_tokens(&f) =>
        {
            if let Ok(mut s) = COMPLETION_TOKEN_MODELS.lock() {
                s.insert(memory_key(call, request.model));
            }
            send_chat(call, dialect, request, true, classify).await
        }
        other => other,
    }
}

/// `o1`, `o3`, `o4-mini`, `gpt-5`… and their dated or deployment-prefixed names.
fn is_reasoning_model(model: &str) -> bool {
    let name = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    let o_series =
        name.starts_with('o') && name[1..].chars().next().is_some_and(|c| c.is_ascii_digit());
    o_series || name.starts_with("gpt-5")
}

/// The chat's messages as the dialect sends them: OpenAI's reasoning models (and Azure
/// deployments named for one) take instructions as `developer`; others, and other servers,
/// as `system`.
fn wire_messages<'a>(dialect: &Dialect, request: &'a ChatRequest<'_>) -> Vec<Message<'a>> {
    let developer =
        dialect.token_limit == TokenLimit::CompletionTokens && is_reasoning_model(request.model);
    request
        .messages
        .iter()
        .map(|m| {
            let mut out = Message::from(m);
            if developer && m.role == Role::System {
                out.role = "developer";
            }
            out
        })
        .collect()
}

fn refuses_max_tokens(f: &ApiFailure) -> bool {
    f.category == Category::BadRequest
        && (f.param.as_deref() == Some("max_tokens")
            || f.message
                .as_deref()
                .is_some_and(|m| m.contains("max_completion_tokens")))
}

async fn send_chat(
    call: &Call<'_>,
    dialect: &Dialect,
    request: &ChatRequest<'_>,
    completion_tokens: bool,
    classify: Classify<'_>,
) -> Result<OpenedChat, ProviderError> {
    let body = Body {
        model: request.model,
        messages: wire_messages(dialect, request),
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
        temperature: request.temperature,
        max_tokens: request.max_tokens.filter(|_| !completion_tokens),
        max_completion_tokens: request.max_tokens.filter(|_| completion_tokens),
    };
    let body = serde_json::to_vec(&body).map_err(|e| ProviderError::Unexpected(e.to_string()))?;
    let client = call.http.client().await?;
    let http_request = client
        .post(call.url(dialect.chat_path))
        .headers(headers(call, dialect))
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
            classify,
            &call.seen,
        )
        .await?;
    Ok(OpenedChat {
        events: sse::chat_stream(
            response,
            call.timeouts().idle,
            call.key().cloned(),
            Decoder::new(dialect),
        ),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn instructions_go_as_developer_to_openais_reasoning_models_only() {
        let messages = [
            ChatMessage {
                role: Role::System,
                content: "Be brief.".into(),
                context: Vec::new(),
            },
            ChatMessage {
                role: Role::User,
                content: "hi".into(),
                context: Vec::new(),
            },
        ];
        let roles = |dialect: &Dialect, model: &str| -> Vec<&'static str> {
            let request = ChatRequest {
                model,
                messages: &messages,
                temperature: None,
                max_tokens: None,
            };
            wire_messages(dialect, &request)
                .iter()
                .map(|m| m.role)
                .collect()
        };
        for model in ["o3-mini", "o1", "gpt-5", "gpt-5-mini-2025-08-07", "O4-mini"] {
            assert_eq!(roles(&OPENAI, model), ["developer", "user"], "{model}");
        }
        for model in [
            "gpt-4o",
            "gpt-4.1-mini",
            "omni-moderation",
            "chatgpt-4o-latest",
        ] {
            assert_eq!(roles(&OPENAI, model), ["system", "user"], "{model}");
        }
        let other_server = Dialect {
            token_limit: TokenLimit::Learn,
            ..OPENAI
        };
        assert_eq!(
            roles(&other_server, "o3-mini"),
            ["system", "user"],
            "a server that is not OpenAI's gets system"
        );
    }

    #[test]
    fn sends_stream_and_usage_and_one_token_limit() {
        let msgs = [ChatMessage {
            role: Role::User,
            content: "hi".into(),
            context: Vec::new(),
        }];
        let body = Body {
            model: "gpt-5",
            messages: msgs.iter().map(Message::from).collect(),
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
            temperature: None,
            max_tokens: None,
            max_completion_tokens: Some(10),
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["stream"], true);
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["max_completion_tokens"], 10);
        assert!(v.get("max_tokens").is_none() && v.get("temperature").is_none());
        assert_eq!(v["messages"][0]["role"], "user");
    }

    #[test]
    fn model_lists_keep_names_and_windows_and_errors_are_read() {
        let models = parse_models(
            br#"{"data":[{"id":"openai/gpt-4o","name":"OpenAI: GPT-4o","created":1715367049,"context_length":128000},{"id":"gpt-4o","object":"model","owned_by":"system"}]}"#,
            "u",
        )
        .unwrap();
        assert_eq!(models[0].name.as_deref(), Some("OpenAI: GPT-4o"));
        assert_eq!(models[0].context_window, Some(128_000));
        assert_eq!(models[1].owned_by.as_deref(), Some("system"));
        let hostile = parse_models(
            "{\"data\":[{\"id\":\"ok\",\"name\":\"\\u001b[31mRed\\u202e\"},{\"id\":\"bad\\u0007id\"}]}".as_bytes(),
            "u",
        )
        .unwrap();
        assert_eq!(
            hostile.len(),
            1,
            "an id with a control character is dropped"
        );
        assert_eq!(hostile[0].name.as_deref(), Some("Red"));
        let e = parse_models(br#"{"error":{"message":"nope","code":401}}"#, "u").unwrap_err();
        assert_eq!(e.category(), Category::InvalidKey);
        let e = parse_models(b"<html>", "http://x/v1/models").unwrap_err();
        assert_eq!(e.category(), Category::UnexpectedResponse);
        let odd = parse_models(
            br#"{"data":[{"id":5},{"id":"gpt-4o"},"junk",null,{"name":"no id"}]}"#,
            "u",
        )
        .unwrap();
        assert_eq!(
            odd.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["gpt-4o"],
            "an odd entry is left out, the list kept"
        );
    }
}
