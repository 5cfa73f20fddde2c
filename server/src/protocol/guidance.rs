//! Guidance: the wire form of a failure a person must act on.

use serde::{Deserialize, Serialize};

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// Every failure a user can meet, named once. The client picks icons and cards from
        /// this, never from message text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum GuidanceKind {
            $($(#[$doc])* #[serde(rename = $wire)] $variant,)*
        }

        impl GuidanceKind {
            /// Every kind, for docs tests and exhaustive client tables.
            pub const ALL: &'static [GuidanceKind] = &[$(GuidanceKind::$variant,)*];

            /// The wire name, e.g. `rate_limited`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(GuidanceKind::$variant => $wire,)*
                }
            }
        }
    };
}

kinds! {
    NotConnected = "not_connected",
    InvalidKey = "invalid_key",
    OrganizationMismatch = "organization_mismatch",
    PermissionDenied = "permission_denied",
    RegionUnsupported = "region_unsupported",
    ModelNotFound = "model_not_found",
    RateLimited = "rate_limited",
    RequestTooLarge = "request_too_large",
    QuotaExceeded = "quota_exceeded",
    Overloaded = "overloaded",
    ServerError = "server_error",
    ContextLengthExceeded = "context_length_exceeded",
    /// The provider's content filter blocked the prompt or the answer (Azure OpenAI).
    ContentFiltered = "content_filtered",
    BadRequest = "bad_request",
    Network = "network",
    Timeout = "timeout",
    StreamInterrupted = "stream_interrupted",
    KeychainUnavailable = "keychain_unavailable",
    /// This month's spend reached the monthly budget: the chat was not sent.
    BudgetExceeded = "budget_exceeded",
    /// The organization's usage and costs need an admin key; a project key (or none) was used.
    AdminKeyRequired = "admin_key_required",
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
        /// What the command acts on: `["anthropic"]` makes "Re-enter key" go straight to
        /// Anthropic's key prompt. Omitted when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        arguments: Vec<String>,
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
    /// The provider's error code (or type when it has no code), keys masked.
    pub provider_code: Option<String>,
    /// The provider's own message, keys masked.
    pub provider_message: Option<String>,
    pub request_id: Option<String>,
    /// How long the provider asked us to wait, when it said.
    pub retry_after_ms: Option<u64>,
    /// The text streamed before the failure: the client keeps it on screen.
    pub partial_text: Option<String>,
}
