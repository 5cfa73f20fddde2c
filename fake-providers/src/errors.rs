//! Canonical error responses, with the wording, status and headers the real API (or the
//! proxy in front of it) sends.
//!
//! Each `///` names where the body was taken from. Bodies are pretty-printed with two-space
//! indentation, as api.openai.com sends them (see the raw Guzzle log in
//! nextcloud/integration_openai#194). Where no verbatim copy could be found, the comment says so.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::script::{HttpError, Reply};

/// The organization id the fake puts in rate-limit messages.
pub const FAKE_ORG: &str = "org-FAKEfakeFAKEfakeFAKEfake";
/// The project id the fake puts in permission messages.
pub const FAKE_PROJECT: &str = "proj_FAKEfakeFAKEfakeFAKEfake";

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

fn pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

/// The API's error envelope: `{"error":{"message","type","param","code"}}`.
pub fn openai_error(
    status: u16,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> HttpError {
    HttpError::json(
        status,
        pretty(&Envelope {
            error: Inner {
                message,
                kind,
                param,
                code,
            },
        }),
    )
}

/// The key as the API echoes it back: its first 8 characters, one `*` for every character
/// past the first 12, and its last 4 (`sk-WRQsP***…***xQBt`, `8kaL5ja$**oQnP`).
/// Derived from many quoted bodies, e.g. chatatywhere/GPT_API_free#81, continuedev/continue#10250,
/// nextcloud/integration_openai#194. Keys of 12 characters or fewer: no real sample found;
/// the fake echoes them unmasked, which is what the rule gives for zero stars.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return key.to_owned();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

/// 401 for a key the API does not know. Wording from many reports, e.g.
/// popjane/free_chatgpt_api#3 (full body with type and code) and continuedev/continue#9634.
pub fn invalid_api_key(key: &str) -> Reply {
    let message = format!(
        "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
        mask_key(key)
    );
    openai_error(
        401,
        &message,
        "invalid_request_error",
        None,
        Some("invalid_api_key"),
    )
    .into()
}

/// 401 when no `Authorization` header (or an empty bearer) was sent. Verbatim from a raw
/// `curl https://api.openai.com/v1/models` output (and a 2026 Vercel log); `code` is null.
pub fn missing_api_key() -> Reply {
    openai_error(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        None,
        None,
    )
    .into()
}

/// 401 when `OpenAI-Organization` names an organization the key is not in. Body from
/// Azure-Samples/ai-rag-chat-evaluator#76 and Realiserad/fish-ai#62.
pub fn mismatched_organization() -> Reply {
    openai_error(
        401,
        "OpenAI-Organization header should match organization for API key",
        "invalid_request_error",
        None,
        Some("mismatched_organization"),
    )
    .into()
}

/// 401 for an account that belongs to no organization. Body from a captured upstream
/// response in a Sora relay's tests (the API also adds `"status":401`, which clients ignore
/// and the fake leaves out).
pub fn no_organization() -> Reply {
    openai_error(
        401,
        "You must be a member of an organization to use the API. Please contact us through our help center at help.openai.com.",
        "invalid_request_error",
        None,
        Some("no_organization"),
    )
    .into()
}

/// 403 when the key's project has no access to a model. Body from Aider-AI/aider#604 and
/// cursor/cursor#2953 (note: 403 with code `model_not_found`).
pub fn permission_denied_model(model: &str) -> Reply {
    let message = format!("Project `{FAKE_PROJECT}` does not have access to model `{model}`");
    openai_error(
        403,
        &message,
        "invalid_request_error",
        None,
        Some("model_not_found"),
    )
    .into()
}

/// 401 for a restricted key without the `model.request` scope. Message from
/// openclaw/openclaw#56658; the full body (type, code) was not found quoted, so `type` is
/// the API's usual `invalid_request_error` and `code` is null — unverified.
pub fn missing_scopes() -> Reply {
    openai_error(
        401,
        "You have insufficient permissions for this operation. Missing scopes: model.request. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        "invalid_request_error",
        None,
        None,
    )
    .into()
}

#[derive(Serialize)]
struct RegionEnvelope<'a> {
    error: RegionInner<'a>,
}

/// This error's keys come in alphabetical order on the wire, unlike the others.
#[derive(Serialize)]
struct RegionInner<'a> {
    code: &'a str,
    message: &'a str,
    param: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'a str,
}

