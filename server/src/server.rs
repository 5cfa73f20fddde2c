//! The LanguageServer: one routing table from each protocol marker to a thin handler (parse
//! the marker's params → call the session → map the error). No logic lives here.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio_util::task::AbortOnDropHandle;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    DidChangeConfigurationParams, InitializeParams, InitializeResult, InitializedParams,
    MessageType, ServerCapabilities, ServerInfo,
};
use tower_lsp_server::{Client, LanguageServer, LspService};

use crate::error::{SidekickError, parse_params};
use crate::http::Http;
use crate::protocol::{
    Chat, Connect, ConnectAdmin, CountTokens, CreateConversation, DeleteConversation, Disconnect,
    DisconnectAdmin, GetConversation, ListConversations, ListModels, ListProviders, OrgCosts,
    OrgUsage, PROTOCOL_VERSION, RenameConversation, Request, RequestLog, SERVER_NAME, SelectModel,
    Spend, TruncateConversation,
};
use crate::session::Session;

pub struct Backend {
    session: Arc<Session>,
}

/// A method's params, parsed with the path of the offending field in the error.
fn params<M: Request>(value: Value) -> std::result::Result<M::Params, SidekickError> {
    parse_params(value)
}

impl Backend {
    fn new(client: Client, http: Http) -> Backend {
        Backend {
            session: Arc::new(Session::new(client, http)),
        }
    }

    async fn list_providers(&self, _params: Value) -> Result<<ListProviders as Request>::Result> {
        // Any params are accepted: the method takes none.
        Ok(self.session.list_providers().await)
    }

