//! The words for a failed provider call: one function per category, each given the provider's
//! facts (name, links, key variable, base URL, model kind) through the context.

use super::{
    CMD_NEW_CHAT, CMD_SELECT_MODEL, CMD_SELECT_YOUR_AI, CMD_SHOW_LOGS, Context, base, close_models,
    cmd, cmd_for, kind_of, seconds, url,
};
use crate::failure::{ApiFailure, Category, NetworkCause, ProviderError, TimeoutPhase};
use crate::protocol::{Guidance, GuidanceAction, KeySource, ModelKind};

/// Title, detail and actions of one failure.
type Words = (String, String, Vec<GuidanceAction>);

/// The guidance for a failed exchange with a provider.
pub fn for_provider_error(err: &ProviderError, ctx: &Context<'_>) -> Guidance {
    let api = err.api();
    let status_note = api
        .and_then(|a| a.status)
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    let category = err.category();
    let (title, detail, actions) = match category {
        Category::InvalidKey => invalid_key(ctx, &status_note),
        Category::OrganizationMismatch => organization_mismatch(ctx, &status_note),
        Category::PermissionDenied => permission_denied(ctx, api, &status_note),
        Category::RegionUnsupported => region_unsupported(ctx, &status_note),
        Category::ModelNotFound => model_not_found(ctx, &status_note),
        Category::RateLimited => rate_limited(ctx, err, &status_note),
        Category::RequestTooLarge => request_too_large(ctx, api, &status_note),
        Category::QuotaExceeded => quota_exceeded(ctx, &status_note),
        Category::Overloaded | Category::ServerError => unavailable(ctx, category, &status_note),
        Category::ContextLengthExceeded => context_too_long(ctx, &status_note),
        Category::ContentFiltered => content_filtered(ctx, api),
        Category::BadRequest => bad_request(ctx, api, &status_note),
        Category::EndpointNotFound => endpoint_not_found(ctx),
        Category::UnexpectedResponse => unexpected(ctx, err),
        Category::Network => network(ctx, err),
        Category::Timeout => timeout(ctx, err, &status_note),
        Category::StreamInterrupted => stream_interrupted(ctx),
        Category::AdminKeyRequired => admin_key_required(ctx, &status_note),
    };
    let mut g = base(kind_of(category), title, detail, actions);
    if let Some(a) = api {
        g.http_status = a.status;
        g.provider_code = a.code.clone();
        g.provider_message = a.message.clone();
        g.request_id = a.request_id.clone();
    }
    g.retry_after_ms = err.retry_after().map(|d| d.as_millis() as u64);
    g
}

fn model_name<'a>(ctx: &Context<'a>) -> &'a str {
    ctx.model.unwrap_or("the model")
}

fn invalid_key(ctx: &Context<'_>, status_note: &str) -> Words {
    let p = ctx.provider;
    let which = ctx
        .key_hint
        .map(|h| format!("The key {h}"))
        .unwrap_or("The key".into());
    let page = if p.links.api_keys.is_some() {
        ", or create a new one on the API keys page"
    } else {
        ""
    };
    let fix = match (ctx.key_source, p.env_key_var) {
        (Some(KeySource::Env), Some(var)) => format!(
            " It comes from the {var} environment variable: fix or unset that variable, then restart the server."
        ),
        _ => format!(" Enter the key again{page}."),
    };
    // Where the endpoint is the user's own, a key for another resource is refused the same way.
    let endpoint = if p.base_url_editable() {
        format!(
            ", or {} is not the endpoint this key belongs to",
            ctx.base_url
        )
    } else {
        String::new()
    };
    let mut actions = vec![cmd_for("Re-enter key", CMD_SELECT_YOUR_AI, p)];
    actions.extend(url("Open API keys page", p.links.api_keys));
    (
        format!("{} rejected the API key", p.name),
        format!(
            "{which} was refused{status_note}: it may be mistyped, revoked, or belong to another account{endpoint}.{fix}"
        ),
        actions,
    )
}

