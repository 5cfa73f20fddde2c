//! OpenAI's chat completions as the fake plays them for every OpenAI-format flavor: auth,
//! the queue, triggers, unknown models in each flavor's words, and the default answer.

use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use crate::errors;
use crate::flavor::Flavor;
use crate::models::{RETIRED_MODEL, is_chat_model};
use crate::routes::Ctx;
use crate::script::{HttpError, Reply};
use crate::server::{Config, Shared, lock};
use crate::sse::{self, ChunkMeta};
use crate::triggers::{self, Trigger};

pub(crate) fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

pub(crate) fn bearer_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_owned())
        .filter(|k| !k.is_empty())
}

pub(crate) fn check_auth(config: &Config, headers: &HeaderMap, key: &str) -> Option<Reply> {
    if !config.require_key {
        return None;
    }
    if key.is_empty() {
        return Some(errors::missing_api_key());
    }
    if !config.valid_keys.iter().any(|k| k == key) {
        return Some(errors::invalid_api_key(key));
    }
    let org = headers
        .get("openai-organization")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned());
    match org {
        Some(org) if !config.allowed_orgs.is_empty() && !config.allowed_orgs.contains(&org) => {
            Some(errors::mismatched_organization())
        }
        _ => None,
    }
}

pub(crate) fn chat(shared: &Shared, raw: &[u8], body: Option<&Value>, ctx: &Ctx) -> Reply {
    let config = &shared.config;
    let Some(body) = body.filter(|b| b.is_object()) else {
        if raw.is_empty() {
            return errors::openai_error(
                400,
                "you must provide a model parameter",
                "invalid_request_error",
                None,
                None,
            )
            .into();
        }
        return errors::invalid_json_body();
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sends_max_tokens = body.get("max_tokens").is_some_and(|v| !v.is_null());
    if sends_max_tokens
        && ctx.flavor == Flavor::OpenAi
        && config
            .max_completion_tokens_models
            .iter()
            .any(|p| model.starts_with(p.as_str()))
    {
        return errors::unsupported_parameter_max_tokens();
    }
    if let Some(reply) = lock(&shared.chat_queue).pop_front() {
        return reply;
    }

    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let last_user = last_user_text(body);
    if config.triggers
        && let Some(t) = triggers::parse_trigger(&last_user)
    {
        // The rate limit alternates so the client's automatic retry goes through.
        if t != Trigger::RateLimit || shared.take_rate_limit_turn() {
            let flavored = match ctx.flavor {
                Flavor::Azure => crate::azure::trigger(t),
                Flavor::OpenRouter => crate::openrouter::trigger(t),
                Flavor::Gemini => crate::gemini::trigger(t),
                _ => None,
            };
            return flavored
                .unwrap_or_else(|| triggers::reply_for(t, model, include_usage, &ctx.key));
        }
    }
    if let Some(refused) = unknown_model(ctx.flavor, config, model) {
        return refused;
    }

    let pieces = default_pieces_for(ctx.flavor, config, &last_user);
    let prompt_tokens = prompt_tokens(body);
    let completion_tokens = pieces.len() as u32;
    let meta = ChunkMeta::new(model).with_usage(include_usage);
    if body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        let mut steps = sse::text_reply_with(
            &meta,
            &pieces,
            "stop",
            include_usage.then_some((prompt_tokens, completion_tokens)),
        );
        match ctx.flavor {
            Flavor::Azure => steps.insert(0, sse::azure_prompt_filter()),
            Flavor::OpenRouter => {
                steps.insert(0, sse::keep_alive());
                steps.insert(2, sse::keep_alive());
            }
            _ => {}
        }
        Reply::Sse(shared.paced(steps))
    } else {
        Reply::Error(HttpError::json(
            200,
            completion_json(&meta, &pieces.concat(), prompt_tokens, completion_tokens),
        ))
    }
}

