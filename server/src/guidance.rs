//! Turns a neutral failure and the provider it came from (its name, its links, how its keys
//! and models work) into guidance for a person: a title, what happened, what to do, and
//! buttons. The only place user-facing failure text is written.

mod org;
mod provider;

pub use org::{AdminContext, CMD_CONNECT_ORGANIZATION, admin_failed, no_admin_key};
pub use provider::for_provider_error;

use std::time::Duration;

use crate::connections::{Connection, ConnectionError};
use crate::error::SidekickError;
use crate::failure::{Category, ProviderError};
use crate::ledger::MonthSpend;
use crate::protocol::{Guidance, GuidanceAction, GuidanceKind, KeySource};
use crate::providers::ProviderSpec;
use crate::secrets::{KeychainProblem, SecretStoreError};
use crate::settings::Settings;

pub const CMD_SELECT_YOUR_AI: &str = "sidekick.selectYourAI";
pub const CMD_SELECT_MODEL: &str = "sidekick.selectModel";
pub const CMD_NEW_CHAT: &str = "sidekick.newChat";
pub const CMD_DROP_OLDEST: &str = "sidekick.dropOldest";
pub const CMD_SHOW_LOGS: &str = "sidekick.showLogs";
pub const CMD_OPEN_SETTINGS: &str = "sidekick.openSettings";
pub const CMD_SHOW_SPEND: &str = "sidekick.showSpend";

/// What the guidance may mention besides the failure itself.
pub struct Context<'a> {
    pub provider: &'static ProviderSpec,
    pub model: Option<&'a str>,
    /// Models the provider does offer, for "did you mean".
    pub available: &'a [String],
    pub key_source: Option<KeySource>,
    pub key_hint: Option<&'a str>,
    pub organization: Option<&'a str>,
    pub base_url: &'a str,
    pub request_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    /// How many attempts the failure ends (after retries), so the words can say so.
    pub attempts: u32,
}

impl<'a> Context<'a> {
    /// What a connection lets guidance mention.
    pub fn of(
        conn: &'a Connection,
        settings: &Settings,
        model: Option<&'a str>,
        available: &'a [String],
    ) -> Context<'a> {
        Context {
            provider: conn.spec(),
            model,
            available,
            key_source: conn.key_source,
            key_hint: conn.key_hint.as_deref(),
            organization: conn.endpoint.organization.as_deref(),
            base_url: &conn.endpoint.base_url,
            request_timeout_ms: settings.request_timeout.as_millis() as u64,
            idle_timeout_ms: settings.idle_timeout.as_millis() as u64,
            attempts: 1,
        }
    }
}

/// The guidance for a failed call to a connected provider, logged once.
pub fn for_call_failure(
    err: &ProviderError,
    conn: &Connection,
    settings: &Settings,
    model: Option<&str>,
    available: &[String],
) -> Guidance {
    for_failed_attempts(err, 1, conn, settings, model, available)
}

/// The same, for a failure that ends `attempts` attempts (a chat after its retries).
pub fn for_failed_attempts(
    err: &ProviderError,
    attempts: u32,
    conn: &Connection,
    settings: &Settings,
    model: Option<&str>,
    available: &[String],
) -> Guidance {
    let mut ctx = Context::of(conn, settings, model, available);
    ctx.attempts = attempts;
    let g = for_provider_error(err, &ctx);
    tracing::warn!(kind = %g.kind, status = ?g.http_status, request_id = ?g.request_id, "{}: {err}", conn.spec().id);
    g
}

