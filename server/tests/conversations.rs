//! Conversations kept by the sidecar, through the real binary and the fake OpenAI server:
//! history across a restart, every ending stored, truncate and resend, full-text search,
//! delete, two conversations at once, context and instructions upstream, the window guard,
//! token counts, and bad input.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use fake_providers::sse;
use fake_providers::{FakeHandle, FakeProvider, Reply, SseStep, errors};
use serde_json::{Value, json};
use support::{Options, Sidecar, guidance};

const MODEL: &str = "gpt-4o-mini";

async fn sidecar(home: &std::path::Path, fake: &FakeHandle) -> Sidecar {
    let mut opts = Options::new(home);
    opts.openai_base_url = Some(fake.base_url());
    opts.init = json!({ "retry": { "maxAttempts": 1 } });
    let s = Sidecar::start(opts).await;
    s.connect_openai(MODEL).await;
    s
}

async fn create(s: &Sidecar, params: Value) -> String {
    let r = s
        .request("sidekick/conversations/create", params)
        .await
        .unwrap();
    r["id"].as_str().unwrap().to_string()
}

fn turn(chat_id: &str, conversation: &str, text: &str) -> Value {
    json!({ "chatId": chat_id, "conversationId": conversation,
            "messages": [{ "role": "user", "content": text }] })
}

async fn get(s: &Sidecar, id: &str) -> Value {
    s.request("sidekick/conversations/get", json!({ "id": id }))
        .await
        .unwrap()
}

/// The conversation once no answer of it is being written: a cancelled chat's end is written
/// as its future is dropped, which may come just after the cancel's answer.
async fn settled(s: &Sidecar, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let c = get(s, id).await;
        let streaming = c["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["status"] == "streaming");
        if !streaming || Instant::now() > deadline {
            return c;
        }
        tokio::task::yield_now().await;
        s.wait_notification(Duration::from_millis(20), |_, _| false)
            .await;
    }
}

fn chat_bodies(fake: &FakeHandle) -> Vec<Value> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.body.unwrap())
        .collect()
}

