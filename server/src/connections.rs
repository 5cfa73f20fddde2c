//! Connections: which providers are connected, with which key from where, at which base URL,
//! and what they offer. The environment's key wins over a stored one; a key is validated with
//! the provider before it is stored; connect and disconnect of one provider never interleave
//! (lock order: the provider's lock, then the state lock), so a disconnect cannot slip between
//! a connect's validation and its storing. Every change is saved and announced in order.

mod admin;
mod change;
mod follow;
mod models;

pub use admin::AdminConnection;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};

use crate::failure::ProviderError;
use crate::http::Http;
use crate::ledger::Ledger;
use crate::protocol::{ActiveSelection, KeySource, ModelInfo, ProviderInfo, ProvidersState};
use crate::providers::{Call, Endpoint, Entry, ProviderSpec, Registry};
use crate::secrets::{ApiKey, CredentialSlot, SecretStore, SecretStoreError};
use crate::settings::Settings;
use crate::state::{ProviderState, StateFile, StateStore};

/// Everything needed to call one provider now.
#[derive(Debug, Clone)]
pub struct Connection {
    pub entry: Entry,
    pub endpoint: Endpoint,
    pub key_source: Option<KeySource>,
    pub key_hint: Option<String>,
}

impl Connection {
    pub fn spec(&self) -> &'static ProviderSpec {
        self.entry.spec()
    }

    /// A call to this provider with these settings.
    pub fn call<'a>(&'a self, http: &'a Http, settings: &'a Settings) -> Call<'a> {
        Call::new(http, &self.endpoint, settings)
    }
}

/// Why a connection request failed; `session.rs` turns each into what the client sees.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The request is wrong; names the field.
    #[error("{0}")]
    Params(String),
    #[error("{} is not connected", .0.name)]
    NotConnected(&'static ProviderSpec),
    /// The provider refused or could not be reached.
    #[error("{error}")]
    Provider {
        error: ProviderError,
        connection: Box<Connection>,
    },
    /// A model the provider's list does not have.
    #[error("unknown model {model}")]
    UnknownModel {
        connection: Box<Connection>,
        model: String,
        available: Vec<String>,
    },
    #[error("{0}")]
    Secrets(SecretStoreError),
    #[error("could not save the state file: {0}")]
    State(String),
    /// The organization API refused the admin key or could not be reached.
    #[error("{error}")]
    Admin {
        error: ProviderError,
        connection: Box<AdminConnection>,
    },
}

/// The stores keys go to: the keychain, and the client's secret storage when the keychain
/// does not work and the client offered one.
pub struct Stores {
    pub keychain: Arc<dyn SecretStore>,
    pub client: Arc<dyn SecretStore>,
}

impl Stores {
    fn by_source(&self, source: Option<KeySource>) -> Option<&dyn SecretStore> {
        match source {
            Some(KeySource::Keychain) => Some(self.keychain.as_ref()),
            Some(KeySource::Client) => Some(self.client.as_ref()),
            Some(KeySource::Env) | None => None,
        }
    }
}

#[derive(Default)]
struct Inner {
    file: StateFile,
    /// Keys read from a store, so a chat does not cost a D-Bus round trip.
    keys: HashMap<CredentialSlot, ApiKey>,
    models: HashMap<&'static str, Vec<ModelInfo>>,
    /// Where the last key stored in this session went.
    key_store: Option<KeySource>,
}

pub struct Connections {
    registry: Registry,
    env_keys: HashMap<&'static str, ApiKey>,
    /// Admin keys from the environment (`OPENAI_ADMIN_KEY`), by provider.
    env_admin_keys: HashMap<&'static str, ApiKey>,
    stores: Stores,
    state: Option<StateStore>,
    inner: Mutex<Inner>,
    /// One per provider: connect and disconnect of a provider run one at a time.
    provider_locks: HashMap<&'static str, Mutex<()>>,
    announce: mpsc::UnboundedSender<ProvidersState>,
    /// Where key checks and model lists are recorded.
    ledger: Ledger,
}

