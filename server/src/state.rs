//! The state file: active selection and each provider's non-secret settings, one JSON file
//! under the OS config dir (or `SIDEKICK_HOME`). Every window runs its own sidecar on the same
//! file, so every change is a read-modify-write under an OS file lock, written atomically; a
//! crash's temporary file is cleaned up by the next writer; a corrupt file is set aside and
//! replaced, never a crash. Never holds a key.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::protocol::{ActiveSelection, KeySource};

const FILE_NAME: &str = "state.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateFile {
    #[serde(default)]
    pub active: Option<ActiveSelection>,
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderState>,
    /// The provider whose disconnect cleared the selection, until another is selected: a
    /// question asked meanwhile is told which provider went, not only that none is chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnected: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderState {
    #[serde(default)]
    pub connected: bool,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub organization: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub key_hint: Option<String>,
    #[serde(default)]
    pub key_source: Option<KeySource>,
    /// The organization admin key, when one is stored: its hint and store, never the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminState>,
}

/// A stored organization admin key (usage and costs only, never chat).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminState {
    #[serde(default)]
    pub key_hint: Option<String>,
    #[serde(default)]
    pub key_source: Option<KeySource>,
    /// Sent as `OpenAI-Organization` with the admin key.
    #[serde(default)]
    pub organization: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

/// How long a change waits for another process's save. A save holds the lock for
/// milliseconds; a holder that keeps it longer is stuck (a suspended window), and the change
/// fails with a clear error instead of freezing this session, whose requests wait for it.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

