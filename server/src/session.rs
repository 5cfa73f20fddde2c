//! The session composes the sidecar's services — connections, running chats, the HTTP client,
//! settings — for the handlers, and turns their failures into what the client sees. It does no
//! work of its own.

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;
use tower_lsp_server::Client;

use std::path::PathBuf;

use crate::chat::{self, ChatRegistry};
use crate::connections::{AdminConnection, Connection, ConnectionError, Connections, Stores};
use crate::conversations::Conversations;
use crate::error::SidekickError;
use crate::guidance;
use crate::http::Http;
use crate::ledger::{Ledger, SpendError};
use crate::org::{Org, OrgError};
use crate::prices::PriceTable;
use crate::protocol::{
    ChatMessage, ChatParams, ChatResult, ConnectAdminParams, ConnectAdminResult, ConnectParams,
    ConnectResult, CountTokensParams, CountTokensResult, DisconnectAdminParams,
    DisconnectAdminResult, DisconnectParams, DisconnectResult, ListModelsParams, ListModelsResult,
    OrgCostsParams, OrgCostsResult, OrgSync, OrgSyncParams, OrgUsageParams, OrgUsageResult,
    ProvidersState, RequestLogEntry, RequestLogParams, RequestLogResult, RequestLogged, Role,
    SelectModelParams, SelectModelResult, SpendParams, SpendResult, StateChanged,
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
    /// Shown once each, after `initialized`: a state file or price file that had to be reset.
    pub startup_warnings: Mutex<Vec<String>>,
    /// Whether the ledger has been told the retention yet.
    retention_sent: std::sync::atomic::AtomicBool,
    /// The ledger's, once its thread has opened the database.
    ledger_warning: Mutex<Option<tokio::sync::oneshot::Receiver<Option<String>>>>,
    pub ledger: Ledger,
    /// The price table in use: the snapshot with the user's file on top.
    /// Read at the first chat, not at start-up: parsing the 80 KB snapshot would cost
    /// `initialize` a millisecond. None: not loaded yet (or the price file changed).
    prices: RwLock<Option<Arc<PriceTable>>>,
    /// Where `prices.json` is looked for when no `prices.path` is set.
    home: Option<PathBuf>,
    /// Organization usage and costs, read with an admin key.
    pub org: Org,
    /// Conversations kept for every client.
    pub conversations: Conversations,
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
        let home = data_dir();
        // SIDEKICK_LEDGER=off keeps no ledger at all (the benchmarks' baseline; anyone who
        // wants no record on disk); costs are still computed and shown.
        let ledger_off =
            std::env::var("SIDEKICK_LEDGER").is_ok_and(|v| v.eq_ignore_ascii_case("off"));
        let (ledger, ledger_warning) = if ledger_off {
            (Ledger::off(), None)
        } else {
            let (ledger, warning) = Ledger::open(home.as_deref(), logged(client.clone()));
            (ledger, Some(warning))
        };
        let stores = Stores {
            keychain: Arc::new(Keychain::from_env()),
            client: Arc::new(ClientSecrets::new(client.clone())),
        };
        let connections = Arc::new(
            Connections::new(
                Registry::from_env(),
                |var| std::env::var(var).ok(),
                stores,
                store,
                file,
                announcer(client.clone()),
            )
            .with_ledger(ledger.clone()),
        );
        tokio::spawn(connections.clone().follow_other_windows());
        let warnings = warning.into_iter().collect();
        let (ledger_for_org, client_for_org) = (ledger.clone(), client.clone());
        Session {
            client,
            http,
            settings: RwLock::new(Settings::default()),
            connections,
            chats: ChatRegistry::default(),
            startup_warnings: Mutex::new(warnings),
            ledger_warning: Mutex::new(ledger_warning),
            retention_sent: Default::default(),
            ledger,
            prices: RwLock::new(None),
            home,
            conversations: Conversations::new(ledger_for_org.clone()),
            org: Org::new(ledger_for_org, org_progress(client_for_org)),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// New settings; a changed retention prunes now, a changed price file is read again.
    pub fn set_settings(&self, s: Settings) {
        let before = self.settings();
        let started = self
            .retention_sent
            .load(std::sync::atomic::Ordering::SeqCst);
        if started && before.ledger_retention_days != s.ledger_retention_days {
            self.ledger.set_retention(s.ledger_retention_days);
        }
        let prices_changed = before.prices_path != s.prices_path;
        if let Ok(mut g) = self.settings.write() {
            *g = s.clone();
        }
        if prices_changed && let Ok(mut g) = self.prices.write() {
            // Read again at the next chat.
            *g = None;
        }
    }

    /// Once `initialize` is answered: the ledger gets the client's retention (nothing is pruned
    /// before it) and opens its database.
    pub fn start_ledger(&self) {
        if !self
            .retention_sent
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            self.ledger
                .set_retention(self.settings().ledger_retention_days);
        }
    }

    /// Every start-up warning, the ledger's included (this waits for its database to open, at
    /// most a few seconds).
    pub async fn take_startup_warnings(&self) -> Vec<String> {
        let mut warnings = self
            .startup_warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        let pending = self.ledger_warning.lock().ok().and_then(|mut w| w.take());
        if let Some(rx) = pending
            && let Ok(Ok(Some(w))) =
                tokio::time::timeout(std::time::Duration::from_secs(5), rx).await
        {
            warnings.push(w);
        }
        warnings
    }

    /// The snapshot with the price file on top, read once (and again after the file setting
    /// changes). A file that cannot be read is said once, as a warning.
    fn price_table(&self) -> Arc<PriceTable> {
        if let Ok(g) = self.prices.read()
            && let Some(t) = g.as_ref()
        {
            return t.clone();
        }
        let named = self.settings().prices_path.map(|p| expand_home(&p));
        let explicit = named.is_some();
        let path = named.or_else(|| self.home.as_ref().map(|h| h.join("prices.json")));
        let (table, warning) = PriceTable::with_overrides(path.as_deref(), explicit);
        if let Some(w) = warning {
            let client = self.client.clone();
            tokio::spawn(async move {
                client
                    .show_message(
                        tower_lsp_server::ls_types::MessageType::WARNING,
                        price_file_warning(w),
                    )
                    .await;
            });
        }
        let table = Arc::new(table);
        if let Ok(mut g) = self.prices.write() {
            *g = Some(table.clone());
        }
        table
    }

    pub async fn request_log(
        &self,
        p: RequestLogParams,
    ) -> Result<RequestLogResult, SidekickError> {
        self.ledger.log(p).await.map_err(SidekickError::Internal)
    }

    pub async fn spend(&self, p: SpendParams) -> Result<SpendResult, SidekickError> {
        let settings = self.settings();
        let (mut result, _) = self.ledger.spend(p).await.map_err(|e| match e {
            SpendError::Dates(m) => SidekickError::InvalidParams(m),
            SpendError::Ledger(m) => SidekickError::Internal(m),
        })?;
        result.budget_usd = settings.budget_monthly_nanos.map(|n| n as f64 / 1e9);
        result.warn_percent = settings.budget_warn_percent;
        Ok(result)
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
        let prices = self.price_table();
        let services = chat::Services {
            connections: &self.connections,
            conversations: &self.conversations,
            chats: &self.chats,
            http: &self.http,
            client: &self.client,
            settings: self.settings(),
            ledger: &self.ledger,
            prices: &prices,
        };
        chat::run(services, params).await
    }

    /// What a chat with these would send, in tokens, against the model's window.
    pub async fn count_tokens(
        &self,
        p: CountTokensParams,
    ) -> Result<CountTokensResult, SidekickError> {
        let history = match &p.conversation_id {
            Some(id) => self.conversations.history(id).await?,
            None => Vec::new(),
        };
        let mut messages = p.messages;
        if !p.context.is_empty() {
            match messages.last_mut() {
                Some(m) if m.role == Role::User => m.context.extend(p.context),
                _ => messages.push(ChatMessage {
                    role: Role::User,
                    content: String::new(),
                    context: p.context,
                }),
            }
        }
        let tokens = chat::prompt::build(p.instructions.as_deref(), &history, &messages).tokens();
        let active = self.connections.active().await;
        let provider = p
            .provider
            .or_else(|| active.as_ref().map(|a| a.provider.clone()));
        let model = p.model.or_else(|| {
            active
                .filter(|a| Some(&a.provider) == provider.as_ref())
                .map(|a| a.model)
        });
        let window = match (provider, model) {
            (Some(provider), Some(model)) => {
                match self.connections.cached_window(&provider, &model).await {
                    Some(w) => Some(w),
                    None => self.connections.entry(&provider).ok().and_then(|e| {
                        self.price_table()
                            .window(e.spec().price_names, model.trim())
                    }),
                }
            }
            _ => None,
        };
        Ok(CountTokensResult {
            tokens,
            window,
            exact: false,
        })
    }

    fn failed(&self, e: ConnectionError) -> SidekickError {
        guidance::connection_failed(e, &self.settings())
    }

    /// Validates the admin key with the organization API, then stores it; the organization's
    /// cached data is dropped (the key may be another organization's).
    pub async fn connect_admin(
        &self,
        p: ConnectAdminParams,
    ) -> Result<ConnectAdminResult, SidekickError> {
        let settings = self.settings();
        let (org, http, s) = (&self.org, &self.http, &settings);
        let result = self
            .connections
            .connect_admin(p, &settings, |conn| async move {
                match org.validate(&conn, http, s).await {
                    Ok(()) => {
                        org.forget(&conn).await;
                        Ok(())
                    }
                    Err(error) => Err(ConnectionError::Admin {
                        error,
                        connection: Box::new(conn),
                    }),
                }
            })
            .await;
        result.map_err(|e| self.failed(e))
    }

    pub async fn disconnect_admin(
        &self,
        p: DisconnectAdminParams,
    ) -> Result<DisconnectAdminResult, SidekickError> {
        self.connections
            .disconnect_admin(&p.provider)
            .await
            .map_err(|e| self.failed(e))
    }

    /// The admin connection, or the guidance that says how to get one.
    async fn admin(&self, provider: &str) -> Result<AdminConnection, SidekickError> {
        match self.connections.admin_connection(provider).await {
            Ok(Some(conn)) => Ok(conn),
            Ok(None) => {
                let (entry, api) = self
                    .connections
                    .org_entry(provider)
                    .map_err(|e| self.failed(e))?;
                Err(guidance::no_admin_key(entry.spec(), api).into())
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    fn org_failed(&self, e: OrgError, conn: &AdminConnection) -> SidekickError {
        match e {
            OrgError::Params(m) => SidekickError::InvalidParams(m),
            OrgError::Cache(m) => SidekickError::Internal(m),
            OrgError::Provider { error, attempts } => {
                let settings = self.settings();
                guidance::admin_failed(
                    &error,
                    &guidance::AdminContext::of(conn, &settings, attempts),
                )
                .into()
            }
        }
    }

    pub async fn org_costs(&self, p: OrgCostsParams) -> Result<OrgCostsResult, SidekickError> {
        let conn = self.admin(&p.provider).await?;
        let settings = self.settings();
        self.org
            .costs(&conn, p, &self.http, &settings)
            .await
            .map_err(|e| self.org_failed(e, &conn))
    }

    pub async fn org_usage(&self, p: OrgUsageParams) -> Result<OrgUsageResult, SidekickError> {
        let conn = self.admin(&p.provider).await?;
        let settings = self.settings();
        self.org
            .usage(&conn, p, &self.http, &settings)
            .await
            .map_err(|e| self.org_failed(e, &conn))
    }
}

/// Sends ingestion progress to the client as `sidekick/orgSync`, in order.
fn org_progress(client: Client) -> mpsc::UnboundedSender<OrgSyncParams> {
    let (tx, mut rx) = mpsc::unbounded_channel::<OrgSyncParams>();
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            client.send_notification::<OrgSync>(p).await;
        }
    });
    tx
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

/// Sends every recorded ledger entry to the client as `sidekick/requestLogged`, in order.
fn logged(client: Client) -> mpsc::UnboundedSender<RequestLogEntry> {
    let (tx, mut rx) = mpsc::unbounded_channel::<RequestLogEntry>();
    tokio::spawn(async move {
        while let Some(entry) = rx.recv().await {
            client.send_notification::<RequestLogged>(entry).await;
        }
    });
    tx
}

/// Where what grows lives: `$SIDEKICK_HOME`, else the OS data directory.
fn data_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("SIDEKICK_HOME").filter(|h| !h.is_empty()) {
        return Some(home.into());
    }
    directories::ProjectDirs::from("dev", "Sidekick", "sidekick")
        .map(|d| d.data_dir().to_path_buf())
}

/// `~/…` as the user's home, as a settings file written by hand would mean it.
fn expand_home(path: &str) -> PathBuf {
    match (
        path.strip_prefix("~/"),
        directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()),
    ) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

fn price_file_warning(detail: String) -> String {
    format!(
        "Sidekick: the price file could not be read, so the built-in prices are used ({detail})."
    )
}
