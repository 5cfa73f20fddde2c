//! Playing a reply: a complete response, or a stream stepped through its script, with the
//! headers each flavor's API puts on every answer.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use bytes::Bytes;
use tokio::sync::watch;

use crate::flavor::Flavor;
use crate::routes::Ctx;
use crate::script::{Reply, SseStep};
use crate::server::{Shared, StreamGuard};
use crate::sse;

fn set_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(n, v);
    }
}

/// Headers every answer carries; rate-limit headers only on success (429s bring their own).
fn common_headers(headers: &mut HeaderMap, ctx: &Ctx, success: bool) {
    let mut defaults: Vec<(&'static str, String)> = Vec::new();
    match ctx.flavor {
        Flavor::OpenAi => {
            defaults.extend([
                ("x-request-id", crate::ids::request_id()),
                (
                    "openai-processing-ms",
                    (ctx.started.elapsed().as_millis() + 1).to_string(),
                ),
                ("openai-version", "2020-10-01".to_owned()),
            ]);
            if success {
                defaults.extend([
                    ("x-ratelimit-limit-requests", "10000".to_owned()),
                    ("x-ratelimit-remaining-requests", "9999".to_owned()),
                    ("x-ratelimit-reset-requests", "1s".to_owned()),
                    ("x-ratelimit-limit-tokens", "30000000".to_owned()),
                    ("x-ratelimit-remaining-tokens", "29999950".to_owned()),
                    ("x-ratelimit-reset-tokens", "6m0s".to_owned()),
                ]);
            }
        }
        Flavor::Anthropic => crate::anthropic::headers(&mut defaults, success),
        Flavor::Azure => crate::azure::headers(&mut defaults),
        // OpenRouter and Google send no request id a client could quote; neither does the fake.
        Flavor::OpenRouter | Flavor::Gemini => {}
    }
    for (name, value) in defaults {
        if !headers.contains_key(name) {
            set_header(headers, name, &value);
        }
    }
}

pub(crate) async fn play(shared: &Arc<Shared>, reply: Reply, ctx: &Ctx) -> Response<Body> {
    match reply {
        Reply::Error(e) => {
            let mut resp = Response::new(Body::from(e.body));
            *resp.status_mut() =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let headers = resp.headers_mut();
            set_header(headers, "content-type", &e.content_type);
            for (name, value) in &e.headers {
                set_header(headers, name, value);
            }
            common_headers(headers, ctx, (200..300).contains(&e.status));
            resp
        }
        Reply::Sse(steps) => sse_response(shared, steps, ctx),
        Reply::SseAfter(delay, steps) => {
            let mut stop = shared.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
            sse_response(shared, steps, ctx)
        }
        Reply::HangBeforeHeaders => {
            // Dropped with this future if hyper abandons the request when the client leaves.
            let mut guard = shared.open_stream();
            let mut stop = shared.shutdown.clone();
            let _ = stop.wait_for(|s| *s).await;
            guard.completed = false;
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            resp
        }
    }
}

fn sse_response(shared: &Arc<Shared>, steps: Vec<SseStep>, ctx: &Ctx) -> Response<Body> {
    let state = BodyState {
        steps: steps.into(),
        guard: shared.open_stream(),
        shutdown: shared.shutdown.clone(),
        finished: false,
    };
    let stream = futures_util::stream::unfold(state, next_chunk);
    let mut resp = Response::new(Body::from_stream(stream));
    let headers = resp.headers_mut();
    set_header(headers, "content-type", "text/event-stream; charset=utf-8");
    common_headers(headers, ctx, true);
    resp
}

struct BodyState {
    steps: VecDeque<SseStep>,
    guard: StreamGuard,
    shutdown: watch::Receiver<bool>,
    finished: bool,
}

fn aborted(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, why.to_owned())
}

async fn next_chunk(mut state: BodyState) -> Option<(io::Result<Bytes>, BodyState)> {
    if state.finished {
        return None;
    }
    loop {
        let Some(step) = state.steps.pop_front() else {
            state.guard.completed = true;
            return None;
        };
        match step {
            SseStep::Delay(d) => {
                let stopped = tokio::select! {
                    _ = tokio::time::sleep(d) => false,
                    _ = state.shutdown.wait_for(|s| *s) => true,
                };
                if stopped {
                    state.finished = true;
                    return Some((Err(aborted("fake-providers shutting down")), state));
                }
            }
            SseStep::Drop => {
                // An error from the body makes hyper cut the connection without the final
                // zero-length chunk: the client sees an incomplete body. Hyper only flushes
                // what it buffered when the body is pending, so be pending once first, or the
                // events before the drop would never reach the client.
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(2)).await;
                state.finished = true;
                state.guard.completed = state.steps.is_empty();
                return Some((Err(aborted("scripted drop")), state));
            }
            SseStep::Stall => {
                let _ = state.shutdown.wait_for(|s| *s).await;
                state.finished = true;
                return Some((Err(aborted("fake-providers shutting down")), state));
            }
            other => {
                if let Some(bytes) = sse::encode(&other) {
                    return Some((Ok(Bytes::from(bytes)), state));
                }
            }
        }
    }
}
