//! The `fake-providers` binary: its one stdout line, its flags and its `[fake:…]` triggers.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Kills the child even when an assertion fails half-way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Running, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-providers"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("fake-providers listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end();
    // The address, whatever base path the flavor appends.
    let addr = url.split('/').next().unwrap();
    (Running(child), addr.parse().unwrap())
}

fn body(text: &str, stream: bool) -> String {
    serde_json::json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "messages": [{"role": "user", "content": "earlier [fake:quota]"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": text}],
    })
    .to_string()
}

fn content(text: &str) -> String {
    common::events(text)
        .iter()
        .filter(|e| *e != "[DONE]")
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| {
            c.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn triggers_script_the_reply() {
    let (_child, addr) = spawn(&["--port", "0"]);

    let r = common::chat(addr, &body("hi [fake:rate-limit]", true)).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after-ms"), Some("1500"));
    assert_eq!(r.json()["error"]["code"], "rate_limit_exceeded");
    let r = common::chat(addr, &body("hi [fake:rate-limit]", true)).await;
    assert_eq!(r.status, 200, "the retry of the same message goes through");

    let r = common::chat(addr, &body("[fake:quota]", true)).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (429, Some("insufficient_quota"))
    );
    let r = common::chat(addr, &body("[fake:401]", true)).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let r = common::chat(addr, &body("[fake:500]", true)).await;
    assert_eq!(r.status, 500);

    let r = common::chat(addr, &body("[fake:drop]", true)).await;
    assert_eq!(r.status, 200);
    assert!(!r.complete);
    assert!(!r.text().contains("[DONE]"));

    let r = common::chat(addr, &body("[fake:markdown]", true)).await;
    let md = content(&r.text());
    assert!(
        md.starts_with("# Fake answer")
            && md.contains("\n```python\n")
            && md.contains("\n- a heading")
    );

    let started = std::time::Instant::now();
    let r = common::chat(addr, &body("[fake:slow]", true)).await;
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));
    assert_eq!(common::events(&r.text()).len(), 1 + 60 + 1 + 1);

    // Only the last user message counts: the earlier [fake:quota] is history.
    let r = common::chat(addr, &body("plain", false)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["choices"][0]["message"]["content"],
        "Hello! I am the fake OpenAI server. You said: plain"
    );
}

#[tokio::test]
async fn flags_shape_the_server() {
    let (_child, addr) = spawn(&[
        "--port",
        "0",
        "--key",
        "sk-bench",
        "--org",
        "org-a",
        "--tokens",
        "7",
        "--token-delay-ms",
        "1",
    ]);
    let r = common::send(
        addr,
        "GET",
        "/v1/models",
        &[
            ("authorization", "Bearer sk-bench"),
            ("openai-organization", "org-b"),
        ],
        None,
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "mismatched_organization");
    let r = common::send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", "Bearer sk-bench")],
        Some(&body("count", true)),
    )
    .await;
    assert_eq!(common::events(&r.text()).len(), 1 + 7 + 1 + 1);

    let (_child, addr) = spawn(&["--no-key", "--port", "0"]);
    let r = common::send(addr, "GET", "/v1/models", &[], None).await;
    assert_eq!(r.status, 200);
}

#[test]
fn each_flavor_prints_its_base_url_and_answers_in_its_own_format() {
    for (flavor, suffix) in [
        ("anthropic", "/v1"),
        ("azure", ""),
        ("openrouter", "/api/v1"),
        ("gemini", "/v1beta/openai"),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fake-providers"))
            .args(["--flavor", flavor, "--deployment", "dep-1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let _running = Running(child);
        let url = line
            .trim_end()
            .strip_prefix("fake-providers listening on http://")
            .unwrap();
        assert!(
            url.ends_with(suffix) && url.len() > suffix.len(),
            "{flavor}: {url}"
        );
    }
    let (_running, addr) = spawn(&["--flavor", "anthropic"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ask = r#"{"model":"claude-sonnet-4-5-20250929","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"[fake:quota]"}]}"#;
    let r = rt.block_on(common::send(
        addr,
        "POST",
        "/v1/messages",
        &[
            ("x-api-key", common::KEY),
            ("anthropic-version", "2023-06-01"),
        ],
        Some(ask),
    ));
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("credit balance is too low"),
        "the trigger speaks Anthropic"
    );
}
