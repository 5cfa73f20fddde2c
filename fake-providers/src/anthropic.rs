//! Anthropic's Messages API as the fake plays it: `x-api-key` and `anthropic-version`, the
//! paginated `GET /v1/models`, `POST /v1/messages` streamed as named events, its error bodies
//! (`fixtures/anthropic/`) and its `anthropic-ratelimit-*` headers.

use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::chat::{last_user_text, prompt_tokens};
use crate::fixtures::anthropic as fx;
use crate::ids;
use crate::models::ModelEntry;
use crate::script::{HttpError, Reply, SseStep};
use crate::server::Shared;
use crate::triggers::{self, Trigger};

/// The limits the API reports, each with `-limit`, `-remaining` and `-reset` headers.
const LIMITS: [&str; 4] = ["requests", "tokens", "input-tokens", "output-tokens"];

/// Which rate-limit hint a 429 carries.
#[derive(Debug, Clone, Copy)]
pub enum AnthropicHint {
    /// `retry-after: N` (seconds), as the API sends with most 429s.
    RetryAfterSecs(u64),
    /// No `retry-after`; `anthropic-ratelimit-{limit}-remaining: 0` and its `-reset` at
    /// now + `after` (RFC 3339), the other limits with room left.
    Reset {
        limit: &'static str,
        after: Duration,
    },
    None,
}

/// `2026-12-02T18:45:00Z`, without pulling a date crate into the fake.
pub(crate) fn rfc3339(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Headers every answer carries: the request id, and on success the rate-limit state.
pub(crate) fn headers(out: &mut Vec<(&'static str, String)>, success: bool) {
    out.push(("request-id", format!("req_{}", ids::hex(24))));
    if success {
        let reset = rfc3339(SystemTime::now() + Duration::from_secs(60));
        for limit in LIMITS {
            out.push((
                leak(format!("anthropic-ratelimit-{limit}-limit")),
                "50000".into(),
            ));
            out.push((
                leak(format!("anthropic-ratelimit-{limit}-remaining")),
                "49999".into(),
            ));
            out.push((
                leak(format!("anthropic-ratelimit-{limit}-reset")),
                reset.clone(),
            ));
        }
    }
}

/// Header names are few and fixed: a `&'static str` each, made once.
fn leak(name: String) -> &'static str {
    static NAMES: std::sync::OnceLock<std::sync::Mutex<Vec<&'static str>>> =
        std::sync::OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let mut names = names.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let n: &'static str = Box::leak(name.into_boxed_str());
    names.push(n);
    n
}

// --- Errors, as the API sends them (bodies in fixtures/anthropic/) -------------------------

pub fn authentication_error() -> Reply {
    fx::AUTHENTICATION_ERROR.reply()
}

pub fn permission_error() -> Reply {
    fx::PERMISSION_ERROR.reply()
}

/// 404 for a model the API does not know: `"model: <id>"`.
pub fn not_found_model(model: &str) -> Reply {
    error(404, "not_found_error", &format!("model: {model}"))
}

pub fn credit_balance_too_low() -> Reply {
    fx::CREDIT_BALANCE_TOO_LOW.reply()
}

pub fn invalid_request(message: &str) -> Reply {
    error(400, "invalid_request_error", message)
}

pub fn prompt_too_long() -> Reply {
    fx::PROMPT_TOO_LONG.reply()
}

pub fn request_too_large() -> Reply {
    fx::REQUEST_TOO_LARGE.reply()
}

pub fn overloaded() -> Reply {
    fx::OVERLOADED_ERROR.reply()
}

pub fn api_error() -> Reply {
    fx::API_ERROR.reply()
}

/// 429 `rate_limit_error` with the hint asked for.
pub fn rate_limited(hint: AnthropicHint) -> Reply {
    let mut e = HttpError::json(429, fx::RATE_LIMIT_ERROR.body);
    match hint {
        AnthropicHint::RetryAfterSecs(s) => e = e.with_header("retry-after", s.to_string()),
        AnthropicHint::Reset { limit, after } => {
            let soon = rfc3339(SystemTime::now() + after);
            let later = rfc3339(SystemTime::now() + Duration::from_secs(60));
            for l in LIMITS {
                let (remaining, reset) = if l == limit {
                    ("0", soon.clone())
                } else {
                    ("40", later.clone())
                };
                e = e
                    .with_header(format!("anthropic-ratelimit-{l}-remaining"), remaining)
                    .with_header(format!("anthropic-ratelimit-{l}-reset"), reset);
            }
        }
        AnthropicHint::None => {}
    }
    Reply::Error(e)
}

fn error(status: u16, kind: &str, message: &str) -> Reply {
    let body = json!({
        "type": "error",
        "error": { "type": kind, "message": message },
        "request_id": format!("req_{}", ids::hex(24)),
    });
    Reply::Error(HttpError::json(status, body.to_string()))
}

// --- Streams ---------------------------------------------------------------------------------

fn named(event: &str, data: Value) -> SseStep {
    SseStep::Named {
        event: event.to_owned(),
        data: data.to_string(),
    }
}

fn message_start(model: &str, input_tokens: u32) -> SseStep {
    named(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": format!("msg_{}", ids::hex(24)), "type": "message", "role": "assistant",
            "content": [], "model": model, "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 1}}}),
    )
}

fn text_block(index: u32, pieces: &[impl AsRef<str>]) -> Vec<SseStep> {
    let mut steps = vec![named(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
    )];
    steps.push(named("ping", json!({"type": "ping"})));
    for p in pieces {
        steps.push(named(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p.as_ref()}}),
        ));
    }
    steps.push(named(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    ));
    steps
}

