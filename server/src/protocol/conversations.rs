//! Conversations kept by the sidecar: their messages (with the context attached to each
//! question), the list and its search, and the token count against the model's window.

use serde::{Deserialize, Serialize};

use super::{GuidanceKind, Usage};

/// A file or a selection the user attached to a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextItem {
    pub kind: ContextKind,
    /// As the client shows it: workspace-relative where it can be.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<LineRange>,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ContextKind {
    File,
    Selection,
}

/// 1-based, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineRange {
    pub start_line: u32,
    pub end_line: u32,
}

/// How a stored answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageStatus {
    Done,
    /// Cancelled by the user, or stopped by a disconnect: its partial text is kept.
    Stopped,
    /// The stream broke, or the sidecar ended while it ran: its partial text is kept.
    Interrupted,
    /// The provider refused or failed; `guidanceKind` says why.
    Failed,
    /// Still being written by a running sidecar.
    Streaming,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Done => "done",
            MessageStatus::Stopped => "stopped",
            MessageStatus::Interrupted => "interrupted",
            MessageStatus::Failed => "failed",
            MessageStatus::Streaming => "streaming",
        }
    }

    pub fn parse(s: &str) -> Option<MessageStatus> {
        Some(match s {
            "done" => MessageStatus::Done,
            "stopped" => MessageStatus::Stopped,
            "interrupted" => MessageStatus::Interrupted,
            "failed" => MessageStatus::Failed,
            "streaming" => MessageStatus::Streaming,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoredRole {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMessage {
    pub id: String,
    pub role: StoredRole,
    pub content: String,
    pub status: MessageStatus,
    /// The model that answered (assistant messages).
    pub model: Option<String>,
    pub usage: Option<Usage>,
    pub cost_usd: Option<f64>,
    /// Why a failed answer failed.
    pub guidance_kind: Option<GuidanceKind>,
    /// Unix ms.
    pub created_at: i64,
    /// What the user attached to a question.
    #[serde(default)]
    pub context: Vec<ContextItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub message_count: u32,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListConversationsParams {
    /// Words searched in titles and message text (full-text, prefix match per word).
    pub query: Option<String>,
    /// Default 50, at most 200.
    pub limit: Option<u32>,
    /// `nextBefore` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListConversationsResult {
    /// Newest (last updated) first.
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `before` for the next page; null on the last.
    pub next_before: Option<String>,
}

/// A message given to `create` (a client moving its own history into the sidecar).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedMessage {
    pub role: StoredRole,
    pub content: String,
    /// Default `done`.
    pub status: Option<MessageStatus>,
    pub model: Option<String>,
    #[serde(default)]
    pub context: Vec<ContextItem>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateConversationParams {
    pub title: Option<String>,
    /// Messages to start with, oldest first.
    #[serde(default)]
    pub messages: Vec<ImportedMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationId {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Oldest first.
    pub messages: Vec<StoredMessage>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenameConversationParams {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenameConversationResult {
    pub id: String,
    /// As stored: one line, trimmed, at most 200 characters.
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteConversationResult {
    pub id: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TruncateConversationParams {
    pub id: String,
    pub from_message_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruncateConversationResult {
    pub id: String,
    /// Messages removed.
    pub removed: u32,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensParams {
    /// The stored conversation the next question would continue.
    pub conversation_id: Option<String>,
    /// The messages to add (the question being typed).
    #[serde(default)]
    pub messages: Vec<super::ChatMessage>,
    /// Context attached to the question being typed.
    #[serde(default)]
    pub context: Vec<ContextItem>,
    pub instructions: Option<String>,
    /// Default: the active selection.
    pub provider: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensResult {
    pub tokens: u64,
    /// The model's input window, when known.
    pub window: Option<u64>,
    /// False: an estimate (docs/conversations.md says how it is made).
    pub exact: bool,
}