/// Outside the organization service (which words it with the admin-keys page itself).
fn admin_key_required(ctx: &Context<'_>, status_note: &str) -> Words {
    let p = ctx.provider;
    let mut actions = vec![cmd("Connect organization", super::CMD_CONNECT_ORGANIZATION)];
    actions.extend(url("Open organization settings", p.links.organization));
    (
        "This key cannot read the organization's costs".into(),
        format!(
            "{} refused the key{status_note}: the organization's usage and costs need an admin key (sk-admin-…), which an organization owner creates; a project key cannot read them.",
            p.name
        ),
        actions,
    )
}

fn organization_mismatch(ctx: &Context<'_>, status_note: &str) -> Words {
    let p = ctx.provider;
    let mut actions = vec![cmd_for("Fix Organization ID", CMD_SELECT_YOUR_AI, p)];
    actions.extend(url("Open organization settings", p.links.organization));
    let sent = ctx
        .organization
        .map(|o| format!("the Organization ID {o}"))
        .unwrap_or("no Organization ID".into());
    (
        "The Organization ID does not match this key".into(),
        format!(
            "Sidekick sent {sent}, and {} says the key does not belong to it{status_note}. Correct the Organization ID (or leave it empty to use the key's default organization) and connect again.",
            p.name
        ),
        actions,
    )
}

fn permission_denied(ctx: &Context<'_>, api: Option<&ApiFailure>, status_note: &str) -> Words {
    let p = ctx.provider;
    let mut actions = vec![cmd("Pick another model", CMD_SELECT_MODEL)];
    actions.extend(url("Open API keys page", p.links.api_keys));
    let said = api.and_then(|a| a.message.clone()).unwrap_or_default();
    let why = if said.to_ascii_lowercase().contains("scope") {
        "The key is restricted and lacks a permission this request needs"
    } else {
        "This key has no access to this model or request"
    };
    (
        format!("No permission to use {}", model_name(ctx)),
        format!(
            "{why}{status_note}. {} said: “{said}” Pick another model, or widen the key's permissions on the API keys page.",
            p.name
        ),
        actions,
    )
}

fn region_unsupported(ctx: &Context<'_>, status_note: &str) -> Words {
    let name = ctx.provider.name;
    (
        format!("{name} is not available where you are"),
        format!(
            "{name} refuses requests from your country, region or territory{status_note}. No setting can change that; a provider that serves your region will work."
        ),
        vec![cmd("Select Your AI", CMD_SELECT_YOUR_AI)],
    )
}

fn model_not_found(ctx: &Context<'_>, status_note: &str) -> Words {
    let p = ctx.provider;
    let model = model_name(ctx);
    let actions = vec![cmd("Pick another model", CMD_SELECT_MODEL)];
    if p.model_kind == ModelKind::Deployment {
        return (
            format!("Deployment {model} not found"),
            format!(
                "There is no deployment named “{model}” in {}{status_note}. Check the name under Deployments in the Azure AI Foundry portal (a new deployment can take a few minutes to appear), or enter another one.",
                ctx.base_url
            ),
            actions,
        );
    }
    let mut d = format!(
        "{} says {model} does not exist or this key has no access to it{status_note}.",
        p.name
    );
    let close = ctx
        .model
        .map(|m| close_models(m, ctx.available))
        .unwrap_or_default();
    if !close.is_empty() {
        d.push_str(&format!(
            " Close matches you can use: {}.",
            close.join(", ")
        ));
    }
    (format!("Model {model} is not available"), d, actions)
}

fn rate_limited(ctx: &Context<'_>, err: &ProviderError, status_note: &str) -> Words {
    let when = err
        .retry_after()
        .map(|d| format!("You can try again in {}.", seconds(d.as_millis() as u64)))
        .unwrap_or("Wait a moment and try again.".into());
    (
        format!("Rate limited by {}", ctx.provider.name),
        format!(
            "This key sent too many requests or tokens per minute{status_note}.{} {when}",
            tried(ctx)
        ),
        url("Open rate limits", ctx.provider.links.rate_limits)
            .into_iter()
            .collect(),
    )
}

