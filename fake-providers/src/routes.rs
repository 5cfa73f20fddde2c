//! Routing: each request is recorded, authenticated as its flavor's API does it, and handed
//! to the models list or the chat of that flavor.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Response, Uri};
use bytes::Bytes;
use serde_json::Value;

use crate::chat::{bearer_key, chat, check_auth, pretty};
use crate::errors;
use crate::flavor::Flavor;
use crate::models::{ModelJson, list_models};
use crate::respond::play;
use crate::script::{HttpError, Reply};
use crate::server::{RecordedRequest, Shared, lock};

pub(crate) struct Ctx {
    pub(crate) started: Instant,
    /// The key as the flavor carries it (bearer, `x-api-key`, `api-key`).
    pub(crate) key: String,
    pub(crate) flavor: Flavor,
}

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(crate::server::Peer(peer)): ConnectInfo<crate::server::Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let started = Instant::now();
    let path = uri.path().to_owned();
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let mut recorded = BTreeMap::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        recorded
            .entry(name.as_str().to_owned())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    lock(&shared.requests).push(RecordedRequest {
        method: method.as_str().to_owned(),
        path: path.clone(),
        headers: recorded,
        body: json.clone(),
        at: started,
        peer,
    });
    shared.bump();

    let flavor = shared.config.flavor;
    let key = match flavor {
        Flavor::Anthropic => crate::anthropic::header_key(&headers),
        Flavor::Azure => crate::azure::header_key(&headers),
        _ => bearer_key(&headers).unwrap_or_default(),
    };
    let ctx = Ctx {
        started,
        key,
        flavor,
    };
    let reply = match flavor {
        Flavor::OpenAi => openai_route(
            &shared,
            &method,
            &path,
            uri.query(),
            &headers,
            &body,
            json.as_ref(),
            &ctx,
        ),
        _ => flavor_route(&shared, &method, &uri, &headers, &body, json.as_ref(), &ctx),
    };
    play(&shared, reply, &ctx).await
}

/// OpenAI's routes, as before any other flavor existed.
#[allow(clippy::too_many_arguments)]
fn openai_route(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    json: Option<&Value>,
    ctx: &Ctx,
) -> Reply {
    if method == Method::GET && path.starts_with("/v1/organization/") {
        return crate::organization::route(shared, path, query, &ctx.key);
    }
    if let Some(denied) = check_auth(&shared.config, headers, &ctx.key) {
        return denied;
    }
    match (method.as_str(), path) {
        ("GET", "/v1/models") => lock(&shared.models_queue)
            .pop_front()
            .unwrap_or_else(|| list_models(&shared.config)),
        ("GET", p) if p.starts_with("/v1/models/") => {
            let id = &p["/v1/models/".len()..];
            match shared.config.models.iter().find(|m| m.id == id) {
                Some(m) => Reply::Error(HttpError::json(200, pretty(&ModelJson::from(m)))),
                None => errors::model_not_found(id),
            }
        }
        ("POST", "/v1/chat/completions") => chat(shared, body, json, ctx),
        (m, p) => errors::invalid_url(m, p),
    }
}

/// The other flavors' routes: auth as each provider checks it, then models or chat.
fn flavor_route(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    json: Option<&Value>,
    ctx: &Ctx,
) -> Reply {
    let (flavor, config) = (ctx.flavor, &shared.config);
    let path = uri.path();
    let is_models = method == Method::GET && path == flavor.models_path();
    // OpenRouter's model list answers anyone; everything else needs the key.
    let public = flavor == Flavor::OpenRouter && is_models;
    let denied = match flavor {
        Flavor::Anthropic => crate::anthropic::check_auth(shared, headers),
        _ if !config.require_key || public => None,
        Flavor::Azure => crate::azure::check_auth(&config.valid_keys, headers),
        Flavor::OpenRouter => crate::openrouter::check_auth(&config.valid_keys, &ctx.key),
        _ => crate::gemini::check_auth(&config.valid_keys, &ctx.key),
    };
    if let Some(denied) = denied {
        return denied;
    }
    if is_models {
        if let Some(reply) = lock(&shared.models_queue).pop_front() {
            return reply;
        }
        return match flavor {
            Flavor::Anthropic => crate::anthropic::list_models(&config.models, uri.query()),
            Flavor::Azure => crate::azure::list_models(&config.models),
            Flavor::OpenRouter => crate::openrouter::list_models(&config.models),
            _ => crate::gemini::list_models(&config.models),
        };
    }
    if method == Method::GET && flavor == Flavor::OpenRouter && path == "/api/v1/key" {
        return crate::openrouter::key_info();
    }
    if method == Method::POST && path == flavor.chat_path() {
        return match flavor {
            Flavor::Anthropic => crate::anthropic::messages(shared, json),
            _ => chat(shared, body, json, ctx),
        };
    }
    errors::invalid_url(method.as_str(), path)
}
