//! Where API keys live, behind one interface: the OS keychain, the client's secret storage, or
//! memory (unit tests). A key is filed under a credential slot — provider, base URL and
//! purpose — so a provider can hold a chat key and, later, an organization admin key.

mod api_key;
mod client;
mod keychain;
mod memory;

use futures_util::future::BoxFuture;

pub use api_key::{ApiKey, KeyError, key_hint, mask_identifier, mask_secrets};
pub use client::ClientSecrets;
pub use keychain::Keychain;
pub use memory::MemoryStore;

use crate::protocol::KeySource;

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Chats and model lists.
    Inference,
    /// An organization's usage and cost APIs (never used for chat).
    Admin,
}

/// One stored key: which provider, at which base URL, for what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialSlot {
    pub provider: &'static str,
    pub base_url: String,
    pub purpose: Purpose,
}

impl CredentialSlot {
    pub fn inference(provider: &'static str, base_url: &str) -> CredentialSlot {
        CredentialSlot {
            provider,
            base_url: base_url.to_string(),
            purpose: Purpose::Inference,
        }
    }

    /// The keychain account. Inference keys keep the format of the first release
    /// (`openai@https://api.openai.com/v1`), so stored keys survive an upgrade.
    pub fn account(&self) -> String {
        match self.purpose {
            Purpose::Inference => format!("{}@{}", self.provider, self.base_url),
            Purpose::Admin => format!("{}@{}#admin", self.provider, self.base_url),
        }
    }
}

/// Why the keychain could not be used, in the terms a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeychainProblem {
    /// No keychain service at all (headless Linux: no session bus or no Secret Service).
    NoStore,
    /// A keychain exists but is locked and could not prompt.
    Locked,
    /// The keychain answered with an error.
    Failed,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretStoreError {
    #[error("keychain unavailable ({problem:?}): {detail}")]
    Keychain {
        problem: KeychainProblem,
        detail: String,
    },
    #[error("the client's secret storage failed: {0}")]
    Client(String),
}

/// A place keys can be kept. Deleting what is not there succeeds: disconnect is idempotent.
pub trait SecretStore: Send + Sync {
    /// How `ProviderInfo.keySource` names this store.
    fn source(&self) -> KeySource;
    fn get<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<Option<ApiKey>, SecretStoreError>>;
    fn set<'a>(
        &'a self,
        slot: &'a CredentialSlot,
        key: &'a ApiKey,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>>;
    fn delete<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>>;
}
