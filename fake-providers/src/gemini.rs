//! Google Gemini's OpenAI-compatible endpoint as the fake plays it: OpenAI's request and
//! stream under `/v1beta/openai`, model ids listed with a `models/` prefix (the chat takes
//! them with or without), and Google's errors, most of them a JSON list of one
//! `{"error": {code, message, status, details}}` (`fixtures/gemini/`).

use serde_json::{Value, json};

use crate::fixtures::gemini as fx;
use crate::models::ModelEntry;
use crate::script::{HttpError, Reply};
use crate::triggers::Trigger;

pub fn invalid_key() -> Reply {
    fx::INVALID_KEY.reply()
}

pub fn permission_denied() -> Reply {
    fx::PERMISSION_DENIED.reply()
}

/// A per-minute limit: `QuotaFailure` …PerMinute… and `RetryInfo.retryDelay`.
pub fn rate_limited(retry_delay_secs: u64) -> Reply {
    let body = fx::RATE_LIMITED
        .body
        .replace("\"35s\"", &format!("\"{retry_delay_secs}s\""));
    Reply::Error(HttpError::json(429, body))
}

/// A per-day allowance used up: waiting seconds will not help.
pub fn quota_exceeded() -> Reply {
    fx::QUOTA_EXCEEDED.reply()
}

pub fn model_not_found(model: &str) -> Reply {
    let body = fx::MODEL_NOT_FOUND
        .body
        .replace("gemini-9.9-ultra", model.trim_start_matches("models/"));
    Reply::Error(HttpError::json(404, body))
}

pub fn overloaded() -> Reply {
    fx::OVERLOADED.reply()
}

pub(crate) fn check_auth(valid_keys: &[String], key: &str) -> Option<Reply> {
    if key.is_empty() {
        return Some(permission_denied());
    }
    (!valid_keys.iter().any(|k| k == key)).then(invalid_key)
}

/// The chat takes `gemini-2.5-flash` and `models/gemini-2.5-flash` alike.
pub(crate) fn same_model(listed: &str, asked: &str) -> bool {
    listed.trim_start_matches("models/") == asked.trim_start_matches("models/")
}

pub fn default_models() -> Vec<ModelEntry> {
    [
        "models/gemini-2.5-pro",
        "models/gemini-2.5-flash",
        "models/gemini-2.5-flash-lite",
        "models/gemini-2.0-flash",
        "models/gemini-2.5-flash-preview-tts",
        "models/gemini-embedding-001",
        "models/imagen-4.0-generate-001",
        "models/gemma-3-27b-it",
    ]
    .into_iter()
    .map(|id| ModelEntry::new(id, 0, "google"))
    .collect()
}

pub(crate) fn list_models(models: &[ModelEntry]) -> Reply {
    let data: Vec<Value> = models
        .iter()
        .map(|m| json!({"id": m.id, "object": "model", "owned_by": "google"}))
        .collect();
    Reply::Error(HttpError::json(
        200,
        json!({"object": "list", "data": data}).to_string(),
    ))
}

/// `[fake:…]` in Google's words.
pub(crate) fn trigger(t: Trigger) -> Option<Reply> {
    match t {
        Trigger::Quota => Some(quota_exceeded()),
        Trigger::RateLimit => Some(rate_limited(2)),
        Trigger::Unauthorized => Some(invalid_key()),
        Trigger::ServerError => Some(overloaded()),
        _ => None,
    }
}
