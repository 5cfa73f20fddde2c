//! The client's secret storage, reached by server → client requests when no keychain works.

use serde::{Deserialize, Serialize};

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
