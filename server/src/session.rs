//! The sidecar's state and the one place it changes: connections, keys, model lists, the
//! active selection and the running chats. Handlers interleave at every `.await`, so changes
//! go through one lock and each one is saved and announced with `sidekick/stateChanged`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use tokio_util::sync::CancellationToken;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Notification;

use crate::error::SidekickError;
use crate::failure::{ProviderError, classify_stream_event};
use crate::guidance::{self, Context};
use crate::http::{self, Endpoint, Exchange};
use crate::keys::{ClientSecrets, KeyStoreError, Keychain, account};
use crate::protocol::{
    ActiveSelection, ConnectParams, ConnectResult, DisconnectParams, DisconnectResult, Guidance,
    KeySource, ListModelsParams, ListModelsResult, ModelInfo, ProviderInfo, ProvidersState,
    SelectModelParams, SelectModelResult, notification,
};
use crate::providers::{self, Provider};
use crate::secret::ApiKey;
use crate::settings::Settings;
use crate::state::{ProviderState, StateFile, StateStore};
use crate::wire::ModelList;

pub enum StateChanged {}
impl Notification for StateChanged {
    type Params = ProvidersState;
    const METHOD: &'static str = notification::STATE_CHANGED;
}

/// Everything needed to call one provider now.
#[derive(Debug, Clone)]
pub struct Connection {
    pub provider: &'static dyn Provider,
    pub endpoint: Endpoint,
    pub key_source: Option<KeySource>,
    pub key_hint: Option<String>,
}

impl std::fmt::Debug for dyn Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A chat in flight, so `disconnect` can stop it and wait until it has stopped.
struct RunningChat {
    provider: String,
    cancel: CancellationToken,
    done: tokio::sync::watch::Receiver<()>,
}

/// Unregisters a chat when its future ends or is dropped (`$/cancelRequest`).
pub struct ChatGuard<'a> {
    session: &'a Session,
    chat_id: String,
    pub cancel: CancellationToken,
    _done: tokio::sync::watch::Sender<()>,
}

impl Drop for ChatGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut chats) = self.session.chats.lock() {
            chats.remove(&self.chat_id);
        }
    }
}

#[derive(Default)]
struct Inner {
    file: StateFile,
    /// Keys read from a store, so a chat does not cost a D-Bus round trip.
    keys: HashMap<String, ApiKey>,
    models: HashMap<String, Vec<ModelInfo>>,
}

pub struct Session {
    pub client: Client,
    pub http: http::LazyClient,
    settings: RwLock<Settings>,
    store: Option<StateStore>,
    keychain: Keychain,
    client_secrets: ClientSecrets,
    env_keys: HashMap<&'static str, ApiKey>,
    openai_base_url: Option<String>,
    inner: tokio::sync::Mutex<Inner>,
    chats: Mutex<HashMap<String, RunningChat>>,
    /// Models that refused `max_tokens`; they get `max_completion_tokens` from then on.
    pub completion_token_models: Mutex<HashSet<String>>,
    pub startup_warning: Mutex<Option<String>>,
}

