//! What a model costs. The table is LiteLLM's `model_prices_and_context_window.json` (MIT),
//! trimmed by `scripts/update-prices.py` to the chat models of Sidekick's providers and
//! embedded in the binary; a user's file in the same format (`$SIDEKICK_HOME/prices.json`, or
//! the `prices.path` setting) wins over it, for gateways, fine-tunes and models newer than the
//! snapshot. A model the table cannot match is unpriced, never $0.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::protocol::{ModelPrice, Usage};

const SNAPSHOT: &str = include_str!("../prices/litellm.json");

/// USD per token, as the table has it.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Price {
    #[serde(rename = "input_cost_per_token")]
    pub input: f64,
    #[serde(rename = "output_cost_per_token")]
    pub output: f64,
    #[serde(rename = "cache_read_input_token_cost", default)]
    pub cached_input: Option<f64>,
    #[serde(rename = "cache_creation_input_token_cost", default)]
    pub cache_write: Option<f64>,
    /// The model's input window, where the table says.
    #[serde(default)]
    pub max_input_tokens: Option<u64>,
}

impl Price {
    /// From a provider's own list (OpenRouter), USD per million tokens.
    pub fn per_mtok(p: ModelPrice) -> Price {
        Price {
            input: p.input_per_mtok / 1e6,
            output: p.output_per_mtok / 1e6,
            cached_input: None,
            cache_write: None,
            max_input_tokens: None,
        }
    }

    /// USD per million tokens, for people.
    pub fn shown(&self) -> ModelPrice {
        let m = |v: f64| (v * 1e12).round() / 1e6;
        ModelPrice {
            input_per_mtok: m(self.input),
            output_per_mtok: m(self.output),
        }
    }

    fn sane(&self) -> bool {
        let ok = |v: f64| v.is_finite() && (0.0..1.0).contains(&v);
        ok(self.input)
            && ok(self.output)
            && self.cached_input.is_none_or(ok)
            && self.cache_write.is_none_or(ok)
    }
}

/// Model name → price.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    entries: HashMap<String, Price>,
}

impl PriceTable {
    /// The embedded snapshot, parsed once.
    pub fn snapshot() -> &'static PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE.get_or_init(|| PriceTable::parse(SNAPSHOT).unwrap_or_default())
    }

    /// The snapshot's date, for the docs and the hover.
    pub fn snapshot_date() -> Option<String> {
        let v: Value = serde_json::from_str(SNAPSHOT).ok()?;
        v.get("_snapshot")?
            .get("date")?
            .as_str()
            .map(str::to_string)
    }

    /// A table in LiteLLM's format: entries that are not priced chat models are skipped.
    pub fn parse(text: &str) -> Result<PriceTable, String> {
        let raw: HashMap<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("not a price table: {e}"))?;
        let entries = raw
            .into_iter()
            .filter(|(_, v)| {
                v.get("mode")
                    .and_then(Value::as_str)
                    .is_none_or(|m| m == "chat")
            })
            .filter_map(|(k, v)| {
                let p: Price = serde_json::from_value(v).ok()?;
                p.sane().then_some((k, p))
            })
            .collect();
        Ok(PriceTable { entries })
    }

    /// The snapshot with the user's file on top. An unreadable file is reported, not fatal;
    /// a missing one only when the user named it (`explicit`: the default may well not exist).
    pub fn with_overrides(path: Option<&Path>, explicit: bool) -> (PriceTable, Option<String>) {
        let mut table = PriceTable::snapshot().clone();
        let Some(path) = path else {
            return (table, None);
        };
        match std::fs::read_to_string(path) {
            Ok(text) => match PriceTable::parse(&text) {
                Ok(user) => {
                    tracing::info!("{} prices from {}", user.entries.len(), path.display());
                    table.entries.extend(user.entries);
                    (table, None)
                }
                Err(e) => (table, Some(format!("{}: {e}", path.display()))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => (table, None),
            Err(e) => (table, Some(format!("{}: {e}", path.display()))),
        }
    }

    /// The model's input window, where the table says.
    pub fn window(&self, names: PriceNames, model: &str) -> Option<u64> {
        self.lookup(names, model)?
            .max_input_tokens
            .filter(|w| *w > 0)
    }

    /// The price of `model` on a provider whose table names are `names`: its own prefix first
    /// (`gemini/…`, `azure/…`, `openrouter/…`), then the bare name, each exact and then
    /// without a date suffix (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-3-5-haiku-20241022` →
    /// its entry or `claude-3-5-haiku`) or `-latest`; a `vendor/model` id also as `model`
    /// where the provider says so (OpenRouter).
    pub fn lookup(&self, names: PriceNames, model: &str) -> Option<Price> {
        let model = model.trim();
        let prefixed = names.prefix.map(|p| format!("{p}{model}"));
        let bare = names
            .vendor_prefixed
            .then(|| model.split_once('/').map(|(_, b)| b.to_string()))
            .flatten();
        let names: Vec<String> = prefixed
            .into_iter()
            .chain(std::iter::once(model.to_string()))
            .chain(bare)
            .collect();
        for name in &names {
            if let Some(p) = self.entries.get(name) {
                return Some(*p);
            }
        }
        names
            .iter()
            .filter_map(|n| undated(n))
            .find_map(|n| self.entries.get(&n).copied())
    }
}

/// How one provider's models are named in the table (LiteLLM's): each provider's spec says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriceNames {
    /// Tried first, before the bare id: `gemini/`, `azure/`, `openrouter/`.
    pub prefix: Option<&'static str>,
    /// Ids are `vendor/model`, and `model` alone is tried last (OpenRouter).
    pub vendor_prefixed: bool,
}

