//! The shipped token estimate against OpenAI's real tokenizers (o200k_base for the GPT-4o and
//! o-series family, cl100k_base for GPT-4 and GPT-3.5), on texts like the ones a chat sends:
//! prose, code in several languages, JSON, other scripts. The estimate leans high (the guard
//! refuses a little early rather than letting a provider's 400 come back); how far each way it
//! may go is the bounds below, and docs/conversations.md quotes the measured ratios.

use sidekick_server::tokens;
use tiktoken_rs::{CoreBPE, cl100k_base, o200k_base};

/// (name, text, lowest and highest allowed estimate / real count, for both tokenizers). The
/// texts are frozen copies in tests/fixtures/tokens/ (the repository's own prose and code, as
/// of the measurement), so an edit elsewhere cannot move a ratio; the bounds are the measured
/// ratios (docs/conversations.md) ± 0.1, so a change to the estimate that moves any by more
/// fails here and is measured again.
fn samples() -> Vec<(&'static str, String, f64, f64)> {
    vec![
        (
            "English prose (docs)",
            include_str!("fixtures/tokens/prose.md").to_string(),
            1.0,
            1.2,
        ),
        (
            "Rust",
            include_str!("fixtures/tokens/code.rs.txt").to_string(),
            1.04,
            1.24,
        ),
        (
            "TypeScript",
            include_str!("fixtures/tokens/code.ts.txt").to_string(),
            0.93,
            1.14,
        ),
        (
            "Lua",
            include_str!("fixtures/tokens/code.lua.txt").to_string(),
            0.98,
            1.18,
        ),
        (
            "JSON",
            include_str!("fixtures/tokens/package.json.txt").to_string(),
            1.05,
            1.26,
        ),
        (
            "German",
            "Die Größe des Kontextfensters wird geschätzt, bevor die Anfrage gesendet wird; \
             über dem Fenster wird der Chat abgelehnt, und die ältesten Nachrichten können \
             weggelassen werden. "
                .repeat(20),
            1.07,
            1.54,
        ),
        (
            "Chinese",
            "上下文窗口的大小在发送请求之前估算；超过窗口时，聊天会被拒绝，最早的消息可以省略。"
                .repeat(20),
            0.81,
            1.47,
        ),
    ]
}

fn count(bpe: &CoreBPE, text: &str) -> usize {
    bpe.encode_with_special_tokens(text).len()
}

#[test]
fn the_estimate_is_within_its_bounds_of_the_real_count() {
    let tokenizers = [
        ("o200k_base", o200k_base().expect("o200k")),
        ("cl100k_base", cl100k_base().expect("cl100k")),
    ];
    let mut report = Vec::new();
    let mut outside = Vec::new();
    for (name, text, low, high) in samples() {
        let estimate = tokens::text(&text) as f64;
        for (tok, bpe) in &tokenizers {
            let real = count(bpe, &text) as f64;
            assert!(real > 0.0);
            let ratio = estimate / real;
            let line =
                format!("{name:22} {tok:12} real {real:>6} estimate {estimate:>6} ×{ratio:.2}");
            if !(low..=high).contains(&ratio) {
                outside.push(format!("{line} (allowed ×{low}–×{high})"));
            }
            report.push(line);
        }
    }
    // The whole table on failure: docs/conversations.md quotes it.
    assert!(
        outside.is_empty(),
        "outside its bounds:\n{}\n\nall:\n{}",
        outside.join("\n"),
        report.join("\n")
    );
}

#[test]
fn known_counts() {
    // The estimate's rule on texts whose count is easy to check by hand, and the real
    // tokenizer's count for the same texts (so a change in either shows).
    let o200k = o200k_base().expect("o200k");
    assert_eq!(tokens::text("hello world"), 4); // 11 ASCII bytes / 3.5, rounded up
    assert_eq!(count(&o200k, "hello world"), 2);
    assert_eq!(tokens::text("日本語"), 3); // one per non-ASCII character
    assert_eq!(tokens::text("fn main() {}"), 4);
}
