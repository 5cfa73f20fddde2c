//! Conversations kept by the sidecar, so every editor that drives it sees the same ones: the
//! methods `sidekick/conversations/*`, and a chat turn's two writes (the question with a
//! `streaming` answer before the request, the answer's final state after, whatever the
//! ending). Stored in the ledger's database; in memory for the session when the ledger is off.
//!
//! Several sidecars (one per editor window) share the database. An answer being written
//! carries its writer's token; a writer that is gone (its sidecar crashed: `writers.rs` tells)
//! makes the answer `interrupted` when it is next read, and a live one makes a second chat on
//! the conversation wait its turn.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::error::SidekickError;
use crate::ledger::db::Db;
use crate::ledger::db::conversations::{ConversationError, Ending, NewMessage};
use crate::ledger::{Store, now_ms};
use crate::protocol::{
    ChatMessage, Conversation, ConversationId, CreateConversationParams, DeleteConversationResult,
    ListConversationsParams, ListConversationsResult, MessageStatus, RenameConversationParams,
    RenameConversationResult, StoredMessage, StoredRole, TruncateConversationParams,
    TruncateConversationResult, Usage,
};

const MAX_ID: usize = 64;
const MAX_TITLE: usize = 200;
const AUTO_TITLE: usize = 60;
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

mod writers;

pub struct Conversations {
    store: Store,
    /// This sidecar, as the writer of its streaming answers.
    writer: Arc<writers::Writer>,
}

/// A random id with a prefix: 24 hex digits of the OS's randomness.
fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    // The OS's generator does not fail in practice; a clock-based id is the fallback.
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        bytes[..8].copy_from_slice(&now_ms().to_le_bytes());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Refuses what cannot be an id before it reaches SQL or a message.
fn check_id(field: &str, id: &str) -> Result<(), SidekickError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SidekickError::params(format!(
            "{field}: not a conversation or message id (letters, digits, - and _, at most {MAX_ID})"
        )))
    }
}

/// One line, trimmed, at most `max` characters, cut at a word where one is near.
fn one_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let line: String = line.chars().filter(|c| !c.is_control()).collect();
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max - 1).collect();
    let at_word = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut,
    };
    format!("{}…", at_word.trim_end())
}

/// The title a first question gives its conversation.
pub fn title_of(question: &ChatMessage) -> String {
    let t = one_line(&question.content, AUTO_TITLE);
    if !t.is_empty() {
        return t;
    }
    question
        .context
        .first()
        .map(|c| one_line(&format!("About {}", c.path), AUTO_TITLE))
        .unwrap_or_default()
}

/// An FTS5 query from what the user typed: every word a prefix term, all required. Nothing
/// the user types can be FTS5 syntax.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

fn cursor(before: &str) -> Result<(i64, String), SidekickError> {
    before
        .split_once(':')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_string())))
        .filter(|(_, id)| check_id("before", id).is_ok())
        .ok_or_else(|| SidekickError::params("before: not a nextBefore this server gave"))
}

fn failed(e: ConversationError) -> SidekickError {
    match e {
        ConversationError::Sql(e) => {
            SidekickError::Internal(format!("the conversations database failed: {e}"))
        }
        other => SidekickError::params(other.to_string()),
    }
}

