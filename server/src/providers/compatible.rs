//! Any server that speaks OpenAI's chat-completions API (Ollama, LM Studio, vLLM, llama.cpp,
//! a gateway): the user's base URL, an optional key, every model it lists.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::openai_wire::{self, Dialect, OPENAI, TokenLimit};
use super::{BaseUrl, Call, ChatRequest, OpenedChat, Provider, ProviderLinks, ProviderSpec};
use crate::failure::{ApiFailure, ProviderError, RawFailure};
use crate::http::Operation;
use crate::prices::PriceNames;
use crate::protocol::{ModelInfo, ModelKind};

/// An OpenAI-format server whose models we cannot tell apart: every model, by name. Also the
/// demo's wire (`demo.rs`).
pub struct Compatible {
    spec: &'static ProviderSpec,
}

pub static COMPATIBLE: Compatible = Compatible { spec: &SPEC };

static SPEC: ProviderSpec = ProviderSpec {
    id: "compatible",
    name: "OpenAI-compatible server",
    base_url: BaseUrl::Editable {
        // Ollama's default; the connect flow asks for the real one.
        default: Some("http://localhost:11434/v1"),
        placeholder: "http://localhost:11434/v1",
        env: None,
    },
    requires_key: false,
    supports_organization: false,
    env_key_var: None,
    key_placeholder: Some("optional"),
    model_kind: ModelKind::Model,
    suggested_models: &[],
    links: ProviderLinks {
        api_keys: None,
        billing: None,
        organization: None,
        rate_limits: None,
        status: None,
    },
    price_names: PriceNames {
        prefix: None,
        vendor_prefixed: false,
    },
    otel_name: "compatible",
};

/// Most local servers only know `max_tokens`; a 400 naming it switches per model. Nor do they
/// have organizations.
pub(super) const DIALECT: Dialect = Dialect {
    token_limit: TokenLimit::Learn,
    organization_headers: false,
    ..OPENAI
};

impl Compatible {
    pub const fn with_spec(spec: &'static ProviderSpec) -> Compatible {
        Compatible { spec }
    }
}

impl Provider for Compatible {
    fn spec(&self) -> &'static ProviderSpec {
        self.spec
    }

    fn list_models<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async move {
            let models =
                openai_wire::list_models(call, &DIALECT, Operation::Models, &|r| self.classify(r))
                    .await?;
            Ok(super::by_name(models))
        }
        .boxed()
    }

    fn open_chat<'a>(
        &'a self,
        call: &'a Call<'a>,
        request: &'a ChatRequest<'a>,
    ) -> BoxFuture<'a, Result<OpenedChat, ProviderError>> {
        async move { openai_wire::open_chat(call, &DIALECT, request, &|r| self.classify(r)).await }
            .boxed()
    }

    fn classify(&self, raw: &RawFailure<'_>) -> ApiFailure {
        openai_wire::classify(raw)
    }
}
