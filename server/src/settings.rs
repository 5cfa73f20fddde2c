//! Client settings from `initializationOptions` and `workspace/didChangeConfiguration`.
//! Lenient by design: an unknown or wrong-typed setting is logged and falls back to its default,
//! it never refuses the session.

use std::time::Duration;

use serde_json::Value;

/// Every setting the sidecar reads, with its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub retry_max_attempts: u32,
    pub retry_max_wait: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub delta_interval: Duration,
    pub client_secret_storage: bool,
    /// Anthropic requires `max_tokens`; None means the provider's per-model default.
    pub anthropic_max_tokens: Option<u32>,
    /// This calendar month's spending limit, in nano-dollars; None: no budget.
    pub budget_monthly_nanos: Option<i64>,
    /// The share of the budget whose crossing warns, once a month.
    pub budget_warn_percent: u32,
    /// Ledger rows older than this many days are pruned.
    pub ledger_retention_days: u32,
    /// A price file in LiteLLM's format that wins over the snapshot; None:
    /// `$SIDEKICK_HOME/prices.json` when it exists.
    pub prices_path: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retry_max_attempts: 3,
            retry_max_wait: Duration::from_millis(20_000),
            request_timeout: Duration::from_millis(60_000),
            idle_timeout: Duration::from_millis(30_000),
            delta_interval: Duration::from_millis(50),
            client_secret_storage: false,
            anthropic_max_tokens: None,
            budget_monthly_nanos: None,
            budget_warn_percent: 80,
            ledger_retention_days: 90,
            prices_path: None,
        }
    }
}

impl Settings {
    /// Reads settings from a JSON object on top of `self`. Returns the settings and one
    /// warning per setting that was ignored, for the log.
    pub fn merged(&self, value: Option<&Value>) -> (Settings, Vec<String>) {
        let mut settings = self.clone();
        let mut warnings = Vec::new();
        let Some(value) = value else {
            return (settings, warnings);
        };
        // VS Code sends the whole `sidekick` section; other clients may nest it the same way.
        let value = value.get("sidekick").unwrap_or(value);
        let Some(map) = value.as_object() else {
            if !value.is_null() {
                warnings.push(format!("settings: expected an object, got {}", kind(value)));
            }
            return (settings, warnings);
        };
        let mut reader = Reader {
            warnings: &mut warnings,
        };
        for (key, v) in map {
            match key.as_str() {
                "retry" => match v.as_object() {
                    Some(retry) => {
                        for (rk, rv) in retry {
                            match rk.as_str() {
                                "maxAttempts" => {
                                    if let Some(n) = reader.int("retry.maxAttempts", rv, 1, 10) {
                                        settings.retry_max_attempts = n as u32;
                                    }
                                }
                                "maxWaitMs" => {
                                    if let Some(n) = reader.int("retry.maxWaitMs", rv, 0, 600_000) {
                                        settings.retry_max_wait = Duration::from_millis(n);
                                    }
                                }
                                other => reader.unknown(&format!("retry.{other}")),
                            }
                        }
                    }
                    None => reader.wrong("retry", "an object", v),
                },
                "requestTimeoutMs" => {
                    if let Some(n) = reader.int(key, v, 100, 3_600_000) {
                        settings.request_timeout = Duration::from_millis(n);
                    }
                }
                "idleTimeoutMs" => {
                    if let Some(n) = reader.int(key, v, 100, 3_600_000) {
                        settings.idle_timeout = Duration::from_millis(n);
                    }
                }
                "deltaIntervalMs" => {
                    if let Some(n) = reader.int(key, v, 0, 5_000) {
                        settings.delta_interval = Duration::from_millis(n);
                    }
                }
                "anthropic" => match v.as_object() {
                    Some(anthropic) => {
                        for (ak, av) in anthropic {
                            match ak.as_str() {
                                "maxTokens" if av.is_null() => settings.anthropic_max_tokens = None,
                                "maxTokens" => {
                                    if let Some(n) =
                                        reader.int("anthropic.maxTokens", av, 1, 1_000_000)
                                    {
                                        settings.anthropic_max_tokens = Some(n as u32);
                                    }
                                }
                                other => reader.unknown(&format!("anthropic.{other}")),
                            }
                        }
                    }
                    None => reader.wrong("anthropic", "an object", v),
                },
                "budget" => match v.as_object() {
                    Some(budget) => {
                        for (bk, bv) in budget {
                            match bk.as_str() {
                                "monthlyUsd" if bv.is_null() => {
                                    settings.budget_monthly_nanos = None
                                }
                                "monthlyUsd" => match bv.as_f64() {
                                    Some(usd) if usd.is_finite() && (0.0..=1e9).contains(&usd) => {
                                        settings.budget_monthly_nanos =
                                            Some((usd * 1e9).round() as i64);
                                    }
                                    _ => reader.wrong(
                                        "budget.monthlyUsd",
                                        "a number of dollars from 0, or null",
                                        bv,
                                    ),
                                },
                                "warnPercent" => {
                                    if let Some(n) = reader.int("budget.warnPercent", bv, 1, 100) {
                                        settings.budget_warn_percent = n as u32;
                                    }
                                }
                                other => reader.unknown(&format!("budget.{other}")),
                            }
                        }
                    }
                    None => reader.wrong("budget", "an object", v),
                },
                "ledger" => match v.as_object() {
                    Some(ledger) => {
                        for (lk, lv) in ledger {
                            match lk.as_str() {
                                "retentionDays" => {
                                    if let Some(n) = reader.int("ledger.retentionDays", lv, 1, 3650)
                                    {
                                        settings.ledger_retention_days = n as u32;
                                    }
                                }
                                other => reader.unknown(&format!("ledger.{other}")),
                            }
                        }
                    }
                    None => reader.wrong("ledger", "an object", v),
                },
                "prices" => match v.as_object() {
                    Some(prices) => {
                        for (pk, pv) in prices {
                            match (pk.as_str(), pv) {
                                ("path", Value::Null) => settings.prices_path = None,
                                ("path", Value::String(path)) => {
                                    let path = path.trim();
                                    settings.prices_path =
                                        (!path.is_empty()).then(|| path.to_string());
                                }
                                ("path", other) => {
                                    reader.wrong("prices.path", "a file path or null", other)
                                }
                                (other, _) => reader.unknown(&format!("prices.{other}")),
                            }
                        }
                    }
                    None => reader.wrong("prices", "an object", v),
                },
                "clientSecretStorage" => match v.as_bool() {
                    Some(b) => settings.client_secret_storage = b,
                    None => reader.wrong(key, "true or false", v),
                },
                // Settings the extension owns (server path, UI options) travel in the same section.
                "server" | "ui" | "trace" => {}
                other => reader.unknown(other),
            }
        }
        (settings, warnings)
    }