/// A model the flavor does not serve, refused in its own words.
pub(crate) fn unknown_model(flavor: Flavor, config: &Config, model: &str) -> Option<Reply> {
    match flavor {
        Flavor::Azure => (!config.deployments.iter().any(|d| d == model))
            .then(|| crate::azure::deployment_not_found(model)),
        Flavor::Gemini => (!config
            .models
            .iter()
            .any(|m| crate::gemini::same_model(&m.id, model)))
        .then(|| crate::gemini::model_not_found(model)),
        Flavor::OpenRouter => (!config.models.iter().any(|m| m.id == model)).then(|| {
            Reply::json(
                400,
                &serde_json::json!({"error": {"message": format!("{model} is not a valid model ID"), "code": 400}}),
            )
        }),
        _ => {
            if model == RETIRED_MODEL || !config.models.iter().any(|m| m.id == model) {
                Some(errors::model_not_found(model))
            } else if !is_chat_model(model) {
                Some(errors::not_a_chat_model())
            } else {
                None
            }
        }
    }
}

pub(crate) fn default_pieces(config: &Config, last_user: &str) -> Vec<String> {
    default_pieces_for(config.flavor, config, last_user)
}

/// "Hello! I am the fake <provider> server. You said: …", word by word.
pub(crate) fn default_pieces_for(flavor: Flavor, config: &Config, last_user: &str) -> Vec<String> {
    let said: String = last_user.chars().take(200).collect();
    let pieces = triggers::word_pieces(&format!(
        "Hello! I am the fake {} server. You said: {said}",
        flavor.name()
    ));
    match config.answer_tokens {
        None => pieces,
        Some(n) => {
            // Every cycle after the first needs its leading space back.
            let mut out = Vec::with_capacity(n);
            let mut first = true;
            while out.len() < n {
                for p in &pieces {
                    if out.len() == n {
                        break;
                    }
                    if !first && out.len() % pieces.len() == 0 && !p.starts_with(' ') {
                        out.push(format!(" {p}"));
                    } else {
                        out.push(p.clone());
                    }
                }
                first = false;
                if pieces.is_empty() {
                    break;
                }
            }
            out
        }
    }
}

/// Text of the last `role: "user"` message, whether `content` is a string or a parts array.
pub(crate) fn last_user_text(body: &Value) -> String {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    let Some(last) = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
    else {
        return String::new();
    };
    match last.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// A rough count (4 characters a token plus per-message overhead), stable for a given body.
pub(crate) fn prompt_tokens(body: &Value) -> u32 {
    let messages = body.get("messages").and_then(Value::as_array);
    let chars: usize = messages
        .map(|ms| ms.iter().map(|m| m.to_string().len()).sum())
        .unwrap_or(0);
    let count = messages.map_or(0, Vec::len);
    (chars / 4 + count * 4 + 3) as u32
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [CompletionChoice<'a>; 1],
    usage: Value,
    service_tier: &'static str,
    system_fingerprint: Option<&'a str>,
}

#[derive(Serialize)]
struct CompletionChoice<'a> {
    index: u32,
    message: CompletionMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct CompletionMessage<'a> {
    role: &'static str,
    content: &'a str,
    refusal: Option<()>,
    annotations: [(); 0],
}

/// A non-streamed `chat.completion`, in the API's field order.
pub(crate) fn completion_json(
    meta: &ChunkMeta,
    text: &str,
    prompt: u32,
    completion: u32,
) -> String {
    let usage_chunk = sse::usage_chunk_json(meta, prompt, completion);
    let usage = serde_json::from_str::<Value>(&usage_chunk)
        .ok()
        .and_then(|mut v| v.get_mut("usage").map(Value::take))
        .unwrap_or(Value::Null);
    pretty(&Completion {
        id: &meta.id,
        object: "chat.completion",
        created: meta.created,
        model: &meta.model,
        choices: [CompletionChoice {
            index: 0,
            message: CompletionMessage {
                role: "assistant",
                content: text,
                refusal: None,
                annotations: [],
            },
            logprobs: None,
            finish_reason: "stop",
        }],
        usage,
        service_tier: "default",
        system_fingerprint: meta.system_fingerprint.as_deref(),
    })
}
