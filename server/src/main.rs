//! `sidekick-server`: argv, logging to stderr (stdout carries the protocol only), serve.

use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: sidekick-server [--stdio] [--version] [--help]

Speaks Sidekick's LSP-style JSON-RPC protocol on stdin/stdout (see docs/protocol.md).
Logs go to stderr; set SIDEKICK_LOG (e.g. debug) to change the level.";

#[allow(clippy::print_stdout)]
fn main() -> anyhow::Result<()> {
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--version" | "-V" => {
                println!("sidekick-server {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--stdio" => {}
            other => anyhow::bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(
            EnvFilter::try_from_env("SIDEKICK_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    tracing::info!("sidekick-server {} starting", env!("CARGO_PKG_VERSION"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // On a worker thread, not `block_on`'s: the chat futures read HTTP bodies that hyper's
    // connection tasks feed from worker threads, and a hand-off between workers is cheap where
    // waking the `block_on` thread for every body frame is not (docs/performance.md).
    let served = runtime
        .block_on(runtime.spawn(sidekick_server::serve_stdio()))
        .unwrap_or_else(|e| Err(anyhow::anyhow!("the server task failed: {e}")));
    // Dropping the runtime would wait for the stdin reader, which may sit in a blocking read
    // for ever: the session is over, so is the process.
    match served {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::exit(1)
        }
    }
}
