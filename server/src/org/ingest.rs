//! Fetching what the cache lacks: the stale days as contiguous runs, page by page, each page
//! stored before the next is asked for; every request recorded in the ledger, retried when the
//! failure is temporary (waiting what `retry-after` says, up to the retry settings), and its
//! progress sent as `sidekick/orgSync`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use backon::Retryable;

use super::{Org, OrgError, RECENT_TTL_MS, days};
use crate::connections::AdminConnection;
use crate::failure::ProviderError;
use crate::http::Http;
use crate::http::SeenSlot;
use crate::ledger::{CallRecord, now_ms};
use crate::protocol::{LedgerOperation, OrgDataset, OrgSyncParams};
use crate::providers::Call;
use crate::providers::org_api::{CostRow, DayRange, Page, UsageRow};
use crate::settings::Settings;

const DAY_MS: i64 = days::SECONDS * 1000;

/// What an `ensure` did.
pub struct Synced {
    pub requests: u32,
    /// When each day of the range was last fetched (Unix ms, at the start of its request).
    pub fetched: HashMap<i64, i64>,
}

/// One request, recorded in the ledger (with what `seen` kept of its response), retried while
/// the failure is temporary.
async fn with_retries<T, F, Fut>(
    org: &Org,
    conn: &AdminConnection,
    settings: &Settings,
    requests: &mut u32,
    seen: &SeenSlot,
    mut once: F,
) -> Result<T, OrgError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let max_wait = settings.retry_max_wait;
    let backoff = crate::backoff::policy(settings);
    let mut attempts = 0u32;
    let outcome = (|| {
        attempts += 1;
        *requests += 1;
        let record = CallRecord::start(
            (conn.spec.id, conn.spec.otel_name),
            &conn.endpoint.base_url,
            LedgerOperation::Usage,
        );
        let call = once();
        async move {
            let result = call.await;
            let record = record.seen(seen.take());
            org.ledger.record(match &result {
                Ok(_) => record.ok(),
                Err(e) => record.failed(e),
            });
            result
        }
    })
    .retry(backoff)
    .when(ProviderError::is_retryable)
    .adjust(|e: &ProviderError, backoff: Option<Duration>| {
        crate::backoff::wait(e, backoff, max_wait)
    })
    .notify(|e: &ProviderError, delay: Duration| {
        tracing::info!(
            "organization call: retrying in {} ms: {e}",
            delay.as_millis()
        );
    })
    .await;
    outcome.map_err(|error| OrgError::Provider { error, attempts })
}

pub async fn costs_page(
    org: &Org,
    conn: &AdminConnection,
    http: &Http,
    settings: &Settings,
    range: DayRange,
    page: Option<&str>,
) -> Result<Page<CostRow>, ProviderError> {
    let mut requests = 0;
    let call = Call::new(http, &conn.endpoint, settings);
    // Validation is one request: no retries, its failure is the answer.
    let once = Settings {
        retry_max_attempts: 1,
        ..settings.clone()
    };
    with_retries(org, conn, &once, &mut requests, &call.seen, || {
        conn.api.costs_page(&call, range, page)
    })
    .await
    .map_err(|e| match e {
        OrgError::Provider { error, .. } => error,
        other => ProviderError::Unexpected(other.to_string()),
    })
}

/// One page of either dataset, stored with the days it covers.
enum Fetched {
    Costs(Page<CostRow>),
    Usage(Page<UsageRow>),
}

impl Fetched {
    fn next(&self) -> Option<String> {
        match self {
            Fetched::Costs(p) => p.next.clone(),
            Fetched::Usage(p) => p.next.clone(),
        }
    }

    fn days(&self) -> Vec<i64> {
        match self {
            Fetched::Costs(p) => p.buckets.iter().map(|b| b.0).collect(),
            Fetched::Usage(p) => p.buckets.iter().map(|b| b.0).collect(),
        }
    }

    /// Keeps only the buckets inside `run` (a hostile server may send others).
    fn within(&mut self, run: DayRange) {
        let inside = |d: i64| d >= run.first && d < run.end;
        match self {
            Fetched::Costs(p) => p.buckets.retain(|b| inside(b.0)),
            Fetched::Usage(p) => p.buckets.retain(|b| inside(b.0)),
        }
    }
}

fn dataset_name(d: OrgDataset) -> &'static str {
    match d {
        OrgDataset::Costs => "costs",
        OrgDataset::Usage => "usage",
    }
}

