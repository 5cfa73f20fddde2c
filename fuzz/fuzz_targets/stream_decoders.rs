//! Arbitrary SSE bytes, split at arbitrary points, through each provider's stream decoder
//! (Anthropic's, and the OpenAI chat-completions one in each provider's dialect: Azure's
//! content filter, OpenRouter's and Gemini's in-stream errors): no panic, and the decoded
//! text is the same however the bytes were split.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sidekick_server::providers::{ChatEvent, DECODERS, decode_body};

fn text(events: &[Result<ChatEvent, sidekick_server::failure::ProviderError>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(ChatEvent::Text(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let wire = DECODERS[usize::from(selector) % DECODERS.len()];
    let (splits, body) = rest.split_at(rest.len().min(8));
    let whole = decode_body(wire, vec![Bytes::copy_from_slice(body)], 10_000);
    let mut chunks = Vec::new();
    let mut at = 0;
    let mut cut = splits.iter().copied().cycle();
    while at < body.len() {
        let n = (cut.next().unwrap_or(7) as usize % 32 + 1).min(body.len() - at);
        chunks.push(Bytes::copy_from_slice(&body[at..at + n]));
        at += n;
    }
    let split = decode_body(wire, chunks, 10_000);
    assert_eq!(text(&whole), text(&split), "the split changed the text");
});
