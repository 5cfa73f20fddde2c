//! One attempt of a chat turn: open the provider's stream and relay its neutral events until
//! it finishes, fails or is cancelled. Knows no provider and no wire format.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::{FutureExt, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::relay::Relay;
use crate::failure::ProviderError;
use crate::ledger::{CallRecord, Ledger};
use crate::prices::{Price, PriceNames, PriceTable, cost_nanos};
use crate::protocol::{CallOutcome, FinishReason, LedgerOperation, Usage};
use crate::providers::{Call, ChatEvent, ChatRequest, Provider};

/// What a finished attempt learned besides its text.
pub struct Finished {
    pub reason: FinishReason,
    pub usage: Option<Usage>,
    pub model: Option<String>,
    /// The provider's id of the answer (spans only).
    pub response_id: Option<String>,
}

impl Finished {
    pub fn cancelled() -> Finished {
        Finished {
            reason: FinishReason::Cancelled,
            usage: None,
            model: None,
            response_id: None,
        }
    }
}

/// How a chat's cost is found: the provider's own list price (OpenRouter's), else the table.
pub struct Pricing<'a> {
    pub table: &'a PriceTable,
    pub listed: Option<Price>,
}

impl Pricing<'_> {
    fn price(&self, names: PriceNames, answered_by: Option<&str>, asked: &str) -> Option<Price> {
        self.listed
            .or_else(|| answered_by.and_then(|m| self.table.lookup(names, m)))
            .or_else(|| self.table.lookup(names, asked))
    }
}

/// When an attempt's headers and first text arrived, in ms from its start.
#[derive(Default)]
struct Times {
    headers: Option<u64>,
    first_token: Option<u64>,
    status: Option<u16>,
}

/// Records an attempt whose future was dropped before it ended, as cancelled.
struct Unfinished<'a, 't> {
    ledger: &'a Ledger,
    record: Option<CallRecord>,
    times: &'t mut Times,
}

impl Drop for Unfinished<'_, '_> {
    fn drop(&mut self) {
        if let Some(mut r) = self.record.take() {
            r.headers_ms = self.times.headers;
            r.first_token_ms = self.times.first_token;
            r.http_status = self.times.status;
            r = r.ok();
            r.outcome = CallOutcome::Cancelled;
            self.ledger.record(r);
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
    pub chat_id: &'a str,
    pub ledger: &'a Ledger,
    pub pricing: Pricing<'a>,
    /// Attempts started so far.
    pub attempts: AtomicU32,
}

impl Turn<'_> {
    pub fn request_id(&self) -> Option<String> {
        self.request_id.lock().ok().and_then(|g| g.clone())
    }

    /// One attempt, recorded in the ledger whatever its end; a finished answer's usage gets
    /// its cost and the prices used.
    pub async fn attempt(
        &self,
        relay: &tokio::sync::Mutex<Relay>,
    ) -> Result<Finished, ProviderError> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let spec = self.provider.spec();
        let mut record = CallRecord::start(
            (spec.id, spec.otel_name),
            &self.call.endpoint.base_url,
            LedgerOperation::Chat,
        );
        record.chat_id = Some(self.chat_id.to_string());
        record.attempt = Some(attempt);
        record.model = Some(self.request.model.to_string());
        record.request_model = Some(self.request.model.to_string());
        let mut times = Times::default();
        // A `$/cancelRequest` drops this future mid-stream: the row is written as cancelled
        // by the guard, with what was known by then.
        let mut guard = Unfinished {
            ledger: self.ledger,
            record: Some(record),
            times: &mut times,
        };
        let mut outcome = self.stream_once(relay, guard.times).await;
        let mut record = guard.record.take().unwrap_or_else(|| {
            CallRecord::start(
                (spec.id, spec.otel_name),
                &self.call.endpoint.base_url,
                LedgerOperation::Chat,
            )
        });
        record.headers_ms = guard.times.headers;
        record.first_token_ms = guard.times.first_token;
        record.http_status = guard.times.status;
        // A refused attempt has no stream, but its headers came at a time too.
        let mut record = record.seen(self.call.seen.take());
        let record = match &mut outcome {
            Ok(f) if f.reason == FinishReason::Cancelled => {
                let mut r = record.ok();
                r.outcome = CallOutcome::Cancelled;
                r
            }
            Ok(f) => {
                if let Some(m) = &f.model {
                    record.model = Some(m.clone());
                }
                record.response_id = f.response_id.clone();
                record.finish_reason = serde_json::to_value(f.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string));
                if let Some(u) = &mut f.usage {
                    let price = self.pricing.price(
                        spec.price_names,
                        f.model.as_deref(),
                        self.request.model,
                    );
                    if let Some(p) = price {
                        let nanos = cost_nanos(&p, u);
                        u.cost_usd = Some(nanos as f64 / 1e9);
                        u.price = Some(p.shown());
                        record.cost_nanos = Some(nanos);
                    }
                    record.usage = Some(*u);
                }
                record.ok()
            }
            Err(e) => record.failed(e),
        };
        let mut record = record;
        if record.request_id.is_none() {
            record.request_id = self.request_id();
        }
        self.ledger.record(record);
        outcome
    }

    async fn stream_once(
        &self,
        relay: &tokio::sync::Mutex<Relay>,
        times: &mut Times,
    ) -> Result<Finished, ProviderError> {
        let started = Instant::now();
        let ms =
            |at: Instant| u64::try_from(at.duration_since(started).as_millis()).unwrap_or(u64::MAX);
        if let Ok(mut g) = self.request_id.lock() {
            *g = None;
        }
        let opened = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => return Ok(Finished::cancelled()),
            r = self.provider.open_chat(&self.call, &self.request) => r?,
        };
        times.headers = Some(ms(Instant::now()));
        let seen = self.call.seen.peek();
        times.status = seen.as_ref().map(|s| s.status);
        if let Ok(mut g) = self.request_id.lock() {
            *g = seen.and_then(|s| s.request_id);
        }
        let mut events = opened.events;
        let mut done = Finished {
            reason: FinishReason::Stop,
            usage: None,
            model: None,
            response_id: None,
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
                Some(Ok(ChatEvent::Text(t))) => {
                    if times.first_token.is_none() && !t.is_empty() {
                        times.first_token = Some(ms(Instant::now()));
                    }
                    relay.push(&t);
                }
                Some(Ok(ChatEvent::Usage(u))) => done.usage = Some(u),
                Some(Ok(ChatEvent::ResponseId(id))) => {
                    done.response_id.get_or_insert(id);
                }
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