/// The days in `[first, last]` that must be fetched, as contiguous runs.
pub fn stale_runs(
    first: i64,
    last: i64,
    fetched: &HashMap<i64, i64>,
    today: i64,
    now: i64,
    refresh: bool,
) -> Vec<DayRange> {
    let stale = |d: i64| match fetched.get(&d) {
        None => true,
        // Today and yesterday settle late: fetched again once the copy is old.
        Some(&at) if d >= today - 1 => refresh || now - at > RECENT_TTL_MS,
        // An older day is settled once a request for it started after it stopped being
        // yesterday: a copy read just after midnight may still be missing late costs.
        Some(&at) => at < (d + 2) * DAY_MS,
    };
    let mut runs: Vec<DayRange> = Vec::new();
    for d in first..=last {
        if !stale(d) {
            continue;
        }
        match runs.last_mut() {
            Some(r) if r.end == d => r.end = d + 1,
            _ => runs.push(DayRange {
                first: d,
                end: d + 1,
            }),
        }
    }
    runs
}

/// Makes the cache hold every day of `[first, last]` (last ≤ today) fresh. Progress goes out
/// as `sidekick/orgSync`, ending with `done: true` whether the run succeeded or not.
#[allow(clippy::too_many_arguments)]
pub async fn ensure(
    org: &Org,
    conn: &AdminConnection,
    http: &Http,
    settings: &Settings,
    dataset: OrgDataset,
    first: i64,
    last: i64,
    refresh: bool,
) -> Result<Synced, OrgError> {
    let lock = org.lock_for(&conn.organization(), dataset);
    let _one_at_a_time = lock.lock().await;
    let scope = conn.scope();
    let name = dataset_name(dataset);
    let read_fetched = || {
        let scope = scope.clone();
        org.db(move |db| db.org_fetched(&scope, name, first, last))
    };
    let fetched: HashMap<i64, i64> = read_fetched().await?.into_iter().collect();
    let runs = stale_runs(first, last, &fetched, days::today(), now_ms(), refresh);
    let per_page = conn.api.page_days(dataset == OrgDataset::Usage);
    let pages_total: u32 = runs
        .iter()
        .map(|r| ((r.end - r.first + per_page - 1) / per_page) as u32)
        .sum();
    // Sends `done: true` when dropped: after the last page, a failure, or a cancel.
    let mut progress = Progress {
        org,
        conn,
        dataset,
        done: 0,
        total: pages_total,
    };
    let mut requests = 0u32;
    if !runs.is_empty() {
        progress.send(false);
    }
    let call = Call::new(http, &conn.endpoint, settings);
    let outcome = async {
        for run in runs {
            fetch_run(
                org,
                conn,
                &call,
                settings,
                dataset,
                run,
                &scope,
                &mut requests,
                &mut progress,
            )
            .await?;
        }
        Ok::<(), OrgError>(())
    }
    .await;
    drop(progress);
    outcome?;
    Ok(Synced {
        requests,
        fetched: read_fetched().await?.into_iter().collect(),
    })
}

/// Pages done of pages expected, sent as `sidekick/orgSync`; the last one, `done: true`, when
/// dropped, so that a client's progress ends however the ingestion did.
struct Progress<'a> {
    org: &'a Org,
    conn: &'a AdminConnection,
    dataset: OrgDataset,
    done: u32,
    total: u32,
}

impl Progress<'_> {
    fn send(&mut self, done: bool) {
        self.total = self.total.max(self.done);
        let _ = self.org.progress.send(OrgSyncParams {
            provider: self.conn.spec.id.into(),
            dataset: self.dataset,
            pages_done: self.done,
            pages_total: self.total,
            done,
        });
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        if self.total > 0 {
            self.send(true);
        }
    }
}

