//! The organization cache's SQL: daily cost and usage rows per organization (`scope`), when
//! each day was fetched, and small facts such as the spend limit. Days are UTC day numbers.

use std::collections::BTreeMap;

use rusqlite::params;

use super::Db;
use crate::providers::org_api::{CostRow, Counts, UsageRow};

pub const MIGRATION: &str = "CREATE TABLE org_costs (
        scope TEXT NOT NULL,
        day INTEGER NOT NULL,
        project TEXT NOT NULL,
        line_item TEXT NOT NULL,
        nanos INTEGER NOT NULL,
        PRIMARY KEY (scope, day, project, line_item)
    ) WITHOUT ROWID;
    CREATE TABLE org_usage (
        scope TEXT NOT NULL,
        day INTEGER NOT NULL,
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        input INTEGER NOT NULL,
        cached_input INTEGER NOT NULL,
        output INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        PRIMARY KEY (scope, day, project, model)
    ) WITHOUT ROWID;
    CREATE TABLE org_fetched (
        scope TEXT NOT NULL,
        dataset TEXT NOT NULL,
        day INTEGER NOT NULL,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (scope, dataset, day)
    ) WITHOUT ROWID;
    CREATE TABLE org_meta (
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        value INTEGER,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
    ) WITHOUT ROWID;";

/// One stored cost row: (day, project, line item, nano-dollars).
pub type CostCell = (i64, String, String, i64);
/// One stored usage row: (day, project, model, counts).
pub type UsageCell = (i64, String, String, Counts);

impl Db {
    /// When each day in `[first, last]` was fetched (Unix ms); days never fetched are absent.
    pub fn org_fetched(
        &self,
        scope: &str,
        dataset: &str,
        first: i64,
        last: i64,
    ) -> rusqlite::Result<Vec<(i64, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, fetched_at FROM org_fetched
             WHERE scope = ?1 AND dataset = ?2 AND day BETWEEN ?3 AND ?4",
        )?;
        let rows = stmt.query_map(params![scope, dataset, first, last], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect()
    }

    /// Replaces the rows of every day in `days` (the page's days, and on a run's last page
    /// the days it had nothing for) with what the provider sent, and marks those days fetched
    /// at `at` — in one transaction, so a page is stored whole or not at all.
    pub fn org_store_costs(
        &mut self,
        scope: &str,
        buckets: &[(i64, Vec<CostRow>)],
        days: &[i64],
        at: i64,
    ) -> rusqlite::Result<()> {
        // A provider may split one (project, line item) over several results: summed here,
        // saturating, so that what is stored is always an integer SQLite can sum back.
        let mut merged: BTreeMap<(i64, &str, &str), i64> = BTreeMap::new();
        for (day, rows) in buckets {
            for r in rows {
                let n = merged.entry((*day, &r.project, &r.line_item)).or_default();
                *n = n.saturating_add(r.nanos);
            }
        }
        let tx = self.conn.transaction()?;
        {
            clear_days(&tx, "org_costs", scope, days)?;
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO org_costs (scope, day, project, line_item, nanos)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for ((day, project, item), nanos) in merged {
                put.execute(params![scope, day, project, item, nanos])?;
            }
            mark(&tx, scope, "costs", days, at)?;
        }
        tx.commit()
    }

    pub fn org_store_usage(
        &mut self,
        scope: &str,
        buckets: &[(i64, Vec<UsageRow>)],
        days: &[i64],
        at: i64,
    ) -> rusqlite::Result<()> {
        let mut merged: BTreeMap<(i64, &str, &str), Counts> = BTreeMap::new();
        for (day, rows) in buckets {
            for r in rows {
                let c = merged.entry((*day, &r.project, &r.model)).or_default();
                c.input = c.input.saturating_add(r.counts.input);
                c.cached_input = c.cached_input.saturating_add(r.counts.cached_input);
                c.output = c.output.saturating_add(r.counts.output);
                c.requests = c.requests.saturating_add(r.counts.requests);
            }
        }
        let tx = self.conn.transaction()?;
        {
            clear_days(&tx, "org_usage", scope, days)?;
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO org_usage
                    (scope, day, project, model, input, cached_input, output, requests)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for ((day, project, model), c) in merged {
                put.execute(params![
                    scope,
                    day,
                    project,
                    model,
                    c.input,
                    c.cached_input,
                    c.output,
                    c.requests
                ])?;
            }
            mark(&tx, scope, "usage", days, at)?;
        }
        tx.commit()
    }

    pub fn org_costs(&self, scope: &str, first: i64, last: i64) -> rusqlite::Result<Vec<CostCell>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, project, line_item, nanos FROM org_costs
             WHERE scope = ?1 AND day BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt.query_map(params![scope, first, last], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect()
    }

    pub fn org_usage(
        &self,
        scope: &str,
        first: i64,
        last: i64,
    ) -> rusqlite::Result<Vec<UsageCell>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, project, model, input, cached_input, output, requests FROM org_usage
             WHERE scope = ?1 AND day BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt.query_map(params![scope, first, last], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                Counts {
                    input: r.get(3)?,
                    cached_input: r.get(4)?,
                    output: r.get(5)?,
                    requests: r.get(6)?,
                },
            ))
        })?;
        rows.collect()
    }

    /// A small fact and when it was fetched: `Some((value, fetched_at))`.
    pub fn org_meta(
        &self,
        scope: &str,
        name: &str,
    ) -> rusqlite::Result<Option<(Option<i64>, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT value, fetched_at FROM org_meta WHERE scope = ?1 AND name = ?2",
        )?;
        let mut rows = stmt.query(params![scope, name])?;
        match rows.next()? {
            Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
            None => Ok(None),
        }
    }

    pub fn org_set_meta(
        &mut self,
        scope: &str,
        name: &str,
        value: Option<i64>,
        at: i64,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO org_meta (scope, name, value, fetched_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at",
            params![scope, name, value, at],
        )?;
        Ok(())
    }

    /// Forgets everything cached under every scope that starts with `prefix` (an
    /// organization, whichever key read it).
    pub fn org_clear(&mut self, prefix: &str) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for table in ["org_costs", "org_usage", "org_fetched", "org_meta"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE substr(scope, 1, length(?1)) = ?1"),
                [prefix],
            )?;
        }
        tx.commit()
    }
}

fn clear_days(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    scope: &str,
    days: &[i64],
) -> rusqlite::Result<()> {
    let mut del = tx.prepare_cached(&format!(
        "DELETE FROM {table} WHERE scope = ?1 AND day = ?2"
    ))?;
    for day in days {
        del.execute(params![scope, day])?;
    }
    Ok(())
}

fn mark(
    tx: &rusqlite::Transaction<'_>,
    scope: &str,
    dataset: &str,
    days: &[i64],
    at: i64,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO org_fetched (scope, dataset, day, fetched_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (scope, dataset, day) DO UPDATE SET fetched_at = excluded.fetched_at",
    )?;
    for day in days {
        stmt.execute(params![scope, dataset, day, at])?;
    }
    Ok(())
}
