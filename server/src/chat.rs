//! One chat turn: check the request, resolve the provider and model, run the attempts (with
//! retries) over the provider's neutral events, and end with the authoritative result or a
//! guidance that keeps the partial text. Never names a provider. The HTTP stream lives inside
//! the chat's future, so `$/cancelRequest` drops it and the upstream connection closes at once.

mod attempt;
pub mod prompt;
mod registry;
mod relay;
mod retry;

pub use registry::{ChatGuard, ChatRegistry};

use attempt::Turn;
use relay::Relay;

use tower_lsp_server::Client;

use crate::connections::Connections;
use crate::conversations::{Conversations, TurnEnd};
use crate::error::SidekickError;
use crate::guidance;
use crate::http::Http;
use crate::ledger::Ledger;
use crate::prices::{Price, PriceTable};
use crate::protocol::{
    ChatParams, ChatResult, FinishReason, GuidanceKind, MessageStatus, Role, StoredMessage,
};
use crate::providers::ChatRequest;
use crate::settings::Settings;

/// What a chat turn uses of the sidecar.
pub struct Services<'a> {
    pub connections: &'a Connections,
    pub conversations: &'a Conversations,
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
    if params.conversation_id.is_some()
        && (params.messages.len() != 1 || params.messages[0].role != Role::User)
    {
        return Err(SidekickError::params(
            "messages: with conversationId, only the new question (one user message); the conversation holds the rest",
        ));
    }
    for (i, m) in params.messages.iter().enumerate() {
        for (j, c) in m.context.iter().enumerate() {
            if c.path.trim().is_empty() {
                return Err(SidekickError::params(format!(
                    "messages[{i}].context[{j}].path: must not be empty"
                )));
            }
        }
    }
    Ok(())
}

/// How a stored answer ended, from the guidance that ended it.
fn failed_status(kind: GuidanceKind, partial: bool) -> MessageStatus {
    let broke = matches!(
        kind,
        GuidanceKind::StreamInterrupted | GuidanceKind::Timeout | GuidanceKind::Network
    );
    if broke && partial {
        MessageStatus::Interrupted
    } else {
        MessageStatus::Failed
    }
}

pub async fn run(services: Services<'_>, params: ChatParams) -> Result<ChatResult, SidekickError> {
    check(&params)?;
    let Services {
        connections,
        conversations,
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
    // The budget stops a chat before anything is sent. Unreadable, it is not enforced, but
    // never silently: the user is told once.
    if let Some(budget) = settings.budget_monthly_nanos {
        match ledger.month().await {
            Some(month) if month.nanos >= budget => {
                return Err(guidance::budget_exceeded(month, budget).into());
            }
            Some(_) => {}
            None if ledger.first_blind_budget() => {
                client
                    .show_message(
                        tower_lsp_server::ls_types::MessageType::WARNING,
                        guidance::budget_unchecked(budget),
                    )
                    .await;
            }
            None => {}
        }
    }
    let history: Vec<StoredMessage> = match &params.conversation_id {
        Some(id) => conversations.history(id).await?,
        None => Vec::new(),
    };
    let mut upstream = prompt::build(params.instructions.as_deref(), &history, &params.messages);
    drop(history);
    // The window guard: nothing is sent that the model cannot read.
    let mut dropped = 0;
    let window = connections
        .cached_window(conn.spec().id, &model)
        .await
        .or_else(|| prices.window(conn.spec().price_names, &model));
    if let Some(window) = window {
        if params.drop_oldest && upstream.tokens() > window {
            dropped = upstream.drop_oldest(window);
        }
        let tokens = upstream.tokens();
        if tokens > window {
            return Err(guidance::window_exceeded(
                &model,
                tokens,
                window,
                &params.chat_id,
                upstream.can_drop(),
            )
            .into());
        }
    }
    let guard = chats
        .start(&params.chat_id, conn.spec().id)
        .map_err(|e| SidekickError::params(e.to_string()))?;
    let record = match &params.conversation_id {
        Some(id) => Some(
            conversations
                .begin(id, &params.messages[0], conn.spec().id, &model)
                .await?,
        ),
        None => None,
    };
    let listed = connections
        .cached_price(conn.spec().id, &model)
        .await
        .map(Price::per_mtok);
    let turn = Turn {
        provider: conn.entry.provider,
        call: conn.call(http, &settings),
        request: ChatRequest {
            model: &model,
            messages: &upstream.messages,
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
    let mut relay = Relay::new(
        client.clone(),
        params.chat_id.clone(),
        settings.delta_interval,
        guard.cancel.clone(),
    );
    if let Some(r) = &record {
        relay.mirror_to(r.text.clone());
    }
    let relay = tokio::sync::Mutex::new(relay);
    let (outcome, attempts) =
        retry::with_retries(&turn, &relay, client, &params.chat_id, &settings).await;
    let mut relay = relay.into_inner();
    let request_id = turn.request_id();
    if outcome.is_ok() {
        warn_near_budget(ledger, client, &settings);
    }
    let (user_message_id, message_id) = record
        .as_ref()
        .map(|r| (Some(r.question_id.clone()), Some(r.answer_id.clone())))
        .unwrap_or_default();
    match outcome {
        Ok(f) => {
            let result = ChatResult {
                chat_id: params.chat_id,
                text: relay.text().to_string(),
                finish_reason: f.reason,
                model: f.model.unwrap_or(model),
                usage: f.usage,
                request_id,
                user_message_id,
                message_id,
                dropped_messages: dropped,
            };
            if let Some(r) = record {
                r.end(TurnEnd {
                    status: if result.finish_reason == FinishReason::Cancelled {
                        MessageStatus::Stopped
                    } else {
                        MessageStatus::Done
                    },
                    text: result.text.clone(),
                    model: Some(result.model.clone()),
                    usage: result.usage,
                    guidance_kind: None,
                })
                .await;
            }
            Ok(result)
        }
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
            if let Some(r) = record {
                r.end(TurnEnd {
                    status: failed_status(g.kind, !text.is_empty()),
                    text: text.to_string(),
                    model: None,
                    usage: None,
                    guidance_kind: Some(g.kind.as_str()),
                })
                .await;
            }
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
        let Some(month) = ledger.month().await else {
            return;
        };
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
