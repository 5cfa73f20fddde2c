//! What a provider is: one interface every provider implements — list its models, open a chat
//! stream of neutral events, classify its failures — plus what it is called, where it lives and
//! what it needs (`ProviderSpec`). Each provider is one file in `providers/` that owns its wire;
//! the OpenAI-format ones share `openai_wire`. Nothing outside this folder names a provider.

mod anthropic;
mod azure;
pub mod catalog;
mod compatible;
mod demo;
mod gemini;
mod openai;
pub mod openai_org;
pub mod openai_wire;
mod openrouter;
pub mod org_api;
pub mod sse;

use std::pin::Pin;

use futures_util::Stream;
use futures_util::future::BoxFuture;

use crate::endpoint::normalize_base_url;
use crate::failure::{ApiFailure, ProviderError, RawFailure};
use crate::http::{Http, SeenSlot, Timeouts};
use crate::prices::PriceNames;
use crate::protocol::{ChatMessage, FinishReason, ModelInfo, ModelKind, Usage};
use crate::secrets::ApiKey;
use crate::settings::Settings;

/// Web pages a guidance can send the user to; None where the provider has no such page.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProviderLinks {
    pub api_keys: Option<&'static str>,
    pub billing: Option<&'static str>,
    pub organization: Option<&'static str>,
    pub rate_limits: Option<&'static str>,
    pub status: Option<&'static str>,
}

/// Where a provider's base URL comes from.
#[derive(Debug, Clone, Copy)]
pub enum BaseUrl {
    /// The provider's own; `env` moves it (gateways, tests) and a client cannot.
    Fixed {
        default: &'static str,
        env: &'static str,
    },
    /// The user's own (an Azure resource, a local server); `default` prefills the prompt and
    /// `env`, when set, supplies it.
    Editable {
        default: Option<&'static str>,
        placeholder: &'static str,
        env: Option<&'static str>,
    },
    /// Only from `env`; the provider is offered only when it is set (the demo).
    FromEnv { env: &'static str },
}

/// What a provider is called, where it lives and what it needs: static facts.
#[derive(Debug)]
pub struct ProviderSpec {
    /// Stable id used in the protocol.
    pub id: &'static str,
    /// Name for people.
    pub name: &'static str,
    pub base_url: BaseUrl,
    pub requires_key: bool,
    pub supports_organization: bool,
    /// The environment variable whose key wins over the keychain.
    pub env_key_var: Option<&'static str>,
    /// What a key looks like, for a prompt's placeholder.
    pub key_placeholder: Option<&'static str>,
    pub model_kind: ModelKind,
    /// What a newcomer is offered first, in order of preference; the first one the list has
    /// wins (an exact id, or a dated variant of it).
    pub suggested_models: &'static [&'static str],
    pub links: ProviderLinks,
    /// How the price table names this provider's models.
    pub price_names: PriceNames,
    /// `gen_ai.provider.name` in the OpenTelemetry GenAI conventions.
    pub otel_name: &'static str,
}

impl ProviderSpec {
    pub fn base_url_editable(&self) -> bool {
        matches!(self.base_url, BaseUrl::Editable { .. })
    }

    pub fn base_url_placeholder(&self) -> Option<&'static str> {
        match self.base_url {
            BaseUrl::Editable { placeholder, .. } => Some(placeholder),
            _ => None,
        }
    }
}

/// Where and as whom to call a provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub key: Option<ApiKey>,
    pub organization: Option<String>,
    pub project: Option<String>,
}

/// Everything one provider call needs.
pub struct Call<'a> {
    pub http: &'a Http,
    pub endpoint: &'a Endpoint,
    pub settings: &'a Settings,
    /// What the last response's headers said, for the call's row in the request log.
    pub seen: SeenSlot,
}

impl<'a> Call<'a> {
    pub fn new(http: &'a Http, endpoint: &'a Endpoint, settings: &'a Settings) -> Call<'a> {
        Call {
            http,
            endpoint,
            settings,
            seen: SeenSlot::default(),
        }
    }

    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            request: self.settings.request_timeout,
            idle: self.settings.idle_timeout,
        }
    }

    pub fn key(&self) -> Option<&ApiKey> {
        self.endpoint.key.as_ref()
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint.base_url.trim_end_matches('/'))
    }
}

/// A chat turn as every provider receives it.
#[derive(Debug)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [ChatMessage],
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
}

/// What a chat stream yields, whichever wire it came over. A provider's error inside the
/// stream is the stream's `Err` item; the stream ends after it.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// Answer text (never reasoning or thinking).
    Text(String),
    /// Token counts; a later one replaces an earlier one.
    Usage(Usage),
    /// How the answer ended.
    Finish(FinishReason),
    /// The model that answered, as the provider names it (cleaned and masked where the
    /// stream enters, `sse.rs`).
    Model(String),
    /// The provider's id of this answer (`chatcmpl-…`, `msg_…`), for spans (likewise).
    ResponseId(String),
}

pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, ProviderError>> + Send>>;

/// A chat whose response headers arrived: its request id and its events.
/// Its status and request id are in the call's `seen`, where `Http::send` put them.
pub struct OpenedChat {
    pub events: ChatStream,
}