/// 403 from an unsupported country. Body from home-assistant/core#120072,
/// aurora-develop/Duck2api#33 (type `request_forbidden`, keys in alphabetical order).
pub fn unsupported_region() -> Reply {
    HttpError::json(
        403,
        pretty(&RegionEnvelope {
            error: RegionInner {
                code: "unsupported_country_region_territory",
                message: "Country, region, or territory not supported",
                param: None,
                kind: "request_forbidden",
            },
        }),
    )
    .into()
}

/// 404 for a model id that does not exist. Wording as quoted in countless bug reports.
pub fn model_not_found(model: &str) -> Reply {
    let message = format!("The model `{model}` does not exist or you do not have access to it.");
    openai_error(
        404,
        &message,
        "invalid_request_error",
        None,
        Some("model_not_found"),
    )
    .into()
}

/// 404 for a model that exists but is not a chat model (whisper-1, davinci-002…). Wording as
/// widely quoted; `param`/`code` from memory of the API, not verified against a raw capture.
pub fn not_a_chat_model() -> Reply {
    openai_error(
        404,
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?",
        "invalid_request_error",
        Some("model"),
        None,
    )
    .into()
}

/// 404 for a path the API does not serve.
pub fn invalid_url(method: &str, path: &str) -> Reply {
    let message = format!("Invalid URL ({method} {path})");
    openai_error(404, &message, "invalid_request_error", None, None).into()
}

/// 400 for a body that is not JSON. Wording as the API sends it (from memory of raw
/// responses; no verbatim copy found in the corpus).
pub fn invalid_json_body() -> Reply {
    openai_error(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
        "invalid_request_error",
        None,
        None,
    )
    .into()
}

/// 400 for `max_tokens` sent to a reasoning model. Wording given by the project's brief,
/// matching reports against o1/o3/gpt-5.
pub fn unsupported_parameter_max_tokens() -> Reply {
    openai_error(
        400,
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "invalid_request_error",
        Some("max_tokens"),
        Some("unsupported_parameter"),
    )
    .into()
}

/// 400 for a parameter value a reasoning model rejects. Body from owndev/Open-WebUI-Functions#98
/// and microsoft/vscode#253673.
pub fn bad_request_unsupported_value(param: &str) -> Reply {
    let message = format!(
        "Unsupported value: '{param}' does not support 0 with this model. Only the default (1) value is supported."
    );
    openai_error(
        400,
        &message,
        "invalid_request_error",
        Some(param),
        Some("unsupported_value"),
    )
    .into()
}

/// 400 for a prompt over the context window. Wording given by the project's brief (the
/// API's long-standing text); `param: "messages"`, code `context_length_exceeded`.
pub fn context_length_exceeded(_model: &str) -> Reply {
    openai_error(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        Some("messages"),
        Some("context_length_exceeded"),
    )
    .into()
}

/// Which retry hint a 429 carries, so tests can check each source a client may honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryHint {
    /// `retry-after-ms: N` (what the official SDKs read first).
    RetryAfterMs(u64),
    /// `retry-after: N` in seconds.
    RetryAfterSecs(u64),
    /// `retry-after: <HTTP-date>` this far in the future.
    RetryAfterDate(Duration),
    /// `x-ratelimit-reset-requests` (or `-tokens` for token limits): "1s", "6m0s", "150ms".
    ResetHeader(String),
    /// No header; the message says "Please try again in <text>.".
    MessageOnly(String),
    /// No header and no "try again" sentence at all.
    None,
}

