//! OpenTelemetry export: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, every provider call reaches an
//! OTLP/HTTP receiver on loopback as a protobuf span with the GenAI attributes — and no key or
//! prompt anywhere in what is sent.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_providers::{FakeProvider, Reply, sse};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use support::{Options, Sidecar, VALID_KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request the receiver got: path, headers (lowercase names), body.
type Received = Arc<Mutex<Vec<(String, Vec<(String, String)>, Vec<u8>)>>>;

/// A minimal OTLP/HTTP receiver: reads each POST, keeps it, answers 200 with an empty
/// `ExportTraceServiceResponse`.
async fn receiver() -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got: Received = Arc::default();
    let sink = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n");
                    if let Some(end) = head_end {
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let mut lines = head.lines();
                        let path = lines
                            .next()
                            .and_then(|l| l.split_whitespace().nth(1))
                            .unwrap_or("")
                            .to_string();
                        let headers: Vec<(String, String)> = lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                            .collect();
                        let len: usize = headers
                            .iter()
                            .find(|(k, _)| k == "content-length")
                            .and_then(|(_, v)| v.parse().ok())
                            .unwrap_or(0);
                        while buf.len() < end + 4 + len {
                            let n = sock.read(&mut chunk).await.unwrap_or(0);
                            if n == 0 {
                                break;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        let body = buf[end + 4..(end + 4 + len).min(buf.len())].to_vec();
                        buf.drain(..(end + 4 + len).min(buf.len()));
                        sink.lock().unwrap().push((path, headers, body));
                        let _ = sock
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                            .await;
                        continue;
                    }
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            });
        }
    });
    (url, got)
}

fn spans(got: &Received) -> Vec<Span> {
    got.lock()
        .unwrap()
        .iter()
        .filter_map(|(_, _, body)| ExportTraceServiceRequest::decode(body.as_slice()).ok())
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect()
}

/// The first chat span the receiver got, waiting up to 5 s for the exporter's batch.
async fn chat_span(got: &Received) -> Option<Span> {
    for _ in 0..200 {
        if let Some(span) = spans(got).into_iter().find(|s| s.name.starts_with("chat ")) {
            return Some(span);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

fn attr(span: &Span, key: &str) -> Option<AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

#[tokio::test]
async fn provider_calls_reach_an_otlp_receiver_as_genai_spans() {
    let (url, got) = receiver().await;
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".into(), url));
    opts.env.push((
        "OTEL_EXPORTER_OTLP_HEADERS".into(),
        "x-team=sidekick-tests".into(),
    ));
    opts.env
        .push(("OTEL_BSP_SCHEDULE_DELAY".into(), "50".into()));
    let s = Sidecar::start(opts).await;
    s.connect_openai("gpt-4o-mini").await;
    fake.push(Reply::Sse(sse::text_reply(
        "gpt-4o-mini",
        &["the answer xyzzy"],
        "stop",
        Some((1000, 500)),
    )));
    s.request(
        "sidekick/chat",
        json!({"chatId": "o1", "messages": [{"role": "user", "content": "a very private question"}]}),
    )
    .await
    .unwrap();
    let chat = chat_span(&got).await.expect("a chat span arrived");
    assert_eq!(chat.name, "chat gpt-4o-mini");
    assert_eq!(chat.kind, 3, "SPAN_KIND_CLIENT");
    let s_ = |v: Option<AnyValue>| match v {
        Some(AnyValue::StringValue(s)) => s,
        other => panic!("not a string: {other:?}"),
    };
    let i_ = |v: Option<AnyValue>| match v {
        Some(AnyValue::IntValue(i)) => i,
        other => panic!("not an int: {other:?}"),
    };
    assert_eq!(s_(attr(&chat, "gen_ai.operation.name")), "chat");
    assert_eq!(s_(attr(&chat, "gen_ai.provider.name")), "openai");
    assert_eq!(s_(attr(&chat, "gen_ai.request.model")), "gpt-4o-mini");
    assert_eq!(
        s_(attr(&chat, "gen_ai.response.model")),
        "gpt-4o-mini-2024-07-18"
    );
    assert!(
        s_(attr(&chat, "gen_ai.response.id")).starts_with("chatcmpl-"),
        "the answer's own id"
    );
    assert!(s_(attr(&chat, "sidekick.request_id")).starts_with("req_"));
    match attr(&chat, "gen_ai.response.finish_reasons") {
        Some(AnyValue::ArrayValue(a)) => assert_eq!(
            a.values[0].value,
            Some(AnyValue::StringValue("stop".into()))
        ),
        other => panic!("finish reasons: {other:?}"),
    }
    assert_eq!(i_(attr(&chat, "gen_ai.usage.input_tokens")), 1000);
    assert_eq!(i_(attr(&chat, "gen_ai.usage.output_tokens")), 500);
    match attr(&chat, "sidekick.cost_usd") {
        Some(AnyValue::DoubleValue(c)) => {
            assert!((c - (1000.0 * 0.15e-6 + 500.0 * 0.6e-6)).abs() < 1e-12)
        }
        other => panic!("cost: {other:?}"),
    }
    assert!(chat.end_time_unix_nano >= chat.start_time_unix_nano);
    // The key check of the connect is a span too.
    assert!(spans(&got).iter().any(|s| s.name == "validate_key"));
    let requests = got.lock().unwrap().clone();
    assert!(requests.iter().all(|(path, _, _)| path == "/v1/traces"));
    assert!(
        requests.iter().all(|(_, h, _)| h
            .iter()
            .any(|(k, v)| k == "x-team" && v == "sidekick-tests")),
        "OTEL_EXPORTER_OTLP_HEADERS is sent"
    );
    for (_, _, body) in &requests {
        let text = String::from_utf8_lossy(body);
        assert!(!text.contains(VALID_KEY), "a key in a span");
        assert!(
            !text.contains("a very private question"),
            "a prompt in a span"
        );
        assert!(!text.contains("xyzzy"), "an answer in a span");
    }
}

#[tokio::test]
async fn a_refused_call_carries_its_error_type_and_the_traces_endpoint_wins() {
    let (url, got) = receiver().await;
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    // The general endpoint goes nowhere; the traces one, used as given, is the receiver.
    opts.env.push((
        "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
        "http://127.0.0.1:9".into(),
    ));
    opts.env.push((
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT".into(),
        format!("{url}/v1/traces"),
    ));
    opts.env
        .push(("OTEL_BSP_SCHEDULE_DELAY".into(), "50".into()));
    let s = Sidecar::start(opts).await;
    s.connect_openai("gpt-4o-mini").await;
    fake.push(fake_providers::errors::insufficient_quota());
    s.request(
        "sidekick/chat",
        json!({"chatId": "o2", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await
    .unwrap_err();
    let refused = chat_span(&got)
        .await
        .expect("the chat span reached the traces endpoint");
    assert_eq!(
        attr(&refused, "error.type"),
        Some(AnyValue::StringValue("quota_exceeded".into()))
    );
    assert_eq!(
        attr(&refused, "http.response.status_code"),
        Some(AnyValue::IntValue(429))
    );
    let status = refused.status.clone().expect("a span status");
    assert_eq!(status.code, 2, "STATUS_CODE_ERROR");
}