fn request_too_large(ctx: &Context<'_>, api: Option<&ApiFailure>, status_note: &str) -> Words {
    let actions = vec![
        cmd("New Chat", CMD_NEW_CHAT),
        cmd("Pick another model", CMD_SELECT_MODEL),
    ];
    if api.and_then(|a| a.status) == Some(413) {
        return (
            "This request is too large to send".into(),
            format!(
                "{} refused the request because of its size{status_note}. Shorten it: start a new chat or send less context.",
                ctx.provider.name
            ),
            actions,
        );
    }
    (
        "This request is larger than your per-minute token limit".into(),
        format!(
            "This one request needs more tokens than {} allows your account per minute{status_note}, so waiting will not help. Shorten it: start a new chat or send less context, or switch to a model with a higher limit.",
            model_name(ctx)
        ),
        actions,
    )
}

fn quota_exceeded(ctx: &Context<'_>, status_note: &str) -> Words {
    let name = ctx.provider.name;
    (
        format!("{name} credits are used up"),
        format!(
            "Your {name} account has no credits left or reached its spending limit{status_note}. Waiting will not help: add credits or raise the limit in billing, then ask again."
        ),
        url("Open billing", ctx.provider.links.billing)
            .into_iter()
            .collect(),
    )
}

fn unavailable(ctx: &Context<'_>, category: Category, status_note: &str) -> Words {
    let name = ctx.provider.name;
    let actions = url("Open status page", ctx.provider.links.status)
        .into_iter()
        .collect();
    let tried = tried(ctx);
    if category == Category::Overloaded {
        return (
            format!("{name} is overloaded"),
            format!(
                "{} is busy right now{status_note}.{tried} This is temporary on {name}'s side: try again in a moment.",
                model_name(ctx)
            ),
            actions,
        );
    }
    (
        format!("{name} had a server error"),
        format!(
            "{name} failed to answer{status_note}.{tried} This is usually temporary on their side: try again in a moment."
        ),
        actions,
    )
}

fn context_too_long(ctx: &Context<'_>, status_note: &str) -> Words {
    let model = model_name(ctx);
    (
        format!("The conversation is too long for {model}"),
        format!(
            "The messages exceed {model}'s context window{status_note}. Start a new chat, or send less code or history."
        ),
        vec![cmd("New Chat", CMD_NEW_CHAT)],
    )
}

fn content_filtered(ctx: &Context<'_>, api: Option<&ApiFailure>) -> Words {
    // A refusal with a status came before any answer: the prompt was blocked. Without one it
    // came in the stream: the answer was.
    let what = if api.and_then(|a| a.status).is_some() {
        "question"
    } else {
        "answer"
    };
    // Only a resource the user runs (Azure's deployments) has an owner who can change the
    // filter; elsewhere it is the provider's moderation (OpenRouter's, for some models).
    if ctx.provider.model_kind == ModelKind::Deployment {
        return (
            format!("The content filter blocked the {what}"),
            format!(
                "{}'s content filter for this resource blocked the {what}. Asking again will not help: rephrase the question, or ask the resource's owner to review its content filter settings.",
                ctx.provider.name
            ),
            vec![cmd("New Chat", CMD_NEW_CHAT)],
        );
    }
    (
        format!("The content filter blocked the {what}"),
        format!(
            "{}'s moderation blocked the {what}. Asking again will not help: rephrase the question, or pick another model (some are moderated and others are not).",
            ctx.provider.name
        ),
        vec![
            cmd("Pick another model", CMD_SELECT_MODEL),
            cmd("New Chat", CMD_NEW_CHAT),
        ],
    )
}

fn bad_request(ctx: &Context<'_>, api: Option<&ApiFailure>, status_note: &str) -> Words {
    let name = ctx.provider.name;
    let said = api
        .and_then(|a| a.message.clone())
        .unwrap_or("no reason given".into());
    (
        format!("{name} refused the request"),
        format!("{name} said{status_note}: “{said}”"),
        Vec::new(),
    )
}

/// What the base URL of this provider usually looks like, for "check the base URL".
fn base_url_advice(ctx: &Context<'_>) -> String {
    match ctx.provider.base_url_placeholder() {
        Some(example) => format!("Check the base URL: it looks like {example}."),
        None => "Check the base URL.".into(),
    }
}