fn roles_and_texts(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_conversation_keeps_its_history_across_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let id = create(&s, json!({})).await;
    let first = s
        .request(
            "sidekick/chat",
            turn("t1", &id, "What is a borrow?\nMore detail"),
        )
        .await
        .unwrap();
    assert!(first["messageId"].is_string() && first["userMessageId"].is_string());
    drop(s);

    // Another process, the same database: the conversation is there and goes on.
    let s = sidecar(home.path(), &fake).await;
    let c = get(&s, &id).await;
    assert_eq!(c["title"], "What is a borrow?");
    let messages = c["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[1]["content"], first["text"]);
    assert_eq!(messages[1]["status"], "done");
    assert_eq!(messages[1]["model"], first["model"]);
    assert!(messages[1]["usage"]["totalTokens"].as_u64().unwrap() > 0);
    assert!(messages[1]["costUsd"].as_f64().unwrap() > 0.0);
    s.request("sidekick/chat", turn("t2", &id, "And a move?"))
        .await
        .unwrap();
    let bodies = chat_bodies(&fake);
    let sent = roles_and_texts(bodies.last().unwrap());
    assert_eq!(
        sent,
        vec![
            ("user".into(), "What is a borrow?\nMore detail".into()),
            ("assistant".into(), first["text"].as_str().unwrap().into()),
            ("user".into(), "And a move?".into()),
        ]
    );
    let list = s
        .request("sidekick/conversations/list", json!({}))
        .await
        .unwrap();
    assert_eq!(list["conversations"][0]["id"], id.as_str());
    assert_eq!(list["conversations"][0]["messageCount"], 4);
    assert_eq!(list["conversations"][0]["model"], MODEL);
    // Conversations hold what was said, never the key.
    drop(s);
    let files = support::all_files_text(home.path());
    assert!(
        files.contains("What is a borrow?"),
        "the conversation is on disk"
    );
    assert!(!files.contains(support::VALID_KEY));
}

#[tokio::test]
async fn every_ending_is_stored_with_its_status_and_text() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let id = create(&s, json!({ "title": "Endings" })).await;

    // Stopped: cancelled after the first words; the words stay.
    let pieces: Vec<String> = (0..50).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    fake.push(Reply::Sse(sse::paced(
        sse::text_reply(MODEL, &refs, "stop", None),
        Duration::from_millis(50),
    )));
    let (rid, rx) = s.start_request("sidekick/chat", turn("stop", &id, "count slowly"));
    s.wait_notification(Duration::from_secs(5), |m, p| {
        m == "sidekick/chatDelta" && p["chatId"] == "stop"
    })
    .await
    .unwrap();
    s.cancel(rid);
    assert_eq!(support::finish(rx).await.unwrap_err().code, -32800);
    let c = settled(&s, &id).await;
    let stopped = &c["messages"][1];
    assert_eq!(stopped["status"], "stopped", "{c}");
    assert!(
        stopped["content"].as_str().unwrap().starts_with("w0 "),
        "{c}"
    );

    // Interrupted: the stream breaks after some text.
    let meta = sse::ChunkMeta::new(MODEL);
    fake.push(Reply::Sse(vec![
        SseStep::Event(sse::role_chunk(&meta)),
        SseStep::Event(sse::content_chunk(&meta, "half an ")),
        SseStep::Event(sse::content_chunk(&meta, "answer")),
        SseStep::Drop,
    ]));
    let e = s
        .request("sidekick/chat", turn("drop", &id, "go on"))
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["partialText"], "half an answer");
    // Failed: the provider refuses.
    fake.push(errors::server_error_500());
    let e = s
        .request("sidekick/chat", turn("fail", &id, "once more"))
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "server_error");
    // Failed: the key is refused (a 401).
    fake.push(errors::invalid_api_key(support::VALID_KEY));
    let e = s
        .request("sidekick/chat", turn("refused", &id, "and now?"))
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "invalid_key");
    // Done.
    s.request("sidekick/chat", turn("done", &id, "last"))
        .await
        .unwrap();

    let c = settled(&s, &id).await;
    let m = c["messages"].as_array().unwrap();
    assert_eq!(m.len(), 10);
    let statuses: Vec<&str> = m.iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "done",
            "stopped",
            "done",
            "interrupted",
            "done",
            "failed",
            "done",
            "failed",
            "done",
            "done"
        ]
    );
    assert_eq!(m[7]["guidanceKind"], "invalid_key");
    assert_eq!(m[3]["content"], "half an answer");
    assert_eq!(m[3]["guidanceKind"], "stream_interrupted");
    assert_eq!(m[5]["guidanceKind"], "server_error");
    assert_eq!(m[5]["content"], "");
    // The last request carried every earlier text, the failed answer (empty) left out.
    let sent = roles_and_texts(chat_bodies(&fake).last().unwrap());
    let texts: Vec<&str> = sent.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts.len(), 7, "{texts:?}");
    assert_eq!(texts[3], "half an answer");
    assert_eq!(texts[4], "once more");
}

