//! One chat turn: check the request, resolve the provider and model, run the attempts (with
//! retries) over the provider's neutral events, and end with the authoritative result or a
//! guidance that keeps the partial text. Never names a provider. The HTTP stream lives inside
//! the chat's future, so `$/cancelRequest` drops it and the upstream connection closes at once.

mod attempt;
mod registry;
mod relay;
mod retry;

pub use registry::{ChatGuard, ChatRegistry};

use attempt::Turn;
use relay::Relay;

use tower_lsp_server::Client;

use crate::connections::Connections;
use crate::error::SidekickError;
use crate::guidance;
use crate::http::Http;
use crate::ledger::Ledger;
use crate::prices::{Price, PriceTable};
use crate::protocol::{ChatParams, ChatResult};
use crate::providers::ChatRequest;
use crate::settings::Settings;

/// What a chat turn uses of the sidecar.
pub struct Services<'a> {
    pub connections: &'a Connections,
    pub chats: &'a ChatRegistry,
    pub http: &'a Http,
    pub client: &'a Client,
    pub settings: Settings,
    pub ledger: &'a Ledger,
    pub prices: &'a PriceTable,
}

fn check(params: &ChatParams) -> Result<(), SidekickError> {
    if params.chat_id.trim().is_empty() {
        return Err(SidekickError::params("chatId: must not be empty"));
    }
    if params.messages.is_empty() {
        return Err(SidekickError::params(
            "messages: at least one message is needed",
        ));
    }
    if let Some(t) = params.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(SidekickError::params(
            "temperature: must be between 0 and 2",
        ));
    }
    if let Some(m) = &params.model
        && m.trim().len() > crate::untrusted::MAX_MODEL_ID
    {
        return Err(SidekickError::params(format!(
            "model: longer than {} characters; no provider's model id is",
            crate::untrusted::MAX_MODEL_ID
        )));
    }
    if params.max_tokens == Some(0) {
        return Err(SidekickError::params("maxTokens: must be at least 1"));
    }
    Ok(())
}

pub async fn run(services: Services<'_>, params: ChatParams) -> Result<ChatResult, SidekickError> {
    check(&params)?;
    let Services {
        connections,
        chats,
        http,
        client,
        settings,
        ledger,
        prices,
    } = services;
    let active = connections.active().await;
    let provider_id = match (&params.provider, &active) {
        (Some(p), _) => p.clone(),
        (None, Some(a)) => a.provider.clone(),
        (None, None) => {
            return Err(guidance::nothing_selected(connections.disconnected().await).into());
        }
    };
    let conn = connections
        .connection(&provider_id)
        .await
        .map_err(|e| guidance::connection_failed(e, &settings))?;
    let model = match (&params.model, &active) {
        (Some(m), _) if !m.trim().is_empty() => m.trim().to_string(),
        (_, Some(a)) if a.provider == conn.spec().id => a.model.clone(),
        _ => return Err(guidance::no_model_selected(conn.spec()).into()),
    };
    // The budget stops a chat before anything is sent.
    if let Some(budget) = settings.budget_monthly_nanos {
        let month = ledger.month().await;
        if month.nanos >= budget {
            return Err(guidance::budget_exceeded(month, budget).into());
        }
    }
    let guard = chats
        .start(&params.chat_id, conn.spec().id)
        .map_err(|e| SidekickError::params(e.to_string()))?;
    let listed = connections
        .cached_price(conn.spec().id, &model)
        .await
        .map(Price::per_mtok);
    let turn = Turn {
        provider: conn.entry.provider,
        call: conn.call(http, &settings),
        request: ChatRequest {
            model: &model,
            messages: &params.messages,
            temperature: params.temperature,
            max_tokens: params.max_tokens,
        },
        cancel: guard.cancel.clone(),
        request_id: Default::default(),
        chat_id: &params.chat_id,
        ledger,
        pricing: attempt::Pricing {
            table: prices,
            listed,
        },
        attempts: Default::default(),
    };
    let relay = tokio::sync::Mutex::new(Relay::new(
        client.clone(),
        params.chat_id.clone(),
        settings.delta_interval,
        guard.cancel.clone(),
    ));
    let (outcome, attempts) =
        retry::with_retries(&turn, &relay, client, &params.chat_id, &settings).await;
    let mut relay = relay.into_inner();
    let request_id = turn.request_id();
    if outcome.is_ok() {
        warn_near_budget(ledger, client, &settings);
    }
    match outcome {
        Ok(f) => Ok(ChatResult {
            chat_id: params.chat_id,
            text: relay.text().to_string(),
            finish_reason: f.reason,
            model: f.model.unwrap_or(model),
            usage: f.usage,
            request_id,
        }),
        Err(e) => {
            // The text not yet sent goes out first: the deltas then add up to `partialText`.
            relay.flush().await;
            let available = connections.cached_model_ids(conn.spec().id).await;
            // Guidance suggests from these; narrowed to the closest off the async thread.
            let available = guidance::close_models_off_thread(&model, available).await;
            let mut g = guidance::for_failed_attempts(
                &e,
                attempts,
                &conn,
                &settings,
                Some(&model),
                &available,
            );
            g.request_id = g.request_id.or(request_id);
            let text = relay.text();
            g.partial_text = (!text.is_empty()).then(|| text.to_string());
            Err(g.into())
        }
    }
}

/// Once a month, when this month's spend crosses `warnPercent` of the budget, one warning.
/// Off the answer's path: the ledger thread answers after the attempt's row is written.
fn warn_near_budget(ledger: &Ledger, client: &Client, settings: &Settings) {
    let Some(budget) = settings.budget_monthly_nanos.filter(|b| *b > 0) else {
        return;
    };
    let (ledger, client, percent) = (ledger.clone(), client.clone(), settings.budget_warn_percent);
    tokio::spawn(async move {
        let month = ledger.month().await;
        if month.nanos as f64 >= budget as f64 * f64::from(percent) / 100.0
            && ledger.first_warning_this_month().await
        {
            client
                .show_message(
                    tower_lsp_server::ls_types::MessageType::WARNING,
                    guidance::budget_warning(month, budget),
                )
                .await;
        }
    });
}
