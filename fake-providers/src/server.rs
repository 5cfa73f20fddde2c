//! The HTTP server: auth, routing, recording, and playing scripted or default replies.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Uri};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::errors;
use crate::script::{HttpError, Reply, SseStep};
use crate::sse::{self, ChunkMeta};
use crate::triggers::{self, Trigger};

/// One entry of `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    pub id: String,
    pub created: u64,
    pub owned_by: String,
}

impl ModelEntry {
    pub fn new(id: impl Into<String>, created: u64, owned_by: impl Into<String>) -> Self {
        ModelEntry {
            id: id.into(),
            created,
            owned_by: owned_by.into(),
        }
    }
}

/// A model as the API serializes it, in its field order.
#[derive(Serialize)]
struct ModelJson<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

impl<'a> From<&'a ModelEntry> for ModelJson<'a> {
    fn from(m: &'a ModelEntry) -> Self {
        ModelJson {
            id: &m.id,
            object: "model",
            created: m.created,
            owned_by: &m.owned_by,
        }
    }
}

/// The model the fake lists but refuses, like a model the account lost access to.
pub const RETIRED_MODEL: &str = "gpt-4o-retired";

/// The key the fake accepts unless told otherwise.
pub const DEFAULT_KEY: &str = "sk-fake-valid-0000WXYZ";

/// A realistic `/v1/models` answer: chat models mixed with embeddings, audio, images and
/// legacy completions models, with their real `created` times and owners.
pub fn default_models() -> Vec<ModelEntry> {
    [
        ("gpt-4o", 1715367049, "system"),
        ("gpt-4o-mini", 1721172741, "system"),
        ("gpt-4.1", 1744316542, "system"),
        ("gpt-4.1-mini", 1744318173, "system"),
        ("o3-mini", 1737146383, "system"),
        ("o1", 1734375816, "system"),
        ("gpt-5", 1754425777, "system"),
        ("gpt-5-mini", 1754425928, "system"),
        ("gpt-3.5-turbo", 1677610602, "openai"),
        ("gpt-3.5-turbo-instruct", 1692901427, "system"),
        ("text-embedding-3-small", 1705948997, "system"),
        ("text-embedding-ada-002", 1671217299, "openai-internal"),
        ("whisper-1", 1677532384, "openai-internal"),
        ("tts-1", 1681940951, "openai-internal"),
        ("dall-e-3", 1698785189, "system"),
        ("omni-moderation-latest", 1731689265, "system"),
        ("babbage-002", 1692634615, "system"),
        ("davinci-002", 1692634301, "system"),
        ("gpt-4o-realtime-preview", 1727659998, "system"),
        ("gpt-4o-audio-preview", 1727460443, "system"),
        ("gpt-image-1", 1745517030, "system"),
        (RETIRED_MODEL, 1715367050, "system"),
    ]
    .into_iter()
    .map(|(id, created, owner)| ModelEntry::new(id, created, owner))
    .collect()
}

/// Whether `/v1/chat/completions` serves this id; the others get the API's "not a chat model".
pub fn is_chat_model(id: &str) -> bool {
    const NOT_CHAT: [&str; 10] = [
        "text-embedding",
        "whisper",
        "tts-",
        "dall-e",
        "omni-moderation",
        "babbage",
        "davinci",
        "gpt-3.5-turbo-instruct",
        "gpt-image",
        "gpt-4o-realtime",
    ];
    !NOT_CHAT.iter().any(|p| id.starts_with(p))
}

/// One request as the fake received it.
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
struct Config {
    valid_keys: Vec<String>,
    allowed_orgs: Vec<String>,
    models: Vec<ModelEntry>,
    require_key: bool,
    max_completion_tokens_models: Vec<String>,
    bind: SocketAddr,
    token_delay: Duration,
    answer_tokens: Option<usize>,
    triggers: bool,
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
                valid_keys: vec![DEFAULT_KEY.to_owned()],
                allowed_orgs: Vec::new(),
                models: default_models(),
                require_key: true,
                max_completion_tokens_models: ["o1", "o3", "o4", "gpt-5"]
                    .map(str::to_owned)
                    .to_vec(),
                bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                token_delay: Duration::ZERO,
                answer_tokens: None,
                triggers: false,
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

