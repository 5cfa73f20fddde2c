//! Turns a classified failure into guidance for a person: a title, what happened, what to do
//! and buttons. The only place user-facing failure text is written.

use crate::failure::{ProviderError, TimeoutPhase};
use crate::keys::KeychainProblem;
use crate::protocol::{Guidance, GuidanceAction, GuidanceKind, KeySource};
use crate::providers::Provider;

pub const CMD_SELECT_YOUR_AI: &str = "sidekick.selectYourAI";
pub const CMD_SELECT_MODEL: &str = "sidekick.selectModel";
pub const CMD_NEW_CHAT: &str = "sidekick.newChat";
pub const CMD_SHOW_LOGS: &str = "sidekick.showLogs";

/// What the guidance may mention besides the failure itself.
pub struct Context<'a> {
    pub provider: &'static dyn Provider,
    pub model: Option<&'a str>,
    /// Models the provider does offer, for "did you mean".
    pub available: &'a [String],
    pub key_source: Option<KeySource>,
    pub key_hint: Option<&'a str>,
    pub organization: Option<&'a str>,
    pub base_url: &'a str,
    pub request_timeout_ms: u64,
    pub idle_timeout_ms: u64,
}

fn cmd(title: &str, command: &str) -> GuidanceAction {
    GuidanceAction::Command {
        title: title.into(),
        command: command.into(),
    }
}

fn url(title: &str, url: Option<&str>) -> Option<GuidanceAction> {
    url.map(|u| GuidanceAction::Url {
        title: title.into(),
        url: u.into(),
    })
}

fn base(
    kind: GuidanceKind,
    title: String,
    detail: String,
    actions: Vec<GuidanceAction>,
) -> Guidance {
    Guidance {
        kind,
        title,
        detail,
        actions,
        http_status: None,
        provider_code: None,
        provider_message: None,
        request_id: None,
        retry_after_ms: None,
        partial_text: None,
    }
}

/// Up to three models whose names are closest to `wanted`, never `wanted` itself (it may be
/// listed yet refused, e.g. a retired model).
pub fn close_models(wanted: &str, available: &[String]) -> Vec<String> {
    let mut scored: Vec<(f64, &String)> = available
        .iter()
        .filter(|m| m.as_str() != wanted)
        .map(|m| (strsim::jaro_winkler(wanted, m), m))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, m)| m.clone()).collect()
}

