//! Arbitrary bytes on stdin, split where a pipe might split them: the framer never panics,
//! never holds more than a bounded amount, and everything it passes on is JSON that
//! tower-lsp can read (an object whose id, if any, is an i64 integer or a string).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sidekick_server::transport::{Framer, Item, MAX_BODY, MAX_HEADER};

fuzz_target!(|data: &[u8]| {
    let (splits, bytes) = data.split_at(data.len().min(4));
    let mut framer = Framer::default();
    let mut at = 0;
    let mut cut = splits.iter().copied().cycle();
    while at < bytes.len() {
        let n = (cut.next().unwrap_or(255) as usize % 64 + 1).min(bytes.len() - at);
        framer.push(&bytes[at..at + n]);
        at += n;
        while let Some(item) = framer.next_item() {
            if let Item::Pass(body) = &item {
                let v: serde_json::Value =
                    serde_json::from_slice(body).expect("passed bodies are JSON");
                assert!(v.is_object());
                if let Some(id) = v.get("id") {
                    assert!(id.is_i64() || id.is_string() || id.is_null(), "id {id}");
                }
            }
            let fresh = framer.next_fresh_id();
            let _ = item.into_body(fresh);
        }
        assert!(
            framer.pending() <= MAX_HEADER + MAX_BODY + 64,
            "held {}",
            framer.pending()
        );
    }
});
