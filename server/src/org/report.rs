//! From cached rows to what the client shows: the range's days (every day, zeros included),
//! grouped and filtered, totals per group, the filter lists, and the month-end forecast. Sums
//! are integers (nano-dollars, tokens); dollars become floats only in the result.

use std::collections::{BTreeMap, BTreeSet};

use super::forecast::{self, MonthToDate};
use super::{HISTORY_DAYS, MAX_RANGE_DAYS, OrgError, days};
use crate::ledger::db::org::{CostCell, UsageCell};
use crate::protocol::{
    CostDay, CostGroup, CostsGroupBy, Forecast, ForecastDay, OrgCostsParams, OrgCostsResult,
    OrgUsageParams, OrgUsageResult, TokenCounts, UsageDay, UsageGroup, UsageGroupBy,
};
use crate::providers::org_api::Counts;

/// The days asked for: `[first, last]`, UTC.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub first: i64,
    pub last: i64,
}

impl Range {
    pub fn parse(from: &str, to: &str) -> Result<Range, OrgError> {
        let day = |s: &str, field: &str| {
            days::parse(s).ok_or_else(|| {
                OrgError::Params(format!("{field}: expected a date YYYY-MM-DD, got “{s}”"))
            })
        };
        let (first, last) = (day(from, "from")?, day(to, "to")?);
        if first > last {
            return Err(OrgError::Params(format!("from: {from} is after to ({to})")));
        }
        if last - first >= MAX_RANGE_DAYS {
            return Err(OrgError::Params(format!(
                "to: at most {MAX_RANGE_DAYS} days at a time"
            )));
        }
        Ok(Range { first, last })
    }

    /// The forecast is for the month of `to`, while that month is the current one.
    pub fn forecasts(&self, today: i64) -> bool {
        days::month_of(self.last) == days::month_of(today)
    }
}

/// Sums saturate: a hostile provider's amounts must not wrap into a plausible bill.
fn add_nanos(a: &mut i64, b: i64) {
    *a = a.saturating_add(b);
}

fn sum(values: impl Iterator<Item = i64>) -> i64 {
    values.fold(0, i64::saturating_add)
}