fn message_end(stop_reason: &str, output_tokens: u32) -> Vec<SseStep> {
    vec![
        named(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
        ),
        named("message_stop", json!({"type": "message_stop"})),
    ]
}

/// A whole streamed answer: `usage` is (input tokens, output tokens).
pub fn text_reply(
    model: &str,
    pieces: &[impl AsRef<str>],
    stop_reason: &str,
    usage: (u32, u32),
) -> Vec<SseStep> {
    let mut steps = vec![message_start(model, usage.0)];
    steps.extend(text_block(0, pieces));
    steps.extend(message_end(stop_reason, usage.1));
    steps
}

/// Extended thinking first (a `thinking` block with its signature), then the answer.
pub fn thinking_then_text(model: &str, thinking: &str, pieces: &[&str]) -> Vec<SseStep> {
    let mut steps = vec![
        message_start(model, 48),
        named(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ),
        named(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": thinking}}),
        ),
        named(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}),
        ),
        named(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
    ];
    steps.extend(text_block(1, pieces));
    steps.extend(message_end("end_turn", 62));
    steps
}

/// Some text, then an `error` event mid-stream (as fixtures/anthropic/stream_error.sse).
pub fn error_after(model: &str, pieces: &[&str], error_type: &str, message: &str) -> Vec<SseStep> {
    let mut steps = vec![message_start(model, 12)];
    let mut block = text_block(0, pieces);
    block.pop(); // no content_block_stop: the stream breaks off
    steps.extend(block);
    steps.push(named(
        "error",
        json!({"type": "error", "error": {"details": null, "type": error_type, "message": message}}),
    ));
    steps
}

// --- Serving -------------------------------------------------------------------------------------

/// Claude models as `GET /v1/models` lists them (newest first), with their real dates.
pub fn default_models() -> Vec<ModelEntry> {
    [
        ("claude-opus-4-1-20250805", 1_754_352_000),
        ("claude-sonnet-4-5-20250929", 1_759_104_000),
        ("claude-haiku-4-5-20251001", 1_759_276_800),
        ("claude-opus-4-20250514", 1_747_872_000),
        ("claude-sonnet-4-20250514", 1_747_872_000),
        ("claude-3-7-sonnet-20250219", 1_739_923_200),
        ("claude-3-5-haiku-20241022", 1_729_555_200),
        ("claude-3-haiku-20240307", 1_709_769_600),
    ]
    .into_iter()
    .map(|(id, created)| ModelEntry::new(id, created, "anthropic"))
    .collect()
}

/// "claude-sonnet-4-5-20250929" → "Claude Sonnet 4.5".
fn display_name(id: &str) -> String {
    let words: Vec<String> = id
        .split('-')
        .filter(|w| !(w.len() == 8 && w.chars().all(|c| c.is_ascii_digit())))
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) if f.is_ascii_alphabetic() => f.to_uppercase().chain(c).collect(),
                _ => w.to_owned(),
            }
        })
        .collect();
    // Version digits are joined with a dot: "4 5" → "4.5".
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        let prev_digit = i > 0 && words[i - 1].chars().all(|c| c.is_ascii_digit());
        if i > 0 {
            out.push(if prev_digit && w.chars().all(|c| c.is_ascii_digit()) {
                '.'
            } else {
                ' '
            });
        }
        out.push_str(w);
    }
    out
}

