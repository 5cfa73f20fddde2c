//! Classifies every way a provider call can fail, once, from status, provider `code` and
//! `type`, message and headers. Writes no user-facing text: that is `guidance`'s job.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::protocol::GuidanceKind;
use crate::secret::mask_secrets;

/// A failed exchange with a provider, classified.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an error: an HTTP status, or an error event inside a stream.
    #[error("{kind} (HTTP {status:?}, code {code:?})", kind = .0.kind, status = .0.status, code = .0.code)]
    Api(Box<ApiFailure>),
    /// No answer came back: DNS, refused, reset, TLS or proxy.
    #[error("network: {0}")]
    Network(String),
    /// No response within `requestTimeoutMs`, or no bytes for `idleTimeoutMs` mid-stream.
    #[error("timeout: {0:?}")]
    Timeout(TimeoutPhase),
    /// The stream ended without a finish reason, or sent an event we cannot read.
    #[error("stream interrupted: {0}")]
    StreamInterrupted(String),
    /// A 2xx answer that is not what an OpenAI-compatible API sends (often a wrong base URL).
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

/// What a provider said when it refused, with the fields a guidance needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFailure {
    pub kind: GuidanceKind,
    /// None for an error event inside a 200 stream.
    pub status: Option<u16>,
    /// `error.code`, or `error.type` when there is no code.
    pub code: Option<String>,
    /// The provider's message, keys masked.
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
    /// `error.param`, e.g. `max_tokens` for an unsupported parameter.
    pub param: Option<String>,
}

impl ProviderError {
    pub fn kind(&self) -> GuidanceKind {
        match self {
            ProviderError::Api(f) => f.kind,
            ProviderError::Network(_) => GuidanceKind::Network,
            ProviderError::Timeout(_) => GuidanceKind::Timeout,
            ProviderError::StreamInterrupted(_) => GuidanceKind::StreamInterrupted,
            ProviderError::Unexpected(_) => GuidanceKind::BadRequest,
        }
    }

    /// Temporary failures worth another attempt (before the first token only; the caller
    /// checks that).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            GuidanceKind::RateLimited
                | GuidanceKind::Overloaded
                | GuidanceKind::ServerError
                | GuidanceKind::Timeout
                | GuidanceKind::Network
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Api(f) => f.retry_after,
            _ => None,
        }
    }

    pub fn api(&self) -> Option<&ApiFailure> {
        match self {
            ProviderError::Api(f) => Some(f),
            _ => None,
        }
    }
}

/// The error object providers put in bodies and stream events, read leniently: `code` may be
/// a string or a number (OpenRouter), `error` may be a bare string.
#[derive(Debug, Default)]
struct ErrorBody {
    message: Option<String>,
    r#type: Option<String>,
    code: Option<String>,
    numeric_code: Option<u16>,
    param: Option<String>,
}

fn parse_error_body(body: &[u8]) -> Option<ErrorBody> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let err = v.get("error").unwrap_or(&v);
    if let Some(s) = err.as_str() {
        return Some(ErrorBody {
            message: Some(s.to_string()),
            ..Default::default()
        });
    }
    let obj = err.as_object()?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let (code, numeric_code) = match obj.get("code") {
        Some(Value::String(s)) => (Some(s.clone()), s.parse().ok()),
        Some(Value::Number(n)) => (None, n.as_u64().and_then(|n| u16::try_from(n).ok())),
        _ => (None, None),
    };
    let body = ErrorBody {
        message: text("message").or_else(|| text("detail")),
        r#type: text("type"),
        code,
        numeric_code,
        param: text("param"),
    };
    (body.message.is_some()
        || body.r#type.is_some()
        || body.code.is_some()
        || body.numeric_code.is_some())
    .then_some(body)
}

