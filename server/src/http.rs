//! The one HTTP path to providers: a shared reqwest client, and the tower service we install
//! in async-openai in place of its own (which would retry behind our back). It times the
//! response, classifies every non-2xx answer from its full status, headers and body, keeps
//! the request id, and watches a stream's bytes for the idle timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::Client as OpenAiClient;
use async_openai::config::OpenAIConfig;
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

#[derive(Clone)]
struct ExchangeService {
    http: reqwest::Client,
    exchange: Arc<Exchange>,
    request_timeout: Duration,
    idle_timeout: Duration,
    key: Option<ApiKey>,
}

fn boxed(e: ProviderError) -> OpenAIError {
    OpenAIError::Boxed(Box::new(e))
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
            let mut request = factory.build().await?;
            // async-openai always sends a bearer header; a key-less local server gets none.
            if request
                .headers()
                .get(AUTHORIZATION)
                .is_some_and(|v| v.as_bytes() == b"Bearer ")
            {
                request.headers_mut().remove(AUTHORIZATION);
            }
            let response = match tokio::time::timeout(
                this.request_timeout,
                this.http.execute(request),
            )
            .await
            {
                Err(_) => return Err(boxed(ProviderError::Timeout(TimeoutPhase::Response))),
                Ok(Err(e)) => return Err(boxed(classify_transport(&e))),
                Ok(Ok(r)) => r,
            };
            this.exchange.set_request_id(request_id(response.headers()));
            let status = response.status();
            if !status.is_success() {
                let headers = response.headers().clone();
                let body = match tokio::time::timeout(this.idle_timeout, response.bytes()).await {
                    Ok(Ok(b)) => b,
                    // The status alone still classifies; the body was only detail.
                    _ => Default::default(),
                };
                let key = this.key.as_ref().map(ApiKey::expose);
                return Err(boxed(ProviderError::Api(Box::new(classify_http(
                    status.as_u16(),
                    &headers,
                    &body,
                    key,
                )))));
            }
            Ok(watch_idle(
                response,
                this.idle_timeout,
                this.exchange.clone(),
            ))
        })
    }
}

/// Rebuilds the response around a body that fails once no bytes came for `idle`: SSE
/// comments count as bytes, so a provider's keep-alives keep a slow answer alive.
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
    let body =
        tokio_stream::StreamExt::timeout(response.bytes_stream(), idle).map(
            move |item| match item {
                Ok(Ok(bytes)) => Ok(bytes),
                Ok(Err(e)) => Err(std::io::Error::other(e)),
                Err(_) => {
                    exchange.idle_timed_out.store(true, Ordering::SeqCst);
                    Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "no bytes from the provider within the idle timeout",
                    ))
                }
            },
        );
    match builder.body(reqwest::Body::wrap_stream(body)) {
        Ok(r) => reqwest::Response::from(r),
        // Unreachable: status, version and headers came from a valid response.
        Err(_) => response_unreachable(),
    }
}

#[cold]
fn response_unreachable() -> reqwest::Response {
    reqwest::Response::from(http::Response::new(reqwest::Body::from(Vec::<u8>::new())))
}

/// An async-openai client for one exchange. Cheap: the connection pool is shared.
pub fn openai_client(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    exchange: Arc<Exchange>,
    request_timeout: Duration,
    idle_timeout: Duration,
) -> OpenAiClient<OpenAIConfig> {
    // Every field set explicitly: the defaults read OPENAI_* from the environment.
    let config = OpenAIConfig::new()
        .with_api_base(endpoint.base_url.trim_end_matches('/'))
        .with_api_key(
            endpoint
                .key
                .as_ref()
                .map(ApiKey::expose)
                .unwrap_or_default(),
        )
        .with_org_id(endpoint.organization.clone().unwrap_or_default())
        .with_project_id(endpoint.project.clone().unwrap_or_default());
    OpenAiClient::build(http.clone(), config).with_http_service(ExchangeService {
        http: http.clone(),
        exchange,
        request_timeout,
        idle_timeout,
        key: endpoint.key.clone(),
    })
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
