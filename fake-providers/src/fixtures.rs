//! Recorded provider bodies, one copy of each: the fake's error replies play them, and the
//! sidecar's unit tests decode and classify them without a server. Where each came from:
//! `fake-providers/README.md`.

/// One recorded answer: status, the headers that matter, the body as sent.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    pub status: u16,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: &'static str,
}

pub mod anthropic {
    use super::Fixture;

    pub const API_ERROR: Fixture = Fixture {
        status: 500,
        headers: &[],
        body: include_str!("../fixtures/anthropic/api_error.json"),
    };
    pub const AUTHENTICATION_ERROR: Fixture = Fixture {
        status: 401,
        headers: &[],
        body: include_str!("../fixtures/anthropic/authentication_error.json"),
    };
    pub const CREDIT_BALANCE_TOO_LOW: Fixture = Fixture {
        status: 400,
        headers: &[],
        body: include_str!("../fixtures/anthropic/credit_balance_too_low.json"),
    };
    pub const MISSING_VERSION: Fixture = Fixture {
        status: 400,
        headers: &[],
        body: include_str!("../fixtures/anthropic/missing_version.json"),
    };
    pub const NOT_FOUND_MODEL: Fixture = Fixture {
        status: 404,
        headers: &[],
        body: include_str!("../fixtures/anthropic/not_found_model.json"),
    };
    pub const OVERLOADED_ERROR: Fixture = Fixture {
        status: 529,
        headers: &[],
        body: include_str!("../fixtures/anthropic/overloaded_error.json"),
    };
    pub const PERMISSION_ERROR: Fixture = Fixture {
        status: 403,
        headers: &[],
        body: include_str!("../fixtures/anthropic/permission_error.json"),
    };
    pub const PROMPT_TOO_LONG: Fixture = Fixture {
        status: 400,
        headers: &[],
        body: include_str!("../fixtures/anthropic/prompt_too_long.json"),
    };
    pub const RATE_LIMIT_ERROR: Fixture = Fixture {
        status: 429,
        headers: &[("retry-after", "7")],
        body: include_str!("../fixtures/anthropic/rate_limit_error.json"),
    };
    pub const REQUEST_TOO_LARGE: Fixture = Fixture {
        status: 413,
        headers: &[],
        body: include_str!("../fixtures/anthropic/request_too_large.json"),
    };
    pub const STREAM_ERROR: &str = include_str!("../fixtures/anthropic/stream_error.sse");
    pub const STREAM_TEXT: &str = include_str!("../fixtures/anthropic/stream_text.sse");
    pub const STREAM_THINKING: &str = include_str!("../fixtures/anthropic/stream_thinking.sse");
}

pub mod azure {
    use super::Fixture;

    pub const CONTENT_FILTER: Fixture = Fixture {
        status: 400,
        headers: &[],
        body: include_str!("../fixtures/azure/content_filter.json"),
    };
    pub const DEPLOYMENT_NOT_FOUND: Fixture = Fixture {
        status: 404,
        headers: &[],
        body: include_str!("../fixtures/azure/deployment_not_found.json"),
    };
    pub const INVALID_KEY: Fixture = Fixture {
        status: 401,
        headers: &[],
        body: include_str!("../fixtures/azure/invalid_key.json"),
    };
    pub const MISSING_KEY: Fixture = Fixture {
        status: 401,
        headers: &[],
        body: include_str!("../fixtures/azure/missing_key.json"),
    };
    pub const QUOTA: Fixture = Fixture {
        status: 429,
        headers: &[],
        body: include_str!("../fixtures/azure/quota.json"),
    };
    pub const RATE_LIMITED: Fixture = Fixture {
        status: 429,
        headers: &[("retry-after", "6"), ("retry-after-ms", "6000")],
        body: include_str!("../fixtures/azure/rate_limited.json"),
    };
    pub const STREAM_CONTENT_FILTER: &str =
        include_str!("../fixtures/azure/stream_content_filter.sse");
    pub const STREAM_TEXT: &str = include_str!("../fixtures/azure/stream_text.sse");
}

pub mod openrouter {
    use super::Fixture;

    pub const INSUFFICIENT_CREDITS: Fixture = Fixture {
        status: 402,
        headers: &[],
        body: include_str!("../fixtures/openrouter/insufficient_credits.json"),
    };
    pub const KEY: Fixture = Fixture {
        status: 200,
        headers: &[],
        body: include_str!("../fixtures/openrouter/key.json"),
    };
    pub const MODERATION_FLAGGED: Fixture = Fixture {
        status: 403,
        headers: &[],
        body: include_str!("../fixtures/openrouter/moderation_flagged.json"),
    };
    pub const NO_CREDENTIALS: Fixture = Fixture {
        status: 401,
        headers: &[],
        body: include_str!("../fixtures/openrouter/no_credentials.json"),
    };
    pub const RATE_LIMITED: Fixture = Fixture {
        status: 429,
        headers: &[],
        body: include_str!("../fixtures/openrouter/rate_limited.json"),
    };
    pub const STREAM_COMMENTS: &str = include_str!("../fixtures/openrouter/stream_comments.sse");
    pub const STREAM_ERROR: &str = include_str!("../fixtures/openrouter/stream_error.sse");
    pub const USER_NOT_FOUND: Fixture = Fixture {
        status: 401,
        headers: &[],
        body: include_str!("../fixtures/openrouter/user_not_found.json"),
    };
}

pub mod gemini {
    use super::Fixture;

    pub const INVALID_KEY: Fixture = Fixture {
        status: 400,
        headers: &[],
        body: include_str!("../fixtures/gemini/invalid_key.json"),
    };
    pub const MODEL_NOT_FOUND: Fixture = Fixture {
        status: 404,
        headers: &[],
        body: include_str!("../fixtures/gemini/model_not_found.json"),
    };
    pub const OVERLOADED: Fixture = Fixture {
        status: 503,
        headers: &[],
        body: include_str!("../fixtures/gemini/overloaded.json"),
    };
    pub const PERMISSION_DENIED: Fixture = Fixture {
        status: 403,
        headers: &[],
        body: include_str!("../fixtures/gemini/permission_denied.json"),
    };
    pub const QUOTA_EXCEEDED: Fixture = Fixture {
        status: 429,
        headers: &[],
        body: include_str!("../fixtures/gemini/quota_exceeded.json"),
    };
    pub const RATE_LIMITED: Fixture = Fixture {
        status: 429,
        headers: &[],
        body: include_str!("../fixtures/gemini/rate_limited.json"),
    };
    pub const STREAM_TEXT: &str = include_str!("../fixtures/gemini/stream_text.sse");
}

impl Fixture {
    /// The fixture as the fake's reply, status, headers and body as recorded.
    pub fn reply(self) -> crate::Reply {
        let mut e = crate::HttpError::json(self.status, self.body);
        for (name, value) in self.headers {
            e = e.with_header(*name, *value);
        }
        crate::Reply::Error(e)
    }
}