/// Classifies an HTTP error response.
pub fn classify_http(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    known_key: Option<&str>,
) -> ApiFailure {
    let parsed = parse_error_body(body);
    let html = looks_like_html(headers, body);
    let message = match &parsed {
        Some(p) => p.message.clone(),
        None if html => html_title(body).map(|t| format!("HTML error page: {t}")),
        None => {
            let text = String::from_utf8_lossy(body).trim().to_string();
            (!text.is_empty()).then(|| truncate(&text, 300))
        }
    };
    let parsed = parsed.unwrap_or_default();
    let kind = kind_for(status, &parsed, message.as_deref());
    let retry_after = match kind {
        GuidanceKind::RateLimited | GuidanceKind::Overloaded | GuidanceKind::ServerError => {
            retry_hint(headers, message.as_deref(), parsed.r#type.as_deref())
        }
        _ => None,
    };
    ApiFailure {
        kind,
        status: Some(status),
        code: parsed.code.clone().or(parsed.r#type.clone()),
        message: message.map(|m| mask_secrets(&m, known_key)),
        request_id: request_id(headers),
        retry_after,
        param: parsed.param,
    }
}

/// Classifies a `data: {"error": …}` event inside a 200 stream. None when the event is not an
/// error object at all.
pub fn classify_stream_event(raw: &str, known_key: Option<&str>) -> Option<ApiFailure> {
    let v: Value = serde_json::from_str(raw).ok()?;
    v.get("error")?;
    let parsed = parse_error_body(raw.as_bytes())?;
    // In-stream errors carry no HTTP status; a numeric code is the closest thing (OpenRouter).
    let kind = match parsed.numeric_code {
        Some(code) => kind_for(code, &parsed, parsed.message.as_deref()),
        None => match kind_for(500, &parsed, parsed.message.as_deref()) {
            GuidanceKind::BadRequest => GuidanceKind::ServerError,
            k => k,
        },
    };
    Some(ApiFailure {
        kind,
        status: None,
        code: parsed
            .code
            .clone()
            .or(parsed.r#type.clone())
            .or(parsed.numeric_code.map(|c| c.to_string())),
        message: parsed.message.map(|m| mask_secrets(&m, known_key)),
        request_id: None,
        retry_after: None,
        param: parsed.param,
    })
}

fn kind_for(status: u16, p: &ErrorBody, message: Option<&str>) -> GuidanceKind {
    let code = p.code.as_deref().unwrap_or_default();
    let ty = p.r#type.as_deref().unwrap_or_default();
    let msg = message.unwrap_or_default().to_ascii_lowercase();
    // Out of credits looks like a rate limit (429) but waiting never helps: check it first,
    // by code or by type, whatever the status.
    if code == "insufficient_quota"
        || ty == "insufficient_quota"
        || code == "billing_hard_limit_reached"
        || msg.contains("exceeded your current quota")
    {
        return GuidanceKind::QuotaExceeded;
    }
    if code == "context_length_exceeded"
        || msg.contains("maximum context length")
        || msg.contains("context length exceeded")
        || msg.contains("context window")
    {
        return GuidanceKind::ContextLengthExceeded;
    }
    match status {
        401 => {
            // OpenAI answers a restricted key's missing scope with 401 too; its message
            // mentions "organization" roles, so scopes are checked before organizations.
            if msg.contains("missing scopes") || msg.contains("insufficient permissions") {
                GuidanceKind::PermissionDenied
            } else if code == "mismatched_organization"
                || code == "no_organization"
                || msg.contains("openai-organization")
                || msg.contains("member of an organization")
            {
                GuidanceKind::OrganizationMismatch
            } else {
                GuidanceKind::InvalidKey
            }
        }
        403 => {
            if code == "unsupported_country_region_territory"
                || msg.contains("country, region, or territory")
            {
                GuidanceKind::RegionUnsupported
            } else {
                GuidanceKind::PermissionDenied
            }
        }
        404 => {
            if code == "model_not_found" || msg.contains("model") {
                GuidanceKind::ModelNotFound
            } else {
                GuidanceKind::BadRequest
            }
        }
        408 => GuidanceKind::Timeout,
        429 => {
            if msg.contains("request too large") {
                GuidanceKind::RequestTooLarge
            } else if msg.contains("overloaded") {
                GuidanceKind::Overloaded
            } else {
                GuidanceKind::RateLimited
            }
        }
        503 | 529 => GuidanceKind::Overloaded,
        500..=599 => {
            if msg.contains("overloaded") {
                GuidanceKind::Overloaded
            } else {
                GuidanceKind::ServerError
            }
        }
        400..=499 => GuidanceKind::BadRequest,
        _ => GuidanceKind::ServerError,
    }
}

fn looks_like_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let ct = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ct.contains("text/html") || body.trim_ascii_start().starts_with(b"<")
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

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

pub fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok().map(str::to_string))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// How long the provider asks us to wait, from the first hint that says: `retry-after-ms`,
/// `retry-after` (seconds or an HTTP date), OpenAI's `x-ratelimit-reset-*`, or the message.
pub fn retry_hint(
    headers: &HeaderMap,
    message: Option<&str>,
    ty: Option<&str>,
) -> Option<Duration> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    if let Some(v) = header(headers, "retry-after") {
        if let Ok(secs) = v.parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            return Some(Duration::from_secs_f64(secs));
        }
        if let Ok(when) = httpdate::parse_http_date(v) {
            return Some(
                when.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            );
        }
    }
    let reset = |which: &str| {
        header(headers, &format!("x-ratelimit-reset-{which}")).and_then(parse_go_duration)
    };
    let exhausted =
        |which: &str| header(headers, &format!("x-ratelimit-remaining-{which}")) == Some("0");
    // The limit that ran out is the one whose reset matters; the error's type says which
    // when the remaining counts do not.
    let from_headers = if exhausted("requests") || ty == Some("requests") {
        reset("requests").or_else(|| reset("tokens"))
    } else if exhausted("tokens") || ty == Some("tokens") {
        reset("tokens").or_else(|| reset("requests"))
    } else {
        match (reset("requests"), reset("tokens")) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    };
    from_headers.or_else(|| message.and_then(hint_in_message))
}

