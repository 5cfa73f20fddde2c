//! The Sidekick protocol v1: every custom method's name, params and result, as JSON camelCase.
//! Types only, no logic; `docs/protocol.md` documents the same and a test keeps the two in step.

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change; reported in `capabilities.experimental.sidekick`.
pub const PROTOCOL_VERSION: u32 = 1;
/// `serverInfo.name` in the `initialize` result.
pub const SERVER_NAME: &str = "sidekick-server";
/// JSON-RPC error code of a provider failure; `data` is a [`Guidance`].
pub const GUIDANCE_ERROR_CODE: i64 = -32001;

/// Client → server requests.
pub mod method {
    pub const LIST_PROVIDERS: &str = "sidekick/listProviders";
    pub const CONNECT: &str = "sidekick/connect";
    pub const LIST_MODELS: &str = "sidekick/listModels";
    pub const SELECT_MODEL: &str = "sidekick/selectModel";
    pub const DISCONNECT: &str = "sidekick/disconnect";
    pub const CHAT: &str = "sidekick/chat";
}

/// Server → client notifications.
pub mod notification {
    pub const STATE_CHANGED: &str = "sidekick/stateChanged";
    pub const CHAT_DELTA: &str = "sidekick/chatDelta";
    pub const CHAT_STATUS: &str = "sidekick/chatStatus";
}

/// Server → client requests, sent only when the client set `clientSecretStorage: true`.
pub mod client_request {
    pub const SECRETS_GET: &str = "sidekick/secrets/get";
    pub const SECRETS_STORE: &str = "sidekick/secrets/store";
    pub const SECRETS_DELETE: &str = "sidekick/secrets/delete";
}

/// Where a provider's key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeySource {
    /// The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager).
    Keychain,
    /// An environment variable of the sidecar's process (`OPENAI_API_KEY`); it wins over the keychain.
    Env,
    /// The client's own secret storage, through `sidekick/secrets/*`.
    Client,
}

/// One provider as the client shows it. Never carries a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInfo {
    /// Stable id used in every other method: `openai`, `compatible`.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// The base URL requests go to (ends in `/v1` for OpenAI).
    pub base_url: String,
    /// True when a key is stored (or the provider needs none and a connect succeeded).
    pub connected: bool,
    /// A hint such as `sk-…WXYZ`: enough to recognise a key, never enough to use it.
    pub key_hint: Option<String>,
    /// Where the key comes from; null when not connected or when no key is used.
    pub key_source: Option<KeySource>,
    /// OpenAI Organization ID sent as `OpenAI-Organization`, if set.
    pub organization: Option<String>,
    /// OpenAI Project ID sent as `OpenAI-Project`, if set.
    pub project: Option<String>,
    /// False for servers that work without a key (Ollama, LM Studio).
    pub requires_key: bool,
    /// True when the client may offer to edit the base URL (OpenAI-compatible servers).
    pub base_url_editable: bool,
    /// True when Organization/Project IDs mean something to this provider.
    pub supports_organization: bool,
}

/// The provider and model a chat uses when it names none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveSelection {
    pub provider: String,
    pub model: String,
}

/// Result of `sidekick/listProviders`; also the params of `sidekick/stateChanged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersState {
    pub providers: Vec<ProviderInfo>,
    pub active: Option<ActiveSelection>,
}

