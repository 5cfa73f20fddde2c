//! OpenRouter as the fake plays it: OpenAI's wire under `/api/v1`, a model list that answers
//! anyone (hundreds of models), `GET /key` for the key's limits, `: OPENROUTER PROCESSING`
//! comments in streams, 402 for credits, and rate limits whose reset is in the error's metadata.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::fixtures::openrouter as fx;
use crate::models::ModelEntry;
use crate::script::{HttpError, Reply, SseStep};
use crate::sse::{self, ChunkMeta};
use crate::triggers::Trigger;

pub fn insufficient_credits() -> Reply {
    fx::INSUFFICIENT_CREDITS.reply()
}

/// 401 for a key OpenRouter does not know.
pub fn invalid_key() -> Reply {
    fx::USER_NOT_FOUND.reply()
}

/// 429 whose `metadata.headers.X-RateLimit-Reset` (Unix ms) is now + `reset_after`.
pub fn rate_limited(reset_after: Duration) -> Reply {
    let mut body: Value = serde_json::from_str(fx::RATE_LIMITED.body).unwrap_or_default();
    let reset = (SystemTime::now() + reset_after)
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    if let Some(h) = body.pointer_mut("/error/metadata/headers/X-RateLimit-Reset") {
        *h = Value::String(reset.to_string());
    }
    Reply::Error(HttpError::json(429, body.to_string()))
}

/// A streamed answer with OpenRouter's keep-alive comments before and between the chunks.
pub fn text_reply_with_comments(model: &str, pieces: &[&str], usage: (u32, u32)) -> Vec<SseStep> {
    let mut steps = vec![sse::keep_alive(), sse::keep_alive()];
    for (i, step) in sse::text_reply(model, pieces, "stop", Some(usage))
        .into_iter()
        .enumerate()
    {
        if i == 2 {
            steps.push(sse::keep_alive());
        }
        steps.push(step);
    }
    steps
}

/// Some text, then the error chunk OpenRouter sends when the upstream provider fails
/// mid-stream (`error` with a code and `finish_reason: "error"`).
pub fn error_after(model: &str, pieces: &[&str], code: &str, message: &str) -> Vec<SseStep> {
    let meta = ChunkMeta::new(model);
    let mut steps = vec![sse::keep_alive(), SseStep::Event(sse::role_chunk(&meta))];
    for p in pieces {
        steps.push(SseStep::Event(sse::content_chunk(&meta, p)));
    }
    steps.push(SseStep::Event(
        json!({"id": meta.id, "object": "chat.completion.chunk", "created": meta.created, "model": model,
               "provider": "OpenAI", "error": {"code": code, "message": message},
               "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]})
        .to_string(),
    ));
    steps
}

pub(crate) fn check_auth(valid_keys: &[String], key: &str) -> Option<Reply> {
    if key.is_empty() {
        return Some(fx::NO_CREDENTIALS.reply());
    }
    (!valid_keys.iter().any(|k| k == key)).then(invalid_key)
}

/// `GET /key`: the current key's limits and usage.
pub(crate) fn key_info() -> Reply {
    fx::KEY.reply()
}

/// Hundreds of models, as OpenRouter lists them: vendor/model ids, names, context lengths,
/// prices per token as strings.
pub fn default_models() -> Vec<ModelEntry> {
    const VENDORS: [(&str, &str, &[&str]); 8] = [
        (
            "openai",
            "OpenAI",
            &[
                "gpt-4o",
                "gpt-4o-mini",
                "gpt-4.1",
                "gpt-4.1-mini",
                "gpt-5",
                "gpt-5-mini",
                "o3-mini",
                "o4-mini",
            ],
        ),
        (
            "anthropic",
            "Anthropic",
            &[
                "claude-sonnet-4",
                "claude-sonnet-4.5",
                "claude-opus-4.1",
                "claude-3.5-haiku",
                "claude-3.7-sonnet",
            ],
        ),
        (
            "google",
            "Google",
            &[
                "gemini-2.5-flash",
                "gemini-2.5-pro",
                "gemini-2.0-flash-001",
                "gemma-3-27b-it",
            ],
        ),
        (
            "meta-llama",
            "Meta",
            &[
                "llama-3.1-8b-instruct",
                "llama-3.1-70b-instruct",
                "llama-3.3-70b-instruct",
                "llama-4-maverick",
            ],
        ),
        (
            "mistralai",
            "Mistral",
            &[
                "mistral-large",
                "mistral-small-3.2-24b-instruct",
                "codestral-2508",
                "devstral-medium",
            ],
        ),
        (
            "deepseek",
            "DeepSeek",
            &["deepseek-chat-v3.1", "deepseek-r1", "deepseek-v3.2-exp"],
        ),
        (
            "qwen",
            "Qwen",
            &["qwen3-coder", "qwen3-235b-a22b", "qwen-2.5-72b-instruct"],
        ),
        (
            "x-ai",
            "xAI",
            &["grok-4", "grok-code-fast-1", "grok-3-mini"],
        ),
    ];
    // Every real model has variants (`:free`, `:nitro`, dated snapshots); enough of them to
    // make the list as long as the real one.
    const VARIANTS: [&str; 11] = [
        "",
        ":free",
        ":nitro",
        ":floor",
        ":online",
        "-2024",
        "-2025",
        "-preview",
        "-latest",
        ":thinking",
        ":extended",
    ];
    let mut out = Vec::new();
    let mut created = 1_760_000_000u64;
    for (vendor, _, models) in VENDORS {
        for model in models {
            for variant in VARIANTS {
                out.push(ModelEntry::new(
                    format!("{vendor}/{model}{variant}"),
                    created,
                    vendor,
                ));
                created -= 86_400;
            }
        }
    }
    out
}

fn vendor_name(id: &str) -> &'static str {
    match id.split('/').next() {
        Some("openai") => "OpenAI",
        Some("anthropic") => "Anthropic",
        Some("google") => "Google",
        Some("meta-llama") => "Meta",
        Some("mistralai") => "Mistral",
        Some("deepseek") => "DeepSeek",
        Some("qwen") => "Qwen",
        _ => "xAI",
    }
}

pub(crate) fn list_models(models: &[ModelEntry]) -> Reply {
    let data: Vec<Value> = models
        .iter()
        .map(|m| {
            let short = m.id.split('/').nth(1).unwrap_or(&m.id);
            json!({"id": m.id, "canonical_slug": m.id, "name": format!("{}: {short}", vendor_name(&m.id)),
                   "created": m.created, "description": "A model on OpenRouter.",
                   "context_length": 128_000,
                   "architecture": {"modality": "text->text", "input_modalities": ["text"], "output_modalities": ["text"], "tokenizer": "Other"},
                   "pricing": {"prompt": "0.0000025", "completion": "0.00001", "request": "0", "image": "0"},
                   "top_provider": {"context_length": 128_000, "max_completion_tokens": 16_384, "is_moderated": true},
                   "supported_parameters": ["max_tokens", "temperature", "stop"]})
        })
        .collect();
    Reply::Error(HttpError::json(200, json!({"data": data}).to_string()))
}

/// `[fake:…]` in OpenRouter's words.
pub(crate) fn trigger(t: Trigger) -> Option<Reply> {
    match t {
        Trigger::Quota => Some(insufficient_credits()),
        Trigger::RateLimit => Some(rate_limited(Duration::from_millis(1500))),
        Trigger::Unauthorized => Some(invalid_key()),
        _ => None,
    }
}
