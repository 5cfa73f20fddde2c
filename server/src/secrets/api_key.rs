//! API keys in memory: trimming and checking what people paste, the `sk-…WXYZ` hint, and
//! masking anything key-shaped in text that leaves the sidecar. The key itself is never
//! formatted into a log, a message or a file.

use secrecy::{ExposeSecret, SecretString};

/// A key as pasted, trimmed and checked. Debug never shows it.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.hint())
    }
}

/// Why a pasted key was refused; the message names the problem, never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("apiKey is empty")]
    Empty,
    #[error("apiKey contains a space or a line break inside it; paste the key alone")]
    InnerWhitespace,
    #[error("apiKey contains characters that cannot be sent in an HTTP header")]
    NotPrintable,
    #[error("apiKey is longer than {MAX_KEY} characters; no provider's key is")]
    TooLong,
}

/// Longer than any provider's key (OpenAI's project keys are about 170 characters); a
/// megabyte "key" is refused before it reaches a header, a keychain or a log's masking.
pub const MAX_KEY: usize = 1024;

impl ApiKey {
    /// Trims what people paste around a key (spaces, newlines) and refuses what cannot be one.
    pub fn parse(raw: &str) -> Result<ApiKey, KeyError> {
        let key = raw.trim();
        if key.len() > MAX_KEY {
            return Err(KeyError::TooLong);
        }
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if key.chars().any(char::is_whitespace) {
            return Err(KeyError::InnerWhitespace);
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyError::NotPrintable);
        }
        Ok(ApiKey(SecretString::from(key.to_string())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn hint(&self) -> String {
        key_hint(self.expose())
    }

    /// Tells two keys apart without revealing either: the first 16 bytes of a SHA-256 of the
    /// key, in hex. A key is random enough that its digest cannot be turned back into it, and
    /// unlike the hint it does not show any of the key's characters.
    pub fn fingerprint(&self) -> String {
        let mut input = b"sidekick key fingerprint\0".to_vec();
        input.extend_from_slice(self.expose().as_bytes());
        let digest = ring::digest::digest(&ring::digest::SHA256, &input);
        digest.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// `sk-…WXYZ`: the first three and the last four characters, enough to recognise a key.
/// A short key (a local server's `secret123`) would be half shown by that: it is named by its
/// length and, from 8 characters, its last two (`…23 (9 chars)`). A hint never contains the
/// key itself (a key like `chars` gets a bare `…`).
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let n = chars.len();
    let hint = if n >= 12 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}…{tail}")
    } else if n >= 8 {
        let tail: String = chars[n - 2..].iter().collect();
        format!("…{tail} ({n} chars)")
    } else {
        format!("… ({n} char{})", if n == 1 { "" } else { "s" })
    };
    if key.is_empty() || hint.contains(key) {
        "…".to_string()
    } else {
        hint
    }
}

/// Replaces the known key and anything that looks like a key (`sk-…`, `AIza…`, long random
/// tokens) with its hint, so provider messages can be shown and logged.
pub fn mask_secrets(text: &str, known_key: Option<&str>) -> String {
    mask(text, known_key, true)
}

/// For identifiers a provider sends (request ids, error codes), which are long and random by
/// design: the known key and tokens with a key's prefix are masked, other tokens kept.
pub fn mask_identifier(text: &str, known_key: Option<&str>) -> String {
    mask(text, known_key, false)
}

fn mask(text: &str, known_key: Option<&str>, random_tokens: bool) -> String {
    let out = match known_key {
        Some(k) if !k.is_empty() => text.replace(k, &key_hint(k)),
        _ => text.to_string(),
    };
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*';
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(start) = rest.find(is_token_char) {
        result.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_token_char(c)).unwrap_or(tail.len());
        let token = &tail[..end];
        if let Some(at) = key_start(token) {
            // `code_sk-proj-…`, `req_sk-…`: what precedes the key is the provider's.
            result.push_str(&token[..at]);
            result.push_str(&key_hint(&token[at..]));
        } else if random_tokens && looks_random(token) {
            result.push_str(&key_hint(token));
        } else {
            result.push_str(token);
        }
        rest = &tail[end..];
    }
    result.push_str(rest);
    result
}

/// Where a key starts in a token: at its start or after a `_`, `-` or `*` inside it (a key
/// glued to a code or id), never mid-word (`task-…` is no `sk-`).
fn key_start(token: &str) -> Option<usize> {
    std::iter::once(0)
        .chain(
            token
                .char_indices()
                .filter(|(_, c)| matches!(c, '_' | '-' | '*'))
                .map(|(i, c)| i + c.len_utf8()),
        )
        .find(|&i| has_key_prefix(&token[i..]))
}

