//! How many tokens a request will be, before it is sent: an estimate, the same for every
//! provider. A real tokenizer (o200k's tables are megabytes) would not fit the binary's
//! budget (docs/performance.md), and no one tokenizer is right for Claude, Gemini and
//! OpenAI at once. docs/conversations.md gives the rule and how far off it can be.
//!
//! - ASCII text: one token per 3.5 bytes, rounded up. English prose runs near 4 bytes a
//!   token in o200k and cl100k, code near 3 to 3.5: the estimate leans high, so the guard
//!   refuses a little early rather than letting the provider's 400 come back.
//! - Every other character (accented letters, CJK, emoji): one token each.
//! - Each message adds 4 tokens (role and separators), the request 3 (the reply's start), as
//!   OpenAI's own counting recipe does.

use crate::protocol::ChatMessage;

pub const PER_MESSAGE: u64 = 4;
pub const PER_REQUEST: u64 = 3;

/// The estimated tokens of one text.
pub fn text(s: &str) -> u64 {
    let mut ascii = 0u64;
    let mut other = 0u64;
    for &b in s.as_bytes() {
        if b < 0x80 {
            ascii += 1;
        } else if b & 0xC0 != 0x80 {
            // The first byte of a multi-byte character.
            other += 1;
        }
    }
    (ascii * 2).div_ceil(7) + other
}

/// The estimated tokens of a request with these (already rendered) messages.
pub fn messages(messages: &[ChatMessage]) -> u64 {
    PER_REQUEST
        + messages
            .iter()
            .map(|m| PER_MESSAGE + text(&m.content))
            .sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Role;

    #[test]
    fn ascii_is_a_token_per_three_and_a_half_bytes_and_the_rest_one_per_character() {
        assert_eq!(text(""), 0);
        assert_eq!(text("a"), 1);
        assert_eq!(text("abcdefg"), 2);
        assert_eq!(text("abcdefgh"), 3);
        // 35 bytes of code: 10 tokens.
        assert_eq!(text("fn main() { println!(\"hi\"); } // ok"), 10);
        // Four CJK characters and an emoji: five tokens, not their 16 bytes.
        assert_eq!(text("日本語版😀"), 5);
        assert_eq!(text("café"), 2);
    }

    #[test]
    fn a_request_counts_its_messages_and_their_overhead() {
        let m = |role, content: &str| ChatMessage {
            role,
            content: content.into(),
            context: Vec::new(),
        };
        let request = [m(Role::System, "Be brief."), m(Role::User, "What is Rust?")];
        // 3 + (4 + 3) + (4 + 4)
        assert_eq!(messages(&request), 18);
    }
}