fn ratelimit_headers(
    hint: &RetryHint,
    requests: bool,
    default_in_message: &str,
) -> (Vec<(String, String)>, Option<String>) {
    let mut headers = vec![
        ("x-ratelimit-limit-requests".to_owned(), "3".to_owned()),
        (
            "x-ratelimit-remaining-requests".to_owned(),
            if requests { "0" } else { "2" }.to_owned(),
        ),
        ("x-ratelimit-limit-tokens".to_owned(), "30000".to_owned()),
        (
            "x-ratelimit-remaining-tokens".to_owned(),
            if requests { "29900" } else { "63" }.to_owned(),
        ),
    ];
    let reset_name = if requests {
        "x-ratelimit-reset-requests"
    } else {
        "x-ratelimit-reset-tokens"
    };
    // The real API always puts a hint in the message; header variants keep a fixed,
    // different value there so a test can tell which source the client used.
    let in_message = match hint {
        RetryHint::RetryAfterMs(ms) => {
            headers.push(("retry-after-ms".to_owned(), ms.to_string()));
            Some(default_in_message.to_owned())
        }
        RetryHint::RetryAfterSecs(s) => {
            headers.push(("retry-after".to_owned(), s.to_string()));
            Some(default_in_message.to_owned())
        }
        RetryHint::RetryAfterDate(d) => {
            let at = SystemTime::now() + *d;
            headers.push(("retry-after".to_owned(), httpdate::fmt_http_date(at)));
            Some(default_in_message.to_owned())
        }
        RetryHint::ResetHeader(v) => {
            headers.push((reset_name.to_owned(), v.clone()));
            Some(default_in_message.to_owned())
        }
        RetryHint::MessageOnly(text) => Some(text.clone()),
        RetryHint::None => None,
    };
    (headers, in_message)
}

/// The limit/remaining headers the API sends on every 429, without any reset (retry) hint,
/// so tests of non-retryable 429s are not muddied by a hint.
fn with_limit_headers(reply: HttpError) -> Reply {
    reply
        .with_header("x-ratelimit-limit-requests", "10000")
        .with_header("x-ratelimit-remaining-requests", "9999")
        .with_header("x-ratelimit-limit-tokens", "30000")
        .with_header("x-ratelimit-remaining-tokens", "30000")
        .into()
}

fn rate_limit(message: String, kind: &str, headers: Vec<(String, String)>) -> Reply {
    let mut e = openai_error(429, &message, kind, None, Some("rate_limit_exceeded"));
    e.headers = headers;
    e.into()
}

fn try_again(in_message: Option<String>) -> String {
    in_message.map_or_else(String::new, |t| format!(" Please try again in {t}."))
}

/// 429 on requests per minute. Wording from OpenBMB/ChatDev#26 and openai/codex#10060
/// (type `requests`, code `rate_limit_exceeded`). The message says 20s unless `hint` is
/// `MessageOnly`/`None`.
pub fn rate_limit_requests(model: &str, hint: RetryHint) -> Reply {
    let (headers, in_message) = ratelimit_headers(&hint, true, "20s");
    let message = format!(
        "Rate limit reached for {model} in organization {FAKE_ORG} on requests per min (RPM): Limit 3, Used 3, Requested 1.{} Visit https://platform.openai.com/account/rate-limits to learn more.",
        try_again(in_message)
    );
    rate_limit(message, "requests", headers)
}

/// 429 on tokens per minute. Wording from FoundationAgents/MetaGPT#523 and
/// BuilderIO/micro-agent#86 (type `tokens`).
pub fn rate_limit_tokens(model: &str, hint: RetryHint) -> Reply {
    let (headers, in_message) = ratelimit_headers(&hint, false, "3.89s");
    let message = format!(
        "Rate limit reached for {model} in organization {FAKE_ORG} on tokens per min (TPM): Limit 30000, Used 29937, Requested 385.{} Visit https://platform.openai.com/account/rate-limits to learn more.",
        try_again(in_message)
    );
    rate_limit(message, "tokens", headers)
}

/// 429 with an empty body and no hint, as some proxies send.
pub fn rate_limit_no_body() -> Reply {
    HttpError {
        status: 429,
        headers: Vec::new(),
        body: String::new(),
        content_type: "text/plain".to_owned(),
    }
    .into()
}

/// 429 for a single request bigger than the whole TPM budget: retrying cannot help.
/// Body from Aider-AI/aider#1880 and DrShushen/climb#13.
pub fn request_too_large(model: &str) -> Reply {
    let message = format!(
        "Request too large for {model} in organization {FAKE_ORG} on tokens per min (TPM): Limit 30000, Requested 45000. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more."
    );
    with_limit_headers(openai_error(
        429,
        &message,
        "tokens",
        None,
        Some("rate_limit_exceeded"),
    ))
}

/// 429 for an account without credit. Body from ChatGPTNextWeb/NextChat#4101 (2024 shape
/// with the docs link, code `insufficient_quota`).
pub fn insufficient_quota() -> Reply {
    with_limit_headers(openai_error(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        None,
        Some("insufficient_quota"),
    ))
}

