//! HTTPS as the real providers serve it, through the real binary: the fake serves TLS with a
//! certificate from a CA made for the test. With that CA in the trust store (`SSL_CERT_FILE`,
//! as a company adds its root CA) the sidecar connects, lists models and streams an answer on
//! rustls with ring; with another CA it refuses the certificate, says so in a network guidance,
//! sends no key over the connection and stores none.
#![allow(clippy::unwrap_used)]

mod support;

use fake_providers::FakeProvider;
use serde_json::json;
use support::{Options, Sidecar, VALID_KEY, secret_tool_lookup};

fn trust(dir: &std::path::Path, pem: &str) -> String {
    let path = dir.join("roots.pem");
    std::fs::write(&path, pem).unwrap();
    path.to_string_lossy().into_owned()
}

fn options(home: &std::path::Path, base_url: String, roots: String) -> Options {
    let mut opts = Options::new(home);
    opts.openai_base_url = Some(base_url);
    opts.env.push(("SSL_CERT_FILE".into(), roots));
    opts.remove_env.push("SSL_CERT_DIR".into());
    opts
}

#[tokio::test]
async fn a_trusted_https_provider_connects_and_streams() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().tls(true).start().await.unwrap();
    assert!(fake.base_url().starts_with("https://127.0.0.1:"));
    let roots = trust(home.path(), fake.ca_pem().unwrap());
    let s = Sidecar::start(options(home.path(), fake.base_url(), roots)).await;
    s.connect_openai("gpt-4o-mini").await;
    let models = s
        .request("sidekick/listModels", json!({"provider": "openai"}))
        .await
        .unwrap();
    assert!(
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "gpt-4o-mini"),
        "{models}"
    );
    let r = s
        .request(
            "sidekick/chat",
            json!({"chatId": "t1", "messages": [{"role": "user", "content": "over TLS"}]}),
        )
        .await
        .unwrap();
    assert_eq!(
        r["text"],
        "Hello! I am the fake OpenAI server. You said: over TLS"
    );
    // The chat went over the TLS listener (the fake records only what it decrypted).
    assert_eq!(fake.chat_requests().len(), 1);
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_with_guidance_and_nothing_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().tls(true).start().await.unwrap();
    // Another CA: a certificate the machine does not trust, as behind an inspecting proxy.
    let stranger = FakeProvider::builder().tls(true).start().await.unwrap();
    let roots = trust(home.path(), stranger.ca_pem().unwrap());
    let opts = options(home.path(), fake.base_url(), roots);
    let s = Sidecar::start(opts.clone()).await;
    let g = s.connect_openai_refused().await;
    assert_eq!(g["kind"], "network", "{g}");
    let detail = g["detail"].as_str().unwrap();
    assert!(detail.contains("the secure connection failed"), "{detail}");
    assert!(!g.to_string().contains(VALID_KEY));
    // The handshake failed before any request: the fake saw none, so the key never left.
    assert!(fake.requests().is_empty());
    let account = format!("openai@{}", fake.base_url());
    assert_eq!(secret_tool_lookup(&opts.keyring_service, &account), None);
}
