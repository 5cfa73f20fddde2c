//! The request ledger through the real binary: a row for every provider call with the right
//! fields, cost from the price snapshot, spend, the budget that refuses before sending,
//! restart, a corrupt database, and nothing secret or private in the file.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use fake_providers::errors;
use fake_providers::sse;
use fake_providers::{FakeHandle, FakeProvider, Reply};
use serde_json::{Value, json};
use support::{Options, Sidecar, VALID_KEY, guidance};

const MODEL: &str = "gpt-4o-mini";

fn ask(chat_id: &str, text: &str) -> Value {
    json!({"chatId": chat_id, "messages": [{"role": "user", "content": text}]})
}

async fn start(home: &std::path::Path, fake: &FakeHandle, init: Value) -> Sidecar {
    let mut opts = Options::new(home);
    opts.openai_base_url = Some(fake.base_url());
    opts.init = init;
    Sidecar::start(opts).await
}

async fn log(s: &Sidecar, params: Value) -> Vec<Value> {
    let r = s.request("sidekick/requestLog", params).await.unwrap();
    r["entries"].as_array().unwrap().clone()
}

fn today() -> String {
    // The sidecar counts days in local time; the tests run in the machine's zone too.
    let out = std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn every_call_is_a_row_with_its_fields() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(
        home.path(),
        &fake,
        json!({"retry": {"maxAttempts": 2, "maxWaitMs": 1000}}),
    )
    .await;
    s.connect_openai(MODEL).await;
    // A priced answer, a retried one (500 then ok), a failed one, an unpriced model's answer.
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["Hi"],
        "stop",
        Some((1000, 500)),
    )));
    s.request("sidekick/chat", ask("c1", "secret question one"))
        .await
        .unwrap();
    fake.push_many([errors::server_error_500()]);
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["Back"],
        "stop",
        Some((10, 5)),
    )));
    s.request("sidekick/chat", ask("c2", "x")).await.unwrap();
    fake.push(errors::insufficient_quota());
    let e = s
        .request("sidekick/chat", ask("c3", "x"))
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "quota_exceeded");
    // A legacy completions model: listed, selectable, and in no chat price table.
    s.request(
        "sidekick/selectModel",
        json!({"provider": "openai", "model": "davinci-002"}),
    )
    .await
    .unwrap();
    fake.push(Reply::Sse(sse::text_reply(
        "davinci-002",
        &["?"],
        "stop",
        Some((7, 3)),
    )));
    let unpriced_answer = s.request("sidekick/chat", ask("c4", "x")).await.unwrap();
    let usage = unpriced_answer["usage"].as_object().unwrap();
    assert_eq!(usage["promptTokens"], 7);
    assert_eq!(
        usage.get("costUsd"),
        Some(&Value::Null),
        "an unpriced answer says so with null, not by leaving the field out"
    );

    let rows = log(&s, json!({})).await;
    let ops: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .rev()
        .map(|r| {
            (
                r["operation"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
                r["chatId"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("validate", "ok", None),
            ("chat", "ok", Some("c1")),
            ("chat", "failed", Some("c2")),
            ("chat", "ok", Some("c2")),
            ("chat", "failed", Some("c3")),
            ("chat", "ok", Some("c4")),
        ]
    );
    let first = rows.iter().find(|r| r["chatId"] == "c1").unwrap();
    assert_eq!(first["provider"], "openai");
    assert_eq!(first["host"], "127.0.0.1");
    assert_eq!(
        first["model"], "gpt-4o-mini-2024-07-18",
        "the model that answered, priced as its family"
    );
    assert_eq!(first["attempt"], 1);
    assert_eq!(first["httpStatus"], 200);
    assert_eq!(
        (
            first["inputTokens"].as_u64(),
            first["outputTokens"].as_u64()
        ),
        (Some(1000), Some(500))
    );
    // gpt-4o-mini in the snapshot: $0.15 in, $0.60 out per million tokens.
    assert!(
        (first["costUsd"].as_f64().unwrap() - (1000.0 * 0.15e-6 + 500.0 * 0.6e-6)).abs() < 1e-12
    );
    assert!(first["headersMs"].as_u64().is_some() && first["firstTokenMs"].as_u64().is_some());
    assert!(first["requestId"].as_str().unwrap().starts_with("req_"));
    // The key's validation and a refused attempt carry what their headers said too.
    let validate = rows.iter().find(|r| r["operation"] == "validate").unwrap();
    assert_eq!(validate["httpStatus"], 200);
    assert!(validate["headersMs"].as_u64().is_some());
    assert!(validate["requestId"].as_str().unwrap().starts_with("req_"));
    let quota_row = rows.iter().find(|r| r["chatId"] == "c3").unwrap();
    assert_eq!(quota_row["httpStatus"], 429);
    assert!(quota_row["headersMs"].as_u64().is_some(), "{quota_row}");
    let retried: Vec<&Value> = rows.iter().filter(|r| r["chatId"] == "c2").collect();
    assert_eq!(
        retried[1]["attempt"], 1,
        "newest first: the failed first attempt is second"
    );
    assert_eq!(
        (
            retried[1]["httpStatus"].as_u64(),
            retried[1]["guidanceKind"].as_str()
        ),
        (Some(500), Some("server_error"))
    );
    assert_eq!(retried[0]["attempt"], 2);
    let quota = rows.iter().find(|r| r["chatId"] == "c3").unwrap();
    assert_eq!(quota["guidanceKind"], "quota_exceeded");
    assert_eq!(quota["costUsd"], Value::Null);
    let unpriced = rows.iter().find(|r| r["chatId"] == "c4").unwrap();
    assert_eq!(unpriced["model"], "davinci-002");
    assert_eq!(unpriced["costUsd"], Value::Null, "unpriced, not $0");

    // Filters and spend.
    let failed = log(&s, json!({"outcome": "failed"})).await;
    assert_eq!(failed.len(), 2);
    let day = today();
    let spend = s
        .request(
            "sidekick/spend",
            json!({"from": day, "to": day, "groupBy": "model"}),
        )
        .await
        .unwrap();
    assert_eq!(spend["currency"], "usd");
    assert_eq!(spend["unpricedCalls"], 1);
    let want = 1000.0 * 0.15e-6 + 500.0 * 0.6e-6 + 10.0 * 0.15e-6 + 5.0 * 0.6e-6;
    assert!(
        (spend["total"].as_f64().unwrap() - want).abs() < 1e-12,
        "{spend}"
    );
    let e = s
        .request("sidekick/spend", json!({"from": "yesterday", "to": day}))
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);

    // Every entry was announced too.
    let announced = s
        .wait_notification(Duration::from_secs(5), |m, p| {
            m == "sidekick/requestLogged" && p["chatId"] == "c4"
        })
        .await;
    assert!(announced.is_some());
    assert_eq!(
        s.notifications_named("sidekick/requestLogged").len(),
        rows.len()
    );

    // Nothing secret, nothing private: not the key, not the question.
    let (_, _) = s.shutdown().await;
    let db = std::fs::read(home.path().join("sidekick.db")).unwrap();
    let mut all = db;
    for side in ["sidekick.db-wal"] {
        if let Ok(b) = std::fs::read(home.path().join(side)) {
            all.extend(b);
        }
    }
    let text = String::from_utf8_lossy(&all);
    assert!(!text.contains(VALID_KEY), "the key is in the database");
    assert!(
        !text.contains("secret question one"),
        "a prompt is in the database"
    );
    assert!(
        text.contains("gpt-4o-mini"),
        "the scan reads the rows (sanity)"
    );
}

#[tokio::test]
async fn the_budget_refuses_before_anything_is_sent() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(
        home.path(),
        &fake,
        json!({"budget": {"monthlyUsd": 0.001, "warnPercent": 50}}),
    )
    .await;
    s.connect_openai(MODEL).await;
    // $0.0009: 90% of the budget, past warnPercent: one warning.
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["a"],
        "stop",
        Some((2000, 1000)),
    )));
    s.request("sidekick/chat", ask("b1", "x")).await.unwrap();
    let warned = s
        .wait_notification(Duration::from_secs(5), |m, p| {
            m == "window/showMessage"
                && p["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("monthly AI budget")
        })
        .await;
    assert!(warned.is_some(), "a warning past warnPercent");
    // $0.0018 now: over the budget.
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["b"],
        "stop",
        Some((2000, 1000)),
    )));
    s.request("sidekick/chat", ask("b2", "x")).await.unwrap();
    let before = fake.chat_requests().len();
    let e = s
        .request("sidekick/chat", ask("b3", "x"))
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "budget_exceeded");
    let detail = g["detail"].as_str().unwrap();
    assert!(
        detail
            .contains("recorded $0.0018 of AI use this month, and your monthly budget is $0.0010"),
        "{detail}"
    );
    assert_eq!(fake.chat_requests().len(), before, "no request was sent");
    assert_eq!(g["actions"][0]["command"], "sidekick.openSettings");
    let warnings = s
        .notifications_named("window/showMessage")
        .into_iter()
        .filter(|p| p["message"].as_str().unwrap_or("").contains("budget"))
        .count();
    assert_eq!(warnings, 1, "one warning a month");
    // Raising the budget lets the chat through.
    s.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"budget": {"monthlyUsd": 5}}}),
    );
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["c"],
        "stop",
        Some((1, 1)),
    )));
    let mut ok = None;
    for _ in 0..50 {
        match s.request("sidekick/chat", ask("b4", "x")).await {
            Ok(r) => {
                ok = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(ok.is_some(), "a raised budget lets chats through");
}

#[tokio::test]
async fn what_names_a_hostile_answer_is_cleaned_and_masked_wherever_it_goes() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    s.connect_openai(MODEL).await;
    // The model that answered, as a hostile upstream names it: an escape sequence, a key of
    // someone else's glued on.
    let model = r"gpt-4o-mini\u001b[31m_sk-proj-AAAAbbbbCCCCdddd1234LEAKY";
    let chunk = |delta: &str, finish: &str| {
        format!(
            r#"data: {{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"{model}","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
        )
    };
    let body = format!(
        "{}\n\n{}\n\ndata: [DONE]\n\n",
        chunk(r#"{"content":"Hi"}"#, "null"),
        chunk("{}", r#""stop""#)
    );
    let mut hostile = fake_providers::HttpError::json(200, body)
        .with_header("x-request-id", format!("req_{VALID_KEY}"));
    hostile.content_type = "text/event-stream".into();
    fake.push(Reply::Error(hostile));
    let r = s.request("sidekick/chat", ask("k1", "x")).await.unwrap();
    assert_eq!(r["text"], "Hi");
    let answered_by = r["model"].as_str().unwrap();
    assert!(
        !answered_by.contains('\u{1b}') && !answered_by.contains("AAAAbbbbCCCC"),
        "{answered_by:?}"
    );
    assert!(answered_by.starts_with("gpt-4o-mini"), "{answered_by:?}");
    let shown = r["requestId"].as_str().unwrap();
    assert!(
        !shown.contains(VALID_KEY) && !shown.contains("0000WXYZ"),
        "{shown}"
    );
    let rows = log(&s, json!({"operation": "chat"})).await;
    let stored = rows[0]["requestId"].as_str().unwrap();
    assert!(!stored.contains(VALID_KEY), "{stored}");
    s.shutdown().await;
    for f in ["sidekick.db", "sidekick.db-wal"] {
        if let Ok(bytes) = std::fs::read(home.path().join(f)) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(VALID_KEY), "{f}");
            assert!(!text.contains("AAAAbbbbCCCC"), "{f}");
        }
    }
}

#[tokio::test]
async fn a_budget_without_a_ledger_is_not_silently_ignored() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.init = json!({"budget": {"monthlyUsd": 0.001}});
    opts.env.push(("SIDEKICK_LEDGER".into(), "off".into()));
    let s = Sidecar::start(opts).await;
    s.connect_openai(MODEL).await;
    for id in ["n1", "n2"] {
        fake.push(Reply::Sse(sse::text_reply(
            MODEL,
            &["a"],
            "stop",
            Some((2000, 1000)),
        )));
        s.request("sidekick/chat", ask(id, "x")).await.unwrap();
    }
    let told: Vec<String> = s
        .notifications_named("window/showMessage")
        .into_iter()
        .filter_map(|p| p["message"].as_str().map(str::to_string))
        .filter(|m| m.contains("budget"))
        .collect();
    assert_eq!(told.len(), 1, "told once, not per chat: {told:?}");
    assert!(
        told[0].contains("$0.0010 monthly AI budget cannot be checked"),
        "{}",
        told[0]
    );
    assert!(
        !home.path().join("sidekick.db").exists(),
        "no ledger on disk"
    );
}

