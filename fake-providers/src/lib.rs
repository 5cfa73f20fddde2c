//! A fake OpenAI API on loopback that speaks the real wire format, for the sidecar's
//! integration tests, end-to-end tests, the demo mode and benchmarks.
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

pub mod errors;
mod ids;
mod script;
mod server;
pub mod sse;
pub mod triggers;

pub use errors::RetryHint;
pub use script::{HttpError, Reply, SseStep};
pub use server::{
    Builder, DEFAULT_KEY, FakeHandle, FakeProvider, ModelEntry, RETIRED_MODEL, RecordedRequest,
    StreamRecord, default_models, is_chat_model,
};