impl Connections {
    /// `env` reads the environment (injected for tests); `announce` receives every new state,
    /// in the order the changes happened.
    pub fn new(
        registry: Registry,
        env: impl Fn(&str) -> Option<String>,
        stores: Stores,
        state: Option<StateStore>,
        file: StateFile,
        announce: mpsc::UnboundedSender<ProvidersState>,
    ) -> Connections {
        let mut env_keys = HashMap::new();
        for entry in registry.entries() {
            let spec = entry.spec();
            if let Some(var) = spec.env_key_var
                && let Some(raw) = env(var)
                && let Ok(key) = ApiKey::parse(&raw)
            {
                tracing::info!("{} key from ${var} ({})", spec.id, key.hint());
                env_keys.insert(spec.id, key);
            }
        }
        let mut env_admin_keys = HashMap::new();
        for entry in registry.entries() {
            if let Some(api) = entry.provider.organization()
                && let Some(raw) = env(api.admin_key_var())
                && let Ok(key) = ApiKey::parse(&raw)
            {
                tracing::info!(
                    "{} admin key from ${} ({})",
                    entry.spec().id,
                    api.admin_key_var(),
                    key.hint()
                );
                env_admin_keys.insert(entry.spec().id, key);
            }
        }
        let provider_locks = registry
            .entries()
            .iter()
            .map(|e| (e.spec().id, Mutex::new(())))
            .collect();
        Connections {
            registry,
            env_keys,
            env_admin_keys,
            stores,
            state,
            inner: Mutex::new(Inner {
                file,
                ..Default::default()
            }),
            provider_locks,
            announce,
            ledger: Ledger::off(),
        }
    }

    /// Records this connection's provider calls in `ledger`.
    pub fn with_ledger(mut self, ledger: Ledger) -> Connections {
        self.ledger = ledger;
        self
    }

    pub fn entry(&self, id: &str) -> Result<&Entry, ConnectionError> {
        self.registry.find(id).ok_or_else(|| {
            ConnectionError::Params(format!(
                "provider: unknown provider “{id}” (expected one of: {})",
                self.registry.ids().join(", ")
            ))
        })
    }

    /// A provider's saved settings and the base URL it uses now (`""` when none is known).
    fn stored(&self, inner: &Inner, entry: &Entry) -> (ProviderState, String) {
        let st = inner
            .file
            .providers
            .get(entry.spec().id)
            .cloned()
            .unwrap_or_default();
        let base_url = st
            .base_url
            .clone()
            .or_else(|| entry.default_base_url.clone())
            .unwrap_or_default();
        (st, base_url)
    }

    /// The environment's key, when it can be used: the provider knows where to send it.
    fn env_key(&self, spec: &ProviderSpec, base_url: &str) -> Option<&ApiKey> {
        self.env_keys.get(spec.id).filter(|_| !base_url.is_empty())
    }

    fn info(&self, inner: &Inner, entry: &Entry) -> ProviderInfo {
        let spec = entry.spec();
        let (st, base_url) = self.stored(inner, entry);
        let env = self.env_key(spec, &base_url);
        let stored_key = st.connected.then_some(&st);
        let admin_env = self
            .env_admin_keys
            .get(spec.id)
            .filter(|_| !base_url.is_empty());
        ProviderInfo {
            id: spec.id.into(),
            name: spec.name.into(),
            connected: env.is_some() || st.connected,
            key_hint: env
                .map(ApiKey::hint)
                .or_else(|| stored_key.and_then(|s| s.key_hint.clone())),
            key_source: if env.is_some() {
                Some(KeySource::Env)
            } else {
                stored_key.and_then(|s| s.key_source)
            },
            organization: st.organization.clone(),
            project: st.project.clone(),
            base_url,
            requires_key: spec.requires_key,
            base_url_editable: spec.base_url_editable(),
            supports_organization: spec.supports_organization,
            env_key_var: spec.env_key_var.map(str::to_string),
            key_placeholder: spec.key_placeholder.map(str::to_string),
            api_keys_url: spec.links.api_keys.map(str::to_string),
            base_url_placeholder: spec.base_url_placeholder().map(str::to_string),
            model_kind: spec.model_kind,
            supports_admin: entry.provider.organization().is_some(),
            admin_connected: admin_env.is_some() || st.admin.is_some(),
            admin_key_hint: admin_env
                .map(ApiKey::hint)
                .or_else(|| st.admin.as_ref().and_then(|a| a.key_hint.clone())),
            admin_key_source: if admin_env.is_some() {
                Some(KeySource::Env)
            } else {
                st.admin.as_ref().and_then(|a| a.key_source)
            },
        }
    }

