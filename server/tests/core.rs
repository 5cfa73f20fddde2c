//! The sidecar core over stdio: providers, connect/disconnect, model selection, bad input.
//! Needs a Secret Service (run through `scripts/test.sh`, which starts one).
#![allow(clippy::unwrap_used)]

mod support;

use fake_providers::FakeProvider;
use serde_json::{Value, json};
use support::{Options, Sidecar, VALID_KEY, all_files_text, guidance, secret_tool_lookup};

async fn fake() -> fake_providers::FakeHandle {
    FakeProvider::builder()
        .allowed_orgs(["org-sidekick"])
        .start()
        .await
        .unwrap()
}

async fn sidecar(home: &std::path::Path, fake: &fake_providers::FakeHandle) -> (Sidecar, Options) {
    let mut opts = Options::new(home);
    opts.openai_base_url = Some(fake.base_url());
    (Sidecar::start(opts.clone()).await, opts)
}

fn provider<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn initialize_announces_protocol_version_and_lists_providers() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, _) = sidecar(home.path(), &fake).await;
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    let openai = provider(&state, "openai");
    assert_eq!(openai["connected"], false);
    assert_eq!(openai["requiresKey"], true);
    assert_eq!(openai["baseUrl"], fake.base_url());
    assert_eq!(openai["keyHint"], Value::Null);
    let compatible = provider(&state, "compatible");
    assert_eq!(compatible["requiresKey"], false);
    assert_eq!(compatible["baseUrlEditable"], true);
    assert_eq!(state["active"], Value::Null);
    assert!(fake.requests().is_empty(), "listing providers calls nobody");
}

#[tokio::test]
async fn initialize_result_has_server_info_and_capability() {
    let home = tempfile::tempdir().unwrap();
    let mut opts = Options::new(home.path());
    opts.init = json!({"retry": "lots", "bogus": 1});
    let s = Sidecar::start(opts).await;
    // Wrong-typed settings are logged and ignored; the server lives on.
    let r = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert!(r["providers"].is_array());
    let (_, stderr) = s.shutdown().await;
    assert!(
        stderr.contains("settings: retry should be an object"),
        "{stderr}"
    );
    assert!(stderr.contains("unknown setting bogus"), "{stderr}");
}

#[tokio::test]
async fn wrong_key_is_refused_with_guidance_and_nothing_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, opts) = sidecar(home.path(), &fake).await;
    let wrong = "sk-wrong-key-1234567890abcdef";
    let e = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": wrong}),
        )
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "invalid_key");
    assert_eq!(g["httpStatus"], 401);
    assert_eq!(g["providerCode"], "invalid_api_key");
    assert!(g["requestId"].as_str().unwrap().starts_with("req_"));
    assert_eq!(e.message, g["title"].as_str().unwrap());
    let actions = g["actions"].as_array().unwrap();
    assert_eq!(
        actions[0],
        json!({"title": "Re-enter key", "command": "sidekick.selectYourAI", "arguments": ["openai"]}),
        "Re-enter key goes straight to the provider that refused it"
    );
    assert!(
        actions
            .iter()
            .any(|a| a["url"].as_str().is_some_and(|u| u.contains("api-keys")))
    );
    let detail = g["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("The key sk-…cdef was refused"),
        "{detail}"
    );
    // One validation request, and nothing kept anywhere.
    assert_eq!(fake.requests().len(), 1);
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(provider(&state, "openai")["connected"], false);
    let account = format!("openai@{}", fake.base_url());
    assert_eq!(secret_tool_lookup(&opts.keyring_service, &account), None);
    let (stdout, stderr) = s.shutdown().await;
    for text in [stdout, stderr, all_files_text(home.path())] {
        assert!(!text.contains(wrong), "the key leaked: {text}");
    }
}

