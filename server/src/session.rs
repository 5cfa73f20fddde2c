//! The session composes the sidecar's services — connections, running chats, the HTTP client,
//! settings — for the handlers, and turns their failures into what the client sees. It does no
//! work of its own.

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;
use tower_lsp_server::Client;

use crate::chat::ChatRegistry;
use crate::connections::{Connection, ConnectionError, Connections, Stores};
use crate::error::SidekickError;
use crate::failure::ProviderError;
use crate::guidance::{self, Context};
use crate::http::Http;
use crate::protocol::{
    ConnectParams, ConnectResult, DisconnectParams, DisconnectResult, Guidance, ListModelsParams,
    ListModelsResult, ProvidersState, SelectModelParams, SelectModelResult, StateChanged,
};
use crate::providers::Registry;
use crate::secrets::{ClientSecrets, Keychain};
use crate::settings::Settings;
use crate::state::{StateFile, StateStore};

pub struct Session {
    pub client: Client,
    pub http: Http,
    settings: RwLock<Settings>,
    pub connections: Connections,
    pub chats: ChatRegistry,
    pub startup_warning: Mutex<Option<String>>,
}

impl Session {
    pub fn new(client: Client, http: Http) -> Session {
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
        let stores = Stores {
            keychain: Arc::new(Keychain::from_env()),
            client: Arc::new(ClientSecrets::new(client.clone())),
        };
        let connections = Connections::new(
            Registry::from_env(),
            |var| std::env::var(var).ok(),
            stores,
            store,
            file,
            announcer(client.clone()),
        );
        Session {
            client,
            http,
            settings: RwLock::new(Settings::default()),
            connections,
            chats: ChatRegistry::default(),
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

    pub async fn list_providers(&self) -> ProvidersState {
        self.connections.snapshot().await
    }

    pub async fn connect(&self, p: ConnectParams) -> Result<ConnectResult, SidekickError> {
        let settings = self.settings();
        self.connections
            .connect(p, &self.http, &settings)
            .await
            .map_err(|e| self.failed(e))
    }

    pub async fn connection(&self, id: &str) -> Result<Connection, SidekickError> {
        self.connections
            .connection(id)
            .await
            .map_err(|e| self.failed(e))
    }

    pub async fn list_models(
        &self,
        p: ListModelsParams,
    ) -> Result<ListModelsResult, SidekickError> {
        let conn = self.connection(&p.provider).await?;
        let settings = self.settings();
        let models = self
            .connections
            .models(&conn, p.refresh, &self.http, &settings)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(ListModelsResult {
            provider: conn.spec().id.into(),
            models,
        })
    }

    pub async fn select_model(
        &self,
        p: SelectModelParams,
    ) -> Result<SelectModelResult, SidekickError> {
        let settings = self.settings();
        let active = self
            .connections
            .select(&p.provider, &p.model, &self.http, &settings)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(SelectModelResult { active })
    }

    pub async fn disconnect(&self, p: DisconnectParams) -> Result<DisconnectResult, SidekickError> {
        let stop = self.chats.stop_provider(&p.provider);
        self.connections
            .disconnect(&p.provider, stop)
            .await
            .map_err(|e| self.failed(e))
    }

    /// What guidance may mention about a connection besides the failure itself.
    fn context<'a>(
        &self,
        conn: &'a Connection,
        model: Option<&'a str>,
        available: &'a [String],
    ) -> Context<'a> {
        let s = self.settings();
        Context {
            provider: conn.spec(),
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

    /// The guidance for a failed provider call, logged once.
    pub fn provider_guidance(
        &self,
        err: &ProviderError,
        conn: &Connection,
        model: Option<&str>,
        available: &[String],
    ) -> Guidance {
        let g = guidance::for_provider_error(err, &self.context(conn, model, available));
        tracing::warn!(kind = %g.kind, status = ?g.http_status, request_id = ?g.request_id, "{}: {err}", conn.spec().id);
        g
    }

    /// The one place a connection failure becomes what the client sees.
    fn failed(&self, e: ConnectionError) -> SidekickError {
        match e {
            ConnectionError::Params(m) => SidekickError::InvalidParams(m),
            ConnectionError::NotConnected(spec) => guidance::not_connected(spec).into(),
            ConnectionError::Provider { error, connection } => self
                .provider_guidance(&error, &connection, None, &[])
                .into(),
            ConnectionError::UnknownModel {
                connection,
                model,
                available,
            } => guidance::unknown_model(connection.spec(), &model, &available).into(),
            ConnectionError::Secrets(e) => {
                tracing::warn!("{e}");
                guidance::secret_store_failed(&e).into()
            }
            ConnectionError::State(m) => {
                SidekickError::Internal(format!("could not save the state file: {m}"))
            }
        }
    }
}

/// Sends every announced state to the client, in order.
fn announcer(client: Client) -> mpsc::UnboundedSender<ProvidersState> {
    let (tx, mut rx) = mpsc::unbounded_channel::<ProvidersState>();
    tokio::spawn(async move {
        while let Some(state) = rx.recv().await {
            client.send_notification::<StateChanged>(state).await;
        }
    });
    tx
}
