//! Any server that speaks OpenAI's chat-completions API (Ollama, LM Studio, vLLM, llama.cpp,
//! a gateway): editable base URL, optional key, every model it lists.

use super::{Provider, ProviderLinks};
use crate::protocol::ModelInfo;

pub struct Compatible;

impl Provider for Compatible {
    fn id(&self) -> &'static str {
        "compatible"
    }
    fn name(&self) -> &'static str {
        "OpenAI-compatible server"
    }
    fn default_base_url(&self) -> String {
        // Ollama's default; the connect flow asks for the real one.
        "http://localhost:11434/v1".into()
    }
    fn requires_key(&self) -> bool {
        false
    }
    fn base_url_editable(&self) -> bool {
        true
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
        // Most local servers only know the older name; a 400 naming it switches per model.
        false
    }
}