#[tokio::test]
async fn empty_and_padded_keys() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, opts) = sidecar(home.path(), &fake).await;
    for bad in ["", "   \n\t"] {
        let e = s
            .request(
                "sidekick/connect",
                json!({"provider": "openai", "apiKey": bad}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, -32602);
        assert!(e.message.contains("apiKey is empty"), "{}", e.message);
    }
    let e = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": "sk-two words"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("apiKey"));
    assert!(fake.requests().is_empty(), "refused before any request");

    let padded = format!("  {VALID_KEY}\r\n");
    let r = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": padded}),
        )
        .await
        .unwrap();
    assert_eq!(r["connected"], true);
    assert_eq!(r["keyHint"], "sk-…WXYZ");
    let auth = &fake.requests()[0].headers["authorization"];
    assert_eq!(
        auth,
        &format!("Bearer {VALID_KEY}"),
        "the key went out trimmed"
    );
    let account = format!("openai@{}", fake.base_url());
    assert_eq!(
        secret_tool_lookup(&opts.keyring_service, &account).as_deref(),
        Some(VALID_KEY),
        "the trimmed key is what the keychain holds"
    );
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn organization_and_project_headers_are_sent_and_checked() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, _) = sidecar(home.path(), &fake).await;
    let e = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": VALID_KEY, "organization": "org-wrong"}),
        )
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "organization_mismatch");
    assert!(g["detail"].as_str().unwrap().contains("org-wrong"));

    let r = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": VALID_KEY, "organization": " org-sidekick ", "project": "proj_1"}),
        )
        .await
        .unwrap();
    assert_eq!(r["connected"], true);
    let last = fake.requests().last().unwrap().clone();
    assert_eq!(last.headers["openai-organization"], "org-sidekick");
    assert_eq!(last.headers["openai-project"], "proj_1");
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(provider(&state, "openai")["organization"], "org-sidekick");
    assert_eq!(provider(&state, "openai")["project"], "proj_1");
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn models_are_chat_first_newest_first_and_cached_until_refresh() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, _) = sidecar(home.path(), &fake).await;
    let r = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": VALID_KEY}),
        )
        .await
        .unwrap();
    let models = r["models"].as_array().unwrap();
    let ids: Vec<&str> = models
        .iter()
        .filter(|m| m["chat"] == true)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"gpt-4o-mini") && ids.contains(&"gpt-5"),
        "{ids:?}"
    );
    assert_eq!(
        models[0]["recommended"], true,
        "a suggested model first: {:?}",
        models[0]
    );
    assert_eq!(
        models.iter().filter(|m| m["recommended"] == true).count(),
        1
    );
    let first_other = models.iter().position(|m| m["chat"] == false).unwrap();
    assert!(
        models[first_other..].iter().all(|m| m["chat"] == false),
        "non-chat models are listed after every chat model"
    );
    let everything: Vec<&str> = models.iter().map(|m| m["id"].as_str().unwrap()).collect();
    for not_chat in [
        "text-embedding-3-small",
        "whisper-1",
        "tts-1",
        "dall-e-3",
        "omni-moderation-latest",
        "babbage-002",
        "gpt-3.5-turbo-instruct",
        "gpt-4o-realtime-preview",
        "gpt-4o-audio-preview",
        "gpt-image-1",
    ] {
        assert!(!ids.contains(&not_chat), "{not_chat} listed: {ids:?}");
        assert!(
            everything.contains(&not_chat),
            "{not_chat} is kept for Show all models"
        );
    }
    let pos = |id: &str| ids.iter().position(|m| *m == id).unwrap();
    assert!(pos("gpt-5") < pos("gpt-4o"), "newest family first: {ids:?}");
    assert!(pos("gpt-4o") < pos("gpt-3.5-turbo"), "{ids:?}");
    let before = fake.requests().len();
    let cached = s
        .request("sidekick/listModels", json!({"provider": "openai"}))
        .await
        .unwrap();
    assert_eq!(cached["models"], r["models"]);
    assert_eq!(fake.requests().len(), before, "served from the cache");
    s.request(
        "sidekick/listModels",
        json!({"provider": "openai", "refresh": true}),
    )
    .await
    .unwrap();
    assert_eq!(fake.requests().len(), before + 1, "refresh asks again");
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_model_is_refused_with_close_alternatives() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, _) = sidecar(home.path(), &fake).await;
    s.request(
        "sidekick/connect",
        json!({"provider": "openai", "apiKey": VALID_KEY}),
    )
    .await
    .unwrap();
    let e = s
        .request(
            "sidekick/selectModel",
            json!({"provider": "openai", "model": "gpt-4o-mni"}),
        )
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "model_not_found");
    assert!(g["detail"].as_str().unwrap().contains("gpt-4o-mini"), "{g}");
    assert!(
        g["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["command"] == "sidekick.selectModel")
    );
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn restart_keeps_the_connection_and_the_model() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, opts) = sidecar(home.path(), &fake).await;
    s.connect_openai("gpt-4o-mini").await;
    let changed = s
        .wait_notification(std::time::Duration::from_secs(5), |m, p| {
            m == "sidekick/stateChanged" && p["active"]["model"] == "gpt-4o-mini"
        })
        .await;
    assert!(changed.is_some(), "selectModel announces the change");
    s.shutdown().await;

    let s = Sidecar::start(opts).await;
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(
        state["active"],
        json!({"provider": "openai", "model": "gpt-4o-mini"})
    );
    let openai = provider(&state, "openai");
    assert_eq!(openai["connected"], true);
    assert_eq!(openai["keySource"], "keychain");
    assert_eq!(openai["keyHint"], "sk-…WXYZ");
    assert_eq!(state["keyStore"], "keychain");
    // The key really comes back from the keychain: a chat authenticates with it.
    let r = s
        .request(
            "sidekick/chat",
            json!({"chatId": "after-restart", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await
        .unwrap();
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(
        fake.chat_requests().last().unwrap().headers["authorization"],
        format!("Bearer {VALID_KEY}")
    );
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn disconnect_forgets_everything_and_is_idempotent() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, opts) = sidecar(home.path(), &fake).await;
    s.connect_openai("gpt-4o").await;
    let account = format!("openai@{}", fake.base_url());
    assert!(secret_tool_lookup(&opts.keyring_service, &account).is_some());
    for _ in 0..2 {
        let r = s
            .request("sidekick/disconnect", json!({"provider": "openai"}))
            .await
            .unwrap();
        assert_eq!(r, json!({"provider": "openai", "connected": false}));
    }
    assert_eq!(
        secret_tool_lookup(&opts.keyring_service, &account),
        None,
        "the key left the keychain"
    );
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(state["active"], Value::Null);
    assert_eq!(provider(&state, "openai")["connected"], false);
    assert_eq!(provider(&state, "openai")["keyHint"], Value::Null);
    let e = s
        .request("sidekick/listModels", json!({"provider": "openai"}))
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "not_connected");
    let e = s
        .request(
            "sidekick/chat",
            json!({"chatId": "x", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "not_connected");
    assert_eq!(g["title"], "OpenAI is disconnected", "{g}");
    assert_eq!(
        g["actions"][0],
        json!({"title": "Connect OpenAI", "command": "sidekick.selectYourAI", "arguments": ["openai"]})
    );
    // Until another selection, and after a restart too: the state file remembers.
    drop(s);
    let (s, _) = sidecar(home.path(), &fake).await;
    let ask = json!({"chatId": "y", "messages": [{"role": "user", "content": "hi"}]});
    let e = s.request("sidekick/chat", ask.clone()).await.unwrap_err();
    assert_eq!(guidance(&e)["title"], "OpenAI is disconnected");
    s.connect_openai("gpt-4o").await;
    s.request("sidekick/disconnect", json!({"provider": "openai"}))
        .await
        .unwrap();
    s.connect_openai("gpt-4o-mini").await;
    s.request("sidekick/chat", ask).await.unwrap();
}

#[tokio::test]
async fn a_question_before_any_provider_is_chosen_says_so() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (s, _) = sidecar(home.path(), &fake).await;
    let e = s
        .request(
            "sidekick/chat",
            json!({"chatId": "x", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "not_connected");
    assert_eq!(g["title"], "Choose an AI first");
    assert!(
        !g["detail"].as_str().unwrap().contains("OpenAI"),
        "no provider is named before one was chosen: {g}"
    );
    assert_eq!(
        g["actions"],
        json!([{"title": "Select Your AI", "command": "sidekick.selectYourAI"}])
    );
}

#[tokio::test]
async fn bad_params_and_unknown_methods_never_stop_the_server() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let (mut s, _) = sidecar(home.path(), &fake).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "sidekick/connect",
            json!({"provider": "nope", "apiKey": "x"}),
            "provider",
        ),
        ("sidekick/connect", json!({"provider": 5}), "provider"),
        (
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": 42}),
            "apiKey",
        ),
        (
            "sidekick/connect",
            json!({"provider": "compatible", "baseUrl": "http://example.com/v1"}),
            "baseUrl",
        ),
        (
            "sidekick/connect",
            json!({"provider": "compatible", "baseUrl": "not a url"}),
            "baseUrl",
        ),
        (
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": VALID_KEY, "organization": "org one"}),
            "organization",
        ),
        ("sidekick/connect", json!([1, 2]), "invalid params"),
        ("sidekick/connect", Value::Null, "params"),
        ("sidekick/listModels", json!({}), "provider"),
        (
            "sidekick/selectModel",
            json!({"provider": "openai"}),
            "model",
        ),
        (
            "sidekick/chat",
            json!({"chatId": "c", "messages": "hi"}),
            "messages",
        ),
        (
            "sidekick/chat",
            json!({"chatId": "c", "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            "sidekick/chat",
            json!({"chatId": "c", "messages": []}),
            "messages",
        ),
        (
            "sidekick/chat",
            json!({"chatId": "", "messages": [{"role": "user", "content": "x"}]}),
            "chatId",
        ),
        (
            "sidekick/chat",
            json!({"chatId": "c", "messages": [{"role": "user", "content": "x"}], "temperature": 9}),
            "temperature",
        ),
        (
            "sidekick/disconnect",
            json!({"provider": "nope"}),
            "provider",
        ),
    ];
    for (method, params, field) in cases {
        let e = s.request(method, params.clone()).await.unwrap_err();
        assert_eq!(e.code, -32602, "{method} {params}: {e:?}");
        assert!(
            e.message.contains(field),
            "{method} {params}: {}",
            e.message
        );
    }
    let e = s
        .request("sidekick/doesNotExist", json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.code, -32601);
    // A malformed frame body must not kill it either.
    s.notify("sidekick/garbage", json!("x"));
    assert!(fake.requests().is_empty(), "bad input reached no provider");
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert!(state["providers"].is_array(), "still serving");
    assert!(s.is_running());
}

#[tokio::test]
async fn compatible_provider_without_a_key() {
    let home = tempfile::tempdir().unwrap();
    let local = FakeProvider::builder()
        .require_key(false)
        .start()
        .await
        .unwrap();
    let (s, _) = sidecar(home.path(), &local).await;
    let r = s
        .request(
            "sidekick/connect",
            json!({"provider": "compatible", "baseUrl": local.base_url()}),
        )
        .await
        .unwrap();
    assert_eq!(r["connected"], true);
    assert_eq!(r["keyHint"], Value::Null);
    assert!(
        !local.requests()[0].headers.contains_key("authorization"),
        "no empty bearer header"
    );
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    let c = provider(&state, "compatible");
    assert_eq!(c["baseUrl"], local.base_url());
    assert_eq!(c["keySource"], Value::Null);
}

#[tokio::test]
async fn env_key_wins_and_is_labelled() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.env
        .push(("OPENAI_API_KEY".into(), format!(" {VALID_KEY} ")));
    let s = Sidecar::start(opts).await;
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    let openai = provider(&state, "openai");
    assert_eq!(openai["connected"], true);
    assert_eq!(openai["keySource"], "env");
    assert_eq!(openai["keyHint"], "sk-…WXYZ");
    let r = s
        .request("sidekick/connect", json!({"provider": "openai"}))
        .await
        .unwrap();
    assert_eq!(r["connected"], true);
}

#[tokio::test]
async fn version_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sidekick-server"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("sidekick-server {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn corrupt_state_file_is_reported_and_replaced() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("state.json"), "{ definitely not json").unwrap();
    let s = Sidecar::start(Options::new(home.path())).await;
    let warning = s
        .wait_notification(std::time::Duration::from_secs(5), |m, p| {
            m == "window/showMessage" && p["message"].as_str().unwrap_or("").contains("unreadable")
        })
        .await;
    assert!(warning.is_some(), "the user is told");
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(state["active"], Value::Null);
    assert!(home.path().join("state.json.corrupt").exists());
}

