//! Anthropic's error bodies, `{"type": "error", "error": {"type", "message"}, "request_id"}`,
//! in HTTP answers and as `error` events inside a stream, and its rate-limit headers: the
//! standard `retry-after`, else the earliest `anthropic-ratelimit-*-reset` (RFC 3339) of a
//! limit whose remaining is 0.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::failure::{
    ApiFailure, Category, RawFailure, header, standard_retry_hint, truncate, until,
};

/// The limits Anthropic reports, each with `-remaining` and `-reset` headers.
const LIMITS: [&str; 4] = ["requests", "tokens", "input-tokens", "output-tokens"];

pub fn classify(raw: &RawFailure<'_>) -> ApiFailure {
    let mut f = raw.generic();
    let body = serde_json::from_slice::<Value>(raw.body).ok();
    if let Some((ty, message)) = body.as_ref().and_then(error_fields) {
        f.category = category(Some(raw.status), &ty, &message);
        f.code = Some(ty);
        f.message = Some(truncate(&message, 2000));
    }
    if let Some(id) = body
        .as_ref()
        .and_then(|b| b.get("request_id"))
        .and_then(Value::as_str)
    {
        f.request_id = Some(id.to_string());
    }
    f.retry_after = if f.category.is_retryable() {
        standard_retry_hint(raw.headers).or_else(|| earliest_reset(raw.headers))
    } else {
        None
    };
    f
}

/// An `error` event inside a stream; it has no status of its own.
pub fn classify_event(v: &Value) -> ApiFailure {
    let (ty, message) = error_fields(v).unwrap_or_else(|| ("api_error".into(), String::new()));
    let mut f = ApiFailure::new(category(None, &ty, &message), None);
    f.code = Some(ty);
    f.message = Some(truncate(&message, 2000)).filter(|m| !m.is_empty());
    f
}

fn error_fields(v: &Value) -> Option<(String, String)> {
    let err = v.get("error")?;
    let ty = err.get("type").and_then(Value::as_str)?.to_string();
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Some((ty, message))
}

fn category(status: Option<u16>, ty: &str, message: &str) -> Category {
    let msg = message.to_ascii_lowercase();
    match ty {
        "authentication_error" => Category::InvalidKey,
        "permission_error" => Category::PermissionDenied,
        "not_found_error" if msg.contains("model") => Category::ModelNotFound,
        "not_found_error" => Category::EndpointNotFound,
        // Out of credits arrives as a plain 400: waiting never helps, so never retried.
        "invalid_request_error" | "billing_error" if msg.contains("credit balance") => {
            Category::QuotaExceeded
        }
        "billing_error" => Category::QuotaExceeded,
        "invalid_request_error"
            if msg.contains("prompt is too long")
                || msg.contains("context window")
                || msg.contains("context limit") =>
        {
            Category::ContextLengthExceeded
        }
        "invalid_request_error" => Category::BadRequest,
        "request_too_large" => Category::RequestTooLarge,
        "rate_limit_error" => Category::RateLimited,
        "overloaded_error" => Category::Overloaded,
        "api_error" => Category::ServerError,
        "timeout_error" => Category::Timeout,
        _ => Category::from_status(status.unwrap_or(500)),
    }
}

/// The soonest reset among the limits that ran out.
fn earliest_reset(headers: &HeaderMap) -> Option<Duration> {
    LIMITS
        .iter()
        .filter(|l| header(headers, &format!("anthropic-ratelimit-{l}-remaining")) == Some("0"))
        .filter_map(|l| header(headers, &format!("anthropic-ratelimit-{l}-reset")))
        .filter_map(|t| humantime::parse_rfc3339_weak(t).ok())
        .map(until)
        .min()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};
    use std::time::SystemTime;

    fn raw_classify(status: u16, headers: &[(&str, &str)], body: &str) -> ApiFailure {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        classify(&RawFailure {
            status,
            headers: &h,
            body: body.as_bytes(),
        })
    }

    fn err(ty: &str, message: &str) -> String {
        serde_json::json!({"type": "error", "error": {"type": ty, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}).to_string()
    }

    #[test]
    fn every_error_type() {
        let cases = [
            (
                401,
                "authentication_error",
                "invalid x-api-key",
                Category::InvalidKey,
            ),
            (
                403,
                "permission_error",
                "Your API key does not have permission to use the specified resource.",
                Category::PermissionDenied,
            ),
            (
                404,
                "not_found_error",
                "model: claude-9",
                Category::ModelNotFound,
            ),
            (
                400,
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
                Category::QuotaExceeded,
            ),
            (
                400,
                "invalid_request_error",
                "prompt is too long: 208310 tokens > 200000 maximum",
                Category::ContextLengthExceeded,
            ),
            (
                400,
                "invalid_request_error",
                "input length and `max_tokens` exceed context limit: 197626 + 8192 > 200000, decrease input length or `max_tokens` and try again",
                Category::ContextLengthExceeded,
            ),
            (
                400,
                "invalid_request_error",
                "max_tokens: Field required",
                Category::BadRequest,
            ),
            (
                413,
                "request_too_large",
                "Request exceeds the maximum allowed number of bytes.",
                Category::RequestTooLarge,
            ),
            (
                429,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization",
                Category::RateLimited,
            ),
            (529, "overloaded_error", "Overloaded", Category::Overloaded),
            (
                500,
                "api_error",
                "Internal server error",
                Category::ServerError,
            ),
        ];
        for (status, ty, message, want) in cases {
            let f = raw_classify(status, &[], &err(ty, message));
            assert_eq!(f.category, want, "{ty}: {message}");
            assert_eq!(f.code.as_deref(), Some(ty));
            assert_eq!(
                f.request_id.as_deref(),
                Some("req_011CSHoEeqs5C35K2UUqR7Fy")
            );
        }
    }

    #[test]
    fn waits_for_retry_after_else_the_earliest_exhausted_reset() {
        let body = err("rate_limit_error", "rate limited");
        let f = raw_classify(429, &[("retry-after", "7")], &body);
        assert_eq!(f.retry_after, Some(Duration::from_secs(7)));
        let soon = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(20))
            .to_string();
        let later = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(50))
            .to_string();
        let sooner_but_not_exhausted =
            humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(2))
                .to_string();
        let f = raw_classify(
            429,
            &[
                ("anthropic-ratelimit-requests-remaining", "3"),
                (
                    "anthropic-ratelimit-requests-reset",
                    &sooner_but_not_exhausted,
                ),
                ("anthropic-ratelimit-output-tokens-remaining", "0"),
                ("anthropic-ratelimit-output-tokens-reset", &later),
                ("anthropic-ratelimit-tokens-remaining", "0"),
                ("anthropic-ratelimit-tokens-reset", &soon),
            ],
            &body,
        );
        let d = f.retry_after.unwrap();
        assert!(
            d > Duration::from_secs(17) && d <= Duration::from_secs(20),
            "{d:?}"
        );
        let quota = raw_classify(
            400,
            &[("retry-after", "7")],
            &err(
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API.",
            ),
        );
        assert_eq!(quota.retry_after, None, "nothing to wait for");
    }

    #[test]
    fn stream_error_events() {
        let f = classify_event(
            &serde_json::json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        );
        assert_eq!(f.category, Category::Overloaded);
        assert_eq!(f.status, None);
    }
}
