//! The Sidekick protocol v2, declared once: one marker type per method that ties its name to
//! its params and result (as taplo's `lsp_ext` does), and every notification and server →
//! client request. Types only, no logic; `docs/protocol.md` documents the same and a test keeps
//! the two in step. JSON is camelCase.

mod chat;
mod conversations;
mod guidance;
mod ledger;
mod org;
mod providers;
mod secrets;

pub use chat::*;
pub use conversations::*;
pub use guidance::*;
pub use ledger::*;
pub use org::*;
pub use providers::*;
pub use secrets::*;
pub use tower_lsp_server::ls_types::notification::Notification;
pub use tower_lsp_server::ls_types::request::Request;

/// Bumped on any incompatible change; reported in `capabilities.experimental.sidekick`.
/// v2: more providers, `ProviderInfo.envKeyVar` and the fields a client needs to ask for what
/// each provider needs, `modelKind`, richer `ModelInfo` and `Usage`, `content_filtered`.
pub const PROTOCOL_VERSION: u32 = 2;
/// `serverInfo.name` in the `initialize` result.
pub const SERVER_NAME: &str = "sidekick-server";
/// JSON-RPC error code of a provider failure; `data` is a [`Guidance`].
pub const GUIDANCE_ERROR_CODE: i64 = -32001;

macro_rules! request {
    ($(#[$doc:meta])* $name:ident = $method:literal: $params:ty => $result:ty) => {
        $(#[$doc])*
        pub enum $name {}
        impl Request for $name {
            type Params = $params;
            type Result = $result;
            const METHOD: &'static str = $method;
        }
    };
}

macro_rules! notification {
    ($(#[$doc:meta])* $name:ident = $method:literal: $params:ty) => {
        $(#[$doc])*
        pub enum $name {}
        impl Notification for $name {
            type Params = $params;
            const METHOD: &'static str = $method;
        }
    };
}

// Client → server requests.
request!(
    /// Every provider, its state and the active selection.
    ListProviders = "sidekick/listProviders": NoParams => ProvidersState
);
request!(
    /// Validates a key with the provider, then stores it and announces the new state.
    Connect = "sidekick/connect": ConnectParams => ConnectResult
);
request!(
    /// The provider's chat models, cached until `refresh`.
    ListModels = "sidekick/listModels": ListModelsParams => ListModelsResult
);
request!(
    /// Makes a provider and model the active selection.
    SelectModel = "sidekick/selectModel": SelectModelParams => SelectModelResult
);
request!(
    /// Stops the provider's chats, deletes its key, forgets its models.
    Disconnect = "sidekick/disconnect": DisconnectParams => DisconnectResult
);
request!(
    /// One streamed answer; deltas and retry statuses arrive as notifications meanwhile.
    Chat = "sidekick/chat": ChatParams => ChatResult
);

request!(
    /// The ledger's entries, newest first, filtered and paged.
    RequestLog = "sidekick/requestLog": RequestLogParams => RequestLogResult
);
request!(
    /// Spend from the ledger over local dates, grouped by day, model or provider.
    Spend = "sidekick/spend": SpendParams => SpendResult
);
request!(
    /// Validates an organization admin key with one costs request, then stores it.
    ConnectAdmin = "sidekick/connectAdmin": ConnectAdminParams => ConnectAdminResult
);
request!(
    /// Deletes the stored admin key.
    DisconnectAdmin = "sidekick/disconnectAdmin": DisconnectAdminParams => DisconnectAdminResult
);
request!(
    /// The organization's daily costs, grouped and filtered, with a month-end forecast.
    OrgCosts = "sidekick/orgCosts": OrgCostsParams => OrgCostsResult
);
request!(
    /// The organization's daily completions usage, grouped and filtered.
    OrgUsage = "sidekick/orgUsage": OrgUsageParams => OrgUsageResult
);
request!(
    /// Conversations, newest first; `query` searches titles and messages.
    ListConversations = "sidekick/conversations/list": ListConversationsParams => ListConversationsResult
);
request!(
    /// A new conversation, empty or with the messages given.
    CreateConversation = "sidekick/conversations/create": CreateConversationParams => ConversationId
);
request!(
    /// A conversation and all its messages.
    GetConversation = "sidekick/conversations/get": ConversationId => Conversation
);
request!(
    /// Renames a conversation.
    RenameConversation = "sidekick/conversations/rename": RenameConversationParams => RenameConversationResult
);
request!(
    /// Deletes a conversation and its messages.
    DeleteConversation = "sidekick/conversations/delete": ConversationId => DeleteConversationResult
);
request!(
    /// Removes a message and everything after it (edit and regenerate).
    TruncateConversation = "sidekick/conversations/truncate": TruncateConversationParams => TruncateConversationResult
);
request!(
    /// The tokens a chat would send, against the model's window.
    CountTokens = "sidekick/countTokens": CountTokensParams => CountTokensResult
);

// Server → client notifications.
notification!(
    /// After every change of connections or selection, so every window stays in step.
    StateChanged = "sidekick/stateChanged": ProvidersState
);
notification!(
    /// A piece of a streamed answer.
    ChatDelta = "sidekick/chatDelta": ChatDeltaParams
);
notification!(
    /// A retry is waiting.
    ChatStatus = "sidekick/chatStatus": ChatStatusParams
);
notification!(
    /// After each provider call the ledger recorded.
    RequestLogged = "sidekick/requestLogged": RequestLogEntry
);
notification!(
    /// Progress of an organization ingestion: pages fetched of the pages needed.
    OrgSync = "sidekick/orgSync": OrgSyncParams
);

// Server → client requests, sent only when the client set `clientSecretStorage: true`.
request!(
    /// Reads a secret from the client's secret storage.
    SecretsGet = "sidekick/secrets/get": SecretParams => SecretValue
);
request!(
    /// Stores a secret in the client's secret storage.
    SecretsStore = "sidekick/secrets/store": SecretParams => serde_json::Value
);
request!(
    /// Deletes a secret from the client's secret storage.
    SecretsDelete = "sidekick/secrets/delete": SecretParams => serde_json::Value
);

/// Every client → server method name, for docs tests and exhaustive client tables.
pub const METHODS: [&str; 19] = [
    ListProviders::METHOD,
    Connect::METHOD,
    ListModels::METHOD,
    SelectModel::METHOD,
    Disconnect::METHOD,
    Chat::METHOD,
    RequestLog::METHOD,
    Spend::METHOD,
    ConnectAdmin::METHOD,
    DisconnectAdmin::METHOD,
    OrgCosts::METHOD,
    OrgUsage::METHOD,
    ListConversations::METHOD,
    CreateConversation::METHOD,
    GetConversation::METHOD,
    RenameConversation::METHOD,
    DeleteConversation::METHOD,
    TruncateConversation::METHOD,
    CountTokens::METHOD,
];

/// Every server → client notification and request name.
pub const SERVER_MESSAGES: [&str; 8] = [
    StateChanged::METHOD,
    ChatDelta::METHOD,
    ChatStatus::METHOD,
    RequestLogged::METHOD,
    OrgSync::METHOD,
    SecretsGet::METHOD,
    SecretsStore::METHOD,
    SecretsDelete::METHOD,
];

/// Params of a method that takes none: `{}` (or `null`); unknown fields are ignored.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, serde::Serialize)]
pub struct NoParams {}
