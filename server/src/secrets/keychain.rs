//! The OS keychain (keyring 4: Secret Service, macOS Keychain, Windows Credential Manager)
//! under one service name, `sidekick` (or `SIDEKICK_KEYRING_SERVICE`).

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::{ApiKey, CredentialSlot, KeychainProblem, SecretStore, SecretStoreError};
use crate::protocol::KeySource;

#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

fn keychain_error(e: keyring::Error) -> SecretStoreError {
    let problem = match &e {
        keyring::Error::NoDefaultStore => KeychainProblem::NoStore,
        keyring::Error::NoStorageAccess(_) => KeychainProblem::Locked,
        keyring::Error::PlatformFailure(p) => {
            let text = p.to_string().to_ascii_lowercase();
            if text.contains("dbus") || text.contains("d-bus") || text.contains("bus") {
                KeychainProblem::NoStore
            } else {
                KeychainProblem::Failed
            }
        }
        _ => KeychainProblem::Failed,
    };
    SecretStoreError::Keychain {
        problem,
        detail: e.to_string(),
    }
}

impl Keychain {
    pub fn from_env() -> Keychain {
        let service = std::env::var("SIDEKICK_KEYRING_SERVICE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "sidekick".to_string());
        Keychain { service }
    }

    /// keyring's calls block (D-Bus round trips): always off the async thread.
    async fn blocking<T: Send + 'static>(
        &self,
        slot: &CredentialSlot,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, SecretStoreError> {
        let service = self.service.clone();
        let account = slot.account();
        tokio::task::spawn_blocking(move || {
            let entry = keyring::Entry::new(&service, &account)?;
            op(&entry)
        })
        .await
        .map_err(|e| SecretStoreError::Keychain {
            problem: KeychainProblem::Failed,
            detail: format!("keychain task failed: {e}"),
        })?
        .map_err(keychain_error)
    }
}

impl SecretStore for Keychain {
    fn source(&self) -> KeySource {
        KeySource::Keychain
    }

    fn get<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<Option<ApiKey>, SecretStoreError>> {
        async move {
            let got = self
                .blocking(slot, |e| match e.get_password() {
                    Ok(p) => Ok(Some(p)),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(err) => Err(err),
                })
                .await?;
            Ok(got.and_then(|p| ApiKey::parse(&p).ok()))
        }
        .boxed()
    }

    fn set<'a>(
        &'a self,
        slot: &'a CredentialSlot,
        key: &'a ApiKey,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>> {
        let secret = key.clone();
        self.blocking(slot, move |e| e.set_password(secret.expose()))
            .boxed()
    }

    fn delete<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>> {
        self.blocking(slot, |e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(err),
        })
        .boxed()
    }
}
