//! Streamed chat through the real binary against the fake OpenAI server: deltas, coalescing,
//! finish reasons, every failure kind, retries, cancel, parallel chats, disconnect.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use fake_providers::errors::{self, RetryHint};
use fake_providers::sse::{self, ChunkMeta};
use fake_providers::{FakeHandle, FakeProvider};
use fake_providers::{Reply, SseStep};
use serde_json::{Value, json};
use support::{Options, Sidecar, guidance};

const MODEL: &str = "gpt-4o-mini";

async fn setup(init: Value) -> (Sidecar, FakeHandle, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.init = init;
    let s = Sidecar::start(opts).await;
    s.connect_openai(MODEL).await;
    (s, fake, home)
}

/// An answer of `n` numbered words (`{prefix}0 {prefix}1 …`), one chunk each, `pace` apart
/// (`None`: a burst).
fn numbered_reply(
    prefix: &str,
    n: usize,
    pace: Option<Duration>,
    usage: Option<(u32, u32)>,
) -> (Reply, String) {
    let pieces: Vec<String> = (0..n).map(|i| format!("{prefix}{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let steps = sse::text_reply(MODEL, &refs, "stop", usage);
    let steps = match pace {
        Some(d) => sse::paced(steps, d),
        None => steps,
    };
    (Reply::Sse(steps), pieces.concat())
}

fn ask(chat_id: &str, text: &str) -> Value {
    json!({"chatId": chat_id, "messages": [{"role": "user", "content": text}]})
}

fn deltas(s: &Sidecar, chat_id: &str) -> Vec<(u64, String)> {
    s.notifications_named("sidekick/chatDelta")
        .into_iter()
        .filter(|d| d["chatId"] == chat_id)
        .map(|d| {
            (
                d["seq"].as_u64().unwrap(),
                d["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Deltas are numbered 1, 2, 3… and concatenate to the result's text.
fn assert_deltas_make(s: &Sidecar, chat_id: &str, text: &str) -> usize {
    let mut d = deltas(s, chat_id);
    d.sort_by_key(|(seq, _)| *seq);
    let seqs: Vec<u64> = d.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=d.len() as u64).collect::<Vec<_>>(),
        "seq strictly increasing from 1"
    );
    assert_eq!(d.iter().map(|(_, t)| t.as_str()).collect::<String>(), text);
    d.len()
}

/// The chat's last delta may land just after its result: wait for it by content, not time.
async fn settle(s: &Sidecar, chat_id: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let mut d = deltas(s, chat_id);
        d.sort_by_key(|(seq, _)| *seq);
        if d.iter().map(|(_, t)| t.as_str()).collect::<String>() == text {
            return;
        }
        s.wait_notification(Duration::from_millis(200), |m, p| {
            m == "sidekick/chatDelta" && p["chatId"] == chat_id
        })
        .await;
    }
}

#[tokio::test]
async fn streams_deltas_that_add_up_to_the_result() {
    let (s, fake, _h) = setup(json!({})).await;
    fake.push(Reply::Sse(sse::text_reply(
        "gpt-4o-mini-2024-07-18",
        &["Hel", "lo", ", wor", "ld!"],
        "stop",
        Some((9, 4)),
    )));
    let mut params = ask("c1", "hi");
    params["maxTokens"] = json!(64);
    params["temperature"] = json!(0.2);
    let r = s.request("sidekick/chat", params).await.unwrap();
    assert_eq!(r["text"], "Hello, world!");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["model"], "gpt-4o-mini-2024-07-18");
    assert_eq!(
        r["usage"],
        json!({"promptTokens": 9, "completionTokens": 4, "totalTokens": 13,
               "cachedInputTokens": 0, "cacheWriteTokens": null, "reasoningTokens": 0,
               // gpt-4o-mini in the snapshot: $0.15 / $0.60 per million tokens.
               "costUsd": 3.75e-6,
               "price": {"inputPerMtok": 0.15, "outputPerMtok": 0.6}}),
        "OpenAI's usage details are kept, priced from the snapshot"
    );
    assert!(r["requestId"].as_str().unwrap().starts_with("req_"));
    settle(&s, "c1", "Hello, world!").await;
    assert_deltas_make(&s, "c1", "Hello, world!");
    let body = fake.chat_requests()[0].body.clone().unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(
        body["max_completion_tokens"], 64,
        "OpenAI gets the new name"
    );
    assert!(body.get("max_tokens").is_none());
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
}

/// A finished stream hands its connection back to the pool: the next chat skips the TCP (and,
/// with a real provider, the TLS) handshake.
#[tokio::test]
async fn consecutive_chats_reuse_one_connection() {
    let (s, fake, _h) = setup(json!({})).await;
    for i in 0..3 {
        let (reply, expected) = numbered_reply("w", 50, None, Some((3, 50)));
        fake.push(reply);
        let r = s
            .request("sidekick/chat", ask(&format!("reuse-{i}"), "hi"))
            .await
            .unwrap();
        assert_eq!(r["text"], expected.as_str());
    }
    let peers: Vec<_> = fake.chat_requests().iter().map(|r| r.peer).collect();
    assert_eq!(peers.len(), 3);
    assert!(
        peers.iter().all(|p| *p == peers[0]),
        "one connection for all three: {peers:?}"
    );
}

#[tokio::test]
async fn a_burst_is_coalesced_into_few_deltas_losing_nothing() {
    let (s, fake, _h) = setup(json!({"deltaIntervalMs": 50})).await;
    let (reply, expected) = numbered_reply("t", 2000, None, Some((5, 2000)));
    fake.push(reply);
    let started = Instant::now();
    let r = s
        .request("sidekick/chat", ask("burst", "go"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let text = r["text"].as_str().unwrap().to_string();
    assert_eq!(text, expected);
    settle(&s, "burst", &text).await;
    let n = assert_deltas_make(&s, "burst", &text);
    // At most one per 50 ms after the first, plus the final flush.
    let bound = 2 + (elapsed.as_millis() / 50) as usize;
    assert!(n <= bound, "{n} deltas in {elapsed:?} (bound {bound})");
    assert!(n < 100, "2000 chunks must not become 2000 messages: {n}");
}

#[tokio::test]
async fn a_paced_stream_sends_at_most_one_delta_per_interval() {
    let (s, fake, _h) = setup(json!({"deltaIntervalMs": 100})).await;
    let (reply, _) = numbered_reply("w", 40, Some(Duration::from_millis(10)), None);
    fake.push(reply);
    let r = s
        .request("sidekick/chat", ask("paced", "go"))
        .await
        .unwrap();
    let text = r["text"].as_str().unwrap().to_string();
    settle(&s, "paced", &text).await;
    let n = assert_deltas_make(&s, "paced", &text);
    assert!(n >= 2, "text arrives progressively, not at the end: {n}");
    assert!(n < 40, "coalesced: {n} deltas for 40 chunks");
}

#[tokio::test]
async fn finish_reasons_refusals_and_what_to_ignore() {
    let (s, fake, _h) = setup(json!({})).await;
    fake.push(Reply::Sse(sse::text_reply(MODEL, &["cut"], "length", None)));
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["no"],
        "content_filter",
        None,
    )));
    fake.push(Reply::Sse(sse::tool_calls_reply(
        MODEL,
        &[sse::ToolCallSpec {
            id: "call_1",
            name: "f",
            argument_pieces: &["{}"],
        }],
        None,
    )));
    fake.push(Reply::Sse(sse::refusal_reply(
        MODEL,
        &["I can't ", "help with that."],
        None,
    )));
    let meta = ChunkMeta::new(MODEL).with_usage(true);
    fake.push(Reply::Sse(vec![
        sse::keep_alive(),
        sse::azure_prompt_filter(),
        SseStep::Event(sse::role_chunk(&meta)),
        SseStep::Event(sse::content_chunk(&meta, "mine")),
        sse::second_choice(&meta, "NOT MINE"),
        sse::keep_alive(),
        SseStep::Event(sse::content_chunk(&meta, " only")),
        SseStep::Event(sse::finish_chunk(&meta, "stop")),
        SseStep::Event(sse::usage_chunk_json(&meta, 1, 2)),
        SseStep::Done,
    ]));
    let expect = [
        ("length", "cut"),
        ("content_filter", "no"),
        ("tool_calls", ""),
        ("stop", "I can't help with that."),
        ("stop", "mine only"),
    ];
    for (i, (reason, text)) in expect.iter().enumerate() {
        let r = s
            .request("sidekick/chat", ask(&format!("f{i}"), "x"))
            .await
            .unwrap();
        assert_eq!(r["finishReason"], *reason, "chat {i}");
        assert_eq!(r["text"], *text, "chat {i}");
    }
    assert_eq!(
        s.notifications_named("sidekick/chatDelta")
            .iter()
            .filter(|d| d["text"].as_str().unwrap().contains("NOT MINE"))
            .count(),
        0
    );
}

/// Each failure the fake can produce, and the guidance kind it must become.
#[tokio::test]
async fn every_failure_becomes_its_guidance() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 1}, "requestTimeoutMs": 500})).await;
    let cases: Vec<(Reply, &str, Option<u16>)> = vec![
        (
            errors::invalid_api_key("sk-revoked-key-000000WXYZ"),
            "invalid_key",
            Some(401),
        ),
        (
            errors::mismatched_organization(),
            "organization_mismatch",
            Some(401),
        ),
        (
            errors::permission_denied_model(MODEL),
            "permission_denied",
            Some(403),
        ),
        (errors::missing_scopes(), "permission_denied", Some(401)),
        (
            errors::unsupported_region(),
            "region_unsupported",
            Some(403),
        ),
        (errors::model_not_found(MODEL), "model_not_found", Some(404)),
        (
            errors::rate_limit_requests(MODEL, RetryHint::None),
            "rate_limited",
            Some(429),
        ),
        (errors::rate_limit_no_body(), "rate_limited", Some(429)),
        (
            errors::request_too_large(MODEL),
            "request_too_large",
            Some(429),
        ),
        (errors::insufficient_quota(), "quota_exceeded", Some(429)),
        (
            errors::insufficient_quota_type_only(),
            "quota_exceeded",
            Some(429),
        ),
        (errors::billing_hard_limit(), "quota_exceeded", None),
        (errors::engine_overloaded_429(), "overloaded", Some(429)),
        (errors::overloaded_503(), "overloaded", Some(503)),
        (errors::overloaded_529(), "overloaded", Some(529)),
        (errors::server_error_500(), "server_error", Some(500)),
        (errors::bad_gateway_502_html(), "server_error", Some(502)),
        (errors::gateway_timeout_504(), "server_error", Some(504)),
        (errors::cloudflare_520(), "server_error", Some(520)),
        (errors::numeric_code_error(), "server_error", None),
        (
            errors::context_length_exceeded(MODEL),
            "context_length_exceeded",
            Some(400),
        ),
        (
            errors::bad_request_unsupported_value("temperature"),
            "bad_request",
            Some(400),
        ),
        (Reply::HangBeforeHeaders, "timeout", None),
        (
            Reply::Sse(vec![
                SseStep::Event(sse::role_chunk(&ChunkMeta::new(MODEL))),
                sse::unparseable(),
            ]),
            "stream_interrupted",
            None,
        ),
        (
            Reply::Sse(vec![sse::in_stream_error()]),
            "server_error",
            None,
        ),
    ];
    for (i, (reply, kind, status)) in cases.into_iter().enumerate() {
        fake.push(reply);
        let e = s
            .request("sidekick/chat", ask(&format!("e{i}"), "x"))
            .await
            .unwrap_err();
        let g = guidance(&e);
        assert_eq!(g["kind"], kind, "case {i}: {g}");
        if let Some(st) = status {
            assert_eq!(g["httpStatus"], st, "case {i}");
        }
        assert!(
            !g["title"].as_str().unwrap().is_empty() && !g["detail"].as_str().unwrap().is_empty()
        );
        assert!(
            !g["detail"].as_str().unwrap().contains("{\""),
            "no raw JSON for people: {g}"
        );
    }
    assert_eq!(fake.pending_replies(), 0);
    assert_eq!(
        fake.chat_requests().len(),
        25,
        "maxAttempts 1: nothing retried"
    );
}

