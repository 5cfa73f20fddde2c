//! One chat turn: open the stream, relay text as coalesced deltas, retry what is temporary
//! (never after the first token), and end with the authoritative result or a guidance that
//! keeps the partial text. The HTTP stream lives inside the request's future, so
//! `$/cancelRequest` drops it and the upstream connection closes at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_util::{FutureExt, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Notification;

use crate::error::SidekickError;
use crate::failure::{ProviderError, TimeoutPhase, classify_stream_event};
use crate::guidance;
use crate::http::{self, Exchange};
use crate::protocol::{
    ChatDeltaParams, ChatParams, ChatResult, ChatState, ChatStatusParams, FinishReason,
    GuidanceKind, Usage, notification,
};
use crate::secret::ApiKey;
use crate::session::{Connection, Session};
use crate::settings::Settings;
use crate::wire::{self, Chunk};

pub enum ChatDelta {}
impl Notification for ChatDelta {
    type Params = ChatDeltaParams;
    const METHOD: &'static str = notification::CHAT_DELTA;
}

pub enum ChatStatus {}
impl Notification for ChatStatus {
    type Params = ChatStatusParams;
    const METHOD: &'static str = notification::CHAT_STATUS;
}

/// Batches text into deltas: the first goes out at once, then at most one per interval, so
/// the editor's single extension-host thread handles ~20 messages a second, not one per token.
struct Relay {
    client: Client,
    chat_id: String,
    interval: Duration,
    cancel: CancellationToken,
    text: String,
    pending: String,
    seq: u64,
    last_sent: Option<Instant>,
    sent_any: Arc<AtomicBool>,
}

impl Relay {
    fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
        self.pending.push_str(piece);
    }

    /// When the pending text is due, if any is waiting.
    fn due(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        Some(match self.last_sent {
            None => Instant::now(),
            Some(t) => t + self.interval,
        })
    }

    /// Mid-stream: the delta is queued, and the task that writes stdout shares this thread;
    /// stepping aside lets it go out before the rest of a burst is parsed. (The last delta
    /// needs no such step: the result follows at once.)
    async fn flush_if_due(&mut self) {
        if self.due().is_some_and(|d| d <= Instant::now()) {
            self.flush().await;
            tokio::task::yield_now().await;
        }
    }

    async fn flush(&mut self) {
        // After a disconnect nothing more goes out for this chat.
        if self.pending.is_empty() || self.cancel.is_cancelled() {
            return;
        }
        self.seq += 1;
        let text = std::mem::take(&mut self.pending);
        self.sent_any.store(true, Ordering::SeqCst);
        self.last_sent = Some(Instant::now());
        self.client
            .send_notification::<ChatDelta>(ChatDeltaParams {
                chat_id: self.chat_id.clone(),
                seq: self.seq,
                text,
            })
            .await;
    }
}

struct Finished {
    reason: FinishReason,
    usage: Option<Usage>,
    model: Option<String>,
}

fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        // "stop", and the other names local servers use for a natural end ("eos", "end_turn").
        _ => FinishReason::Stop,
    }
}

struct Turn<'a> {
    conn: &'a Connection,
    params: &'a ChatParams,
    model: &'a str,
    settings: Settings,
    http: &'a http::LazyClient,
    cancel: CancellationToken,
    use_completion_tokens: AtomicBool,
    request_id: Mutex<Option<String>>,
}

