//! OpenAI's error bodies and rate-limit headers: `{"error": {message, type, param, code}}`,
//! read leniently (`code` may be a number, `error` a bare string), the codes and wordings
//! OpenAI and compatible servers use, and the `x-ratelimit-reset-*` headers.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::failure::{ApiFailure, Category, RawFailure, header, standard_retry_hint, truncate};

/// The error object, read leniently.
#[derive(Debug, Default)]
pub struct ErrorBody {
    pub message: Option<String>,
    pub r#type: Option<String>,
    pub code: Option<String>,
    pub numeric_code: Option<u16>,
    pub param: Option<String>,
}

/// Reads `{"error": …}` (or a bare error object); None when there is no error object.
pub fn error_body(v: &Value) -> Option<ErrorBody> {
    let err = v.get("error").unwrap_or(v);
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

/// Classifies an HTTP refusal from an OpenAI-format server.
pub fn classify(raw: &RawFailure<'_>) -> ApiFailure {
    let mut f = raw.generic();
    let parsed = serde_json::from_slice::<Value>(raw.body)
        .ok()
        .and_then(|v| error_body(&v));
    let Some(parsed) = parsed else {
        f.category = category(raw.status, &ErrorBody::default(), f.message.as_deref());
        f.retry_after = hint(f.category, raw.headers, f.message.as_deref(), None);
        return f;
    };
    f.category = category(raw.status, &parsed, parsed.message.as_deref());
    f.retry_after = hint(
        f.category,
        raw.headers,
        parsed.message.as_deref(),
        parsed.r#type.as_deref(),
    );
    fill(&mut f, parsed);
    f
}

fn fill(f: &mut ApiFailure, parsed: ErrorBody) {
    f.code = parsed
        .code
        .or(parsed.r#type)
        .or(parsed.numeric_code.map(|c| c.to_string()));
    f.message = parsed.message.map(|m| truncate(&m, 2000));
    f.param = parsed.param;
}

/// Classifies an error object that came without an HTTP status of its own: in a 200 stream,
/// or in a 200 body. A numeric `code` (OpenRouter) stands in for the status.
pub fn classify_value(v: &Value, status: Option<u16>) -> ApiFailure {
    let parsed = error_body(v).unwrap_or_default();
    let category = match parsed.numeric_code {
        Some(code) => category(code, &parsed, parsed.message.as_deref()),
        None => match category(500, &parsed, parsed.message.as_deref()) {
            Category::BadRequest => Category::ServerError,
            c => c,
        },
    };
    let mut f = ApiFailure::new(category, status.filter(|s| *s != 200));
    fill(&mut f, parsed);
    f
}

/// An in-stream `{"error": …}` event.
pub fn classify_event(v: &Value) -> ApiFailure {
    classify_value(v, None)
}

/// The category from status, provider code and type, and message.
pub fn category(status: u16, p: &ErrorBody, message: Option<&str>) -> Category {
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
        return Category::QuotaExceeded;
    }
    if code == "context_length_exceeded"
        || msg.contains("maximum context length")
        || msg.contains("context length exceeded")
        || msg.contains("context window")
    {
        return Category::ContextLengthExceeded;
    }
    match status {
        401 => {
            // A restricted key's missing scope is a 401 too; its message mentions
            // "organization" roles, so scopes are checked before organizations.
            if msg.contains("missing scopes") || msg.contains("insufficient permissions") {
                Category::PermissionDenied
            } else if code == "mismatched_organization"
                || code == "no_organization"
                || msg.contains("openai-organization")
                || msg.contains("member of an organization")
            {
                Category::OrganizationMismatch
            } else {
                Category::InvalidKey
            }
        }
        403 if code == "unsupported_country_region_territory"
            || msg.contains("country, region, or territory") =>
        {
            Category::RegionUnsupported
        }
        404 if code == "model_not_found" || msg.contains("model") => Category::ModelNotFound,
        429 if msg.contains("request too large") => Category::RequestTooLarge,
        429 if msg.contains("overloaded") => Category::Overloaded,
        500..=599 if msg.contains("overloaded") => Category::Overloaded,
        other => Category::from_status(other),
    }
}

/// How long to wait: the standard headers, OpenAI's `x-ratelimit-reset-*`, or the message.
fn hint(
    category: Category,
    headers: &HeaderMap,
    message: Option<&str>,
    ty: Option<&str>,
) -> Option<Duration> {
    if !category.is_retryable() {
        return None;
    }
    standard_retry_hint(headers)
        .or_else(|| ratelimit_reset(headers, ty))
        .or_else(|| message.and_then(hint_in_message))
}

/// The reset of the limit that ran out (`x-ratelimit-remaining-*: 0`, or the error's type).
fn ratelimit_reset(headers: &HeaderMap, ty: Option<&str>) -> Option<Duration> {
    let reset = |which: &str| {
        header(headers, &format!("x-ratelimit-reset-{which}")).and_then(parse_go_duration)
    };
    let exhausted =
        |which: &str| header(headers, &format!("x-ratelimit-remaining-{which}")) == Some("0");
    if exhausted("requests") || ty == Some("requests") {
        reset("requests").or_else(|| reset("tokens"))
    } else if exhausted("tokens") || ty == Some("tokens") {
        reset("tokens").or_else(|| reset("requests"))
    } else {
        match (reset("requests"), reset("tokens")) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// "… Please try again in 20s." / "in 3.89s" / "in 6ms" / "in 1m30s".
pub fn hint_in_message(message: &str) -> Option<Duration> {
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
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};
    use std::time::SystemTime;

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

    fn classify_http(status: u16, headers: &HeaderMap, body: &[u8]) -> ApiFailure {
        classify(&RawFailure {
            status,
            headers,
            body,
        })
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
            let f = classify_http(429, &h(&[("retry-after", "20")]), &b);
            assert_eq!(f.category, Category::QuotaExceeded);
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
        let f = |hs: &[(&str, &str)]| classify_http(429, &h(hs), &b).retry_after;
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
        assert_eq!(
            f(&[("retry-after", "1e300")]),
            Some(Duration::from_secs(20)),
            "an absurd hint is skipped, not a panic"
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
        assert_eq!(parse_go_duration("99999999999999999999h"), None);
    }

    #[test]
    fn statuses_map_to_categories() {
        let cases: [(u16, Vec<u8>, Category); 14] = [
            (
                401,
                body(
                    Some("invalid_api_key"),
                    "invalid_request_error",
                    "Incorrect API key provided: sk-abc***WXYZ.",
                ),
                Category::InvalidKey,
            ),
            (
                401,
                body(
                    Some("mismatched_organization"),
                    "invalid_request_error",
                    "OpenAI-Organization header should match organization for API key",
                ),
                Category::OrganizationMismatch,
            ),
            (
                401,
                body(
                    None,
                    "invalid_request_error",
                    "You have insufficient permissions for this operation. Missing scopes: model.request. Check that you have the correct role in your organization.",
                ),
                Category::PermissionDenied,
            ),
            (
                403,
                body(
                    Some("unsupported_country_region_territory"),
                    "request_forbidden",
                    "Country, region, or territory not supported",
                ),
                Category::RegionUnsupported,
            ),
            (
                403,
                body(
                    None,
                    "invalid_request_error",
                    "You have insufficient permissions for this operation. Missing scopes: model.request.",
                ),
                Category::PermissionDenied,
            ),
            (
                404,
                body(
                    Some("model_not_found"),
                    "invalid_request_error",
                    "The model `gpt-9` does not exist or you do not have access to it.",
                ),
                Category::ModelNotFound,
            ),
            (
                429,
                body(
                    Some("rate_limit_exceeded"),
                    "tokens",
                    "Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 45000.",
                ),
                Category::RequestTooLarge,
            ),
            (
                429,
                body(
                    None,
                    "server_error",
                    "That model is currently overloaded with other requests.",
                ),
                Category::Overloaded,
            ),
            (429, Vec::new(), Category::RateLimited),
            (503, Vec::new(), Category::Overloaded),
            (
                502,
                b"<html><head><title>502 Bad Gateway</title></head></html>".to_vec(),
                Category::ServerError,
            ),
            (
                400,
                body(
                    Some("context_length_exceeded"),
                    "invalid_request_error",
                    "This model's maximum context length is 128000 tokens.",
                ),
                Category::ContextLengthExceeded,
            ),
            (
                400,
                body(
                    Some("unsupported_parameter"),
                    "invalid_request_error",
                    "Unsupported parameter: 'max_tokens'",
                ),
                Category::BadRequest,
            ),
            (
                404,
                body(
                    None,
                    "invalid_request_error",
                    "Invalid URL (GET /v1/nothing)",
                ),
                Category::EndpointNotFound,
            ),
        ];
        for (status, b, want) in cases {
            assert_eq!(
                classify_http(status, &HeaderMap::new(), &b).category,
                want,
                "{status} {}",
                String::from_utf8_lossy(&b)
            );
        }
    }

    #[test]
    fn in_stream_errors_read_numeric_codes() {
        let v = serde_json::json!({"error": {"message": "Provider returned error", "code": 429}});
        assert_eq!(classify_event(&v).category, Category::RateLimited);
        let v = serde_json::json!({"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error"}});
        assert_eq!(classify_event(&v).category, Category::ServerError);
        let v = serde_json::json!({"error": "upstream exploded"});
        assert_eq!(
            classify_event(&v).message.as_deref(),
            Some("upstream exploded")
        );
    }
}
