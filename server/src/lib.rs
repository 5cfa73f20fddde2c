//! Sidekick's sidecar: a small LSP-style JSON-RPC server over stdio that owns providers,
//! API keys (OS keychain), streamed chat completions and the guidance shown for every failure.
//! The editor extension only renders; any LSP client can drive this protocol.

pub mod backoff;
pub mod chat;
pub mod connections;
pub mod conversations;
pub mod endpoint;
pub mod error;
pub mod failure;
pub mod guidance;
pub mod http;
pub mod ledger;
pub mod org;
pub mod prices;
pub mod protocol;
pub mod providers;
pub mod secrets;
pub mod server;
pub mod session;
pub mod settings;
pub mod state;
pub mod stdio;
pub mod telemetry;
pub mod tokens;
pub mod transport;
pub mod untrusted;

/// Far above tower-lsp's default of 4: at 4, a `$/cancelRequest` waits behind four running
/// chats and does nothing until one ends.
pub const CONCURRENCY: usize = 256;

/// Serves the protocol on stdin/stdout until the client exits. An error means stdin or stdout
/// broke (a read or a write failed): the process must then exit non-zero, so a client can tell.
pub async fn serve_stdio() -> anyhow::Result<()> {
    let (service, socket) = server::service();
    let (guarded, input) = tokio::io::duplex(1 << 16);
    let pump = tokio::spawn(transport::pump(stdio::stdin(), guarded));
    let (output, output_failed) = stdio::watched(stdio::stdout());
    let serve = tower_lsp_server::Server::new(input, output, socket)
        .concurrency_level(CONCURRENCY)
        .serve(service);
    tokio::select! {
        () = serve => {}
        Ok(e) = output_failed => anyhow::bail!("writing stdout failed: {e}; the client stopped listening"),
    }
    // After `exit` the pump may still sit in a read; it has nothing more to say then.
    if pump.is_finished() {
        match pump.await {
            Ok(Err(e)) => anyhow::bail!("reading stdin failed: {e}"),
            Err(e) => anyhow::bail!("the stdin reader failed: {e}"),
            // The client went away: the way the clients we know end a session.
            Ok(Ok(())) => {}
        }
    } else if !server::SHUTDOWN_ASKED.load(std::sync::atomic::Ordering::SeqCst) {
        // LSP: an `exit` that did not follow a `shutdown` ends the process with code 1.
        anyhow::bail!("the client sent exit without shutdown");
    }
    tracing::info!("session over");
    Ok(())
}
