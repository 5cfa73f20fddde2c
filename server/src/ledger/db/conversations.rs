//! The conversations' SQL: conversations, their messages (with the context attached to each
//! question), and an FTS5 index over titles and message text. A turn is two writes: the
//! question with a `streaming` answer before the request, the answer's final state after.

use rusqlite::{OptionalExtension, Row, params};

use super::Db;
use crate::protocol::{
    ContextItem, ConversationSummary, MessageStatus, StoredMessage, StoredRole, Usage,
};

pub const MIGRATION: &str = "CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        provider TEXT,
        model TEXT
    );
    CREATE INDEX conversations_updated ON conversations (updated_at, id);
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        status TEXT NOT NULL,
        model TEXT,
        usage TEXT,
        cost_nanos INTEGER,
        guidance_kind TEXT,
        created_at INTEGER NOT NULL,
        context TEXT,
        owner TEXT
    );
    CREATE INDEX messages_conversation ON messages (conversation_id, seq);
    CREATE VIRTUAL TABLE conversation_search USING fts5(
        body, conversation_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
    );";

/// Why a conversation write was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("no conversation with id “{0}”")]
    Unknown(String),
    #[error("no message with id “{0}” in this conversation")]
    UnknownMessage(String),
    #[error("an answer of this conversation is still being written; wait for it or stop it")]
    Busy,
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// A message to store.
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub role: StoredRole,
    pub content: &'a str,
    pub status: MessageStatus,
    pub model: Option<&'a str>,
    pub context: &'a [ContextItem],
    /// The running sidecar that writes it, while `streaming`.
    pub owner: Option<&'a str>,
}

/// The final state of an answer.
pub struct Ending<'a> {
    pub content: &'a str,
    pub status: MessageStatus,
    pub model: Option<&'a str>,
    pub usage: Option<&'a Usage>,
    pub cost_nanos: Option<i64>,
    pub guidance_kind: Option<&'a str>,
}

fn role_str(r: StoredRole) -> &'static str {
    match r {
        StoredRole::User => "user",
        StoredRole::Assistant => "assistant",
    }
}

fn summary(r: &Row<'_>) -> rusqlite::Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
        provider: r.get(4)?,
        model: r.get(5)?,
        message_count: r.get(6)?,
    })
}

const SUMMARY: &str = "SELECT c.id, c.title, c.created_at, c.updated_at, c.provider, c.model,
        (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)
     FROM conversations c";

/// A stored message as read, with the owner of a `streaming` one.
pub struct MessageRow {
    pub message: StoredMessage,
    pub owner: Option<String>,
}

fn message(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    let role: String = r.get(1)?;
    let status: String = r.get(3)?;
    let usage: Option<String> = r.get(5)?;
    let cost: Option<i64> = r.get(6)?;
    let kind: Option<String> = r.get(7)?;
    let context: Option<String> = r.get(9)?;
    Ok(MessageRow {
        message: StoredMessage {
            id: r.get(0)?,
            role: if role == "assistant" {
                StoredRole::Assistant
            } else {
                StoredRole::User
            },
            content: r.get(2)?,
            status: MessageStatus::parse(&status).unwrap_or(MessageStatus::Interrupted),
            model: r.get(4)?,
            usage: usage.and_then(|u| serde_json::from_str(&u).ok()),
            cost_usd: cost.map(|n| n as f64 / 1e9),
            guidance_kind: kind.and_then(|k| {
                crate::protocol::GuidanceKind::ALL
                    .iter()
                    .copied()
                    .find(|g| g.as_str() == k)
            }),
            created_at: r.get(8)?,
            context: context
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default(),
        },
        owner: r.get(10)?,
    })
}

