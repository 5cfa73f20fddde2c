//! Where API keys live: the OS keychain (keyring 4: Secret Service, macOS Keychain, Windows
//! Credential Manager), or the client's secret storage when no keychain works and the client
//! offered one. Keys never go to the state file, a log or an error text.

use std::time::Duration;

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::request::Request;

use crate::protocol::{SecretParams, SecretValue, client_request};
use crate::secret::ApiKey;

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
pub enum KeyStoreError {
    #[error("keychain unavailable ({problem:?}): {detail}")]
    Keychain {
        problem: KeychainProblem,
        detail: String,
    },
    #[error("the client's secret storage failed: {0}")]
    Client(String),
}

/// The keychain entry's account: one entry per provider and base URL.
pub fn account(provider: &str, base_url: &str) -> String {
    format!("{provider}@{base_url}")
}

/// The OS keychain under one service name (`sidekick`, or `SIDEKICK_KEYRING_SERVICE`).
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

fn keychain_error(e: keyring::Error) -> KeyStoreError {
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
    KeyStoreError::Keychain {
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

    /// keyring's calls block (D-Bus round trips): always off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        account: &str,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, KeyStoreError> {
        let service = self.service.clone();
        let account = account.to_string();
        tokio::task::spawn_blocking(move || {
            let entry = keyring::Entry::new(&service, &account)?;
            op(&entry)
        })
        .await
        .map_err(|e| KeyStoreError::Keychain {
            problem: KeychainProblem::Failed,
            detail: format!("keychain task failed: {e}"),
        })?
        .map_err(keychain_error)
    }

    pub async fn get(&self, account: &str) -> Result<Option<ApiKey>, KeyStoreError> {
        let got = self
            .blocking(account, |e| match e.get_password() {
                Ok(p) => Ok(Some(p)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(err) => Err(err),
            })
            .await?;
        Ok(got.and_then(|p| ApiKey::parse(&p).ok()))
    }

    pub async fn set(&self, account: &str, key: &ApiKey) -> Result<(), KeyStoreError> {
        let secret = key.clone();
        self.blocking(account, move |e| e.set_password(secret.expose()))
            .await
    }

    /// Deleting what is not there succeeds: disconnect is idempotent.
    pub async fn delete(&self, account: &str) -> Result<(), KeyStoreError> {
        self.blocking(account, |e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(err),
        })
        .await
    }
}

enum SecretsGet {}
impl Request for SecretsGet {
    type Params = SecretParams;
    type Result = SecretValue;
    const METHOD: &'static str = client_request::SECRETS_GET;
}
enum SecretsStore {}
impl Request for SecretsStore {
    type Params = SecretParams;
    type Result = serde_json::Value;
    const METHOD: &'static str = client_request::SECRETS_STORE;
}
enum SecretsDelete {}
impl Request for SecretsDelete {
    type Params = SecretParams;
    type Result = serde_json::Value;
    const METHOD: &'static str = client_request::SECRETS_DELETE;
}

/// The client's secret storage (VS Code's SecretStorage), reached by server → client requests.
/// Bounded by a timeout: a client that never answers must not wedge a handler.
#[derive(Clone)]
pub struct ClientSecrets {
    client: Client,
}

const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

impl ClientSecrets {
    pub fn new(client: Client) -> ClientSecrets {
        ClientSecrets { client }
    }

    fn slot(account: &str) -> String {
        format!("sidekick:{account}")
    }

    async fn call<R: Request<Params = SecretParams>>(
        &self,
        params: SecretParams,
    ) -> Result<R::Result, KeyStoreError> {
        match tokio::time::timeout(CLIENT_TIMEOUT, self.client.send_request::<R>(params)).await {
            Err(_) => Err(KeyStoreError::Client(format!("{} timed out", R::METHOD))),
            Ok(Err(e)) => Err(KeyStoreError::Client(format!(
                "{}: {}",
                R::METHOD,
                e.message
            ))),
            Ok(Ok(v)) => Ok(v),
        }
    }

    pub async fn get(&self, account: &str) -> Result<Option<ApiKey>, KeyStoreError> {
        let v = self
            .call::<SecretsGet>(SecretParams {
                key: Self::slot(account),
                value: None,
            })
            .await?;
        Ok(v.value.and_then(|p| ApiKey::parse(&p).ok()))
    }

    pub async fn set(&self, account: &str, key: &ApiKey) -> Result<(), KeyStoreError> {
        self.call::<SecretsStore>(SecretParams {
            key: Self::slot(account),
            value: Some(key.expose().to_string()),
        })
        .await
        .map(|_| ())
    }

    pub async fn delete(&self, account: &str) -> Result<(), KeyStoreError> {
        self.call::<SecretsDelete>(SecretParams {
            key: Self::slot(account),
            value: None,
        })
        .await
        .map(|_| ())
    }
}
