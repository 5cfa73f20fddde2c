//! Anthropic, Azure OpenAI, OpenRouter and Gemini as the fake plays them, seen through a raw
//! HTTP client: each provider's auth, model list, stream and errors.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{KEY, send};
use fake_providers::{AnthropicHint, FakeHandle, FakeProvider, Flavor, Reply, anthropic, fixtures};
use serde_json::Value;

async fn fake(flavor: Flavor) -> FakeHandle {
    FakeProvider::builder()
        .flavor(flavor)
        .triggers(true)
        .start()
        .await
        .unwrap()
}

/// Every `event:`/`data:` pair of an Anthropic stream.
fn named_events(body: &str) -> Vec<(String, Value)> {
    body.trim_end()
        .split("\n\n")
        .map(|block| {
            let mut lines = block.lines();
            let event = lines
                .next()
                .unwrap()
                .strip_prefix("event: ")
                .unwrap()
                .to_owned();
            let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
            (event, serde_json::from_str(data).unwrap())
        })
        .collect()
}

const ANTHROPIC_ASK: &str = r#"{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"stream":true,"system":"be brief","messages":[{"role":"user","content":"ping"}]}"#;

#[tokio::test]
async fn anthropic_wants_x_api_key_and_a_version_and_streams_named_events() {
    let f = fake(Flavor::Anthropic).await;
    assert_eq!(f.base_url(), format!("http://{}/v1", f.addr()));
    let version = ("anthropic-version", "2023-06-01");
    let bearer = format!("Bearer {KEY}");
    let r = send(
        f.addr(),
        "POST",
        "/v1/messages",
        &[("authorization", &bearer), version],
        Some(ANTHROPIC_ASK),
    )
    .await;
    assert_eq!(r.status, 401, "a bearer key is no key to Anthropic");
    assert_eq!(r.json()["error"]["type"], "authentication_error");
    assert!(r.header("request-id").unwrap().starts_with("req_"));
    let r = send(
        f.addr(),
        "POST",
        "/v1/messages",
        &[("x-api-key", KEY)],
        Some(ANTHROPIC_ASK),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("anthropic-version")
    );
    let r = send(
        f.addr(),
        "POST",
        "/v1/messages",
        &[("x-api-key", KEY), version],
        Some(ANTHROPIC_ASK),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("anthropic-ratelimit-requests-reset")
            .unwrap()
            .ends_with('Z')
    );
    let events = named_events(&r.text());
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(names.contains(&"ping") && names.contains(&"content_block_stop"));
    let text: String = events
        .iter()
        .filter(|(e, _)| e == "content_block_delta")
        .map(|(_, d)| d["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        text,
        "Hello! I am the fake Anthropic server. You said: ping"
    );
    for (name, data) in &events {
        assert_eq!(
            data["type"],
            name.as_str(),
            "the data's type names its event"
        );
    }
    assert_eq!(
        f.chat_requests().len(),
        1 + 2,
        "every POST to /v1/messages is recorded"
    );
}

#[tokio::test]
async fn anthropic_models_are_paginated() {
    let f = fake(Flavor::Anthropic).await;
    let h = [("x-api-key", KEY), ("anthropic-version", "2023-06-01")];
    let first = send(f.addr(), "GET", "/v1/models?limit=3", &h, None)
        .await
        .json();
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    assert_eq!(first["has_more"], true);
    assert!(
        first["data"][0]["display_name"]
            .as_str()
            .unwrap()
            .starts_with("Claude")
    );
    assert!(
        first["data"][0]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let after = first["last_id"].as_str().unwrap();
    let rest = send(
        f.addr(),
        "GET",
        &format!("/v1/models?limit=100&after_id={after}"),
        &h,
        None,
    )
    .await
    .json();
    assert_eq!(rest["has_more"], false);
    assert_eq!(
        3 + rest["data"].as_array().unwrap().len(),
        anthropic::default_models().len()
    );
    let default = send(f.addr(), "GET", "/v1/models", &h, None).await.json();
    assert_eq!(
        default["data"].as_array().unwrap().len(),
        anthropic::default_models().len().min(20)
    );
}

#[tokio::test]
async fn anthropic_errors_and_hints() {
    let f = fake(Flavor::Anthropic).await;
    let h = [("x-api-key", KEY), ("anthropic-version", "2023-06-01")];
    f.push(anthropic::rate_limited(AnthropicHint::Reset {
        limit: "output-tokens",
        after: Duration::from_secs(3),
    }));
    let r = send(f.addr(), "POST", "/v1/messages", &h, Some(ANTHROPIC_ASK)).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("anthropic-ratelimit-output-tokens-remaining"),
        Some("0")
    );
    assert!(r.header("retry-after").is_none());
    f.push(anthropic::credit_balance_too_low());
    let r = send(f.addr(), "POST", "/v1/messages", &h, Some(ANTHROPIC_ASK)).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("credit balance is too low")
    );
    let unknown = ANTHROPIC_ASK.replace("claude-sonnet-4-5-20250929", "claude-9");
    let r = send(f.addr(), "POST", "/v1/messages", &h, Some(&unknown)).await;
    assert_eq!(
        (r.status, r.json()["error"]["type"].as_str()),
        (404, Some("not_found_error"))
    );
    let quota = ANTHROPIC_ASK.replace("ping", "[fake:quota]");
    let r = send(f.addr(), "POST", "/v1/messages", &h, Some(&quota)).await;
    assert_eq!(r.status, fixtures::anthropic::CREDIT_BALANCE_TOO_LOW.status);
    f.push(Reply::Sse(anthropic::error_after(
        "claude-sonnet-4-5-20250929",
        &["Part"],
        "overloaded_error",
        "Overloaded",
    )));
    let r = send(f.addr(), "POST", "/v1/messages", &h, Some(ANTHROPIC_ASK)).await;
    let last = named_events(&r.text()).pop().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1["error"]["type"].as_str()),
        ("error", Some("overloaded_error"))
    );
}