    async fn connect(&self, value: Value) -> Result<<Connect as Request>::Result> {
        let run = async { self.session.connect(params::<Connect>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn list_models(&self, value: Value) -> Result<<ListModels as Request>::Result> {
        let run = async { self.session.list_models(params::<ListModels>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn select_model(&self, value: Value) -> Result<<SelectModel as Request>::Result> {
        let run = async {
            self.session
                .select_model(params::<SelectModel>(value)?)
                .await
        };
        run.await.map_err(Into::into)
    }

    async fn disconnect(&self, value: Value) -> Result<<Disconnect as Request>::Result> {
        let run = async { self.session.disconnect(params::<Disconnect>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn request_log(&self, value: Value) -> Result<<RequestLog as Request>::Result> {
        let run = async { self.session.request_log(params::<RequestLog>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn spend(&self, value: Value) -> Result<<Spend as Request>::Result> {
        let run = async { self.session.spend(params::<Spend>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn connect_admin(&self, value: Value) -> Result<<ConnectAdmin as Request>::Result> {
        let run = async {
            self.session
                .connect_admin(params::<ConnectAdmin>(value)?)
                .await
        };
        run.await.map_err(Into::into)
    }

    async fn disconnect_admin(&self, value: Value) -> Result<<DisconnectAdmin as Request>::Result> {
        let run = async {
            self.session
                .disconnect_admin(params::<DisconnectAdmin>(value)?)
                .await
        };
        run.await.map_err(Into::into)
    }

    /// Cancelling the request (`$/cancelRequest`) drops this future: the ingestion stops after
    /// the page in flight, every page before it stays stored.
    async fn org_costs(&self, value: Value) -> Result<<OrgCosts as Request>::Result> {
        let run = async { self.session.org_costs(params::<OrgCosts>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn org_usage(&self, value: Value) -> Result<<OrgUsage as Request>::Result> {
        let run = async { self.session.org_usage(params::<OrgUsage>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn list_conversations(
        &self,
        value: Value,
    ) -> Result<<ListConversations as Request>::Result> {
        let c = &self.session.conversations;
        let run = async { c.list(params::<ListConversations>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn create_conversation(
        &self,
        value: Value,
    ) -> Result<<CreateConversation as Request>::Result> {
        let c = &self.session.conversations;
        let run = async { c.create(params::<CreateConversation>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn get_conversation(&self, value: Value) -> Result<<GetConversation as Request>::Result> {
        let c = &self.session.conversations;
        let run = async { c.get(params::<GetConversation>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn rename_conversation(
        &self,
        value: Value,
    ) -> Result<<RenameConversation as Request>::Result> {
        let c = &self.session.conversations;
        let run = async { c.rename(params::<RenameConversation>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn delete_conversation(
        &self,
        value: Value,
    ) -> Result<<DeleteConversation as Request>::Result> {
        let c = &self.session.conversations;
        let run = async { c.delete(params::<DeleteConversation>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn truncate_conversation(
        &self,
        value: Value,
    ) -> Result<<TruncateConversation as Request>::Result> {
        let c = &self.session.conversations;
        let run = async { c.truncate(params::<TruncateConversation>(value)?).await };
        run.await.map_err(Into::into)
    }

    async fn count_tokens(&self, value: Value) -> Result<<CountTokens as Request>::Result> {
        let run = async {
            self.session
                .count_tokens(params::<CountTokens>(value)?)
                .await
        };
        run.await.map_err(Into::into)
    }

    async fn chat(&self, value: Value) -> Result<<Chat as Request>::Result> {
        let session = self.session.clone();
        // A task of its own: the chat is woken for every body frame the provider sends, and a
        // task is polled directly, where a request future is polled through tower-lsp's serve
        // loop and the set of every request in flight (docs/performance.md). Dropping this
        // future (`$/cancelRequest`) aborts the task, which closes the upstream connection.
        let task = AbortOnDropHandle::new(tokio::spawn(async move {
            session.chat(params::<Chat>(value)?).await
        }));
        match task.await {
            Ok(result) => result.map_err(Into::into),
            Err(e) => Err(SidekickError::Internal(format!("the chat task failed: {e}")).into()),
        }
    }

    /// Answers a message the transport could not pass on (see `transport.rs`).
    async fn invalid_message(&self, params: Value) -> Result<Value> {
        let code = params["code"].as_i64().unwrap_or(-32700);
        let message = params["message"]
            .as_str()
            .unwrap_or("Parse error")
            .to_string();
        tracing::warn!("refused a malformed message: {message}");
        Err(tower_lsp_server::jsonrpc::Error {
            code: tower_lsp_server::jsonrpc::ErrorCode::from(code),
            message: message.into(),
            data: None,
        })
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let (settings, warnings) = self
            .session
            .settings()
            .merged(params.initialization_options.as_ref());
        for w in warnings {
            tracing::warn!("{w}");
        }
        self.session.set_settings(settings);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                experimental: Some(json!({ "sidekick": { "protocolVersion": PROTOCOL_VERSION } })),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: SERVER_NAME.into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // Ready before the first connect needs it, without delaying `initialize`.
        self.session.http.warm();
        self.session.start_ledger();
        for w in self.session.take_startup_warnings().await {
            self.session
                .client
                .show_message(MessageType::WARNING, w)
                .await;
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let (settings, warnings) = self.session.settings().merged(Some(&params.settings));
        for w in warnings {
            tracing::warn!("{w}");
        }
        self.session.set_settings(settings);
    }

    async fn shutdown(&self) -> Result<()> {
        SHUTDOWN_ASKED.store(true, std::sync::atomic::Ordering::SeqCst);
        // The process ends at `exit`: the ledger's queued rows (the last answer's) go to disk
        // first.
        self.session.ledger.flush().await;
        Ok(())
    }
}

/// Set once the client asked for `shutdown`: LSP wants exit code 1 from an `exit` without it.
/// One session per process, so a process-wide flag is the session's.
pub static SHUTDOWN_ASKED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Builds the service with every Sidekick method routed.
pub fn service() -> (LspService<Backend>, tower_lsp_server::ClientSocket) {
    let http = Http::default();
    LspService::build(move |client| Backend::new(client, http.clone()))
        .custom_method(ListProviders::METHOD, Backend::list_providers)
        .custom_method(Connect::METHOD, Backend::connect)
        .custom_method(ListModels::METHOD, Backend::list_models)
        .custom_method(SelectModel::METHOD, Backend::select_model)
        .custom_method(Disconnect::METHOD, Backend::disconnect)
        .custom_method(Chat::METHOD, Backend::chat)
        .custom_method(RequestLog::METHOD, Backend::request_log)
        .custom_method(Spend::METHOD, Backend::spend)
        .custom_method(ConnectAdmin::METHOD, Backend::connect_admin)
        .custom_method(DisconnectAdmin::METHOD, Backend::disconnect_admin)
        .custom_method(OrgCosts::METHOD, Backend::org_costs)
        .custom_method(OrgUsage::METHOD, Backend::org_usage)
        .custom_method(ListConversations::METHOD, Backend::list_conversations)
        .custom_method(CreateConversation::METHOD, Backend::create_conversation)
        .custom_method(GetConversation::METHOD, Backend::get_conversation)
        .custom_method(RenameConversation::METHOD, Backend::rename_conversation)
        .custom_method(DeleteConversation::METHOD, Backend::delete_conversation)
        .custom_method(TruncateConversation::METHOD, Backend::truncate_conversation)
        .custom_method(CountTokens::METHOD, Backend::count_tokens)
        .custom_method(crate::transport::INVALID_MESSAGE, Backend::invalid_message)
        .finish()
}
