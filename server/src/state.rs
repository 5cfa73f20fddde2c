//! The state file: active selection and each provider's non-secret settings, one JSON file
//! under the OS config dir (or `SIDEKICK_HOME`). Written atomically; a corrupt file is set
//! aside and replaced, never a crash. Never holds a key.

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
}

#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
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

    /// Writes to a temporary file in the same directory, syncs it, then renames it over the
    /// old one: a crash leaves either the old state or the new, never half of one.
    pub fn save(&self, state: &StateFile) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
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
        store.save(&s).unwrap();
        let (loaded, warning) = store.load();
        assert_eq!(loaded, s);
        assert!(warning.is_none());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
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
}