#[tokio::test]
async fn rate_limit_is_retried_after_the_hint_with_a_status_then_answers() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 3, "maxWaitMs": 5000}})).await;
    fake.push(errors::rate_limit_requests(
        MODEL,
        RetryHint::RetryAfterMs(300),
    ));
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["after ", "the wait"],
        "stop",
        None,
    )));
    let r = s.request("sidekick/chat", ask("rl", "x")).await.unwrap();
    assert_eq!(r["text"], "after the wait");
    let status = s.notifications_named("sidekick/chatStatus");
    assert_eq!(status.len(), 1, "{status:?}");
    assert_eq!(status[0]["chatId"], "rl");
    assert_eq!(status[0]["state"], "retrying");
    assert_eq!(status[0]["attempt"], 2);
    assert_eq!(status[0]["kind"], "rate_limited");
    assert_eq!(status[0]["delayMs"], 300, "the provider's hint is honoured");
    let reqs = fake.chat_requests();
    assert_eq!(reqs.len(), 2);
    let waited = reqs[1].at.duration_since(reqs[0].at);
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
}

#[tokio::test]
async fn server_errors_back_off_and_give_up_after_max_attempts() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 3, "maxWaitMs": 2000}})).await;
    fake.push_many([
        errors::server_error_500(),
        errors::overloaded_503(),
        errors::server_error_500(),
    ]);
    let e = s
        .request("sidekick/chat", ask("se", "x"))
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "server_error");
    assert!(
        g["detail"]
            .as_str()
            .unwrap()
            .contains("Sidekick already tried 3 times."),
        "the card says it was retried: {g}"
    );
    assert_eq!(fake.chat_requests().len(), 3);
    let status = s.notifications_named("sidekick/chatStatus");
    let attempts: Vec<u64> = status
        .iter()
        .map(|p| p["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [2, 3]);
}

#[tokio::test]
async fn quota_and_other_permanent_failures_are_never_retried() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 5}})).await;
    for (i, reply) in [
        errors::insufficient_quota(),
        errors::request_too_large(MODEL),
        errors::invalid_api_key("sk-x-000000000000WXYZ"),
    ]
    .into_iter()
    .enumerate()
    {
        let before = fake.chat_requests().len();
        fake.push(reply);
        let e = s
            .request("sidekick/chat", ask(&format!("q{i}"), "x"))
            .await
            .unwrap_err();
        assert_eq!(e.code, -32001);
        assert_eq!(fake.chat_requests().len(), before + 1, "one request only");
    }
    let g = {
        fake.push(errors::insufficient_quota());
        guidance(
            &s.request("sidekick/chat", ask("q9", "x"))
                .await
                .unwrap_err(),
        )
    };
    assert!(
        g["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["title"] == "Open billing")
    );
    assert!(s.notifications_named("sidekick/chatStatus").is_empty());
}

