//! Key storage when no keychain works: guidance `keychain_unavailable`, or the client's
//! secret storage when the client offers it. The Secret Service is made unreachable by
//! pointing the session bus address at nothing.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fake_providers::FakeProvider;
use serde_json::{Value, json};
use support::{Options, Sidecar, VALID_KEY};

fn no_keychain(home: &std::path::Path, base_url: String) -> Options {
    let mut opts = Options::new(home);
    opts.openai_base_url = Some(base_url);
    opts.env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        format!("unix:path={}/no-bus", home.display()),
    ));
    opts
}

#[tokio::test]
async fn no_keychain_means_guidance_and_nothing_stored() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = Sidecar::start(no_keychain(home.path(), fake.base_url())).await;
    let g = s.connect_openai_refused().await;
    assert_eq!(g["kind"], "keychain_unavailable");
    assert!(
        g["detail"].as_str().unwrap().contains("gnome-keyring"),
        "says what to install: {g}"
    );
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(state["providers"][0]["connected"], false);
    assert!(!support::all_files_text(home.path()).contains(VALID_KEY));
}

#[tokio::test]
async fn client_secret_storage_takes_over_when_no_keychain_works() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let secrets: Arc<Mutex<HashMap<String, String>>> = Default::default();
    let mut opts = no_keychain(home.path(), fake.base_url());
    opts.init = json!({"clientSecretStorage": true});
    opts.client_secrets = Some(secrets.clone());
    let s = Sidecar::start(opts.clone()).await;
    let before = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(before["keyStore"], Value::Null, "nothing stored yet");
    s.connect_openai("gpt-4o-mini").await;
    let slot = format!("sidekick:openai@{}", fake.base_url());
    assert_eq!(
        secrets.lock().unwrap().get(&slot).map(String::as_str),
        Some(VALID_KEY)
    );
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(state["providers"][0]["keySource"], "client");
    assert_eq!(
        state["keyStore"], "client",
        "a key prompt can say where the next key goes"
    );
    s.shutdown().await;

    // A new server reads the key back from the client.
    let s = Sidecar::start(opts).await;
    let r = s
        .request(
            "sidekick/chat",
            json!({"chatId": "c", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await
        .unwrap();
    assert_eq!(r["finishReason"], "stop");
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
    assert!(
        secrets.lock().unwrap().is_empty(),
        "disconnect deleted it from the client"
    );
    assert!(!support::all_files_text(home.path()).contains(VALID_KEY));
}

#[tokio::test]
async fn a_client_store_that_quotes_the_key_in_its_error_does_not_leak_it() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let secrets: Arc<Mutex<HashMap<String, String>>> = Default::default();
    secrets
        .lock()
        .unwrap()
        .insert(support::REFUSING_STORE.into(), String::new());
    let mut opts = no_keychain(home.path(), fake.base_url());
    opts.init = json!({"clientSecretStorage": true});
    opts.client_secrets = Some(secrets.clone());
    let s = Sidecar::start(opts).await;
    let e = s
        .request(
            "sidekick/connect",
            json!({ "provider": "openai", "apiKey": VALID_KEY }),
        )
        .await
        .expect_err("the store failed");
    let card = support::guidance(&e).to_string();
    assert!(
        card.contains("disk full"),
        "the client's reason is kept: {card}"
    );
    assert!(!card.contains(VALID_KEY), "{card}");
    let (_, stderr) = s.shutdown().await;
    assert!(stderr.contains("disk full"), "logged");
    assert!(!stderr.contains(VALID_KEY), "not in the log");
}