impl Session {
    pub fn new(client: Client, http: http::LazyClient) -> Session {
        let store = StateStore::locate();
        let (file, warning) = match &store {
            Some(s) => s.load(),
            None => (
                StateFile::default(),
                Some("no config directory found; set SIDEKICK_HOME to keep state".to_string()),
            ),
        };
        if let Some(w) = &warning {
            tracing::warn!("{w}");
        }
        let mut env_keys = HashMap::new();
        for p in providers::all() {
            if let Some(var) = p.env_key_var()
                && let Ok(raw) = std::env::var(var)
                && let Ok(key) = ApiKey::parse(&raw)
            {
                tracing::info!("{} key from ${var} ({})", p.id(), key.hint());
                env_keys.insert(p.id(), key);
            }
        }
        let openai_base_url = std::env::var("SIDEKICK_OPENAI_BASE_URL")
            .ok()
            .and_then(|u| normalize_base_url(&u).ok());
        Session {
            client_secrets: ClientSecrets::new(client.clone()),
            client,
            http,
            settings: RwLock::new(Settings::default()),
            store,
            keychain: Keychain::from_env(),
            env_keys,
            openai_base_url,
            inner: tokio::sync::Mutex::new(Inner {
                file,
                ..Default::default()
            }),
            chats: Mutex::new(HashMap::new()),
            completion_token_models: Mutex::new(HashSet::new()),
            startup_warning: Mutex::new(warning),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn set_settings(&self, s: Settings) {
        if let Ok(mut g) = self.settings.write() {
            *g = s;
        }
    }

    fn provider(&self, id: &str) -> Result<&'static dyn Provider, SidekickError> {
        providers::find(id).ok_or_else(|| {
            SidekickError::params(format!(
                "provider: unknown provider “{id}” (expected one of: {})",
                providers::ids().join(", ")
            ))
        })
    }

    fn default_base_url(&self, p: &dyn Provider) -> String {
        match (&self.openai_base_url, p.id()) {
            (Some(u), "openai") => u.clone(),
            _ => p.default_base_url(),
        }
    }

    /// A provider's saved settings and the base URL it uses now.
    fn stored(&self, inner: &Inner, p: &dyn Provider) -> (ProviderState, String) {
        let st = inner
            .file
            .providers
            .get(p.id())
            .cloned()
            .unwrap_or_default();
        let base_url = st
            .base_url
            .clone()
            .unwrap_or_else(|| self.default_base_url(p));
        (st, base_url)
    }

    fn info(&self, inner: &Inner, p: &'static dyn Provider) -> ProviderInfo {
        let (st, base_url) = self.stored(inner, p);
        let env = self.env_keys.get(p.id());
        let connected = env.is_some() || st.connected;
        ProviderInfo {
            id: p.id().into(),
            name: p.name().into(),
            base_url,
            connected,
            key_hint: env
                .map(ApiKey::hint)
                .or(st.key_hint.clone().filter(|_| st.connected)),
            key_source: if env.is_some() {
                Some(KeySource::Env)
            } else {
                st.key_source.filter(|_| st.connected)
            },
            organization: st.organization.clone(),
            project: st.project.clone(),
            requires_key: p.requires_key(),
            base_url_editable: p.base_url_editable(),
            supports_organization: p.supports_organization(),
        }
    }

    fn snapshot(&self, inner: &Inner) -> ProvidersState {
        ProvidersState {
            providers: providers::all()
                .into_iter()
                .map(|p| self.info(inner, p))
                .collect(),
            active: inner.file.active.clone(),
        }
    }

    pub async fn list_providers(&self) -> ProvidersState {
        let inner = self.inner.lock().await;
        self.snapshot(&inner)
    }

    /// Saves the state file and tells every client. Called with the lock held, so saves and
    /// announcements happen in the order the changes did.
    async fn commit(&self, inner: &Inner) -> Result<(), SidekickError> {
        if let Some(store) = self.store.clone() {
            let file = inner.file.clone();
            tokio::task::spawn_blocking(move || store.save(&file))
                .await
                .map_err(|e| SidekickError::Internal(format!("saving state: {e}")))?
                .map_err(|e| {
                    SidekickError::Internal(format!("could not save the state file: {e}"))
                })?;
        }
        self.client
            .send_notification::<StateChanged>(self.snapshot(inner))
            .await;
        Ok(())
    }

    pub fn guidance_context<'a>(
        &self,
        conn: &'a Connection,
        model: Option<&'a str>,
        available: &'a [String],
    ) -> Context<'a> {
        let s = self.settings();
        Context {
            provider: conn.provider,
            model,
            available,
            key_source: conn.key_source,
            key_hint: conn.key_hint.as_deref(),
            organization: conn.endpoint.organization.as_deref(),
            base_url: &conn.endpoint.base_url,
            request_timeout_ms: s.request_timeout.as_millis() as u64,
            idle_timeout_ms: s.idle_timeout.as_millis() as u64,
        }
    }

    fn guidance(
        &self,
        err: &ProviderError,
        conn: &Connection,
        model: Option<&str>,
        available: &[String],
    ) -> SidekickError {
        let g = guidance::for_provider_error(err, &self.guidance_context(conn, model, available));
        tracing::warn!(kind = %g.kind, status = ?g.http_status, request_id = ?g.request_id, "{}: {}", conn.provider.id(), err);
        g.into()
    }

    fn key_store_guidance(&self, e: &KeyStoreError) -> Guidance {
        tracing::warn!("{e}");
        match e {
            KeyStoreError::Keychain { problem, detail } => {
                guidance::keychain_unavailable(*problem, detail)
            }
            KeyStoreError::Client(detail) => {
                guidance::keychain_unavailable(crate::keys::KeychainProblem::Failed, detail)
            }
        }
    }

    pub async fn fetch_models(&self, conn: &Connection) -> Result<Vec<ModelInfo>, ProviderError> {
        let s = self.settings();
        let exchange = Arc::new(Exchange::default());
        let shared = self.http.get().await?;
        let client = http::openai_client(
            &shared,
            &conn.endpoint,
            exchange.clone(),
            s.request_timeout,
            s.idle_timeout,
        );
        match client.models().list_byot::<ModelList>().await {
            Ok(list) => Ok(conn.provider.chat_models(
                list.data
                    .into_iter()
                    .map(|m| ModelInfo {
                        id: m.id,
                        owned_by: m.owned_by,
                        created: m.created,
                    })
                    .collect(),
            )),
            Err(async_openai::error::OpenAIError::JSONDeserialize(_, raw)) => {
                let key = conn.endpoint.key.as_ref().map(ApiKey::expose);
                Err(match classify_stream_event(&raw, key) {
                    Some(f) => ProviderError::Api(Box::new(f)),
                    None => ProviderError::Unexpected(format!(
                        "{}/models answered with something that is not a model list",
                        conn.endpoint.base_url
                    )),
                })
            }
            Err(e) => Err(http::provider_error(
                e,
                &exchange,
                conn.endpoint.key.as_ref(),
            )),
        }
    }

    pub async fn connect(&self, p: ConnectParams) -> Result<ConnectResult, SidekickError> {
        let provider = self.provider(&p.provider)?;
        let (previous, previous_url) = {
            let inner = self.inner.lock().await;
            self.stored(&inner, provider)
        };
        let base_url = match p
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(u) => {
                let url = normalize_base_url(u).map_err(SidekickError::params)?;
                if !provider.base_url_editable() && url != self.default_base_url(provider) {
                    return Err(SidekickError::params(format!(
                        "baseUrl: {}'s base URL is fixed; use the OpenAI-compatible provider for another server",
                        provider.name()
                    )));
                }
                url
            }
            None => previous_url,
        };
        let organization = header_value("organization", p.organization.as_deref())?;
        let project = header_value("project", p.project.as_deref())?;
        let (organization, project) = if provider.supports_organization() {
            (organization, project)
        } else {
            if organization.is_some() || project.is_some() {
                tracing::info!(
                    "{} has no organizations; ignoring organization/project",
                    provider.id()
                );
            }
            (None, None)
        };
        let (key, source) = match p.api_key.as_deref() {
            Some(raw) => {
                let key = ApiKey::parse(raw).map_err(|e| SidekickError::params(e.to_string()))?;
                (Some(key), Some(KeySource::Keychain))
            }
            None => match self.env_keys.get(provider.id()) {
                Some(k) => (Some(k.clone()), Some(KeySource::Env)),
                None if provider.requires_key() => {
                    return Err(SidekickError::params(format!(
                        "apiKey: {} needs an API key",
                        provider.name()
                    )));
                }
                None => (None, None),
            },
        };
        let conn = Connection {
            provider,
            endpoint: Endpoint {
                base_url: base_url.clone(),
                key: key.clone(),
                organization: organization.clone(),
                project: project.clone(),
            },
            key_source: source,
            key_hint: key.as_ref().map(ApiKey::hint),
        };
        // Validate first: a key the provider refuses is never stored.
        let models = self
            .fetch_models(&conn)
            .await
            .map_err(|e| self.guidance(&e, &conn, None, &[]))?;

        let acct = account(provider.id(), &base_url);
        let stored_source = match (&key, source) {
            (Some(k), Some(KeySource::Keychain)) => Some(self.store_key(&acct, k).await?),
            (_, s) => s,
        };
        let mut inner = self.inner.lock().await;
        // A new base URL is a new keychain entry: the old one must not linger.
        if let Some(old_url) = previous.base_url.as_deref().filter(|u| *u != base_url) {
            let old = account(provider.id(), old_url);
            self.delete_key(&old, previous.key_source).await.ok();
            inner.keys.remove(&old);
        }
        match &key {
            Some(k) if stored_source != Some(KeySource::Env) => {
                inner.keys.insert(acct.clone(), k.clone());
            }
            _ => {
                inner.keys.remove(&acct);
            }
        }
        if key.is_none() {
            // A key-less connection must not pick up a key stored earlier for the same URL.
            self.delete_key(&acct, previous.key_source).await.ok();
        }
        inner.file.providers.insert(
            provider.id().into(),
            ProviderState {
                connected: true,
                base_url: Some(base_url.clone()),
                organization,
                project,
                key_hint: key.as_ref().map(ApiKey::hint),
                key_source: stored_source,
            },
        );
        inner.models.insert(provider.id().into(), models.clone());
        self.commit(&inner).await?;
        tracing::info!(
            "connected {} at {} ({} chat models, key {})",
            provider.id(),
            base_url,
            models.len(),
            key.as_ref().map(ApiKey::hint).unwrap_or("none".into())
        );
        Ok(ConnectResult {
            provider: provider.id().into(),
            connected: true,
            key_hint: key.as_ref().map(ApiKey::hint),
            models,
        })
    }

    /// The keychain first; the client's secret storage only when no keychain works and the
    /// client offered it.
    async fn store_key(&self, acct: &str, key: &ApiKey) -> Result<KeySource, SidekickError> {
        match self.keychain.set(acct, key).await {
            Ok(()) => Ok(KeySource::Keychain),
            Err(e) if self.settings().client_secret_storage => {
                tracing::info!("keychain unavailable ({e}); using the client's secret storage");
                self.client_secrets
                    .set(acct, key)
                    .await
                    .map(|()| KeySource::Client)
                    .map_err(|ce| self.key_store_guidance(&ce).into())
            }
            Err(e) => Err(self.key_store_guidance(&e).into()),
        }
    }

    async fn delete_key(&self, acct: &str, source: Option<KeySource>) -> Result<(), KeyStoreError> {
        match source {
            Some(KeySource::Client) => self.client_secrets.delete(acct).await,
            Some(KeySource::Env) | None => self.keychain.delete(acct).await.or(Ok(())),
            Some(KeySource::Keychain) => self.keychain.delete(acct).await,
        }
    }

    /// The connection a request needs now, reading the key from its store once.
    pub async fn connection(&self, id: &str) -> Result<Connection, SidekickError> {
        let provider = self.provider(id)?;
        let (st, base_url, cached) = {
            let inner = self.inner.lock().await;
            let (st, base_url) = self.stored(&inner, provider);
            let cached = inner.keys.get(&account(provider.id(), &base_url)).cloned();
            (st, base_url, cached)
        };
        let env = self.env_keys.get(provider.id()).cloned();
        if env.is_none() && !st.connected {
            return Err(guidance::not_connected(provider).into());
        }
        let (key, source) = if let Some(k) = env {
            (Some(k), Some(KeySource::Env))
        } else if let Some(k) = cached {
            (Some(k), st.key_source)
        } else {
            let acct = account(provider.id(), &base_url);
            let read = match st.key_source {
                Some(KeySource::Keychain) => self
                    .keychain
                    .get(&acct)
                    .await
                    .map_err(|e| self.key_store_guidance(&e))?,
                Some(KeySource::Client) => self
                    .client_secrets
                    .get(&acct)
                    .await
                    .map_err(|e| self.key_store_guidance(&e))?,
                _ => None,
            };
            if st.key_source.is_some() && read.is_none() {
                tracing::warn!(
                    "{} is marked connected but its key is gone from {:?}",
                    provider.id(),
                    st.key_source
                );
                return Err(guidance::not_connected(provider).into());
            }
            if let Some(k) = &read {
                self.inner.lock().await.keys.insert(acct, k.clone());
            }
            (read, st.key_source)
        };
        Ok(Connection {
            provider,
            key_hint: key.as_ref().map(ApiKey::hint),
            endpoint: Endpoint {
                base_url,
                key,
                organization: st.organization.clone(),
                project: st.project.clone(),
            },
            key_source: source,
        })
    }

    /// The provider's chat models, from the cache unless `refresh`.
    pub async fn models(
        &self,
        conn: &Connection,
        refresh: bool,
    ) -> Result<Vec<ModelInfo>, SidekickError> {
        if !refresh && let Some(m) = self.inner.lock().await.models.get(conn.provider.id()) {
            return Ok(m.clone());
        }
        let models = self
            .fetch_models(conn)
            .await
            .map_err(|e| self.guidance(&e, conn, None, &[]))?;
        self.inner
            .lock()
            .await
            .models
            .insert(conn.provider.id().into(), models.clone());
        Ok(models)
    }

    /// Cached model ids, for "did you mean" in guidance; empty when none were fetched.
    pub async fn cached_model_ids(&self, provider: &str) -> Vec<String> {
        self.inner
            .lock()
            .await
            .models
            .get(provider)
            .map(|m| m.iter().map(|m| m.id.clone()).collect())
            .unwrap_or_default()
    }

    pub async fn list_models(
        &self,
        p: ListModelsParams,
    ) -> Result<ListModelsResult, SidekickError> {
        let conn = self.connection(&p.provider).await?;
        let models = self.models(&conn, p.refresh).await?;
        Ok(ListModelsResult {
            provider: conn.provider.id().into(),
            models,
        })
    }

    pub async fn select_model(
        &self,
        p: SelectModelParams,
    ) -> Result<SelectModelResult, SidekickError> {
        let model = p.model.trim();
        if model.is_empty() {
            return Err(SidekickError::params("model: empty model id"));
        }
        let conn = self.connection(&p.provider).await?;
        let models = self.models(&conn, false).await?;
        if !models.iter().any(|m| m.id == model) {
            let ids: Vec<String> = models.into_iter().map(|m| m.id).collect();
            return Err(guidance::unknown_model(conn.provider, model, &ids).into());
        }
        let active = ActiveSelection {
            provider: conn.provider.id().into(),
            model: model.into(),
        };
        let mut inner = self.inner.lock().await;
        inner.file.active = Some(active.clone());
        self.commit(&inner).await?;
        Ok(SelectModelResult { active })
    }

    pub async fn disconnect(&self, p: DisconnectParams) -> Result<DisconnectResult, SidekickError> {
        let provider = self.provider(&p.provider)?;
        self.stop_chats(provider.id()).await;
        let mut inner = self.inner.lock().await;
        let (st, base_url) = self.stored(&inner, provider);
        let acct = account(provider.id(), &base_url);
        if st.connected
            && let Err(e) = self.delete_key(&acct, st.key_source).await
        {
            // The key is still stored: saying "disconnected" would be a lie.
            return Err(self.key_store_guidance(&e).into());
        }
        inner.keys.remove(&acct);
        inner.models.remove(provider.id());
        inner.file.providers.insert(
            provider.id().into(),
            ProviderState {
                connected: false,
                // Kept so connecting again starts from the same server.
                base_url: st.base_url,
                organization: st.organization,
                project: st.project,
                key_hint: None,
                key_source: None,
            },
        );
        if inner
            .file
            .active
            .as_ref()
            .is_some_and(|a| a.provider == provider.id())
        {
            inner.file.active = None;
        }
        self.commit(&inner).await?;
        tracing::info!("disconnected {}", provider.id());
        Ok(DisconnectResult {
            provider: provider.id().into(),
            connected: self.env_keys.contains_key(provider.id()),
        })
    }

    pub async fn active(&self) -> Option<ActiveSelection> {
        self.inner.lock().await.file.active.clone()
    }

    /// Registers a chat; refuses a chatId already running.
    pub fn start_chat(
        &self,
        chat_id: &str,
        provider: &str,
    ) -> Result<ChatGuard<'_>, SidekickError> {
        let mut chats = self
            .chats
            .lock()
            .map_err(|_| SidekickError::Internal("chat registry poisoned".into()))?;
        if chats.contains_key(chat_id) {
            return Err(SidekickError::params(format!(
                "chatId: a chat with id “{chat_id}” is already running"
            )));
        }
        let cancel = CancellationToken::new();
        let (tx, rx) = tokio::sync::watch::channel(());
        chats.insert(
            chat_id.to_string(),
            RunningChat {
                provider: provider.to_string(),
                cancel: cancel.clone(),
                done: rx,
            },
        );
        Ok(ChatGuard {
            session: self,
            chat_id: chat_id.to_string(),
            cancel,
            _done: tx,
        })
    }

    /// Cancels a provider's chats and waits until each has sent its last delta.
    async fn stop_chats(&self, provider: &str) {
        let waiting: Vec<tokio::sync::watch::Receiver<()>> = match self.chats.lock() {
            Ok(chats) => chats
                .values()
                .filter(|c| c.provider == provider)
                .map(|c| {
                    c.cancel.cancel();
                    c.done.clone()
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        for mut done in waiting {
            // Resolves with an error once the chat's guard (the sender) is dropped.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                while done.changed().await.is_ok() {}
            })
            .await;
        }
    }
}