#[tokio::test]
async fn a_hint_longer_than_max_wait_returns_at_once_with_retry_after() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 3, "maxWaitMs": 1000}})).await;
    fake.push(errors::rate_limit_tokens(
        MODEL,
        RetryHint::ResetHeader("6m0s".into()),
    ));
    let started = Instant::now();
    let e = s
        .request("sidekick/chat", ask("long", "x"))
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "rate_limited");
    assert_eq!(g["retryAfterMs"], 360_000);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(fake.chat_requests().len(), 1);
}

#[tokio::test]
async fn failures_after_the_first_token_keep_the_partial_text_and_are_not_retried() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 3}, "idleTimeoutMs": 400})).await;
    let meta = ChunkMeta::new(MODEL);
    let start = |text: &str| {
        vec![
            SseStep::Event(sse::role_chunk(&meta)),
            SseStep::Event(sse::content_chunk(&meta, text)),
        ]
    };
    let mut err_event = start("partial one");
    err_event.push(sse::in_stream_error());
    let mut dropped = start("partial two");
    dropped.push(SseStep::Delay(Duration::from_millis(20)));
    dropped.push(SseStep::Drop);
    let mut stalled = start("partial three");
    stalled.push(SseStep::Stall);
    let mut no_finish = start("partial four");
    no_finish.push(SseStep::Done);
    for (i, (steps, kind, text)) in [
        (err_event, "server_error", "partial one"),
        (dropped, "stream_interrupted", "partial two"),
        (stalled, "timeout", "partial three"),
        (no_finish, "stream_interrupted", "partial four"),
    ]
    .into_iter()
    .enumerate()
    {
        let before = fake.chat_requests().len();
        fake.push(Reply::Sse(steps));
        let e = s
            .request("sidekick/chat", ask(&format!("p{i}"), "x"))
            .await
            .unwrap_err();
        let g = guidance(&e);
        assert_eq!(g["kind"], kind, "{g}");
        assert_eq!(g["partialText"], text, "nothing the user saw is lost");
        assert_eq!(
            fake.chat_requests().len(),
            before + 1,
            "not retried after the first token"
        );
    }
}

