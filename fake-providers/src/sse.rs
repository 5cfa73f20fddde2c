//! Builders for streamed chat completions, byte-compatible with what api.openai.com sends.
//!
//! Field order and values follow real captures of `POST /v1/chat/completions` with
//! `"stream": true` (2025–2026: `service_tier`, `obfuscation`, `usage: null` on every chunk
//! once `stream_options.include_usage` is set, a final `"choices":[]` usage chunk), e.g. the
//! recordings quoted in ENTERPILOT/GoModel PR #46 and aimlapi's docs.

use std::time::Duration;

use crate::ids;
use crate::script::SseStep;

/// The fingerprint the fake reports for models that have one.
pub const SYSTEM_FINGERPRINT: &str = "fp_f986a632b0";

/// What every chunk of one completion repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkMeta {
    pub id: String,
    pub created: u64,
    /// The dated snapshot the API answers with (`gpt-4o-mini-2024-07-18`), not the alias asked for.
    pub model: String,
    /// `None` is sent as `null`, as the API does for gpt-5 and gpt-3.5.
    pub system_fingerprint: Option<String>,
    /// Mirrors `stream_options.include_usage`: `"usage":null` on each chunk plus a usage chunk.
    pub include_usage: bool,
}

impl ChunkMeta {
    pub fn new(model: &str) -> Self {
        ChunkMeta {
            id: ids::completion_id(),
            created: ids::unix_now(),
            model: snapshot_of(model).to_owned(),
            system_fingerprint: Some(SYSTEM_FINGERPRINT.to_owned()),
            include_usage: false,
        }
    }

    pub fn with_usage(mut self, include_usage: bool) -> Self {
        self.include_usage = include_usage;
        self
    }
}

/// The dated snapshot an alias resolves to, as echoed in the `model` field of responses.
pub fn snapshot_of(model: &str) -> &str {
    match model {
        "gpt-4o" => "gpt-4o-2024-08-06",
        "gpt-4o-mini" => "gpt-4o-mini-2024-07-18",
        "gpt-4.1" => "gpt-4.1-2025-04-14",
        "gpt-4.1-mini" => "gpt-4.1-mini-2025-04-14",
        "gpt-5" => "gpt-5-2025-08-07",
        "gpt-5-mini" => "gpt-5-mini-2025-08-07",
        "o1" => "o1-2024-12-17",
        "o3-mini" => "o3-mini-2025-01-31",
        "gpt-3.5-turbo" => "gpt-3.5-turbo-0125",
        other => other,
    }
}

