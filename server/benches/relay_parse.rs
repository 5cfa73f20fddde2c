//! In-process cost of the relay's hot path, per chunk: SSE framing (sse-stream, as `chat.rs`
//! uses it) → the OpenAI wire's decoder (serde, lenient) → neutral text events appended, against a
//! baseline of `serde_json::from_str::<serde_json::Value>` on the same bytes, and against
//! eventsource-stream (async-openai's parser, which the relay used before) in a burst's reads.
//!
//! `cargo bench -p sidekick-server --bench relay_parse`; `scripts/bench.sh` reads the medians
//! from `target/criterion/*/new/estimates.json`. Figures go to docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::convert::Infallible;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fake_providers::SseStep;
use fake_providers::sse::{self, ChunkMeta};
use futures_util::Stream;
use serde_json::Value;
use std::collections::VecDeque;

use sidekick_server::providers::ChatEvent;
use sidekick_server::providers::openai_wire::{Decoder, OPENAI};
use sidekick_server::providers::sse::Decode;

/// Content chunks per answer: the 2,000-token answer.
const TOKENS: usize = 2000;

/// Word-sized pieces, like the tokens a model streams.
fn pieces(n: usize) -> Vec<String> {
    const WORDS: [&str; 12] = [
        "Hello",
        "!",
        " Here",
        " is",
        " a",
        " function",
        " that",
        " parses",
        " the",
        " input",
        ".\n",
        " `code`",
    ];
    (0..n).map(|i| WORDS[i % WORDS.len()].to_owned()).collect()
}

/// The answer as the fake puts it on the wire, one buffer per SSE event (how the fake's
/// chunked body, and so reqwest's `bytes_stream`, frames it).
fn answer() -> (Vec<Vec<u8>>, Vec<String>) {
    let meta = ChunkMeta::new("gpt-4o-mini").with_usage(true);
    let steps = sse::text_reply_with(&meta, &pieces(TOKENS), "stop", Some((12, TOKENS as u32)));
    let frames = steps.iter().filter_map(sse::encode).collect();
    let data = steps
        .iter()
        .filter_map(|s| match s {
            SseStep::Event(json) => Some(json.clone()),
            _ => None,
        })
        .collect();
    (frames, data)
}

/// The same bytes in 64 KiB reads, what a burst looks like once the socket buffer fills.
fn large_reads(frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
    frames
        .concat()
        .chunks(64 * 1024)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Drives an always-ready stream to its end without a runtime.
fn for_each<S: Stream>(stream: S, mut f: impl FnMut(S::Item)) {
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(item)) => f(item),
            Poll::Ready(None) => return,
            Poll::Pending => unreachable!("an iterator stream is always ready"),
        }
    }
}

/// Decodes one event as the OpenAI wire does and appends its text, as the chat turn does.
fn append(decoder: &mut Decoder, out: &mut VecDeque<ChatEvent>, text: &mut String, data: &str) {
    let event = sse_stream::Sse {
        data: Some(data.to_string()),
        ..Default::default()
    };
    decoder.decode(event, out).expect("a chunk");
    while let Some(e) = out.pop_front() {
        if let ChatEvent::Text(t) = e {
            text.push_str(&t);
        }
    }
}

/// Decodes one event whose SSE framing is done.
fn decode(
    decoder: &mut Decoder,
    out: &mut VecDeque<ChatEvent>,
    text: &mut String,
    event: sse_stream::Sse,
) {
    decoder.decode(event, out).expect("a chunk");
    while let Some(e) = out.pop_front() {
        if let ChatEvent::Text(t) = e {
            text.push_str(&t);
        }
    }
}

fn byte_stream(frames: &[Vec<u8>]) -> impl Stream<Item = Result<&[u8], Infallible>> {
    futures_util::stream::iter(frames.iter().map(|f| Ok(f.as_slice())))
}

/// What a chat does per event: sse-stream, the OpenAI wire's decoder, text appended.
fn relay_text(frames: &[Vec<u8>]) -> String {
    let (mut text, mut decoder, mut out) = (String::new(), Decoder::new(&OPENAI), VecDeque::new());
    for_each(
        sse_stream::SseByteStream::new(byte_stream(frames)),
        |event| decode(&mut decoder, &mut out, &mut text, event.expect("valid SSE")),
    );
    text
}

/// The same with eventsource-stream, async-openai's SSE parser, which the relay used before.
fn eventsource_text(frames: &[Vec<u8>]) -> String {
    let (mut text, mut decoder, mut out) = (String::new(), Decoder::new(&OPENAI), VecDeque::new());
    for_each(
        eventsource_stream::EventStream::new(byte_stream(frames)),
        |event| {
            append(
                &mut decoder,
                &mut out,
                &mut text,
                &event.expect("valid SSE").data,
            )
        },
    );
    text
}

/// Baseline: the same SSE framing, then a generic `Value` parse and lookup.
fn value_text(frames: &[Vec<u8>]) -> String {
    let mut text = String::new();
    for_each(
        sse_stream::SseByteStream::new(byte_stream(frames)),
        |event| {
            let Some(data) = event.expect("valid SSE").data else {
                return;
            };
            if data == "[DONE]" {
                return;
            }
            let v: Value = serde_json::from_str(&data).expect("JSON");
            if let Some(t) = v
                .pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
            {
                text.push_str(t);
            }
        },
    );
    text
}

fn benches(c: &mut Criterion) {
    let (frames, data) = answer();
    let large = large_reads(&frames);
    let expected: String = pieces(TOKENS).concat();
    assert_eq!(relay_text(&frames), expected);
    assert_eq!(value_text(&frames), expected);
    assert_eq!(relay_text(&large), expected);
    assert_eq!(eventsource_text(&large), expected);

    // Elements = SSE events (role, 2,000 content, finish, usage, [DONE]).
    let events = frames.len() as u64;
    pair(
        c,
        "sse_to_text",
        events,
        ("wire_chunk", &|| {
            black_box(relay_text(black_box(&frames)));
        }),
        ("serde_value_baseline", &|| {
            black_box(value_text(black_box(&frames)));
        }),
    );
    // A burst: the parser sees 64 KiB at a time instead of one event per read.
    pair(
        c,
        "sse_to_text_64k_reads",
        events,
        ("wire_chunk", &|| {
            black_box(relay_text(black_box(&large)));
        }),
        ("eventsource_stream", &|| {
            black_box(eventsource_text(black_box(&large)));
        }),
    );
    pair(
        c,
        "chunk_parse",
        data.len() as u64,
        ("wire_chunk", &|| {
            let (mut decoder, mut out) = (Decoder::new(&OPENAI), VecDeque::new());
            for d in black_box(&data) {
                let event = sse_stream::Sse {
                    data: Some(d.clone()),
                    ..Default::default()
                };
                decoder.decode(event, &mut out).expect("a chunk");
                black_box(out.drain(..).count());
            }
        }),
        ("serde_value_baseline", &|| {
            for d in black_box(&data) {
                black_box(serde_json::from_str::<Value>(d).expect("JSON"));
            }
        }),
    );
}

/// One criterion group: a function and its baseline over the same `elements`.
fn pair(
    c: &mut Criterion,
    group: &str,
    elements: u64,
    (name, run): (&str, &dyn Fn()),
    (base_name, base): (&str, &dyn Fn()),
) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(elements));
    g.bench_function(name, |b| b.iter(run));
    g.bench_function(base_name, |b| b.iter(base));
    g.finish();
}

criterion_group! {
    name = group;
    // Short and steady on a noisy 2-core machine; medians come from estimates.json.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(group);