#[tokio::test]
async fn no_response_in_time_is_a_timeout_and_is_retried() {
    let (s, fake, _h) =
        setup(json!({"retry": {"maxAttempts": 2, "maxWaitMs": 1000}, "requestTimeoutMs": 300}))
            .await;
    fake.push(Reply::HangBeforeHeaders);
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["late but here"],
        "stop",
        None,
    )));
    let r = s.request("sidekick/chat", ask("to", "x")).await.unwrap();
    assert_eq!(r["text"], "late but here");
    let st = s.notifications_named("sidekick/chatStatus");
    assert_eq!(st[0]["kind"], "timeout");
    let closed = fake.wait_stream_closed(0, Duration::from_secs(2)).await;
    assert!(
        closed.is_some(),
        "the hung request was abandoned, not leaked"
    );
}

#[tokio::test]
async fn network_failures_are_classified_and_retried() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 2, "maxWaitMs": 1000}})).await;
    fake.shutdown().await;
    let e = s
        .request("sidekick/chat", ask("net", "x"))
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "network");
    let detail = g["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("Sidekick could not connect to 127.0.0.1: nothing is answering there."),
        "plain words first: {detail}"
    );
    assert!(detail.contains("already tried 2 times"), "{detail}");
    for raw in ["client error", "tcp connect", "os error", "Connect"] {
        assert!(
            !detail.contains(raw),
            "the raw error chain stays in the log: {detail}"
        );
    }
    let st = s.notifications_named("sidekick/chatStatus");
    assert_eq!(st.len(), 1);
    assert_eq!(st[0]["kind"], "network");
}

