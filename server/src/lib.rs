//! Sidekick's sidecar: a small LSP-style JSON-RPC server over stdio that owns providers,
//! API keys (OS keychain), streamed chat completions and the guidance shown for every failure.
//! The editor extension only renders; any LSP client can drive this protocol.

pub mod chat;
pub mod connections;
pub mod endpoint;
pub mod error;
pub mod failure;
pub mod guidance;
pub mod http;
pub mod protocol;
pub mod providers;
pub mod secrets;
pub mod server;
pub mod session;
pub mod settings;
pub mod state;
pub mod stdio;
pub mod transport;

/// Far above tower-lsp's default of 4: at 4, a `$/cancelRequest` waits behind four running
/// chats and does nothing until one ends.
pub const CONCURRENCY: usize = 256;

/// Serves the protocol on stdin/stdout until the client exits.
pub async fn serve_stdio() -> anyhow::Result<()> {
    let (service, socket) = server::service();
    let (guarded, input) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Err(e) = transport::pump(stdio::stdin(), guarded).await {
            tracing::error!("reading stdin: {e}");
        }
    });
    tower_lsp_server::Server::new(input, stdio::stdout(), socket)
        .concurrency_level(CONCURRENCY)
        .serve(service)
        .await;
    tracing::info!("session over");
    Ok(())
}