    fn snapshot_of(&self, inner: &Inner) -> ProvidersState {
        ProvidersState {
            providers: self
                .registry
                .entries()
                .iter()
                .map(|e| self.info(inner, e))
                .collect(),
            active: inner.file.active.clone(),
            key_store: inner.key_store.or_else(|| {
                // Before any store in this session: where the stored keys are.
                inner
                    .file
                    .providers
                    .values()
                    .filter(|p| p.connected)
                    .find_map(|p| p.key_source.filter(|s| *s != KeySource::Env))
            }),
        }
    }

    pub async fn snapshot(&self) -> ProvidersState {
        self.snapshot_of(&*self.inner.lock().await)
    }

    pub async fn active(&self) -> Option<ActiveSelection> {
        self.inner.lock().await.file.active.clone()
    }

    /// The provider a disconnect took the selection from, while nothing else is selected.
    pub async fn disconnected(&self) -> Option<&'static ProviderSpec> {
        let id = self.inner.lock().await.file.disconnected.clone()?;
        self.entry(&id).ok().map(|e| e.spec())
    }

    /// Applies `change` to the state file on disk (read-modify-write under the file's lock, so
    /// another window's changes are kept), adopts the result and announces it. Called with the
    /// state lock held, so saves and announcements happen in the order the changes did.
    async fn commit(
        &self,
        inner: &mut Inner,
        change: impl Fn(&mut StateFile) + Send + Sync + 'static,
    ) -> Result<(), ConnectionError> {
        let change = Arc::new(change);
        let mut expected = inner.file.clone();
        change(&mut expected);
        let file = match self.state.clone() {
            Some(store) => {
                let apply = change.clone();
                tokio::task::spawn_blocking(move || store.update(|f| apply(f)))
                    .await
                    .map_err(|e| ConnectionError::State(e.to_string()))?
                    .map_err(|e| ConnectionError::State(e.to_string()))?
            }
            None => expected.clone(),
        };
        follow::adopt(inner, file, &expected);
        // The receiver lives as long as the session; a send after it is gone has no one to tell.
        let _ = self.announce.send(self.snapshot_of(inner));
        Ok(())
    }

    /// The connection a request needs now, reading the key from its store once.
    pub async fn connection(&self, id: &str) -> Result<Connection, ConnectionError> {
        let entry = self.entry(id)?;
        let spec = entry.spec();
        let (st, base_url, cached) = {
            let inner = self.inner.lock().await;
            let (st, base_url) = self.stored(&inner, entry);
            let cached = inner
                .keys
                .get(&CredentialSlot::inference(spec.id, &base_url))
                .cloned();
            (st, base_url, cached)
        };
        let (key, source) = if let Some(k) = self.env_key(spec, &base_url) {
            (Some(k.clone()), Some(KeySource::Env))
        } else if !st.connected {
            return Err(ConnectionError::NotConnected(spec));
        } else if cached.is_some() {
            (cached, st.key_source)
        } else {
            (
                self.read_key(spec, &base_url, st.key_source).await?,
                st.key_source,
            )
        };
        Ok(Connection {
            entry: entry.clone(),
            key_hint: key.as_ref().map(ApiKey::hint),
            endpoint: Endpoint {
                base_url,
                key,
                organization: st.organization,
                project: st.project,
            },
            key_source: source,
        })
    }

    async fn read_key(
        &self,
        spec: &'static ProviderSpec,
        base_url: &str,
        source: Option<KeySource>,
    ) -> Result<Option<ApiKey>, ConnectionError> {
        let Some(store) = self.stores.by_source(source) else {
            return Ok(None);
        };
        let slot = CredentialSlot::inference(spec.id, base_url);
        let Some(key) = store.get(&slot).await.map_err(ConnectionError::Secrets)? else {
            tracing::warn!(
                "{} is marked connected but its key is gone from {source:?}",
                spec.id
            );
            return Err(ConnectionError::NotConnected(spec));
        };
        self.inner.lock().await.keys.insert(slot, key.clone());
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests;