/// Follows one run's pages to the last, storing each before asking for the next.
#[allow(clippy::too_many_arguments)]
async fn fetch_run(
    org: &Org,
    conn: &AdminConnection,
    call: &Call<'_>,
    settings: &Settings,
    dataset: OrgDataset,
    run: DayRange,
    scope: &str,
    requests: &mut u32,
    progress: &mut Progress<'_>,
) -> Result<(), OrgError> {
    let mut cursor: Option<String> = None;
    let mut seen_cursors: HashSet<String> = HashSet::new();
    let mut covered: HashSet<i64> = HashSet::new();
    // Every page but the last brings at least one day a well-behaved server had not sent
    // yet; a server that keeps paging past that is not followed for ever.
    let max_pages = run.end - run.first + 2;
    for _ in 0..max_pages {
        let page = cursor.as_deref();
        // The fetch time is the request's start: a day's copy is no newer than that.
        let at = now_ms();
        let mut fetched = match dataset {
            OrgDataset::Costs => Fetched::Costs(
                with_retries(org, conn, settings, requests, &call.seen, || {
                    conn.api.costs_page(call, run, page)
                })
                .await?,
            ),
            OrgDataset::Usage => Fetched::Usage(
                with_retries(org, conn, settings, requests, &call.seen, || {
                    conn.api.usage_page(call, run, page)
                })
                .await?,
            ),
        };
        fetched.within(run);
        let next = fetched.next();
        let mut page_days = fetched.days();
        if next.is_none() {
            // The last page: days the provider sent no bucket for had nothing.
            page_days.extend((run.first..run.end).filter(|d| !covered.contains(d)));
        }
        page_days.sort_unstable();
        page_days.dedup();
        covered.extend(page_days.iter().copied());
        let scope = scope.to_string();
        org.db(move |db| match fetched {
            Fetched::Costs(p) => db.org_store_costs(&scope, &p.buckets, &page_days, at),
            Fetched::Usage(p) => db.org_store_usage(&scope, &p.buckets, &page_days, at),
        })
        .await?;
        progress.done += 1;
        progress.send(false);
        match next {
            None => return Ok(()),
            Some(n) if !seen_cursors.insert(n.clone()) => {
                return Err(unexpected(conn, "sent a page cursor it had sent before"));
            }
            Some(n) => cursor = Some(n),
        }
    }
    Err(unexpected(
        conn,
        &format!(
            "kept sending pages past {max_pages} for {} days",
            run.end - run.first
        ),
    ))
}

/// A provider that pages wrongly: what was stored stays, the rest is fetched next time.
fn unexpected(conn: &AdminConnection, what: &str) -> OrgError {
    OrgError::Provider {
        error: ProviderError::Unexpected(format!("{}'s organization API {what}", conn.spec.name)),
        attempts: 1,
    }
}

/// The organization's hard limit: read once, then only on refresh (a limit changes rarely,
/// and a month's view must stay within two requests after its first load).
pub struct Limit {
    pub spend_limit: Option<i64>,
    pub requests: u32,
}

pub async fn spend_limit(
    org: &Org,
    conn: &AdminConnection,
    http: &Http,
    settings: &Settings,
    refresh: bool,
) -> Limit {
    let scope = conn.scope();
    let s = scope.clone();
    let cached = org
        .db(move |db| db.org_meta(&s, "spend_limit"))
        .await
        .ok()
        .flatten();
    if let Some((value, _)) = cached
        && !refresh
    {
        return Limit {
            spend_limit: value,
            requests: 0,
        };
    }
    let call = Call::new(http, &conn.endpoint, settings);
    let mut requests = 0;
    let once = Settings {
        retry_max_attempts: 1,
        ..settings.clone()
    };
    let at = now_ms();
    // No limit shown beats a view that fails for it: a failure counts as none until the next
    // refresh.
    let value = with_retries(org, conn, &once, &mut requests, &call.seen, || {
        conn.api.spend_limit(&call)
    })
    .await
    .unwrap_or_else(|e| {
        tracing::info!("organization spend limit not read: {e}");
        None
    });
    if let Err(e) = org
        .db(move |db| db.org_set_meta(&scope, "spend_limit", value, at))
        .await
    {
        tracing::warn!("{e}");
    }
    Limit {
        spend_limit: value,
        requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settled_days_are_never_fetched_again_and_recent_ones_expire() {
        let today = 20_000;
        let now = today * DAY_MS + 10 * 3_600_000;
        let mut fetched = HashMap::new();
        // Days 19_990..=19_996 fetched once they were no longer yesterday; 19_997 just after
        // midnight, while it was yesterday (its late costs may be missing); 19_998 while it
        // was today.
        for d in 19_990..=19_996 {
            fetched.insert(d, (d + 2) * DAY_MS);
        }
        fetched.insert(19_997, 19_998 * DAY_MS + 60_000);
        fetched.insert(19_998, 19_998 * DAY_MS + 1000);
        // Yesterday and today fetched a minute ago.
        fetched.insert(19_999, now - 60_000);
        fetched.insert(20_000, now - 60_000);
        let runs = stale_runs(19_985, today, &fetched, today, now, false);
        assert_eq!(
            runs,
            vec![
                DayRange {
                    first: 19_985,
                    end: 19_990
                },
                DayRange {
                    first: 19_997,
                    end: 19_999
                },
            ]
        );
        // Later, or on refresh, yesterday and today go again; settled days never.
        let later = stale_runs(
            19_990,
            today,
            &fetched,
            today,
            now + RECENT_TTL_MS + 1,
            false,
        );
        assert_eq!(
            later,
            vec![DayRange {
                first: 19_997,
                end: 20_001
            }]
        );
        let refreshed = stale_runs(19_999, today, &fetched, today, now, true);
        assert_eq!(
            refreshed,
            vec![DayRange {
                first: 19_999,
                end: 20_001
            }]
        );
    }
}
