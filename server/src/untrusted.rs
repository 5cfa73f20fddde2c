//! Text from servers the user may not control — model ids and names, error messages and
//! codes — made safe to show and to log: no control characters (C0, C1, ANSI escape
//! sequences), no bidirectional overrides that reorder what a reader sees, valid UTF-8, and a
//! bounded length. A leaf.

/// The longest model id (or deployment name) taken from a provider or a client: real ids are
/// under 100 characters.
pub const MAX_MODEL_ID: usize = 256;

/// Invisible characters that change how the text around them is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with escape sequences and control characters removed (line breaks and tabs become
/// spaces where `one_line`), cut to `max` characters with an ellipsis.
pub fn clean(text: &str, max: usize, one_line: bool) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut chars = text.chars().peekable();
    let mut count = 0;
    while let Some(c) = chars.next() {
        if count == max {
            out.push('…');
            break;
        }
        match c {
            // ESC: drop a CSI sequence (ESC [ … final byte) or the next character.
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for n in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&n) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
                continue;
            }
            '\n' | '\t' | '\r' if one_line => out.push(' '),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || is_bidi_control(c) => continue,
            c => out.push(c),
        }
        count += 1;
    }
    out
}

/// Whether an identifier (a model id) can be shown and sent back as it is.
pub fn is_plain_identifier(id: &str, max: usize) -> bool {
    !id.is_empty()
        && id.len() <= max
        && !id
            .chars()
            .any(|c| c.is_control() || is_bidi_control(c) || c == '\u{1b}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_go_text_stays() {
        assert_eq!(
            clean("\u{1b}[31mred\u{1b}[0m al\u{202E}ert\u{7}!\n2nd", 100, true),
            "red alert! 2nd"
        );
        assert_eq!(clean("a\u{85}b\u{9b}c", 100, false), "abc", "C1 controls");
        assert_eq!(clean("line\nnext", 100, false), "line\nnext");
        assert_eq!(clean(&"é".repeat(10), 4, true), "éééé…");
        assert!(is_plain_identifier("anthropic/claude-sonnet-4", 256));
        assert!(!is_plain_identifier("gpt\u{202E}4", 256));
        assert!(!is_plain_identifier(&"x".repeat(300), 256));
    }
}