#[tokio::test]
async fn cancel_closes_the_upstream_connection_at_once() {
    let (s, fake, _h) = setup(json!({})).await;
    let (reply, _) = numbered_reply("slow", 100, Some(Duration::from_millis(100)), None);
    fake.push(reply);
    let (id, rx) = s.start_request("sidekick/chat", ask("stop-me", "x"));
    let first = s
        .wait_notification(Duration::from_secs(5), |m, p| {
            m == "sidekick/chatDelta" && p["chatId"] == "stop-me"
        })
        .await;
    assert!(first.is_some(), "streaming started");
    let cancelled_at = Instant::now();
    s.cancel(id);
    let e = support::finish(rx).await.unwrap_err();
    assert_eq!(e.code, -32800, "{e:?}");
    let closed = fake
        .wait_stream_closed(0, Duration::from_secs(2))
        .await
        .expect("upstream closed");
    let took = closed.saturating_duration_since(cancelled_at);
    assert!(
        took < Duration::from_millis(100),
        "upstream closed {took:?} after the cancel"
    );
    assert!(!fake.streams()[0].completed);
}

#[tokio::test]
async fn sixteen_parallel_chats_never_cross() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder()
        .token_delay(Duration::from_millis(5))
        .start()
        .await
        .unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    let s = Sidecar::start(opts).await;
    s.connect_openai(MODEL).await;
    let pending: Vec<_> = (0..16)
        .map(|i| {
            s.start_request(
                "sidekick/chat",
                ask(&format!("par{i}"), &format!("marker-{i}-end")),
            )
        })
        .collect();
    let mut results = Vec::new();
    for (_, rx) in pending {
        results.push(support::finish(rx).await.unwrap());
    }
    for (i, r) in results.iter().enumerate() {
        let id = format!("par{i}");
        assert_eq!(r["chatId"], id.as_str());
        let text = r["text"].as_str().unwrap();
        assert!(text.contains(&format!("marker-{i}-end")), "{text}");
        settle(&s, &id, text).await;
        assert_deltas_make(&s, &id, text);
        for j in (0..16).filter(|j| *j != i) {
            assert!(
                !text.contains(&format!("marker-{j}-end")),
                "chat {i} got chat {j}'s text"
            );
        }
    }
    assert_eq!(fake.chat_requests().len(), 16);
}

