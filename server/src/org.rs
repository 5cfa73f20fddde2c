//! Organization usage and costs: an admin key's view of the whole organization's bill, read
//! from the provider's organization API (`providers/org_api.rs`), cached day by day in the
//! ledger's database, grouped, filtered and forecast for the client. Knows no provider.
//!
//! Caching: a day that ended and was fetched after it ended is never fetched again; today and
//! yesterday (costs settle late) are fetched again once their copy is older than
//! [`RECENT_TTL_MS`], or on `refresh`. Stale days are fetched as contiguous runs, a page at a
//! time; each page is stored (and its days marked fetched) in one transaction before the
//! next is asked for, so a failure or a cancel keeps every page already stored and the next
//! call resumes where this one stopped.

pub mod days;
pub mod forecast;
mod ingest;
mod report;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::connections::AdminConnection;
use crate::failure::{Category, ProviderError};
use crate::http::Http;
use crate::ledger::{Ledger, Store};
use crate::protocol::{
    OrgCostsParams, OrgCostsResult, OrgDataset, OrgSyncParams, OrgUsageParams, OrgUsageResult,
};
use crate::settings::Settings;

/// How long a copy of today or yesterday serves before it is fetched again.
pub const RECENT_TTL_MS: i64 = 15 * 60 * 1000;
/// The longest range one request may ask for.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Complete days the forecast learns from.
pub const HISTORY_DAYS: i64 = 28;

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// The client's request is wrong; names the field.
    #[error("{0}")]
    Params(String),
    /// The provider refused or could not be reached, after `attempts` attempts.
    #[error("{error}")]
    Provider { error: ProviderError, attempts: u32 },
    #[error("the organization cache failed: {0}")]
    Cache(String),
}

type IngestLock = Arc<tokio::sync::Mutex<()>>;

pub struct Org {
    /// Records every organization call, as every provider call is.
    ledger: Ledger,
    /// Where the data is cached: the ledger's database, or one in memory when the ledger is
    /// off (the data must still pass through a database to be grouped).
    cache: Store,
    /// One ingestion per organization and dataset at a time: a second caller waits and then
    /// finds the days fresh.
    locks: Mutex<HashMap<(String, OrgDataset), IngestLock>>,
    progress: mpsc::UnboundedSender<OrgSyncParams>,
}

impl Org {
    pub fn new(ledger: Ledger, progress: mpsc::UnboundedSender<OrgSyncParams>) -> Org {
        Org {
            cache: Store::new(ledger.clone()),
            ledger,
            locks: Mutex::new(HashMap::new()),
            progress,
        }
    }

    async fn cache(&self) -> &Ledger {
        self.cache.ledger().await
    }

    fn lock_for(&self, organization: &str, dataset: OrgDataset) -> IngestLock {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks
            .entry((organization.to_string(), dataset))
            .or_default()
            .clone()
    }

    /// Runs `f` on the cache's database thread; a thread that is gone is a cache failure,
    /// never an empty answer that would show as $0.
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::ledger::db::Db) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, OrgError> {
        match self.cache().await.with_db(f).await {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(OrgError::Cache(e.to_string())),
            None => Err(OrgError::Cache("the database thread has stopped".into())),
        }
    }

    /// Checks an admin key with one small read of the last day's costs.
    pub async fn validate(
        &self,
        conn: &AdminConnection,
        http: &Http,
        settings: &Settings,
    ) -> Result<(), ProviderError> {
        let today = days::today();
        let range = crate::providers::org_api::DayRange {
            first: today - 1,
            end: today + 1,
        };
        let checked = ingest::costs_page(self, conn, http, settings, range, None).await;
        match checked {
            Ok(_) => Ok(()),
            // A project key refused as "incorrect": the user pasted the wrong kind of key, and
            // `admin_key_required` says what the right one is.
            Err(ProviderError::Api(mut f))
                if f.category == Category::InvalidKey
                    && conn
                        .endpoint
                        .key
                        .as_ref()
                        .is_some_and(|k| !conn.api.looks_like_admin_key(k.expose())) =>
            {
                f.category = Category::AdminKeyRequired;
                Err(ProviderError::Api(f))
            }
            Err(e) => Err(e),
        }
    }

    /// A newly connected admin key may belong to another organization: nothing cached for
    /// this organization, under any key, is trusted. Waits for a running ingestion, so that
    /// none of its pages lands after the clearing.
    pub async fn forget(&self, conn: &AdminConnection) {
        let organization = conn.organization();
        let costs = self.lock_for(&organization, OrgDataset::Costs);
        let usage = self.lock_for(&organization, OrgDataset::Usage);
        let _costs = costs.lock().await;
        let _usage = usage.lock().await;
        if let Err(e) = self.db(move |db| db.org_clear(&organization)).await {
            tracing::warn!("organization cache: could not clear: {e}");
        }
    }

    pub async fn costs(
        &self,
        conn: &AdminConnection,
        p: OrgCostsParams,
        http: &Http,
        settings: &Settings,
    ) -> Result<OrgCostsResult, OrgError> {
        let range = report::Range::parse(&p.from, &p.to)?;
        let today = days::today();
        let forecast = range.forecasts(today);
        let first = if forecast {
            range
                .first
                .min(today - HISTORY_DAYS)
                .min(days::month_of(today).0)
        } else {
            range.first
        };
        let last = range
            .last
            .max(if forecast { today } else { i64::MIN })
            .min(today);
        let sync = ingest::ensure(
            self,
            conn,
            http,
            settings,
            OrgDataset::Costs,
            first,
            last,
            p.refresh,
        )
        .await?;
        let limit = ingest::spend_limit(self, conn, http, settings, p.refresh).await;
        let scope = conn.scope();
        let rows = self.db(move |db| db.org_costs(&scope, first, last)).await?;
        let mut result = report::costs(&p, range, &rows, forecast.then_some(today));
        result.spend_limit = limit.spend_limit.map(|n| n as f64 / 1e9);
        result.budget_usd = settings.budget_monthly_nanos.map(|n| n as f64 / 1e9);
        result.requests = sync.requests + limit.requests;
        result.fetched_at = fetched_at(&sync.fetched, range, today);
        Ok(result)
    }

    pub async fn usage(
        &self,
        conn: &AdminConnection,
        p: OrgUsageParams,
        http: &Http,
        settings: &Settings,
    ) -> Result<OrgUsageResult, OrgError> {
        let range = report::Range::parse(&p.from, &p.to)?;
        let today = days::today();
        let last = range.last.min(today);
        let sync = ingest::ensure(
            self,
            conn,
            http,
            settings,
            OrgDataset::Usage,
            range.first,
            last,
            p.refresh,
        )
        .await?;
        let scope = conn.scope();
        let first = range.first;
        let rows = self.db(move |db| db.org_usage(&scope, first, last)).await?;
        let mut result = report::usage(&p, range, &rows);
        result.requests = sync.requests;
        result.fetched_at = fetched_at(&sync.fetched, range, today);
        Ok(result)
    }
}

/// How current the range's data is: the oldest copy of a day that may still change (today,
/// yesterday); for a range of settled days only, when its newest copy was fetched.
fn fetched_at(fetched: &HashMap<i64, i64>, range: report::Range, today: i64) -> i64 {
    let in_range = || {
        fetched
            .iter()
            .filter(move |(d, _)| (range.first..=range.last).contains(*d))
    };
    in_range()
        .filter(|(d, _)| **d >= today - 1)
        .map(|(_, at)| *at)
        .min()
        .or_else(|| in_range().map(|(_, at)| *at).max())
        .unwrap_or_else(crate::ledger::now_ms)
}
