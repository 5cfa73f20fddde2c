//! Fake provider APIs on loopback that speak the real wire formats — OpenAI, and as
//! `Flavor`s Anthropic, Azure OpenAI, OpenRouter and Gemini — for the sidecar's integration
//! tests, end-to-end tests, the demo mode and benchmarks. `fixtures` holds the recorded bodies.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fake_providers::{FakeProvider, Reply, errors, sse};
//! let fake = FakeProvider::builder().valid_keys(["sk-test-1234"]).start().await?;
//! fake.push(errors::insufficient_quota());
//! fake.push(Reply::Sse(sse::text_reply("gpt-4o-mini", &["Hel", "lo"], "stop", Some((5, 2)))));
//! // point the client at fake.base_url() …
//! # Ok(()) }
//! ```

pub mod anthropic;
pub mod azure;
mod chat;
pub mod errors;
pub mod fixtures;
mod flavor;
pub mod gemini;
mod ids;
mod models;
pub mod openrouter;
pub mod organization;
mod respond;
mod routes;
mod script;
mod server;
pub mod sse;
mod tls;
pub mod triggers;

pub use anthropic::AnthropicHint;
pub use errors::RetryHint;
pub use flavor::Flavor;
pub use models::{ModelEntry, RETIRED_MODEL, default_models, is_chat_model};
pub use script::{HttpError, Reply, SseStep};
pub use server::{Builder, DEFAULT_KEY, FakeHandle, FakeProvider, RecordedRequest, StreamRecord};
