//! The ledger's SQL: schema migrations, inserts, the log and spend queries, pruning. Runs on
//! the ledger thread only. Costs are integer nano-dollars, so sums are exact; days and months
//! are the machine's local time, as SQLite's `localtime` sees it.

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use rusqlite_migration::{M, Migrations};

pub mod conversations;
pub mod org;

use super::{CallRecord, MonthSpend, SpendError};
use crate::protocol::{
    CallOutcome, LedgerOperation, RequestLogEntry, RequestLogParams, RequestLogResult, SpendGroup,
    SpendGroupBy, SpendParams, SpendResult,
};

/// A chat attempt that may have cost something the spend cannot count: its tokens have no
/// price, or the provider took the request (2xx) and no usage came back (stopped mid-answer,
/// a stream that broke, a server that reports no usage).
const UNCOUNTED: &str =
    "cost_nanos IS NULL AND (input_tokens IS NOT NULL OR http_status BETWEEN 200 AND 299)";

/// Rows kept at most, whatever the retention: the oldest go first.
pub const ROW_CAP: i64 = 200_000;

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at INTEGER NOT NULL,
            provider TEXT NOT NULL,
            host TEXT NOT NULL,
            operation TEXT NOT NULL,
            model TEXT,
            chat_id TEXT,
            attempt INTEGER,
            outcome TEXT NOT NULL,
            http_status INTEGER,
            guidance_kind TEXT,
            request_id TEXT,
            headers_ms INTEGER,
            first_token_ms INTEGER,
            duration_ms INTEGER NOT NULL,
            input_tokens INTEGER,
            cached_input_tokens INTEGER,
            output_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost_nanos INTEGER
        );
        CREATE INDEX calls_started_at ON calls (started_at);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        ),
        M::up(org::MIGRATION),
        M::up(conversations::MIGRATION),
    ])
}

pub struct Db {
    conn: Connection,
}

/// Why a database did not open: damage (set it aside) or anything else (leave it alone).
enum OpenError {
    Corrupt(String),
    Other(String),
}

impl OpenError {
    fn of(e: rusqlite::Error) -> OpenError {
        let corrupt = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
        );
        if corrupt {
            OpenError::Corrupt(e.to_string())
        } else {
            OpenError::Other(e.to_string())
        }
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Corrupt(m) | OpenError::Other(m) => f.write_str(m),
        }
    }
}

impl Db {
    /// The database at `path`; one that cannot be opened, migrated or checked is renamed to
    /// `sidekick.db.corrupt` and a new one started. Without a path, or when even a new file
    /// fails, an in-memory database keeps the session going.
    pub fn open_or_recover(path: Option<&Path>) -> (Db, Option<String>) {
        let Some(path) = path else {
            return (Db::memory(), None);
        };
        match Db::open(path) {
            Ok(db) => (db, None),
            // Busy, read-only, too new a schema (another window's newer sidecar): the file is
            // fine, or is someone else's to fix. Never set aside what may be in use.
            Err(OpenError::Other(e)) => (
                Db::memory(),
                Some(format!(
                    "Sidekick's request log ({}) cannot be opened ({e}); this session keeps it in memory only.",
                    path.display()
                )),
            ),
            Err(OpenError::Corrupt(first)) => {
                tracing::warn!("ledger {}: {first}", path.display());
                let aside = path.with_extension("db.corrupt");
                let _ = std::fs::rename(path, &aside);
                for suffix in ["-wal", "-shm"] {
                    let mut side = path.as_os_str().to_owned();
                    side.push(suffix);
                    let _ = std::fs::remove_file(side);
                }
                let warning = format!(
                    "Sidekick's request log ({}) could not be read and was set aside as {}; a new one was started.",
                    path.display(),
                    aside.display()
                );
                match Db::open(path) {
                    Ok(db) => (db, Some(warning)),
                    Err(e) => (
                        Db::memory(),
                        Some(format!(
                            "Sidekick's request log ({}) cannot be written ({e}); this session keeps it in memory only.",
                            path.display()
                        )),
                    ),
                }
            }
        }
    }

