//! Anthropic, Azure OpenAI, OpenRouter and Gemini through the real binary over stdio, each
//! against the fake playing that provider: connect (right and wrong key, the right auth
//! header, nothing stored on failure), the model list, a streamed answer with usage, cancel,
//! every error as its guidance kind, a mid-stream error keeping the partial text (the deltas
//! add up to it), and retries that wait for each provider's own reset hint.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use fake_providers::{
    AnthropicHint, FakeHandle, FakeProvider, Flavor, ModelEntry, Reply, anthropic, azure, gemini,
    openrouter,
};
use serde_json::{Value, json};
use support::{Options, Sidecar, VALID_KEY, all_files_text, guidance, secret_tool_lookup};

/// One provider under test: its id, the fake playing it, and how a chat names its model.
struct Case {
    id: &'static str,
    fake: FakeHandle,
    model: &'static str,
}

async fn case(flavor: Flavor) -> Case {
    let mut b = FakeProvider::builder().flavor(flavor);
    let (id, model) = match flavor {
        Flavor::Anthropic => ("anthropic", "claude-sonnet-4-5-20250929"),
        Flavor::Azure => {
            b = b.deployments(["team-gpt4o"]);
            ("azure", "team-gpt4o")
        }
        Flavor::OpenRouter => ("openrouter", "openai/gpt-4o-mini"),
        Flavor::Gemini => ("gemini", "gemini-2.5-flash"),
        Flavor::OpenAi => ("openai", "gpt-4o-mini"),
    };
    Case {
        id,
        fake: b.start().await.unwrap(),
        model,
    }
}

fn options(home: &std::path::Path, c: &Case, init: Value) -> Options {
    let mut opts = Options::new(home);
    opts.init = init;
    let var = match c.id {
        "anthropic" => Some("SIDEKICK_ANTHROPIC_BASE_URL"),
        "openrouter" => Some("SIDEKICK_OPENROUTER_BASE_URL"),
        "gemini" => Some("SIDEKICK_GEMINI_BASE_URL"),
        _ => None,
    };
    if let Some(var) = var {
        opts.env.push((var.into(), c.fake.base_url()));
    }
    for var in [
        "ANTHROPIC_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "OPENROUTER_API_KEY",
        "GEMINI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
    ] {
        opts.remove_env.push(var.into());
    }
    opts
}

fn connect_params(c: &Case, key: &str) -> Value {
    let mut p = json!({"provider": c.id, "apiKey": key});
    if c.id == "azure" {
        p["baseUrl"] = json!(c.fake.base_url());
    }
    p
}

fn provider<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()
}

async fn connected(c: &Case, init: Value) -> (Sidecar, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let s = Sidecar::start(options(home.path(), c, init)).await;
    s.request("sidekick/connect", connect_params(c, VALID_KEY))
        .await
        .unwrap();
    s.request(
        "sidekick/selectModel",
        json!({"provider": c.id, "model": c.model}),
    )
    .await
    .unwrap();
    (s, home)
}

fn ask(chat_id: &str, text: &str) -> Value {
    json!({"chatId": chat_id, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]})
}

/// The header that carried the key, as each provider wants it.
fn auth_header(c: &Case, r: &fake_providers::RecordedRequest) -> Option<String> {
    match c.id {
        "anthropic" => r.headers.get("x-api-key").cloned(),
        "azure" => r.headers.get("api-key").cloned(),
        _ => r
            .headers
            .get("authorization")
            .map(|v| v.trim_start_matches("Bearer ").to_string()),
    }
}

const FLAVORS: [Flavor; 4] = [
    Flavor::Anthropic,
    Flavor::Azure,
    Flavor::OpenRouter,
    Flavor::Gemini,
];

