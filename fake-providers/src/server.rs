//! The HTTP server: auth, routing, recording, and playing scripted or default replies.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::chat::default_pieces;
use crate::flavor::Flavor;
use crate::models::{ModelEntry, default_models};
use crate::routes::handle;
use crate::script::{Reply, SseStep};
use crate::sse::{self};

/// The key the fake accepts unless told otherwise.
pub const DEFAULT_KEY: &str = "sk-fake-valid-0000WXYZ";

/// One entry of `GET /v1/models`.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Lowercased names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// `None` when the body was empty or not JSON.
    pub body: Option<Value>,
    pub at: Instant,
    /// The client's end of the connection: equal peers mean a reused (pooled) connection.
    pub peer: SocketAddr,
}

/// One streamed (or hanging) response, in the order they were opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamRecord {
    pub opened_at: Instant,
    /// When the body was dropped: finished, aborted by the script, or abandoned by the client.
    pub closed_at: Option<Instant>,
    /// Every step of the script ran (a scripted `Drop` counts as run; a `Stall` never ends).
    pub completed: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    pub(crate) valid_keys: Vec<String>,
    pub(crate) allowed_orgs: Vec<String>,
    pub(crate) models: Vec<ModelEntry>,
    /// False until `models` is called: each flavor then lists its own defaults.
    pub(crate) models_set: bool,
    pub(crate) require_key: bool,
    pub(crate) max_completion_tokens_models: Vec<String>,
    /// Azure: the deployment names that exist.
    pub(crate) deployments: Vec<String>,
    pub(crate) bind: SocketAddr,
    pub(crate) token_delay: Duration,
    pub(crate) answer_tokens: Option<usize>,
    pub(crate) triggers: bool,
    /// Keys the organization endpoints accept (OpenAI flavor).
    pub(crate) admin_keys: Vec<String>,
    /// What `GET /v1/organization/spend_limit` says; None answers 404 as the API does today.
    pub(crate) spend_limit_usd: Option<f64>,
    /// HTTPS with a certificate from a test CA made on start (`FakeHandle::ca_pem`).
    pub(crate) tls: bool,
}

/// The client's address, for plain and TLS connections alike (axum knows only TCP's).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, crate::tls::TlsListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Configures a fake server; `FakeProvider::builder()`.
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
}

/// Entry point: `FakeProvider::builder().start().await`.
pub struct FakeProvider;

impl FakeProvider {
    pub fn builder() -> Builder {
        Builder {
            config: Config {
                flavor: Flavor::OpenAi,
                valid_keys: vec![DEFAULT_KEY.to_owned()],
                allowed_orgs: Vec::new(),
                models: default_models(),
                models_set: false,
                require_key: true,
                deployments: vec!["gpt-4o-mini".to_owned()],
                max_completion_tokens_models: ["o1", "o3", "o4", "gpt-5"]
                    .map(str::to_owned)
                    .to_vec(),
                bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                token_delay: Duration::ZERO,
                answer_tokens: None,
                triggers: false,
                admin_keys: vec![crate::organization::DEFAULT_ADMIN_KEY.to_owned()],
                spend_limit_usd: None,
                tls: false,
            },
        }
    }
}

impl Builder {
    pub fn valid_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.valid_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// When non-empty, an `OpenAI-Organization` header outside this list gets 401
    /// mismatched_organization; requests without the header are fine.
    pub fn allowed_orgs<I, S>(mut self, orgs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.allowed_orgs = orgs.into_iter().map(Into::into).collect();
        self
    }

    pub fn models(mut self, models: Vec<ModelEntry>) -> Self {
        self.config.models = models;
        self.config.models_set = true;
        self
    }