impl Db {
    pub fn conversation_create(
        &mut self,
        id: &str,
        title: &str,
        now: i64,
        messages: &[NewMessage<'_>],
    ) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![id, title, now],
        )?;
        index_title(&tx, id, title)?;
        for m in messages {
            insert_message(&tx, id, m, now)?;
        }
        tx.commit()
    }

    pub fn conversation_exists(&self, id: &str) -> rusqlite::Result<bool> {
        self.conn
            .query_row(
                "SELECT 1 FROM conversations WHERE id = ?1",
                [id],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
    }

    /// A page of summaries, newest first; `query` is an FTS5 expression (already safe).
    pub fn conversation_list(
        &self,
        query: Option<&str>,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> rusqlite::Result<Vec<ConversationSummary>> {
        let (at, id) = before.map_or((None, None), |(a, i)| (Some(a), Some(i)));
        let sql = format!(
            "{SUMMARY}
             WHERE (?1 IS NULL OR c.id IN (SELECT conversation_id FROM conversation_search
                                           WHERE conversation_search MATCH ?1))
               AND (?2 IS NULL OR (c.updated_at, c.id) < (?2, ?3))
             ORDER BY c.updated_at DESC, c.id DESC LIMIT ?4"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![query, at, id, limit], summary)?;
        rows.collect()
    }

    pub fn conversation_summary(&self, id: &str) -> rusqlite::Result<Option<ConversationSummary>> {
        self.conn
            .query_row(&format!("{SUMMARY} WHERE c.id = ?1"), [id], summary)
            .optional()
    }

    /// The messages, oldest first. A `streaming` answer whose writer `is_live` says is gone
    /// is stored as `interrupted` first (its sidecar ended mid-answer).
    pub fn conversation_messages(
        &mut self,
        id: &str,
        is_live: &dyn Fn(&str) -> bool,
    ) -> rusqlite::Result<Vec<StoredMessage>> {
        let tx = self.conn.transaction()?;
        let rows = read_messages(&tx, id)?;
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            if row.message.status == MessageStatus::Streaming
                && !row.owner.as_deref().is_some_and(is_live)
            {
                tx.execute(
                    "UPDATE messages SET status = 'interrupted', owner = NULL WHERE id = ?1",
                    [&row.message.id],
                )?;
                row.message.status = MessageStatus::Interrupted;
            }
            out.push(row.message);
        }
        tx.commit()?;
        Ok(out)
    }

    pub fn conversation_rename(&mut self, id: &str, title: &str) -> Result<(), ConversationError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE conversations SET title = ?2 WHERE id = ?1",
            params![id, title],
        )?;
        if n == 0 {
            return Err(ConversationError::Unknown(id.into()));
        }
        index_title(&tx, id, title)?;
        tx.commit()?;
        Ok(())
    }

    pub fn conversation_delete(&mut self, id: &str) -> Result<(), ConversationError> {
        let tx = self.conn.transaction()?;
        if !exists(&tx, id)? {
            return Err(ConversationError::Unknown(id.into()));
        }
        tx.execute(
            "DELETE FROM conversation_search WHERE rowid IN
                (SELECT seq FROM messages WHERE conversation_id = ?1)",
            [id],
        )?;
        tx.execute(
            "DELETE FROM conversation_search WHERE rowid = -(SELECT rowid FROM conversations WHERE id = ?1)",
            [id],
        )?;
        tx.execute("DELETE FROM messages WHERE conversation_id = ?1", [id])?;
        tx.execute("DELETE FROM conversations WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Removes `from` and every later message; refused while an answer is streaming.
    pub fn conversation_truncate(
        &mut self,
        id: &str,
        from: &str,
        is_live: &dyn Fn(&str) -> bool,
        now: i64,
    ) -> Result<u32, ConversationError> {
        let tx = self.conn.transaction()?;
        if !exists(&tx, id)? {
            return Err(ConversationError::Unknown(id.into()));
        }
        if busy(&tx, id, is_live)? {
            return Err(ConversationError::Busy);
        }
        let seq: Option<i64> = tx
            .query_row(
                "SELECT seq FROM messages WHERE id = ?1 AND conversation_id = ?2",
                params![from, id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(seq) = seq else {
            return Err(ConversationError::UnknownMessage(from.into()));
        };
        tx.execute(
            "DELETE FROM conversation_search WHERE rowid IN
                (SELECT seq FROM messages WHERE conversation_id = ?1 AND seq >= ?2)",
            params![id, seq],
        )?;
        let removed = tx.execute(
            "DELETE FROM messages WHERE conversation_id = ?1 AND seq >= ?2",
            params![id, seq],
        )?;
        tx.execute(
            "UPDATE conversations SET updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        tx.commit()?;
        Ok(u32::try_from(removed).unwrap_or(u32::MAX))
    }

    /// Starts a turn: the question and a `streaming` answer, in one transaction; the first
    /// question of an untitled conversation names it.
    #[allow(clippy::too_many_arguments)]
    pub fn turn_begin(
        &mut self,
        id: &str,
        question: &NewMessage<'_>,
        answer: &NewMessage<'_>,
        provider: &str,
        title: &str,
        is_live: &dyn Fn(&str) -> bool,
        now: i64,
    ) -> Result<(), ConversationError> {
        let tx = self.conn.transaction()?;
        let current: Option<String> = tx
            .query_row("SELECT title FROM conversations WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(current) = current else {
            return Err(ConversationError::Unknown(id.into()));
        };
        if busy(&tx, id, is_live)? {
            return Err(ConversationError::Busy);
        }
        insert_message(&tx, id, question, now)?;
        insert_message(&tx, id, answer, now)?;
        if current.is_empty() && !title.is_empty() {
            tx.execute(
                "UPDATE conversations SET title = ?2 WHERE id = ?1",
                params![id, title],
            )?;
            index_title(&tx, id, title)?;
        }
        tx.execute(
            "UPDATE conversations SET updated_at = ?2, provider = ?3, model = ?4 WHERE id = ?1",
            params![id, now, provider, answer.model],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Ends a turn: the answer's final state, text, usage and cost, in one transaction.
    pub fn turn_end(&mut self, answer_id: &str, e: &Ending<'_>, now: i64) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        let usage = e.usage.and_then(|u| serde_json::to_string(u).ok());
        let found: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, conversation_id FROM messages WHERE id = ?1",
                [answer_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // Truncated or deleted meanwhile (another window): nothing to end.
        let Some((seq, conversation)) = found else {
            return Ok(());
        };
        tx.execute(
            "UPDATE messages SET content = ?2, status = ?3, model = coalesce(?4, model),
                usage = ?5, cost_nanos = ?6, guidance_kind = ?7, owner = NULL
             WHERE id = ?1",
            params![
                answer_id,
                e.content,
                e.status.as_str(),
                e.model,
                usage,
                e.cost_nanos,
                e.guidance_kind
            ],
        )?;
        index(&tx, seq, &conversation, e.content)?;
        tx.execute(
            "UPDATE conversations SET updated_at = ?2 WHERE id = ?1",
            params![conversation, now],
        )?;
        tx.commit()
    }
}

fn exists(tx: &rusqlite::Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT 1 FROM conversations WHERE id = ?1",
        [id],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

fn read_messages(tx: &rusqlite::Transaction<'_>, id: &str) -> rusqlite::Result<Vec<MessageRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, role, content, status, model, usage, cost_nanos, guidance_kind, created_at,
                context, owner
         FROM messages WHERE conversation_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([id], message)?;
    rows.collect()
}

/// Whether an answer of the conversation is being written by a live sidecar; answers whose
/// writer is gone are marked `interrupted` on the way.
fn busy(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    is_live: &dyn Fn(&str) -> bool,
) -> rusqlite::Result<bool> {
    let owners: Vec<(String, Option<String>)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, owner FROM messages WHERE conversation_id = ?1 AND status = 'streaming'",
        )?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut live = false;
    for (message, owner) in owners {
        if owner.as_deref().is_some_and(is_live) {
            live = true;
        } else {
            tx.execute(
                "UPDATE messages SET status = 'interrupted', owner = NULL WHERE id = ?1",
                [message],
            )?;
        }
    }
    Ok(live)
}

fn insert_message(
    tx: &rusqlite::Transaction<'_>,
    conversation: &str,
    m: &NewMessage<'_>,
    now: i64,
) -> rusqlite::Result<()> {
    let context = (!m.context.is_empty())
        .then(|| serde_json::to_string(m.context).ok())
        .flatten();
    tx.execute(
        "INSERT INTO messages (id, conversation_id, role, content, status, model, created_at,
            context, owner)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            m.id,
            conversation,
            role_str(m.role),
            m.content,
            m.status.as_str(),
            m.model,
            now,
            context,
            m.owner
        ],
    )?;
    if !m.content.is_empty() {
        index(tx, tx.last_insert_rowid(), conversation, m.content)?;
    }
    Ok(())
}

/// A message's text in the search index, under its `seq`.
fn index(
    tx: &rusqlite::Transaction<'_>,
    seq: i64,
    conversation: &str,
    body: &str,
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM conversation_search WHERE rowid = ?1", [seq])?;
    tx.execute(
        "INSERT INTO conversation_search (rowid, body, conversation_id) VALUES (?1, ?2, ?3)",
        params![seq, body, conversation],
    )?;
    Ok(())
}

/// A title in the search index, under minus its conversation's rowid.
fn index_title(tx: &rusqlite::Transaction<'_>, id: &str, title: &str) -> rusqlite::Result<()> {
    let rowid: i64 = tx.query_row("SELECT rowid FROM conversations WHERE id = ?1", [id], |r| {
        r.get(0)
    })?;
    index(tx, -rowid, id, title)
}
