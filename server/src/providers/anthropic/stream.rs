//! Anthropic's stream as neutral events: `message_start` (model, input usage),
//! `content_block_start`/`_delta`/`_stop` (only text blocks are answer text: thinking,
//! redacted thinking and tool use are not), `message_delta` (stop reason, output usage),
//! `message_stop` (the end), `ping`, and `error` events mid-stream.

use std::collections::{HashSet, VecDeque};

use serde::Deserialize;
use serde_json::Value;
use sse_stream::Sse;

use super::errors::classify_event;
use crate::failure::ProviderError;
use crate::protocol::{FinishReason, Usage};
use crate::providers::ChatEvent;
use crate::providers::sse::{Decode, Flow};

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: Message,
    },
    ContentBlockStart {
        index: u64,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u64,
        delta: Delta,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {},
    /// `ping`, `content_block_stop`, and whatever a later API version adds.
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Delta {
    TextDelta {
        text: String,
    },
    /// `thinking_delta`, `signature_delta`, `input_json_delta`, …: not answer text.
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// Counts as Anthropic reports them; `message_delta`'s are cumulative.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Fields the later report has replace the earlier ones.
    fn update(&mut self, later: WireUsage) {
        self.input_tokens = later.input_tokens.or(self.input_tokens);
        self.output_tokens = later.output_tokens.or(self.output_tokens);
        self.cache_read_input_tokens = later
            .cache_read_input_tokens
            .or(self.cache_read_input_tokens);
        self.cache_creation_input_tokens = later
            .cache_creation_input_tokens
            .or(self.cache_creation_input_tokens);
    }

    /// OpenAI's convention, which the protocol keeps: prompt tokens include cached ones.
    fn neutral(self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let written = self.cache_creation_input_tokens.unwrap_or(0);
        let prompt = self.input_tokens.unwrap_or(0) + read + written;
        let completion = self.output_tokens.unwrap_or(0);
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            cached_input_tokens: self.cache_read_input_tokens,
            cache_write_tokens: self.cache_creation_input_tokens,
            reasoning_tokens: None,
            cost_usd: None,
            price: None,
        }
    }
}

fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "refusal" => FinishReason::ContentFilter,
        "tool_use" => FinishReason::ToolCalls,
        // "end_turn", "stop_sequence", "pause_turn", and what a later version adds.
        _ => FinishReason::Stop,
    }
}

#[derive(Default)]
pub struct Decoder {
    /// Indexes of the text blocks: deltas of other blocks are not answer text.
    text_blocks: HashSet<u64>,
    usage: WireUsage,
}

impl Decode for Decoder {
    fn decode(&mut self, event: Sse, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError> {
        let Some(data) = event.data.as_deref().filter(|d| !d.trim().is_empty()) else {
            return Ok(Flow::Continue);
        };
        let parsed: Event = serde_json::from_str(data).map_err(|_| {
            ProviderError::StreamInterrupted(
                "the provider sent an event that is not valid JSON".into(),
            )
        })?;
        match parsed {
            Event::MessageStart { message } => {
                if let Some(m) = message.model.filter(|m| !m.is_empty()) {
                    out.push_back(ChatEvent::Model(m));
                }
                if let Some(id) = message.id.filter(|i| !i.is_empty()) {
                    out.push_back(ChatEvent::ResponseId(id));
                }
                if let Some(u) = message.usage {
                    self.usage.update(u);
                }
            }
            Event::ContentBlockStart {
                index,
                content_block: Block::Text { text },
            } => {
                self.text_blocks.insert(index);
                if !text.is_empty() {
                    out.push_back(ChatEvent::Text(text));
                }
            }
            Event::ContentBlockDelta {
                index,
                delta: Delta::TextDelta { text },
            } if self.text_blocks.contains(&index) && !text.is_empty() => {
                out.push_back(ChatEvent::Text(text));
            }
            Event::MessageDelta { delta, usage } => {
                if let Some(u) = usage {
                    self.usage.update(u);
                    out.push_back(ChatEvent::Usage(self.usage.neutral()));
                }
                if let Some(r) = delta.stop_reason.as_deref() {
                    out.push_back(ChatEvent::Finish(finish_reason(r)));
                }
            }
            Event::MessageStop => return Ok(Flow::End),
            Event::Error {} => {
                let value: Value = serde_json::from_str(data).unwrap_or_default();
                return Err(ProviderError::api_failure(classify_event(&value)));
            }
            Event::ContentBlockStart { .. } | Event::ContentBlockDelta { .. } | Event::Other => {}
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::failure::Category;

    fn run(events: &[(&str, &str)]) -> (Vec<ChatEvent>, Option<ProviderError>, bool) {
        let mut d = Decoder::default();
        let mut out = VecDeque::new();
        for (name, data) in events {
            let sse = Sse {
                event: Some((*name).to_string()),
                data: Some((*data).to_string()),
                ..Default::default()
            };
            match d.decode(sse, &mut out) {
                Ok(Flow::End) => return (out.into(), None, true),
                Ok(Flow::Continue) => {}
                Err(e) => return (out.into(), Some(e), false),
            }
        }
        (out.into(), None, false)
    }

    #[test]
    fn text_usage_and_the_end_but_never_thinking() {
        let (events, err, ended) = run(&[
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-20250514","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            ),
            ("ping", r#"{"type": "ping"}"#),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"!"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":1}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ]);
        assert!(err.is_none() && ended);
        assert_eq!(
            events,
            [
                ChatEvent::Model("claude-sonnet-4-20250514".into()),
                ChatEvent::ResponseId("msg_1".into()),
                ChatEvent::Text("Hello".into()),
                ChatEvent::Text("!".into()),
                ChatEvent::Usage(Usage {
                    prompt_tokens: 40,
                    completion_tokens: 15,
                    total_tokens: 55,
                    cached_input_tokens: Some(5),
                    cache_write_tokens: Some(10),
                    reasoning_tokens: None,
                    cost_usd: None,
                    price: None,
                }),
                ChatEvent::Finish(FinishReason::Stop),
            ]
        );
    }

    #[test]
    fn stop_reasons_and_errors_mid_stream() {
        for (raw, want) in [
            ("max_tokens", FinishReason::Length),
            ("refusal", FinishReason::ContentFilter),
            ("stop_sequence", FinishReason::Stop),
        ] {
            let data = format!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"{raw}"}},"usage":{{"output_tokens":1}}}}"#
            );
            let (events, _, _) = run(&[("message_delta", &data)]);
            assert_eq!(events.last(), Some(&ChatEvent::Finish(want)), "{raw}");
        }
        let (events, err, _) = run(&[
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Part"}}"#,
            ),
            (
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
        ]);
        assert_eq!(events, [ChatEvent::Text("Part".into())]);
        assert_eq!(err.unwrap().category(), Category::Overloaded);
    }
}