/// The one place a connection failure becomes what the client sees.
pub fn connection_failed(e: ConnectionError, settings: &Settings) -> SidekickError {
    match e {
        ConnectionError::Params(m) => SidekickError::InvalidParams(m),
        ConnectionError::NotConnected(spec) => not_connected(spec).into(),
        ConnectionError::Provider { error, connection } => {
            for_call_failure(&error, &connection, settings, None, &[]).into()
        }
        ConnectionError::UnknownModel {
            connection,
            model,
            available,
        } => unknown_model(connection.spec(), &model, &available).into(),
        ConnectionError::Secrets(e) => {
            tracing::warn!("{e}");
            secret_store_failed(&e).into()
        }
        ConnectionError::State(m) => {
            SidekickError::Internal(format!("could not save the state file: {m}"))
        }
        ConnectionError::Admin { error, connection } => {
            admin_failed(&error, &AdminContext::of(&connection, settings, 1)).into()
        }
    }
}

/// The wire kind of a neutral category.
pub fn kind_of(category: Category) -> GuidanceKind {
    match category {
        Category::InvalidKey => GuidanceKind::InvalidKey,
        Category::OrganizationMismatch => GuidanceKind::OrganizationMismatch,
        Category::PermissionDenied => GuidanceKind::PermissionDenied,
        Category::RegionUnsupported => GuidanceKind::RegionUnsupported,
        Category::ModelNotFound => GuidanceKind::ModelNotFound,
        Category::RateLimited => GuidanceKind::RateLimited,
        Category::RequestTooLarge => GuidanceKind::RequestTooLarge,
        Category::QuotaExceeded => GuidanceKind::QuotaExceeded,
        Category::Overloaded => GuidanceKind::Overloaded,
        Category::ServerError => GuidanceKind::ServerError,
        Category::ContextLengthExceeded => GuidanceKind::ContextLengthExceeded,
        Category::ContentFiltered => GuidanceKind::ContentFiltered,
        Category::BadRequest | Category::EndpointNotFound | Category::UnexpectedResponse => {
            GuidanceKind::BadRequest
        }
        Category::Network => GuidanceKind::Network,
        Category::Timeout => GuidanceKind::Timeout,
        Category::StreamInterrupted => GuidanceKind::StreamInterrupted,
        Category::AdminKeyRequired => GuidanceKind::AdminKeyRequired,
    }
}

fn cmd(title: &str, command: &str) -> GuidanceAction {
    GuidanceAction::Command {
        title: title.into(),
        command: command.into(),
        arguments: Vec::new(),
    }
}

