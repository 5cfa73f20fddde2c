//! Failures of provider calls, in neutral terms: a category, the raw fields the provider sent,
//! and the generic rules every wire shares (HTTP status, the standard retry headers, HTML error
//! pages, transport errors). Each provider's wire refines a failure from its own error bodies
//! (`providers/`); `guidance.rs` turns it into words. No user-facing text here.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::secrets::{mask_identifier, mask_secrets};
use crate::untrusted;

/// What went wrong, whichever provider said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    InvalidKey,
    OrganizationMismatch,
    PermissionDenied,
    RegionUnsupported,
    ModelNotFound,
    RateLimited,
    RequestTooLarge,
    QuotaExceeded,
    Overloaded,
    ServerError,
    ContextLengthExceeded,
    ContentFiltered,
    BadRequest,
    /// A 404 that is not about a model: the base URL points at no such API.
    EndpointNotFound,
    /// A 2xx answer that is not what the wire expects (often a wrong base URL).
    UnexpectedResponse,
    Network,
    Timeout,
    StreamInterrupted,
    /// The organization's usage and costs need an admin key; this one is a project key.
    AdminKeyRequired,
}

impl Category {
    /// Temporary failures worth another attempt (before the first token only; the chat turn
    /// checks that).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Category::RateLimited
                | Category::Overloaded
                | Category::ServerError
                | Category::Timeout
                | Category::Network
        )
    }

    /// The category an HTTP status means when the body says nothing more precise.
    pub fn from_status(status: u16) -> Category {
        match status {
            401 => Category::InvalidKey,
            402 => Category::QuotaExceeded,
            403 => Category::PermissionDenied,
            404 => Category::EndpointNotFound,
            408 => Category::Timeout,
            413 => Category::RequestTooLarge,
            429 => Category::RateLimited,
            503 | 529 => Category::Overloaded,
            400..=499 => Category::BadRequest,
            _ => Category::ServerError,
        }
    }
}

/// A failed exchange with a provider.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an error: an HTTP status, or an error event inside a stream.
    #[error("{category:?} (HTTP {status:?}, code {code:?})", category = .0.category, status = .0.status, code = .0.code)]
    Api(Box<ApiFailure>),
    /// No answer came back: DNS, refused, reset, TLS or proxy. `chain` is the client's error
    /// chain, for the log.
    #[error("network ({cause:?}): {chain}")]
    Network { cause: NetworkCause, chain: String },
    /// No response within `requestTimeoutMs`, or no bytes for `idleTimeoutMs` mid-stream.
    #[error("timeout: {0:?}")]
    Timeout(TimeoutPhase),
    /// The stream ended without a finish, or sent an event we cannot read.
    #[error("stream interrupted: {0}")]
    StreamInterrupted(String),
    /// A 2xx answer that is not what the provider's API sends.
    #[error("unexpected response: {0}")]
    Unexpected(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Waiting for the response headers.
    Response,
    /// Waiting for the next bytes of a stream.
    Idle,
}

/// What a network failure was, in the terms a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkCause {
    Dns,
    Refused,
    Tls,
    Proxy,
    Closed,
    Other,
}

/// What a provider said when it refused, with the raw fields a guidance may quote.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFailure {
    pub category: Category,
    /// None for an error event inside a 200 stream.
    pub status: Option<u16>,
    /// The provider's error code (or type when it has no code).
    pub code: Option<String>,
    /// The provider's message.
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
    /// The request field the provider blamed, e.g. `max_tokens`.
    pub param: Option<String>,
}

impl ApiFailure {
    pub fn new(category: Category, status: Option<u16>) -> ApiFailure {
        ApiFailure {
            category,
            status,
            code: None,
            message: None,
            request_id: None,
            retry_after: None,
            param: None,
        }
    }