/// The 2023 shape: only `type` says insufficient_quota, `code` is null. Body from
/// ChatGPTNextWeb/NextChat#1792.
pub fn insufficient_quota_type_only() -> Reply {
    with_limit_headers(openai_error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        None,
        None,
    ))
}

/// 400 once the account's hard spending limit is hit. Body (status 400,
/// `invalid_request_error`) from a write-up of the images API; other captures show
/// `type: insufficient_quota` or an images-specific type, so clients should key on `code`.
pub fn billing_hard_limit() -> Reply {
    openai_error(
        400,
        "Billing hard limit has been reached",
        "invalid_request_error",
        None,
        Some("billing_hard_limit_reached"),
    )
    .into()
}

const OVERLOADED: &str = "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.";

/// 429 "overloaded" (2023 era). Message and `type: server_error`, null code from
/// agi-merge/waggle-dance#53 and waylaidwanderer/node-chatgpt-api#34; the real message also
/// appends "(Please include the request ID … in your message.)", left out here.
pub fn engine_overloaded_429() -> Reply {
    with_limit_headers(openai_error(429, OVERLOADED, "server_error", None, None))
}

/// 503 with the same body, as in waylaidwanderer/node-chatgpt-api#34.
pub fn overloaded_503() -> Reply {
    openai_error(503, OVERLOADED, "server_error", None, None).into()
}

/// 529 with Anthropic's overloaded body, as OpenAI-compatible proxies in front of Claude
/// pass it through. Shape from Anthropic's documented error format.
pub fn overloaded_529() -> Reply {
    HttpError::json(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    )
    .into()
}

/// 500. Message is the one the API sends (also seen inside streams), `type: server_error`.
pub fn server_error_500() -> Reply {
    openai_error(
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
        None,
    )
    .into()
}

fn html(status: u16, body: &str) -> Reply {
    HttpError {
        status,
        headers: vec![("server".to_owned(), "cloudflare".to_owned())],
        body: body.to_owned(),
        content_type: "text/html".to_owned(),
    }
    .into()
}

/// 502 from Cloudflare in front of the API. Page from n3d1117/chatgpt-telegram-bot#637.
pub fn bad_gateway_502_html() -> Reply {
    html(
        502,
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
    )
}

/// 504 from Cloudflare. No verbatim capture found for api.openai.com: the same template as
/// the 502 page above with the 504 title.
pub fn gateway_timeout_504() -> Reply {
    html(
        504,
        "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
    )
}

/// 520 from Cloudflare. Title and texts from n8n-io/n8n#18275 and
/// Significant-Gravitas/AutoGPT#341; the real page's CSS and markup are abridged.
pub fn cloudflare_520() -> Reply {
    html(
        520,
        concat!(
            "<!DOCTYPE html>\n<html class=\"no-js\" lang=\"en-US\">\n<head>\n",
            "<title>api.openai.com | 520: Web server is returning an unknown error</title>\n",
            "<meta charset=\"UTF-8\" />\n</head>\n<body>\n<div id=\"cf-wrapper\">\n",
            "<h1><span class=\"inline-block\">Web server is returning an unknown error</span>\n",
            "<span class=\"code-label\">Error code 520</span></h1>\n",
            "<h2>What happened?</h2>\n<p>There is an unknown connection issue between Cloudflare and the origin web server. As a result, the web page can not be displayed.</p>\n",
            "<h2>What can I do?</h2>\n<p>Please try again in a few minutes.</p>\n",
            "</div>\n</body>\n</html>\n"
        ),
    )
}

/// 502 with a numeric `code`, as OpenRouter reports upstream failures. Shape from
/// open-webui/computer#293 (`{"error":{"message","code":<number>,"metadata":{…}}}`).
pub fn numeric_code_error() -> Reply {
    HttpError::json(
        502,
        r#"{"error":{"message":"Provider returned error","code":502,"metadata":{"raw":"upstream connect error or disconnect/reset before headers","provider_name":"OpenAI"}}}"#,
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_api() {
        assert_eq!(
            mask_key("sk-WRQsP012345678901234567890123456789012345678xQBt"),
            format!("sk-WRQsP{}xQBt", "*".repeat(39))
        );
        assert_eq!(mask_key("8kaL5ja$XXoQnP"), "8kaL5ja$**oQnP");
        assert_eq!(mask_key("short"), "short");
    }
}
