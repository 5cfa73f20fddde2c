//! Keys in a map: for unit tests of what sits above the stores, and for a client that wants no
//! persistence at all. Never the default.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, ready};

use super::{ApiKey, CredentialSlot, SecretStore, SecretStoreError};
use crate::protocol::KeySource;

#[derive(Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<CredentialSlot, ApiKey>>,
}

impl MemoryStore {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<CredentialSlot, ApiKey>) -> T) -> T {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut keys)
    }

    /// How many keys are held, for tests that check nothing was stored.
    pub fn len(&self) -> usize {
        self.with(|k| k.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SecretStore for MemoryStore {
    fn source(&self) -> KeySource {
        KeySource::Keychain
    }

    fn get<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<Option<ApiKey>, SecretStoreError>> {
        ready(Ok(self.with(|k| k.get(slot).cloned()))).boxed()
    }

    fn set<'a>(
        &'a self,
        slot: &'a CredentialSlot,
        key: &'a ApiKey,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>> {
        self.with(|k| k.insert(slot.clone(), key.clone()));
        ready(Ok(())).boxed()
    }

    fn delete<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>> {
        self.with(|k| k.remove(slot));
        ready(Ok(())).boxed()
    }
}
