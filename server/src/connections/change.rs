//! Connect and disconnect: the two changes of a connection, each under its provider's lock.

use std::future::Future;

use super::{Connection, ConnectionError, Connections};
use crate::endpoint::{header_value, normalize_base_url};
use crate::http::Http;
use crate::ledger::CallRecord;
use crate::protocol::{ConnectParams, ConnectResult, DisconnectResult, KeySource, LedgerOperation};
use crate::providers::{Endpoint, Entry, catalog};
use crate::secrets::{ApiKey, CredentialSlot, Purpose, SecretStore};
use crate::settings::Settings;
use crate::state::{ProviderState, StateFile};

/// What a connect request asks for, checked.
struct Request {
    base_url: String,
    organization: Option<String>,
    project: Option<String>,
    key: Option<ApiKey>,
    source: Option<KeySource>,
}

impl Connections {
    pub(super) async fn provider_lock(&self, id: &str) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.provider_locks.get(id) {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Checks what the client sent, before anything goes out.
    fn request(
        &self,
        entry: &Entry,
        p: &ConnectParams,
        previous_url: String,
    ) -> Result<Request, ConnectionError> {
        let spec = entry.spec();
        let params = ConnectionError::Params;
        let base_url = match p
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(u) => {
                let url = normalize_base_url(&entry.provider.base_url_from(u)).map_err(params)?;
                if !spec.base_url_editable() && Some(&url) != entry.default_base_url.as_ref() {
                    return Err(params(format!(
                        "baseUrl: {}'s base URL is fixed; use the OpenAI-compatible provider for another server",
                        spec.name
                    )));
                }
                url
            }
            None if previous_url.is_empty() => {
                return Err(params(format!(
                    "baseUrl: {} needs its base URL ({})",
                    spec.name,
                    spec.base_url_placeholder().unwrap_or("https://…")
                )));
            }
            None => previous_url,
        };
        let organization =
            header_value("organization", p.organization.as_deref()).map_err(params)?;
        let project = header_value("project", p.project.as_deref()).map_err(params)?;
        let (organization, project) = if spec.supports_organization {
            (organization, project)
        } else {
            if organization.is_some() || project.is_some() {
                tracing::info!(
                    "{} has no organizations; ignoring organization/project",
                    spec.id
                );
            }
            (None, None)
        };
        let (key, source) = match p.api_key.as_deref() {
            Some(raw) => {
                let key = ApiKey::parse(raw).map_err(|e| params(e.to_string()))?;
                (Some(key), Some(KeySource::Keychain))
            }
            None => match self.env_key(spec, &base_url) {
                Some(k) => (Some(k.clone()), Some(KeySource::Env)),
                None if spec.requires_key => {
                    let env = spec
                        .env_key_var
                        .map(|v| format!(" (or set {v} in the server's environment)"))
                        .unwrap_or_default();
                    return Err(params(format!(
                        "apiKey: {} needs an API key{env}",
                        spec.name
                    )));
                }
                None => (None, None),
            },
        };
        Ok(Request {
            base_url,
            organization,
            project,
            key,
            source,
        })
    }

    /// Validates the key with the provider, then stores it and the settings, and announces.
    /// A key the provider refuses is never stored.
    pub async fn connect(
        &self,
        p: ConnectParams,
        http: &Http,
        settings: &Settings,
    ) -> Result<ConnectResult, ConnectionError> {
        let entry = self.entry(&p.provider)?.clone();
        let spec = entry.spec();
        let _serial = self.provider_lock(spec.id).await;
        let (previous, previous_url) = {
            let inner = self.inner.lock().await;
            self.stored(&inner, &entry)
        };
        let req = self.request(&entry, &p, previous_url)?;
        let conn = Connection {
            entry: entry.clone(),
            endpoint: Endpoint {
                base_url: req.base_url.clone(),
                key: req.key.clone(),
                organization: req.organization.clone(),
                project: req.project.clone(),
            },
            key_source: req.source,
            key_hint: req.key.as_ref().map(ApiKey::hint),
        };
        let record = CallRecord::start(
            (spec.id, spec.otel_name),
            &req.base_url,
            LedgerOperation::Validate,
        );
        let call = conn.call(http, settings);
        let validated = entry.provider.validate(&call).await;
        let record = record.seen(call.seen.take());
        self.ledger.record(match &validated {
            Ok(_) => record.ok(),
            Err(e) => record.failed(e),
        });
        let models = validated.map_err(|error| ConnectionError::Provider {
            error,
            connection: Box::new(conn.clone()),
        })?;
        let models = catalog::with_prices(
            catalog::arrange(models, spec.suggested_models),
            spec.price_names,
        );
        let slot = CredentialSlot::inference(spec.id, &req.base_url);
        let stored_source = match (&req.key, req.source) {
            (Some(k), Some(KeySource::Keychain)) => Some(self.store_key(&slot, k, settings).await?),
            (_, s) => s,
        };
        // A new base URL is a new slot: the old key must not linger. Nor may a key stored
        // earlier for this slot serve a key-less connection.
        if let Some(old_url) = previous.base_url.as_deref().filter(|u| *u != req.base_url) {
            let old = CredentialSlot::inference(spec.id, old_url);
            self.delete_key(&old, previous.key_source).await.ok();
        }
        if req.key.is_none() {
            self.delete_key(&slot, previous.key_source).await.ok();
        }
        let mut inner = self.inner.lock().await;
        if let Some(s @ (KeySource::Keychain | KeySource::Client)) = stored_source {
            inner.key_store = Some(s);
        }
        inner
            .keys
            .retain(|s, _| s.provider != spec.id || s.purpose == Purpose::Admin);
        if let (Some(k), false) = (&req.key, stored_source == Some(KeySource::Env)) {
            inner.keys.insert(slot, k.clone());
        }
        let state = ProviderState {
            connected: true,
            base_url: Some(req.base_url.clone()),
            organization: req.organization,
            project: req.project,
            key_hint: req.key.as_ref().map(ApiKey::hint),
            key_source: stored_source,
            admin: None,
        };
        self.commit(&mut inner, move |f| {
            // The admin key is another slot: a chat key's connect leaves it as it is on disk.
            let admin = f.providers.get(spec.id).and_then(|p| p.admin.clone());
            f.providers.insert(
                spec.id.into(),
                ProviderState {
                    admin,
                    ..state.clone()
                },
            );
        })
        .await?;
        inner.models.insert(spec.id, models.clone());
        let hint = req.key.as_ref().map(ApiKey::hint);
        tracing::info!(
            "connected {} at {} ({} chat models, key {})",
            spec.id,
            req.base_url,
            models.len(),
            hint.as_deref().unwrap_or("none")
        );
        Ok(ConnectResult {
            provider: spec.id.into(),
            connected: true,
            key_hint: hint,
            models,
        })
    }

