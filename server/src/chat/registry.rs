//! The running chats, so a disconnect can stop a provider's chats and wait until they have
//! sent their last delta.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

struct Running {
    provider: String,
    cancel: CancellationToken,
    done: watch::Receiver<()>,
}

#[derive(Default, Clone)]
pub struct ChatRegistry {
    chats: Arc<Mutex<HashMap<String, Running>>>,
}

/// Held by a running chat; unregisters it when the chat's future ends or is dropped
/// (`$/cancelRequest`).
pub struct ChatGuard {
    chats: Arc<Mutex<HashMap<String, Running>>>,
    chat_id: String,
    pub cancel: CancellationToken,
    _done: watch::Sender<()>,
}

impl Drop for ChatGuard {
    fn drop(&mut self) {
        if let Ok(mut chats) = self.chats.lock() {
            chats.remove(&self.chat_id);
        }
    }
}

/// A chat id already running.
#[derive(Debug, thiserror::Error)]
#[error("chatId: a chat with id “{0}” is already running")]
pub struct AlreadyRunning(pub String);

impl ChatRegistry {
    /// Registers a chat; refuses a chat id already running.
    pub fn start(&self, chat_id: &str, provider: &str) -> Result<ChatGuard, AlreadyRunning> {
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        if chats.contains_key(chat_id) {
            return Err(AlreadyRunning(chat_id.to_string()));
        }
        let cancel = CancellationToken::new();
        let (tx, rx) = watch::channel(());
        chats.insert(
            chat_id.to_string(),
            Running {
                provider: provider.to_string(),
                cancel: cancel.clone(),
                done: rx,
            },
        );
        Ok(ChatGuard {
            chats: self.chats.clone(),
            chat_id: chat_id.to_string(),
            cancel,
            _done: tx,
        })
    }

    /// Cancels a provider's chats and waits (at most 5 s each) until each has stopped.
    pub async fn stop_provider(&self, provider: &str) {
        let waiting: Vec<watch::Receiver<()>> = {
            let chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
            chats
                .values()
                .filter(|c| c.provider == provider)
                .map(|c| {
                    c.cancel.cancel();
                    c.done.clone()
                })
                .collect()
        };
        for mut done in waiting {
            // Resolves with an error once the chat's guard (the sender) is dropped.
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while done.changed().await.is_ok() {}
            })
            .await;
        }
    }
}