#[tokio::test]
async fn azure_wants_api_key_and_a_deployment() {
    let f = FakeProvider::builder()
        .flavor(Flavor::Azure)
        .deployments(["prod-4o"])
        .start()
        .await
        .unwrap();
    assert_eq!(f.base_url(), format!("http://{}", f.addr()));
    let ask = |model: &str| {
        format!(
            r#"{{"model":"{model}","stream":true,"messages":[{{"role":"user","content":"hi"}}]}}"#
        )
    };
    let bearer = format!("Bearer {KEY}");
    let r = send(
        f.addr(),
        "POST",
        "/openai/v1/chat/completions",
        &[("authorization", &bearer)],
        Some(&ask("prod-4o")),
    )
    .await;
    assert_eq!(r.status, 401, "Azure reads the key from api-key only");
    let r = send(
        f.addr(),
        "POST",
        "/openai/v1/chat/completions",
        &[("api-key", "wrong")],
        Some(&ask("prod-4o")),
    )
    .await;
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid subscription key or wrong API endpoint")
    );
    let r = send(
        f.addr(),
        "POST",
        "/openai/v1/chat/completions",
        &[("api-key", KEY)],
        Some(&ask("nope")),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (404, Some("DeploymentNotFound"))
    );
    let r = send(
        f.addr(),
        "POST",
        "/openai/v1/chat/completions",
        &[("api-key", KEY)],
        Some(&ask("prod-4o")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.header("apim-request-id").is_some());
    let first = common::events(&r.text()).remove(0);
    assert!(
        first.contains("prompt_filter_results"),
        "the prompt-filter chunk comes first: {first}"
    );
    let models = send(
        f.addr(),
        "GET",
        "/openai/v1/models",
        &[("api-key", KEY)],
        None,
    )
    .await
    .json();
    let chat: Vec<bool> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["capabilities"]["chat_completion"].as_bool().unwrap())
        .collect();
    assert!(chat.contains(&true) && chat.contains(&false));
}

#[tokio::test]
async fn openrouter_lists_hundreds_without_a_key_and_checks_keys_at_key() {
    let f = fake(Flavor::OpenRouter).await;
    assert_eq!(f.base_url(), format!("http://{}/api/v1", f.addr()));
    let models = send(f.addr(), "GET", "/api/v1/models", &[], None).await;
    assert_eq!(models.status, 200, "the model list answers anyone");
    let data = models.json()["data"].as_array().unwrap().clone();
    assert!(data.len() >= 320, "{}", data.len());
    assert!(data[0]["name"].is_string() && data[0]["context_length"].is_u64());
    let r = send(
        f.addr(),
        "GET",
        "/api/v1/key",
        &[("authorization", "Bearer sk-or-v1-wrong")],
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["message"].as_str()),
        (401, Some("User not found."))
    );
    let bearer = format!("Bearer {KEY}");
    let r = send(
        f.addr(),
        "GET",
        "/api/v1/key",
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert!(r.json()["data"]["limit"].is_null());
    let ask = r#"{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let r = send(
        f.addr(),
        "POST",
        "/api/v1/chat/completions",
        &[("authorization", &bearer)],
        Some(ask),
    )
    .await;
    assert!(r.text().starts_with(": OPENROUTER PROCESSING\n\n"));
    let quota = ask.replace("\"hi\"", "\"[fake:quota]\"");
    let r = send(
        f.addr(),
        "POST",
        "/api/v1/chat/completions",
        &[("authorization", &bearer)],
        Some(&quota),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_u64()),
        (402, Some(402))
    );
}

