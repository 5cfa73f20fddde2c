//! A fake OpenAI API on loopback that speaks the real wire format, for the sidecar's
//! integration tests, end-to-end tests, the demo mode and benchmarks.

pub mod errors;
mod ids;
mod script;
pub mod sse;
pub mod triggers;

pub use errors::RetryHint;
pub use script::{HttpError, Reply, SseStep};
