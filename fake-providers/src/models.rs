//! The models a fake lists and how OpenAI's `GET /v1/models` serializes them.

use serde::Serialize;

use crate::script::{HttpError, Reply};
use crate::server::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    pub id: String,
    pub created: u64,
    pub owned_by: String,
}

impl ModelEntry {
    pub fn new(id: impl Into<String>, created: u64, owned_by: impl Into<String>) -> Self {
        ModelEntry {
            id: id.into(),
            created,
            owned_by: owned_by.into(),
        }
    }
}

/// A model as the API serializes it, in its field order.
#[derive(Serialize)]
pub(crate) struct ModelJson<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

impl<'a> From<&'a ModelEntry> for ModelJson<'a> {
    fn from(m: &'a ModelEntry) -> Self {
        ModelJson {
            id: &m.id,
            object: "model",
            created: m.created,
            owned_by: &m.owned_by,
        }
    }
}

/// The model the fake lists but refuses, like a model the account lost access to.
pub const RETIRED_MODEL: &str = "gpt-4o-retired";

/// A realistic `/v1/models` answer: chat models mixed with embeddings, audio, images and
/// legacy completions models, with their real `created` times and owners.
pub fn default_models() -> Vec<ModelEntry> {
    [
        ("gpt-4o", 1715367049, "system"),
        ("gpt-4o-mini", 1721172741, "system"),
        ("gpt-4.1", 1744316542, "system"),
        ("gpt-4.1-mini", 1744318173, "system"),
        ("o3-mini", 1737146383, "system"),
        ("o1", 1734375816, "system"),
        ("gpt-5", 1754425777, "system"),
        ("gpt-5-mini", 1754425928, "system"),
        ("gpt-3.5-turbo", 1677610602, "openai"),
        ("gpt-3.5-turbo-instruct", 1692901427, "system"),
        ("text-embedding-3-small", 1705948997, "system"),
        ("text-embedding-ada-002", 1671217299, "openai-internal"),
        ("whisper-1", 1677532384, "openai-internal"),
        ("tts-1", 1681940951, "openai-internal"),
        ("dall-e-3", 1698785189, "system"),
        ("omni-moderation-latest", 1731689265, "system"),
        ("babbage-002", 1692634615, "system"),
        ("davinci-002", 1692634301, "system"),
        ("gpt-4o-realtime-preview", 1727659998, "system"),
        ("gpt-4o-audio-preview", 1727460443, "system"),
        ("gpt-image-1", 1745517030, "system"),
        (RETIRED_MODEL, 1715367050, "system"),
    ]
    .into_iter()
    .map(|(id, created, owner)| ModelEntry::new(id, created, owner))
    .collect()
}

/// Whether `/v1/chat/completions` serves this id; the others get the API's "not a chat model".
pub fn is_chat_model(id: &str) -> bool {
    const NOT_CHAT: [&str; 10] = [
        "text-embedding",
        "whisper",
        "tts-",
        "dall-e",
        "omni-moderation",
        "babbage",
        "davinci",
        "gpt-3.5-turbo-instruct",
        "gpt-image",
        "gpt-4o-realtime",
    ];
    !NOT_CHAT.iter().any(|p| id.starts_with(p))
}

/// One request as the fake received it.
#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelJson<'a>>,
}

pub(crate) fn list_models(config: &Config) -> Reply {
    Reply::Error(HttpError::json(
        200,
        crate::chat::pretty(&ModelList {
            object: "list",
            data: config.models.iter().map(ModelJson::from).collect(),
        }),
    ))
}