#[tokio::test]
async fn disconnect_cancels_running_chats_and_no_delta_follows() {
    let (s, fake, _h) = setup(json!({})).await;
    let (reply, _) = numbered_reply("d", 100, Some(Duration::from_millis(30)), None);
    fake.push(reply);
    let (_, rx) = s.start_request("sidekick/chat", ask("dc", "x"));
    s.wait_notification(Duration::from_secs(5), |m, p| {
        m == "sidekick/chatDelta" && p["chatId"] == "dc"
    })
    .await
    .unwrap();
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
    let r = support::finish(rx).await.unwrap();
    assert_eq!(r["finishReason"], "cancelled");
    assert!(
        !r["text"].as_str().unwrap().is_empty(),
        "the partial text comes back"
    );
    fake.wait_stream_closed(0, Duration::from_secs(2))
        .await
        .expect("upstream closed");
    // Round-trip once more so anything still in flight has arrived.
    s.request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    let all = s.notifications();
    let changed = all
        .iter()
        .rposition(|(m, p)| m == "sidekick/stateChanged" && p["active"].is_null())
        .expect("disconnect announced");
    let late: Vec<_> = all[changed..]
        .iter()
        .filter(|(m, _)| m == "sidekick/chatDelta")
        .collect();
    assert!(late.is_empty(), "deltas after disconnect: {late:?}");
    let delivered: String = {
        let mut d = deltas(&s, "dc");
        d.sort_by_key(|(seq, _)| *seq);
        d.into_iter().map(|(_, t)| t).collect()
    };
    assert_eq!(
        delivered,
        r["text"].as_str().unwrap(),
        "every delta sent is in the result"
    );
}

#[tokio::test]
async fn a_server_that_refuses_max_tokens_gets_max_completion_tokens() {
    let home = tempfile::tempdir().unwrap();
    let local = FakeProvider::builder()
        .require_key(false)
        .start()
        .await
        .unwrap();
    let s = Sidecar::start(Options::new(home.path())).await;
    s.request(
        "sidekick/connect",
        json!({"provider": "compatible", "baseUrl": local.base_url()}),
    )
    .await
    .unwrap();
    let mut params = ask("mt", "x");
    params["provider"] = json!("compatible");
    params["model"] = json!("o3-mini");
    params["maxTokens"] = json!(50);
    let r = s.request("sidekick/chat", params.clone()).await.unwrap();
    assert_eq!(r["finishReason"], "stop");
    let reqs = local.chat_requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body.as_ref().unwrap()["max_tokens"], 50);
    assert_eq!(reqs[1].body.as_ref().unwrap()["max_completion_tokens"], 50);
    // Remembered: the next chat goes straight to the new name.
    params["chatId"] = json!("mt2");
    s.request("sidekick/chat", params).await.unwrap();
    let reqs = local.chat_requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].body.as_ref().unwrap()["max_completion_tokens"], 50);
}