    /// Makes every field the provider wrote safe to show and log: anything key-shaped masked,
    /// control characters and bidi overrides gone, lengths bounded. Applied where provider data
    /// enters (`http.rs`, `providers/sse.rs`), so nothing downstream sees it raw.
    ///
    /// The order matters. Cleaning comes before the mask: it drops control and invisible
    /// characters, and a key split by one (`sk-\x7f…`) would otherwise escape the mask as two
    /// short words and be joined again by the cleaning. The cut to length comes after: a key
    /// cut in two by it would leave a piece too short to look like a key.
    pub fn masked(mut self, key: Option<&str>) -> ApiFailure {
        if let Some(m) = self.message.as_mut() {
            *m = bounded(m, 2000, false, mask_secrets, key);
        }
        for field in [&mut self.code, &mut self.request_id, &mut self.param] {
            if let Some(v) = field.as_mut() {
                *v = bounded(v, 200, true, mask_identifier, key);
            }
        }
        self
    }
}

impl ProviderError {
    pub fn category(&self) -> Category {
        match self {
            ProviderError::Api(f) => f.category,
            ProviderError::Network { .. } => Category::Network,
            ProviderError::Timeout(_) => Category::Timeout,
            ProviderError::StreamInterrupted(_) => Category::StreamInterrupted,
            ProviderError::Unexpected(_) => Category::UnexpectedResponse,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.category().is_retryable()
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(|f| f.retry_after)
    }

    pub fn api(&self) -> Option<&ApiFailure> {
        match self {
            ProviderError::Api(f) => Some(f),
            _ => None,
        }
    }

    pub fn api_failure(f: ApiFailure) -> ProviderError {
        ProviderError::Api(Box::new(f))
    }
}

/// A non-2xx answer as it arrived, for a provider to classify.
pub struct RawFailure<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl RawFailure<'_> {
    /// The failure the status, the standard headers and an HTML or text body say, before a
    /// provider reads its own error body: the fallback of every wire.
    pub fn generic(&self) -> ApiFailure {
        let mut f = ApiFailure::new(Category::from_status(self.status), Some(self.status));
        f.message = self.body_summary();
        f.request_id = request_id(self.headers);
        if f.category.is_retryable() {
            f.retry_after = standard_retry_hint(self.headers);
        }
        f
    }

    /// An HTML page's title, or a short text body; None for JSON (the wire reads it).
    pub fn body_summary(&self) -> Option<String> {
        let ct = header(self.headers, "content-type").unwrap_or_default();
        let body = self.body;
        if ct.contains("text/html") || body.trim_ascii_start().starts_with(b"<") {
            return html_title(body).map(|t| format!("HTML error page: {t}"));
        }
        let text = String::from_utf8_lossy(body).trim().to_string();
        (!text.is_empty()).then(|| truncate(&text, 300))
    }
}

fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then(|| truncate(&title, 120))
}

/// At most `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Provider text as it may be shown, logged and stored: cleaned whole, masked, then cut (a key
/// split by an invisible character or across the cut would escape masking otherwise).
fn bounded(
    text: &str,
    max: usize,
    one_line: bool,
    mask: fn(&str, Option<&str>) -> String,
    key: Option<&str>,
) -> String {
    let whole = untrusted::clean(text, usize::MAX, one_line);
    untrusted::clean(&mask(&whole, key), max, one_line)
}

/// An identifier a provider sent with a success (a request id, the model that answered, the
/// answer's id), cleaned and masked like a failure's: it reaches the result, the log and the
/// ledger.
pub fn shown_identifier(text: &str, key: Option<&str>) -> String {
    bounded(text, 200, true, mask_identifier, key)
}

/// A successful response's request id, as [`shown_identifier`] makes it.
pub fn masked_request_id(headers: &HeaderMap, key: Option<&str>) -> Option<String> {
    request_id(headers).map(|id| shown_identifier(&id, key))
}