#[tokio::test]
async fn demo_provider_appears_only_when_asked_for_and_needs_no_key() {
    let home = tempfile::tempdir().unwrap();
    let demo = FakeProvider::builder()
        .require_key(false)
        .start()
        .await
        .unwrap();
    let plain = Sidecar::start(Options::new(home.path())).await;
    let state = plain
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert!(
        state["providers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "demo")
    );
    plain.shutdown().await;

    let mut opts = Options::new(home.path());
    opts.env
        .push(("SIDEKICK_DEMO_BASE_URL".into(), demo.base_url()));
    let s = Sidecar::start(opts).await;
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    let d = provider(&state, "demo");
    assert!(d["name"].as_str().unwrap().contains("demo"));
    assert_eq!(d["baseUrl"], demo.base_url());
    assert_eq!(d["requiresKey"], false);
    s.request("sidekick/connect", json!({"provider": "demo"}))
        .await
        .unwrap();
    s.request(
        "sidekick/selectModel",
        json!({"provider": "demo", "model": "gpt-4o-mini"}),
    )
    .await
    .unwrap();
    let r = s
        .request(
            "sidekick/chat",
            json!({"chatId": "d", "messages": [{"role": "user", "content": "hello demo"}]}),
        )
        .await
        .unwrap();
    assert!(r["text"].as_str().unwrap().contains("hello demo"));
    let e = s
        .request("sidekick/connect", json!({"provider": "openai", "apiKey": VALID_KEY, "baseUrl": "https://elsewhere.example/v1"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602, "a fixed base URL cannot be changed: {e:?}");
}

#[tokio::test]
async fn malformed_frames_are_answered_and_the_server_lives_on() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Sidecar::start(Options::new(home.path())).await;
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{}", body.len(), body).into_bytes();
    s.send_raw(&frame("{not json"));
    let shapeless = s.expect_response(9001);
    s.send_raw(&frame(r#"{"jsonrpc":"2.0","id":9001,"method":7}"#));
    s.send_raw(&frame(r#"{"jsonrpc":"2.0","id":9002,"method":"sidekick/chat","params":{"chatId":"x","messages":[{"role":"user","content":"\ud800"}]}}"#));
    s.send_raw(b"Content-Length: many\r\n\r\n");
    let nonsense = s.expect_response(9003);
    s.send_raw(&frame(
        r#"{"jsonrpc":"2.0","id":9003,"method":"sidekick/connect","params":"nonsense"}"#,
    ));

    let e = support::finish(shapeless).await.unwrap_err();
    assert_eq!(
        e.code, -32600,
        "a request without a method name is answered, not left hanging"
    );
    let e = support::finish(nonsense).await.unwrap_err();
    assert_eq!(e.code, -32602);
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert!(
        state["providers"].is_array(),
        "still answering after garbage"
    );
    let orphans = s.unparsed();
    assert_eq!(
        orphans.iter().filter(|e| e.contains("-32700")).count(),
        3,
        "not JSON, an unpaired surrogate, a bad length: each got a parse error: {orphans:?}"
    );
    assert!(s.is_running());
}

#[tokio::test]
async fn exit_ends_the_process_at_once_with_the_code_lsp_asks_for() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Sidecar::start(Options::new(home.path())).await;
    s.request("shutdown", Value::Null).await.unwrap();
    s.notify("exit", Value::Null);
    let code = s.exit_code(std::time::Duration::from_secs(3)).await;
    assert_eq!(code, Some(0), "shutdown then exit: success");

    // `exit` without `shutdown`: LSP says code 1, and the log says why.
    let mut s = Sidecar::start(Options::new(home.path())).await;
    s.notify("exit", Value::Null);
    let code = s.exit_code(std::time::Duration::from_secs(3)).await;
    assert_eq!(code, Some(1));
    // The log's reader thread may still be draining the closed pipe.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while !s.stderr().contains("exit without shutdown") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        s.stderr().contains("exit without shutdown"),
        "{}",
        s.stderr()
    );
}

/// `initialize` and `initialized` as one block of LSP frames; the end of input ends the
/// session once the request is answered (more requests in the same block would run before
/// `initialize` is done).
fn session_frames() -> Vec<u8> {
    let mut out = Vec::new();
    for msg in [
        lsp_server::Message::Request(lsp_server::Request::new(
            1.into(),
            "initialize".into(),
            json!({ "capabilities": {} }),
        )),
        lsp_server::Message::Notification(lsp_server::Notification::new(
            "initialized".into(),
            json!({}),
        )),
    ] {
        msg.write(&mut out).unwrap();
    }
    out
}

/// The ids of the responses in a block of LSP frames, in order.
fn response_ids(mut bytes: &[u8]) -> Vec<i64> {
    let mut ids = Vec::new();
    while let Some(msg) = lsp_server::Message::read(&mut bytes).unwrap() {
        if let lsp_server::Message::Response(r) = msg {
            assert!(
                r.response_result.is_ok(),
                "an error: {:?}",
                r.response_result
            );
            ids.push(r.id.to_string().parse().unwrap());
        }
    }
    ids
}

/// The sidecar with debug logs into `log`.
fn bare_command(home: &std::path::Path, log: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sidekick-server"));
    cmd.env("SIDEKICK_HOME", home)
        .env("SIDEKICK_KEYRING_SERVICE", support::unique_service())
        .env("SIDEKICK_LOG", "debug")
        .env_remove("OPENAI_API_KEY")
        .stderr(std::fs::File::create(log).unwrap());
    cmd
}

/// Node (so VS Code) gives a child Unix sockets for stdio, Rust and most editors give pipes
/// (every other test), a shell may give files: all of them carry the protocol.
#[test]
fn stdio_may_be_sockets_or_files() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let (mut to_server, server_in) = UnixStream::pair().unwrap();
    let (mut from_server, server_out) = UnixStream::pair().unwrap();
    let mut child = bare_command(home.path(), &log)
        .stdin(std::os::fd::OwnedFd::from(server_in))
        .stdout(std::os::fd::OwnedFd::from(server_out))
        .spawn()
        .unwrap();
    to_server.write_all(&session_frames()).unwrap();
    to_server.shutdown(std::net::Shutdown::Write).unwrap();
    from_server
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut out = Vec::new();
    from_server.read_to_end(&mut out).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(response_ids(&out), [1], "over sockets");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("stdin is read on the reactor"), "{logged}");
    assert!(
        logged.contains("stdout is written on the reactor"),
        "{logged}"
    );

    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::write(&input, session_frames()).unwrap();
    let status = bare_command(home.path(), &log)
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::fs::File::create(&output).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        response_ids(&std::fs::read(&output).unwrap()),
        [1],
        "from and to files"
    );
    // Files cannot be polled: tokio's blocking-pool handles read and write them.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains("on the reactor"), "{logged}");
}

/// At the most verbose level a user can ask for, even for tower-lsp itself, the messages that
/// carry a key (`sidekick/connect`, `sidekick/secrets/store`) are not traced, and an oversized
/// key is refused before any request.
#[tokio::test]
async fn no_key_at_trace_level_and_no_megabyte_keys() {
    let home = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.env.push((
        "SIDEKICK_LOG".into(),
        "trace,tower_lsp_server=trace,tower_lsp_server::codec=trace".into(),
    ));
    opts.client_secrets = Some(Default::default());
    let s = Sidecar::start(opts).await;
    s.connect_openai("gpt-4o-mini").await;
    let wrong = "sk-wrong-trace-level-key-5678";
    let _ = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": wrong}),
        )
        .await
        .unwrap_err();
    let e = s
        .request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": "sk-".to_string() + &"x".repeat(2_000_000)}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("longer than"), "{}", e.message);
    assert!(e.message.len() < 600, "the error does not echo the input");
    let requests_before = fake.requests().len();
    let (_, stderr) = s.shutdown().await;
    assert_eq!(fake.requests().len(), requests_before);
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "verbose logs were on"
    );
    for key in [VALID_KEY, wrong] {
        assert!(!stderr.contains(key), "{key} is in the trace log");
    }
}