#[tokio::test]
async fn a_wrong_key_is_refused_in_each_providers_words_and_nothing_is_stored() {
    for flavor in FLAVORS {
        let c = case(flavor).await;
        let home = tempfile::tempdir().unwrap();
        let opts = options(home.path(), &c, json!({}));
        let s = Sidecar::start(opts.clone()).await;
        let wrong = "sk-wrong-0000000000000000ABCD";
        let g = guidance(
            &s.request("sidekick/connect", connect_params(&c, wrong))
                .await
                .unwrap_err(),
        );
        assert_eq!(g["kind"], "invalid_key", "{}: {g}", c.id);
        let keys = g["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["title"] == "Open API keys page")
            .unwrap();
        let state = s
            .request("sidekick/listProviders", json!({}))
            .await
            .unwrap();
        let info = provider(&state, c.id);
        assert_eq!(
            &keys["url"], &info["apiKeysUrl"],
            "{}: its own keys page",
            c.id
        );
        assert_eq!(info["connected"], false);
        let last = c.fake.requests().pop().unwrap();
        assert_eq!(
            auth_header(&c, &last).as_deref(),
            Some(wrong),
            "{}: the key in its own header",
            c.id
        );
        if c.id == "azure" {
            assert!(
                !last.headers.contains_key("authorization"),
                "Azure's key never goes in Authorization"
            );
            assert!(
                g["detail"].as_str().unwrap().contains("not the endpoint"),
                "both causes named"
            );
        }
        let account = format!("{}@{}", c.id, c.fake.base_url());
        assert_eq!(secret_tool_lookup(&opts.keyring_service, &account), None);
        let (stdout, stderr) = s.shutdown().await;
        for text in [stdout, stderr, all_files_text(home.path())] {
            assert!(!text.contains(wrong), "{}: the key leaked", c.id);
        }
    }
}

#[tokio::test]
async fn connect_lists_models_and_a_chat_streams_with_usage() {
    for flavor in FLAVORS {
        let c = case(flavor).await;
        let home = tempfile::tempdir().unwrap();
        let opts = options(home.path(), &c, json!({}));
        let s = Sidecar::start(opts.clone()).await;
        let r = s
            .request("sidekick/connect", connect_params(&c, VALID_KEY))
            .await
            .unwrap();
        // What a picker shows before "Show all models".
        let models: Vec<&str> = r["models"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["chat"] == true)
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        match c.id {
            "anthropic" => {
                assert_eq!(models.len(), 8);
                assert_eq!(
                    (&r["models"][0]["name"], &r["models"][0]["recommended"]),
                    (&json!("Claude Sonnet 4.5"), &json!(true)),
                    "display names kept, the suggested model first"
                );
            }
            "openrouter" => {
                assert!(models.len() >= 320, "{}", models.len());
                assert!(r["models"][0]["contextWindow"].is_u64());
                assert_eq!(
                    r["models"][0]["price"],
                    json!({"inputPerMtok": 2.5, "outputPerMtok": 10.0}),
                    "per-token prices as USD per million tokens"
                );
                let key_check = c
                    .fake
                    .requests()
                    .iter()
                    .filter(|q| q.path == "/api/v1/key")
                    .count();
                assert_eq!(key_check, 1, "the key is checked at /key");
            }
            "gemini" => {
                assert!(models.contains(&"gemini-2.5-flash"), "{models:?}");
                assert!(
                    models
                        .iter()
                        .all(|m| !m.starts_with("models/") && !m.contains("embedding"))
                );
            }
            _ => assert!(!models.contains(&"text-embedding-3-small"), "{models:?}"),
        }
        let account = format!("{}@{}", c.id, c.fake.base_url());
        assert_eq!(
            secret_tool_lookup(&opts.keyring_service, &account).as_deref(),
            Some(VALID_KEY)
        );
        s.request(
            "sidekick/selectModel",
            json!({"provider": c.id, "model": c.model}),
        )
        .await
        .unwrap();
        let result = s.request("sidekick/chat", ask("c1", "hi")).await.unwrap();
        let name = match c.id {
            "anthropic" => "Anthropic",
            "azure" => "Azure OpenAI",
            "openrouter" => "OpenRouter",
            _ => "Gemini",
        };
        assert_eq!(
            result["text"],
            format!("Hello! I am the fake {name} server. You said: hi"),
            "{}",
            c.id
        );
        assert_eq!(result["finishReason"], "stop");
        assert!(
            result["usage"]["completionTokens"].as_u64().unwrap() > 0,
            "{}: {result}",
            c.id
        );
        let sent = c.fake.chat_requests().pop().unwrap().body.unwrap();
        match c.id {
            "anthropic" => {
                assert_eq!(sent["system"], "Be brief.", "system goes to the top level");
                assert_eq!(sent["messages"].as_array().unwrap().len(), 1);
                assert_eq!(sent["max_tokens"], 8192);
                assert!(result["requestId"].as_str().unwrap().starts_with("req_"));
            }
            "azure" => {
                assert_eq!(
                    sent["model"], "team-gpt4o",
                    "the deployment name is the model"
                );
                assert!(result["requestId"].is_string(), "apim-request-id");
            }
            _ => assert_eq!(sent["stream_options"]["include_usage"], true),
        }
    }
}

#[tokio::test]
async fn azure_accepts_a_deployment_not_in_the_list_and_names_a_missing_one() {
    let c = case(Flavor::Azure).await;
    let (s, _h) = connected(&c, json!({})).await;
    s.request(
        "sidekick/selectModel",
        json!({"provider": "azure", "model": "not-deployed"}),
    )
    .await
    .unwrap();
    let g = guidance(
        &s.request("sidekick/chat", ask("d", "hi"))
            .await
            .unwrap_err(),
    );
    assert_eq!(g["kind"], "model_not_found");
    assert!(
        g["title"]
            .as_str()
            .unwrap()
            .contains("Deployment not-deployed"),
        "{g}"
    );
    let e = s
        .request(
            "sidekick/selectModel",
            json!({"provider": "azure", "model": "a/b?c"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
}

/// (flavor, the fake's reply, the guidance kind it must become)
fn every_error() -> Vec<(Flavor, Reply, &'static str)> {
    vec![
        (
            Flavor::Anthropic,
            anthropic::authentication_error(),
            "invalid_key",
        ),
        (
            Flavor::Anthropic,
            anthropic::permission_error(),
            "permission_denied",
        ),
        (
            Flavor::Anthropic,
            anthropic::not_found_model("claude-x"),
            "model_not_found",
        ),
        (
            Flavor::Anthropic,
            anthropic::credit_balance_too_low(),
            "quota_exceeded",
        ),
        (
            Flavor::Anthropic,
            anthropic::invalid_request("temperature: range: 0..1"),
            "bad_request",
        ),
        (
            Flavor::Anthropic,
            anthropic::prompt_too_long(),
            "context_length_exceeded",
        ),
        (
            Flavor::Anthropic,
            anthropic::request_too_large(),
            "request_too_large",
        ),
        (Flavor::Azure, azure::invalid_key(), "invalid_key"),
        (
            Flavor::Azure,
            azure::deployment_not_found("x"),
            "model_not_found",
        ),
        (Flavor::Azure, azure::content_filter(), "content_filtered"),
        (
            Flavor::OpenRouter,
            openrouter::insufficient_credits(),
            "quota_exceeded",
        ),
        (Flavor::OpenRouter, openrouter::invalid_key(), "invalid_key"),
        (Flavor::Gemini, gemini::invalid_key(), "invalid_key"),
        (
            Flavor::Gemini,
            gemini::permission_denied(),
            "permission_denied",
        ),
        (Flavor::Gemini, gemini::quota_exceeded(), "quota_exceeded"),
        (
            Flavor::Gemini,
            gemini::model_not_found("gemini-9"),
            "model_not_found",
        ),
    ]
}

#[tokio::test]
async fn every_error_becomes_its_kind_and_permanent_ones_are_sent_once() {
    let mut cases: Vec<(Case, Sidecar, tempfile::TempDir)> = Vec::new();
    for flavor in FLAVORS {
        let c = case(flavor).await;
        let (s, h) = connected(&c, json!({"retry": {"maxAttempts": 3, "maxWaitMs": 500}})).await;
        cases.push((c, s, h));
    }
    for (i, (flavor, reply, kind)) in every_error().into_iter().enumerate() {
        let (c, s, _) = &cases[FLAVORS.iter().position(|f| *f == flavor).unwrap()];
        let before = c.fake.chat_requests().len();
        c.fake.push(reply);
        let g = guidance(
            &s.request("sidekick/chat", ask(&format!("e{i}"), "hi"))
                .await
                .unwrap_err(),
        );
        assert_eq!(g["kind"], kind, "{}: {g}", c.id);
        assert_eq!(
            c.fake.chat_requests().len(),
            before + 1,
            "{} {kind}: never retried",
            c.id
        );
        if kind == "quota_exceeded" {
            let billing = g["actions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["title"] == "Open billing")
                .unwrap();
            let host = match c.id {
                "anthropic" => "console.anthropic.com",
                "openrouter" => "openrouter.ai",
                _ => "aistudio.google.com",
            };
            assert!(
                billing["url"].as_str().unwrap().contains(host),
                "{}: {billing}",
                c.id
            );
        }
    }
}

#[tokio::test]
async fn retries_wait_for_each_providers_own_reset_hint() {
    // Built when played: a reset is a moment in time.
    type Hint = (Flavor, fn() -> Reply, u64);
    let hints: Vec<Hint> = vec![
        (
            Flavor::Anthropic,
            || {
                anthropic::rate_limited(AnthropicHint::Reset {
                    limit: "tokens",
                    after: Duration::from_millis(1500),
                })
            },
            1500,
        ),
        (Flavor::Anthropic, anthropic::overloaded, 0),
        (
            Flavor::Azure,
            || azure::rate_limited(Some(1200), Some(2)),
            1200,
        ),
        (
            Flavor::OpenRouter,
            || openrouter::rate_limited(Duration::from_millis(1300)),
            1300,
        ),
        (Flavor::Gemini, || gemini::rate_limited(1), 1000),
        (Flavor::Gemini, gemini::overloaded, 0),
    ];
    for (flavor, reply, wait_ms) in hints {
        let c = case(flavor).await;
        let (s, _h) = connected(&c, json!({"retry": {"maxAttempts": 2, "maxWaitMs": 5000}})).await;
        c.fake.push(reply());
        let started = Instant::now();
        let r = s.request("sidekick/chat", ask("r", "hi")).await.unwrap();
        assert!(
            r["text"].as_str().unwrap().starts_with("Hello!"),
            "{}: the retry answered",
            c.id
        );
        let status = s.notifications_named("sidekick/chatStatus").pop().unwrap();
        let delay = status["delayMs"].as_u64().unwrap();
        let requests = c.fake.chat_requests();
        assert_eq!(requests.len(), 2, "{}", c.id);
        let gap = requests[1].at - requests[0].at;
        if wait_ms > 0 {
            // RFC 3339 resets have whole seconds: up to a second less than asked.
            let low = wait_ms.saturating_sub(1000);
            assert!(
                (low..=wait_ms + 50).contains(&delay),
                "{}: waited {delay} ms for a {wait_ms} ms hint",
                c.id
            );
            assert!(
                gap >= Duration::from_millis(delay.saturating_sub(50)),
                "{}: {gap:?}",
                c.id
            );
        } else {
            assert!(delay <= 1000, "{}: backoff without a hint: {delay}", c.id);
        }
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn a_mid_stream_error_keeps_the_partial_text_and_the_deltas_add_up_to_it() {
    let streams: Vec<(Flavor, Reply, &str, &str)> = vec![
        (
            Flavor::Anthropic,
            Reply::Sse(anthropic::error_after(
                "claude-sonnet-4-5-20250929",
                &["Here is", " the first part"],
                "overloaded_error",
                "Overloaded",
            )),
            "overloaded",
            "Here is the first part",
        ),
        (
            Flavor::Azure,
            Reply::Sse(azure::content_filtered_after(
                "team-gpt4o",
                &["The story", " begins"],
            )),
            "content_filtered",
            "The story begins",
        ),
        (
            Flavor::OpenRouter,
            Reply::Sse(openrouter::error_after(
                "openai/gpt-4o-mini",
                &["Partial", " answer"],
                "server_error",
                "Provider disconnected unexpectedly",
            )),
            "server_error",
            "Partial answer",
        ),
    ];
    for (flavor, reply, kind, partial) in streams {
        let c = case(flavor).await;
        // A long interval: without the flush before the error, the deltas would stop short.
        let (s, _h) = connected(&c, json!({"deltaIntervalMs": 5000})).await;
        c.fake.push(reply);
        let g = guidance(
            &s.request("sidekick/chat", ask("m", "hi"))
                .await
                .unwrap_err(),
        );
        assert_eq!(g["kind"], kind, "{}: {g}", c.id);
        assert_eq!(g["partialText"], partial);
        assert_eq!(
            c.fake.chat_requests().len(),
            1,
            "not retried after the first token"
        );
        let settled = s
            .wait_notification(Duration::from_secs(5), |m, p| {
                m == "sidekick/chatDelta" && p["chatId"] == "m" && p["seq"].as_u64() == Some(2)
            })
            .await;
        assert!(
            settled.is_some(),
            "{}: the pending text went out as a last delta",
            c.id
        );
        let mut deltas: Vec<(u64, String)> = s
            .notifications_named("sidekick/chatDelta")
            .into_iter()
            .map(|d| {
                (
                    d["seq"].as_u64().unwrap(),
                    d["text"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        deltas.sort();
        assert_eq!(
            deltas.into_iter().map(|(_, t)| t).collect::<String>(),
            partial,
            "{}",
            c.id
        );
    }
}

#[tokio::test]
async fn cancel_closes_each_providers_stream() {
    for flavor in FLAVORS {
        let c = case(flavor).await;
        let (s, _h) = connected(&c, json!({})).await;
        let steps = match flavor {
            Flavor::Anthropic => {
                anthropic::text_reply(c.model, &["slow"; 200], "end_turn", (5, 200))
            }
            _ => fake_providers::sse::text_reply(c.model, &["slow "; 200], "stop", None),
        };
        c.fake.push(Reply::Sse(fake_providers::sse::paced(
            steps,
            Duration::from_millis(50),
        )));
        let (id, rx) = s.start_request("sidekick/chat", ask("x", "hi"));
        s.wait_notification(Duration::from_secs(5), |m, p| {
            m == "sidekick/chatDelta" && p["chatId"] == "x"
        })
        .await
        .unwrap();
        s.cancel(id);
        let e = support::finish(rx).await.unwrap_err();
        assert_eq!(e.code, -32800, "{}", c.id);
        assert!(
            c.fake
                .wait_stream_closed(0, Duration::from_secs(2))
                .await
                .is_some(),
            "{}: the upstream connection closed",
            c.id
        );
    }
}

#[tokio::test]
async fn each_providers_key_variable_wins_and_is_labelled() {
    for (flavor, var) in [
        (Flavor::Anthropic, "ANTHROPIC_API_KEY"),
        (Flavor::OpenRouter, "OPENROUTER_API_KEY"),
        (Flavor::Gemini, "GEMINI_API_KEY"),
        (Flavor::Azure, "AZURE_OPENAI_API_KEY"),
    ] {
        let c = case(flavor).await;
        let home = tempfile::tempdir().unwrap();
        let mut opts = options(home.path(), &c, json!({}));
        opts.remove_env.retain(|v| v != var);
        opts.env.push((var.into(), VALID_KEY.into()));
        if flavor == Flavor::Azure {
            opts.remove_env.retain(|v| v != "AZURE_OPENAI_ENDPOINT");
            opts.env
                .push(("AZURE_OPENAI_ENDPOINT".into(), c.fake.base_url()));
        }
        let s = Sidecar::start(opts).await;
        let state = s
            .request("sidekick/listProviders", json!({}))
            .await
            .unwrap();
        let info = provider(&state, c.id);
        assert_eq!(info["connected"], true, "{var}");
        assert_eq!(info["keySource"], "env");
        assert_eq!(info["envKeyVar"], var);
        s.request(
            "sidekick/selectModel",
            json!({"provider": c.id, "model": c.model}),
        )
        .await
        .unwrap();
        let r = s.request("sidekick/chat", ask("env", "hi")).await.unwrap();
        assert!(r["text"].as_str().unwrap().starts_with("Hello!"), "{var}");
        let last = c.fake.chat_requests().pop().unwrap();
        assert_eq!(auth_header(&c, &last).as_deref(), Some(VALID_KEY));
        let (_, stderr) = s.shutdown().await;
        assert!(!stderr.contains(VALID_KEY));
    }
}

#[tokio::test]
async fn anthropic_models_are_read_page_by_page() {
    let models: Vec<ModelEntry> = (0..250)
        .map(|i| {
            ModelEntry::new(
                format!("claude-test-{i:03}"),
                1_700_000_000 + i,
                "anthropic",
            )
        })
        .collect();
    let fake = FakeProvider::builder()
        .flavor(Flavor::Anthropic)
        .models(models)
        .start()
        .await
        .unwrap();
    let c = Case {
        id: "anthropic",
        fake,
        model: "claude-test-000",
    };
    let home = tempfile::tempdir().unwrap();
    let s = Sidecar::start(options(home.path(), &c, json!({}))).await;
    let r = s
        .request("sidekick/connect", connect_params(&c, VALID_KEY))
        .await
        .unwrap();
    assert_eq!(r["models"].as_array().unwrap().len(), 250, "every page");
    let pages: Vec<String> = c
        .fake
        .requests()
        .iter()
        .filter(|q| q.path == "/v1/models")
        .map(|q| q.path.clone())
        .collect();
    assert_eq!(pages.len(), 3, "100 a page");
}