/// `name` without a trailing date (`-2024-08-06`, `-20241022`) or `-latest`, if it had one.
fn undated(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let n = bytes.len();
    if n > 11 && bytes[n - 11] == b'-' && bytes[n - 6] == b'-' && bytes[n - 3] == b'-' {
        let (y, m, d) = (&bytes[n - 10..n - 6], &bytes[n - 5..n - 3], &bytes[n - 2..]);
        if digits(y) && digits(m) && digits(d) {
            return Some(name[..n - 11].to_string());
        }
    }
    if n > 9 && bytes[n - 9] == b'-' && digits(&bytes[n - 8..]) {
        return Some(name[..n - 9].to_string());
    }
    name.strip_suffix("-latest").map(str::to_string)
}

/// Cost of one call in nano-dollars (integers add up exactly): uncached input at the input
/// price, cache reads and writes at theirs when the table has them, output (reasoning inside
/// it) at the output price.
pub fn cost_nanos(price: &Price, usage: &Usage) -> i64 {
    let cached = usage.cached_input_tokens.unwrap_or(0);
    let written = usage.cache_write_tokens.unwrap_or(0);
    let uncached = usage.prompt_tokens.saturating_sub(cached + written);
    let usd = uncached as f64 * price.input
        + cached as f64 * price.cached_input.unwrap_or(price.input)
        + written as f64 * price.cache_write.unwrap_or(price.input)
        + usage.completion_tokens as f64 * price.output;
    (usd * 1e9).round() as i64
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GEMINI: PriceNames = PriceNames {
        prefix: Some("gemini/"),
        vendor_prefixed: false,
    };
    const AZURE: PriceNames = PriceNames {
        prefix: Some("azure/"),
        vendor_prefixed: false,
    };
    const OPENROUTER: PriceNames = PriceNames {
        prefix: Some("openrouter/"),
        vendor_prefixed: true,
    };

    fn usage(prompt: u64, completion: u64) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            cached_input_tokens: None,
            cache_write_tokens: None,
            reasoning_tokens: None,
            cost_usd: None,
            price: None,
        }
    }

    #[test]
    fn the_snapshot_prices_every_providers_usual_models() {
        let t = PriceTable::snapshot();
        let mini = t.lookup(PriceNames::default(), "gpt-4o-mini").unwrap();
        assert_eq!((mini.input, mini.output), (1.5e-7, 6e-7));
        assert_eq!(
            t.lookup(PriceNames::default(), "gpt-4o-mini-2024-07-18")
                .map(|p| p.output),
            Some(6e-7)
        );
        assert!(
            t.lookup(PriceNames::default(), "claude-sonnet-4-5-20250929")
                .is_some()
        );
        assert!(t.lookup(GEMINI, "gemini-2.5-flash").is_some());
        assert!(t.lookup(AZURE, "gpt-4o").is_some());
        assert!(t.lookup(OPENROUTER, "openai/gpt-4o").is_some());
        assert_eq!(
            t.lookup(PriceNames::default(), "my-fine-tune"),
            None,
            "unpriced, not free"
        );
        assert!(PriceTable::snapshot_date().is_some());
    }

    #[test]
    fn dates_and_latest_come_off_only_at_the_end() {
        assert_eq!(undated("gpt-4o-2024-08-06").as_deref(), Some("gpt-4o"));
        assert_eq!(
            undated("claude-3-5-haiku-20241022").as_deref(),
            Some("claude-3-5-haiku")
        );
        assert_eq!(undated("chatgpt-4o-latest").as_deref(), Some("chatgpt-4o"));
        assert_eq!(undated("gpt-4o"), None);
        assert_eq!(undated("o3-mini"), None);
    }

    #[test]
    fn cost_counts_cached_and_written_input_at_their_prices() {
        let p = Price {
            input: 3e-6,
            output: 15e-6,
            cached_input: Some(3e-7),
            cache_write: Some(3.75e-6),
            max_input_tokens: None,
        };
        let mut u = usage(1_000, 100);
        assert_eq!(cost_nanos(&p, &u), 4_500_000, "1000 × $3/M + 100 × $15/M");
        u.cached_input_tokens = Some(600);
        u.cache_write_tokens = Some(100);
        // 300 uncached, 600 read, 100 written, 100 out.
        let want: f64 = (300.0 * 3e-6 + 600.0 * 3e-7 + 100.0 * 3.75e-6 + 100.0 * 15e-6) * 1e9;
        assert_eq!(cost_nanos(&p, &u), want.round() as i64);
    }

    #[test]
    fn a_users_file_wins_and_a_broken_one_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.json");
        std::fs::write(
            &path,
            r#"{"gpt-4o-mini": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "mode": "chat"},
                "our-gateway/llama": {"input_cost_per_token": 1e-7, "output_cost_per_token": 1e-7},
                "bad": {"input_cost_per_token": -1, "output_cost_per_token": 1e-7}}"#,
        )
        .unwrap();
        let (t, warning) = PriceTable::with_overrides(Some(&path), true);
        assert_eq!(warning, None);
        assert_eq!(
            t.lookup(PriceNames::default(), "gpt-4o-mini")
                .unwrap()
                .input,
            1e-6
        );
        assert!(
            t.lookup(PriceNames::default(), "our-gateway/llama")
                .is_some()
        );
        assert_eq!(
            t.lookup(PriceNames::default(), "bad"),
            None,
            "a negative price is no price"
        );
        std::fs::write(&path, "{ not json").unwrap();
        let (t, warning) = PriceTable::with_overrides(Some(&path), true);
        assert!(warning.unwrap().contains("not a price table"));
        assert!(
            t.lookup(PriceNames::default(), "gpt-4o").is_some(),
            "the snapshot still prices"
        );
        let absent = dir.path().join("absent.json");
        let (_, none) = PriceTable::with_overrides(Some(&absent), false);
        assert_eq!(none, None, "no file where none was asked for is no problem");
        let (_, missing) = PriceTable::with_overrides(Some(&absent), true);
        assert!(
            missing.is_some_and(|w| w.contains("absent.json")),
            "a file the settings name and that is not there is said"
        );
    }
}
