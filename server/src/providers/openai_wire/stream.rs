//! OpenAI's SSE chunks as neutral events: `chat.completion.chunk`s, the usage chunk, error
//! events, and the end marker `[DONE]`. Lenient: unknown fields and values (`obfuscation`,
//! Groq's `service_tier`, `eos` finishes) are ignored, so every compatible server streams.

use std::collections::VecDeque;

use serde::Deserialize;
use serde_json::Value;
use sse_stream::Sse;

use super::Dialect;
use crate::failure::{ApiFailure, Category, ProviderError};
use crate::protocol::{FinishReason, Usage};
use crate::providers::ChatEvent;
use crate::providers::sse::{Decode, Flow};

/// One `chat.completion.chunk`, or an `{"error": …}` event in its place.
#[derive(Debug, Default, Deserialize)]
struct Chunk {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens,
            cached_input_tokens: u.prompt_tokens_details.and_then(|d| d.cached_tokens),
            cache_write_tokens: None,
            reasoning_tokens: u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
            cost_usd: None,
            price: None,
        }
    }
}

fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        // "stop", and the other names local servers use for a natural end ("eos", "end_turn").
        _ => FinishReason::Stop,
    }
}

/// Decodes one dialect's chunks; remembers whether the model was already reported.
pub struct Decoder {
    dialect: Dialect,
    model_sent: bool,
}

impl Decoder {
    pub fn new(dialect: &Dialect) -> Decoder {
        Decoder {
            dialect: *dialect,
            model_sent: false,
        }
    }

    fn chunk(&mut self, chunk: Chunk, out: &mut VecDeque<ChatEvent>) -> Result<(), ProviderError> {
        if let Some(err) = &chunk.error {
            let value = serde_json::json!({ "error": err });
            return Err(ProviderError::api_failure((self.dialect.classify_event)(
                &value,
            )));
        }
        if !self.model_sent
            && let Some(m) = chunk.model.filter(|m| !m.is_empty())
        {
            self.model_sent = true;
            out.push_back(ChatEvent::Model(m));
            if let Some(id) = chunk.id.filter(|i| !i.is_empty()) {
                out.push_back(ChatEvent::ResponseId(id));
            }
        }
        // Only the first choice is ours (n = 1); others are ignored.
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(d) = choice.delta {
                if let Some(t) = d.content.filter(|t| !t.is_empty()) {
                    out.push_back(ChatEvent::Text(t));
                }
                // A refusal is the model's answer: show it as text.
                if let Some(t) = d.refusal.filter(|t| !t.is_empty()) {
                    out.push_back(ChatEvent::Text(t));
                }
            }
            if let Some(r) = choice.finish_reason.as_deref().filter(|r| !r.is_empty()) {
                // OpenRouter's end of an answer an upstream broke off (its `error` object,
                // when sent, was read above): not a finished answer.
                if r == "error" {
                    return Err(ProviderError::StreamInterrupted(
                        "the provider ended the answer with an error".into(),
                    ));
                }
                let reason = finish_reason(r);
                if reason == FinishReason::ContentFilter && self.dialect.content_filter_fails {
                    let mut f = ApiFailure::new(Category::ContentFiltered, None);
                    f.code = Some("content_filter".into());
                    return Err(ProviderError::api_failure(f));
                }
                out.push_back(ChatEvent::Finish(reason));
            }
        }
        if let Some(u) = chunk.usage {
            out.push_back(ChatEvent::Usage(u.into()));
        }
        Ok(())
    }
}