impl Turn<'_> {
    async fn attempt(&self, relay: &tokio::sync::Mutex<Relay>) -> Result<Finished, ProviderError> {
        let exchange = Arc::new(Exchange::default());
        let mct = self.use_completion_tokens.load(Ordering::SeqCst);
        let request = wire::ChatRequest {
            model: self.model,
            messages: self
                .params
                .messages
                .iter()
                .map(wire::Message::from)
                .collect(),
            stream: true,
            stream_options: wire::StreamOptions {
                include_usage: true,
            },
            temperature: self.params.temperature,
            max_tokens: self.params.max_tokens.filter(|_| !mct),
            max_completion_tokens: self.params.max_tokens.filter(|_| mct),
        };
        let key = self.conn.endpoint.key.as_ref().map(ApiKey::expose);
        let http = self.http.get().await?;
        let opened = http::chat_events(
            &http,
            &self.conn.endpoint,
            &request,
            exchange.clone(),
            self.settings.request_timeout,
            self.settings.idle_timeout,
        );
        let events = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => return Ok(cancelled()),
            r = opened => r?,
        };
        let mut events = std::pin::pin!(events);
        if let Ok(mut g) = self.request_id.lock() {
            *g = exchange.request_id();
        }
        let mut reason: Option<FinishReason> = None;
        let mut usage: Option<Usage> = None;
        let mut model: Option<String> = None;
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
                        _ = &mut cancel => return Ok(cancelled()),
                        _ = &mut tick, if due.is_some() => {
                            relay.flush().await;
                            continue;
                        }
                        item = events.next() => item,
                    }
                }
            };
            let event = match item {
                None => break,
                Some(Ok(event)) => event,
                // A stream that breaks after its finish reason has said everything that matters.
                Some(Err(_)) if reason.is_some() => break,
                Some(Err(e)) if exchange.idle_timed_out() => {
                    tracing::debug!("stream idle: {e}");
                    return Err(ProviderError::Timeout(TimeoutPhase::Idle));
                }
                Some(Err(e)) => return Err(ProviderError::StreamInterrupted(e.to_string())),
            };
            // As async-openai does: `[DONE]` ends the stream, `keepalive` events carry nothing;
            // neither do blocks with only an id or a retry.
            let Some(data) = event.data.as_deref() else {
                continue;
            };
            if data == "[DONE]" {
                break;
            }
            if event.event.as_deref() == Some("keepalive") || data.trim().is_empty() {
                continue;
            }
            let chunk: Chunk = match serde_json::from_str(data) {
                Ok(chunk) => chunk,
                Err(_) => {
                    return Err(match classify_stream_event(data, key) {
                        Some(f) => ProviderError::Api(Box::new(f)),
                        None => ProviderError::StreamInterrupted(
                            "the provider sent an event that is not valid JSON".into(),
                        ),
                    });
                }
            };
            if let Some(err) = &chunk.error {
                let raw = serde_json::json!({ "error": err }).to_string();
                return Err(match classify_stream_event(&raw, key) {
                    Some(f) => ProviderError::Api(Box::new(f)),
                    None => {
                        ProviderError::StreamInterrupted("an error event without details".into())
                    }
                });
            }
            if let Some(u) = chunk.usage {
                usage = Some(Usage {
                    prompt_tokens: u.prompt_tokens,
                    completion_tokens: u.completion_tokens,
                    total_tokens: u.total_tokens,
                });
            }
            if model.is_none() {
                model = chunk.model.filter(|m| !m.is_empty());
            }
            // Only the first choice is ours (n = 1); others are ignored.
            for choice in chunk.choices.iter().filter(|c| c.index == 0) {
                if let Some(d) = &choice.delta {
                    if let Some(t) = d.content.as_deref().filter(|t| !t.is_empty()) {
                        relay.push(t);
                    }
                    // A refusal is the model's answer: show it as text.
                    if let Some(t) = d.refusal.as_deref().filter(|t| !t.is_empty()) {
                        relay.push(t);
                    }
                }
                if let Some(r) = choice.finish_reason.as_deref().filter(|r| !r.is_empty()) {
                    reason = Some(finish_reason(r));
                }
            }
            relay.flush_if_due().await;
        }
        relay.flush().await;
        match reason {
            Some(reason) => Ok(Finished {
                reason,
                usage,
                model,
            }),
            None => Err(ProviderError::StreamInterrupted(
                "the stream ended without a finish reason".into(),
            )),
        }
    }
}

