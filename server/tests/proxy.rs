//! Proxies from the environment are honoured: requests go through `HTTP_PROXY` unless
//! `NO_PROXY` names the host, and a failing proxy becomes `network` guidance.
#![allow(clippy::unwrap_used)]

mod support;

use fake_providers::FakeProvider;
use serde_json::json;
use support::{Options, Sidecar, guidance};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A "proxy" that records the first request line it gets and answers 502, like a proxy
/// whose upstream is down.
async fn refusing_proxy() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            let _ = tx.send(head.lines().next().unwrap_or_default().to_string());
            let _ = sock
                .write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (format!("http://{addr}"), rx)
}

#[tokio::test]
async fn requests_go_through_the_proxy_unless_no_proxy_says_otherwise() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder()
        .require_key(false)
        .start()
        .await
        .unwrap();
    let (proxy, mut seen) = refusing_proxy().await;

    let mut opts = Options::new(home.path());
    opts.remove_env = vec!["NO_PROXY".into(), "no_proxy".into()];
    opts.env = vec![
        ("HTTP_PROXY".into(), proxy.clone()),
        ("http_proxy".into(), proxy.clone()),
    ];
    let s = Sidecar::start(opts).await;
    let e = s
        .request(
            "sidekick/connect",
            json!({"provider": "compatible", "baseUrl": fake.base_url()}),
        )
        .await
        .unwrap_err();
    let line = seen.recv().await.unwrap();
    assert!(
        line.starts_with(&format!("GET {}/models", fake.base_url())),
        "the proxy got: {line}"
    );
    let g = guidance(&e);
    assert_eq!(g["httpStatus"], 502);
    assert!(fake.requests().is_empty(), "nothing went around the proxy");
    s.shutdown().await;

    let mut opts = Options::new(home.path());
    let host = fake.addr().ip().to_string();
    opts.env = vec![
        ("HTTP_PROXY".into(), proxy.clone()),
        ("http_proxy".into(), proxy),
        ("NO_PROXY".into(), host.clone()),
        ("no_proxy".into(), host),
    ];
    let s = Sidecar::start(opts).await;
    s.request(
        "sidekick/connect",
        json!({"provider": "compatible", "baseUrl": fake.base_url()}),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.requests().len(),
        1,
        "NO_PROXY sent it straight to the server"
    );
    assert!(seen.try_recv().is_err(), "the proxy saw nothing more");
}