impl Decode for Decoder {
    fn decode(&mut self, event: Sse, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError> {
        // As async-openai does: `[DONE]` ends the stream, `keepalive` events carry nothing;
        // neither do blocks with only an id or a retry.
        let Some(data) = event.data.as_deref() else {
            return Ok(Flow::Continue);
        };
        if data == "[DONE]" {
            return Ok(Flow::End);
        }
        if event.event.as_deref() == Some("keepalive") || data.trim().is_empty() {
            return Ok(Flow::Continue);
        }
        match serde_json::from_str::<Chunk>(data) {
            Ok(chunk) => self.chunk(chunk, out).map(|()| Flow::Continue),
            Err(_) => Err(match serde_json::from_str::<Value>(data) {
                Ok(v) if v.get("error").is_some() => {
                    ProviderError::api_failure((self.dialect.classify_event)(&v))
                }
                // Google wraps an error in a list, in a stream as in a body.
                Ok(Value::Array(items))
                    if items.first().is_some_and(|i| i.get("error").is_some()) =>
                {
                    ProviderError::api_failure((self.dialect.classify_event)(&items[0]))
                }
                _ => ProviderError::StreamInterrupted(
                    "the provider sent an event that is not valid JSON".into(),
                ),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::providers::openai_wire::OPENAI;

    fn decode_all(dialect: &Dialect, datas: &[&str]) -> (Vec<ChatEvent>, Option<ProviderError>) {
        let mut d = Decoder::new(dialect);
        let mut out = VecDeque::new();
        for data in datas {
            let sse = Sse {
                data: Some((*data).to_string()),
                ..Default::default()
            };
            match d.decode(sse, &mut out) {
                Ok(Flow::End) => break,
                Ok(Flow::Continue) => {}
                Err(e) => return (out.into(), Some(e)),
            }
        }
        (out.into(), None)
    }

    #[test]
    fn reads_chunks_other_servers_send() {
        let (events, err) = decode_all(
            &OPENAI,
            &[
                // Azure's prompt-filter chunk: nothing for us.
                r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"#,
                // Groq's service_tier value and an unknown finish reason.
                r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"llama","service_tier":"on_demand","obfuscation":"abc","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"eos"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":1}}}"#,
                "[DONE]",
                r#"{"choices":[{"index":0,"delta":{"content":"after done"}}]}"#,
            ],
        );
        assert!(err.is_none());
        assert_eq!(
            events,
            [
                ChatEvent::Model("llama".into()),
                ChatEvent::ResponseId("x".into()),
                ChatEvent::Text("hi".into()),
                ChatEvent::Finish(FinishReason::Stop),
                ChatEvent::Usage(Usage {
                    prompt_tokens: 5,
                    completion_tokens: 2,
                    total_tokens: 7,
                    cached_input_tokens: Some(3),
                    cache_write_tokens: None,
                    reasoning_tokens: Some(1),
                    cost_usd: None,
                    price: None,
                }),
            ]
        );
    }

    #[test]
    fn error_events_and_junk_end_the_stream() {
        let (events, err) = decode_all(
            &OPENAI,
            &[
                r#"{"choices":[{"index":0,"delta":{"content":"part"}}]}"#,
                r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
            ],
        );
        assert_eq!(events, [ChatEvent::Text("part".into())]);
        assert_eq!(err.unwrap().category(), Category::ServerError);
        let (_, err) = decode_all(&OPENAI, &["{not json"]);
        assert_eq!(err.unwrap().category(), Category::StreamInterrupted);
        let (_, err) = decode_all(
            &OPENAI,
            &[r#"{"error":{"message":"Provider returned error","code":429}}"#],
        );
        assert_eq!(err.unwrap().category(), Category::RateLimited);
        // Google's list-wrapped error, mid-stream.
        let (events, err) = decode_all(
            &OPENAI,
            &[
                r#"{"choices":[{"index":0,"delta":{"content":"part"}}]}"#,
                r#"[{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}]"#,
            ],
        );
        assert_eq!(events, [ChatEvent::Text("part".into())]);
        assert_eq!(err.unwrap().category(), Category::Overloaded);
        // OpenRouter's finish "error" without its error object: broken off, not finished.
        let (events, err) = decode_all(
            &OPENAI,
            &[r#"{"choices":[{"index":0,"delta":{"content":"half"},"finish_reason":"error"}]}"#],
        );
        assert_eq!(events, [ChatEvent::Text("half".into())]);
        assert_eq!(err.unwrap().category(), Category::StreamInterrupted);
    }

    #[test]
    fn a_content_filter_finish_fails_only_where_the_dialect_says() {
        let finish = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}"#;
        let (events, err) = decode_all(&OPENAI, &[finish]);
        assert!(err.is_none());
        assert_eq!(events, [ChatEvent::Finish(FinishReason::ContentFilter)]);
        let strict = Dialect {
            content_filter_fails: true,
            ..OPENAI
        };
        let (_, err) = decode_all(&strict, &[finish]);
        assert_eq!(err.unwrap().category(), Category::ContentFiltered);
    }
}
