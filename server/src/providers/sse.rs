//! A chat response body as a stream of neutral events: the bytes are parsed as server-sent
//! events by sse-stream inside the chat's own task (no task or channel per chunk), and each
//! event goes through the provider's decoder. Read errors become neutral failures here, and a
//! provider's error event is masked here, where it enters.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sse_stream::{Sse, SseByteStream};

use super::{ChatEvent, ChatStream};
use crate::failure::{ProviderError, TimeoutPhase};
use crate::http::idle_bytes;
use crate::secrets::ApiKey;

/// The largest SSE event read (its lines together). A chat chunk is hundreds of bytes; a
/// server that never ends a line must not grow the sidecar's memory until it dies (bytes keep
/// coming, so the idle timeout never fires).
pub const MAX_EVENT: usize = 4 * 1024 * 1024;

/// Counts the bytes of the event being received, across reads.
#[derive(Debug, Default)]
struct EventSize {
    /// Bytes of the unfinished line.
    line: usize,
    /// Bytes of the finished lines of this event.
    event: usize,
}

impl EventSize {
    /// Takes a read; false once the event is over the cap.
    fn take(&mut self, bytes: &[u8]) -> bool {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', bytes) {
            let line = self.line + (nl - start);
            let blank = line == 0 || (line == 1 && nl > 0 && bytes[nl - 1] == b'\r');
            if blank {
                self.event = 0;
            } else {
                self.event += line + 1;
            }
            self.line = 0;
            start = nl + 1;
        }
        self.line += bytes.len() - start;
        self.line + self.event <= MAX_EVENT
    }
}

/// The body's bytes, failing once one event grows past [`MAX_EVENT`].
fn capped(
    bytes: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let mut size = EventSize::default();
    bytes.map(move |item| {
        let chunk = item?;
        if size.take(&chunk) {
            Ok(chunk)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the provider sent an event longer than {MAX_EVENT} bytes"),
            ))
        }
    })
}

/// Whether the stream goes on after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The wire's own end marker (`[DONE]`, `message_stop`): stop reading.
    End,
}

/// A provider's stateful mapping of its SSE events to neutral chat events.
pub trait Decode: Send + Unpin + 'static {
    /// Pushes the events one SSE event means onto `out` (often one, sometimes none). An `Err`
    /// is the provider's error inside the stream and ends it.
    fn decode(&mut self, event: Sse, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError>;
}

type Body = Pin<Box<dyn Stream<Item = Result<Sse, sse_stream::Error>> + Send>>;

struct Decoded<D> {
    body: Body,
    decoder: D,
    ready: VecDeque<ChatEvent>,
    key: Option<ApiKey>,
    /// The stream's error, given out after the events decoded before it.
    failed: Option<ProviderError>,
    done: bool,
}

/// The events of a successful chat response, read until the body ends, the decoder says the
/// stream ended, or nothing arrives for `idle`.
pub fn chat_stream<D: Decode>(
    response: reqwest::Response,
    idle: Duration,
    key: Option<ApiKey>,
    decoder: D,
) -> ChatStream {
    Box::pin(Decoded {
        body: Box::pin(SseByteStream::new(capped(idle_bytes(response, idle)))),
        decoder,
        ready: VecDeque::new(),
        key,
        failed: None,
        done: false,
    })
}

/// A whole body given as the chunks the network split it into, decoded synchronously through
/// the same path a chat takes (the event cap, sse-stream, the decoder): for the fuzz targets
/// and tests. At most `limit` items.
pub fn decode_chunks<D: Decode>(
    chunks: Vec<Bytes>,
    decoder: D,
    limit: usize,
) -> Vec<Result<ChatEvent, ProviderError>> {
    let body = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let mut stream = Decoded {
        body: Box::pin(SseByteStream::new(capped(body))),
        decoder,
        ready: VecDeque::new(),
        key: None,
        failed: None,
        done: false,
    };
    let mut out = Vec::new();
    while out.len() < limit {
        match futures_util::FutureExt::now_or_never(stream.next()) {
            Some(Some(item)) => out.push(item),
            _ => break,
        }
    }
    out
}