    /// The keychain first; the client's secret storage only when no keychain works and the
    /// client offered it.
    pub(super) async fn store_key(
        &self,
        slot: &CredentialSlot,
        key: &ApiKey,
        settings: &Settings,
    ) -> Result<KeySource, ConnectionError> {
        match self.stores.keychain.set(slot, key).await {
            Ok(()) => Ok(self.stores.keychain.source()),
            Err(e) if settings.client_secret_storage => {
                tracing::info!("keychain unavailable ({e}); using the client's secret storage");
                self.stores
                    .client
                    .set(slot, key)
                    .await
                    .map(|()| self.stores.client.source())
                    .map_err(ConnectionError::Secrets)
            }
            Err(e) => Err(ConnectionError::Secrets(e)),
        }
    }

    pub(super) async fn delete_key(
        &self,
        slot: &CredentialSlot,
        source: Option<KeySource>,
    ) -> Result<(), ConnectionError> {
        let store: &dyn SecretStore = match source {
            Some(KeySource::Client) => self.stores.client.as_ref(),
            // Where nothing was recorded, the keychain is where a key could still be.
            _ => self.stores.keychain.as_ref(),
        };
        let deleted = store.delete(slot).await;
        match (deleted, source) {
            (Err(e), Some(KeySource::Keychain | KeySource::Client)) => {
                Err(ConnectionError::Secrets(e))
            }
            _ => Ok(()),
        }
    }

    /// Runs `stop_chats` (which must end the provider's running chats), deletes the stored
    /// key, forgets the models and the selection, saves and announces. Idempotent.
    pub async fn disconnect(
        &self,
        id: &str,
        stop_chats: impl Future<Output = ()>,
    ) -> Result<DisconnectResult, ConnectionError> {
        let entry = self.entry(id)?.clone();
        let spec = entry.spec();
        let _serial = self.provider_lock(spec.id).await;
        stop_chats.await;
        let (st, base_url) = {
            let inner = self.inner.lock().await;
            self.stored(&inner, &entry)
        };
        if st.connected {
            // The key is still stored when this fails: saying "disconnected" would be a lie.
            self.delete_key(
                &CredentialSlot::inference(spec.id, &base_url),
                st.key_source,
            )
            .await?;
        }
        let mut inner = self.inner.lock().await;
        inner
            .keys
            .retain(|s, _| s.provider != spec.id || s.purpose == Purpose::Admin);
        inner.models.remove(spec.id);
        self.commit(&mut inner, move |f| forget(f, spec.id)).await?;
        tracing::info!("disconnected {}", spec.id);
        Ok(DisconnectResult {
            provider: spec.id.into(),
            connected: self.env_key(spec, &base_url).is_some(),
        })
    }
}

/// A provider disconnected: no key, no selection, but its server and organization are kept
/// so connecting again starts from the same place.
fn forget(file: &mut StateFile, id: &'static str) {
    let st = file.providers.get(id).cloned().unwrap_or_default();
    file.providers.insert(
        id.into(),
        ProviderState {
            connected: false,
            base_url: st.base_url,
            organization: st.organization,
            project: st.project,
            key_hint: None,
            key_source: None,
            admin: st.admin,
        },
    );
    if file.active.as_ref().is_some_and(|a| a.provider == id) {
        file.active = None;
        file.disconnected = Some(id.into());
    }
}
