//! Other windows: each runs its own sidecar on the same state file. A change one makes is seen
//! by the others within a second and announced to their clients; their caches for a provider
//! changed elsewhere are dropped.

use std::sync::Arc;

use super::{Connections, Inner};
use crate::state::{StateFile, StateStore};

impl Connections {
    /// Follows changes other windows' sidecars make to the state file, and announces them.
    /// Polls the file's time and size once a second: a `stat`, not a read.
    pub async fn follow_other_windows(self: Arc<Self>) {
        let Some(store) = self.state.clone() else {
            return;
        };
        let stamp = |store: &StateStore| {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.stamp())
        };
        let mut last = stamp(&store).await.ok().flatten();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let now = stamp(&store).await.ok().flatten();
            if now == last {
                continue;
            }
            let loading = store.clone();
            let Ok((file, _)) = tokio::task::spawn_blocking(move || loading.load()).await else {
                continue;
            };
            let mut inner = self.inner.lock().await;
            // Written again while we read (by us, or another window): read it next time.
            if stamp(&store).await.ok().flatten() != now {
                continue;
            }
            last = now;
            if file == inner.file {
                continue;
            }
            tracing::info!("another window changed the state; following it");
            let current = inner.file.clone();
            adopt(&mut inner, file, &current);
            let _ = self.announce.send(self.snapshot_of(&inner));
        }
    }
}

/// Takes `file` as the state, dropping the cached keys and models of every provider whose
/// state is not what `expected` says: another window connected, disconnected or moved it.
pub(super) fn adopt(inner: &mut Inner, file: StateFile, expected: &StateFile) {
    let changed: Vec<String> = file
        .providers
        .keys()
        .chain(expected.providers.keys())
        .filter(|id| file.providers.get(*id) != expected.providers.get(*id))
        .cloned()
        .collect();
    for id in &changed {
        inner.keys.retain(|slot, _| slot.provider != id.as_str());
        inner.models.retain(|p, _| *p != id.as_str());
    }
    inner.file = file;
}
