//! The session composes the sidecar's services — connections, running chats, the HTTP client,
//! settings — for the handlers, and turns their failures into what the client sees. It does no
//! work of its own.

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;
use tower_lsp_server::Client;

use crate::chat::{self, ChatRegistry};
use crate::connections::{Connection, ConnectionError, Connections, Stores};
use crate::error::SidekickError;
use crate::guidance;
use crate::http::Http;
use crate::protocol::{
    ChatParams, ChatResult, ConnectParams, ConnectResult, DisconnectParams, DisconnectResult,
    ListModelsParams, ListModelsResult, ProvidersState, SelectModelParams, SelectModelResult,
    StateChanged,
};
use crate::providers::Registry;
use crate::secrets::{ClientSecrets, Keychain};
use crate::settings::Settings;
use crate::state::{StateFile, StateStore};

pub struct Session {
    pub client: Client,
    pub http: Http,
    settings: RwLock<Settings>,
    pub connections: Arc<Connections>,
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
        let connections = Arc::new(Connections::new(
            Registry::from_env(),
            |var| std::env::var(var).ok(),
            stores,
            store,
            file,
            announcer(client.clone()),
        ));
        tokio::spawn(connections.clone().follow_other_windows());
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
        match self
            .connections
            .select(&p.provider, &p.model, &self.http, &settings)
            .await
        {
            Ok(active) => Ok(SelectModelResult { active }),
            Err(ConnectionError::UnknownModel {
                connection,
                model,
                available,
            }) => {
                let close = guidance::close_models_off_thread(&model, available).await;
                Err(guidance::unknown_model(connection.spec(), &model, &close).into())
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    pub async fn disconnect(&self, p: DisconnectParams) -> Result<DisconnectResult, SidekickError> {
        let stop = self.chats.stop_provider(&p.provider);
        self.connections
            .disconnect(&p.provider, stop)
            .await
            .map_err(|e| self.failed(e))
    }

    /// One streamed chat turn, with the services it needs.
    pub async fn chat(&self, params: ChatParams) -> Result<ChatResult, SidekickError> {
        let services = chat::Services {
            connections: &self.connections,
            chats: &self.chats,
            http: &self.http,
            client: &self.client,
            settings: self.settings(),
        };
        chat::run(services, params).await
    }

    fn failed(&self, e: ConnectionError) -> SidekickError {
        guidance::connection_failed(e, &self.settings())
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
