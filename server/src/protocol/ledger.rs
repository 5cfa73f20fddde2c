//! The request ledger's messages: one entry per provider call, the log query, and spend.

use serde::{Deserialize, Serialize};

/// What a provider call was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerOperation {
    /// The key check of `sidekick/connect`.
    Validate,
    Models,
    /// One attempt of a chat.
    Chat,
    /// An organization usage or costs call (with the admin key).
    Usage,
}

impl LedgerOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerOperation::Validate => "validate",
            LedgerOperation::Models => "models",
            LedgerOperation::Chat => "chat",
            LedgerOperation::Usage => "usage",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Ok,
    Failed,
    Cancelled,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Failed => "failed",
            CallOutcome::Cancelled => "cancelled",
        }
    }
}

/// One provider call. Never a key, a prompt or an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLogEntry {
    pub id: i64,
    /// Unix milliseconds.
    pub started_at: i64,
    pub provider: String,
    /// The host of the base URL.
    pub host: String,
    pub operation: LedgerOperation,
    pub model: Option<String>,
    pub chat_id: Option<String>,
    /// 1 for the first attempt of a chat, 2 for its first retry…
    pub attempt: Option<u32>,
    pub outcome: CallOutcome,
    pub http_status: Option<u16>,
    /// The guidance kind of a failed call.
    pub guidance_kind: Option<String>,
    /// The provider's request id.
    pub request_id: Option<String>,
    /// Time to the response headers.
    pub headers_ms: Option<u64>,
    pub first_token_ms: Option<u64>,
    pub duration_ms: u64,
    pub input_tokens: Option<u64>,
    pub cached_input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
    /// Null when the call used no tokens, or its model is unpriced.
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLogParams {
    /// Default 100, at most 1000.
    pub limit: Option<u32>,
    /// Entries older than this id (the previous page's `nextBefore`).
    pub before: Option<i64>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub outcome: Option<CallOutcome>,
    pub operation: Option<LedgerOperation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLogResult {
    /// Newest first.
    pub entries: Vec<RequestLogEntry>,
    /// Pass as `before` for the next page; null on the last one.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpendGroupBy {
    #[default]
    Day,
    Model,
    Provider,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendParams {
    /// `YYYY-MM-DD`, local time, inclusive.
    pub from: String,
    /// `YYYY-MM-DD`, local time, inclusive.
    pub to: String,
    #[serde(default)]
    pub group_by: SpendGroupBy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendGroup {
    /// The day (`YYYY-MM-DD`), model or provider.
    pub key: String,
    pub cost_usd: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub calls: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendResult {
    /// Always `usd`.
    pub currency: String,
    pub total: f64,
    /// Chat attempts of unknown cost (tokens with no price, or taken with no usage back): the
    /// total leaves them out.
    pub unpriced_calls: u64,
    pub groups: Vec<SpendGroup>,
    /// The monthly budget in USD, when one is set (so a client can show `$3.42 / $20`).
    pub budget_usd: Option<f64>,
    pub warn_percent: u32,
}