fn seconds(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

pub fn not_connected(provider: &dyn Provider) -> Guidance {
    base(
        GuidanceKind::NotConnected,
        format!("Connect {} first", provider.name()),
        format!(
            "Sidekick has no API key for {}. Run “Sidekick: Select Your AI” to connect, then ask again.",
            provider.name()
        ),
        vec![cmd("Select Your AI", CMD_SELECT_YOUR_AI)],
    )
}

pub fn no_model_selected(provider: &dyn Provider) -> Guidance {
    base(
        GuidanceKind::ModelNotFound,
        "Choose a model first".into(),
        format!(
            "{} is connected but no model is selected. Pick one, then ask again.",
            provider.name()
        ),
        vec![cmd("Select Model", CMD_SELECT_MODEL)],
    )
}

/// A model the provider's list does not have (checked before any request).
pub fn unknown_model(provider: &dyn Provider, model: &str, available: &[String]) -> Guidance {
    let close = close_models(model, available);
    let mut detail = format!(
        "{} does not offer a model named “{model}” to this key.",
        provider.name()
    );
    if !close.is_empty() {
        detail.push_str(&format!(" Close matches: {}.", close.join(", ")));
    }
    base(
        GuidanceKind::ModelNotFound,
        format!("Model {model} is not available"),
        detail,
        vec![cmd("Pick another model", CMD_SELECT_MODEL)],
    )
}

pub fn keychain_unavailable(problem: KeychainProblem, detail: &str) -> Guidance {
    let (title, what) = match problem {
        KeychainProblem::NoStore => (
            "No keychain to keep the key in",
            "Sidekick keeps API keys only in the operating system's keychain, and none answered \
             (no Secret Service on the session bus). On Linux install and start one, e.g. \
             `gnome-keyring` or KWallet, in your desktop session. On a remote or headless machine, \
             use Sidekick from VS Code: it keeps the key in VS Code's secret storage instead.",
        ),
        KeychainProblem::Locked => (
            "The keychain is locked",
            "Sidekick keeps API keys in the operating system's keychain, which is locked and could \
             not ask you to unlock it (no display for the prompt). Unlock it, e.g. by logging in \
             to the desktop or with `gnome-keyring-daemon --unlock`, then connect again.",
        ),
        KeychainProblem::Failed => (
            "The keychain refused the key",
            "The operating system's keychain reported an error while storing or reading the key. \
             See the log for its message, fix the keychain, then connect again.",
        ),
    };
    let mut g = base(
        GuidanceKind::KeychainUnavailable,
        title.into(),
        what.into(),
        vec![cmd("Show Logs", CMD_SHOW_LOGS)],
    );
    g.provider_message = Some(detail.to_string());
    g
}

/// The guidance for a failed exchange with a provider.
pub fn for_provider_error(err: &ProviderError, ctx: &Context<'_>) -> Guidance {
    let p = ctx.provider;
    let name = p.name();
    let links = p.links();
    let model = ctx.model.unwrap_or("the model");
    let api = err.api();
    let status_note = api
        .and_then(|a| a.status)
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    let retry_ms = err.retry_after().map(|d| d.as_millis() as u64);
    let kind = err.kind();
    let mut actions: Vec<GuidanceAction> = Vec::new();
    let (title, detail) = match kind {
        GuidanceKind::InvalidKey => {
            let which = ctx
                .key_hint
                .map(|h| format!("The key {h}"))
                .unwrap_or("The key".into());
            let fix = if ctx.key_source == Some(KeySource::Env) {
                " It comes from the OPENAI_API_KEY environment variable: fix or unset that variable, then restart the server."
            } else {
                " Enter the key again, or create a new one on the API keys page."
            };
            actions.push(cmd("Re-enter key", CMD_SELECT_YOUR_AI));
            actions.extend(url("Open API keys page", links.api_keys));
            (
                format!("{name} rejected the API key"),
                format!(
                    "{which} was refused{status_note}: it may be mistyped, revoked, or belong to another account.{fix}"
                ),
            )
        }
        GuidanceKind::OrganizationMismatch => {
            actions.push(cmd("Fix Organization ID", CMD_SELECT_YOUR_AI));
            actions.extend(url("Open organization settings", links.organization));
            let sent = ctx
                .organization
                .map(|o| format!("the Organization ID {o}"))
                .unwrap_or("no Organization ID".into());
            (
                "The Organization ID does not match this key".into(),
                format!(
                    "Sidekick sent {sent}, and {name} says the key does not belong to it{status_note}. Correct the Organization ID (or leave it empty to use the key's default organization) and connect again."
                ),
            )
        }
        GuidanceKind::PermissionDenied => {
            actions.push(cmd("Pick another model", CMD_SELECT_MODEL));
            actions.extend(url("Open API keys page", links.api_keys));
            let said = api.and_then(|a| a.message.clone()).unwrap_or_default();
            let why = if said.to_ascii_lowercase().contains("scope") {
                "The key is restricted and lacks a permission this request needs"
            } else {
                "The key's project has no access to this model"
            };
            (
                format!("No permission to use {model}"),
                format!(
                    "{why}{status_note}. {name} said: “{said}” Pick another model, or widen the key's permissions on the API keys page."
                ),
            )
        }
        GuidanceKind::RegionUnsupported => {
            actions.push(cmd("Select Your AI", CMD_SELECT_YOUR_AI));
            (
                format!("{name} is not available where you are"),
                format!(
                    "{name} refuses requests from your country, region or territory{status_note}. No setting can change that; a provider that serves your region will work."
                ),
            )
        }
        GuidanceKind::ModelNotFound => {
            actions.push(cmd("Pick another model", CMD_SELECT_MODEL));
            let close = ctx
                .model
                .map(|m| close_models(m, ctx.available))
                .unwrap_or_default();
            let mut d = format!(
                "{name} says {model} does not exist or this key has no access to it{status_note}."
            );
            if !close.is_empty() {
                d.push_str(&format!(
                    " Close matches you can use: {}.",
                    close.join(", ")
                ));
            }
            (format!("Model {model} is not available"), d)
        }
        GuidanceKind::RateLimited => {
            actions.extend(url("Open rate limits", links.rate_limits));
            let when = retry_ms
                .map(|ms| format!("You can try again in {}.", seconds(ms)))
                .unwrap_or("Wait a moment and try again.".into());
            (
                format!("Rate limited by {name}"),
                format!(
                    "This key sent too many requests or tokens per minute{status_note}. {when}"
                ),
            )
        }
        GuidanceKind::RequestTooLarge => {
            actions.push(cmd("New Chat", CMD_NEW_CHAT));
            actions.push(cmd("Pick another model", CMD_SELECT_MODEL));
            (
                "This request is larger than your per-minute token limit".into(),
                format!(
                    "This one request needs more tokens than {model} allows your account per minute{status_note}, so waiting will not help. Shorten it: start a new chat or send less context, or switch to a model with a higher limit."
                ),
            )
        }
        GuidanceKind::QuotaExceeded => {
            actions.extend(url("Open billing", links.billing));
            (
                format!("{name} credits are used up"),
                format!(
                    "Your {name} account has no credits left or reached its spending limit{status_note}. Waiting will not help: add credits or raise the limit in billing, then ask again."
                ),
            )
        }
        GuidanceKind::Overloaded => {
            actions.extend(url("Open status page", links.status));
            (
                format!("{name} is overloaded"),
                format!(
                    "{model} is busy right now{status_note}. This is temporary on {name}'s side: try again in a moment."
                ),
            )
        }
        GuidanceKind::ServerError => {
            actions.extend(url("Open status page", links.status));
            (
                format!("{name} had a server error"),
                format!(
                    "{name} failed to answer{status_note}. This is usually temporary on their side: try again in a moment."
                ),
            )
        }
        GuidanceKind::ContextLengthExceeded => {
            actions.push(cmd("New Chat", CMD_NEW_CHAT));
            (
                format!("The conversation is too long for {model}"),
                format!(
                    "The messages exceed {model}'s context window{status_note}. Start a new chat, or send less code or history."
                ),
            )
        }
        GuidanceKind::BadRequest => {
            if let ProviderError::Unexpected(what) = err {
                actions.push(cmd("Select Your AI", CMD_SELECT_YOUR_AI));
                (
                    format!(
                        "{} does not answer like an OpenAI-compatible API",
                        ctx.base_url
                    ),
                    format!("{what}. Check the base URL: it usually ends in /v1."),
                )
            } else if api.and_then(|a| a.status) == Some(404) {
                actions.push(cmd("Select Your AI", CMD_SELECT_YOUR_AI));
                (
                    format!("{} has no such endpoint", ctx.base_url),
                    "The server answered 404 Not Found. Check the base URL: it usually ends in /v1.".to_string(),
                )
            } else {
                let said = api
                    .and_then(|a| a.message.clone())
                    .unwrap_or("no reason given".into());
                (
                    format!("{name} refused the request"),
                    format!("{name} said{status_note}: “{said}”"),
                )
            }
        }
        GuidanceKind::Network => {
            actions.push(cmd("Show Logs", CMD_SHOW_LOGS));
            let what = match err {
                ProviderError::Network(d) => d.clone(),
                _ => "the connection failed".into(),
            };
            (
                format!("Cannot reach {name}"),
                format!(
                    "Calling {} failed: {what}. Check your connection, VPN or proxy (HTTPS_PROXY / NO_PROXY), then try again.",
                    ctx.base_url
                ),
            )
        }
        GuidanceKind::Timeout => match err {
            ProviderError::Timeout(TimeoutPhase::Idle) => (
                "The answer stalled".into(),
                format!(
                    "{name} sent nothing for {} in the middle of the answer. What arrived is kept; ask again to retry.",
                    seconds(ctx.idle_timeout_ms)
                ),
            ),
            _ => (
                format!("{name} did not answer in time"),
                format!(
                    "No response within {}{status_note}. The provider may be slow or unreachable; try again.",
                    seconds(ctx.request_timeout_ms)
                ),
            ),
        },
        GuidanceKind::StreamInterrupted => (
            "The answer was cut off".into(),
            format!(
                "The stream from {name} ended before the answer was complete. What arrived is kept; ask again to get the rest."
            ),
        ),
        GuidanceKind::NotConnected => return not_connected(p),
        GuidanceKind::KeychainUnavailable => {
            return keychain_unavailable(KeychainProblem::Failed, &err.to_string());
        }
    };
    let mut g = base(kind, title, detail, actions);
    if let Some(a) = api {
        g.http_status = a.status;
        g.provider_code = a.code.clone();
        g.provider_message = a.message.clone();
        g.request_id = a.request_id.clone();
    }
    g.retry_after_ms = retry_ms;
    g
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::failure::{ApiFailure, classify_http};
    use crate::providers;

    fn ctx<'a>(available: &'a [String]) -> Context<'a> {
        Context {
            provider: providers::find("openai").unwrap(),
            model: Some("gpt-4o-mni"),
            available,
            key_source: Some(KeySource::Keychain),
            key_hint: Some("sk-…WXYZ"),
            organization: Some("org-123"),
            base_url: "https://api.openai.com/v1",
            request_timeout_ms: 60_000,
            idle_timeout_ms: 30_000,
        }
    }

    fn api(kind: GuidanceKind, status: u16) -> ProviderError {
        ProviderError::Api(Box::new(ApiFailure {
            kind,
            status: Some(status),
            code: None,
            message: Some("said so".into()),
            request_id: Some("req_1".into()),
            retry_after: None,
            param: None,
        }))
    }

    #[test]
    fn every_kind_has_a_title_a_detail_and_the_raw_fields() {
        let available = vec!["gpt-4o-mini".to_string()];
        for kind in GuidanceKind::ALL {
            let g = for_provider_error(&api(kind, 400), &ctx(&available));
            assert!(!g.title.is_empty() && !g.detail.is_empty(), "{kind}");
            assert!(!g.title.contains('\n'), "a title is one line: {kind}");
            if !matches!(
                kind,
                GuidanceKind::NotConnected | GuidanceKind::KeychainUnavailable
            ) {
                assert_eq!(g.kind, kind);
                assert_eq!(g.request_id.as_deref(), Some("req_1"), "{kind}");
            }
        }
    }

    #[test]
    fn model_not_found_names_close_models() {
        let available: Vec<String> = [
            "gpt-4o-mni",
            "gpt-4o-mini",
            "gpt-4o",
            "o3-mini",
            "gpt-3.5-turbo",
            "gpt-5",
        ]
        .map(String::from)
        .to_vec();
        let g = for_provider_error(&api(GuidanceKind::ModelNotFound, 404), &ctx(&available));
        assert!(
            g.detail
                .contains("Close matches you can use: gpt-4o-mini, gpt-4o,"),
            "the refused model itself is never suggested: {}",
            g.detail
        );
        assert!(g.actions.contains(&GuidanceAction::Command {
            title: "Pick another model".into(),
            command: CMD_SELECT_MODEL.into()
        }));
    }

    #[test]
    fn quota_offers_billing_and_rate_limit_says_when() {
        let quota = classify_http(
            429,
            &Default::default(),
            br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
            None,
        );
        let g = for_provider_error(&ProviderError::Api(Box::new(quota)), &ctx(&[]));
        assert!(
            matches!(&g.actions[0], GuidanceAction::Url { title, .. } if title == "Open billing")
        );
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after-ms", "2500".parse().unwrap());
        let rl = classify_http(429, &headers, b"", None);
        let g = for_provider_error(&ProviderError::Api(Box::new(rl)), &ctx(&[]));
        assert_eq!(g.retry_after_ms, Some(2500));
        assert!(g.detail.contains("2.5 s"), "{}", g.detail);
    }
}