/// One provider: its facts and its wire.
pub trait Provider: Send + Sync {
    fn spec(&self) -> &'static ProviderSpec;

    /// The models a chat can use, ordered for a picker.
    fn list_models<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>>;

    /// Checks the key before it is stored and returns the models. By default the model list
    /// is the check; a provider whose list needs no key checks otherwise.
    fn validate<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        self.list_models(call)
    }

    /// Sends the chat and returns once the response headers arrived.
    fn open_chat<'a>(
        &'a self,
        call: &'a Call<'a>,
        request: &'a ChatRequest<'a>,
    ) -> BoxFuture<'a, Result<OpenedChat, ProviderError>>;

    /// A refusal (status, headers, body) as a neutral failure, raw fields kept.
    fn classify(&self, raw: &RawFailure<'_>) -> ApiFailure;

    /// The base URL this provider's requests are built on, from what the user typed (before
    /// the URL policy checks it): a provider whose docs show longer URLs takes them back to
    /// the part it wants.
    fn base_url_from(&self, typed: &str) -> String {
        typed.to_string()
    }

    /// The organization's usage and costs API, read with an admin key, where there is one.
    fn organization(&self) -> Option<&'static dyn org_api::OrgApi> {
        None
    }
}

impl std::fmt::Debug for dyn Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.spec().id)
    }
}

/// The providers whose stream decoders [`decode_body`] runs.
pub const DECODERS: [&str; 6] = [
    "openai",
    "anthropic",
    "azure",
    "openrouter",
    "gemini",
    "compatible",
];

/// A chat body decoded by a provider's own stream decoder (Anthropic's, or the OpenAI
/// chat-completions one in the provider's dialect: Azure's content filter, Gemini's and
/// OpenRouter's in-stream errors), synchronously: for the fuzz targets.
pub fn decode_body(
    provider: &str,
    chunks: Vec<bytes::Bytes>,
    limit: usize,
) -> Vec<Result<ChatEvent, ProviderError>> {
    let dialect = match provider {
        "anthropic" => return sse::decode_chunks(chunks, anthropic::stream_decoder(), limit),
        "azure" => &azure::DIALECT,
        "openrouter" => &openrouter::DIALECT,
        "gemini" => &gemini::DIALECT,
        "compatible" => &compatible::DIALECT,
        _ => &openai_wire::OPENAI,
    };
    sse::decode_chunks(chunks, openai_wire::Decoder::new(dialect), limit)
}

/// Every provider, in the order a picker shows them.
fn every() -> [&'static dyn Provider; 7] {
    [
        &openai::OpenAi,
        &anthropic::Anthropic,
        &azure::Azure,
        &openrouter::OpenRouter,
        &gemini::Gemini,
        &compatible::COMPATIBLE,
        &demo::DEMO,
    ]
}

/// A provider as this process offers it: its base URL resolved from the environment.
#[derive(Debug, Clone)]
pub struct Entry {
    pub provider: &'static dyn Provider,
    /// Where it lives unless the user chose otherwise; None when the user must say.
    pub default_base_url: Option<String>,
}

impl Entry {
    pub fn spec(&self) -> &'static ProviderSpec {
        self.provider.spec()
    }
}

/// The providers this process offers, read from the environment once.
#[derive(Debug, Clone)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    pub fn from_env() -> Registry {
        Registry::with_env(|var| std::env::var(var).ok())
    }

    pub fn with_env(env: impl Fn(&str) -> Option<String>) -> Registry {
        let entries = every()
            .into_iter()
            .filter_map(|provider| {
                let from = |var: &str| {
                    env(var).and_then(|u| normalize_base_url(&provider.base_url_from(&u)).ok())
                };
                let default_base_url = match provider.spec().base_url {
                    BaseUrl::Fixed { default, env } => {
                        Some(from(env).unwrap_or_else(|| default.to_string()))
                    }
                    BaseUrl::Editable { default, env, .. } => {
                        env.and_then(from).or_else(|| default.map(str::to_string))
                    }
                    // Offered only when the environment says where.
                    BaseUrl::FromEnv { env } => Some(from(env)?),
                };
                Some(Entry {
                    provider,
                    default_base_url,
                })
            })
            .collect();
        Registry { entries }
    }

    /// A registry of exactly these entries (tests, and clients embedding the sidecar).
    pub fn of(entries: Vec<Entry>) -> Registry {
        Registry { entries }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn find(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.spec().id == id)
    }

    /// The ids, for error messages that list what is allowed.
    pub fn ids(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.spec().id).collect()
    }
}

/// A list whose unreadable entries are left out: one model a server describes oddly (an id
/// that is a number) must not lose the whole list.
pub(crate) fn readable_entries<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let items = <Vec<serde_json::Value> as serde::Deserialize>::deserialize(deserializer)?;
    Ok(items
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// Every model, by name: for servers whose models we cannot tell apart (local servers, the
/// demo), a picker in alphabetical order is the honest choice.
pub(crate) fn by_name(mut models: Vec<ModelInfo>) -> Vec<ModelInfo> {
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models
}
