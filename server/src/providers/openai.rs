//! OpenAI itself: api.openai.com, a key always, Organization and Project IDs, and a model
//! list that mixes chat models with embeddings, audio, images and legacy completions.

use std::collections::HashMap;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::openai_wire::{self, OPENAI};
use super::{BaseUrl, Call, ChatRequest, OpenedChat, Provider, ProviderLinks, ProviderSpec};
use crate::failure::{ApiFailure, ProviderError, RawFailure};
use crate::http::Operation;
use crate::prices::PriceNames;
use crate::protocol::{ModelInfo, ModelKind};

pub struct OpenAi;

static SPEC: ProviderSpec = ProviderSpec {
    id: "openai",
    name: "OpenAI",
    base_url: BaseUrl::Fixed {
        default: "https://api.openai.com/v1",
        env: "SIDEKICK_OPENAI_BASE_URL",
    },
    requires_key: true,
    supports_organization: true,
    env_key_var: Some("OPENAI_API_KEY"),
    key_placeholder: Some("sk-…"),
    model_kind: ModelKind::Model,
    suggested_models: &["gpt-5-mini", "gpt-4.1-mini", "gpt-4o-mini"],
    links: ProviderLinks {
        api_keys: Some("https://platform.openai.com/api-keys"),
        billing: Some("https://platform.openai.com/settings/organization/billing/overview"),
        organization: Some("https://platform.openai.com/settings/organization/general"),
        rate_limits: Some("https://platform.openai.com/settings/organization/limits"),
        status: Some("https://status.openai.com"),
    },
    price_names: PriceNames {
        prefix: None,
        vendor_prefixed: false,
    },
    otel_name: "openai",
};

impl Provider for OpenAi {
    fn spec(&self) -> &'static ProviderSpec {
        &SPEC
    }

    fn list_models<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async move {
            let models =
                openai_wire::list_models(call, &OPENAI, Operation::Models, &|r| self.classify(r))
                    .await?;
            Ok(chat_models(models))
        }
        .boxed()
    }

    fn open_chat<'a>(
        &'a self,
        call: &'a Call<'a>,
        request: &'a ChatRequest<'a>,
    ) -> BoxFuture<'a, Result<OpenedChat, ProviderError>> {
        async move { openai_wire::open_chat(call, &OPENAI, request, &|r| self.classify(r)).await }
            .boxed()
    }

    fn classify(&self, raw: &RawFailure<'_>) -> ApiFailure {
        openai_wire::classify(raw)
    }

    fn organization(&self) -> Option<&'static dyn super::org_api::OrgApi> {
        Some(&super::openai_org::OpenAiOrg)
    }
}

/// Marks the models a chat cannot use and orders the list newest families first, derived from
/// the list itself rather than a table that goes stale: a family ranks by its newest member,
/// members by their date.
fn chat_models(mut models: Vec<ModelInfo>) -> Vec<ModelInfo> {
    for m in &mut models {
        m.chat = is_chat(&m.id);
    }
    let mut newest: HashMap<String, i64> = HashMap::new();
    for m in models.iter().filter(|m| m.chat) {
        let e = newest.entry(family(&m.id)).or_insert(i64::MIN);
        *e = (*e).max(m.created.unwrap_or(0));
    }
    let rank = |m: &ModelInfo| newest.get(&family(&m.id)).copied().unwrap_or(i64::MIN);
    models.sort_by(|a, b| {
        let (fa, fb) = (family(&a.id), family(&b.id));
        b.chat
            .cmp(&a.chat)
            .then_with(|| rank(b).cmp(&rank(a)))
            .then_with(|| fa.cmp(&fb))
            .then_with(|| b.created.cmp(&a.created))
            .then_with(|| a.id.cmp(&b.id))
    });
    models
}

/// Chat-capable: the gpt, o-series and chatgpt lines, minus the non-chat variants that share
/// their prefixes.
fn is_chat(id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    let chat_line = id.starts_with("gpt-")
        || id.starts_with("chatgpt-")
        || (id.starts_with('o') && id[1..].starts_with(|c: char| c.is_ascii_digit()));
    const NOT_CHAT: [&str; 12] = [
        "instruct",
        "embedding",
        "audio",
        "realtime",
        "transcribe",
        "tts",
        "image",
        "moderation",
        "search-api",
        "whisper",
        "dall-e",
        "codex",
    ];
    chat_line && !NOT_CHAT.iter().any(|n| id.contains(n))
}

/// `gpt-4o-mini-2024-07-18` → `gpt-4o`; `o3-mini` → `o3`; `gpt-4.1-nano` → `gpt-4.1`.
fn family(id: &str) -> String {
    let mut parts = id.split('-');
    let first = parts.next().unwrap_or_default();
    if first == "gpt" || first == "chatgpt" {
        match parts.next() {
            Some(second) => format!("{first}-{second}"),
            None => first.to_string(),
        }
    } else {
        first.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, created: i64) -> ModelInfo {
        ModelInfo {
            owned_by: Some("system".into()),
            created: Some(created),
            ..ModelInfo::listed(id)
        }
    }

    #[test]
    fn marks_the_models_a_chat_cannot_use_and_lists_them_last() {
        let all = [
            "gpt-4o",
            "gpt-4o-mini",
            "o3-mini",
            "o1",
            "gpt-5",
            "chatgpt-4o-latest",
            "gpt-3.5-turbo-instruct",
            "text-embedding-3-small",
            "whisper-1",
            "tts-1",
            "dall-e-3",
            "omni-moderation-latest",
            "babbage-002",
            "davinci-002",
            "gpt-4o-realtime-preview",
            "gpt-4o-audio-preview",
            "gpt-image-1",
            "gpt-4o-mini-transcribe",
            "gpt-4o-mini-tts",
        ];
        let arranged = chat_models(all.iter().map(|id| m(id, 1)).collect());
        let kept: Vec<String> = arranged
            .iter()
            .filter(|m| m.chat)
            .map(|m| m.id.clone())
            .collect();
        assert_eq!(arranged.len(), all.len(), "nothing is dropped");
        assert!(
            arranged[..kept.len()].iter().all(|m| m.chat),
            "chat models come first"
        );
        let mut kept_sorted = kept.clone();
        kept_sorted.sort();
        assert_eq!(
            kept_sorted,
            [
                "chatgpt-4o-latest",
                "gpt-4o",
                "gpt-4o-mini",
                "gpt-5",
                "o1",
                "o3-mini"
            ]
        );
    }

    #[test]
    fn newest_family_first_then_newest_member() {
        let sorted: Vec<String> = chat_models(vec![
            m("gpt-3.5-turbo", 100),
            m("gpt-4o", 300),
            m("gpt-5-mini", 500),
            m("gpt-4o-mini", 350),
            m("gpt-5", 490),
            m("o3-mini", 400),
        ])
        .into_iter()
        .map(|m| m.id)
        .collect();
        assert_eq!(
            sorted,
            [
                "gpt-5-mini",
                "gpt-5",
                "o3-mini",
                "gpt-4o-mini",
                "gpt-4o",
                "gpt-3.5-turbo"
            ]
        );
    }
}