/// `x-api-key` (not `Authorization`) and `anthropic-version` on every request.
pub(crate) fn check_auth(shared: &Shared, headers: &HeaderMap) -> Option<Reply> {
    if headers.get("anthropic-version").is_none() {
        return Some(fx::MISSING_VERSION.reply());
    }
    if !shared.config.require_key {
        return None;
    }
    let key = header_key(headers);
    (key.is_empty() || !shared.config.valid_keys.contains(&key)).then(authentication_error)
}

pub(crate) fn header_key(headers: &HeaderMap) -> String {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// `GET /v1/models?limit=&after_id=`: a page of `limit` (default 20, at most 1000).
pub(crate) fn list_models(models: &[ModelEntry], query: Option<&str>) -> Reply {
    let param = |name: &str| {
        query?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    };
    let limit = param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 1000);
    let start = match param("after_id") {
        Some(after) => models
            .iter()
            .position(|m| m.id == after)
            .map_or(models.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<&ModelEntry> = models.iter().skip(start).take(limit).collect();
    let data: Vec<Value> = page
        .iter()
        .map(|m| {
            json!({"type": "model", "id": m.id, "display_name": display_name(&m.id),
                   "created_at": rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(m.created))})
        })
        .collect();
    let body = json!({
        "data": data,
        "has_more": start + page.len() < models.len(),
        "first_id": page.first().map(|m| m.id.clone()),
        "last_id": page.last().map(|m| m.id.clone()),
    });
    Reply::Error(HttpError::json(200, body.to_string()))
}

/// `POST /v1/messages`.
pub(crate) fn messages(shared: &Shared, body: Option<&Value>) -> Reply {
    let Some(body) = body.filter(|b| b.is_object()) else {
        return invalid_request("messages: Field required");
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if body.get("max_tokens").and_then(Value::as_u64).is_none() {
        return invalid_request("max_tokens: Field required");
    }
    if let Some(reply) = shared.next_chat_reply() {
        return reply;
    }
    let said = last_user_text(body);
    if shared.config.triggers
        && let Some(t) = triggers::parse_trigger(&said)
        && let Some(reply) = trigger(shared, t, model)
    {
        return reply;
    }
    if !shared.config.models.iter().any(|m| m.id == model) {
        return not_found_model(model);
    }
    let pieces = shared.default_pieces(&said);
    let steps = text_reply(
        model,
        &pieces,
        "end_turn",
        (prompt_tokens(body), pieces.len() as u32),
    );
    if body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        Reply::Sse(shared.paced(steps))
    } else {
        let text: String = pieces.concat();
        Reply::json(
            200,
            &json!({"id": format!("msg_{}", ids::hex(24)), "type": "message", "role": "assistant",
                    "model": model, "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn", "stop_sequence": null,
                    "usage": {"input_tokens": 12, "output_tokens": pieces.len()}}),
        )
    }
}

/// `[fake:…]` in Anthropic's words; None for the rate limit's second (successful) try.
fn trigger(shared: &Shared, t: Trigger, model: &str) -> Option<Reply> {
    Some(match t {
        Trigger::Quota => credit_balance_too_low(),
        Trigger::RateLimit => {
            if !shared.take_rate_limit_turn() {
                return None;
            }
            rate_limited(AnthropicHint::RetryAfterSecs(2))
        }
        Trigger::Unauthorized => authentication_error(),
        Trigger::ServerError => overloaded(),
        Trigger::Slow => Reply::Sse(crate::sse::paced(
            text_reply(model, &triggers::slow_pieces(), "end_turn", (12, 60)),
            Duration::from_millis(100),
        )),
        Trigger::Drop => {
            let mut steps = vec![message_start(model, 12)];
            let mut block = text_block(0, &["This", " answer", " will", " be", " cut"]);
            block.pop();
            steps.extend(block);
            steps.push(SseStep::Drop);
            Reply::Sse(crate::sse::paced(steps, Duration::from_millis(50)))
        }
        Trigger::Markdown => Reply::Sse(crate::sse::paced(
            text_reply(model, &triggers::markdown_pieces(), "end_turn", (12, 40)),
            Duration::from_millis(15),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_dates() {
        assert_eq!(
            display_name("claude-sonnet-4-5-20250929"),
            "Claude Sonnet 4.5"
        );
        assert_eq!(
            display_name("claude-3-5-haiku-20241022"),
            "Claude 3.5 Haiku"
        );
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(1_759_104_000)),
            "2025-09-29T00:00:00Z"
        );
    }
}
