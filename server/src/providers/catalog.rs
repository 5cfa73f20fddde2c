//! What a model list offers first. Providers list everything their key can call: embeddings,
//! image, audio and moderation models, legacy completion models. A chat can use none of them,
//! so they are marked (`chat: false`) for a picker to keep behind "Show all models", and
//! "did you mean" never suggests them. The provider's suggested model comes first.

use crate::prices::PriceNames;
use crate::protocol::ModelInfo;

/// Parts of an id that only non-chat models have, matched as whole `-`/`_`/`.`/`:` separated
/// words of the id's last path segment: `text-embedding-3-small`, `nomic-embed-text`,
/// `gpt-image-1`, `whisper-1`. Words, not substrings: `mattsmith/tts-free-chat` stays out of
/// it only by being rare, while "instruct" stays off the list because `llama-3-8b-instruct`
/// is a chat model (OpenAI's `gpt-3.5-turbo-instruct` is caught by OpenAI's own filter).
const NON_CHAT_WORDS: [&str; 19] = [
    "embed",
    "embedding",
    "embeddings",
    "whisper",
    "tts",
    "moderation",
    "realtime",
    "transcribe",
    "audio",
    "image",
    "imagen",
    "veo",
    "sora",
    "babbage",
    "davinci",
    "rerank",
    "reranker",
    "aqa",
    "live",
];

/// Runs of words that mark non-chat models where one word alone would not.
const NON_CHAT_PHRASES: [&str; 3] = ["dall-e", "computer-use", "search-api"];

/// Fills in the price (USD per million tokens) and the context window of every chat model
/// whose provider's list gave none, from the price snapshot, so a picker can show them.
pub fn with_prices(mut models: Vec<ModelInfo>, names: PriceNames) -> Vec<ModelInfo> {
    let table = crate::prices::PriceTable::snapshot();
    for m in models.iter_mut().filter(|m| m.chat) {
        if m.price.is_none() {
            m.price = table.lookup(names, &m.id).map(|p| p.shown());
        }
        if m.context_window.is_none() {
            m.context_window = table.window(names, &m.id);
        }
    }
    models
}

/// True for a well-known non-chat model id, on any provider.
pub fn is_non_chat(id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    let last = id.rsplit('/').next().unwrap_or(&id);
    NON_CHAT_PHRASES.iter().any(|p| last.contains(p))
        || last
            .split(['-', '_', '.', ':'])
            .any(|w| NON_CHAT_WORDS.contains(&w))
}