#[tokio::test]
async fn a_running_chat_id_cannot_be_reused() {
    let (s, fake, _h) = setup(json!({})).await;
    fake.push(Reply::Sse(sse::paced(
        sse::text_reply(MODEL, &["a", "b", "c"], "stop", None),
        Duration::from_millis(200),
    )));
    let (_, rx) = s.start_request("sidekick/chat", ask("same", "x"));
    s.wait_notification(Duration::from_secs(5), |m, p| {
        m == "sidekick/chatDelta" && p["chatId"] == "same"
    })
    .await
    .unwrap();
    let e = s
        .request("sidekick/chat", ask("same", "y"))
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("chatId"));
    assert_eq!(support::finish(rx).await.unwrap()["text"], "abc");
}

#[tokio::test]
async fn the_key_never_appears_in_any_output() {
    let (s, fake, h) = setup(json!({"retry": {"maxAttempts": 1}})).await;
    fake.push(errors::invalid_api_key(support::VALID_KEY));
    let _ = s.request("sidekick/chat", ask("k", "x")).await;
    fake.push(Reply::Sse(sse::text_reply(MODEL, &["fine"], "stop", None)));
    s.request("sidekick/chat", ask("k2", "x")).await.unwrap();
    let (stdout, stderr) = s.shutdown().await;
    for (name, text) in [
        ("stdout", stdout),
        ("stderr", stderr),
        ("state dir", support::all_files_text(h.path())),
    ] {
        assert!(!text.contains(support::VALID_KEY), "the key is in {name}");
        assert!(
            !text.contains("fake-valid-0000"),
            "part of the key is in {name}"
        );
    }
}

#[tokio::test]
async fn disconnect_during_a_retry_wait_ends_the_chat_at_once() {
    let (s, fake, _h) = setup(json!({"retry": {"maxAttempts": 3, "maxWaitMs": 20000}})).await;
    fake.push(errors::rate_limit_requests(
        MODEL,
        RetryHint::RetryAfterSecs(15),
    ));
    let (_, rx) = s.start_request("sidekick/chat", ask("waiting", "x"));
    s.wait_notification(Duration::from_secs(5), |m, p| {
        m == "sidekick/chatStatus" && p["chatId"] == "waiting"
    })
    .await
    .expect("the retry wait started");
    let started = Instant::now();
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
    let r = support::finish(rx).await.unwrap();
    assert_eq!(r["finishReason"], "cancelled");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait out the 15 s hint: {:?}",
        started.elapsed()
    );
    assert_eq!(
        fake.chat_requests().len(),
        1,
        "no attempt after the disconnect"
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .to_string();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// An upstream that never ends a line keeps the stream busy (the idle timeout never fires):
/// past the event cap the chat fails with its partial text, memory comes back, and the next
/// chat works.
#[tokio::test]
async fn an_endless_line_fails_the_chat_within_the_cap() {
    let (s, fake, _h) = setup(json!({})).await;
    let meta = ChunkMeta::new(MODEL);
    let mut steps = vec![
        SseStep::Event(sse::content_chunk(&meta, "Hello")),
        SseStep::Delay(Duration::from_millis(100)),
        SseStep::Raw(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"".to_vec()),
    ];
    // 24 MiB in 1 MiB reads without a line break.
    steps.extend((0..24).map(|_| SseStep::Raw(vec![b'a'; 1 << 20])));
    steps.push(SseStep::Stall);
    fake.push(Reply::Sse(steps));
    let pid = s.pid();
    let before = rss_kib(pid);
    let e = s
        .request("sidekick/chat", ask("endless", "hi"))
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "stream_interrupted", "{g}");
    assert_eq!(g["partialText"], "Hello");
    assert!(
        fake.wait_stream_closed(0, Duration::from_secs(5))
            .await
            .is_some(),
        "the upstream is closed"
    );
    let after = rss_kib(pid);
    assert!(
        after < before + 12 * 1024,
        "RSS grew from {before} to {after} KiB for a capped event"
    );
    fake.push(Reply::Sse(sse::text_reply(MODEL, &["fine"], "stop", None)));
    let r = s
        .request("sidekick/chat", ask("after", "hi"))
        .await
        .unwrap();
    assert_eq!(r["text"], "fine");
}
