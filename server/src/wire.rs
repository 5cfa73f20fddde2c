//! OpenAI's wire types as we send and read them: snake_case, lenient on input (every field
//! optional, unknown fields and unknown enum values ignored) because OpenAI-compatible servers
//! differ. They never cross the protocol.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::{ChatMessage, Role};

#[derive(Debug, Serialize)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<Message<'a>>,
    /// async-openai's byot path does not set it for us.
    pub stream: bool,
    pub stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Debug, Serialize)]
pub struct Message<'a> {
    pub role: &'static str,
    pub content: &'a str,
}

impl<'a> From<&'a ChatMessage> for Message<'a> {
    fn from(m: &'a ChatMessage) -> Self {
        Message {
            role: match m.role {
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
            },
            content: &m.content,
        }
    }
}

/// One `chat.completion.chunk`, or an `{"error": …}` event in its place.
#[derive(Debug, Default, Deserialize)]
pub struct Chunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// `GET /models`.
#[derive(Debug, Deserialize)]
pub struct ModelList {
    pub data: Vec<WireModel>,
}

#[derive(Debug, Deserialize)]
pub struct WireModel {
    pub id: String,
    #[serde(default)]
    pub owned_by: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_chunks_other_servers_send() {
        // Groq's service_tier value and an unknown finish reason would fail async-openai's enums.
        let c: Chunk = serde_json::from_str(
            r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"llama","service_tier":"on_demand","obfuscation":"abc","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"eos"}]}"#,
        )
        .unwrap();
        assert_eq!(
            c.choices[0].delta.as_ref().unwrap().content.as_deref(),
            Some("hi")
        );
        assert_eq!(c.choices[0].finish_reason.as_deref(), Some("eos"));
        // Azure's prompt-filter chunk.
        let c: Chunk = serde_json::from_str(
            r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"#,
        )
        .unwrap();
        assert!(c.choices.is_empty() && c.error.is_none());
        let c: Chunk =
            serde_json::from_str(r#"{"error":{"message":"boom","type":"server_error"}}"#).unwrap();
        assert!(c.error.is_some());
    }

    #[test]
    fn sends_stream_and_usage_and_one_token_limit() {
        let msgs = [ChatMessage {
            role: Role::User,
            content: "hi".into(),
        }];
        let r = ChatRequest {
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
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["stream"], true);
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["max_completion_tokens"], 10);
        assert!(v.get("max_tokens").is_none() && v.get("temperature").is_none());
    }
}
