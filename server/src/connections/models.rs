//! What a connected provider offers: its model list (cached until a refresh or a disconnect)
//! and the selection of one model, or of a typed deployment name.

use super::{Connection, ConnectionError, Connections};
use crate::http::Http;
use crate::ledger::CallRecord;
use crate::protocol::{ActiveSelection, LedgerOperation, ModelInfo, ModelKind, ModelPrice};
use crate::providers::catalog;
use crate::settings::Settings;
use crate::untrusted;

impl Connections {
    /// The provider's chat models, from the cache unless `refresh`.
    pub async fn models(
        &self,
        conn: &Connection,
        refresh: bool,
        http: &Http,
        settings: &Settings,
    ) -> Result<Vec<ModelInfo>, ConnectionError> {
        let id = conn.spec().id;
        if !refresh && let Some(m) = self.inner.lock().await.models.get(id) {
            return Ok(m.clone());
        }
        let call = conn.call(http, settings);
        let record = CallRecord::start(
            (id, conn.spec().otel_name),
            &conn.endpoint.base_url,
            LedgerOperation::Models,
        );
        let listed = conn.entry.provider.list_models(&call).await;
        let record = record.seen(call.seen.take());
        self.ledger.record(match &listed {
            Ok(_) => record.ok(),
            Err(e) => record.failed(e),
        });
        let models = listed.map_err(|error| ConnectionError::Provider {
            error,
            connection: Box::new(conn.clone()),
        })?;
        let models = catalog::with_prices(
            catalog::arrange(models, conn.spec().suggested_models),
            conn.spec().price_names,
        );
        self.inner.lock().await.models.insert(id, models.clone());
        Ok(models)
    }

    /// What the provider's own cached list says of `model`, read by `read`.
    async fn cached_model<T>(
        &self,
        provider: &str,
        model: &str,
        read: impl FnOnce(&ModelInfo) -> Option<T>,
    ) -> Option<T> {
        let inner = self.inner.lock().await;
        read(inner.models.get(provider)?.iter().find(|m| m.id == model)?)
    }

    /// The price the provider's own list gives `model` (OpenRouter's), when cached.
    pub async fn cached_price(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        self.cached_model(provider, model, |m| m.price).await
    }

    /// The input window the provider's own list gives `model` (OpenRouter's), when cached.
    pub async fn cached_window(&self, provider: &str, model: &str) -> Option<u64> {
        self.cached_model(provider, model, |m| m.context_window.filter(|w| *w > 0))
            .await
    }

    /// Cached chat model ids, for "did you mean" in guidance; empty when none were fetched.
    pub async fn cached_model_ids(&self, provider: &str) -> Vec<String> {
        self.inner
            .lock()
            .await
            .models
            .get(provider)
            .map(|m| chat_ids(m))
            .unwrap_or_default()
    }

    /// Makes `model` the active selection: a listed model, or any deployment name where the
    /// provider's models are deployments.
    pub async fn select(
        &self,
        provider: &str,
        model: &str,
        http: &Http,
        settings: &Settings,
    ) -> Result<ActiveSelection, ConnectionError> {
        let model = model.trim();
        if model.is_empty() {
            return Err(ConnectionError::Params("model: empty model id".into()));
        }
        if model.len() > untrusted::MAX_MODEL_ID {
            return Err(ConnectionError::Params(format!(
                "model: longer than {} characters; no provider's model id is",
                untrusted::MAX_MODEL_ID
            )));
        }
        let conn = self.connection(provider).await?;
        match conn.spec().model_kind {
            ModelKind::Model => {
                let models = self.models(&conn, false, http, settings).await?;
                if !models.iter().any(|m| m.id == model) {
                    return Err(ConnectionError::UnknownModel {
                        available: chat_ids(&models),
                        connection: Box::new(conn),
                        model: model.into(),
                    });
                }
            }
            ModelKind::Deployment => check_deployment_name(model)?,
        }
        let active = ActiveSelection {
            provider: conn.spec().id.into(),
            model: model.into(),
        };
        let mut inner = self.inner.lock().await;
        let selected = active.clone();
        self.commit(&mut inner, move |f| {
            f.active = Some(selected.clone());
            f.disconnected = None;
        })
        .await?;
        Ok(active)
    }
}

/// The ids "did you mean" may suggest: never an embedding or image model.
fn chat_ids(models: &[ModelInfo]) -> Vec<String> {
    models
        .iter()
        .filter(|m| m.chat)
        .map(|m| m.id.clone())
        .collect()
}

/// Azure deployment names are letters, digits, `-`, `_` and `.`; anything else cannot be one
/// and would only travel into a URL or a body to be refused.
pub(super) fn check_deployment_name(name: &str) -> Result<(), ConnectionError> {
    let ok = name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ConnectionError::Params(
            "model: a deployment name has at most 64 letters, digits, '-', '_' or '.'".into(),
        ))
    }
}
