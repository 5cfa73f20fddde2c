//! Batches a streamed answer into deltas: the first goes out at once, then at most one per
//! interval, so the editor's single extension-host thread handles ~20 messages a second, not
//! one per token. Keeps the whole text, which is what the result (or a failure's
//! `partialText`) carries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::Client;

use crate::protocol::{ChatDelta, ChatDeltaParams};

pub struct Relay {
    client: Client,
    chat_id: String,
    interval: Duration,
    cancel: CancellationToken,
    text: String,
    pending: String,
    seq: u64,
    last_sent: Option<Instant>,
    sent_any: Arc<AtomicBool>,
    /// A copy of the text for the conversation's record, which outlives a cancelled chat.
    mirror: Option<Arc<std::sync::Mutex<String>>>,
}

impl Relay {
    pub fn new(
        client: Client,
        chat_id: String,
        interval: Duration,
        cancel: CancellationToken,
    ) -> Relay {
        Relay {
            client,
            chat_id,
            interval,
            cancel,
            text: String::new(),
            pending: String::new(),
            seq: 0,
            last_sent: None,
            sent_any: Arc::default(),
            mirror: None,
        }
    }

    pub fn mirror_to(&mut self, mirror: Arc<std::sync::Mutex<String>>) {
        self.mirror = Some(mirror);
    }

    pub fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
        self.pending.push_str(piece);
        if let Some(m) = &self.mirror
            && let Ok(mut m) = m.lock()
        {
            m.push_str(piece);
        }
    }

    /// Whether any text reached the client: a retry after that would repeat what the user
    /// has already read.
    pub fn sent_any(&self) -> Arc<AtomicBool> {
        self.sent_any.clone()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// When the pending text is due, if any is waiting.
    pub fn due(&self) -> Option<Instant> {
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
    pub async fn flush_if_due(&mut self) {
        if self.due().is_some_and(|d| d <= Instant::now()) {
            self.flush().await;
            tokio::task::yield_now().await;
        }
    }

    /// Sends the pending text now, whatever the interval: at the end of a stream, and before
    /// a failure, so the deltas add up to the text the result or the guidance carries.
    pub async fn flush(&mut self) {
        // After a disconnect nothing more goes out for this chat.
        if self.pending.is_empty() || self.cancel.is_cancelled() {
            return;
        }
        self.seq += 1;
        self.sent_any.store(true, Ordering::SeqCst);
        let text = std::mem::take(&mut self.pending);
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