fn cancelled() -> Finished {
    Finished {
        reason: FinishReason::Cancelled,
        usage: None,
        model: None,
    }
}

/// What the retry loop's sleep tells the client while it waits.
struct RetryNote {
    attempt: u32,
    kind: GuidanceKind,
    message: String,
}

pub async fn run(session: &Session, params: ChatParams) -> Result<ChatResult, SidekickError> {
    if params.chat_id.trim().is_empty() {
        return Err(SidekickError::params("chatId: must not be empty"));
    }
    if params.messages.is_empty() {
        return Err(SidekickError::params(
            "messages: at least one message is needed",
        ));
    }
    if let Some(t) = params.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(SidekickError::params(
            "temperature: must be between 0 and 2",
        ));
    }
    if params.max_tokens == Some(0) {
        return Err(SidekickError::params("maxTokens: must be at least 1"));
    }
    let active = session.active().await;
    let provider_id = match (&params.provider, &active) {
        (Some(p), _) => p.clone(),
        (None, Some(a)) => a.provider.clone(),
        (None, None) => {
            return Err(guidance::not_connected(
                crate::providers::find("openai")
                    .ok_or_else(|| SidekickError::Internal("no providers".into()))?,
            )
            .into());
        }
    };
    let conn = session.connection(&provider_id).await?;
    let model = match (&params.model, &active) {
        (Some(m), _) if !m.trim().is_empty() => m.trim().to_string(),
        (_, Some(a)) if a.provider == conn.provider.id() => a.model.clone(),
        _ => return Err(guidance::no_model_selected(conn.provider).into()),
    };
    let guard = session.start_chat(&params.chat_id, conn.provider.id())?;
    let settings = session.settings();
    let model_key = format!("{}/{}", conn.provider.id(), model);
    let prefers_mct = conn.provider.prefers_max_completion_tokens()
        || session
            .completion_token_models
            .lock()
            .map(|s| s.contains(&model_key))
            .unwrap_or(false);
    let turn = Turn {
        conn: &conn,
        params: &params,
        model: &model,
        settings: settings.clone(),
        http: &session.http,
        cancel: guard.cancel.clone(),
        use_completion_tokens: AtomicBool::new(prefers_mct),
        request_id: Mutex::new(None),
    };
    let sent_any = Arc::new(AtomicBool::new(false));
    let relay = tokio::sync::Mutex::new(Relay {
        client: session.client.clone(),
        chat_id: params.chat_id.clone(),
        interval: settings.delta_interval,
        cancel: guard.cancel.clone(),
        text: String::new(),
        pending: String::new(),
        seq: 0,
        last_sent: None,
        sent_any: sent_any.clone(),
    });

    let outcome = loop {
        let outcome = with_retries(&turn, &relay, &sent_any, session, &settings).await;
        // A model that refuses `max_tokens` gets `max_completion_tokens`, once, remembered.
        if let Err(ProviderError::Api(f)) = &outcome
            && f.kind == GuidanceKind::BadRequest
            && params.max_tokens.is_some()
            && !turn.use_completion_tokens.load(Ordering::SeqCst)
            && !sent_any.load(Ordering::SeqCst)
            && (f.param.as_deref() == Some("max_tokens")
                || f.message
                    .as_deref()
                    .is_some_and(|m| m.contains("max_completion_tokens")))
        {
            turn.use_completion_tokens.store(true, Ordering::SeqCst);
            if let Ok(mut s) = session.completion_token_models.lock() {
                s.insert(model_key.clone());
            }
            continue;
        }
        break outcome;
    };
    let text = relay.lock().await.text.clone();
    let request_id = turn.request_id.lock().ok().and_then(|g| g.clone());
    match outcome {
        Ok(f) => Ok(ChatResult {
            chat_id: params.chat_id.clone(),
            text,
            finish_reason: f.reason,
            model: f.model.unwrap_or(model),
            usage: f.usage,
            request_id,
        }),
        Err(e) => {
            let available = session.cached_model_ids(conn.provider.id()).await;
            let mut g = guidance::for_provider_error(
                &e,
                &session.guidance_context(&conn, Some(&model), &available),
            );
            g.request_id = g.request_id.or(request_id);
            tracing::warn!(kind = %g.kind, status = ?g.http_status, request_id = ?g.request_id, chat = %params.chat_id, "chat failed: {e}");
            g.partial_text = (!text.is_empty()).then_some(text);
            Err(g.into())
        }
    }
}

