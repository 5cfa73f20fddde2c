//! Scripted replies: the building blocks a test queues to make the next request misbehave.

use std::time::Duration;

/// One reply the fake plays for one request, queued with `FakeHandle::push`.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete, non-streamed response (errors, but also a hand-written 200 JSON body).
    Error(HttpError),
    /// `200 text/event-stream` whose body is produced step by step.
    Sse(Vec<SseStep>),
    /// Like `Sse`, but the status line and headers themselves are held back for the duration:
    /// a slow first byte, as seen from the client.
    SseAfter(Duration, Vec<SseStep>),
    /// Never sends a status line: the request hangs until the client gives up (or the fake
    /// shuts down). For "no response within requestTimeoutMs" tests.
    HangBeforeHeaders,
}

impl Reply {
    /// A `200 application/json` body, e.g. a hand-written non-streamed completion.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Reply::Error(HttpError::json(status, body.to_string()))
    }
}

/// A complete HTTP response. The fake adds `x-request-id`, `openai-processing-ms` and
/// `openai-version` unless `headers` already names them.
#[derive(Debug, Clone)]
pub struct HttpError {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub content_type: String,
}

impl HttpError {
    /// The API's own content type for JSON bodies.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        HttpError {
            status,
            headers: Vec::new(),
            body: body.into(),
            content_type: "application/json".to_owned(),
        }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl From<HttpError> for Reply {
    fn from(e: HttpError) -> Self {
        Reply::Error(e)
    }
}

/// One step of a streamed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseStep {
    /// `data: <json>\n\n`; the text is sent verbatim, so it may also be broken JSON.
    Event(String),
    /// `event: <event>\ndata: <data>\n\n`: a named event, as Anthropic sends every one.
    Named { event: String, data: String },
    /// `: <text>\n\n`, the keep-alive comment some gateways send.
    Comment(String),
    /// Bytes sent as they are: split events, odd line endings, non-UTF-8.
    Raw(Vec<u8>),
    /// Sends nothing for a while; the headers are already out by then.
    Delay(Duration),
    /// `data: [DONE]\n\n`.
    Done,
    /// Aborts the connection without finishing the chunked body, so the client sees an
    /// incomplete body (a reset), not a clean end.
    Drop,
    /// Keeps the connection open and sends nothing more until the client goes away.
    Stall,
}