    pub async fn start(self) -> io::Result<FakeHandle> {
        let listener = tokio::net::TcpListener::bind(self.config.bind).await?;
        let addr = listener.local_addr()?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (events, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            config: self.config,
            chat_queue: Mutex::new(VecDeque::new()),
            models_queue: Mutex::new(VecDeque::new()),
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
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = signal.wait_for(|stop| *stop).await;
            });
            if let Err(e) = serve.await {
                eprintln!("fake-providers: server stopped: {e}");
            }
        });
        Ok(FakeHandle {
            shared,
            addr,
            shutdown_tx,
            task: Mutex::new(Some(task)),
        })
    }
}

struct Shared {
    config: Config,
    chat_queue: Mutex<VecDeque<Reply>>,
    models_queue: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
    streams: Mutex<Vec<StreamRecord>>,
    /// Bumped on every request and every stream open/close, so waiters wake without polling.
    events: watch::Sender<u64>,
    shutdown: watch::Receiver<bool>,
    /// `[fake:rate-limit]` answers 429 once; the client's retry (same text) must then succeed.
    rate_limit_retry_pending: AtomicBool,
}

impl Shared {
    fn bump(&self) {
        self.events.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn open_stream(self: &Arc<Self>) -> StreamGuard {
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
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held by a response body: hyper drops the body when the client goes away, which is how
/// the fake learns (and timestamps) that the connection closed.
struct StreamGuard {
    shared: Arc<Shared>,
    index: usize,
    completed: bool,
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
    shutdown_tx: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl FakeHandle {
    /// `http://127.0.0.1:PORT/v1`, what a client takes as its base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
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

    /// Scripted chat replies not played yet.
    pub fn pending_replies(&self) -> usize {
        lock(&self.shared.chat_queue).len()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v1/chat/completions")
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

struct Ctx {
    started: Instant,
    key: String,
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let started = Instant::now();
    let path = uri.path().to_owned();
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let mut recorded = BTreeMap::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        recorded
            .entry(name.as_str().to_owned())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    lock(&shared.requests).push(RecordedRequest {
        method: method.as_str().to_owned(),
        path: path.clone(),
        headers: recorded,
        body: json.clone(),
        at: started,
        peer,
    });
    shared.bump();

    let key = bearer_key(&headers).unwrap_or_default();
    let ctx = Ctx { started, key };
    if let Some(denied) = check_auth(&shared.config, &headers, &ctx.key) {
        return play(&shared, denied, &ctx).await;
    }

    let reply = match (method.as_str(), path.as_str()) {
        ("GET", "/v1/models") => lock(&shared.models_queue)
            .pop_front()
            .unwrap_or_else(|| list_models(&shared.config)),
        ("GET", p) if p.starts_with("/v1/models/") => {
            let id = &p["/v1/models/".len()..];
            match shared.config.models.iter().find(|m| m.id == id) {
                Some(m) => Reply::Error(HttpError::json(200, pretty(&ModelJson::from(m)))),
                None => errors::model_not_found(id),
            }
        }
        ("POST", "/v1/chat/completions") => chat(&shared, &body, json.as_ref(), &ctx),
        (m, p) => errors::invalid_url(m, p),
    };
    play(&shared, reply, &ctx).await
}

fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn bearer_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_owned())
        .filter(|k| !k.is_empty())
}

fn check_auth(config: &Config, headers: &HeaderMap, key: &str) -> Option<Reply> {
    if !config.require_key {
        return None;
    }
    if key.is_empty() {
        return Some(errors::missing_api_key());
    }
    if !config.valid_keys.iter().any(|k| k == key) {
        return Some(errors::invalid_api_key(key));
    }
    let org = headers
        .get("openai-organization")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned());
    match org {
        Some(org) if !config.allowed_orgs.is_empty() && !config.allowed_orgs.contains(&org) => {
            Some(errors::mismatched_organization())
        }
        _ => None,
    }
}

#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelJson<'a>>,
}

fn list_models(config: &Config) -> Reply {
    Reply::Error(HttpError::json(
        200,
        pretty(&ModelList {
            object: "list",
            data: config.models.iter().map(ModelJson::from).collect(),
        }),
    ))
}

fn chat(shared: &Shared, raw: &[u8], body: Option<&Value>, ctx: &Ctx) -> Reply {
    let config = &shared.config;
    let Some(body) = body.filter(|b| b.is_object()) else {
        if raw.is_empty() {
            return errors::openai_error(
                400,
                "you must provide a model parameter",
                "invalid_request_error",
                None,
                None,
            )
            .into();
        }
        return errors::invalid_json_body();
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sends_max_tokens = body.get("max_tokens").is_some_and(|v| !v.is_null());
    if sends_max_tokens
        && config
            .max_completion_tokens_models
            .iter()
            .any(|p| model.starts_with(p.as_str()))
    {
        return errors::unsupported_parameter_max_tokens();
    }
    if let Some(reply) = lock(&shared.chat_queue).pop_front() {
        return reply;
    }

    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let last_user = last_user_text(body);
    if config.triggers {
        match triggers::parse_trigger(&last_user) {
            Some(Trigger::RateLimit) => {
                // Alternate so the client's automatic retry of the same message goes through.
                if !shared.rate_limit_retry_pending.swap(true, Ordering::SeqCst) {
                    return triggers::reply_for(Trigger::RateLimit, model, include_usage, &ctx.key);
                }
                shared
                    .rate_limit_retry_pending
                    .store(false, Ordering::SeqCst);
            }
            Some(t) => return triggers::reply_for(t, model, include_usage, &ctx.key),
            None => {}
        }
    }

    if model == RETIRED_MODEL || !config.models.iter().any(|m| m.id == model) {
        return errors::model_not_found(model);
    }
    if !is_chat_model(model) {
        return errors::not_a_chat_model();
    }

    let pieces = default_pieces(config, &last_user);
    let prompt_tokens = prompt_tokens(body);
    let completion_tokens = pieces.len() as u32;
    let meta = ChunkMeta::new(model).with_usage(include_usage);
    if body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        let steps = sse::text_reply_with(
            &meta,
            &pieces,
            "stop",
            include_usage.then_some((prompt_tokens, completion_tokens)),
        );
        let steps = if config.token_delay.is_zero() {
            steps
        } else {
            sse::paced(steps, config.token_delay)
        };
        Reply::Sse(steps)
    } else {
        Reply::Error(HttpError::json(
            200,
            completion_json(&meta, &pieces.concat(), prompt_tokens, completion_tokens),
        ))
    }
}

const ANSWER_PREFIX: &str = "Hello! I am the fake OpenAI server. You said: ";

fn default_pieces(config: &Config, last_user: &str) -> Vec<String> {
    let said: String = last_user.chars().take(200).collect();
    let pieces = triggers::word_pieces(&format!("{ANSWER_PREFIX}{said}"));
    match config.answer_tokens {
        None => pieces,
        Some(n) => {
            // Every cycle after the first needs its leading space back.
            let mut out = Vec::with_capacity(n);
            let mut first = true;
            while out.len() < n {
                for p in &pieces {
                    if out.len() == n {
                        break;
                    }
                    if !first && out.len() % pieces.len() == 0 && !p.starts_with(' ') {
                        out.push(format!(" {p}"));
                    } else {
                        out.push(p.clone());
                    }
                }
                first = false;
                if pieces.is_empty() {
                    break;
                }
            }
            out
        }
    }
}

/// Text of the last `role: "user"` message, whether `content` is a string or a parts array.
fn last_user_text(body: &Value) -> String {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    let Some(last) = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
    else {
        return String::new();
    };
    match last.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// A rough count (4 characters a token plus per-message overhead), stable for a given body.
fn prompt_tokens(body: &Value) -> u32 {
    let messages = body.get("messages").and_then(Value::as_array);
    let chars: usize = messages
        .map(|ms| ms.iter().map(|m| m.to_string().len()).sum())
        .unwrap_or(0);
    let count = messages.map_or(0, Vec::len);
    (chars / 4 + count * 4 + 3) as u32
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [CompletionChoice<'a>; 1],
    usage: Value,
    service_tier: &'static str,
    system_fingerprint: Option<&'a str>,
}

#[derive(Serialize)]
struct CompletionChoice<'a> {
    index: u32,
    message: CompletionMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct CompletionMessage<'a> {
    role: &'static str,
    content: &'a str,
    refusal: Option<()>,
    annotations: [(); 0],
}

/// A non-streamed `chat.completion`, in the API's field order.
pub(crate) fn completion_json(
    meta: &ChunkMeta,
    text: &str,
    prompt: u32,
    completion: u32,
) -> String {
    let usage_chunk = sse::usage_chunk_json(meta, prompt, completion);
    let usage = serde_json::from_str::<Value>(&usage_chunk)
        .ok()
        .and_then(|mut v| v.get_mut("usage").map(Value::take))
        .unwrap_or(Value::Null);
    pretty(&Completion {
        id: &meta.id,
        object: "chat.completion",
        created: meta.created,
        model: &meta.model,
        choices: [CompletionChoice {
            index: 0,
            message: CompletionMessage {
                role: "assistant",
                content: text,
                refusal: None,
                annotations: [],
            },
            logprobs: None,
            finish_reason: "stop",
        }],
        usage,
        service_tier: "default",
        system_fingerprint: meta.system_fingerprint.as_deref(),
    })
}

fn set_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(n, v);
    }
}

/// Headers every answer carries; rate-limit headers only on success (429s bring their own).
fn common_headers(headers: &mut HeaderMap, ctx: &Ctx, success: bool) {
    let mut defaults = vec![
        ("x-request-id", crate::ids::request_id()),
        (
            "openai-processing-ms",
            (ctx.started.elapsed().as_millis() + 1).to_string(),
        ),
        ("openai-version", "2020-10-01".to_owned()),
    ];
    if success {
        defaults.extend([
            ("x-ratelimit-limit-requests", "10000".to_owned()),
            ("x-ratelimit-remaining-requests", "9999".to_owned()),
            ("x-ratelimit-reset-requests", "1s".to_owned()),
            ("x-ratelimit-limit-tokens", "30000000".to_owned()),
            ("x-ratelimit-remaining-tokens", "29999950".to_owned()),
            ("x-ratelimit-reset-tokens", "6m0s".to_owned()),
        ]);
    }
    for (name, value) in defaults {
        if !headers.contains_key(name) {
            set_header(headers, name, &value);
        }
    }
}

async fn play(shared: &Arc<Shared>, reply: Reply, ctx: &Ctx) -> Response<Body> {
    match reply {
        Reply::Error(e) => {
            let mut resp = Response::new(Body::from(e.body));
            *resp.status_mut() =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let headers = resp.headers_mut();
            set_header(headers, "content-type", &e.content_type);
            for (name, value) in &e.headers {
                set_header(headers, name, value);
            }
            common_headers(headers, ctx, (200..300).contains(&e.status));
            resp
        }
        Reply::Sse(steps) => sse_response(shared, steps, ctx),
        Reply::SseAfter(delay, steps) => {
            let mut stop = shared.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
            sse_response(shared, steps, ctx)
        }
        Reply::HangBeforeHeaders => {
            // Dropped with this future if hyper abandons the request when the client leaves.
            let mut guard = shared.open_stream();
            let mut stop = shared.shutdown.clone();
            let _ = stop.wait_for(|s| *s).await;
            guard.completed = false;
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            resp
        }
    }
}

fn sse_response(shared: &Arc<Shared>, steps: Vec<SseStep>, ctx: &Ctx) -> Response<Body> {
    let state = BodyState {
        steps: steps.into(),
        guard: shared.open_stream(),
        shutdown: shared.shutdown.clone(),
        finished: false,
    };
    let stream = futures_util::stream::unfold(state, next_chunk);
    let mut resp = Response::new(Body::from_stream(stream));
    let headers = resp.headers_mut();
    set_header(headers, "content-type", "text/event-stream; charset=utf-8");
    common_headers(headers, ctx, true);
    resp
}

struct BodyState {
    steps: VecDeque<SseStep>,
    guard: StreamGuard,
    shutdown: watch::Receiver<bool>,
    finished: bool,
}

fn aborted(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, why.to_owned())
}