fn endpoint_not_found(ctx: &Context<'_>) -> Words {
    (
        format!("{} has no such endpoint", ctx.base_url),
        format!(
            "The server answered 404 Not Found. {}",
            base_url_advice(ctx)
        ),
        vec![cmd_for(
            "Change the base URL",
            CMD_SELECT_YOUR_AI,
            ctx.provider,
        )],
    )
}

fn unexpected(ctx: &Context<'_>, err: &ProviderError) -> Words {
    let what = match err {
        ProviderError::Unexpected(w) => w.clone(),
        _ => "the answer could not be read".into(),
    };
    (
        format!(
            "{} does not answer like the {} API",
            ctx.base_url, ctx.provider.name
        ),
        format!("{what}. {}", base_url_advice(ctx)),
        vec![cmd_for(
            "Change the base URL",
            CMD_SELECT_YOUR_AI,
            ctx.provider,
        )],
    )
}

fn network(ctx: &Context<'_>, err: &ProviderError) -> Words {
    let (what, advice) = match err {
        ProviderError::Network { cause, .. } => match cause {
            NetworkCause::Dns => (
                "its name could not be looked up",
                "Check that you are online and that the address is right; a VPN or a company network may need to be on.",
            ),
            NetworkCause::Refused => (
                "nothing is answering there",
                "If it is a server on this machine or network, start it; otherwise check the address and your firewall.",
            ),
            NetworkCause::Tls => (
                "the secure connection failed",
                "A company proxy or antivirus that inspects HTTPS can cause this: ask for its certificate to be trusted, or try another network.",
            ),
            NetworkCause::Proxy => (
                "the proxy refused the connection",
                "Check the proxy settings (HTTPS_PROXY, NO_PROXY) of the environment VS Code starts in.",
            ),
            NetworkCause::Closed => (
                "the connection was closed",
                "Check your connection, VPN or proxy (HTTPS_PROXY, NO_PROXY).",
            ),
            NetworkCause::Other => (
                "the request could not be sent",
                "Check your connection, VPN or proxy (HTTPS_PROXY, NO_PROXY).",
            ),
        },
        _ => (
            "the connection failed",
            "Check your connection, VPN or proxy (HTTPS_PROXY, NO_PROXY).",
        ),
    };
    // Advice first, in plain words; the client library's error chain is in the log only.
    let host = crate::endpoint::host(ctx.base_url);
    (
        format!("Cannot reach {}", ctx.provider.name),
        format!(
            "Sidekick could not connect to {host}: {what}. {advice} Then try again.{}",
            tried(ctx)
        ),
        vec![cmd("Show Logs", CMD_SHOW_LOGS)],
    )
}

/// " Sidekick tried 3 times." after retries, or nothing.
fn tried(ctx: &Context<'_>) -> String {
    if ctx.attempts > 1 {
        format!(" Sidekick already tried {} times.", ctx.attempts)
    } else {
        String::new()
    }
}

fn timeout(ctx: &Context<'_>, err: &ProviderError, status_note: &str) -> Words {
    let name = ctx.provider.name;
    match err {
        ProviderError::Timeout(TimeoutPhase::Idle) => (
            "The answer stalled".into(),
            format!(
                "{name} sent nothing for {} in the middle of the answer. What arrived is kept; ask again to retry.",
                seconds(ctx.idle_timeout_ms)
            ),
            Vec::new(),
        ),
        _ => (
            format!("{name} did not answer in time"),
            format!(
                "No response within {}{status_note}.{} The provider may be slow or unreachable; try again.",
                seconds(ctx.request_timeout_ms),
                tried(ctx)
            ),
            Vec::new(),
        ),
    }
}

fn stream_interrupted(ctx: &Context<'_>) -> Words {
    (
        "The answer was cut off".into(),
        format!(
            "The stream from {} ended before the answer was complete. What arrived is kept; ask again to get the rest.",
            ctx.provider.name
        ),
        Vec::new(),
    )
}