#[tokio::test]
async fn a_sidecar_that_dies_mid_answer_leaves_it_interrupted() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let mut s = sidecar(home.path(), &fake).await;
    let id = create(&s, json!({})).await;
    fake.push(Reply::Sse(vec![
        SseStep::Event(sse::role_chunk(&sse::ChunkMeta::new(MODEL))),
        SseStep::Stall,
    ]));
    let sent = fake.requests().len();
    let (_rid, _rx) = s.start_request("sidekick/chat", turn("crash", &id, "hello?"));
    assert!(fake.wait_requests(sent + 1, Duration::from_secs(5)).await);
    // While it runs, another window's chat on the conversation waits its turn.
    let other = sidecar(home.path(), &fake).await;
    let busy = other
        .request("sidekick/chat", turn("second", &id, "me too"))
        .await
        .unwrap_err();
    assert_eq!(busy.code, -32602, "{busy:?}");
    assert_eq!(get(&other, &id).await["messages"][1]["status"], "streaming");
    s.kill();
    let c = get(&other, &id).await;
    assert_eq!(c["messages"][0]["content"], "hello?");
    assert_eq!(c["messages"][1]["status"], "interrupted");
    // And the conversation goes on.
    other
        .request("sidekick/chat", turn("third", &id, "again"))
        .await
        .unwrap();
    assert_eq!(
        get(&other, &id).await["messages"].as_array().unwrap().len(),
        4
    );
}

