//! Which provider the fake plays: where its API lives under the base URL, what it is called.

/// A provider whose wire format the fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    #[default]
    OpenAi,
    Anthropic,
    Azure,
    OpenRouter,
    Gemini,
}

impl Flavor {
    pub const ALL: [Flavor; 5] = [
        Flavor::OpenAi,
        Flavor::Anthropic,
        Flavor::Azure,
        Flavor::OpenRouter,
        Flavor::Gemini,
    ];

    /// `--flavor` names.
    pub fn parse(name: &str) -> Option<Flavor> {
        Flavor::ALL.into_iter().find(|f| f.id() == name)
    }

    pub fn id(self) -> &'static str {
        match self {
            Flavor::OpenAi => "openai",
            Flavor::Anthropic => "anthropic",
            Flavor::Azure => "azure",
            Flavor::OpenRouter => "openrouter",
            Flavor::Gemini => "gemini",
        }
    }

    /// The name the default answer introduces itself with.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::OpenAi => "OpenAI",
            Flavor::Anthropic => "Anthropic",
            Flavor::Azure => "Azure OpenAI",
            Flavor::OpenRouter => "OpenRouter",
            Flavor::Gemini => "Gemini",
        }
    }

    /// What a client appends to the server's address as its base URL.
    pub fn base_path(self) -> &'static str {
        match self {
            Flavor::OpenAi | Flavor::Anthropic => "/v1",
            Flavor::Azure => "",
            Flavor::OpenRouter => "/api/v1",
            Flavor::Gemini => "/v1beta/openai",
        }
    }

    pub fn chat_path(self) -> &'static str {
        match self {
            Flavor::OpenAi => "/v1/chat/completions",
            Flavor::Anthropic => "/v1/messages",
            Flavor::Azure => "/openai/v1/chat/completions",
            Flavor::OpenRouter => "/api/v1/chat/completions",
            Flavor::Gemini => "/v1beta/openai/chat/completions",
        }
    }

    pub fn models_path(self) -> &'static str {
        match self {
            Flavor::OpenAi | Flavor::Anthropic => "/v1/models",
            Flavor::Azure => "/openai/v1/models",
            Flavor::OpenRouter => "/api/v1/models",
            Flavor::Gemini => "/v1beta/openai/models",
        }
    }
}
