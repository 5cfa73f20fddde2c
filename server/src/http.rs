//! The one HTTP path to providers: a shared reqwest client (built on first use, one connection
//! pool), and `send`, through which every provider call goes: timed, bounded by the request
//! timeout, its request id kept, and any answer that is not a success classified by the
//! provider's own rules and masked before anything else sees it. Knows no provider.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::failure::{ApiFailure, ProviderError, RawFailure, TimeoutPhase, classify_transport};
use crate::secrets::ApiKey;

/// Makes ring the process's TLS cryptography, before any HTTP client is built: reqwest (built
/// without a provider of its own) and the OTLP exporter's client both take the process
/// default. Idempotent.
pub fn install_tls_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is installed already; whichever it is, TLS works.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The shared client: one connection pool for every request. Proxies come from
/// `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`, which reqwest reads by default.
fn shared_client() -> Result<reqwest::Client, reqwest::Error> {
    install_tls_crypto();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!("sidekick-server/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The shared client, built on first use: loading the OS trust store costs a few milliseconds
/// that the sidecar's start-up should not pay, and a machine without CA files must still start.
#[derive(Clone, Default)]
pub struct Http(Arc<tokio::sync::OnceCell<reqwest::Client>>);

/// What a provider call is, for the log (and the ledger that will record every call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Validate,
    Models,
    Chat,
    /// An organization usage, costs or limit read.
    Usage,
}

/// What a provider's response said before its body, for the call's row in the request log.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub status: u16,
    /// Cleaned and masked.
    pub request_id: Option<String>,
    /// From sending the request to its response headers.
    pub headers_ms: u64,
}

/// Where [`Http::send`] leaves the last response's [`Seen`]; one per provider call.
#[derive(Debug, Default)]
pub struct SeenSlot(std::sync::Mutex<Option<Seen>>);

impl SeenSlot {
    fn put(&self, seen: Seen) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(seen);
        }
    }

    /// The last response's, once.
    pub fn take(&self) -> Option<Seen> {
        self.0.lock().ok().and_then(|mut g| g.take())
    }

    /// The last response's, left in place (for its row, taken when the call ends).
    pub fn peek(&self) -> Option<Seen> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
}

/// How long a call may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Until the response headers.
    pub request: Duration,
    /// Between two reads of the body.
    pub idle: Duration,
}

/// Turns a provider's refusal into a failure; each provider passes its own rules.
pub type Classify<'a> = &'a (dyn Fn(&RawFailure<'_>) -> ApiFailure + Sync);

/// Largest non-streamed body read (a model list): OpenRouter's list is about 1 MB.
const MAX_BODY: usize = 32 * 1024 * 1024;

impl Http {
    pub async fn client(&self) -> Result<reqwest::Client, ProviderError> {
        self.0
            .get_or_try_init(|| async {
                let failed = |e: String| ProviderError::Network {
                    cause: crate::failure::NetworkCause::Tls,
                    chain: format!("setting up HTTPS failed: {e}"),
                };
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
            if let Err(e) = this.client().await {
                tracing::warn!("{e}");
            }
        });
    }

    /// Sends one request. A success comes back with its body unread; anything else is
    /// classified from its full status, headers and body by `classify`, with every field
    /// masked against `key`. Whatever the status, what the headers said goes to `seen`.
    pub async fn send(
        &self,
        operation: Operation,
        request: reqwest::Request,
        timeouts: Timeouts,
        key: Option<&ApiKey>,
        classify: Classify<'_>,
        seen: &SeenSlot,
    ) -> Result<reqwest::Response, ProviderError> {
        let client = self.client().await?;
        let started = Instant::now();
        let (method, url) = (request.method().clone(), request.url().clone());
        let sent = tokio::time::timeout(timeouts.request, client.execute(request)).await;
        let response = match sent {
            Err(_) => Err(ProviderError::Timeout(TimeoutPhase::Response)),
            Ok(Err(e)) => Err(classify_transport(&e)),
            Ok(Ok(r)) => Ok(r),
        };
        let status = response.as_ref().map(|r| r.status().as_u16()).ok();
        tracing::debug!(?operation, %method, path = url.path(), ?status, ms = started.elapsed().as_millis() as u64, "provider call");
        let response = response?;
        seen.put(Seen {
            status: response.status().as_u16(),
            request_id: crate::failure::masked_request_id(
                response.headers(),
                key.map(ApiKey::expose),
            ),
            headers_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        if response.status().is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let status = response.status().as_u16();
        // The status alone still classifies; the body is only detail, and a slow or endless
        // one must not hold the answer back.
        let body = tokio::time::timeout(timeouts.idle, read_capped(response, 1 << 20))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let raw = RawFailure {
            status,
            headers: &headers,
            body: &body,
        };
        let mut failure = classify(&raw);
        if failure.request_id.is_none() {
            failure.request_id = crate::failure::request_id(&headers);
        }
        Err(ProviderError::api_failure(
            failure.masked(key.map(ApiKey::expose)),
        ))
    }

    /// Sends a request whose success is a JSON document (a model list) and returns its bytes.
    pub async fn send_for_body(
        &self,
        operation: Operation,
        request: reqwest::Request,
        timeouts: Timeouts,
        key: Option<&ApiKey>,
        classify: Classify<'_>,
        seen: &SeenSlot,
    ) -> Result<Bytes, ProviderError> {
        let response = self
            .send(operation, request, timeouts, key, classify, seen)
            .await?;
        match tokio::time::timeout(timeouts.idle, read_capped(response, MAX_BODY)).await {
            Err(_) => Err(ProviderError::Timeout(TimeoutPhase::Idle)),
            Ok(Err(e)) => Err(e),
            Ok(Ok(b)) => Ok(b),
        }
    }
}

/// The body, refusing more than `limit` bytes instead of holding them.
async fn read_capped(response: reqwest::Response, limit: usize) -> Result<Bytes, ProviderError> {
    let mut out = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ProviderError::StreamInterrupted(e.to_string()))?;
        if out.len() + chunk.len() > limit {
            return Err(ProviderError::Unexpected(format!(
                "the answer is larger than {limit} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.into())
}

/// The body's bytes, failing with `TimedOut` once none came for `idle`: SSE comments count as
/// bytes, so a provider's keep-alives keep a slow answer alive.
pub fn idle_bytes(
    response: reqwest::Response,
    idle: Duration,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    tokio_stream::StreamExt::timeout(response.bytes_stream(), idle).map(|item| match item {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(std::io::Error::other(e)),
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no bytes from the provider within the idle timeout",
        )),
    })
}
