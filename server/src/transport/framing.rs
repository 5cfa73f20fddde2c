//! LSP framing that survives a hostile or broken peer: bounded headers and bodies, a body that
//! must be UTF-8 JSON-RPC that tower-lsp can read (ids are i64 integers or strings), and
//! re-synchronisation on the next `Content-Length:` header after a frame whose length was
//! wrong. Pure and synchronous, so every byte sequence can be thrown at it in tests.

use bytes::{Buf, BytesMut};
use memchr::memmem;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc;

/// Header lines have no business being long: a peer that never ends one is refused, not
/// buffered. 8 KiB is many times any real LSP header block.
pub const MAX_HEADER: usize = 8 * 1024;
/// The largest message read. The biggest legitimate one is a chat carrying a long conversation:
/// a 1M-token context is about 4 MB of text, under 8 MB once JSON-escaped; 16 MiB leaves room
/// without letting a peer make the sidecar hold hundreds of megabytes.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// String ids longer than this are not echoed back: a peer does not get to choose how much we
/// write.
const MAX_ID: usize = 256;

/// What the framer hands on.
#[derive(Debug, PartialEq)]
pub enum Item {
    /// A message tower-lsp can read, forwarded byte for byte.
    Pass(Vec<u8>),
    /// A message to answer with `code`: on its own id where one could be recovered.
    Invalid {
        id: Option<Value>,
        code: i64,
        message: String,
    },
}

impl Item {
    /// The bytes tower-lsp receives: the message, or a request to the internal method that
    /// answers it. `fresh` is used when the client's id is unknown (JSON-RPC's `"id": null`,
    /// which tower-lsp cannot send from a handler).
    pub fn into_body(self, fresh: String) -> Vec<u8> {
        match self {
            Item::Pass(body) => body,
            Item::Invalid { id, code, message } => json!({
                "jsonrpc": "2.0",
                "id": id.unwrap_or(Value::String(fresh)),
                "method": super::INVALID_MESSAGE,
                "params": { "code": code, "message": message },
            })
            .to_string()
            .into_bytes(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Header,
    /// A header block that never ended was refused; drop bytes until a `Content-Length`.
    Discard,
    Body {
        len: usize,
        /// How far the body was searched for the next frame's header.
        scanned: usize,
    },
    /// The rest of a body too large to read, dropped as it arrives.
    Skip(usize),
}

#[derive(Debug)]
pub struct Framer {
    buf: BytesMut,
    state: State,
    fresh: u64,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            buf: BytesMut::new(),
            state: State::Header,
            fresh: 0,
        }
    }
}

const CONTENT_LENGTH: &[u8] = b"content-length";

fn invalid(id: Option<Value>, code: jsonrpc::ErrorCode, message: impl Into<String>) -> Item {
    Item::Invalid {
        id,
        code: code.code(),
        message: message.into(),
    }
}

impl Framer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that are not a complete message yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// An id no client uses, for answers whose own id is unknown.
    pub fn next_fresh_id(&mut self) -> String {
        self.fresh += 1;
        format!("sidekick-invalid-{}", self.fresh)
    }

    /// The next message, or None until more bytes arrive.
    pub fn next_item(&mut self) -> Option<Item> {
        loop {
            let step = match self.state {
                State::Header => self.header(),
                State::Discard => self.discard(),
                State::Body { len, scanned } => self.body(len, scanned),
                State::Skip(left) => self.skip(left),
            };
            match step {
                Step::Wait => return None,
                Step::Again => {}
                Step::Item(item) => return Some(item),
            }
        }
    }

