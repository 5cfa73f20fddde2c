//! The one HTTP path to providers: a shared reqwest client (built on first use), the tower
//! service we install in async-openai in place of its own (which would retry behind our back),
//! and the chat stream, read inside the caller's future. Every non-2xx answer is classified
//! from its full status, headers and body; the request id is kept; a stream's bytes are watched
//! for the idle timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::Client as OpenAiClient;
use async_openai::config::{Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use reqwest::header::AUTHORIZATION;

use crate::failure::{
    ProviderError, TimeoutPhase, classify_http, classify_stream_event, classify_transport,
    request_id,
};
use crate::secret::ApiKey;

/// Where and as whom to call a provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub key: Option<ApiKey>,
    pub organization: Option<String>,
    pub project: Option<String>,
}

/// The shared client: one connection pool for every request. Proxies come from
/// `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`, which reqwest reads by default.
pub fn shared_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!("sidekick-server/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The shared client, built on first use: loading the OS trust store costs a few milliseconds
/// that the sidecar's start-up should not pay, and a machine without CA files must still start.
#[derive(Clone, Default)]
pub struct LazyClient(Arc<tokio::sync::OnceCell<reqwest::Client>>);

impl LazyClient {
    pub async fn get(&self) -> Result<reqwest::Client, ProviderError> {
        self.0
            .get_or_try_init(|| async {
                let failed =
                    |e: String| ProviderError::Network(format!("setting up HTTPS failed: {e}"));
                tokio::task::spawn_blocking(shared_client)
                    .await
                    .map_err(|e| failed(e.to_string()))?
                    .map_err(|e| failed(e.to_string()))
            })
            .await
            .cloned()
    }

    /// Builds the client in the background, so the first request does not wait for it.
    pub fn warm(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.get().await {
                tracing::warn!("{e}");
            }
        });
    }
}

/// What one request learned that async-openai's types do not carry.
#[derive(Debug, Default)]
pub struct Exchange {
    request_id: Mutex<Option<String>>,
    idle_timed_out: AtomicBool,
}

impl Exchange {
    pub fn request_id(&self) -> Option<String> {
        self.request_id.lock().ok().and_then(|g| g.clone())
    }
    fn set_request_id(&self, id: Option<String>) {
        if let Ok(mut g) = self.request_id.lock() {
            *g = id;
        }
    }
    pub fn idle_timed_out(&self) -> bool {
        self.idle_timed_out.load(Ordering::SeqCst)
    }
}

/// Sends one request and classifies any answer that is not a success from its full status,
/// headers and body. A success's body is left unread.
pub async fn execute(
    http: &reqwest::Client,
    mut request: reqwest::Request,
    exchange: &Exchange,
    request_timeout: Duration,
    idle_timeout: Duration,
    key: Option<&str>,
) -> Result<reqwest::Response, ProviderError> {
    // async-openai's config always makes a bearer header; a key-less local server gets none.
    if request
        .headers()
        .get(AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == b"Bearer ")
    {
        request.headers_mut().remove(AUTHORIZATION);
    }
    let response = match tokio::time::timeout(request_timeout, http.execute(request)).await {
        Err(_) => return Err(ProviderError::Timeout(TimeoutPhase::Response)),
        Ok(Err(e)) => return Err(classify_transport(&e)),
        Ok(Ok(r)) => r,
    };
    exchange.set_request_id(request_id(response.headers()));
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = match tokio::time::timeout(idle_timeout, response.bytes()).await {
        Ok(Ok(b)) => b,
        // The status alone still classifies; the body was only detail.
        _ => Default::default(),
    };
    Err(ProviderError::Api(Box::new(classify_http(
        status.as_u16(),
        &headers,
        &body,
        key,
    ))))
}

/// The body's bytes, failing once none came for `idle`: SSE comments count as bytes, so a
/// provider's keep-alives keep a slow answer alive.
pub fn idle_bytes(
    response: reqwest::Response,
    idle: Duration,
    exchange: Arc<Exchange>,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    tokio_stream::StreamExt::timeout(response.bytes_stream(), idle).map(move |item| match item {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(std::io::Error::other(e)),
        Err(_) => {
            exchange.idle_timed_out.store(true, Ordering::SeqCst);
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no bytes from the provider within the idle timeout",
            ))
        }
    })
}

#[derive(Clone)]
struct ExchangeService {
    http: reqwest::Client,
    exchange: Arc<Exchange>,
    request_timeout: Duration,
    idle_timeout: Duration,
    key: Option<ApiKey>,
}