/// "… Please try again in 20s." / "in 3.89s" / "in 6ms" / "in 1m30s".
fn hint_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("try again in ")? + "try again in ".len();
    let rest = &lower[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .unwrap_or(rest.len());
    parse_go_duration(rest[..end].trim_end_matches('.'))
}

/// Go's duration syntax, as OpenAI's reset headers use it: `1s`, `6m0s`, `150ms`, `1h2m3.5s`.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    (total.is_finite() && total >= 0.0).then(|| Duration::from_secs_f64(total))
}

/// Classifies a transport failure that produced no response.
pub fn classify_transport(err: &reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        return ProviderError::Timeout(TimeoutPhase::Response);
    }
    // The chain says what really happened (DNS, refused, TLS); the URL says where.
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !causes.iter().any(|c: &String| c.contains(&text)) {
            causes.push(text);
        }
        source = e.source();
    }
    let chain = causes.join(": ");
    let lower = chain.to_ascii_lowercase();
    let what = if lower.contains("dns") || lower.contains("failed to lookup") {
        "the host name could not be resolved"
    } else if lower.contains("connection refused") {
        "the connection was refused"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        "the secure connection failed (TLS)"
    } else if lower.contains("proxy") || lower.contains("tunnel") {
        "the proxy refused or failed the connection"
    } else if lower.contains("reset") || lower.contains("closed") {
        "the connection was closed"
    } else {
        "the request could not be sent"
    };
    ProviderError::Network(format!("{what} ({chain})"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    fn body(code: Option<&str>, ty: &str, msg: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"error": {"message": msg, "type": ty, "param": null, "code": code}}))
            .unwrap()
    }

    #[test]
    fn quota_by_code_or_by_type_is_never_a_rate_limit() {
        let msg = "You exceeded your current quota, please check your plan and billing details.";
        for b in [
            body(Some("insufficient_quota"), "insufficient_quota", msg),
            body(None, "insufficient_quota", msg),
            body(
                Some("billing_hard_limit_reached"),
                "invalid_request_error",
                "Billing hard limit has been reached",
            ),
        ] {
            let f = classify_http(429, &h(&[("retry-after", "20")]), &b, None);
            assert_eq!(f.kind, GuidanceKind::QuotaExceeded);
            assert_eq!(f.retry_after, None, "a quota error has nothing to wait for");
        }
    }

    #[test]
    fn rate_limit_hints_in_priority_order() {
        let b = body(
            Some("rate_limit_exceeded"),
            "requests",
            "Rate limit reached for gpt-4o on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
        );
        let f = |hs: &[(&str, &str)]| classify_http(429, &h(hs), &b, None).retry_after;
        assert_eq!(
            f(&[("retry-after-ms", "1500")]),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(f(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        assert_eq!(
            f(&[
                ("x-ratelimit-reset-requests", "6m0s"),
                ("x-ratelimit-remaining-requests", "0")
            ]),
            Some(Duration::from_secs(360))
        );
        assert_eq!(f(&[]), Some(Duration::from_secs(20)), "the message's hint");
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = f(&[("retry-after", &future)]).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn message_hints_in_every_unit() {
        for (m, want) in [
            (
                "Please try again in 3.89s. Visit",
                Duration::from_millis(3890),
            ),
            ("Please try again in 6ms.", Duration::from_millis(6)),
            ("Please try again in 1m30s.", Duration::from_secs(90)),
        ] {
            assert_eq!(hint_in_message(m), Some(want), "{m}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("150ms"), Some(Duration::from_millis(150)));
        assert_eq!(
            parse_go_duration("1h2m3.5s"),
            Some(Duration::from_millis(3_723_500))
        );
        assert_eq!(parse_go_duration("soon"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn statuses_map_to_kinds() {
        let cases: [(u16, Vec<u8>, GuidanceKind); 13] = [
            (401, body(Some("invalid_api_key"), "invalid_request_error", "Incorrect API key provided: sk-abc***WXYZ."), GuidanceKind::InvalidKey),
            (401, body(Some("mismatched_organization"), "invalid_request_error", "OpenAI-Organization header should match organization for API key"), GuidanceKind::OrganizationMismatch),
            (403, body(Some("unsupported_country_region_territory"), "request_forbidden", "Country, region, or territory not supported"), GuidanceKind::RegionUnsupported),
            (403, body(None, "invalid_request_error", "You have insufficient permissions for this operation. Missing scopes: model.request."), GuidanceKind::PermissionDenied),
            (404, body(Some("model_not_found"), "invalid_request_error", "The model `gpt-9` does not exist or you do not have access to it."), GuidanceKind::ModelNotFound),
            (429, body(Some("rate_limit_exceeded"), "tokens", "Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 45000."), GuidanceKind::RequestTooLarge),
            (429, body(None, "server_error", "That model is currently overloaded with other requests."), GuidanceKind::Overloaded),
            (429, Vec::new(), GuidanceKind::RateLimited),
            (503, Vec::new(), GuidanceKind::Overloaded),
            (529, b"{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}".to_vec(), GuidanceKind::Overloaded),
            (502, b"<html><head><title>502 Bad Gateway</title></head></html>".to_vec(), GuidanceKind::ServerError),
            (400, body(Some("context_length_exceeded"), "invalid_request_error", "This model's maximum context length is 128000 tokens."), GuidanceKind::ContextLengthExceeded),
            (400, body(Some("unsupported_parameter"), "invalid_request_error", "Unsupported parameter: 'max_tokens'"), GuidanceKind::BadRequest),
        ];
        for (status, b, want) in cases {
            assert_eq!(
                classify_http(status, &HeaderMap::new(), &b, None).kind,
                want,
                "{status} {}",
                String::from_utf8_lossy(&b)
            );
        }
    }

    #[test]
    fn html_bodies_are_summarised_not_dumped() {
        let f = classify_http(
            520,
            &h(&[("content-type", "text/html"), ("cf-ray", "8abc")]),
            b"<!DOCTYPE html><html><head><title>api.openai.com | 520: Web server is returning an unknown error</title></head><body>...</body></html>",
            None,
        );
        assert_eq!(f.kind, GuidanceKind::ServerError);
        assert_eq!(f.request_id.as_deref(), Some("8abc"));
        assert!(
            f.message
                .unwrap()
                .starts_with("HTML error page: api.openai.com | 520")
        );
    }

    #[test]
    fn stream_error_events() {
        let f = classify_stream_event(
            r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
            None,
        )
        .unwrap();
        assert_eq!(f.kind, GuidanceKind::ServerError);
        let f = classify_stream_event(
            r#"{"error":{"message":"Provider returned error","code":429}}"#,
            None,
        )
        .unwrap();
        assert_eq!(f.kind, GuidanceKind::RateLimited);
        assert!(classify_stream_event(r#"{"choices":[]}"#, None).is_none());
    }

    #[test]
    fn provider_messages_never_carry_the_key() {
        let key = "sk-live-abcdefghijklmnopqrstuvwxyz123456";
        let b = body(
            Some("invalid_api_key"),
            "invalid_request_error",
            &format!("Incorrect API key provided: {key}."),
        );
        let f = classify_http(401, &HeaderMap::new(), &b, Some(key));
        let m = f.message.unwrap();
        assert!(!m.contains("abcdefghijklmnop"), "{m}");
        assert!(m.contains("sk-…3456"), "{m}");
    }
}