#[tokio::test]
async fn the_ledger_outlives_a_restart_and_a_corrupt_file_is_set_aside() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    s.connect_openai(MODEL).await;
    fake.push(Reply::Sse(sse::text_reply(
        MODEL,
        &["a"],
        "stop",
        Some((1, 1)),
    )));
    s.request("sidekick/chat", ask("r1", "x")).await.unwrap();
    s.shutdown().await;

    let s = start(home.path(), &fake, json!({})).await;
    let rows = log(&s, json!({"operation": "chat"})).await;
    assert_eq!(rows.len(), 1, "kept across a restart");
    s.shutdown().await;

    let db = home.path().join("sidekick.db");
    std::fs::write(&db, vec![0x42; 8192]).unwrap();
    let _ = std::fs::remove_file(home.path().join("sidekick.db-wal"));
    let s = start(home.path(), &fake, json!({})).await;
    let warned = s
        .wait_notification(Duration::from_secs(5), |m, p| {
            m == "window/showMessage" && p["message"].as_str().unwrap_or("").contains("set aside")
        })
        .await;
    assert!(warned.is_some(), "one warning about the reset");
    assert!(home.path().join("sidekick.db.corrupt").exists());
    assert!(log(&s, json!({})).await.is_empty(), "a fresh ledger");
    // And chat goes on, recorded in the new one.
    s.request(
        "sidekick/connect",
        json!({"provider": "openai", "apiKey": VALID_KEY}),
    )
    .await
    .unwrap();
    assert_eq!(log(&s, json!({})).await.len(), 1);
}