/// A command about one provider: Select Your AI goes straight to that provider's prompts.
fn cmd_for(title: &str, command: &str, provider: &ProviderSpec) -> GuidanceAction {
    GuidanceAction::Command {
        title: title.into(),
        command: command.into(),
        arguments: vec![provider.id.into()],
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
///
/// Jaro-Winkler costs the product of the two lengths, and a provider may list thousands of
/// long ids: names are compared on their first 64 characters, which is where they differ.
pub fn close_models(wanted: &str, available: &[String]) -> Vec<String> {
    close_models_in(wanted, available)
}

/// The same, off the async thread when the list is long: a few thousand ids cost milliseconds
/// that every other request of the session would otherwise wait out.
pub async fn close_models_off_thread(wanted: &str, available: Vec<String>) -> Vec<String> {
    if available.len() <= 100 {
        return close_models_in(wanted, &available);
    }
    let wanted = wanted.to_string();
    tokio::task::spawn_blocking(move || close_models_in(&wanted, &available))
        .await
        .unwrap_or_default()
}

fn close_models_in(wanted: &str, available: &[String]) -> Vec<String> {
    let head = |s: &str| -> String { s.chars().take(64).collect() };
    let wanted_head = head(wanted);
    let mut scored: Vec<(f64, &String)> = available
        .iter()
        .filter(|m| m.as_str() != wanted)
        .map(|m| (strsim::jaro_winkler(&wanted_head, &head(m)), m))
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

/// The one line a retry's `sidekick/chatStatus` shows: "Rate limited by OpenAI; retrying in 2.0 s".
pub fn retry_note(provider: &ProviderSpec, category: Category, delay: Duration) -> String {
    let name = provider.name;
    let what = match category {
        Category::RateLimited => format!("Rate limited by {name}"),
        Category::Overloaded => format!("{name} is overloaded"),
        Category::ServerError => format!("{name} had a server error"),
        Category::Timeout => format!("{name} did not answer in time"),
        _ => format!("Cannot reach {name}"),
    };
    format!("{what}; retrying in {:.1} s", delay.as_secs_f64())
}

/// A chat with no provider named and none selected; `disconnected` is the provider whose
/// disconnect took the selection away, if that is why.
pub fn nothing_selected(disconnected: Option<&ProviderSpec>) -> Guidance {
    let Some(p) = disconnected else {
        return base(
            GuidanceKind::NotConnected,
            "Choose an AI first".into(),
            "No provider is chosen yet. Run “Sidekick: Select Your AI” to pick a provider and a model, then ask again.".into(),
            vec![cmd("Select Your AI", CMD_SELECT_YOUR_AI)],
        );
    };
    base(
        GuidanceKind::NotConnected,
        format!("{} is disconnected", p.name),
        format!(
            "You disconnected {}, so no provider is chosen. Connect it again or pick another with “Sidekick: Select Your AI”, then ask again.",
            p.name
        ),
        vec![
            cmd_for(&format!("Connect {}", p.name), CMD_SELECT_YOUR_AI, p),
            cmd("Select Your AI", CMD_SELECT_YOUR_AI),
        ],
    )
}

pub fn not_connected(provider: &ProviderSpec) -> Guidance {
    let what = if provider.requires_key {
        format!("Sidekick has no API key for {}", provider.name)
    } else {
        format!("{} is not connected", provider.name)
    };
    base(
        GuidanceKind::NotConnected,
        format!("Connect {} first", provider.name),
        format!("{what}. Connect it with “Sidekick: Select Your AI”, then ask again."),
        vec![cmd_for(
            &format!("Connect {}", provider.name),
            CMD_SELECT_YOUR_AI,
            provider,
        )],
    )
}

pub fn no_model_selected(provider: &ProviderSpec) -> Guidance {
    base(
        GuidanceKind::ModelNotFound,
        "Choose a model first".into(),
        format!(
            "{} is connected but no model is selected. Pick one, then ask again.",
            provider.name
        ),
        vec![cmd("Select Model", CMD_SELECT_MODEL)],
    )
}

/// A model the provider's list does not have (checked before any request).
pub fn unknown_model(provider: &ProviderSpec, model: &str, available: &[String]) -> Guidance {
    let close = close_models(model, available);
    let mut detail = format!(
        "{} does not offer a model named “{model}” to this key.",
        provider.name
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

/// "$12.34", or four places under a cent ("$0.0018") so a small budget is not "$0.00".
fn dollars(nanos: i64) -> String {
    let usd = nanos as f64 / 1e9;
    if usd != 0.0 && usd.abs() < 0.01 {
        format!("${usd:.4}")
    } else {
        format!("${usd:.2}")
    }
}

/// A chat refused before it was sent: this month's spend reached the budget.
pub fn budget_exceeded(month: MonthSpend, budget_nanos: i64) -> Guidance {
    let unpriced = match month.unpriced_calls {
        0 => String::new(),
        1 => " One answer this month has no known cost (no price, or stopped before its usage came) and is not counted.".into(),
        n => format!(" {n} answers this month have no known cost (no price, or stopped before their usage came) and are not counted."),
    };
    base(
        GuidanceKind::BudgetExceeded,
        "Monthly budget reached".into(),
        format!(
            "Sidekick has recorded {} of AI use this month, and your monthly budget is {}, so this question was not sent.{unpriced} Raise the budget (or clear it) in the settings to go on, or wait for next month.",
            dollars(month.nanos),
            dollars(budget_nanos)
        ),
        vec![
            GuidanceAction::Command {
                title: "Raise the budget".into(),
                command: CMD_OPEN_SETTINGS.into(),
                arguments: vec!["budget".into()],
            },
            cmd("Show spend", CMD_SHOW_SPEND),
        ],
    )
}

/// The request would not fit the model's window: refused before it is sent.
pub fn window_exceeded(
    model: &str,
    tokens: u64,
    window: u64,
    chat_id: &str,
    can_drop: bool,
) -> Guidance {
    let what = if can_drop {
        "Leave out the oldest messages of this conversation, or start a new chat."
    } else {
        "Even the question alone does not fit: send less context (a selection instead of a whole file), or choose a model with a larger window."
    };
    let mut actions = Vec::new();
    if can_drop {
        actions.push(GuidanceAction::Command {
            title: "Drop oldest messages".into(),
            command: CMD_DROP_OLDEST.into(),
            arguments: vec![chat_id.into()],
        });
    }
    actions.push(cmd("New Chat", CMD_NEW_CHAT));
    base(
        GuidanceKind::ContextLengthExceeded,
        format!("The conversation is too long for {model}"),
        format!(
            "This request is about {} tokens and {model} reads at most {} at a time, so it was not sent. {what}",
            thousands(tokens),
            thousands(window)
        ),
        actions,
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The once-a-month warning when the spend crosses `warnPercent` of the budget.
/// A budget is set but the month's spend cannot be read: chats go on, and the user knows.
pub fn budget_unchecked(budget_nanos: i64) -> String {
    format!(
        "Sidekick: your {} monthly AI budget cannot be checked, because there is no request ledger to add this month's spend from (SIDEKICK_LEDGER=off, or its database failed: see the log). Chats are not limited by it until the sidecar restarts with a working ledger.",
        dollars(budget_nanos)
    )
}

pub fn budget_warning(month: MonthSpend, budget_nanos: i64) -> String {
    let share = if budget_nanos > 0 {
        (month.nanos as f64 / budget_nanos as f64 * 100.0).floor()
    } else {
        100.0
    };
    format!(
        "Sidekick: {} of your {} monthly AI budget is used ({share:.0}%). Chats stop once it is reached; the budget is in Settings → Sidekick.",
        dollars(month.nanos),
        dollars(budget_nanos)
    )
}

/// A secret store that failed while storing, reading or deleting a key.
pub fn secret_store_failed(e: &SecretStoreError) -> Guidance {
    match e {
        SecretStoreError::Keychain { problem, detail } => keychain_unavailable(*problem, detail),
        SecretStoreError::Client(detail) => keychain_unavailable(KeychainProblem::Failed, detail),
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::failure::{ApiFailure, ProviderError};
    use crate::providers::Registry;

    const EVERY_CATEGORY: [Category; 18] = [
        Category::InvalidKey,
        Category::OrganizationMismatch,
        Category::PermissionDenied,
        Category::RegionUnsupported,
        Category::ModelNotFound,
        Category::RateLimited,
        Category::RequestTooLarge,
        Category::QuotaExceeded,
        Category::Overloaded,
        Category::ServerError,
        Category::ContextLengthExceeded,
        Category::ContentFiltered,
        Category::BadRequest,
        Category::EndpointNotFound,
        Category::UnexpectedResponse,
        Category::Network,
        Category::Timeout,
        Category::StreamInterrupted,
    ];

    fn ctx<'a>(provider: &str, available: &'a [String]) -> Context<'a> {
        let registry = Registry::with_env(|_| None);
        Context {
            provider: registry.find(provider).unwrap().spec(),
            model: Some("gpt-4o-mni"),
            available,
            key_source: Some(KeySource::Keychain),
            key_hint: Some("sk-…WXYZ"),
            organization: Some("org-123"),
            base_url: "https://api.openai.com/v1",
            request_timeout_ms: 60_000,
            idle_timeout_ms: 30_000,
            attempts: 1,
        }
    }

    fn api(category: Category, status: u16) -> ProviderError {
        let mut f = ApiFailure::new(category, Some(status));
        f.message = Some("said so".into());
        f.request_id = Some("req_1".into());
        ProviderError::api_failure(f)
    }

    #[test]
    fn every_category_of_every_provider_has_words_and_its_own_links() {
        let available = vec!["gpt-4o-mini".to_string()];
        let registry = Registry::with_env(|_| None);
        for entry in registry.entries() {
            let spec = entry.spec();
            for category in EVERY_CATEGORY {
                let g = for_provider_error(&api(category, 400), &ctx(spec.id, &available));
                assert!(
                    !g.title.is_empty() && !g.detail.is_empty(),
                    "{} {category:?}",
                    spec.id
                );
                assert!(!g.title.contains('\n'), "a title is one line");
                assert_eq!(g.kind, kind_of(category));
                assert_eq!(g.request_id.as_deref(), Some("req_1"));
                for a in &g.actions {
                    if let GuidanceAction::Url { url, .. } = a {
                        let own = [
                            spec.links.api_keys,
                            spec.links.billing,
                            spec.links.status,
                            spec.links.rate_limits,
                            spec.links.organization,
                        ];
                        assert!(
                            own.contains(&Some(url.as_str())),
                            "{} links to its own pages: {url}",
                            spec.id
                        );
                    }
                }
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
        let g = for_provider_error(
            &api(Category::ModelNotFound, 404),
            &ctx("openai", &available),
        );
        assert!(
            g.detail
                .contains("Close matches you can use: gpt-4o-mini, gpt-4o,"),
            "the refused model itself is never suggested: {}",
            g.detail
        );
        assert!(g.actions.contains(&GuidanceAction::Command {
            title: "Pick another model".into(),
            command: CMD_SELECT_MODEL.into(),
            arguments: vec![],
        }));
    }

    #[test]
    fn a_content_filter_is_the_resources_on_azure_and_moderation_elsewhere() {
        let g = for_provider_error(&api(Category::ContentFiltered, 400), &ctx("azure", &[]));
        assert!(g.detail.contains("resource's owner"), "{}", g.detail);
        let g = for_provider_error(
            &api(Category::ContentFiltered, 403),
            &ctx("openrouter", &[]),
        );
        assert!(!g.detail.contains("resource"), "{}", g.detail);
        assert!(g.detail.contains("moderation"), "{}", g.detail);
        assert!(g.actions.iter().any(|a| matches!(
            a,
            GuidanceAction::Command { command, .. } if command == CMD_SELECT_MODEL
        )));
    }

    #[test]
    fn deployments_keys_from_the_environment_and_billing_speak_of_the_provider() {
        let g = for_provider_error(&api(Category::ModelNotFound, 404), &ctx("azure", &[]));
        assert!(
            g.title.starts_with("Deployment gpt-4o-mni not found"),
            "{}",
            g.title
        );
        let g = for_provider_error(&api(Category::InvalidKey, 401), &ctx("azure", &[]));
        assert!(
            g.detail.contains("not the endpoint"),
            "both causes: {}",
            g.detail
        );
        let mut c = ctx("anthropic", &[]);
        c.key_source = Some(KeySource::Env);
        let g = for_provider_error(&api(Category::InvalidKey, 401), &c);
        assert!(g.detail.contains("ANTHROPIC_API_KEY"), "{}", g.detail);
        let g = for_provider_error(&api(Category::QuotaExceeded, 400), &ctx("anthropic", &[]));
        assert_eq!(
            g.actions,
            [GuidanceAction::Url {
                title: "Open billing".into(),
                url: "https://console.anthropic.com/settings/billing".into()
            }]
        );
    }

    #[test]
    fn a_rate_limit_says_when() {
        let mut f = ApiFailure::new(Category::RateLimited, Some(429));
        f.retry_after = Some(Duration::from_millis(2500));
        let g = for_provider_error(&ProviderError::api_failure(f), &ctx("openai", &[]));
        assert_eq!(g.retry_after_ms, Some(2500));
        assert!(g.detail.contains("2.5 s"), "{}", g.detail);
    }
}