    fn header(&mut self) -> Step {
        let Some((end, terminator)) = header_end(&self.buf) else {
            if self.buf.len() <= MAX_HEADER {
                return Step::Wait;
            }
            // One byte at least goes, or a refused block that starts with `Content-Length`
            // would be found again by the discard and refused again, for ever.
            self.buf.advance(1);
            self.state = State::Discard;
            return Step::Item(invalid(
                None,
                jsonrpc::ErrorCode::InvalidRequest,
                format!("a header longer than {MAX_HEADER} bytes was refused"),
            ));
        };
        let block = self.buf.split_to(end).freeze();
        self.buf.advance(terminator);
        let Some(at) = rfind_ignore_case(&block, CONTENT_LENGTH) else {
            if block.contains(&b':') {
                return Step::Item(invalid(
                    None,
                    jsonrpc::ErrorCode::ParseError,
                    "a header without Content-Length",
                ));
            }
            // Stray bytes between frames (the tail of a frame already answered).
            tracing::debug!("skipped {} stray bytes between messages", block.len());
            return Step::Again;
        };
        let line = &block[at + CONTENT_LENGTH.len()..];
        let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
        let value = String::from_utf8_lossy(line);
        let value = value.trim().trim_start_matches(':').trim();
        match value.parse::<usize>() {
            Ok(len) if len > MAX_BODY => {
                self.state = State::Skip(len);
                Step::Item(invalid(
                    None,
                    jsonrpc::ErrorCode::InvalidRequest,
                    format!("a message of {len} bytes is larger than the {MAX_BODY} allowed"),
                ))
            }
            Ok(len) => {
                self.state = State::Body { len, scanned: 0 };
                Step::Again
            }
            Err(_) => Step::Item(invalid(
                None,
                jsonrpc::ErrorCode::ParseError,
                "Content-Length is not a number",
            )),
        }
    }

    /// Drops the rest of a body too large to read. A frame header in it (which no JSON can
    /// hold) means the declared length was a lie: the next message starts there, and a peer
    /// that claimed a terabyte is answered again at once instead of never.
    fn skip(&mut self, left: usize) -> Step {
        let window = left.min(self.buf.len());
        // Past the body only as far as a header line that starts inside it can reach.
        let reach = (left.saturating_add(CONTENT_LENGTH.len() + 24)).min(self.buf.len());
        if let Some(at) = frame_start(&self.buf[..reach]).filter(|&at| at < window) {
            self.buf.advance(at);
            self.state = State::Header;
            return Step::Again;
        }
        // Keep what could be the start of a header line cut by this read.
        let keep = if window < left {
            CONTENT_LENGTH.len() + 24
        } else {
            0
        };
        let n = window.saturating_sub(keep);
        self.buf.advance(n);
        if n < left {
            self.state = State::Skip(left - n);
            return Step::Wait;
        }
        self.state = State::Header;
        Step::Again
    }

    fn discard(&mut self) -> Step {
        match find_ignore_case(&self.buf, CONTENT_LENGTH) {
            Some(at) => {
                self.buf.advance(at);
                self.state = State::Header;
                Step::Again
            }
            None => {
                // Keep what could be the start of a split "Content-Length".
                let keep = CONTENT_LENGTH.len() - 1;
                let drop = self.buf.len().saturating_sub(keep);
                self.buf.advance(drop);
                Step::Wait
            }
        }
    }

    /// The message ended at `at`, where the next frame's header starts: it is answered, and
    /// reading goes on from that header.
    fn ran_past(&mut self, at: usize) -> Step {
        let broken = self.buf.split_to(at);
        self.state = State::Header;
        Step::Item(invalid(
            recover_id(&broken),
            jsonrpc::ErrorCode::ParseError,
            "Content-Length is longer than the message",
        ))
    }

    fn body(&mut self, len: usize, scanned: usize) -> Step {
        let window = len.min(self.buf.len());
        // A frame header inside the body: the declared length ran past the message into the
        // next frame. JSON cannot hold one (a raw line break cannot be inside a string), so
        // this is never a valid body.
        let from = scanned.saturating_sub(CONTENT_LENGTH.len() + 24);
        if let Some(at) = frame_start(&self.buf[from..window]).map(|at| from + at) {
            return self.ran_past(at);
        }
        if self.buf.len() < len {
            self.state = State::Body {
                len,
                scanned: window,
            };
            return Step::Wait;
        }
        let item = sanitize(&self.buf[..len]);
        // The declared length may end inside the next frame's header (a length too long by a
        // few bytes, or two Content-Length lines that disagree): the body is then invalid, and
        // a header line that starts in it and ends after it marks where the message ended.
        if matches!(item, Some(Item::Invalid { .. })) {
            let from = len.saturating_sub(CONTENT_LENGTH.len() + 24);
            if let Some(at) = frame_start(&self.buf[from..])
                .map(|at| from + at)
                .filter(|&at| at < len)
            {
                return self.ran_past(at);
            }
        }
        self.buf.advance(len);
        self.state = State::Header;
        match item {
            Some(item) => Step::Item(item),
            None => Step::Again,
        }
    }
}