/// A model a provider offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub id: String,
    /// `owned_by` as the provider reports it; null when it says nothing.
    pub owned_by: Option<String>,
    /// Unix seconds; null when the provider says nothing.
    pub created: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectParams {
    pub provider: String,
    /// Trimmed by the server; an empty key is refused. Optional for providers that need none,
    /// and for `openai` when `OPENAI_API_KEY` is set.
    pub api_key: Option<String>,
    /// Only for providers whose base URL is editable. `http://` only for loopback hosts.
    pub base_url: Option<String>,
    pub organization: Option<String>,
    pub project: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectResult {
    pub provider: String,
    pub connected: bool,
    pub key_hint: Option<String>,
    pub models: Vec<ModelInfo>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListModelsParams {
    pub provider: String,
    /// Ask the provider again instead of answering from the cache.
    #[serde(default)]
    pub refresh: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListModelsResult {
    pub provider: String,
    pub models: Vec<ModelInfo>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectModelParams {
    pub provider: String,
    pub model: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectModelResult {
    pub active: ActiveSelection,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectParams {
    pub provider: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectResult {
    pub provider: String,
    /// False, unless a key from the environment still connects the provider.
    pub connected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatParams {
    /// Chosen by the client, unique among its running chats; echoed in every delta and status.
    pub chat_id: String,
    pub messages: Vec<ChatMessage>,
    /// Defaults to the active selection.
    pub provider: Option<String>,
    /// Defaults to the active selection.
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
}

/// A piece of a streamed answer. Concatenated in `seq` order, the texts equal the final text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatDeltaParams {
    pub chat_id: String,
    /// Starts at 1 and grows by one per delta of this chat.
    pub seq: u64,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ContentFilter,
    ToolCalls,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatResult {
    pub chat_id: String,
    /// Authoritative: a delta that arrives after this result is already part of it.
    pub text: String,
    pub finish_reason: FinishReason,
    /// The model that answered, as the provider named it.
    pub model: String,
    pub usage: Option<Usage>,
    /// The provider's request id (`x-request-id`), for support tickets.
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChatState {
    /// A retry is waiting `delayMs` before attempt `attempt`.
    Retrying,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatStatusParams {
    pub chat_id: String,
    pub state: ChatState,
    /// The attempt that starts after the wait (2 for the first retry).
    pub attempt: u32,
    pub delay_ms: u64,
    pub kind: GuidanceKind,
    /// One line for people, e.g. "Rate limited by OpenAI; retrying in 2 s".
    pub message: String,
}

/// Every failure a user can meet, named once. The client picks icons and cards from this,
/// never from message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuidanceKind {
    NotConnected,
    InvalidKey,
    OrganizationMismatch,
    PermissionDenied,
    RegionUnsupported,
    ModelNotFound,
    RateLimited,
    RequestTooLarge,
    QuotaExceeded,
    Overloaded,
    ServerError,
    ContextLengthExceeded,
    BadRequest,
    Network,
    Timeout,
    StreamInterrupted,
    KeychainUnavailable,
}

impl GuidanceKind {
    /// Every kind, for docs tests and exhaustive client tables.
    pub const ALL: [GuidanceKind; 17] = [
        GuidanceKind::NotConnected,
        GuidanceKind::InvalidKey,
        GuidanceKind::OrganizationMismatch,
        GuidanceKind::PermissionDenied,
        GuidanceKind::RegionUnsupported,
        GuidanceKind::ModelNotFound,
        GuidanceKind::RateLimited,
        GuidanceKind::RequestTooLarge,
        GuidanceKind::QuotaExceeded,
        GuidanceKind::Overloaded,
        GuidanceKind::ServerError,
        GuidanceKind::ContextLengthExceeded,
        GuidanceKind::BadRequest,
        GuidanceKind::Network,
        GuidanceKind::Timeout,
        GuidanceKind::StreamInterrupted,
        GuidanceKind::KeychainUnavailable,
    ];

    /// The wire name, e.g. `rate_limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuidanceKind::NotConnected => "not_connected",
            GuidanceKind::InvalidKey => "invalid_key",
            GuidanceKind::OrganizationMismatch => "organization_mismatch",
            GuidanceKind::PermissionDenied => "permission_denied",
            GuidanceKind::RegionUnsupported => "region_unsupported",
            GuidanceKind::ModelNotFound => "model_not_found",
            GuidanceKind::RateLimited => "rate_limited",
            GuidanceKind::RequestTooLarge => "request_too_large",
            GuidanceKind::QuotaExceeded => "quota_exceeded",
            GuidanceKind::Overloaded => "overloaded",
            GuidanceKind::ServerError => "server_error",
            GuidanceKind::ContextLengthExceeded => "context_length_exceeded",
            GuidanceKind::BadRequest => "bad_request",
            GuidanceKind::Network => "network",
            GuidanceKind::Timeout => "timeout",
            GuidanceKind::StreamInterrupted => "stream_interrupted",
            GuidanceKind::KeychainUnavailable => "keychain_unavailable",
        }
    }
}

impl std::fmt::Display for GuidanceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A button under a guidance: open a URL, or run one of the client's commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GuidanceAction {
    Url {
        title: String,
        url: String,
    },
    Command {
        title: String,
        /// A client command id, e.g. `sidekick.selectYourAI`, `sidekick.selectModel`.
        command: String,
    },
}

/// `data` of every `-32001` error: what happened and what to do, written for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Guidance {
    pub kind: GuidanceKind,
    /// One line; also the JSON-RPC error's `message`.
    pub title: String,
    /// What happened and what to do, in a sentence or three.
    pub detail: String,
    pub actions: Vec<GuidanceAction>,
    pub http_status: Option<u16>,
    /// The provider's `error.code` (or `error.type` when it has no code).
    pub provider_code: Option<String>,
    /// The provider's own message, any key in it masked.
    pub provider_message: Option<String>,
    pub request_id: Option<String>,
    /// How long the provider asked us to wait, when it said.
    pub retry_after_ms: Option<u64>,
    /// The text streamed before the failure: the client keeps it on screen.
    pub partial_text: Option<String>,
}

/// Params of `sidekick/secrets/get|store|delete` (server → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretParams {
    /// e.g. `sidekick:openai@https://api.openai.com/v1`.
    pub key: String,
    /// Only for `store`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Result of `sidekick/secrets/get`: the stored value, or null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretValue {
    pub value: Option<String>,
}
