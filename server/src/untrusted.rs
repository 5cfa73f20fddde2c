//! Text from servers the user may not control — model ids and names, error messages and
//! codes — made safe to show and to log: no control characters (C0, C1, ANSI escape
//! sequences), no bidirectional overrides that reorder what a reader sees, no invisible
//! characters that split a word without showing (zero-width spaces and joiners, soft hyphens,
//! variation selectors, tags), valid UTF-8, and a bounded length. A leaf.

/// The longest model id (or deployment name) taken from a provider or a client: real ids are
/// under 100 characters.
pub const MAX_MODEL_ID: usize = 256;

/// Invisible characters that change how the text around them is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Unicode's default-ignorable code points (DerivedCoreProperties.txt) that are not already
/// controls or bidi marks: they display as nothing, so one inside a key would hide it from
/// the masking as two short words while a reader sees the key whole.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2065}'
        | '\u{206A}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// `text` with escape sequences and control characters removed (line breaks and tabs become
/// spaces where `one_line`), cut to `max` characters with an ellipsis.
pub fn clean(text: &str, max: usize, one_line: bool) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_mul(4)));
    let mut chars = text.chars().peekable();
    let mut count = 0;
    while let Some(c) = chars.next() {
        if count == max {
            out.push('…');
            break;
        }
        match c {
            // ESC: drop a CSI sequence (ESC [ … final byte), a string sequence (OSC, DCS, SOS,
            // PM, APC: ESC ] … ended by BEL or ESC \\, whose text is the terminal's, not the
            // reader's), or the next character.
            '\u{1b}' => {
                match chars.next() {
                    Some('[') => {
                        for n in chars.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&n) {
                                break;
                            }
                        }
                    }
                    Some(']' | 'P' | 'X' | '^' | '_') => {
                        while let Some(n) = chars.next() {
                            if n == '\u{7}' || (n == '\u{1b}' && chars.next_if_eq(&'\\').is_some())
                            {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            '\n' | '\t' | '\r' if one_line => out.push(' '),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || is_bidi_control(c) || is_invisible(c) => continue,
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
            .any(|c| c.is_control() || is_bidi_control(c) || is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_sequences_go_with_their_text() {
        assert_eq!(clean("Na\u{1b}]0;title\u{7}me", 100, true), "Name");
        assert_eq!(clean("Na\u{1b}]8;;http://x\u{1b}\\me", 100, true), "Name");
        assert_eq!(
            clean("a\u{1b}Pdcs\u{1b}\\b\u{1b}_apc\u{7}c", 100, true),
            "abc"
        );
        assert_eq!(
            clean("x\u{1b}(By", 100, true),
            "xBy",
            "other escapes drop one character"
        );
    }

    #[test]
    fn escapes_controls_and_bidi_go_text_stays() {
        assert_eq!(
            clean("\u{1b}[31mred\u{1b}[0m al\u{202E}ert\u{7}!\n2nd", 100, true),
            "red alert! 2nd"
        );
        assert_eq!(clean("a\u{85}b\u{9b}c", 100, false), "abc", "C1 controls");
        assert_eq!(
            clean(
                "s\u{200B}k\u{AD}-\u{FEFF}a\u{2060}b\u{E0041}c\u{FE0F}",
                100,
                true
            ),
            "sk-abc",
            "invisible characters"
        );
        assert_eq!(clean("line\nnext", 100, false), "line\nnext");
        assert_eq!(clean(&"é".repeat(10), 4, true), "éééé…");
        assert!(is_plain_identifier("anthropic/claude-sonnet-4", 256));
        assert!(!is_plain_identifier("gpt\u{202E}4", 256));
        assert!(!is_plain_identifier("gpt\u{200B}4", 256));
        assert!(!is_plain_identifier(&"x".repeat(300), 256));
    }
}