/// The provider's request id, from whichever header its API uses. Azure sends both
/// `apim-request-id` and `x-request-id`; the first is the one its support asks for, so it goes
/// first (no other provider sends it).
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    [
        "apim-request-id",
        "x-request-id",
        "request-id",
        "x-amzn-requestid",
        "cf-ray",
    ]
    .iter()
    .find_map(|h| header(headers, h).map(str::to_string))
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// `retry-after-ms`, then `retry-after` (seconds or an HTTP date): the hints every API may send.
pub fn standard_retry_hint(headers: &HeaderMap) -> Option<Duration> {
    // `try_from`: a hostile or broken server's 1e300 must not panic.
    if let Some(d) = header(headers, "retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
    {
        return Some(d);
    }
    let v = header(headers, "retry-after")?;
    if let Ok(secs) = v.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(until(when))
}

/// How long from now until `when`; zero when it has passed.
pub fn until(when: SystemTime) -> Duration {
    when.duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

/// Classifies a transport failure that produced no response.
pub fn classify_transport(err: &reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        return ProviderError::Timeout(TimeoutPhase::Response);
    }
    // The chain says what really happened (DNS, refused, TLS); the URL says where.
    let mut causes: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = e.source();
    }
    let chain = causes.join(": ");
    let lower = chain.to_ascii_lowercase();
    let cause = if lower.contains("dns") || lower.contains("failed to lookup") {
        NetworkCause::Dns
    } else if lower.contains("connection refused") {
        NetworkCause::Refused
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        NetworkCause::Tls
    } else if lower.contains("proxy") || lower.contains("tunnel") {
        NetworkCause::Proxy
    } else if lower.contains("reset") || lower.contains("closed") {
        NetworkCause::Closed
    } else {
        NetworkCause::Other
    };
    ProviderError::Network { cause, chain }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    pub fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    #[test]
    fn azures_apim_request_id_wins_and_a_success_s_id_is_masked() {
        let both = h(&[("x-request-id", "x-1"), ("apim-request-id", "apim-1")]);
        assert_eq!(request_id(&both).as_deref(), Some("apim-1"));
        assert_eq!(
            request_id(&h(&[("request-id", "req_a")])).as_deref(),
            Some("req_a")
        );
        let echoed = h(&[("x-request-id", "sk-proj-abcdefghijklmnopqrstuvwxyz123456")]);
        let shown = masked_request_id(&echoed, None).unwrap();
        assert!(!shown.contains("abcdefghijklmnop"), "{shown}");
    }

    #[test]
    fn standard_hints() {
        let f = |hs: &[(&str, &str)]| standard_retry_hint(&h(hs));
        assert_eq!(
            f(&[("retry-after-ms", "1500"), ("retry-after", "9")]),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(f(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = f(&[("retry-after", &future)]).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(f(&[("retry-after", "soon")]), None);
    }

    #[test]
    fn html_bodies_are_summarised_not_dumped() {
        let headers = h(&[("content-type", "text/html"), ("cf-ray", "8abc")]);
        let raw = RawFailure {
            status: 520,
            headers: &headers,
            body: b"<!DOCTYPE html><html><head><title>api.openai.com | 520: Web server is returning an unknown error</title></head><body>...</body></html>",
        };
        let f = raw.generic();
        assert_eq!(f.category, Category::ServerError);
        assert_eq!(f.request_id.as_deref(), Some("8abc"));
        assert!(
            f.message
                .unwrap()
                .starts_with("HTML error page: api.openai.com | 520")
        );
    }

    #[test]
    fn every_field_is_masked() {
        let key = "sk-live-abcdefghijklmnopqrstuvwxyz123456";
        let mut f = ApiFailure::new(Category::InvalidKey, Some(401));
        f.message = Some(format!("Incorrect API key provided: {key}."));
        f.code = Some(format!("bad_{key}"));
        f.request_id = Some(key.to_string());
        let f = f.masked(Some(key));
        for v in [&f.message, &f.code, &f.request_id] {
            let v = v.as_deref().unwrap();
            assert!(!v.contains("abcdefghijklmnop"), "{v}");
        }
    }

    /// The field a property writes the provider's text into: message, code, request id, param.
    fn field_of(f: &mut ApiFailure, field: usize) -> &mut Option<String> {
        match field {
            0 => &mut f.message,
            1 => &mut f.code,
            2 => &mut f.request_id,
            _ => &mut f.param,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever a provider writes around the key, in whichever field, no field shows it.
        #[test]
        fn no_field_ever_shows_the_key(
            key in "[!-~]{1,80}",
            before in "\\PC{0,40}",
            after in "\\PC{0,40}",
            field in 0usize..4,
        ) {
            let text = format!("{before}{key}{after}");
            let mut f = ApiFailure::new(Category::InvalidKey, Some(401));
            let slot = field_of(&mut f, field);
            *slot = Some(text);
            let f = f.masked(Some(&key));
            for v in [&f.message, &f.code, &f.request_id, &f.param].into_iter().flatten() {
                proptest::prop_assert!(!v.contains(&key), "{:?} shows {:?}", v, key);
                proptest::prop_assert!(!v.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
            }
        }

        /// A control character or bidi mark inside the key is dropped by the cleaning, which
        /// rejoins the key: the mask must still find it (found by the `org_pages` fuzz target).
        #[test]
        fn a_key_split_by_an_invisible_character_stays_masked(
            key in "sk-[A-Za-z0-9]{12,40}",
            cut in 1usize..12,
            mark in proptest::sample::select(vec![
                '\u{7f}', '\u{0}', '\u{202e}', '\u{200f}', '\u{200b}', '\u{feff}', '\u{ad}',
                '\u{2060}', '\u{e0041}', '\u{fe0f}', '\u{34f}',
            ]),
            pad in 0usize..2100,
            field in 0usize..4,
        ) {
            // Padding puts the key across the cut to length (2000 and 200 characters) too.
            let text = format!("{}Key {}{mark}{} is wrong", " ".repeat(pad), &key[..cut], &key[cut..]);
            let mut f = ApiFailure::new(Category::InvalidKey, Some(401));
            let slot = field_of(&mut f, field);
            *slot = Some(text);
            let f = f.masked(Some(&key));
            // Not the key, and not the part of it after its prefix cut anywhere past 8 of its
            // characters: a piece that long was not shown as a hint.
            let secret = &key[3..];
            for v in [&f.message, &f.code, &f.request_id, &f.param].into_iter().flatten() {
                proptest::prop_assert!(!v.contains(&key), "{:?} shows {:?}", v, key);
                proptest::prop_assert!(!v.contains(&secret[..8]), "{:?} shows part of {:?}", v, key);
            }
        }

        /// A key of any shape across the cut to length leaves no piece of itself.
        #[test]
        fn a_key_across_the_length_cut_leaves_nothing(
            key in "[0-9a-f]{32,64}",
            pad in 1900usize..2000,
            field in 0usize..4,
        ) {
            let pad = if field == 0 { pad } else { pad - 1800 };
            let mut f = ApiFailure::new(Category::InvalidKey, Some(401));
            let slot = field_of(&mut f, field);
            *slot = Some(format!("{}{key}", ".".repeat(pad)));
            let f = f.masked(Some(&key));
            for v in [&f.message, &f.code, &f.request_id, &f.param].into_iter().flatten() {
                proptest::prop_assert!(!v.contains(&key[..12]), "{:?} shows part of {:?}", v, key);
            }
        }

        /// Key-shaped tokens of other keys (not the one we hold) are masked too.
        #[test]
        fn unknown_key_shaped_tokens_are_masked(tail in "[A-Za-z0-9_-]{20,60}", prefix in proptest::sample::select(vec!["sk-", "sk-ant-api03-", "sk-or-v1-", "AIza"])) {
            let token = format!("{prefix}{tail}");
            let mut f = ApiFailure::new(Category::InvalidKey, Some(401));
            f.message = Some(format!("Incorrect API key provided: {token}."));
            f.request_id = Some(token.clone());
            let f = f.masked(None);
            proptest::prop_assert!(!f.message.unwrap().contains(&token));
            proptest::prop_assert!(!f.request_id.unwrap().contains(&token));
        }
    }
}
