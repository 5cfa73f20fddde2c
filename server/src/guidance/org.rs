//! The words for organization usage and costs: the admin key a person must get (and why a
//! project key is not it), a refused admin key, and every other failure in the provider's
//! usual words.

use super::{Context, base, cmd, for_provider_error, url};
use crate::connections::AdminConnection;
use crate::failure::{Category, ProviderError};
use crate::protocol::{Guidance, GuidanceAction, GuidanceKind, KeySource};
use crate::providers::ProviderSpec;
use crate::providers::org_api::OrgApi;
use crate::settings::Settings;

pub const CMD_CONNECT_ORGANIZATION: &str = "sidekick.connectOrganization";

/// What an admin call's failure may mention.
pub struct AdminContext<'a> {
    pub provider: &'static ProviderSpec,
    pub api: &'a dyn OrgApi,
    pub key_hint: Option<&'a str>,
    pub key_source: Option<KeySource>,
    pub base_url: &'a str,
    pub request_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub attempts: u32,
}

impl<'a> AdminContext<'a> {
    pub fn of(conn: &'a AdminConnection, settings: &Settings, attempts: u32) -> AdminContext<'a> {
        AdminContext {
            provider: conn.spec,
            api: conn.api,
            key_hint: conn.key_hint.as_deref(),
            key_source: conn.key_source,
            base_url: &conn.endpoint.base_url,
            request_timeout_ms: settings.request_timeout.as_millis() as u64,
            idle_timeout_ms: settings.idle_timeout.as_millis() as u64,
            attempts,
        }
    }
}

fn actions(ctx: &AdminContext<'_>, connect: &str) -> Vec<GuidanceAction> {
    let mut a = vec![cmd(connect, CMD_CONNECT_ORGANIZATION)];
    a.extend(url("Open admin keys page", Some(ctx.api.admin_keys_url())));
    a
}

fn what_an_admin_key_is(p: &ProviderSpec) -> String {
    format!(
        "An admin key (sk-admin-…) belongs to the {0} organization, not to a project: an organization owner creates it on the admin keys page, and a read-only one is enough. Sidekick uses it only to read usage and costs, never for chat; your project key stays for chat.",
        p.name
    )
}

/// No admin key is connected: say what one is and how to get it.
pub fn no_admin_key(p: &'static ProviderSpec, api: &dyn OrgApi) -> Guidance {
    base(
        GuidanceKind::AdminKeyRequired,
        format!("Connect your {} organization first", p.name),
        format!(
            "The organization's usage and costs need an admin key. {} Or set {} in the server's environment.",
            what_an_admin_key_is(p),
            api.admin_key_var()
        ),
        {
            let mut a = vec![cmd("Connect organization", CMD_CONNECT_ORGANIZATION)];
            a.extend(url("Open admin keys page", Some(api.admin_keys_url())));
            a
        },
    )
}

/// A failed organization call.
pub fn admin_failed(err: &ProviderError, ctx: &AdminContext<'_>) -> Guidance {
    let p = ctx.provider;
    let from_env = ctx.key_source == Some(KeySource::Env);
    let env_fix = format!(
        " It comes from the {} environment variable: change or unset it, then restart the server.",
        ctx.api.admin_key_var()
    );
    let words = match err.category() {
        Category::AdminKeyRequired => Some((
            "This key cannot read the organization's costs".to_string(),
            format!(
                "{} refused the key{}: it is a project key or lacks the api.usage.read scope. {}{}",
                p.name,
                status(err),
                what_an_admin_key_is(p),
                if from_env { env_fix.as_str() } else { "" }
            ),
            actions(ctx, "Connect organization"),
        )),
        Category::InvalidKey => Some((
            format!("{} rejected the admin key", p.name),
            format!(
                "The admin key {} was refused{}: it may be mistyped, revoked, or belong to another organization.{}",
                ctx.key_hint.unwrap_or(""),
                status(err),
                if from_env {
                    env_fix.clone()
                } else {
                    " Enter it again, or create a new one on the admin keys page.".into()
                }
            ),
            actions(ctx, "Re-enter admin key"),
        )),
        _ => None,
    };
    let mut g = match words {
        Some((title, detail, actions)) => {
            let kind = super::kind_of(err.category());
            let mut g = base(kind, title, detail, actions);
            if let Some(a) = err.api() {
                g.http_status = a.status;
                g.provider_code = a.code.clone();
                g.provider_message = a.message.clone();
                g.request_id = a.request_id.clone();
            }
            g
        }
        None => for_provider_error(
            err,
            &Context {
                provider: p,
                model: None,
                available: &[],
                key_source: ctx.key_source,
                key_hint: ctx.key_hint,
                organization: None,
                base_url: ctx.base_url,
                request_timeout_ms: ctx.request_timeout_ms,
                idle_timeout_ms: ctx.idle_timeout_ms,
                attempts: ctx.attempts,
            },
        ),
    };
    g.retry_after_ms = err.retry_after().map(|d| d.as_millis() as u64);
    tracing::warn!(kind = %g.kind, status = ?g.http_status, request_id = ?g.request_id, "{} organization: {err}", p.id);
    g
}

fn status(err: &ProviderError) -> String {
    err.api()
        .and_then(|a| a.status)
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default()
}