/// `https://…` anywhere, `http://…` only on this machine: a key never crosses a network in
/// clear text.
pub fn normalize_base_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url =
        url::Url::parse(trimmed).map_err(|e| format!("baseUrl: “{trimmed}” is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(format!(
                    "baseUrl: plain http:// is only allowed for localhost; use https:// for {} so the key is not sent in clear text",
                    url.host_str().unwrap_or("this host")
                ));
            }
        }
        other => {
            return Err(format!(
                "baseUrl: unsupported scheme “{other}”; use https://"
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "baseUrl: credentials in the URL are not allowed; use the API key field".into(),
        );
    }
    Ok(trimmed.to_string())
}

/// Organization and project IDs go into headers: trimmed, empty means none, and only
/// characters a header can carry.
fn header_value(field: &str, raw: Option<&str>) -> Result<Option<String>, SidekickError> {
    let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SidekickError::params(format!(
            "{field}: may contain only printable ASCII characters without spaces"
        )));
    }
    Ok(Some(v.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            normalize_base_url(" https://api.example.com/v1/ ").as_deref(),
            Ok("https://api.example.com/v1")
        );
        assert!(normalize_base_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(normalize_base_url("http://localhost:11434/v1").is_ok());
        assert!(normalize_base_url("http://[::1]:1/v1").is_ok());
        let e = normalize_base_url("http://example.com/v1").unwrap_err();
        assert!(e.starts_with("baseUrl:") && e.contains("clear text"), "{e}");
        assert!(normalize_base_url("ftp://x").is_err());
        assert!(normalize_base_url("not a url").is_err());
        assert!(normalize_base_url("https://user:pw@example.com").is_err());
    }
}
