//! Wire-level behaviour of the fake, seen through a raw HTTP client.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{KEY, chat, events, send};
use fake_providers::{FakeProvider, Reply, RetryHint, SseStep, errors, sse};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HELLO: &str = r#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"be nice"},{"role":"user","content":"ping"}]}"#;

#[tokio::test]
async fn default_stream_has_the_real_shape() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let resp = chat(fake.addr(), HELLO).await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert!(resp.header("x-request-id").unwrap().starts_with("req_"));
    assert!(resp.header("openai-processing-ms").is_some());
    assert_eq!(resp.header("x-ratelimit-reset-requests"), Some("1s"));
    assert_eq!(resp.header("x-ratelimit-reset-tokens"), Some("6m0s"));
    assert!(resp.complete);

    let events = events(&resp.text());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    // Field order matters to byte-exact consumers: it is the API's, not alphabetical.
    assert!(
        events[0].starts_with(r#"{"id":"chatcmpl-"#),
        "{}",
        events[0]
    );
    assert!(events[0].contains(r#","object":"chat.completion.chunk","created":"#));
    assert!(events[0].contains(
        r#""model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_"#
    ));
    assert!(events[0].contains(
        r#""choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":""#
    ));
    let text: String = chunks
        .iter()
        .filter_map(|c| {
            c.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
        })
        .collect();
    assert_eq!(text, "Hello! I am the fake OpenAI server. You said: ping");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], serde_json::json!([]));
    assert_eq!(
        usage["usage"]["total_tokens"].as_u64().unwrap(),
        usage["usage"]["prompt_tokens"].as_u64().unwrap()
            + usage["usage"]["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        usage["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );

    let ids: std::collections::BTreeSet<_> = chunks.iter().map(|c| c["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "every chunk repeats the completion id");
}

#[tokio::test]
async fn without_include_usage_chunks_have_no_usage_field() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let body = r#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"parts"}]}]}"#;
    let resp = chat(fake.addr(), body).await;
    let events = events(&resp.text());
    assert!(events.iter().all(|e| !e.contains("\"usage\"")));
    assert!(events[1].contains("Hello!"));
    assert_eq!(
        events.len(),
        1 + 10 + 1 + 1,
        "role + 10 words + finish + DONE"
    );
}

#[tokio::test]
async fn non_streamed_answer_is_a_chat_completion() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let resp = chat(
        fake.addr(),
        r#"{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let v = resp.json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-4.1-2025-04-14");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hello! I am the fake OpenAI server. You said: hi"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn auth_errors_use_the_real_bodies() {
    let fake = FakeProvider::builder()
        .valid_keys(["sk-test-good-key-0000"])
        .allowed_orgs(["org-allowed"])
        .start()
        .await
        .unwrap();
    let addr = fake.addr();

    let missing = send(addr, "GET", "/v1/models", &[], None).await;
    assert_eq!(missing.status, 401);
    assert!(
        missing.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("You didn't provide an API key.")
    );
    assert_eq!(missing.json()["error"]["code"], Value::Null);
    assert!(missing.header("x-request-id").unwrap().starts_with("req_"));
    assert!(missing.header("x-ratelimit-limit-requests").is_none());

    let empty = send(
        addr,
        "GET",
        "/v1/models",
        &[("authorization", "Bearer ")],
        None,
    )
    .await;
    assert_eq!(empty.status, 401);
    assert_eq!(empty.json()["error"]["code"], Value::Null);

    let wrong = send(
        addr,
        "GET",
        "/v1/models",
        &[("authorization", "Bearer sk-abcdefghijklmnopWXYZ")],
        None,
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json()["error"],
        serde_json::json!({
            "message": "Incorrect API key provided: sk-abcde***********WXYZ. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": null,
            "code": "invalid_api_key"
        })
    );

    let good = ("authorization", "Bearer sk-test-good-key-0000");
    let org = send(
        addr,
        "GET",
        "/v1/models",
        &[good, ("openai-organization", "org-other")],
        None,
    )
    .await;
    assert_eq!(org.status, 401);
    assert_eq!(org.json()["error"]["code"], "mismatched_organization");

    let allowed = send(
        addr,
        "GET",
        "/v1/models",
        &[good, ("openai-organization", "org-allowed")],
        None,
    )
    .await;
    assert_eq!(allowed.status, 200);
    let no_org = send(addr, "GET", "/v1/models", &[good], None).await;
    assert_eq!(no_org.status, 200);
    let list = no_org.json();
    assert_eq!(list["object"], "list");
    assert_eq!(
        list["data"][0],
        serde_json::json!({"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"})
    );

    // Auth comes before scripts: a rejected request must not consume the queued reply.
    fake.push(errors::server_error_500());
    let rejected = send(addr, "POST", "/v1/chat/completions", &[], Some(HELLO)).await;
    assert_eq!(rejected.status, 401);
    assert_eq!(fake.pending_replies(), 1);
    assert_eq!(
        fake.requests().len(),
        7,
        "rejected requests are recorded too"
    );
}

#[tokio::test]
async fn keyless_server_accepts_anything() {
    let fake = FakeProvider::builder()
        .require_key(false)
        .start()
        .await
        .unwrap();
    let resp = send(fake.addr(), "GET", "/v1/models", &[], None).await;
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn scripted_replies_play_in_order_then_default_resumes() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let steps = sse::text_reply("gpt-4o-mini", &["Hel", "lo"], "length", Some((5, 2)));
    let expected = sse::wire_bytes(&steps);
    fake.push(errors::rate_limit_requests(
        "gpt-4o",
        RetryHint::RetryAfterMs(1500),
    ));
    fake.push_many([Reply::Sse(steps), errors::insufficient_quota()]);

    let first = chat(fake.addr(), HELLO).await;
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after-ms"), Some("1500"));
    assert_eq!(first.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(first.json()["error"]["type"], "requests");
    assert!(
        first.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Please try again in 20s.")
    );

    let second = chat(fake.addr(), HELLO).await;
    assert_eq!(second.status, 200);
    assert_eq!(
        second.body, expected,
        "scripted events go out byte for byte"
    );
    assert!(second.text().contains(r#""finish_reason":"length""#));

    let third = chat(fake.addr(), HELLO).await;
    assert_eq!(third.status, 429);
    assert_eq!(third.json()["error"]["code"], "insufficient_quota");

    let fourth = chat(fake.addr(), HELLO).await;
    assert_eq!(fourth.status, 200);
    assert!(fourth.text().contains(r#"{"content":" ping"}"#));
    assert_eq!(fake.chat_requests().len(), 4);
    assert_eq!(
        fake.chat_requests()[0].body.as_ref().unwrap()["model"],
        "gpt-4o-mini"
    );
    assert_eq!(
        fake.chat_requests()[0].headers["authorization"],
        format!("Bearer {KEY}")
    );
}

#[tokio::test]
async fn retry_hints_are_selectable() {
    let fake = FakeProvider::builder().start().await.unwrap();
    fake.push_many([
        errors::rate_limit_tokens("gpt-4o", RetryHint::ResetHeader("150ms".into())),
        errors::rate_limit_requests("gpt-4o", RetryHint::RetryAfterDate(Duration::from_secs(30))),
        errors::rate_limit_requests("gpt-4o", RetryHint::MessageOnly("6ms".into())),
        errors::rate_limit_requests("gpt-4o", RetryHint::None),
        errors::rate_limit_no_body(),
    ]);
    let r = chat(fake.addr(), HELLO).await;
    assert_eq!(r.header("x-ratelimit-reset-tokens"), Some("150ms"));
    assert_eq!(r.json()["error"]["type"], "tokens");
    let r = chat(fake.addr(), HELLO).await;
    assert!(r.header("retry-after").unwrap().ends_with(" GMT"));
    let r = chat(fake.addr(), HELLO).await;
    assert!(r.header("retry-after").is_none() && r.header("x-ratelimit-reset-requests").is_none());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Please try again in 6ms.")
    );
    let r = chat(fake.addr(), HELLO).await;
    assert!(
        !r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again")
    );
    let r = chat(fake.addr(), HELLO).await;
    assert_eq!((r.status, r.body.len()), (429, 0));
}

#[tokio::test]
async fn drop_cuts_the_body() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let meta = sse::ChunkMeta::new("gpt-4o");
    fake.push(Reply::Sse(vec![
        SseStep::Event(sse::role_chunk(&meta)),
        SseStep::Event(sse::content_chunk(&meta, "partial")),
        SseStep::Drop,
    ]));
    let resp = chat(fake.addr(), HELLO).await;
    assert_eq!(resp.status, 200);
    assert!(!resp.complete, "no terminating chunk after a Drop");
    assert!(resp.text().contains("partial"));
    assert!(!resp.text().contains("[DONE]"));
    let closed = fake.wait_stream_closed(0, Duration::from_secs(2)).await;
    assert!(closed.is_some());
    assert!(fake.streams()[0].completed);
}

#[tokio::test]
async fn client_closing_a_stalled_stream_is_recorded_quickly() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let meta = sse::ChunkMeta::new("gpt-4o");
    fake.push(Reply::Sse(vec![
        SseStep::Event(sse::role_chunk(&meta)),
        sse::keep_alive(),
        SseStep::Stall,
    ]));
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    let auth = format!("Bearer {KEY}");
    let req = common::request_text(
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        Some(HELLO),
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains(": OPENROUTER PROCESSING\n\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert!(fake.streams()[0].closed_at.is_none());
    let closed_by_client = std::time::Instant::now();
    drop(stream);
    let closed = fake
        .wait_stream_closed(0, Duration::from_secs(2))
        .await
        .unwrap();
    assert!(closed.duration_since(closed_by_client) < Duration::from_millis(100));
    assert!(!fake.streams()[0].completed);
}

#[tokio::test]
async fn hang_before_headers_sends_nothing() {
    let fake = FakeProvider::builder().start().await.unwrap();
    fake.push(Reply::HangBeforeHeaders);
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    let auth = format!("Bearer {KEY}");
    let req = common::request_text(
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        Some(HELLO),
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
    assert!(read.is_err(), "no byte may arrive");
    drop(stream);
    let closed = fake.wait_stream_closed(0, Duration::from_secs(2)).await;
    assert!(closed.is_some(), "the abandoned request is noticed");
}

#[tokio::test]
async fn slow_first_byte_then_stream() {
    let fake = FakeProvider::builder().start().await.unwrap();
    fake.push(Reply::SseAfter(
        Duration::from_millis(200),
        sse::paced(
            sse::text_reply("gpt-4o", &["a", "b"], "stop", None),
            Duration::from_millis(20),
        ),
    ));
    let started = std::time::Instant::now();
    let resp = chat(fake.addr(), HELLO).await;
    assert!(started.elapsed() >= Duration::from_millis(200 + 3 * 20));
    assert!(resp.complete);
    assert!(fake.streams()[0].completed);
}

#[tokio::test]
async fn reasoning_models_reject_max_tokens() {
    let fake = FakeProvider::builder().start().await.unwrap();
    for model in ["o1", "o3-mini", "gpt-5-mini"] {
        let body = format!(
            r#"{{"model":"{model}","max_tokens":100,"messages":[{{"role":"user","content":"x"}}]}}"#
        );
        let resp = chat(fake.addr(), &body).await;
        assert_eq!(resp.status, 400, "{model}");
        assert_eq!(
            resp.json()["error"],
            serde_json::json!({
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "unsupported_parameter"
            })
        );
    }
    let ok = chat(
        fake.addr(),
        r#"{"model":"o1","max_completion_tokens":100,"messages":[]}"#,
    )
    .await;
    assert_eq!(ok.status, 200);
    let ok = chat(
        fake.addr(),
        r#"{"model":"gpt-4o","max_tokens":100,"messages":[]}"#,
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn unknown_retired_and_non_chat_models() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let r = chat(fake.addr(), r#"{"model":"gpt-9","messages":[]}"#).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["error"]["message"],
        "The model `gpt-9` does not exist or you do not have access to it."
    );
    assert_eq!(r.json()["error"]["code"], "model_not_found");
    let r = chat(fake.addr(), r#"{"model":"gpt-4o-retired","messages":[]}"#).await;
    assert_eq!(r.status, 404);
    let r = chat(fake.addr(), r#"{"model":"whisper-1","messages":[]}"#).await;
    assert_eq!(r.status, 404);
    let r = chat(fake.addr(), "{not json").await;
    assert_eq!(r.status, 400);
    let r = send(
        fake.addr(),
        "GET",
        "/v1/nope",
        &[("authorization", &format!("Bearer {KEY}"))],
        None,
    )
    .await;
    assert_eq!(r.json()["error"]["message"], "Invalid URL (GET /v1/nope)");
}

#[tokio::test]
async fn models_replies_can_be_scripted() {
    let fake = FakeProvider::builder().start().await.unwrap();
    fake.push_models_reply(errors::bad_gateway_502_html());
    let auth = format!("Bearer {KEY}");
    let r = send(
        fake.addr(),
        "GET",
        "/v1/models",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, 502);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(r.text().contains("<center>cloudflare</center>"));
    let r = send(
        fake.addr(),
        "GET",
        "/v1/models",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn every_canonical_error_is_well_formed() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let json_errors = [
        (errors::invalid_api_key("sk-proj-abcdefghijklmnop"), 401),
        (errors::missing_api_key(), 401),
        (errors::mismatched_organization(), 401),
        (errors::no_organization(), 401),
        (errors::missing_scopes(), 401),
        (errors::permission_denied_model("gpt-4o"), 403),
        (errors::unsupported_region(), 403),
        (errors::model_not_found("x"), 404),
        (errors::request_too_large("gpt-4o"), 429),
        (errors::insufficient_quota_type_only(), 429),
        (errors::billing_hard_limit(), 400),
        (errors::engine_overloaded_429(), 429),
        (errors::overloaded_503(), 503),
        (errors::server_error_500(), 500),
        (errors::context_length_exceeded("gpt-4o"), 400),
        (errors::bad_request_unsupported_value("temperature"), 400),
    ];
    for (reply, status) in json_errors {
        fake.push(reply);
        let r = chat(fake.addr(), HELLO).await;
        assert_eq!(r.status, status);
        assert!(r.json()["error"]["message"].is_string(), "{}", r.text());
    }
    fake.push(errors::overloaded_529());
    let r = chat(fake.addr(), HELLO).await;
    assert_eq!(
        (r.status, r.json()["error"]["type"].as_str()),
        (529, Some("overloaded_error"))
    );
    fake.push(errors::numeric_code_error());
    let r = chat(fake.addr(), HELLO).await;
    assert_eq!(r.json()["error"]["code"], 502);
    for reply in [errors::gateway_timeout_504(), errors::cloudflare_520()] {
        fake.push(reply);
        let r = chat(fake.addr(), HELLO).await;
        assert_eq!(r.header("content-type"), Some("text/html"));
    }
}

#[tokio::test]
async fn stream_variants_encode_as_sse() {
    let fake = FakeProvider::builder().start().await.unwrap();
    let meta = sse::ChunkMeta::new("gpt-4o");
    let mut steps = vec![sse::azure_prompt_filter(), sse::keep_alive()];
    steps.push(sse::second_choice(&meta, "ignored"));
    steps.extend(sse::refusal_reply("gpt-4o", &["I can't"], None));
    steps.extend(sse::tool_calls_reply(
        "gpt-4o",
        &[sse::ToolCallSpec {
            id: "call_1",
            name: "get_weather",
            argument_pieces: &["{\"city\":", "\"Paris\"}"],
        }],
        Some((3, 4)),
    ));
    steps.push(sse::in_stream_error());
    steps.push(sse::unparseable());
    steps.push(SseStep::Raw(b"data: {\"split\":".to_vec()));
    steps.push(SseStep::Raw(b"true}\n\n".to_vec()));
    let expected = sse::wire_bytes(&steps);
    fake.push(Reply::Sse(steps));
    let r = chat(fake.addr(), HELLO).await;
    assert_eq!(r.body, expected);
    let text = r.text();
    assert!(text.starts_with("data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":"));
    assert!(text.contains("\n\n: OPENROUTER PROCESSING\n\n"));
    assert!(text.contains(r#""finish_reason":"tool_calls""#));
    assert!(text.contains(r#""delta":{"refusal":"I can't"}"#));
}