impl Conversations {
    pub fn new(ledger: crate::ledger::Ledger) -> Conversations {
        Conversations {
            writer: Arc::new(writers::Writer::new(
                new_id("w-"),
                ledger
                    .path()
                    .and_then(Path::parent)
                    .map(|home| home.join("writers"))
                    .as_deref(),
            )),
            store: Store::new(ledger),
        }
    }

    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Db, &dyn Fn(&str) -> bool) -> Result<T, ConversationError> + Send + 'static,
    ) -> Result<T, SidekickError> {
        let me = self.writer.clone();
        let ran = self
            .store
            .ledger()
            .await
            .with_db(move |db| f(db, &|o: &str| me.is_live(o)))
            .await;
        match ran {
            Some(r) => r.map_err(failed),
            None => Err(SidekickError::Internal(
                "the conversations database has stopped".into(),
            )),
        }
    }

    pub async fn list(
        &self,
        p: ListConversationsParams,
    ) -> Result<ListConversationsResult, SidekickError> {
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let before = p.before.as_deref().map(cursor).transpose()?;
        let query = p.query.as_deref().and_then(fts_query);
        let mut conversations = self
            .db(move |db, _| {
                let before = before.as_ref().map(|(at, id)| (*at, id.as_str()));
                Ok(db.conversation_list(query.as_deref(), before, limit + 1)?)
            })
            .await?;
        let more = conversations.len() > limit as usize;
        conversations.truncate(limit as usize);
        let next_before = more
            .then(|| {
                conversations
                    .last()
                    .map(|c| format!("{}:{}", c.updated_at, c.id))
            })
            .flatten();
        Ok(ListConversationsResult {
            conversations,
            next_before,
        })
    }

    pub async fn create(
        &self,
        p: CreateConversationParams,
    ) -> Result<ConversationId, SidekickError> {
        let title = p
            .title
            .as_deref()
            .map(|t| one_line(t, MAX_TITLE))
            .or_else(|| {
                p.messages
                    .iter()
                    .find(|m| m.role == StoredRole::User)
                    .map(|m| {
                        title_of(&ChatMessage {
                            role: crate::protocol::Role::User,
                            content: m.content.clone(),
                            context: m.context.clone(),
                        })
                    })
            })
            .unwrap_or_default();
        for (i, m) in p.messages.iter().enumerate() {
            if m.status == Some(MessageStatus::Streaming) {
                return Err(SidekickError::params(format!(
                    "messages[{i}].status: a message given is not being written"
                )));
            }
        }
        let id = new_id("c-");
        let ids: Vec<String> = p.messages.iter().map(|_| new_id("m-")).collect();
        let conversation = id.clone();
        self.db(move |db, _| {
            let messages: Vec<NewMessage<'_>> = p
                .messages
                .iter()
                .zip(&ids)
                .map(|(m, id)| NewMessage {
                    id,
                    role: m.role,
                    content: &m.content,
                    status: m.status.unwrap_or(MessageStatus::Done),
                    model: m.model.as_deref(),
                    context: &m.context,
                    owner: None,
                })
                .collect();
            Ok(db.conversation_create(&conversation, &title, now_ms(), &messages)?)
        })
        .await?;
        Ok(ConversationId { id })
    }

    pub async fn get(&self, p: ConversationId) -> Result<Conversation, SidekickError> {
        check_id("id", &p.id)?;
        let id = p.id;
        self.db(move |db, live| {
            let Some(s) = db.conversation_summary(&id)? else {
                return Err(ConversationError::Unknown(id));
            };
            let messages = db.conversation_messages(&id, live)?;
            Ok(Conversation {
                id: s.id,
                title: s.title,
                created_at: s.created_at,
                updated_at: s.updated_at,
                provider: s.provider,
                model: s.model,
                messages,
            })
        })
        .await
    }

    /// The stored messages a chat continues, oldest first.
    pub async fn history(&self, id: &str) -> Result<Vec<StoredMessage>, SidekickError> {
        check_id("conversationId", id)?;
        let id = id.to_string();
        self.db(move |db, live| {
            if !db.conversation_exists(&id)? {
                return Err(ConversationError::Unknown(id));
            }
            Ok(db.conversation_messages(&id, live)?)
        })
        .await
    }

    pub async fn rename(
        &self,
        p: RenameConversationParams,
    ) -> Result<RenameConversationResult, SidekickError> {
        check_id("id", &p.id)?;
        let title = one_line(&p.title, MAX_TITLE);
        if title.is_empty() {
            return Err(SidekickError::params("title: must not be empty"));
        }
        let (id, t) = (p.id.clone(), title.clone());
        self.db(move |db, _| db.conversation_rename(&id, &t))
            .await?;
        Ok(RenameConversationResult { id: p.id, title })
    }

    pub async fn delete(
        &self,
        p: ConversationId,
    ) -> Result<DeleteConversationResult, SidekickError> {
        check_id("id", &p.id)?;
        let id = p.id.clone();
        self.db(move |db, _| db.conversation_delete(&id)).await?;
        Ok(DeleteConversationResult {
            id: p.id,
            deleted: true,
        })
    }

    pub async fn truncate(
        &self,
        p: TruncateConversationParams,
    ) -> Result<TruncateConversationResult, SidekickError> {
        check_id("id", &p.id)?;
        check_id("fromMessageId", &p.from_message_id)?;
        let (id, from) = (p.id.clone(), p.from_message_id);
        let removed = self
            .db(move |db, live| db.conversation_truncate(&id, &from, live, now_ms()))
            .await?;
        Ok(TruncateConversationResult { id: p.id, removed })
    }

    /// Stores the question and a `streaming` answer; the returned record stores the answer's
    /// end, or `stopped` with the text so far if it is dropped first (a cancelled chat).
    pub async fn begin(
        &self,
        id: &str,
        question: &ChatMessage,
        provider: &str,
        model: &str,
    ) -> Result<TurnRecord, SidekickError> {
        let question_id = new_id("m-");
        let answer_id = new_id("m-");
        let (conversation, q, a, provider, model, owner) = (
            id.to_string(),
            question.clone(),
            answer_id.clone(),
            provider.to_string(),
            model.to_string(),
            self.writer.token().to_string(),
        );
        let qid = question_id.clone();
        let title = title_of(question);
        self.db(move |db, live| {
            db.turn_begin(
                &conversation,
                &NewMessage {
                    id: &qid,
                    role: StoredRole::User,
                    content: &q.content,
                    status: MessageStatus::Done,
                    model: None,
                    context: &q.context,
                    owner: None,
                },
                &NewMessage {
                    id: &a,
                    role: StoredRole::Assistant,
                    content: "",
                    status: MessageStatus::Streaming,
                    model: Some(&model),
                    context: &[],
                    owner: Some(&owner),
                },
                &provider,
                &title,
                live,
                now_ms(),
            )
        })
        .await?;
        let ledger = self.store.ready().cloned();
        Ok(TurnRecord {
            ledger,
            question_id,
            answer_id,
            text: Arc::default(),
            ended: false,
        })
    }
}