    /// Which provider to play (OpenAI by default); see `Flavor`.
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.config.flavor = flavor;
        self
    }

    /// Azure: the deployments that exist (`gpt-4o-mini` by default); a chat naming another
    /// gets Azure's 404 `DeploymentNotFound`.
    pub fn deployments<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.deployments = names.into_iter().map(Into::into).collect();
        self
    }

    /// `false` makes a key-less local server (like Ollama): no auth and no org checks at all.
    pub fn require_key(mut self, require: bool) -> Self {
        self.config.require_key = require;
        self
    }

    /// Model-id prefixes that reject `max_tokens` with the API's 400 unsupported_parameter.
    pub fn max_completion_tokens_models<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.max_completion_tokens_models = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Where to listen; 127.0.0.1 on a free port by default.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.config.bind = addr;
        self
    }

    /// Pause between chunks of default answers.
    pub fn token_delay(mut self, delay: Duration) -> Self {
        self.config.token_delay = delay;
        self
    }

    /// Makes default answers exactly this many content chunks long (for benchmarks).
    pub fn answer_tokens(mut self, tokens: usize) -> Self {
        self.config.answer_tokens = Some(tokens);
        self
    }

    /// Honours `[fake:…]` markers in the last user message (see `triggers`).
    pub fn triggers(mut self, enabled: bool) -> Self {
        self.config.triggers = enabled;
        self
    }

    /// The admin keys the organization endpoints accept ([`crate::organization::DEFAULT_ADMIN_KEY`]
    /// by default). A chat key gets the missing-scope 401 there.
    pub fn admin_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.admin_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Serves `GET /v1/organization/spend_limit` with this hard limit (404 otherwise).
    pub fn spend_limit(mut self, usd: Option<f64>) -> Self {
        self.config.spend_limit_usd = usd;
        self
    }

    /// Serves HTTPS, as the real providers do, with a certificate for `127.0.0.1` and
    /// `localhost` signed by a CA made for this server: a client trusts it only when given
    /// `FakeHandle::ca_pem` (e.g. in a file named by `SSL_CERT_FILE`).
    pub fn tls(mut self, on: bool) -> Self {
        self.config.tls = on;
        self
    }

    pub async fn start(mut self) -> io::Result<FakeHandle> {
        if !self.config.models_set {
            self.config.models = match self.config.flavor {
                Flavor::OpenAi => default_models(),
                Flavor::Anthropic => crate::anthropic::default_models(),
                Flavor::Azure => crate::azure::default_models(),
                Flavor::OpenRouter => crate::openrouter::default_models(),
                Flavor::Gemini => crate::gemini::default_models(),
            };
        }
        let listener = tokio::net::TcpListener::bind(self.config.bind).await?;
        let addr = listener.local_addr()?;
        let tls = if self.config.tls {
            Some(crate::tls::make()?)
        } else {
            None
        };
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (events, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            config: self.config,
            chat_queue: Mutex::new(VecDeque::new()),
            models_queue: Mutex::new(VecDeque::new()),
            org_queue: Mutex::new(VecDeque::new()),
            org_requests: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            streams: Mutex::new(Vec::new()),
            events,
            shutdown: shutdown_rx.clone(),
            rate_limit_retry_pending: AtomicBool::new(false),
        });
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone());
        let mut signal = shutdown_rx;
        let task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<Peer>();
            let stop = async move {
                let _ = signal.wait_for(|stop| *stop).await;
            };
            let served = match tls {
                Some(tls) => {
                    let listener = crate::tls::TlsListener {
                        tcp: listener,
                        acceptor: tls.acceptor,
                    };
                    axum::serve(listener, app)
                        .with_graceful_shutdown(stop)
                        .await
                }
                None => {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(stop)
                        .await
                }
            };
            if let Err(e) = served {
                eprintln!("fake-providers: server stopped: {e}");
            }
        });
        Ok(FakeHandle {
            shared,
            addr,
            ca_pem,
            shutdown_tx,
            task: Mutex::new(Some(task)),
        })
    }
}

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) chat_queue: Mutex<VecDeque<Reply>>,
    pub(crate) models_queue: Mutex<VecDeque<Reply>>,
    /// Scripted replies for the next organization requests that pass the admin-key check.
    /// `None` serves the request as usual (to script a failure on the third page).
    pub(crate) org_queue: Mutex<VecDeque<Option<Reply>>>,
    /// Paths of the organization requests that passed the admin-key check.
    pub(crate) org_requests: Mutex<Vec<String>>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) streams: Mutex<Vec<StreamRecord>>,
    /// Bumped on every request and every stream open/close, so waiters wake without polling.
    pub(crate) events: watch::Sender<u64>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// `[fake:rate-limit]` answers 429 once; the client's retry (same text) must then succeed.
    pub(crate) rate_limit_retry_pending: AtomicBool,
}

impl Shared {
    /// The next scripted chat reply, if the test queued one.
    pub(crate) fn next_chat_reply(&self) -> Option<Reply> {
        lock(&self.chat_queue).pop_front()
    }

    /// `[fake:rate-limit]` alternates, so the client's automatic retry goes through: true when
    /// this request is the one to refuse.
    pub(crate) fn take_rate_limit_turn(&self) -> bool {
        let refuse = !self.rate_limit_retry_pending.swap(true, Ordering::SeqCst);
        if !refuse {
            self.rate_limit_retry_pending.store(false, Ordering::SeqCst);
        }
        refuse
    }