    fn open(path: &Path) -> Result<Db, OpenError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| OpenError::Other(e.to_string()))?;
        }
        let mut conn = Connection::open(path).map_err(OpenError::of)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(OpenError::of)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(OpenError::of)?;
        if check != "ok" {
            return Err(OpenError::Corrupt(format!("integrity check: {check}")));
        }
        // WAL: another window's sidecar reads while this one writes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(OpenError::of)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(OpenError::of)?;
        migrations().to_latest(&mut conn).map_err(|e| match e {
            rusqlite_migration::Error::RusqliteError { err, .. } => OpenError::of(err),
            other => OpenError::Other(other.to_string()),
        })?;
        Ok(Db { conn })
    }

    fn memory() -> Db {
        let mut conn = Connection::open_in_memory().expect("an in-memory SQLite database");
        migrations()
            .to_latest(&mut conn)
            .expect("the schema applies to an empty database");
        Db { conn }
    }

    pub fn insert(&mut self, r: &CallRecord) -> rusqlite::Result<RequestLogEntry> {
        let u = r.usage.as_ref();
        let as_i64 = |v: Option<u64>| v.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.conn.execute(
            "INSERT INTO calls (started_at, provider, host, operation, model, chat_id, attempt,
                outcome, http_status, guidance_kind, request_id, headers_ms, first_token_ms,
                duration_ms, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens,
                cost_nanos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19)",
            params![
                r.started_at_ms,
                r.provider,
                r.host,
                r.operation.as_str(),
                r.model,
                r.chat_id,
                r.attempt,
                r.outcome.as_str(),
                r.http_status,
                r.guidance_kind,
                r.request_id,
                as_i64(r.headers_ms),
                as_i64(r.first_token_ms),
                as_i64(Some(r.duration_ms)),
                as_i64(u.map(|u| u.prompt_tokens)),
                as_i64(u.and_then(|u| u.cached_input_tokens)),
                as_i64(u.map(|u| u.completion_tokens)),
                as_i64(u.and_then(|u| u.reasoning_tokens)),
                r.cost_nanos,
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], entry)
    }

    pub fn log(&self, p: &RequestLogParams) -> rusqlite::Result<RequestLogResult> {
        let limit = i64::from(p.limit.unwrap_or(100).clamp(1, 1000));
        let mut sql = format!("{SELECT} WHERE 1 = 1");
        let mut args: Vec<SqlValue> = Vec::new();
        // Each `?` of a clause is the value given with it.
        let mut filter = |clause: &str, v: SqlValue| {
            args.push(v);
            let at = format!("?{}", args.len());
            sql.push_str(&format!(" AND ({})", clause.replace('?', &at)));
        };
        if let Some(b) = p.before {
            filter("id < ?", SqlValue::Integer(b));
        }
        if let Some(v) = &p.provider {
            filter("provider = ?", SqlValue::Text(v.clone()));
        }
        if let Some(v) = &p.model {
            // The model asked for finds the one that answered: `gpt-4o-mini` finds
            // `gpt-4o-mini-2024-07-18` (but `gpt-4o` does not find `gpt-4o-mini`'s rows).
            filter(
                "model = ? OR substr(model, 1, length(?) + 1) = ? || '-' AND substr(model, length(?) + 2, 1) GLOB '[0-9]'",
                SqlValue::Text(v.clone()),
            );
        }
        if let Some(v) = p.outcome {
            filter("outcome = ?", SqlValue::Text(v.as_str().into()));
        }
        if let Some(v) = p.operation {
            filter("operation = ?", SqlValue::Text(v.as_str().into()));
        }
        // One more than asked: whether a next page exists.
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
        let mut stmt = self.conn.prepare(&sql)?;
        let mut entries = stmt
            .query_map(params_from_iter(args), entry)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let more = entries.len() as i64 > limit;
        entries.truncate(limit as usize);
        let next_before = if more {
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(RequestLogResult {
            entries,
            next_before,
        })
    }

    /// Spend between two local dates (inclusive), grouped; and the total in nano-dollars.
    pub fn spend(&self, p: &SpendParams) -> Result<(SpendResult, i64), SpendError> {
        let (from, to) = (
            date(&p.from, "from").map_err(SpendError::Dates)?,
            date(&p.to, "to").map_err(SpendError::Dates)?,
        );
        if from > to {
            return Err(SpendError::Dates("from: must not be after to".into()));
        }
        let db = |e: rusqlite::Error| SpendError::Ledger(e.to_string());
        let (start, end): (i64, i64) = self
            .conn
            .query_row(
                "SELECT CAST(strftime('%s', ?1, 'utc') AS INTEGER) * 1000,
                        CAST(strftime('%s', ?2, '+1 day', 'utc') AS INTEGER) * 1000",
                params![from, to],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db)?;
        let key = match p.group_by {
            SpendGroupBy::Day => "date(started_at / 1000, 'unixepoch', 'localtime')",
            SpendGroupBy::Model => "COALESCE(model, '')",
            SpendGroupBy::Provider => "provider",
        };
        let sql = format!(
            "SELECT {key} AS k, COALESCE(SUM(cost_nanos), 0), COALESCE(SUM(input_tokens), 0),
                    COALESCE(SUM(output_tokens), 0), COUNT(*),
                    SUM(CASE WHEN {UNCOUNTED} THEN 1 ELSE 0 END)
             FROM calls
             WHERE started_at >= ?1 AND started_at < ?2 AND operation = 'chat'
             GROUP BY k ORDER BY k"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(db)?;
        let rows = stmt
            .query_map(params![start, end], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        let mut total = 0i64;
        let mut unpriced = 0u64;
        let groups = rows
            .into_iter()
            .map(|(key, nanos, input, output, calls, no_price)| {
                total += nanos;
                unpriced += no_price.max(0) as u64;
                SpendGroup {
                    key,
                    cost_usd: usd(nanos),
                    input_tokens: input.max(0) as u64,
                    output_tokens: output.max(0) as u64,
                    calls: calls.max(0) as u64,
                }
            })
            .collect();
        Ok((
            SpendResult {
                currency: "usd".into(),
                total: usd(total),
                unpriced_calls: unpriced,
                groups,
                budget_usd: None,
                warn_percent: 0,
            },
            total,
        ))
    }

    /// This calendar month's spend (local time).
    pub fn month(&self) -> rusqlite::Result<MonthSpend> {
        self.conn.query_row(
            &format!("SELECT COALESCE(SUM(cost_nanos), 0),
                    COALESCE(SUM(CASE WHEN {UNCOUNTED} THEN 1 ELSE 0 END), 0)
             FROM calls
             WHERE operation = 'chat' AND started_at >=
                CAST(strftime('%s', date('now', 'localtime', 'start of month'), 'utc') AS INTEGER) * 1000"),
            [],
            |r| {
                Ok(MonthSpend {
                    nanos: r.get(0)?,
                    unpriced_calls: r.get::<_, i64>(1)?.max(0) as u64,
                })
            },
        )
    }

    /// Marks this month as warned; true if it was not yet.
    pub fn first_warning_this_month(&mut self) -> rusqlite::Result<bool> {
        let month: String =
            self.conn
                .query_row("SELECT strftime('%Y-%m', 'now', 'localtime')", [], |r| {
                    r.get(0)
                })?;
        let warned: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'budget_warned_month'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if warned.as_deref() == Some(month.as_str()) {
            return Ok(false);
        }
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('budget_warned_month', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [month],
        )?;
        Ok(true)
    }

    /// Drops rows older than `days` and beyond [`ROW_CAP`]. This month's rows stay whatever
    /// the retention: the budget is their sum, and a short retention must not lower it.
    pub fn prune(&mut self, days: u32) {
        let cutoff = super::now_ms() - i64::from(days) * 86_400_000;
        let pruned = self
            .conn
            .execute(
                "DELETE FROM calls WHERE started_at < MIN(?1,
                    CAST(strftime('%s', date('now', 'localtime', 'start of month'), 'utc') AS INTEGER) * 1000)",
                [cutoff],
            )
            .and_then(|a| {
                let b = self.conn.execute(
                    "DELETE FROM calls WHERE id <= (SELECT id FROM calls ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                    [ROW_CAP],
                )?;
                Ok(a + b)
            });
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::info!("ledger: pruned {n} old rows"),
            Err(e) => tracing::warn!("ledger: pruning failed: {e}"),
        }
    }
}

const SELECT: &str = "SELECT id, started_at, provider, host, operation, model, chat_id, attempt,
    outcome, http_status, guidance_kind, request_id, headers_ms, first_token_ms, duration_ms,
    input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_nanos FROM calls";

fn entry(r: &Row<'_>) -> rusqlite::Result<RequestLogEntry> {
    let u = |i: usize| -> rusqlite::Result<Option<u64>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(|n| n.max(0) as u64))
    };
    let operation = match r.get::<_, String>(4)?.as_str() {
        "validate" => LedgerOperation::Validate,
        "models" => LedgerOperation::Models,
        "usage" => LedgerOperation::Usage,
        _ => LedgerOperation::Chat,
    };
    let outcome = match r.get::<_, String>(8)?.as_str() {
        "ok" => CallOutcome::Ok,
        "cancelled" => CallOutcome::Cancelled,
        _ => CallOutcome::Failed,
    };
    Ok(RequestLogEntry {
        id: r.get(0)?,
        started_at: r.get(1)?,
        provider: r.get(2)?,
        host: r.get(3)?,
        operation,
        model: r.get(5)?,
        chat_id: r.get(6)?,
        attempt: r.get(7)?,
        outcome,
        http_status: r.get(9)?,
        guidance_kind: r.get(10)?,
        request_id: r.get(11)?,
        headers_ms: u(12)?,
        first_token_ms: u(13)?,
        duration_ms: u(14)?.unwrap_or(0),
        input_tokens: u(15)?,
        cached_input_tokens: u(16)?,
        output_tokens: u(17)?,
        reasoning_tokens: u(18)?,
        cost_usd: r.get::<_, Option<i64>>(19)?.map(usd),
    })
}

