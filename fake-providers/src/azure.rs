//! Azure OpenAI's v1 API as the fake plays it: the key in `api-key` (never `Authorization`),
//! `/openai/v1/…` under the resource endpoint, deployments by name, the prompt-filter chunk
//! first in every stream, its content filter and its error bodies (`fixtures/azure/`).

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::fixtures::azure as fx;
use crate::ids;
use crate::models::ModelEntry;
use crate::script::{HttpError, Reply, SseStep};
use crate::sse::{self, ChunkMeta};
use crate::triggers::Trigger;

pub fn deployment_not_found(_name: &str) -> Reply {
    fx::DEPLOYMENT_NOT_FOUND.reply()
}

pub fn invalid_key() -> Reply {
    fx::INVALID_KEY.reply()
}

pub fn content_filter() -> Reply {
    fx::CONTENT_FILTER.reply()
}

/// 429 with `retry-after-ms` and/or `retry-after`, as the service sends them.
pub fn rate_limited(retry_after_ms: Option<u64>, retry_after_secs: Option<u64>) -> Reply {
    let mut e = HttpError::json(429, fx::RATE_LIMITED.body);
    if let Some(ms) = retry_after_ms {
        e = e.with_header("retry-after-ms", ms.to_string());
    }
    if let Some(s) = retry_after_secs {
        e = e.with_header("retry-after", s.to_string());
    }
    Reply::Error(e)
}

/// A streamed answer as Azure sends it: the prompt-filter chunk, then OpenAI's chunks.
pub fn text_reply(model: &str, pieces: &[&str], usage: (u32, u32)) -> Vec<SseStep> {
    let mut steps = vec![sse::azure_prompt_filter()];
    steps.extend(sse::text_reply(model, pieces, "stop", Some(usage)));
    steps
}

/// Some text, then `finish_reason: "content_filter"`: the answer was blocked.
pub fn content_filtered_after(model: &str, pieces: &[&str]) -> Vec<SseStep> {
    let meta = ChunkMeta::new(model);
    let mut steps = vec![
        sse::azure_prompt_filter(),
        SseStep::Event(sse::role_chunk(&meta)),
    ];
    for p in pieces {
        steps.push(SseStep::Event(sse::content_chunk(&meta, p)));
    }
    steps.push(SseStep::Event(sse::finish_chunk(&meta, "content_filter")));
    steps.push(SseStep::Done);
    steps
}

pub(crate) fn header_key(headers: &HeaderMap) -> String {
    headers
        .get("api-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// A key only in `Authorization` is no key to Azure: that header carries Entra ID tokens.
pub(crate) fn check_auth(valid_keys: &[String], headers: &HeaderMap) -> Option<Reply> {
    let key = header_key(headers);
    if key.is_empty() {
        return Some(fx::MISSING_KEY.reply());
    }
    (!valid_keys.contains(&key)).then(invalid_key)
}

pub(crate) fn headers(out: &mut Vec<(&'static str, String)>) {
    let id = format!(
        "{}-{}-{}-{}-{}",
        ids::hex(8),
        ids::hex(4),
        ids::hex(4),
        ids::hex(4),
        ids::hex(12)
    );
    out.push(("apim-request-id", id.clone()));
    out.push(("x-request-id", id));
    out.push(("x-ms-region", "East US".into()));
}

/// The resource's models as `/openai/v1/models` lists them: base models with capabilities
/// (an embedding model says `chat_completion: false`).
pub(crate) fn list_models(models: &[ModelEntry]) -> Reply {
    let data: Vec<Value> = models
        .iter()
        .map(|m| {
            let chat = !m.id.contains("embedding") && !m.id.contains("whisper") && !m.id.contains("dall-e");
            json!({"id": m.id, "object": "model", "created_at": m.created,
                   "capabilities": {"chat_completion": chat, "completion": false, "embeddings": !chat,
                                    "fine_tune": false, "inference": true},
                   "lifecycle_status": "generally-available", "status": "succeeded"})
        })
        .collect();
    Reply::Error(HttpError::json(
        200,
        json!({"object": "list", "data": data}).to_string(),
    ))
}

pub fn default_models() -> Vec<ModelEntry> {
    [
        ("gpt-4o-2024-08-06", 1_722_902_400),
        ("gpt-4o-mini-2024-07-18", 1_721_260_800),
        ("gpt-4.1-2025-04-14", 1_744_588_800),
        ("o3-mini-2025-01-31", 1_738_281_600),
        ("text-embedding-3-small", 1_705_953_600),
    ]
    .into_iter()
    .map(|(id, created)| ModelEntry::new(id, created, "system"))
    .collect()
}

/// `[fake:…]` in Azure's words.
pub(crate) fn trigger(t: Trigger) -> Option<Reply> {
    match t {
        Trigger::Quota => Some(fx::QUOTA.reply()),
        Trigger::RateLimit => Some(rate_limited(Some(1500), Some(2))),
        Trigger::Unauthorized => Some(invalid_key()),
        _ => None,
    }
}
