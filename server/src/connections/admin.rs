//! The organization admin key: a second credential slot of a provider (purpose `admin`), read
//! only by the organization service. Stored after one successful read of the organization's
//! costs; the environment's key (`OPENAI_ADMIN_KEY`) wins over a stored one, as for chat keys.

use std::future::Future;

use super::{ConnectionError, Connections};
use crate::endpoint::header_value;
use crate::protocol::{ConnectAdminParams, ConnectAdminResult, DisconnectAdminResult, KeySource};
use crate::providers::org_api::OrgApi;
use crate::providers::{Endpoint, Entry, ProviderSpec};
use crate::secrets::{ApiKey, CredentialSlot, Purpose};
use crate::settings::Settings;
use crate::state::AdminState;

/// Everything an organization call needs: the admin key, never the chat key.
#[derive(Clone)]
pub struct AdminConnection {
    pub spec: &'static ProviderSpec,
    pub api: &'static dyn OrgApi,
    /// The admin key in `key`, the organization header if one was given, no project.
    pub endpoint: Endpoint,
    pub key_hint: Option<String>,
    pub key_source: Option<KeySource>,
}

impl std::fmt::Debug for AdminConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConnection")
            .field("provider", &self.spec.id)
            .field("key_hint", &self.key_hint)
            .finish_non_exhaustive()
    }
}

impl AdminConnection {
    /// The organization as far as the settings tell it: provider, base URL and organization
    /// header. One ingestion runs per organization at a time.
    pub fn organization(&self) -> String {
        format!(
            "{}|{}|{}|",
            self.spec.id,
            self.endpoint.base_url,
            self.endpoint.organization.as_deref().unwrap_or("")
        )
    }

    /// Where the organization's cached data is filed: the organization and the key's
    /// fingerprint, because a key (an `OPENAI_ADMIN_KEY` in one shell) may belong to another
    /// organization than the settings say, and its data must never show under this one.
    pub fn scope(&self) -> String {
        let key = self.endpoint.key.as_ref().map(ApiKey::fingerprint);
        format!("{}{}", self.organization(), key.unwrap_or_default())
    }
}

fn admin_slot(spec: &ProviderSpec, base_url: &str) -> CredentialSlot {
    CredentialSlot {
        provider: spec.id,
        base_url: base_url.to_string(),
        purpose: Purpose::Admin,
    }
}

impl Connections {
    /// The provider and its organization API; a provider without one is a params error.
    pub fn org_entry(&self, id: &str) -> Result<(&Entry, &'static dyn OrgApi), ConnectionError> {
        let entry = self.entry(id)?;
        match entry.provider.organization() {
            Some(api) => Ok((entry, api)),
            None => {
                let with: Vec<&str> = self
                    .registry
                    .entries()
                    .iter()
                    .filter(|e| e.provider.organization().is_some())
                    .map(|e| e.spec().id)
                    .collect();
                Err(ConnectionError::Params(format!(
                    "provider: organization usage and costs are available for {} only",
                    with.join(", ")
                )))
            }
        }
    }

    /// The admin connection in use now; None when no admin key is stored or set.
    pub async fn admin_connection(
        &self,
        id: &str,
    ) -> Result<Option<AdminConnection>, ConnectionError> {
        let (entry, api) = self.org_entry(id)?;
        let spec = entry.spec();
        let (admin, base_url, cached) = {
            let inner = self.inner.lock().await;
            let (st, base_url) = self.stored(&inner, entry);
            let cached = inner.keys.get(&admin_slot(spec, &base_url)).cloned();
            (st.admin, base_url, cached)
        };
        let organization = admin.as_ref().and_then(|a| a.organization.clone());
        let (key, source) = if let Some(k) = self.env_admin_keys.get(spec.id) {
            (k.clone(), KeySource::Env)
        } else if let Some(admin) = &admin {
            let source = admin.key_source.unwrap_or(KeySource::Keychain);
            let key = match cached {
                Some(k) => k,
                None => {
                    let Some(store) = self.stores.by_source(Some(source)) else {
                        return Ok(None);
                    };
                    let slot = admin_slot(spec, &base_url);
                    let Some(k) = store.get(&slot).await.map_err(ConnectionError::Secrets)? else {
                        tracing::warn!("{}'s admin key is gone from {source:?}", spec.id);
                        return Ok(None);
                    };
                    self.inner.lock().await.keys.insert(slot, k.clone());
                    k
                }
            };
            (key, source)
        } else {
            return Ok(None);
        };
        Ok(Some(AdminConnection {
            spec,
            api,
            key_hint: Some(key.hint()),
            endpoint: Endpoint {
                base_url,
                key: Some(key),
                organization,
                project: None,
            },
            key_source: Some(source),
        }))
    }