impl tower_service::Service<HttpRequestFactory> for ExchangeService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let key = this.key.as_ref().map(ApiKey::expose);
            let response = execute(
                &this.http,
                request,
                &this.exchange,
                this.request_timeout,
                this.idle_timeout,
                key,
            )
            .await
            .map_err(|e| OpenAIError::Boxed(Box::new(e)))?;
            Ok(watch_idle(
                response,
                this.idle_timeout,
                this.exchange.clone(),
            ))
        })
    }
}

/// Rebuilds the response around [`idle_bytes`], for async-openai's own body reading.
fn watch_idle(
    response: reqwest::Response,
    idle: Duration,
    exchange: Arc<Exchange>,
) -> reqwest::Response {
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(h) = builder.headers_mut() {
        *h = response.headers().clone();
    }
    match builder.body(reqwest::Body::wrap_stream(idle_bytes(
        response, idle, exchange,
    ))) {
        Ok(r) => reqwest::Response::from(r),
        // Unreachable: status, version and headers came from a valid response.
        Err(_) => {
            reqwest::Response::from(http::Response::new(reqwest::Body::from(Vec::<u8>::new())))
        }
    }
}

/// The endpoint as async-openai's config. Every field is set: the defaults read `OPENAI_*`
/// from the environment.
fn config(endpoint: &Endpoint) -> OpenAIConfig {
    OpenAIConfig::new()
        .with_api_base(endpoint.base_url.trim_end_matches('/'))
        .with_api_key(
            endpoint
                .key
                .as_ref()
                .map(ApiKey::expose)
                .unwrap_or_default(),
        )
        .with_org_id(endpoint.organization.clone().unwrap_or_default())
        .with_project_id(endpoint.project.clone().unwrap_or_default())
}

/// An async-openai client for one exchange. Cheap: the connection pool is shared.
pub fn openai_client(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    exchange: Arc<Exchange>,
    request_timeout: Duration,
    idle_timeout: Duration,
) -> OpenAiClient<OpenAIConfig> {
    OpenAiClient::build(http.clone(), config(endpoint)).with_http_service(ExchangeService {
        http: http.clone(),
        exchange,
        request_timeout,
        idle_timeout,
        key: endpoint.key.clone(),
    })
}

/// The SSE events of a chat-completions stream, parsed by sse-stream inside the caller's
/// future. async-openai's streaming forwards every event from a spawned task through
/// a channel: a cross-thread wake-up per chunk, about a third of the sidecar's CPU on a burst
/// (docs/performance.md). The request is built from the same config, headers included.
pub async fn chat_events(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    body: &impl serde::Serialize,
    exchange: Arc<Exchange>,
    request_timeout: Duration,
    idle_timeout: Duration,
) -> Result<
    sse_stream::SseByteStream<
        impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
    >,
    ProviderError,
> {
    let config = config(endpoint);
    let body = serde_json::to_vec(body).map_err(|e| ProviderError::Unexpected(e.to_string()))?;
    let request = http
        .post(config.url("/chat/completions"))
        .headers(config.headers())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .build()
        .map_err(|e| classify_transport(&e))?;
    let key = endpoint.key.as_ref().map(ApiKey::expose);
    let response = execute(http, request, &exchange, request_timeout, idle_timeout, key).await?;
    Ok(sse_stream::SseByteStream::new(idle_bytes(
        response,
        idle_timeout,
        exchange,
    )))
}

/// Turns whatever async-openai returned into our classification.
pub fn provider_error(
    err: OpenAIError,
    exchange: &Exchange,
    key: Option<&ApiKey>,
) -> ProviderError {
    let key = key.map(ApiKey::expose);
    match err {
        OpenAIError::Boxed(b) => match b.downcast::<ProviderError>() {
            Ok(p) => *p,
            Err(other) => ProviderError::Network(other.to_string()),
        },
        OpenAIError::Reqwest(e) => classify_transport(&e),
        OpenAIError::JSONDeserialize(_, raw) => match classify_stream_event(&raw, key) {
            Some(f) => ProviderError::Api(Box::new(f)),
            None => ProviderError::StreamInterrupted(
                "the provider sent an event that is not valid JSON".into(),
            ),
        },
        OpenAIError::StreamError(e) => {
            if exchange.idle_timed_out() {
                ProviderError::Timeout(TimeoutPhase::Idle)
            } else {
                ProviderError::StreamInterrupted(e.to_string())
            }
        }
        other => ProviderError::StreamInterrupted(other.to_string()),
    }
}