fn wait_for_lock(lock: &std::fs::File, patience: std::time::Duration) -> std::io::Result<()> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    format!(
                        "another Sidekick window has held the state file's lock for over {} ms; nothing was changed, try again",
                        patience.as_millis()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

impl StateStore {
    /// `SIDEKICK_HOME`, else the OS config dir (`~/.config/sidekick` on Linux).
    pub fn locate() -> Option<StateStore> {
        if let Some(home) = std::env::var_os("SIDEKICK_HOME").filter(|h| !h.is_empty()) {
            return Some(StateStore { dir: home.into() });
        }
        directories::ProjectDirs::from("dev", "Sidekick", "sidekick").map(|d| StateStore {
            dir: d.config_dir().to_path_buf(),
        })
    }

    pub fn at(dir: impl Into<PathBuf>) -> StateStore {
        StateStore { dir: dir.into() }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Loads the state. A missing file is a fresh start; an unreadable one is renamed to
    /// `state.json.corrupt` and reported in the returned warning.
    pub fn load(&self) -> (StateFile, Option<String>) {
        let path = self.path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (StateFile::default(), None);
            }
            Err(e) => {
                return (
                    StateFile::default(),
                    Some(format!(
                        "could not read {}: {e}; starting fresh",
                        path.display()
                    )),
                );
            }
        };
        match serde_json::from_slice::<StateFile>(&bytes) {
            Ok(s) => (s, None),
            Err(e) => {
                let aside = self.dir.join(format!("{FILE_NAME}.corrupt"));
                let moved = std::fs::rename(&path, &aside).is_ok();
                let where_ = if moved {
                    format!("; kept as {}", aside.display())
                } else {
                    String::new()
                };
                (
                    StateFile::default(),
                    Some(format!(
                        "Sidekick's state file {} was unreadable ({e}) and has been reset{where_}. Connect again to restore your provider.",
                        path.display()
                    )),
                )
            }
        }
    }

    /// Applies `change` to the file as it is on disk now, under an exclusive lock that every
    /// sidecar takes, and returns the result: a change made by another window in the meantime
    /// is kept, never overwritten. Blocking: call it off the async thread.
    pub fn update(&self, change: impl FnOnce(&mut StateFile)) -> std::io::Result<StateFile> {
        std::fs::create_dir_all(&self.dir)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(format!("{FILE_NAME}.lock")))?;
        wait_for_lock(&lock, LOCK_PATIENCE)?;
        // Under the lock no write is in progress: a temporary file here is a crash's leftover.
        self.remove_leftovers();
        let (mut file, warning) = self.load();
        if let Some(w) = warning {
            tracing::warn!("{w}");
        }
        change(&mut file);
        self.save(&file)?;
        // Unlocked when `lock` is closed, also if saving failed.
        Ok(file)
    }

    /// When the file was last replaced, and its size: a cheap way to see another window's
    /// change. None when there is no file.
    pub fn stamp(&self) -> Option<(std::time::SystemTime, u64)> {
        let meta = std::fs::metadata(self.path()).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let prefix = format!(".{FILE_NAME}.");
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".tmp") {
                match std::fs::remove_file(e.path()) {
                    Ok(()) => tracing::info!("removed {name}, left by a crash during a save"),
                    Err(err) => tracing::warn!("could not remove {name}: {err}"),
                }
            }
        }
    }

    /// Writes to a temporary file in the same directory, syncs it, then renames it over the
    /// old one: a crash leaves either the old state or the new, never half of one. Callers
    /// hold the lock (`update`).
    fn save(&self, state: &StateFile) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        let tmp = self
            .dir
            .join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        write_synced(&tmp, &json)?;
        std::fs::rename(&tmp, self.path())
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_held_for_too_long_fails_the_change_instead_of_waiting_for_ever() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let holder = std::fs::File::create(&path).unwrap();
        holder.lock().unwrap();
        let waiter = std::fs::File::open(&path).unwrap();
        let e = wait_for_lock(&waiter, std::time::Duration::from_millis(50)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        assert!(e.to_string().contains("another Sidekick window"), "{e}");
        drop(holder);
        wait_for_lock(&waiter, std::time::Duration::from_millis(50)).unwrap();
    }

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::at(dir.path());
        let mut s = StateFile {
            active: Some(ActiveSelection {
                provider: "openai".into(),
                model: "gpt-4o".into(),
            }),
            ..Default::default()
        };
        s.providers.insert(
            "openai".into(),
            ProviderState {
                connected: true,
                key_hint: Some("sk-…WXYZ".into()),
                key_source: Some(KeySource::Keychain),
                ..Default::default()
            },
        );
        let expected = s.clone();
        let saved = store.update(move |f| *f = s).unwrap();
        assert_eq!(saved, expected);
        let (loaded, warning) = store.load();
        assert_eq!(loaded, expected);
        assert!(warning.is_none());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.ends_with(".tmp")),
            "no temp file left behind: {names:?}"
        );
    }

    #[test]
    fn corrupt_file_is_set_aside_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::at(dir.path());
        std::fs::write(store.path(), b"{ not json").unwrap();
        let (loaded, warning) = store.load();
        assert_eq!(loaded, StateFile::default());
        assert!(warning.unwrap().contains("unreadable"));
        assert!(dir.path().join("state.json.corrupt").exists());
        assert!(!store.path().exists());
    }

    #[test]
    fn updates_keep_what_others_wrote_and_clean_up_after_crashes() {
        let dir = tempfile::tempdir().unwrap();
        let a = StateStore::at(dir.path());
        let b = StateStore::at(dir.path());
        std::fs::write(dir.path().join(".state.json.99999.tmp"), b"half a save").unwrap();
        a.update(|f| {
            f.providers.insert(
                "openai".into(),
                ProviderState {
                    connected: true,
                    ..Default::default()
                },
            );
        })
        .unwrap();
        assert!(
            !dir.path().join(".state.json.99999.tmp").exists(),
            "a crash's temp file is removed"
        );
        let both = b
            .update(|f| {
                f.providers.insert(
                    "anthropic".into(),
                    ProviderState {
                        connected: true,
                        ..Default::default()
                    },
                );
            })
            .unwrap();
        assert!(
            both.providers["openai"].connected,
            "the other window's change is kept"
        );
        assert!(both.providers["anthropic"].connected);
    }

    #[test]
    fn concurrent_updates_from_threads_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let store = StateStore::at(dir.path());
                std::thread::spawn(move || {
                    for j in 0..10 {
                        store
                            .update(|f| {
                                f.providers
                                    .insert(format!("p{i}-{j}"), ProviderState::default());
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(StateStore::at(dir.path()).load().0.providers.len(), 80);
    }
}