    /// Checks the admin key with `validate` (one read of the organization's costs), then
    /// stores it. A key the provider refuses is never stored.
    pub async fn connect_admin<F, Fut>(
        &self,
        p: ConnectAdminParams,
        settings: &Settings,
        validate: F,
    ) -> Result<ConnectAdminResult, ConnectionError>
    where
        F: FnOnce(AdminConnection) -> Fut,
        Fut: Future<Output = Result<(), ConnectionError>>,
    {
        let (entry, api) = self.org_entry(&p.provider)?;
        let spec = entry.spec();
        let key = ApiKey::parse(&p.admin_key)
            .map_err(|e| ConnectionError::Params(format!("adminKey: {e}")))?;
        let organization = header_value("organization", p.organization.as_deref())
            .map_err(ConnectionError::Params)?;
        let _serial = self.provider_lock(spec.id).await;
        let base_url = {
            let inner = self.inner.lock().await;
            self.stored(&inner, entry).1
        };
        if base_url.is_empty() {
            return Err(ConnectionError::Params(format!(
                "provider: {} has no base URL yet",
                spec.name
            )));
        }
        let conn = AdminConnection {
            spec,
            api,
            key_hint: Some(key.hint()),
            endpoint: Endpoint {
                base_url: base_url.clone(),
                key: Some(key.clone()),
                organization: organization.clone(),
                project: None,
            },
            key_source: Some(KeySource::Keychain),
        };
        validate(conn).await?;
        let slot = admin_slot(spec, &base_url);
        let source = self.store_key(&slot, &key, settings).await?;
        let mut inner = self.inner.lock().await;
        inner.keys.insert(slot, key.clone());
        let admin = AdminState {
            key_hint: Some(key.hint()),
            key_source: Some(source),
            organization,
        };
        self.commit(&mut inner, move |f| {
            f.providers.entry(spec.id.into()).or_default().admin = Some(admin.clone());
        })
        .await?;
        tracing::info!(
            "connected {}'s organization (admin key {})",
            spec.id,
            key.hint()
        );
        Ok(ConnectAdminResult {
            provider: spec.id.into(),
            admin_connected: true,
            admin_key_hint: Some(key.hint()),
        })
    }

    /// Deletes the stored admin key. Idempotent.
    pub async fn disconnect_admin(
        &self,
        id: &str,
    ) -> Result<DisconnectAdminResult, ConnectionError> {
        let (entry, _) = self.org_entry(id)?;
        let spec = entry.spec();
        let _serial = self.provider_lock(spec.id).await;
        let (admin, base_url) = {
            let inner = self.inner.lock().await;
            let (st, base_url) = self.stored(&inner, entry);
            (st.admin, base_url)
        };
        let slot = admin_slot(spec, &base_url);
        if let Some(admin) = &admin {
            self.delete_key(&slot, admin.key_source).await?;
        }
        let mut inner = self.inner.lock().await;
        inner.keys.remove(&slot);
        self.commit(&mut inner, move |f| {
            if let Some(p) = f.providers.get_mut(spec.id) {
                p.admin = None;
            }
        })
        .await?;
        tracing::info!("disconnected {}'s organization", spec.id);
        Ok(DisconnectAdminResult {
            provider: spec.id.into(),
            admin_connected: self.env_admin_keys.contains_key(spec.id),
        })
    }
}