#[tokio::test]
async fn model_lists_and_cancelled_chats_are_rows_too() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    s.connect_openai(MODEL).await;
    s.request(
        "sidekick/listModels",
        json!({"provider": "openai", "refresh": true}),
    )
    .await
    .unwrap();
    let pieces: Vec<String> = (0..100).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    fake.push(Reply::Sse(sse::paced(
        sse::text_reply(MODEL, &refs, "stop", None),
        Duration::from_millis(50),
    )));
    let (id, rx) = s.start_request("sidekick/chat", ask("cx", "x"));
    s.wait_notification(Duration::from_secs(5), |m, p| {
        m == "sidekick/chatDelta" && p["chatId"] == "cx"
    })
    .await
    .unwrap();
    s.cancel(id);
    let _ = support::finish(rx).await;
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = log(&s, json!({})).await;
        if rows.iter().any(|r| r["chatId"] == "cx") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let models = rows.iter().find(|r| r["operation"] == "models").unwrap();
    assert_eq!(models["outcome"], "ok");
    assert_eq!(models["httpStatus"], 200);
    assert!(
        models["requestId"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_"))
    );
    let cancelled = rows.iter().find(|r| r["chatId"] == "cx").unwrap();
    assert_eq!(cancelled["outcome"], "cancelled");
    assert!(cancelled["firstTokenMs"].as_u64().is_some());
}

#[tokio::test]
async fn rows_go_only_past_the_clients_own_retention() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let keep_a_year = json!({"ledger": {"retentionDays": 365}});
    let s = start(home.path(), &fake, keep_a_year.clone()).await;
    s.request(
        "sidekick/connect",
        json!({"provider": "openai", "apiKey": VALID_KEY}),
    )
    .await
    .unwrap();
    assert_eq!(log(&s, json!({})).await.len(), 1);
    s.shutdown().await;
    // The row is now 100 days old: past the default 90, inside the client's 365.
    let db = rusqlite::Connection::open(home.path().join("sidekick.db")).unwrap();
    db.execute(
        "UPDATE calls SET started_at = started_at - 100 * 86400000",
        [],
    )
    .unwrap();
    drop(db);
    let s = start(home.path(), &fake, keep_a_year).await;
    assert_eq!(
        log(&s, json!({})).await.len(),
        1,
        "no default retention prunes before the client's arrives"
    );
    s.shutdown().await;
    let s = start(home.path(), &fake, json!({"ledger": {"retentionDays": 30}})).await;
    assert!(log(&s, json!({})).await.is_empty(), "30 days: gone");
}
