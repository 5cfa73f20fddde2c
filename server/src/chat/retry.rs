//! Retries of a chat turn (backon): temporary failures only, never after the first token, the
//! provider's own wait when it says one, and a `sidekick/chatStatus` while each wait runs. A
//! disconnect ends a wait at once.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::Retryable;
use tower_lsp_server::Client;

use super::attempt::{Finished, Turn};
use super::relay::Relay;
use crate::failure::ProviderError;
use crate::guidance;
use crate::protocol::{ChatState, ChatStatus, ChatStatusParams, GuidanceKind};
use crate::settings::Settings;

/// What the next wait tells the client.
struct RetryNote {
    attempt: u32,
    kind: GuidanceKind,
    message: String,
}

/// The turn's outcome and how many attempts it took.
pub async fn with_retries(
    turn: &Turn<'_>,
    relay: &tokio::sync::Mutex<Relay>,
    client: &Client,
    chat_id: &str,
    settings: &Settings,
) -> (Result<Finished, ProviderError>, u32) {
    let max_wait = settings.retry_max_wait;
    let backoff = crate::backoff::policy(settings);
    let note: Arc<Mutex<Option<RetryNote>>> = Arc::default();
    let attempts = AtomicU32::new(1);
    let provider = turn.provider.spec();
    let sleeper = {
        let (client, chat_id, note, cancel) = (
            client.clone(),
            chat_id.to_string(),
            note.clone(),
            turn.cancel.clone(),
        );
        move |delay: Duration| {
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
                // A disconnect must not wait out a 20 s rate-limit pause: the next attempt
                // then sees the cancel and ends at once.
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => {}
                }
            }
        }
    };
    let sent = relay.lock().await.sent_any();
    let outcome = (|| turn.attempt(relay))
        .retry(backoff)
        .sleep(sleeper)
        // Never after the first token: the user has already read part of this answer.
        .when(|e: &ProviderError| e.is_retryable() && !sent.load(Ordering::SeqCst))
        // Waiting longer than the user allows: answer now, with when to try again.
        .adjust(|e: &ProviderError, backoff: Option<Duration>| {
            crate::backoff::wait(e, backoff, max_wait)
        })
        .notify(|e: &ProviderError, delay: Duration| {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            let kind = guidance::kind_of(e.category());
            tracing::info!(
                "retrying ({kind}) in {} ms, attempt {attempt}: {e}",
                delay.as_millis()
            );
            if let Ok(mut n) = note.lock() {
                *n = Some(RetryNote {
                    attempt,
                    kind,
                    message: guidance::retry_note(provider, e.category(), delay),
                });
            }
        })
        .await;
    (outcome, attempts.load(Ordering::SeqCst))
}