fn usd(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

/// A `YYYY-MM-DD` date that exists, checked before it reaches SQLite (which answers NULL for
/// nonsense and quietly rolls 2026-02-31 into March).
fn date<'a>(s: &'a str, field: &str) -> Result<&'a str, String> {
    let b = s.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && {
            let (y, m, d) = (
                s[0..4].parse::<u32>().unwrap_or(0),
                s[5..7].parse::<u32>().unwrap_or(0),
                s[8..10].parse::<u32>().unwrap_or(0),
            );
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let last = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                1..=12 => 31,
                _ => 0,
            };
            (1..=last).contains(&d)
        };
    if ok {
        Ok(s)
    } else {
        Err(format!("{field}: expected a date YYYY-MM-DD, got “{s}”"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::Usage;

    fn chat(cost: Option<i64>, model: &str) -> CallRecord {
        let mut r = CallRecord::start(
            ("openai", "openai"),
            "https://api.openai.com/v1",
            LedgerOperation::Chat,
        );
        r.model = Some(model.into());
        r.usage = Some(Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 15,
            cached_input_tokens: None,
            cache_write_tokens: None,
            reasoning_tokens: None,
            cost_usd: None,
            price: None,
        });
        r.cost_nanos = cost;
        r
    }

    #[test]
    fn records_pages_and_filters() {
        let mut db = Db::memory();
        for i in 0..5 {
            let e = db
                .insert(&chat(Some(1_000), if i % 2 == 0 { "a" } else { "b" }))
                .unwrap();
            assert_eq!(e.host, "api.openai.com");
            assert_eq!(e.cost_usd, Some(1e-6));
        }
        let page = db
            .log(&RequestLogParams {
                limit: Some(2),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            page.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            [5, 4]
        );
        assert_eq!(page.next_before, Some(4));
        let rest = db
            .log(&RequestLogParams {
                before: Some(4),
                model: Some("a".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            rest.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            [3, 1]
        );
        assert_eq!(rest.next_before, None);
        for m in [
            "gpt-4o-mini-2024-07-18",
            "gpt-4o-mini",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini-tts",
        ] {
            db.insert(&chat(Some(1), m)).unwrap();
        }
        let models = |filter: &str| -> Vec<String> {
            db.log(&RequestLogParams {
                model: Some(filter.into()),
                ..Default::default()
            })
            .unwrap()
            .entries
            .into_iter()
            .filter_map(|e| e.model)
            .collect()
        };
        assert_eq!(
            models("gpt-4o-mini"),
            ["gpt-4o-mini", "gpt-4o-mini-2024-07-18"]
        );
        assert_eq!(models("gpt-4o"), ["gpt-4o-2024-08-06"]);
        assert_eq!(models("gpt-4o-mini-2024-07-18"), ["gpt-4o-mini-2024-07-18"]);
        assert!(models("%").is_empty(), "no pattern syntax");
    }

    #[test]
    fn spend_adds_exactly_and_counts_unpriced_answers() {
        let mut db = Db::memory();
        for _ in 0..10 {
            db.insert(&chat(Some(100_000_001), "gpt-4o")).unwrap();
        }
        db.insert(&chat(None, "my-model")).unwrap();
        // Stopped after the headers, before any usage: it may have cost, and is said so.
        let mut stopped = chat(None, "gpt-4o");
        stopped.usage = None;
        stopped.http_status = Some(200);
        stopped.outcome = CallOutcome::Cancelled;
        db.insert(&stopped).unwrap();
        // Refused: nothing was spent.
        let mut refused = chat(None, "gpt-4o");
        refused.usage = None;
        refused.http_status = Some(429);
        refused.outcome = CallOutcome::Failed;
        db.insert(&refused).unwrap();
        let today: String = db
            .conn
            .query_row("SELECT date('now', 'localtime')", [], |r| r.get(0))
            .unwrap();
        let (s, nanos) = db
            .spend(&SpendParams {
                from: today.clone(),
                to: today.clone(),
                group_by: SpendGroupBy::Model,
            })
            .unwrap();
        assert_eq!(nanos, 1_000_000_010, "integer nano-dollars, no float drift");
        assert_eq!(
            s.unpriced_calls, 2,
            "the unpriced answer and the stopped one"
        );
        assert_eq!(db.month().unwrap().unpriced_calls, 2);
        assert_eq!(s.groups.len(), 2);
        assert_eq!(s.groups[0].key, "gpt-4o");
        assert_eq!(s.groups[0].calls, 12);
        assert_eq!(db.month().unwrap().nanos, 1_000_000_010);
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "2026-04-31",
            "2026-00-10",
            "2026-01-00",
        ] {
            assert!(
                db.spend(&SpendParams {
                    from: bad.into(),
                    to: today.clone(),
                    group_by: SpendGroupBy::Day
                })
                .is_err(),
                "{bad}"
            );
        }
        assert!(date("2024-02-29", "from").is_ok(), "a leap day exists");
        assert!(date("2100-02-29", "from").is_err(), "no leap day in 2100");
    }

    #[test]
    fn one_budget_warning_a_month() {
        let mut db = Db::memory();
        assert!(db.first_warning_this_month().unwrap());
        assert!(!db.first_warning_this_month().unwrap());
    }

    #[test]
    fn old_rows_go() {
        let mut db = Db::memory();
        let mut old = chat(Some(1), "a");
        old.started_at_ms -= 100 * 86_400_000;
        db.insert(&old).unwrap();
        db.insert(&chat(Some(1), "a")).unwrap();
        db.prune(90);
        let all = db.log(&RequestLogParams::default()).unwrap();
        assert_eq!(all.entries.len(), 1);
    }

    #[test]
    fn a_short_retention_keeps_this_months_spend() {
        let mut db = Db::memory();
        let start_of_month: i64 = db
            .conn
            .query_row(
                "SELECT CAST(strftime('%s', date('now', 'localtime', 'start of month'), 'utc') AS INTEGER) * 1000",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let mut first = chat(Some(5), "a");
        first.started_at_ms = start_of_month;
        let mut before = chat(Some(7), "a");
        before.started_at_ms = start_of_month - 1;
        db.insert(&first).unwrap();
        db.insert(&before).unwrap();
        // A retention of zero days: only rows before this month may go.
        db.prune(0);
        assert_eq!(
            db.month().unwrap().nanos,
            5,
            "the budget still sees the whole month"
        );
        let left = db.log(&RequestLogParams::default()).unwrap();
        assert_eq!(left.entries.len(), 1);
        assert_eq!(left.entries[0].started_at, start_of_month);
    }

    #[test]
    fn a_corrupt_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sidekick.db");
        std::fs::write(&path, b"this is not a database, just bytes that say so").unwrap();
        let (mut db, warning) = Db::open_or_recover(Some(&path));
        assert!(warning.unwrap().contains("set aside"));
        assert!(dir.path().join("sidekick.db.corrupt").exists());
        db.insert(&chat(Some(1), "a")).unwrap();
        drop(db);
        let (db, warning) = Db::open_or_recover(Some(&path));
        assert_eq!(warning, None, "the new file opens cleanly");
        assert_eq!(
            db.log(&RequestLogParams::default()).unwrap().entries.len(),
            1
        );
    }
}
