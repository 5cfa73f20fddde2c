//! The one error type handlers return, and its one conversion to a JSON-RPC error: bad params
//! become -32602 naming the field, failures a person must act on become -32001 with Guidance.

use tower_lsp_server::jsonrpc;

use crate::failure::truncate;
use crate::protocol::{GUIDANCE_ERROR_CODE, Guidance};
use crate::secrets::mask_secrets;

#[derive(Debug, thiserror::Error)]
pub enum SidekickError {
    /// The request itself is wrong: names the field and what is expected.
    #[error("{0}")]
    InvalidParams(String),
    /// Something the user can act on.
    #[error("{}", .0.title)]
    Guidance(Box<Guidance>),
    /// A bug or an environment failure that no action of the user fixes.
    #[error("{0}")]
    Internal(String),
}

impl SidekickError {
    pub fn params(msg: impl Into<String>) -> SidekickError {
        SidekickError::InvalidParams(msg.into())
    }
}

impl From<Guidance> for SidekickError {
    fn from(g: Guidance) -> Self {
        SidekickError::Guidance(Box::new(g))
    }
}

impl From<SidekickError> for jsonrpc::Error {
    fn from(e: SidekickError) -> Self {
        match e {
            SidekickError::InvalidParams(message) => jsonrpc::Error {
                code: jsonrpc::ErrorCode::InvalidParams,
                // Params echo what the client sent: never a key, never without bound.
                message: truncate(&mask_secrets(&message, None), 500).into(),
                data: None,
            },
            SidekickError::Guidance(g) => jsonrpc::Error {
                code: jsonrpc::ErrorCode::ServerError(GUIDANCE_ERROR_CODE),
                message: g.title.clone().into(),
                data: serde_json::to_value(&*g).ok(),
            },
            SidekickError::Internal(message) => jsonrpc::Error {
                code: jsonrpc::ErrorCode::InternalError,
                message: message.into(),
                data: None,
            },
        }
    }
}

/// Parses params with the path of the offending field in the message (`apiKey: invalid type…`).
pub fn parse_params<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, SidekickError> {
    // Lua clients (Neovim) cannot tell an empty table from an empty list: `[]` is `{}`.
    let value = match value {
        serde_json::Value::Array(a) if a.is_empty() => {
            serde_json::Value::Object(Default::default())
        }
        other => other,
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            SidekickError::InvalidParams(format!("invalid params: {inner}"))
        } else {
            SidekickError::InvalidParams(format!("invalid params: {path}: {inner}"))
        }
    })
}