/// The answer of a turn in progress.
pub struct TurnRecord {
    ledger: Option<crate::ledger::Ledger>,
    pub question_id: String,
    pub answer_id: String,
    /// The text so far, shared with the relay: what a cancelled answer keeps.
    pub text: Arc<Mutex<String>>,
    ended: bool,
}

/// How an answer ended, for its record.
pub struct TurnEnd {
    pub status: MessageStatus,
    pub text: String,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    pub guidance_kind: Option<&'static str>,
}

impl TurnRecord {
    /// Stores the answer's final state, and waits until it is written: the client's answer
    /// follows, and a process that ends right after it must not lose the turn.
    pub async fn end(mut self, end: TurnEnd) {
        self.ended = true;
        let Some(ledger) = self.ledger.clone() else {
            return;
        };
        let id = self.answer_id.clone();
        ledger.with_db(move |db| store_end(db, &id, end)).await;
    }

    /// Written without waiting: from `Drop`, when the chat's future is going away.
    fn write_detached(&self, end: TurnEnd) {
        let Some(ledger) = &self.ledger else {
            return;
        };
        let id = self.answer_id.clone();
        ledger.run_detached(move |db| store_end(db, &id, end));
    }
}

fn store_end(db: &mut Db, id: &str, end: TurnEnd) {
    {
        {
            let cost_nanos = end
                .usage
                .as_ref()
                .and_then(|u| u.cost_usd)
                .map(|c| (c * 1e9).round() as i64);
            let ending = Ending {
                content: &end.text,
                status: end.status,
                model: end.model.as_deref(),
                usage: end.usage.as_ref(),
                cost_nanos,
                guidance_kind: end.guidance_kind,
            };
            if let Err(e) = db.turn_end(id, &ending, now_ms()) {
                tracing::warn!("could not store the end of an answer: {e}");
            }
        }
    }
}

impl Drop for TurnRecord {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let text = self.text.lock().map(|t| t.clone()).unwrap_or_default();
        self.write_detached(TurnEnd {
            status: MessageStatus::Stopped,
            text,
            model: None,
            usage: None,
            guidance_kind: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_the_first_line_cut_at_a_word() {
        let q = |s: &str| ChatMessage {
            role: crate::protocol::Role::User,
            content: s.into(),
            context: Vec::new(),
        };
        assert_eq!(
            title_of(&q("\n  How do I read a file?\nMore")),
            "How do I read a file?"
        );
        let long = title_of(&q(
            "Why does the borrow checker refuse this closure that captures a mutable reference twice",
        ));
        assert!(
            long.ends_with('…') && long.chars().count() <= AUTO_TITLE,
            "{long}"
        );
        assert!(long.starts_with("Why does the borrow checker refuse this closure that"));
    }

    #[test]
    fn search_text_never_becomes_fts_syntax() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(
            fts_query("borrow checker"),
            Some("\"borrow\"* \"checker\"*".into())
        );
        assert_eq!(
            fts_query("\"a\" OR b* NEAR(c) -d"),
            Some("\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"* \"d\"*".into())
        );
    }

    #[test]
    fn ids_are_checked_before_anything_else() {
        assert!(check_id("id", "c-0123abcd").is_ok());
        for bad in ["", "a b", "x'; DROP TABLE", &"a".repeat(65)] {
            assert!(check_id("id", bad).is_err(), "{bad}");
        }
    }
}