async fn with_retries(
    turn: &Turn<'_>,
    relay: &tokio::sync::Mutex<Relay>,
    sent_any: &Arc<AtomicBool>,
    session: &Session,
    settings: &Settings,
) -> Result<Finished, ProviderError> {
    let max_wait = settings.retry_max_wait;
    let backoff = ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(max_wait.max(Duration::from_millis(1)))
        .with_max_times(settings.retry_max_attempts.saturating_sub(1) as usize);
    let note: Arc<Mutex<Option<RetryNote>>> = Arc::new(Mutex::new(None));
    let attempts = Arc::new(std::sync::atomic::AtomicU32::new(1));
    let (note_w, attempts_w) = (note.clone(), attempts.clone());
    let (client, chat_id, provider) = (
        session.client.clone(),
        turn.params.chat_id.clone(),
        turn.conn.provider.name(),
    );
    let cancel = turn.cancel.clone();
    let sleeper = move |delay: Duration| {
        let (client, chat_id, note, cancel) = (
            client.clone(),
            chat_id.clone(),
            note.clone(),
            cancel.clone(),
        );
        async move {
            let taken = note.lock().ok().and_then(|mut n| n.take());
            if let Some(n) = taken {
                client
                    .send_notification::<ChatStatus>(ChatStatusParams {
                        chat_id,
                        state: ChatState::Retrying,
                        attempt: n.attempt,
                        delay_ms: delay.as_millis() as u64,
                        kind: n.kind,
                        message: n.message,
                    })
                    .await;
            }
            // A disconnect must not wait out a 20 s rate-limit pause: the next attempt then
            // sees the cancel and ends at once.
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = cancel.cancelled() => {}
            }
        }
    };
    let sent = sent_any.clone();
    (|| turn.attempt(relay))
        .retry(backoff)
        .sleep(sleeper)
        // Never after the first token: the user has already read part of this answer.
        .when(move |e: &ProviderError| e.is_retryable() && !sent.load(Ordering::SeqCst))
        .adjust(move |e: &ProviderError, backoff: Option<Duration>| {
            let backoff = backoff?;
            match e.retry_after() {
                // Waiting longer than the user allows: answer now, with when to try again.
                Some(hint) if hint > max_wait => None,
                Some(hint) => Some(hint.max(Duration::from_millis(50))),
                None => Some(backoff),
            }
        })
        .notify(move |e: &ProviderError, delay: Duration| {
            let attempt = attempts_w.fetch_add(1, Ordering::SeqCst) + 1;
            let what = match e.kind() {
                GuidanceKind::RateLimited => format!("Rate limited by {provider}"),
                GuidanceKind::Overloaded => format!("{provider} is overloaded"),
                GuidanceKind::ServerError => format!("{provider} had a server error"),
                GuidanceKind::Timeout => format!("{provider} did not answer in time"),
                _ => format!("Cannot reach {provider}"),
            };
            tracing::info!(
                "retrying ({}) in {} ms, attempt {attempt}: {e}",
                e.kind(),
                delay.as_millis()
            );
            if let Ok(mut n) = note_w.lock() {
                *n = Some(RetryNote {
                    attempt,
                    kind: e.kind(),
                    message: format!("{what}; retrying in {:.1} s", delay.as_secs_f64()),
                });
            }
        })
        .await
}
