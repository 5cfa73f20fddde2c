//! Which sidecar is writing a streaming answer, and whether it still runs. Each sidecar holds
//! an exclusive lock on a file named for its writer token (`writers/<token>.lock` beside the
//! database) for as long as it lives, and the OS lets go of the lock when the process ends,
//! however it ends. A process id would not do: another process may get a dead sidecar's id
//! (soon, on Windows), and its answer would then look written for ever.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

pub struct Writer {
    token: String,
    /// Where every sidecar's lock file is; None when the database is in memory (then only
    /// this process's answers exist).
    dir: Option<PathBuf>,
    /// Held (locked) while this sidecar lives.
    held: Option<File>,
}

impl Writer {
    /// This sidecar as a writer, its lock taken in `dir` (created when missing).
    pub fn new(token: String, dir: Option<&Path>) -> Writer {
        let held = dir.and_then(|d| match lock_file(d, &token) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!(
                    "conversations: no writer lock in {} ({e}); other windows will take this one's streaming answers for interrupted",
                    d.display()
                );
                None
            }
        });
        Writer {
            token,
            dir: dir.map(Path::to_path_buf),
            held,
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether the sidecar that wrote `owner` still runs: this one, or one that holds its lock.
    pub fn is_live(&self, owner: &str) -> bool {
        if owner == self.token {
            return true;
        }
        // Tokens are ours (hex and a dash); anything else names no file.
        if owner.is_empty() || !owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return false;
        }
        let Some(dir) = &self.dir else {
            return false;
        };
        let path = dir.join(format!("{owner}.lock"));
        // No file: its sidecar ended (or was older than these locks).
        let Ok(file) = File::open(&path) else {
            return false;
        };
        match file.try_lock() {
            Err(TryLockError::WouldBlock) => true,
            Ok(()) => {
                // Ours now, so its writer is gone: the file goes too.
                drop(file);
                let _ = std::fs::remove_file(&path);
                false
            }
            Err(TryLockError::Error(_)) => false,
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let (Some(dir), Some(held)) = (&self.dir, self.held.take()) {
            drop(held);
            let _ = std::fs::remove_file(dir.join(format!("{}.lock", self.token)));
        }
    }
}

fn lock_file(dir: &Path, token: &str) -> std::io::Result<File> {
    std::fs::create_dir_all(dir)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{token}.lock")))?;
    file.try_lock().map_err(|e| match e {
        TryLockError::WouldBlock => std::io::Error::other("the lock is held already"),
        TryLockError::Error(e) => e,
    })?;
    Ok(file)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_lives_while_it_holds_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let me = Writer::new("w-me".into(), Some(dir.path()));
        let other = Writer::new("w-other".into(), Some(dir.path()));
        assert!(me.is_live("w-me"));
        assert!(me.is_live("w-other"), "another sidecar that runs");
        drop(other);
        assert!(!me.is_live("w-other"), "gone with its process");
        assert!(!me.is_live("w-never"), "no lock file: no writer");
        assert!(!me.is_live("../state"), "not a token");
        assert!(
            !me.is_live("1234:abcd"),
            "an owner written before these locks"
        );
        // A crash leaves the file but not the lock.
        std::fs::write(dir.path().join("w-crashed.lock"), b"").unwrap();
        assert!(!me.is_live("w-crashed"));
        assert!(!dir.path().join("w-crashed.lock").exists(), "cleaned up");
    }

    #[test]
    fn in_memory_only_this_writer_lives() {
        let me = Writer::new("w-me".into(), None);
        assert!(me.is_live("w-me"));
        assert!(!me.is_live("w-other"));
    }
}
