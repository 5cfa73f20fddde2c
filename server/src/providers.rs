//! The provider registry: what each provider is called, where it lives, what it needs and how
//! its model list is filtered. Adding Azure OpenAI, OpenRouter or Groq is one new file here.

mod compatible;
mod demo;
mod openai;

use crate::protocol::ModelInfo;

/// Web pages a guidance can send the user to; None where the provider has no such page.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProviderLinks {
    pub api_keys: Option<&'static str>,
    pub billing: Option<&'static str>,
    pub organization: Option<&'static str>,
    pub rate_limits: Option<&'static str>,
    pub status: Option<&'static str>,
}

/// A kind of AI provider that speaks the OpenAI chat-completions wire format.
pub trait Provider: Send + Sync {
    /// Stable id used in the protocol.
    fn id(&self) -> &'static str;
    /// Name for people.
    fn name(&self) -> &'static str;
    fn default_base_url(&self) -> String;
    fn requires_key(&self) -> bool;
    fn base_url_editable(&self) -> bool;
    fn supports_organization(&self) -> bool;
    fn links(&self) -> ProviderLinks;
    /// The environment variable whose key wins over the keychain, if any.
    fn env_key_var(&self) -> Option<&'static str> {
        None
    }
    /// Keeps the models a chat can use and orders them for a picker.
    fn chat_models(&self, models: Vec<ModelInfo>) -> Vec<ModelInfo>;
    /// Whether `max_completion_tokens` should be sent instead of `max_tokens` from the start.
    fn prefers_max_completion_tokens(&self) -> bool;
}

static OPENAI: openai::OpenAi = openai::OpenAi;
static COMPATIBLE: compatible::Compatible = compatible::Compatible;
static DEMO: demo::Demo = demo::Demo;

/// Every provider, in the order a picker shows them.
pub fn all() -> Vec<&'static dyn Provider> {
    let mut all: Vec<&'static dyn Provider> = vec![&OPENAI, &COMPATIBLE];
    if demo::Demo::enabled() {
        all.push(&DEMO);
    }
    all
}

/// The provider with this id.
pub fn find(id: &str) -> Option<&'static dyn Provider> {
    all().into_iter().find(|p| p.id() == id)
}

/// The ids, for error messages that list what is allowed.
pub fn ids() -> Vec<&'static str> {
    all().iter().map(|p| p.id()).collect()
}

/// Every model, by name: for servers whose models we cannot tell apart (local servers, the
/// demo), a picker in alphabetical order is the honest choice.
pub(crate) fn by_name(mut models: Vec<ModelInfo>) -> Vec<ModelInfo> {
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models
}