enum Step {
    Wait,
    Again,
    Item(Item),
}

/// Where the header block ends and how long its terminator is (`\r\n\r\n` or `\n\n`).
fn header_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = memmem::find(buf, b"\r\n\r\n").map(|at| (at, 4));
    let lf = memmem::find(buf, b"\n\n").map(|at| (at, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// `needle` must start with a letter; candidates are found with memchr on its two cases, so a
/// megabyte body is scanned at memchr's speed, not a window at a time.
fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        haystack,
    )
    .find(|&at| {
        haystack
            .get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

fn rfind_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
}

/// `Content-Length:` digits, then a line break: the start of a frame.
fn frame_start(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find_ignore_case(&bytes[from..], CONTENT_LENGTH).map(|a| from + a) {
        let rest = &bytes[at + CONTENT_LENGTH.len()..];
        let rest = rest.strip_prefix(b":").unwrap_or(b"x");
        let rest = rest.trim_ascii_start();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let after = &rest[digits..];
        if digits > 0 && (after.starts_with(b"\r\n") || after.starts_with(b"\n")) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The body when tower-lsp can take it; otherwise what to answer (None for a response we
/// cannot read: JSON-RPC never answers a response).
fn sanitize(body: &[u8]) -> Option<Item> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Some(invalid(
            recover_id(body),
            jsonrpc::ErrorCode::ParseError,
            "Parse error: the message is not valid UTF-8",
        ));
    };
    if let Ok(request) = serde_json::from_str::<jsonrpc::Request>(text) {
        if let Some(jsonrpc::Id::String(id)) = request.id()
            && id.len() > MAX_ID
        {
            return Some(invalid(
                None,
                jsonrpc::ErrorCode::InvalidRequest,
                format!("Invalid request: a string id longer than {MAX_ID} bytes"),
            ));
        }
        return Some(Item::Pass(body.to_vec()));
    }
    if serde_json::from_str::<jsonrpc::Response>(text).is_ok() {
        return Some(Item::Pass(body.to_vec()));
    }
    match serde_json::from_str::<Value>(text) {
        Err(e) => Some(invalid(
            recover_id(body),
            jsonrpc::ErrorCode::ParseError,
            format!("Parse error: {e}"),
        )),
        Ok(v)
            if v.get("method").is_none()
                && (v.get("result").is_some() || v.get("error").is_some()) =>
        {
            tracing::warn!(
                "dropped a response that cannot be read (its id is not an integer or a string)"
            );
            None
        }
        Ok(v) => Some(invalid(
            v.get("id").and_then(usable_id),
            jsonrpc::ErrorCode::InvalidRequest,
            "Invalid request: not a JSON-RPC 2.0 request, notification or response, or an id that is not an integer or a string",
        )),
    }
}

/// An id tower-lsp can answer on: an i64 integer (`1e2` is 100) or a short string.
fn usable_id(id: &Value) -> Option<Value> {
    match id {
        Value::String(s) if s.len() <= MAX_ID => Some(id.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(Value::from(i)),
            None => {
                let f = n.as_f64()?;
                // i64::MAX as f64 rounds up to 2^63, which is out of range: strictly below it.
                (f.fract() == 0.0 && f > i64::MIN as f64 && f < i64::MAX as f64)
                    .then(|| Value::from(f as i64))
            }
        },
        _ => None,
    }
}

/// The top-level `"id"` of a message that is not valid JSON, when it comes before the
/// params (as every client writes it), so the client's request does not hang.
fn recover_id(body: &[u8]) -> Option<Value> {
    let head = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let at = head.find("\"id\"")?;
    let first_payload = ["\"params\"", "\"result\"", "\"error\""]
        .iter()
        .filter_map(|k| head.find(k))
        .min()
        .unwrap_or(usize::MAX);
    if at > first_payload {
        return None;
    }
    let rest = head[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    let token = if let Some(inner) = rest.strip_prefix('"') {
        let end = inner.find('"')? + 2;
        &rest[..end]
    } else {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || "-+.eE".contains(c)))
            .unwrap_or(rest.len());
        &rest[..end]
    };
    serde_json::from_str::<Value>(token)
        .ok()
        .and_then(|v| usable_id(&v))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