/// The prefixes providers give their keys: OpenAI, Anthropic, OpenRouter (`sk-`), Groq,
/// xAI, Google (`AIza`).
fn has_key_prefix(token: &str) -> bool {
    ["sk-", "sk_", "gsk_", "key-", "xai-", "AIza"]
        .iter()
        .any(|p| token.starts_with(p))
        && token.len() >= 12
}

fn looks_random(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    let letters = token.chars().filter(char::is_ascii_alphabetic).count();
    token.len() >= 32 && digits >= 4 && letters >= 8
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_key_glued_to_a_code_or_id_is_masked_but_words_with_sk_are_not() {
        let leaky = "sk-proj-AAAAbbbbCCCCdddd1234LEAKY";
        for field in [
            format!("code_{leaky}"),
            format!("req_{leaky}"),
            format!("x-{leaky}"),
        ] {
            for masked in [mask_identifier(&field, None), mask_secrets(&field, None)] {
                assert!(!masked.contains("AAAAbbbbCCCC"), "{field} → {masked}");
                assert!(masked.contains("sk-…EAKY"), "{masked}");
            }
        }
        assert_eq!(
            mask_identifier("code_sk-proj-AAAAbbbbCCCC", None),
            "code_sk-…CCCC"
        );
        for word in [
            "task-1234567890abc",
            "risk-assessment-2024",
            "desk_top_1234567",
        ] {
            assert_eq!(mask_identifier(word, None), word);
        }
    }

    #[test]
    fn trims_pasted_keys_and_refuses_empty_ones() {
        let k = ApiKey::parse("  sk-test-1234567890WXYZ\r\n").unwrap();
        assert_eq!(k.expose(), "sk-test-1234567890WXYZ");
        assert_eq!(k.hint(), "sk-…WXYZ");
        assert_eq!(ApiKey::parse(" \n\t").unwrap_err(), KeyError::Empty);
        assert_eq!(
            ApiKey::parse("sk-a b").unwrap_err(),
            KeyError::InnerWhitespace
        );
        assert_eq!(ApiKey::parse("sk-é").unwrap_err(), KeyError::NotPrintable);
        assert_eq!(
            ApiKey::parse(&"k".repeat(2_000_000)).unwrap_err(),
            KeyError::TooLong
        );
    }

    #[test]
    fn short_keys_get_a_hint_that_tells_them_apart() {
        assert_eq!(key_hint("secret123"), "…23 (9 chars)");
        assert_eq!(key_hint("local"), "… (5 chars)");
        assert_eq!(key_hint("x"), "… (1 char)");
        // A key the hint's own words would show is named by nothing.
        assert_eq!(key_hint("chars"), "…");
        assert_ne!(key_hint("secret123"), key_hint("secret456"));
    }

    proptest::proptest! {
        #[test]
        fn a_hint_never_contains_its_key(key in "[!-~]{1,40}") {
            proptest::prop_assert!(!key_hint(&key).contains(&key));
        }
    }

    #[test]
    fn the_fingerprint_is_the_same_on_every_build() {
        // Caches are keyed by it: a change of crypto library (aws-lc → ring) or of the recipe
        // would orphan them. The value is Python's hashlib.sha256 of the same bytes.
        let k = ApiKey::parse("sk-admin-test-1234567890WXYZ").unwrap();
        assert_eq!(k.fingerprint(), "3f7ff28df3846ff7ad1a929d21943703");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = ApiKey::parse("sk-secret-value-000WXYZ").unwrap();
        assert!(!format!("{k:?}").contains("secret-value"));
    }

    #[test]
    fn masks_key_shaped_tokens_but_not_prose() {
        let text = "Incorrect API key provided: sk-proj-abc123def456ghi789. Model gpt-4o-mini-2024-07-18 is fine.";
        let masked = mask_secrets(text, None);
        assert!(!masked.contains("abc123def456"), "{masked}");
        assert!(masked.contains("sk-…i789"), "{masked}");
        assert!(masked.contains("gpt-4o-mini-2024-07-18"), "{masked}");
    }

    #[test]
    fn identifiers_keep_their_randomness_but_never_a_key() {
        let id = "req_8f3c2a1b9d7e4f6a0b1c2d3e4f5a6b7c";
        assert_eq!(mask_identifier(id, None), id);
        let key = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6";
        assert!(!mask_identifier(&format!("id-{key}"), Some(key)).contains(key));
        assert!(
            !mask_identifier("AIzaSyD-1234567890abcdefghijklmnopqrstu", None)
                .contains("1234567890")
        );
    }
}