fn usd(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

fn wanted(filter: &Option<Vec<String>>, key: &str) -> bool {
    filter
        .as_ref()
        .is_none_or(|f| f.is_empty() || f.iter().any(|k| k == key))
}

/// Groups largest first, then by key.
fn ranked<T>(groups: BTreeMap<String, T>, amount: impl Fn(&T) -> i64) -> Vec<(String, T)> {
    let mut v: Vec<(String, T)> = groups.into_iter().collect();
    v.sort_by(|a, b| amount(&b.1).cmp(&amount(&a.1)).then_with(|| a.0.cmp(&b.0)));
    v
}

pub fn costs(
    p: &OrgCostsParams,
    range: Range,
    rows: &[CostCell],
    forecast_today: Option<i64>,
) -> OrgCostsResult {
    let by = p.group_by.unwrap_or(CostsGroupBy::Project);
    let mut projects = BTreeSet::new();
    let mut items = BTreeSet::new();
    let mut per_day: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    let mut day_totals: BTreeMap<i64, i64> = BTreeMap::new();
    for (day, project, item, nanos) in rows {
        let in_range = (range.first..=range.last).contains(day);
        if in_range {
            projects.insert(project.clone());
            items.insert(item.clone());
        }
        if !wanted(&p.project_ids, project) || !wanted(&p.line_items, item) {
            continue;
        }
        add_nanos(day_totals.entry(*day).or_default(), *nanos);
        if in_range {
            let key = match by {
                CostsGroupBy::Project => project,
                CostsGroupBy::LineItem => item,
            };
            add_nanos(
                per_day
                    .entry(*day)
                    .or_default()
                    .entry(key.clone())
                    .or_default(),
                *nanos,
            );
        }
    }
    let mut range_groups: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0i64;
    let days_out = (range.first..=range.last)
        .map(|day| {
            let groups = per_day.remove(&day).unwrap_or_default();
            let day_total = sum(groups.values().copied());
            add_nanos(&mut total, day_total);
            for (k, v) in &groups {
                add_nanos(range_groups.entry(k.clone()).or_default(), *v);
            }
            CostDay {
                date: days::format(day),
                total: usd(day_total),
                groups: ranked(groups, |n| *n)
                    .into_iter()
                    .map(|(key, n)| CostGroup {
                        key,
                        amount: usd(n),
                    })
                    .collect(),
            }
        })
        .collect();
    let forecast = forecast_today.map(|today| month_forecast(&day_totals, today));
    OrgCostsResult {
        currency: "usd".into(),
        total: usd(total),
        days: days_out,
        groups: ranked(range_groups, |n| *n)
            .into_iter()
            .map(|(key, n)| CostGroup {
                key,
                amount: usd(n),
            })
            .collect(),
        forecast,
        spend_limit: None,
        budget_usd: None,
        fetched_at: 0,
        requests: 0,
        projects: projects.into_iter().collect(),
        line_items: items.into_iter().collect(),
    }
}

fn month_forecast(day_totals: &BTreeMap<i64, i64>, today: i64) -> Forecast {
    let at = |d: i64| day_totals.get(&d).copied().unwrap_or(0);
    let (month_first, month_last) = days::month_of(today);
    let history: Vec<i64> = (today - HISTORY_DAYS..today).map(at).collect();
    let p = forecast::project(&MonthToDate {
        history: &history,
        today,
        spent_today: at(today),
        spent_before_today: sum((month_first..today).map(at)),
        month_last,
    });
    Forecast {
        month_end: usd(p.month_end),
        low: usd(p.low),
        high: usd(p.high),
        method: p.method,
        spent_so_far: usd(sum((month_first..=today).map(at))),
        days: p
            .days
            .into_iter()
            .map(|(d, e, l, h)| ForecastDay {
                date: days::format(d),
                expected: usd(e),
                low: usd(l),
                high: usd(h),
            })
            .collect(),
    }
}

fn counts(c: &Counts) -> TokenCounts {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    TokenCounts {
        input_tokens: u(c.input),
        cached_input_tokens: u(c.cached_input),
        output_tokens: u(c.output),
        requests: u(c.requests),
    }
}

fn add(a: &mut Counts, b: &Counts) {
    a.input = a.input.saturating_add(b.input);
    a.cached_input = a.cached_input.saturating_add(b.cached_input);
    a.output = a.output.saturating_add(b.output);
    a.requests = a.requests.saturating_add(b.requests);
}

pub fn usage(p: &OrgUsageParams, range: Range, rows: &[UsageCell]) -> OrgUsageResult {
    let by = p.group_by.unwrap_or(UsageGroupBy::Model);
    let mut models = BTreeSet::new();
    let mut projects = BTreeSet::new();
    let mut per_day: BTreeMap<i64, BTreeMap<String, Counts>> = BTreeMap::new();
    for (day, project, model, c) in rows {
        if !(range.first..=range.last).contains(day) {
            continue;
        }
        models.insert(model.clone());
        projects.insert(project.clone());
        if !wanted(&p.project_ids, project) || !wanted(&p.models, model) {
            continue;
        }
        let key = match by {
            UsageGroupBy::Model => model,
            UsageGroupBy::Project => project,
        };
        add(
            per_day
                .entry(*day)
                .or_default()
                .entry(key.clone())
                .or_default(),
            c,
        );
    }
    let mut totals = Counts::default();
    let mut range_groups: BTreeMap<String, Counts> = BTreeMap::new();
    let days_out = (range.first..=range.last)
        .map(|day| {
            let groups = per_day.remove(&day).unwrap_or_default();
            let mut day_total = Counts::default();
            for (k, c) in &groups {
                add(&mut day_total, c);
                add(range_groups.entry(k.clone()).or_default(), c);
            }
            add(&mut totals, &day_total);
            UsageDay {
                date: days::format(day),
                counts: counts(&day_total),
                groups: ranked(groups, |c| c.input.saturating_add(c.output))
                    .into_iter()
                    .map(|(key, c)| UsageGroup {
                        key,
                        counts: counts(&c),
                    })
                    .collect(),
            }
        })
        .collect();
    OrgUsageResult {
        days: days_out,
        totals: counts(&totals),
        groups: ranked(range_groups, |c| c.input.saturating_add(c.output))
            .into_iter()
            .map(|(key, c)| UsageGroup {
                key,
                counts: counts(&c),
            })
            .collect(),
        models: models.into_iter().collect(),
        projects: projects.into_iter().collect(),
        fetched_at: 0,
        requests: 0,
    }
}
