//! `sidekick-server`: argv, logging to stderr (stdout carries the protocol only), serve.

use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: sidekick-server [--stdio] [--version] [--help]

Speaks Sidekick's LSP-style JSON-RPC protocol on stdin/stdout (see docs/protocol.md).
Logs go to stderr; set SIDEKICK_LOG (e.g. debug) to change the level.";

/// `SIDEKICK_LOG` (default `info`), except that tower-lsp never logs below `info`: at debug
/// and trace it prints every message it reads and writes, params included, and
/// `sidekick/connect` carries a key. Directives naming tower-lsp are dropped for the same
/// reason.
fn log_filter(spec: Option<&str>) -> EnvFilter {
    let ours: Vec<&str> = spec
        .unwrap_or("info")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.contains("tower_lsp"))
        .collect();
    let base = EnvFilter::try_new(ours.join(",")).unwrap_or_else(|_| EnvFilter::new("info"));
    match "tower_lsp_server=info".parse() {
        Ok(directive) => base.add_directive(directive),
        Err(_) => base,
    }
}

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
        .with_env_filter(log_filter(std::env::var("SIDEKICK_LOG").ok().as_deref()))
        .init();
    tracing::info!("sidekick-server {} starting", env!("CARGO_PKG_VERSION"));
    // Spans for teams, only when OTEL_EXPORTER_OTLP_*ENDPOINT asks for them.
    sidekick_server::telemetry::init();
    // One thread: a chat's stream is read by hyper's connection task and parsed by the chat's
    // task, and on one thread handing each body frame from one to the other is a queue push,
    // not a cross-thread wake-up. The work is I/O and microseconds of parsing per chunk: one
    // thread relays over a million chunks a second (docs/performance.md). Keychain calls run
    // on the blocking pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Served as a task, not as `block_on`'s own future: that one is polled only between
    // batches of 61 task polls, so during a burst (the connection and chat tasks waking each
    // other) a queued delta waited up to a millisecond to be written.
    let served = runtime
        .block_on(runtime.spawn(sidekick_server::serve_stdio()))
        .unwrap_or_else(|e| Err(anyhow::anyhow!("the server task failed: {e}")));
    // Dropping the runtime would wait for the stdin reader, which may sit in a blocking read
    // for ever: the session is over, so is the process — once queued spans are sent.
    sidekick_server::telemetry::shutdown();
    match served {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::exit(1)
        }
    }
}
