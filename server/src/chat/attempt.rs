//! One attempt of a chat turn: open the provider's stream and relay its neutral events until
//! it finishes, fails or is cancelled. Knows no provider and no wire format.

use std::sync::Mutex;

use futures_util::{FutureExt, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::relay::Relay;
use crate::failure::ProviderError;
use crate::protocol::{FinishReason, Usage};
use crate::providers::{Call, ChatEvent, ChatRequest, Provider};

/// What a finished attempt learned besides its text.
pub struct Finished {
    pub reason: FinishReason,
    pub usage: Option<Usage>,
    pub model: Option<String>,
}

impl Finished {
    pub fn cancelled() -> Finished {
        Finished {
            reason: FinishReason::Cancelled,
            usage: None,
            model: None,
        }
    }
}

/// A chat turn's fixed parts, shared by its attempts.
pub struct Turn<'a> {
    pub provider: &'static dyn Provider,
    pub call: Call<'a>,
    pub request: ChatRequest<'a>,
    pub cancel: CancellationToken,
    /// The last attempt's request id, for the result or the guidance.
    pub request_id: Mutex<Option<String>>,
}

impl Turn<'_> {
    pub fn request_id(&self) -> Option<String> {
        self.request_id.lock().ok().and_then(|g| g.clone())
    }

    pub async fn attempt(
        &self,
        relay: &tokio::sync::Mutex<Relay>,
    ) -> Result<Finished, ProviderError> {
        let opened = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => return Ok(Finished::cancelled()),
            r = self.provider.open_chat(&self.call, &self.request) => r?,
        };
        if let Ok(mut g) = self.request_id.lock() {
            *g = opened.request_id;
        }
        let mut events = opened.events;
        let mut done = Finished {
            reason: FinishReason::Stop,
            usage: None,
            model: None,
        };
        let mut finished = false;
        let mut relay = relay.lock().await;
        // One cancel waiter and one timer for the whole stream, re-armed only when the next
        // delta's due time moves: a burst is thousands of events, and a fresh waiter and timer
        // per event cost more than parsing it (docs/performance.md).
        let mut cancel = std::pin::pin!(self.cancel.cancelled());
        let mut tick = std::pin::pin!(tokio::time::sleep_until(Instant::now()));
        loop {
            // Events the body already holds are taken without waiting; a cancel is still seen
            // at every event.
            let item = match events.next().now_or_never() {
                Some(item) if !self.cancel.is_cancelled() => item,
                _ => {
                    let due = relay.due();
                    if let Some(d) = due
                        && tick.deadline() != d
                    {
                        tick.as_mut().reset(d);
                    }
                    tokio::select! {
                        biased;
                        _ = &mut cancel => return Ok(Finished::cancelled()),
                        _ = &mut tick, if due.is_some() => {
                            relay.flush().await;
                            continue;
                        }
                        item = events.next() => item,
                    }
                }
            };
            match item {
                None => break,
                Some(Ok(ChatEvent::Text(t))) => relay.push(&t),
                Some(Ok(ChatEvent::Usage(u))) => done.usage = Some(u),
                Some(Ok(ChatEvent::Model(m))) => {
                    done.model.get_or_insert(m);
                }
                Some(Ok(ChatEvent::Finish(r))) => {
                    done.reason = r;
                    finished = true;
                }
                // A stream that breaks after its finish has said everything that matters.
                Some(Err(_)) if finished => break,
                Some(Err(e)) => return Err(e),
            }
            relay.flush_if_due().await;
        }
        relay.flush().await;
        if finished {
            Ok(done)
        } else {
            Err(ProviderError::StreamInterrupted(
                "the stream ended without a finish reason".into(),
            ))
        }
    }
}