    pub fn from_json(value: Option<&Value>) -> (Settings, Vec<String>) {
        Settings::default().merged(value)
    }
}

struct Reader<'a> {
    warnings: &'a mut Vec<String>,
}

impl Reader<'_> {
    fn int(&mut self, name: &str, v: &Value, min: u64, max: u64) -> Option<u64> {
        match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                self.warnings.push(format!(
                    "settings: {name} = {n} is outside {min}..={max}; using the default"
                ));
                None
            }
            None => {
                self.wrong(name, "a whole number", v);
                None
            }
        }
    }

    fn wrong(&mut self, name: &str, expected: &str, v: &Value) {
        self.warnings.push(format!(
            "settings: {name} should be {expected}, got {}; using the default",
            kind(v)
        ));
    }

    fn unknown(&mut self, name: &str) {
        self.warnings
            .push(format!("settings: unknown setting {name} ignored"));
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_when_absent() {
        let (s, w) = Settings::from_json(None);
        assert_eq!(s, Settings::default());
        assert!(w.is_empty());
    }

    #[test]
    fn reads_every_setting() {
        let (s, w) = Settings::from_json(Some(&json!({
            "retry": {"maxAttempts": 5, "maxWaitMs": 1000},
            "requestTimeoutMs": 2000, "idleTimeoutMs": 3000, "deltaIntervalMs": 10,
            "clientSecretStorage": true, "anthropic": {"maxTokens": 2048}
        })));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.anthropic_max_tokens, Some(2048));
        assert_eq!(s.retry_max_attempts, 5);
        assert_eq!(s.retry_max_wait, Duration::from_millis(1000));
        assert_eq!(s.request_timeout, Duration::from_millis(2000));
        assert_eq!(s.idle_timeout, Duration::from_millis(3000));
        assert_eq!(s.delta_interval, Duration::from_millis(10));
        assert!(s.client_secret_storage);
    }

    #[test]
    fn wrong_types_and_unknown_keys_fall_back_with_a_warning() {
        let (s, w) = Settings::from_json(Some(&json!({
            "retry": {"maxAttempts": "three", "bogus": 1},
            "requestTimeoutMs": -5, "idleTimeoutMs": 1e12, "clientSecretStorage": "yes",
            "mystery": 1
        })));
        assert_eq!(s, Settings::default());
        assert_eq!(w.len(), 6, "{w:?}");
        assert!(w.iter().any(|m| m.contains("retry.maxAttempts")));
        assert!(w.iter().any(|m| m.contains("mystery")));
    }

    #[test]
    fn budget_ledger_and_prices() {
        let (s, w) = Settings::from_json(Some(&json!({
            "budget": {"monthlyUsd": 20.5, "warnPercent": 50},
            "ledger": {"retentionDays": 30},
            "prices": {"path": " /tmp/p.json "}
        })));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.budget_monthly_nanos, Some(20_500_000_000));
        assert_eq!(s.budget_warn_percent, 50);
        assert_eq!(s.ledger_retention_days, 30);
        assert_eq!(s.prices_path.as_deref(), Some("/tmp/p.json"));
        let (s, w) = s.merged(Some(
            &json!({"budget": {"monthlyUsd": null}, "prices": {"path": ""}}),
        ));
        assert!(w.is_empty());
        assert_eq!((s.budget_monthly_nanos, s.prices_path), (None, None));
        let (s, w) = Settings::from_json(Some(
            &json!({"budget": {"monthlyUsd": -3, "warnPercent": 0}}),
        ));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(s.budget_monthly_nanos, None);
    }

    #[test]
    fn nested_sidekick_section_is_read() {
        let (s, _) = Settings::from_json(Some(&json!({"sidekick": {"requestTimeoutMs": 1234}})));
        assert_eq!(s.request_timeout, Duration::from_millis(1234));
    }

    #[test]
    fn a_change_keeps_what_it_does_not_mention() {
        let (first, _) = Settings::from_json(Some(&json!({"clientSecretStorage": true})));
        let (s, w) = first.merged(Some(&json!({"idleTimeoutMs": 500})));
        assert!(w.is_empty());
        assert!(s.client_secret_storage);
        assert_eq!(s.idle_timeout, Duration::from_millis(500));
    }
}