/// A JSON string literal, quotes included.
pub fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// One element of `choices`: `{"index":…,"delta":…,"logprobs":null,"finish_reason":…}`.
pub fn choice_json(index: u32, delta_json: &str, finish_reason: Option<&str>) -> String {
    let finish = finish_reason.map_or_else(|| "null".to_owned(), json_str);
    format!(r#"{{"index":{index},"delta":{delta_json},"logprobs":null,"finish_reason":{finish}}}"#)
}

/// A `chat.completion.chunk` with the given raw `choices` elements, in the API's field order.
pub fn chunk_json(meta: &ChunkMeta, choices: &[String]) -> String {
    let padding_basis: usize = choices.iter().map(String::len).sum();
    chunk_with(
        meta,
        &choices.join(","),
        meta.include_usage.then_some("null"),
        padding_basis,
    )
}

/// The final chunk sent when `include_usage` was asked for: no choices, only token counts.
pub fn usage_chunk_json(meta: &ChunkMeta, prompt_tokens: u32, completion_tokens: u32) -> String {
    let usage = format!(
        concat!(
            r#"{{"prompt_tokens":{},"completion_tokens":{},"total_tokens":{},"#,
            r#""prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},"#,
            r#""completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,"#,
            r#""accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}}"#
        ),
        prompt_tokens,
        completion_tokens,
        prompt_tokens + completion_tokens
    );
    chunk_with(meta, "", Some(&usage), usage.len())
}

fn chunk_with(
    meta: &ChunkMeta,
    choices: &str,
    usage: Option<&str>,
    padding_basis: usize,
) -> String {
    let fingerprint = meta
        .system_fingerprint
        .as_deref()
        .map_or_else(|| "null".to_owned(), json_str);
    let usage = usage
        .map(|u| format!(r#","usage":{u}"#))
        .unwrap_or_default();
    // The API pads each chunk to blur token lengths on the wire; the length varies with content.
    let obfuscation = ids::alnum(1 + (16 - padding_basis % 16) % 16);
    format!(
        r#"{{"id":{},"object":"chat.completion.chunk","created":{},"model":{},"service_tier":"default","system_fingerprint":{},"choices":[{}]{},"obfuscation":"{}"}}"#,
        json_str(&meta.id),
        meta.created,
        json_str(&meta.model),
        fingerprint,
        choices,
        usage,
        obfuscation
    )
}

/// The first chunk of an assistant text answer.
pub fn role_chunk(meta: &ChunkMeta) -> String {
    chunk_json(
        meta,
        &[choice_json(
            0,
            r#"{"role":"assistant","content":"","refusal":null}"#,
            None,
        )],
    )
}

pub fn content_chunk(meta: &ChunkMeta, text: &str) -> String {
    chunk_json(
        meta,
        &[choice_json(
            0,
            &format!(r#"{{"content":{}}}"#, json_str(text)),
            None,
        )],
    )
}

pub fn finish_chunk(meta: &ChunkMeta, finish_reason: &str) -> String {
    chunk_json(meta, &[choice_json(0, "{}", Some(finish_reason))])
}

/// Role chunk, one chunk per piece, a chunk carrying `finish_reason` ("stop", "length",
/// "content_filter"), the usage chunk when `usage` is given, then `[DONE]`.
pub fn text_reply(
    model: &str,
    pieces: &[&str],
    finish_reason: &str,
    usage: Option<(u32, u32)>,
) -> Vec<SseStep> {
    let meta = ChunkMeta::new(model).with_usage(usage.is_some());
    text_reply_with(&meta, pieces, finish_reason, usage)
}

/// `text_reply` with caller-chosen id, model and timestamps.
pub fn text_reply_with<S: AsRef<str>>(
    meta: &ChunkMeta,
    pieces: &[S],
    finish_reason: &str,
    usage: Option<(u32, u32)>,
) -> Vec<SseStep> {
    let mut steps = Vec::with_capacity(pieces.len() + 4);
    steps.push(SseStep::Event(role_chunk(meta)));
    steps.extend(
        pieces
            .iter()
            .map(|p| SseStep::Event(content_chunk(meta, p.as_ref()))),
    );
    steps.push(SseStep::Event(finish_chunk(meta, finish_reason)));
    steps.extend(usage_tail(meta, usage));
    steps.push(SseStep::Done);
    steps
}

fn usage_tail(meta: &ChunkMeta, usage: Option<(u32, u32)>) -> Option<SseStep> {
    let (prompt, completion) = usage?;
    meta.include_usage
        .then(|| SseStep::Event(usage_chunk_json(meta, prompt, completion)))
}

/// A refusal streamed through `delta.refusal` (structured outputs), ending with "stop".
pub fn refusal_reply(model: &str, pieces: &[&str], usage: Option<(u32, u32)>) -> Vec<SseStep> {
    let meta = ChunkMeta::new(model).with_usage(usage.is_some());
    let mut steps = vec![SseStep::Event(chunk_json(
        &meta,
        &[choice_json(
            0,
            r#"{"role":"assistant","content":null,"refusal":""}"#,
            None,
        )],
    ))];
    steps.extend(pieces.iter().map(|p| {
        SseStep::Event(chunk_json(
            &meta,
            &[choice_json(
                0,
                &format!(r#"{{"refusal":{}}}"#, json_str(p)),
                None,
            )],
        ))
    }));
    steps.push(SseStep::Event(finish_chunk(&meta, "stop")));
    steps.extend(usage_tail(&meta, usage));
    steps.push(SseStep::Done);
    steps
}

/// One function call to stream: its arguments arrive split into `argument_pieces`.
#[derive(Debug, Clone)]
pub struct ToolCallSpec<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub argument_pieces: &'a [&'a str],
}

/// Tool calls the way the API streams them: the first delta of each call carries `id`,
/// `type` and `function.name` with empty arguments, later deltas only argument fragments
/// keyed by `index`; the answer ends with `finish_reason: "tool_calls"`.
pub fn tool_calls_reply(
    model: &str,
    calls: &[ToolCallSpec<'_>],
    usage: Option<(u32, u32)>,
) -> Vec<SseStep> {
    let meta = ChunkMeta::new(model).with_usage(usage.is_some());
    let mut steps = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let head = format!(
            r#"{{"index":{i},"id":{},"type":"function","function":{{"name":{},"arguments":""}}}}"#,
            json_str(call.id),
            json_str(call.name)
        );
        let delta = if i == 0 {
            format!(r#"{{"role":"assistant","content":null,"tool_calls":[{head}],"refusal":null}}"#)
        } else {
            format!(r#"{{"tool_calls":[{head}]}}"#)
        };
        steps.push(SseStep::Event(chunk_json(
            &meta,
            &[choice_json(0, &delta, None)],
        )));
        for piece in call.argument_pieces {
            let delta = format!(
                r#"{{"tool_calls":[{{"index":{i},"function":{{"arguments":{}}}}}]}}"#,
                json_str(piece)
            );
            steps.push(SseStep::Event(chunk_json(
                &meta,
                &[choice_json(0, &delta, None)],
            )));
        }
    }
    steps.push(SseStep::Event(finish_chunk(&meta, "tool_calls")));
    steps.extend(usage_tail(&meta, usage));
    steps.push(SseStep::Done);
    steps
}

/// Inserts `delay` before every step after the first, so events trickle in.
pub fn paced(steps: Vec<SseStep>, delay: Duration) -> Vec<SseStep> {
    let mut out = Vec::with_capacity(steps.len() * 2);
    for (i, step) in steps.into_iter().enumerate() {
        if i > 0 {
            out.push(SseStep::Delay(delay));
        }
        out.push(step);
    }
    out
}

/// OpenRouter's keep-alive comment, sent while the upstream model is still thinking.
pub fn keep_alive() -> SseStep {
    SseStep::Comment("OPENROUTER PROCESSING".to_owned())
}

/// The chunk Azure OpenAI sends first: no choices, empty id/model, only the prompt's
/// content-filter verdict. Shape from a raw capture quoted in microsoft/autogen#6465 and
/// AbanteAI/archive-old-cli-mentat#429.
pub fn azure_prompt_filter() -> SseStep {
    SseStep::Event(
        concat!(
            r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":"#,
            r#"[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"#,
            r#""self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"#,
            r#""violence":{"filtered":false,"severity":"safe"}}}]}"#
        )
        .to_owned(),
    )
}

/// A content delta for choice index 1, which a client that asked for one choice must ignore.
pub fn second_choice(meta: &ChunkMeta, text: &str) -> SseStep {
    SseStep::Event(chunk_json(
        meta,
        &[choice_json(
            1,
            &format!(r#"{{"content":{}}}"#, json_str(text)),
            None,
        )],
    ))
}

/// The error object the API sends inside an already-started 200 stream.
pub fn in_stream_error() -> SseStep {
    SseStep::Event(
        r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#
            .to_owned(),
    )
}

/// An event whose JSON is cut off mid-string.
pub fn unparseable() -> SseStep {
    SseStep::Event(
        r#"{"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tru"#
            .to_owned(),
    )
}

/// The bytes a step puts on the wire; `None` for steps that are not data.
pub fn encode(step: &SseStep) -> Option<Vec<u8>> {
    match step {
        SseStep::Event(json) => Some(format!("data: {json}\n\n").into_bytes()),
        SseStep::Named { event, data } => {
            Some(format!("event: {event}\ndata: {data}\n\n").into_bytes())
        }
        SseStep::Comment(text) => Some(format!(": {text}\n\n").into_bytes()),
        SseStep::Raw(bytes) => Some(bytes.clone()),
        SseStep::Done => Some(b"data: [DONE]\n\n".to_vec()),
        SseStep::Delay(_) | SseStep::Drop | SseStep::Stall => None,
    }
}

/// The wire bytes of a whole script, as a client reading to the end would receive them.
pub fn wire_bytes(steps: &[SseStep]) -> Vec<u8> {
    steps.iter().filter_map(encode).flatten().collect()
}
