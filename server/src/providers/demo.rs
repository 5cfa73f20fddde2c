//! The local demo: the project's fake OpenAI server, offered only when `SIDEKICK_DEMO_BASE_URL`
//! is set (by `scripts/run.sh --demo`), so a newcomer without a key can walk the whole flow.
//! Its name says what it is: nobody should mistake it for a real model.

use std::sync::LazyLock;

use super::{Provider, ProviderLinks};
use crate::protocol::ModelInfo;

static BASE_URL: LazyLock<Option<String>> = LazyLock::new(|| {
    std::env::var("SIDEKICK_DEMO_BASE_URL")
        .ok()
        .and_then(|u| crate::session::normalize_base_url(&u).ok())
});

pub struct Demo;

impl Demo {
    pub fn enabled() -> bool {
        BASE_URL.is_some()
    }
}

impl Provider for Demo {
    fn id(&self) -> &'static str {
        "demo"
    }
    fn name(&self) -> &'static str {
        "Local demo (fake OpenAI server)"
    }
    fn default_base_url(&self) -> String {
        BASE_URL.clone().unwrap_or_default()
    }
    fn requires_key(&self) -> bool {
        false
    }
    fn base_url_editable(&self) -> bool {
        false
    }
    fn supports_organization(&self) -> bool {
        false
    }
    fn links(&self) -> ProviderLinks {
        ProviderLinks::default()
    }
    fn chat_models(&self, models: Vec<ModelInfo>) -> Vec<ModelInfo> {
        super::by_name(models)
    }
    fn prefers_max_completion_tokens(&self) -> bool {
        false
    }
}