#[tokio::test]
async fn truncate_then_resend_is_edit_and_regenerate() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let id = create(&s, json!({})).await;
    s.request("sidekick/chat", turn("a", &id, "first question"))
        .await
        .unwrap();
    let second = s
        .request("sidekick/chat", turn("b", &id, "second question"))
        .await
        .unwrap();
    let r = s
        .request(
            "sidekick/conversations/truncate",
            json!({ "id": id, "fromMessageId": second["userMessageId"] }),
        )
        .await
        .unwrap();
    assert_eq!(r["removed"], 2);
    s.request("sidekick/chat", turn("c", &id, "second question, edited"))
        .await
        .unwrap();
    let sent = roles_and_texts(chat_bodies(&fake).last().unwrap());
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].1, "second question, edited");
    let c = get(&s, &id).await;
    let texts: Vec<&str> = c["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first question", "second question, edited"]);
    // A message of another conversation is no message of this one.
    let other = create(
        &s,
        json!({ "messages": [{ "role": "user", "content": "x" }] }),
    )
    .await;
    let theirs = get(&s, &other).await["messages"][0]["id"].clone();
    let e = s
        .request(
            "sidekick/conversations/truncate",
            json!({ "id": id, "fromMessageId": theirs }),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    assert_eq!(get(&s, &id).await["messages"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn search_finds_words_of_answers_and_titles_and_delete_forgets() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let rust = create(&s, json!({})).await;
    s.request("sidekick/chat", turn("r", &rust, "lifetimes please"))
        .await
        .unwrap();
    let other = create(
        &s,
        json!({ "title": "Kubernetes notes",
                "messages": [{ "role": "user", "content": "pods" },
                             { "role": "assistant", "content": "A pod is a group of containers." }] }),
    )
    .await;
    let find = |q: &'static str| {
        let s = &s;
        async move {
            let r = s
                .request("sidekick/conversations/list", json!({ "query": q }))
                .await
                .unwrap();
            r["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // "fake" is only in the fake's answer; "contain" a prefix of a word in an answer.
    assert_eq!(find("fake").await, vec![rust.clone()]);
    assert_eq!(find("contain").await, vec![other.clone()]);
    assert_eq!(find("kubernetes").await, vec![other.clone()]);
    // FTS5 syntax is text: quotes, parentheses, minus and stars are no operators.
    assert_eq!(find("pod\") -group*(").await, vec![other.clone()]);
    assert!(find("zebra").await.is_empty());
    s.request("sidekick/conversations/delete", json!({ "id": other }))
        .await
        .unwrap();
    assert!(find("kubernetes").await.is_empty());
    let e = s
        .request("sidekick/conversations/get", json!({ "id": other }))
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("no conversation"), "{}", e.message);
}

#[tokio::test]
async fn the_list_pages_newest_first() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(create(&s, json!({ "title": format!("c{i}") })).await);
        // Distinct update times: the order under test is by time.
        s.wait_notification(Duration::from_millis(3), |_, _| false)
            .await;
    }
    let mut seen = Vec::new();
    let mut before = Value::Null;
    loop {
        let r = s
            .request(
                "sidekick/conversations/list",
                json!({ "limit": 2, "before": before }),
            )
            .await
            .unwrap();
        for c in r["conversations"].as_array().unwrap() {
            seen.push(c["id"].as_str().unwrap().to_string());
        }
        before = r["nextBefore"].clone();
        if before.is_null() {
            break;
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn two_conversations_stream_at_once_and_never_mix() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let a = create(&s, json!({})).await;
    let b = create(&s, json!({})).await;
    for word in ["alpha", "beta"] {
        let pieces: Vec<String> = (0..10).map(|i| format!("{word}{i} ")).collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        fake.push(Reply::Sse(sse::paced(
            sse::text_reply(MODEL, &refs, "stop", None),
            Duration::from_millis(20),
        )));
    }
    let (_, ra) = s.start_request("sidekick/chat", turn("ca", &a, "to a"));
    let (_, rb) = s.start_request("sidekick/chat", turn("cb", &b, "to b"));
    // The same conversation twice at once: refused.
    let e = s
        .request("sidekick/chat", turn("ca2", &a, "again to a"))
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602, "{e:?}");
    let (ta, tb) = (
        support::finish(ra).await.unwrap(),
        support::finish(rb).await.unwrap(),
    );
    let (ga, gb) = (get(&s, &a).await, get(&s, &b).await);
    assert_eq!(ga["messages"][1]["content"], ta["text"]);
    assert_eq!(gb["messages"][1]["content"], tb["text"]);
    assert_eq!(ga["messages"][0]["content"], "to a");
    assert_eq!(gb["messages"][0]["content"], "to b");
    assert_ne!(ta["text"], tb["text"]);
    assert_eq!(ga["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn context_and_instructions_reach_the_provider_and_stay_with_the_question() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let id = create(&s, json!({})).await;
    let code = "fn main() {\n    let s = \"```\";\n}\n";
    let r = s
        .request(
            "sidekick/chat",
            json!({ "chatId": "ctx", "conversationId": id,
                    "instructions": "Answer in French.",
                    "messages": [{ "role": "user", "content": "What does this print?",
                                   "context": [{ "kind": "file", "path": "src/main.rs",
                                                 "languageId": "rust", "text": code }] }] }),
        )
        .await
        .unwrap();
    let sent = roles_and_texts(chat_bodies(&fake).last().unwrap());
    assert_eq!(sent[0], ("system".into(), "Answer in French.".into()));
    assert_eq!(
        sent[1].1,
        format!("File `src/main.rs`:\n````rust\n{code}````\n\nWhat does this print?")
    );
    // The fake echoes what it got: the answer saw the file.
    assert!(r["text"].as_str().unwrap().contains("src/main.rs"), "{r}");
    let c = get(&s, &id).await;
    assert_eq!(c["messages"][0]["content"], "What does this print?");
    assert_eq!(c["messages"][0]["context"][0]["path"], "src/main.rs");
    assert_eq!(c["messages"][0]["context"][0]["text"], code);
    // A stateless chat renders context the same way and stores nothing.
    s.request(
        "sidekick/chat",
        json!({ "chatId": "plain", "messages": [{ "role": "user", "content": "q",
                "context": [{ "kind": "selection", "path": "a.py", "range": { "startLine": 2, "endLine": 4 },
                             "text": "x = 1" }] }] }),
    )
    .await
    .unwrap();
    let sent = roles_and_texts(chat_bodies(&fake).last().unwrap());
    assert_eq!(
        sent[0].1,
        "Selection from `a.py` (lines 2–4):\n```\nx = 1\n```\n\nq"
    );
    let list = s
        .request("sidekick/conversations/list", json!({}))
        .await
        .unwrap();
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_window_guard_refuses_before_sending_and_drop_oldest_then_fits() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    // gpt-4o-mini reads 128,000 tokens; four old turns of 35,000 tokens each do not fit.
    let big = "word ".repeat(24_500); // 122,500 bytes: 35,000 tokens
    let messages: Vec<Value> = (0..4)
        .flat_map(|i| {
            [
                json!({ "role": "user", "content": format!("q{i} {big}") }),
                json!({ "role": "assistant", "content": format!("a{i}") }),
            ]
        })
        .collect();
    let id = create(&s, json!({ "messages": messages })).await;
    let count = s
        .request(
            "sidekick/countTokens",
            json!({ "conversationId": id, "messages": [{ "role": "user", "content": "now?" }] }),
        )
        .await
        .unwrap();
    assert_eq!(count["window"], 128_000);
    assert_eq!(count["exact"], false);
    // 3 + four questions (4 + 35,001) + four answers (4 + 1) + the new one (4 + 2).
    assert_eq!(count["tokens"], 3 + 4 * 35_005 + 4 * 5 + 6);
    let before = chat_bodies(&fake).len();
    let e = s
        .request("sidekick/chat", turn("big", &id, "now?"))
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "context_length_exceeded");
    assert!(g["detail"].as_str().unwrap().contains("128,000"), "{g}");
    assert_eq!(g["actions"][0]["command"], "sidekick.dropOldest");
    assert_eq!(g["actions"][0]["arguments"][0], "big");
    assert_eq!(chat_bodies(&fake).len(), before, "nothing was sent");
    // Nothing stored for a refused turn.
    assert_eq!(get(&s, &id).await["messages"].as_array().unwrap().len(), 8);

    let mut again = turn("big", &id, "now?");
    again["dropOldest"] = json!(true);
    let r = s.request("sidekick/chat", again).await.unwrap();
    assert_eq!(r["droppedMessages"], 2);
    let sent = roles_and_texts(chat_bodies(&fake).last().unwrap());
    assert_eq!(sent.len(), 7);
    assert!(sent[0].1.starts_with("q1 "));
    assert_eq!(sent[6].1, "now?");
    // The stored conversation keeps everything; only the request left some out.
    assert_eq!(get(&s, &id).await["messages"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = sidecar(home.path(), &fake).await;
    let id = create(&s, json!({})).await;
    let cases = [
        (
            "sidekick/chat",
            turn("x", "not an id!", "q"),
            "conversationId",
        ),
        (
            "sidekick/chat",
            turn("x", "c-unknown", "q"),
            "no conversation",
        ),
        (
            "sidekick/chat",
            json!({ "chatId": "x", "conversationId": id,
                    "messages": [{ "role": "user", "content": "a" }, { "role": "user", "content": "b" }] }),
            "only the new question",
        ),
        (
            "sidekick/chat",
            json!({ "chatId": "x", "conversationId": id,
                    "messages": [{ "role": "user", "content": "a", "context": [{ "kind": "file", "path": " ", "text": "" }] }] }),
            "path",
        ),
        (
            "sidekick/conversations/rename",
            json!({ "id": id, "title": " \n " }),
            "title",
        ),
        (
            "sidekick/conversations/truncate",
            json!({ "id": id, "fromMessageId": "m-nothing" }),
            "no message",
        ),
        ("sidekick/conversations/get", json!({ "id": 42 }), "id"),
        (
            "sidekick/conversations/list",
            json!({ "before": "yesterday" }),
            "before",
        ),
    ];
    for (method, params, says) in cases {
        let e = s.request(method, params.clone()).await.unwrap_err();
        assert_eq!(e.code, -32602, "{method} {params}: {e:?}");
        assert!(e.message.contains(says), "{method}: {}", e.message);
    }
    assert!(chat_bodies(&fake).is_empty(), "no chat was sent");
    assert!(
        get(&s, &id).await["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = s
        .request(
            "sidekick/conversations/rename",
            json!({ "id": id, "title": "  Renamed\nsecond line" }),
        )
        .await
        .unwrap();
    assert_eq!(r["title"], "Renamed");
}
