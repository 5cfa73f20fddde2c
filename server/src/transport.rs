//! Guards the stdio transport. tower-lsp-server reads stdin through tokio-util's `FramedRead`,
//! which ends the stream after the first message its codec cannot decode (a non-UTF-8 body,
//! an id that is not an i64 or a string): one bad message from a client would end the session.
//! So we frame stdin ourselves (`framing.rs`), pass every valid JSON-RPC message through
//! untouched, and replace an invalid one with a request to [`INVALID_MESSAGE`], which the
//! server answers with the JSON-RPC error the client deserves.

mod framing;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub use framing::{Framer, Item, MAX_BODY, MAX_HEADER};

/// The internal method an invalid message becomes; its params are `{code, message}`.
pub const INVALID_MESSAGE: &str = "sidekick/_invalidMessage";

/// Copies LSP frames from `input` to `output` until `input` ends. An error means the input
/// broke (not a clean end of file): the caller exits non-zero.
pub async fn pump(
    mut input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> std::io::Result<()> {
    let mut framer = Framer::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        while let Some(item) = framer.next_item() {
            let body = item.into_body(framer.next_fresh_id());
            output
                .write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
                .await?;
            output.write_all(&body).await?;
            output.flush().await?;
        }
        let n = input.read(&mut chunk).await?;
        if n == 0 {
            if framer.pending() > 0 {
                tracing::warn!(
                    "stdin ended inside a message ({} bytes unread)",
                    framer.pending()
                );
            }
            return Ok(());
        }
        framer.push(&chunk[..n]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::Value;

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
