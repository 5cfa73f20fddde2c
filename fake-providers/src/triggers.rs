//! Triggers a demo user can type (`[fake:quota]`…) to make the binary misbehave on cue.

use std::time::Duration;

use crate::errors;
use crate::script::{Reply, SseStep};
use crate::sse::{self, ChunkMeta};

/// A scripted behaviour selected by a `[fake:NAME]` marker in the last user message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `[fake:quota]`: 429 insufficient_quota.
    Quota,
    /// `[fake:rate-limit]`: one 429 with `retry-after-ms: 1500`; the retry succeeds.
    RateLimit,
    /// `[fake:slow]`: a long answer at one chunk per 100 ms.
    Slow,
    /// `[fake:401]`: 401 invalid_api_key.
    Unauthorized,
    /// `[fake:500]`: 500 server_error.
    ServerError,
    /// `[fake:drop]`: a few chunks, then the connection is cut.
    Drop,
    /// `[fake:markdown]`: an answer with a heading, a list and a fenced code block.
    Markdown,
}

impl Trigger {
    pub const ALL: [Trigger; 7] = [
        Trigger::Quota,
        Trigger::RateLimit,
        Trigger::Slow,
        Trigger::Unauthorized,
        Trigger::ServerError,
        Trigger::Drop,
        Trigger::Markdown,
    ];

    pub fn marker(self) -> &'static str {
        match self {
            Trigger::Quota => "[fake:quota]",
            Trigger::RateLimit => "[fake:rate-limit]",
            Trigger::Slow => "[fake:slow]",
            Trigger::Unauthorized => "[fake:401]",
            Trigger::ServerError => "[fake:500]",
            Trigger::Drop => "[fake:drop]",
            Trigger::Markdown => "[fake:markdown]",
        }
    }
}

/// The trigger whose marker appears first in `text`, if any.
pub fn parse_trigger(text: &str) -> Option<Trigger> {
    Trigger::ALL
        .iter()
        .filter_map(|t| text.find(t.marker()).map(|at| (at, *t)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, t)| t)
}

/// Number of chunks `[fake:slow]` streams: about six seconds, long enough to press Stop.
pub const SLOW_CHUNKS: usize = 60;

const SLOW_TEXT: &str = "This is a deliberately slow answer from the fake OpenAI server, streamed one word every hundred milliseconds so that you have time to press Stop and watch the request being cancelled cleanly. It keeps going with more words about nothing in particular, counting sheep, describing the weather, and listing colours like red, green, blue, yellow and purple until it finally reaches the end.";

pub(crate) const MARKDOWN_TEXT: &str = "# Fake answer\n\nHere is what the fake server can render:\n\n- a heading\n- a list with **bold** and `inline code`\n- a fenced code block\n\n```python\ndef greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n\nprint(greet(\"Sidekick\"))\n```\n\nThat's all.";

/// Splits text into word-ish pieces the way tokens arrive: the space stays in front.
pub fn word_pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if (ch == ' ' || ch == '\n') && !current.is_empty() && !current.ends_with([' ', '\n']) {
            pieces.push(std::mem::take(&mut current));
        }
        current.push(ch);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// The slow answer's pieces (60 words), for every flavor.
pub(crate) fn slow_pieces() -> Vec<String> {
    word_pieces(SLOW_TEXT)
        .into_iter()
        .cycle()
        .take(SLOW_CHUNKS)
        .collect()
}

/// The markdown answer's pieces, for every flavor.
pub(crate) fn markdown_pieces() -> Vec<String> {
    word_pieces(MARKDOWN_TEXT)
}

/// The reply for a trigger, except `RateLimit`'s alternation, which needs server state.
/// `key` is the bearer key the request carried (echoed, masked, by `[fake:401]`).
pub(crate) fn reply_for(trigger: Trigger, model: &str, include_usage: bool, key: &str) -> Reply {
    let usage = |n: usize| include_usage.then_some((12, n as u32));
    match trigger {
        Trigger::Quota => errors::insufficient_quota(),
        Trigger::RateLimit => {
            errors::rate_limit_requests(model, errors::RetryHint::RetryAfterMs(1500))
        }
        Trigger::Unauthorized => errors::invalid_api_key(key),
        Trigger::ServerError => errors::server_error_500(),
        Trigger::Slow => {
            let pieces: Vec<String> = word_pieces(SLOW_TEXT)
                .into_iter()
                .cycle()
                .take(SLOW_CHUNKS)
                .collect();
            let meta = ChunkMeta::new(model).with_usage(include_usage);
            Reply::Sse(sse::paced(
                sse::text_reply_with(&meta, &pieces, "stop", usage(pieces.len())),
                Duration::from_millis(100),
            ))
        }
        Trigger::Drop => {
            let meta = ChunkMeta::new(model).with_usage(include_usage);
            let mut steps = vec![SseStep::Event(sse::role_chunk(&meta))];
            for piece in ["This", " answer", " will", " be", " cut"] {
                steps.push(SseStep::Event(sse::content_chunk(&meta, piece)));
            }
            steps.push(SseStep::Drop);
            Reply::Sse(sse::paced(steps, Duration::from_millis(50)))
        }
        Trigger::Markdown => {
            let pieces = word_pieces(MARKDOWN_TEXT);
            let meta = ChunkMeta::new(model).with_usage(include_usage);
            Reply::Sse(sse::paced(
                sse::text_reply_with(&meta, &pieces, "stop", usage(pieces.len())),
                Duration::from_millis(15),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_marker() {
        assert_eq!(
            parse_trigger("hi [fake:slow] then [fake:quota]"),
            Some(Trigger::Slow)
        );
        assert_eq!(parse_trigger("[fake:rate-limit]"), Some(Trigger::RateLimit));
        assert_eq!(parse_trigger("[fake:nope]"), None);
    }

    #[test]
    fn pieces_rejoin_to_the_text() {
        assert_eq!(word_pieces(MARKDOWN_TEXT).concat(), MARKDOWN_TEXT);
        assert_eq!(
            word_pieces("Hello big  world"),
            ["Hello", " big", "  world"]
        );
    }
}