    /// The default answer's pieces for what the user said.
    pub(crate) fn default_pieces(&self, last_user: &str) -> Vec<String> {
        default_pieces(&self.config, last_user)
    }

    /// Steps paced by the configured token delay.
    pub(crate) fn paced(&self, steps: Vec<SseStep>) -> Vec<SseStep> {
        if self.config.token_delay.is_zero() {
            steps
        } else {
            sse::paced(steps, self.config.token_delay)
        }
    }

    pub(crate) fn bump(&self) {
        self.events.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn open_stream(self: &Arc<Self>) -> StreamGuard {
        let index = {
            let mut streams = lock(&self.streams);
            streams.push(StreamRecord {
                opened_at: Instant::now(),
                closed_at: None,
                completed: false,
            });
            streams.len() - 1
        };
        self.bump();
        StreamGuard {
            shared: self.clone(),
            index,
            completed: false,
        }
    }
}

/// A poisoned lock only means another test thread panicked; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held by a response body: hyper drops the body when the client goes away, which is how
/// the fake learns (and timestamps) that the connection closed.
pub(crate) struct StreamGuard {
    pub(crate) shared: Arc<Shared>,
    pub(crate) index: usize,
    pub(crate) completed: bool,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Some(record) = lock(&self.shared.streams).get_mut(self.index) {
            record.closed_at = Some(Instant::now());
            record.completed = self.completed;
        }
        self.shared.bump();
    }
}

/// A running fake. Dropping it stops the server.
pub struct FakeHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    ca_pem: Option<String>,
    shutdown_tx: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl FakeHandle {
    /// What a client takes as its base URL: `http://127.0.0.1:PORT/v1` for OpenAI and
    /// Anthropic, the bare endpoint for Azure, `/api/v1` for OpenRouter, `/v1beta/openai` for
    /// Gemini.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}{}",
            if self.ca_pem.is_some() {
                "https"
            } else {
                "http"
            },
            self.addr,
            self.shared.config.flavor.base_path()
        )
    }

    /// The PEM of the CA that signed an HTTPS server's certificate (`Builder::tls`).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues the reply for the next `POST /v1/chat/completions` (first in, first out).
    pub fn push(&self, reply: impl Into<Reply>) {
        lock(&self.shared.chat_queue).push_back(reply.into());
    }

    pub fn push_many(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.shared.chat_queue).extend(replies);
    }

    /// Queues the reply for the next `GET /v1/models`.
    pub fn push_models_reply(&self, reply: impl Into<Reply>) {
        lock(&self.shared.models_queue).push_back(reply.into());
    }

    /// Queues the reply for the next organization request an admin key makes (a 429, a 500
    /// in the middle of an ingestion).
    pub fn push_org_reply(&self, reply: impl Into<Reply>) {
        lock(&self.shared.org_queue).push_back(Some(reply.into()));
    }

    /// Lets the next `n` organization requests through as usual, ahead of replies pushed
    /// after this.
    pub fn pass_org_requests(&self, n: usize) {
        lock(&self.shared.org_queue).extend(std::iter::repeat_n(None, n));
    }

    /// The paths of the organization requests an admin key made, in order.
    pub fn org_requests(&self) -> Vec<String> {
        lock(&self.shared.org_requests).clone()
    }

    /// Scripted chat replies not played yet.
    pub fn pending_replies(&self) -> usize {
        lock(&self.shared.chat_queue).len()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The requests to the flavor's chat endpoint (`/v1/messages` for Anthropic).
    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        let path = self.shared.config.flavor.chat_path();
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .collect()
    }

    pub fn streams(&self) -> Vec<StreamRecord> {
        lock(&self.shared.streams).clone()
    }

    /// Waits until stream `index` (in opening order) has closed; `None` on timeout.
    pub async fn wait_stream_closed(&self, index: usize, timeout: Duration) -> Option<Instant> {
        self.wait_until(timeout, || {
            lock(&self.shared.streams)
                .get(index)
                .and_then(|s| s.closed_at)
        })
        .await
    }

    /// Waits until at least `count` requests have arrived; false on timeout.
    pub async fn wait_requests(&self, count: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, || {
            (lock(&self.shared.requests).len() >= count).then_some(())
        })
        .await
        .is_some()
    }

    async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        let mut rx = self.shared.events.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            rx.borrow_and_update();
            if let Some(v) = check() {
                return Some(v);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return None,
            }
        }
    }

    /// Stops accepting, ends stalled and hanging responses, and waits (briefly) for the rest.
    pub async fn shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
        let task = lock(&self.task).take();
        if let Some(mut task) = task
            && tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for FakeHandle {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}