#[tokio::test]
async fn gemini_lists_prefixed_ids_and_wraps_errors_in_a_list() {
    let f = fake(Flavor::Gemini).await;
    assert_eq!(f.base_url(), format!("http://{}/v1beta/openai", f.addr()));
    let bearer = format!("Bearer {KEY}");
    let models = send(
        f.addr(),
        "GET",
        "/v1beta/openai/models",
        &[("authorization", &bearer)],
        None,
    )
    .await
    .json();
    assert!(
        models["data"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("models/")
    );
    let r = send(
        f.addr(),
        "GET",
        "/v1beta/openai/models",
        &[("authorization", "Bearer AIzaWrong")],
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    let body = r.json();
    assert_eq!(
        body[0]["error"]["status"], "INVALID_ARGUMENT",
        "a list of one error"
    );
    let ask = |model: &str| {
        format!(
            r#"{{"model":"{model}","stream":true,"messages":[{{"role":"user","content":"hi"}}]}}"#
        )
    };
    for model in ["gemini-2.5-flash", "models/gemini-2.5-flash"] {
        let r = send(
            f.addr(),
            "POST",
            "/v1beta/openai/chat/completions",
            &[("authorization", &bearer)],
            Some(&ask(model)),
        )
        .await;
        assert_eq!(r.status, 200, "{model}");
    }
    let r = send(
        f.addr(),
        "POST",
        "/v1beta/openai/chat/completions",
        &[("authorization", &bearer)],
        Some(&ask("gemini-9")),
    )
    .await;
    assert_eq!(r.json()[0]["error"]["status"], "NOT_FOUND");
    let limited = ask("gemini-2.5-flash").replace("\"hi\"", "\"[fake:rate-limit]\"");
    let r = send(
        f.addr(),
        "POST",
        "/v1beta/openai/chat/completions",
        &[("authorization", &bearer)],
        Some(&limited),
    )
    .await;
    assert_eq!(r.status, 429);
    assert!(r.text().contains("RetryInfo"));
}

#[test]
fn every_fixture_is_the_json_it_claims() {
    use fake_providers::fixtures::*;
    let all = [
        anthropic::API_ERROR,
        anthropic::AUTHENTICATION_ERROR,
        anthropic::CREDIT_BALANCE_TOO_LOW,
        anthropic::MISSING_VERSION,
        anthropic::NOT_FOUND_MODEL,
        anthropic::OVERLOADED_ERROR,
        anthropic::PERMISSION_ERROR,
        anthropic::PROMPT_TOO_LONG,
        anthropic::RATE_LIMIT_ERROR,
        anthropic::REQUEST_TOO_LARGE,
        azure::CONTENT_FILTER,
        azure::DEPLOYMENT_NOT_FOUND,
        azure::INVALID_KEY,
        azure::MISSING_KEY,
        azure::QUOTA,
        azure::RATE_LIMITED,
        openrouter::INSUFFICIENT_CREDITS,
        openrouter::KEY,
        openrouter::MODERATION_FLAGGED,
        openrouter::NO_CREDENTIALS,
        openrouter::RATE_LIMITED,
        openrouter::USER_NOT_FOUND,
        gemini::INVALID_KEY,
        gemini::MODEL_NOT_FOUND,
        gemini::OVERLOADED,
        gemini::PERMISSION_DENIED,
        gemini::QUOTA_EXCEEDED,
        gemini::RATE_LIMITED,
    ];
    for f in all {
        let v: Value = serde_json::from_str(f.body).unwrap();
        let err = if v.is_array() {
            &v[0]["error"]
        } else {
            &v["error"]
        };
        assert!(f.status == 200 || err.is_object(), "{}", f.body);
    }
    for stream in [
        anthropic::STREAM_TEXT,
        anthropic::STREAM_THINKING,
        anthropic::STREAM_ERROR,
        azure::STREAM_TEXT,
        azure::STREAM_CONTENT_FILTER,
        openrouter::STREAM_COMMENTS,
        openrouter::STREAM_ERROR,
        gemini::STREAM_TEXT,
    ] {
        assert!(
            stream.ends_with("\n\n"),
            "an SSE fixture ends with a blank line"
        );
        for line in stream
            .lines()
            .filter(|l| l.starts_with("data: ") && *l != "data: [DONE]")
        {
            serde_json::from_str::<Value>(&line["data: ".len()..]).unwrap();
        }
    }
}
