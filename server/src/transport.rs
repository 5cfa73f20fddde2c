//! Guards the stdio transport. tower-lsp-server reads stdin through tokio-util's `FramedRead`,
//! which ends the stream after the first message its codec cannot decode: one malformed message
//! from a client would end the session. So we frame stdin ourselves, pass every valid JSON-RPC
//! message through untouched, and replace an invalid one with a request to
//! [`INVALID_MESSAGE`], which the server answers with the JSON-RPC error the client deserves.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower_lsp_server::jsonrpc;

/// The internal method an invalid message becomes; its params are `{code, message}`.
pub const INVALID_MESSAGE: &str = "sidekick/_invalidMessage";

/// Larger bodies are refused without being buffered: no chat needs 64 MiB of JSON.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Copies LSP frames from `input` to `output` until `input` ends.
pub async fn pump(
    input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    let invalid = AtomicU64::new(0);
    loop {
        let mut length: Option<usize> = None;
        let mut bad_length = false;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                if length.is_some() || bad_length {
                    break;
                }
                continue;
            }
            if let Some((name, value)) = text.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_length = true,
                }
            }
        }
        let n = invalid.fetch_add(1, Ordering::Relaxed);
        let body = match length {
            Some(len) if len <= MAX_BODY => {
                let mut body = vec![0u8; len];
                reader.read_exact(&mut body).await?;
                sanitize(body, n)
            }
            Some(len) => {
                tokio::io::copy(&mut (&mut reader).take(len as u64), &mut tokio::io::sink())
                    .await?;
                replacement(
                    None,
                    jsonrpc::ErrorCode::InvalidRequest,
                    format!("message of {len} bytes is larger than {MAX_BODY}"),
                    n,
                )
            }
            None => replacement(
                None,
                jsonrpc::ErrorCode::ParseError,
                "Content-Length is not a number".into(),
                n,
            ),
        };
        output
            .write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
            .await?;
        output.write_all(&body).await?;
        output.flush().await?;
    }
}

/// The body itself when tower-lsp can take it, else a request that reports what is wrong.
fn sanitize(body: Vec<u8>, n: u64) -> Vec<u8> {
    if serde_json::from_slice::<jsonrpc::Request>(&body).is_ok()
        || serde_json::from_slice::<jsonrpc::Response>(&body).is_ok()
    {
        return body;
    }
    match serde_json::from_slice::<Value>(&body) {
        Err(e) => replacement(
            None,
            jsonrpc::ErrorCode::ParseError,
            format!("Parse error: {e}"),
            n,
        ),
        // Valid JSON with an id: answer that id, so the client's request does not hang forever.
        Ok(v) => replacement(
            v.get("id")
                .filter(|id| id.is_number() || id.is_string())
                .cloned(),
            jsonrpc::ErrorCode::InvalidRequest,
            "Invalid request: not a JSON-RPC 2.0 request, notification or response".into(),
            n,
        ),
    }
}

fn replacement(id: Option<Value>, code: jsonrpc::ErrorCode, message: String, n: u64) -> Vec<u8> {
    // JSON-RPC would answer an unreadable message with `"id": null`, which tower-lsp cannot
    // produce from a handler; a fresh string id that no client uses is the closest we can do.
    let id = id.unwrap_or_else(|| json!(format!("sidekick-invalid-{n}")));
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": INVALID_MESSAGE,
        "params": { "code": code.code(), "message": message },
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn through(input: &[u8]) -> Vec<Value> {
        let mut out = Vec::new();
        pump(input, &mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        text.split("Content-Length: ")
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::from_str(s.split_once("\r\n\r\n").unwrap().1).unwrap())
            .collect()
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn valid_messages_pass_untouched_and_invalid_ones_become_error_requests() {
        let ok = r#"{"jsonrpc":"2.0","id":1,"method":"sidekick/listProviders","params":{}}"#;
        let input = [
            frame(ok),
            frame("{not json"),
            frame(r#"{"jsonrpc":"2.0","id":9,"method":5}"#),
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n".to_string() + &frame(ok),
        ]
        .concat();
        let out = through(input.as_bytes()).await;
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], serde_json::from_str::<Value>(ok).unwrap());
        assert_eq!(out[1]["method"], INVALID_MESSAGE);
        assert_eq!(out[1]["params"]["code"], -32700);
        assert_eq!(out[2]["id"], 9, "the client's id is answered");
        assert_eq!(out[2]["params"]["code"], -32600);
        assert_eq!(out[3]["id"], 1);
    }

    #[tokio::test]
    async fn a_bad_length_is_reported_and_the_stream_goes_on() {
        let input = format!(
            "Content-Length: lots\r\n\r\n{}",
            frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#)
        );
        let out = through(input.as_bytes()).await;
        assert_eq!(out[0]["params"]["code"], -32700);
        assert_eq!(out[1]["method"], "initialized");
    }
}