/// Two windows, two sidecars, one state file: each connects its own provider, neither erases
/// the other's, each hears of the other's change, and a restart finds both.
#[tokio::test]
async fn two_sidecars_on_one_home_keep_each_others_changes() {
    let home = tempfile::tempdir().unwrap();
    let openai = fake().await;
    let local = FakeProvider::builder()
        .require_key(false)
        .start()
        .await
        .unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(openai.base_url());
    let a = Sidecar::start(opts.clone()).await;
    let b = Sidecar::start(opts.clone()).await;
    // At once: whichever writes second reads the other's change under the file's lock.
    let (ra, rb) = tokio::join!(
        a.request(
            "sidekick/connect",
            json!({"provider": "openai", "apiKey": VALID_KEY})
        ),
        b.request(
            "sidekick/connect",
            json!({"provider": "compatible", "baseUrl": local.base_url()})
        ),
    );
    ra.unwrap();
    rb.unwrap();
    // Later, with A idle: A notices the file changed and tells its client.
    let seen = a.notifications().len();
    b.request("sidekick/disconnect", json!({"provider": "compatible"}))
        .await
        .unwrap();
    let heard = a
        .wait_notification_after(seen, std::time::Duration::from_secs(10), |m, p| {
            m == "sidekick/stateChanged" && provider(p, "compatible")["connected"] == false
        })
        .await;
    assert!(heard.is_some(), "window A hears that window B disconnected");
    let seen = a.notifications().len();
    b.request(
        "sidekick/connect",
        json!({"provider": "compatible", "baseUrl": local.base_url()}),
    )
    .await
    .unwrap();
    let heard = a
        .wait_notification_after(seen, std::time::Duration::from_secs(10), |m, p| {
            m == "sidekick/stateChanged" && provider(p, "compatible")["connected"] == true
        })
        .await;
    assert!(heard.is_some(), "window A hears that window B connected");
    b.request(
        "sidekick/selectModel",
        json!({"provider": "compatible", "model": "gpt-4o-mini"}),
    )
    .await
    .unwrap();
    drop((a, b));
    let c = Sidecar::start(opts).await;
    let state = c
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(provider(&state, "openai")["connected"], true);
    assert_eq!(provider(&state, "compatible")["connected"], true);
    assert_eq!(state["active"]["provider"], "compatible");
    let leftovers: Vec<String> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Thousands of long model ids: an unknown model is refused with close matches, and a request
/// sent right behind it is answered (the search runs off the async thread; its timing is in
/// the `model_search` benchmark).
#[tokio::test]
async fn an_unknown_model_among_thousands_does_not_hold_the_session() {
    let home = tempfile::tempdir().unwrap();
    let long = "long-descriptive-variant-name-".repeat(6);
    let models: Vec<fake_providers::ModelEntry> = (0..5000)
        .map(|i| fake_providers::ModelEntry::new(format!("vendor-{i:05}/model-{long}-{i}"), 1, "x"))
        .collect();
    let local = FakeProvider::builder()
        .require_key(false)
        .models(models)
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
    let wanted = format!("vendor-00042/model-{long}-nope");
    for _ in 0..3 {
        let (_, select) = s.start_request(
            "sidekick/selectModel",
            json!({"provider": "compatible", "model": wanted}),
        );
        let (_, list) = s.start_request("sidekick/listProviders", json!({}));
        assert!(support::finish(list).await.is_ok());
        let g = guidance(&support::finish(select).await.unwrap_err());
        assert_eq!(g["kind"], "model_not_found");
        assert!(
            g["detail"].as_str().unwrap().contains("vendor-00042"),
            "{g}"
        );
    }
    let e = s
        .request(
            "sidekick/selectModel",
            json!({"provider": "compatible", "model": "m".repeat(10_000_000)}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.len() < 600, "a long model name is not echoed");
}
