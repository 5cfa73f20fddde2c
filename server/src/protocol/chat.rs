//! A streamed chat: the request, its deltas and retry statuses, and its result.

use serde::{Deserialize, Serialize};

use super::GuidanceKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// Files and selections attached to a user message; rendered into the prompt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<super::ContextItem>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatParams {
    /// Chosen by the client, unique among its running chats; echoed in every delta and status.
    pub chat_id: String,
    pub messages: Vec<ChatMessage>,
    /// Defaults to the active selection.
    pub provider: Option<String>,
    /// Defaults to the active selection.
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// A stored conversation to continue: `messages` is then only the new question, and the
    /// turn is stored whatever its ending.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Sent first, as the system (or developer) message.
    #[serde(default)]
    pub instructions: Option<String>,
    /// Over the model's window, leave out the oldest turns instead of refusing.
    #[serde(default)]
    pub drop_oldest: bool,
}

/// A piece of a streamed answer. Concatenated in `seq` order, the texts equal the final text
/// (or, after a failure, the guidance's `partialText`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatDeltaParams {
    pub chat_id: String,
    /// Starts at 1 and grows by one per delta of this chat.
    pub seq: u64,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ContentFilter,
    ToolCalls,
    Cancelled,
}

/// Tokens of one answer, as the provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Every input token, cached or not.
    pub prompt_tokens: u64,
    /// Every output token, reasoning included.
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// Input tokens read from the provider's prompt cache, when it says.
    pub cached_input_tokens: Option<u64>,
    /// Input tokens written to the provider's prompt cache (Anthropic), when it says.
    pub cache_write_tokens: Option<u64>,
    /// Output tokens spent on reasoning, when it says.
    pub reasoning_tokens: Option<u64>,
    /// What the answer cost, from the price table; null when the model is unpriced (sent as
    /// null, not left out, so a client can test for it).
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// The prices used for `costUsd`, USD per million tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<crate::protocol::ModelPrice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatResult {
    pub chat_id: String,
    /// Authoritative: a delta that arrives after this result is already part of it.
    pub text: String,
    pub finish_reason: FinishReason,
    /// The model that answered, as the provider named it.
    pub model: String,
    pub usage: Option<Usage>,
    /// The provider's request id, for support tickets.
    pub request_id: Option<String>,
    /// With `conversationId`: the stored question's and answer's ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Messages left out to fit the window (`dropOldest`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_messages: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChatState {
    /// A retry is waiting `delayMs` before attempt `attempt`.
    Retrying,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatStatusParams {
    pub chat_id: String,
    pub state: ChatState,
    /// The attempt that starts after the wait (2 for the first retry).
    pub attempt: u32,
    pub delay_ms: u64,
    pub kind: GuidanceKind,
    /// One line for people, e.g. "Rate limited by OpenAI; retrying in 2 s".
    pub message: String,
}
