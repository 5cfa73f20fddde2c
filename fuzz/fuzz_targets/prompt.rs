//! Arbitrary context (text, path, language id) rendered into a prompt, and arbitrary search
//! text made into an FTS5 query: no file can close its fence early or add a line outside it,
//! and no search text is FTS5 syntax (SQLite accepts every query made).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sidekick_server::chat::prompt::render;
use sidekick_server::conversations::fts_query;
use sidekick_server::protocol::{ContextItem, ContextKind, Role};

thread_local! {
    static DB: rusqlite::Connection = {
        let c = rusqlite::Connection::open_in_memory().expect("memory db");
        c.execute_batch("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
                         INSERT INTO t (body) VALUES ('a pod is a group of containers');")
            .expect("fts5");
        c
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = s.splitn(3, '\u{1}');
    let text = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or("a.rs");
    let lang = parts.next();
    let item = ContextItem {
        kind: ContextKind::File,
        path: if path.trim().is_empty() {
            "a.rs".into()
        } else {
            path.into()
        },
        language_id: lang.map(str::to_string),
        range: None,
        text: text.into(),
    };
    let m = render(Role::User, "QUESTION", &[item]);
    let content = m.content;
    assert!(content.ends_with("QUESTION"));
    // The header is one line; the next line opens the fence; the fence closes only after the
    // whole text.
    let body = &content[content.find('\n').map_or(0, |i| i + 1)..];
    let fence_len = body.chars().take_while(|&c| c == '`').count();
    assert!(fence_len >= 3);
    let fence = "`".repeat(fence_len);
    let opened = &body[body.find('\n').map_or(body.len(), |i| i + 1)..];
    let close = opened
        .find(&format!("\n{fence}\n\n"))
        .or_else(|| opened.strip_prefix(&format!("{fence}\n\n")).map(|_| 0))
        .expect("the fence closes");
    let inside = &opened[..close];
    // The text is whole inside (a newline is added before the fence when it has none).
    assert!(
        inside == text || format!("{inside}\n") == text,
        "{inside:?} vs {text:?}"
    );
    assert!(!inside.contains(&fence), "no fence inside the block");

    if let Some(q) = fts_query(s) {
        DB.with(|db| {
            let mut stmt = db
                .prepare("SELECT count(*) FROM t WHERE t MATCH ?1")
                .expect("prepare");
            let n: Result<i64, _> = stmt.query_row([&q], |r| r.get(0));
            assert!(n.is_ok(), "{q:?}: {n:?}");
        });
    }
});