fn read_error(e: sse_stream::Error) -> ProviderError {
    if let sse_stream::Error::Body(inner) = &e
        && let Some(io) = inner.downcast_ref::<std::io::Error>()
    {
        match io.kind() {
            std::io::ErrorKind::TimedOut => return ProviderError::Timeout(TimeoutPhase::Idle),
            std::io::ErrorKind::InvalidData => {
                return ProviderError::StreamInterrupted(io.to_string());
            }
            _ => {}
        }
    }
    ProviderError::StreamInterrupted(e.to_string())
}

impl<D: Decode> Stream for Decoded<D> {
    type Item = Result<ChatEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.ready.pop_front() {
                // What names the answer is the provider's text too: cleaned and masked here.
                let key = this.key.as_ref().map(ApiKey::expose);
                let shown = |t: &str| crate::failure::shown_identifier(t, key);
                return Poll::Ready(Some(Ok(match event {
                    ChatEvent::Model(m) => ChatEvent::Model(shown(&m)),
                    ChatEvent::ResponseId(id) => ChatEvent::ResponseId(shown(&id)),
                    other => other,
                })));
            }
            if this.done {
                return Poll::Ready(this.failed.take().map(Err));
            }
            let sse = match this.body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.done = true;
                    continue;
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(read_error(e))));
                }
                Poll::Ready(Some(Ok(sse))) => sse,
            };
            match this.decoder.decode(sse, &mut this.ready) {
                Ok(Flow::Continue) => {}
                Ok(Flow::End) => this.done = true,
                Err(e) => {
                    this.done = true;
                    let key = this.key.as_ref().map(ApiKey::expose);
                    // Text decoded before the error still reaches the turn first.
                    this.failed = Some(match e {
                        ProviderError::Api(f) => ProviderError::api_failure(f.masked(key)),
                        other => other,
                    });
                }
            }
        }
    }
}

/// Test support: a recorded SSE body through a decoder, as a chat would read it.
#[cfg(test)]
pub(crate) fn decode_recorded(
    mut decoder: impl Decode,
    body: &str,
) -> (Vec<ChatEvent>, Option<ProviderError>) {
    use futures_util::FutureExt;
    let bytes =
        futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(body.to_string()))]);
    let mut events = Box::pin(SseByteStream::new(bytes));
    let (mut out, mut ready) = (Vec::new(), VecDeque::new());
    while let Some(Some(item)) = events.next().now_or_never() {
        let Ok(sse) = item else { break };
        match decoder.decode(sse, &mut ready) {
            Ok(flow) => {
                out.extend(ready.drain(..));
                if flow == Flow::End {
                    return (out, None);
                }
            }
            Err(e) => {
                out.extend(ready.drain(..));
                return (out, Some(e));
            }
        }
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_measured_across_reads_and_reset_at_blank_lines() {
        let mut size = EventSize::default();
        for _ in 0..1000 {
            assert!(size.take(b"data: {\"choices\":[]}\r\n\r\n: comment\n\n"));
        }
        assert_eq!(size.line + size.event, 0);
        let mut size = EventSize::default();
        assert!(size.take(b"data: "));
        let mega = vec![b'a'; 1 << 20];
        let mut within = 0;
        while size.take(&mega) {
            within += 1;
        }
        assert_eq!(within, 3, "an endless line fails at the cap");
        let mut size = EventSize::default();
        let line = [vec![b'x'; 1000], b"\n".to_vec()].concat();
        let fits = (0..10_000).take_while(|_| size.take(&line)).count();
        assert_eq!(
            fits,
            MAX_EVENT / 1001,
            "lines without a blank line between count together"
        );
    }
}