/// Marks the non-chat models, then moves the first model matching one of `suggested` to the
/// front, marked `recommended`, with the chat models ahead of the rest and each group in the
/// provider's order. A suggestion matches its exact id or a dated variant of it
/// (`claude-sonnet-4-5` → `claude-sonnet-4-5-20250929`).
pub fn arrange(mut models: Vec<ModelInfo>, suggested: &[&str]) -> Vec<ModelInfo> {
    for m in &mut models {
        m.chat = m.chat && !is_non_chat(&m.id);
        m.recommended = false;
    }
    let matches = |s: &str, id: &str| {
        id == s
            || id.strip_prefix(s).is_some_and(|rest| {
                rest.starts_with('-') && rest[1..].starts_with(|c: char| c.is_ascii_digit())
            })
    };
    let pick = suggested.iter().find_map(|s| {
        models
            .iter()
            .position(|m| m.chat && m.id == *s)
            .or_else(|| models.iter().position(|m| m.chat && matches(s, &m.id)))
    });
    if let Some(i) = pick {
        let mut m = models.remove(i);
        m.recommended = true;
        models.insert(0, m);
    }
    // A stable partition: chat models first, each side in the provider's own order.
    let (chat, other): (Vec<_>, Vec<_>) = models.into_iter().partition(|m| m.chat);
    chat.into_iter().chain(other).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str) -> ModelInfo {
        ModelInfo::listed(id)
    }

    fn ids(models: &[ModelInfo]) -> Vec<&str> {
        models.iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn well_known_non_chat_models_on_every_provider() {
        for id in [
            "text-embedding-3-small",
            "nomic-embed-text:latest",
            "whisper-1",
            "tts-1-hd",
            "dall-e-3",
            "gpt-image-1",
            "babbage-002",
            "davinci-002",
            "omni-moderation-latest",
            "gpt-4o-realtime-preview",
            "gpt-4o-mini-transcribe",
            "gpt-4o-audio-preview",
            "imagen-4.0-generate-001",
            "veo-3.0-generate-001",
            "gemini-embedding-001",
            "gemini-2.0-flash-live-001",
            "openai/text-embedding-3-large",
            "sora-2",
            "BAAI/bge-reranker-v2-m3",
            "gemini-2.5-computer-use-preview-10-2025",
        ] {
            assert!(is_non_chat(id), "{id} is not a chat model");
        }
        for id in [
            "gpt-4o-mini",
            "meta-llama/llama-3.1-8b-instruct",
            "claude-sonnet-4-5-20250929",
            "gemini-2.5-flash",
            "qwen2.5-coder:7b",
            "mistralai/mistral-small-3.2-24b-instruct",
            "openrouter/auto",
            "deepseek/deepseek-chat-v3.1",
            "o4-mini",
            "olive-7b",
            "imagine-13b-chat",
        ] {
            assert!(!is_non_chat(id), "{id} is a chat model");
        }
    }

    #[test]
    fn chat_models_get_the_snapshots_price_unless_the_list_gave_one() {
        let mut listed = m("gpt-4o-mini");
        listed.price = Some(crate::protocol::ModelPrice {
            input_per_mtok: 9.0,
            output_per_mtok: 9.0,
        });
        let priced = with_prices(
            vec![m("gpt-4o"), listed, m("my-fine-tune"), {
                let mut e = m("text-embedding-3-small");
                e.chat = false;
                e
            }],
            PriceNames::default(),
        );
        assert_eq!(
            priced[0]
                .price
                .map(|p| (p.input_per_mtok, p.output_per_mtok)),
            Some((2.5, 10.0))
        );
        assert_eq!(
            priced[1].price.map(|p| p.input_per_mtok),
            Some(9.0),
            "the list's own"
        );
        assert_eq!(priced[2].price, None, "unpriced");
        assert_eq!(priced[3].price, None, "not a chat model");
        assert_eq!(
            priced[0].context_window,
            Some(128_000),
            "the snapshot's window where the list gave none"
        );
        assert_eq!(priced[2].context_window, None);
    }

    #[test]
    fn the_suggested_model_comes_first_then_chat_models_in_order() {
        let arranged = arrange(
            vec![
                m("babbage-002"),
                m("gpt-5"),
                m("dall-e-3"),
                m("gpt-4o-mini-2024-07-18"),
                m("gpt-4o"),
            ],
            &["gpt-4o-mini", "gpt-4o"],
        );
        assert_eq!(
            ids(&arranged),
            [
                "gpt-4o-mini-2024-07-18",
                "gpt-5",
                "gpt-4o",
                "babbage-002",
                "dall-e-3"
            ]
        );
        assert!(arranged[0].recommended && arranged.iter().skip(1).all(|m| !m.recommended));
        assert_eq!(
            arranged.iter().map(|m| m.chat).collect::<Vec<_>>(),
            [true, true, true, false, false]
        );
    }

    #[test]
    fn an_exact_id_wins_over_a_dated_variant_and_non_chat_models_are_never_suggested() {
        let arranged = arrange(
            vec![
                m("gpt-4o-2024-08-06"),
                m("gpt-4o"),
                m("gpt-4o-audio-preview"),
            ],
            &["gpt-4o"],
        );
        assert_eq!(arranged[0].id, "gpt-4o");
        let arranged = arrange(vec![m("gpt-image-1"), m("o3")], &["gpt-image"]);
        assert!(arranged.iter().all(|m| !m.recommended));
        // `gpt-4o` does not match `gpt-4o-mini`: only a dated variant counts.
        let arranged = arrange(vec![m("gpt-4o-mini"), m("o3")], &["gpt-4o"]);
        assert!(arranged.iter().all(|m| !m.recommended));
    }
}