async fn next_chunk(mut state: BodyState) -> Option<(io::Result<Bytes>, BodyState)> {
    if state.finished {
        return None;
    }
    loop {
        let Some(step) = state.steps.pop_front() else {
            state.guard.completed = true;
            return None;
        };
        match step {
            SseStep::Delay(d) => {
                let stopped = tokio::select! {
                    _ = tokio::time::sleep(d) => false,
                    _ = state.shutdown.wait_for(|s| *s) => true,
                };
                if stopped {
                    state.finished = true;
                    return Some((Err(aborted("fake-providers shutting down")), state));
                }
            }
            SseStep::Drop => {
                // An error from the body makes hyper cut the connection without the final
                // zero-length chunk: the client sees an incomplete body. Hyper only flushes
                // what it buffered when the body is pending, so be pending once first, or the
                // events before the drop would never reach the client.
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(2)).await;
                state.finished = true;
                state.guard.completed = state.steps.is_empty();
                return Some((Err(aborted("scripted drop")), state));
            }
            SseStep::Stall => {
                let _ = state.shutdown.wait_for(|s| *s).await;
                state.finished = true;
                return Some((Err(aborted("fake-providers shutting down")), state));
            }
            other => {
                if let Some(bytes) = sse::encode(&other) {
                    return Some((Ok(Bytes::from(bytes)), state));
                }
            }
        }
    }
}
