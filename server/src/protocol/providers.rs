//! Providers, connections, models and the active selection, as the protocol carries them.

use serde::{Deserialize, Serialize};

/// Where a provider's key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeySource {
    /// The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager).
    Keychain,
    /// An environment variable of the sidecar's process (`ProviderInfo.envKeyVar`); it wins
    /// over the keychain.
    Env,
    /// The client's own secret storage, through `sidekick/secrets/*`.
    Client,
}

/// What a chat's `model` names for this provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ModelKind {
    /// A model from the provider's list.
    Model,
    /// A deployment name the user typed (Azure OpenAI): the listed models are suggestions and
    /// `sidekick/selectModel` accepts a name that is not in the list.
    Deployment,
}

/// One provider as the client shows it. Never carries a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInfo {
    /// Stable id used in every other method: `openai`, `anthropic`, `azure`, `openrouter`,
    /// `gemini`, `compatible`, `demo`.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// The base URL requests go to; `""` when the provider needs one the user has not given
    /// yet (Azure's resource endpoint before the first connect).
    pub base_url: String,
    /// True when a key is stored (or comes from the environment, or the provider needs none
    /// and a connect succeeded).
    pub connected: bool,
    /// A hint such as `sk-…WXYZ`: enough to recognise a key, never enough to use it.
    pub key_hint: Option<String>,
    /// Where the key comes from; null when not connected or when no key is used.
    pub key_source: Option<KeySource>,
    /// Organization ID sent with every request (OpenAI's `OpenAI-Organization`), if set.
    pub organization: Option<String>,
    /// Project ID sent with every request (OpenAI's `OpenAI-Project`), if set.
    pub project: Option<String>,
    /// False for servers that work without a key (Ollama, LM Studio, the demo).
    pub requires_key: bool,
    /// True when the client may ask for the base URL (Azure endpoints, compatible servers).
    pub base_url_editable: bool,
    /// True when Organization/Project IDs mean something to this provider.
    pub supports_organization: bool,
    /// The environment variable whose key wins over the keychain, e.g. `ANTHROPIC_API_KEY`.
    pub env_key_var: Option<String>,
    /// What a key looks like, for a prompt's placeholder: `sk-ant-…`.
    pub key_placeholder: Option<String>,
    /// Where the user creates a key.
    pub api_keys_url: Option<String>,
    /// What to type as the base URL, when it is editable: `https://NAME.openai.azure.com`.
    pub base_url_placeholder: Option<String>,
    /// Whether a chat's model is a listed model or a typed deployment name.
    pub model_kind: ModelKind,
    /// True when the provider's organization usage and costs can be read with an admin key.
    pub supports_admin: bool,
    /// True when an admin key is stored (or comes from the environment).
    pub admin_connected: bool,
    /// A hint of the admin key, such as `sk-admin…ADMN`.
    pub admin_key_hint: Option<String>,
    pub admin_key_source: Option<KeySource>,
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
    /// In the order a picker shows them.
    pub providers: Vec<ProviderInfo>,
    pub active: Option<ActiveSelection>,
    /// Where the last key stored went (`keychain`, or `client` when no keychain answered), so a
    /// key prompt can say where a new key will be kept; null until a key was stored.
    #[serde(default)]
    pub key_store: Option<KeySource>,
}

/// A model a provider offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// What a chat sends as `model`.
    pub id: String,
    /// A display name when the provider gives one ("Claude Sonnet 4", "OpenAI: GPT-4o").
    pub name: Option<String>,
    /// `owned_by` as the provider reports it; null when it says nothing.
    pub owned_by: Option<String>,
    /// Unix seconds; null when the provider says nothing.
    pub created: Option<i64>,
    /// The context window in tokens, when the provider says.
    pub context_window: Option<u64>,
    /// False for a well-known non-chat model (embeddings, images, audio, moderation, legacy
    /// completions): listed, and selectable, but a picker keeps it behind "Show all models".
    #[serde(default = "yes")]
    pub chat: bool,
    /// The provider's suggested model for a newcomer; at most one per list, listed first.
    #[serde(default)]
    pub recommended: bool,
    /// USD per million tokens, when the provider's list says (OpenRouter's does).
    #[serde(default)]
    pub price: Option<ModelPrice>,
}

fn yes() -> bool {
    true
}

impl ModelInfo {
    /// A model known only by its id: a chat model until the catalog says otherwise.
    pub fn listed(id: impl Into<String>) -> ModelInfo {
        ModelInfo {
            id: id.into(),
            name: None,
            owned_by: None,
            created: None,
            context_window: None,
            chat: true,
            recommended: false,
            price: None,
        }
    }
}

/// What a model costs, in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPrice {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectParams {
    pub provider: String,
    /// Trimmed by the server; an empty key is refused. Optional for providers that need none,
    /// and when the provider's `envKeyVar` is set in the server's environment.
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
    /// A listed model id, or for `modelKind: "deployment"` any deployment name.
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
