//! A chat response body as a stream of neutral events: the bytes are parsed as server-sent
//! events by sse-stream inside the chat's own task (no task or channel per chunk), and each
//! event goes through the provider's decoder. Read errors become neutral failures here, and a
//! provider's error event is masked here, where it enters.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use sse_stream::{Sse, SseByteStream};

use super::{ChatEvent, ChatStream};
use crate::failure::{ProviderError, TimeoutPhase};
use crate::http::idle_bytes;
use crate::secrets::ApiKey;

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
        body: Box::pin(SseByteStream::new(idle_bytes(response, idle))),
        decoder,
        ready: VecDeque::new(),
        key,
        failed: None,
        done: false,
    })
}

fn read_error(e: sse_stream::Error) -> ProviderError {
    if let sse_stream::Error::Body(inner) = &e
        && let Some(io) = inner.downcast_ref::<std::io::Error>()
        && io.kind() == std::io::ErrorKind::TimedOut
    {
        return ProviderError::Timeout(TimeoutPhase::Idle);
    }
    ProviderError::StreamInterrupted(e.to_string())
}

impl<D: Decode> Stream for Decoded<D> {
    type Item = Result<ChatEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(event)));
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
