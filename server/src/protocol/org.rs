//! Organization usage and costs: the admin key, and the organization's daily costs and
//! completions usage, read from the provider's organization APIs and cached in the ledger.

use serde::{Deserialize, Serialize};

/// Params of `sidekick/connectAdmin`. Its `Debug` leaves the key out.
#[derive(Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectAdminParams {
    pub provider: String,
    pub admin_key: String,
    /// The organization ID sent as `OpenAI-Organization`, when the key belongs to several.
    #[serde(default)]
    pub organization: Option<String>,
}

impl std::fmt::Debug for ConnectAdminParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectAdminParams")
            .field("provider", &self.provider)
            .field("organization", &self.organization)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectAdminResult {
    pub provider: String,
    pub admin_connected: bool,
    pub admin_key_hint: Option<String>,
}

/// Params of `sidekick/disconnectAdmin`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectAdminParams {
    pub provider: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectAdminResult {
    pub provider: String,
    /// True only when `OPENAI_ADMIN_KEY` still supplies one.
    pub admin_connected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CostsGroupBy {
    Project,
    LineItem,
}

/// Params of `sidekick/orgCosts`. Dates are UTC days, `to` inclusive.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgCostsParams {
    pub provider: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub group_by: Option<CostsGroupBy>,
    #[serde(default)]
    pub project_ids: Option<Vec<String>>,
    #[serde(default)]
    pub line_items: Option<Vec<String>>,
    #[serde(default)]
    pub refresh: bool,
}

/// One group's amount on one day (or over the range). `key` is `""` for costs outside any
/// project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostGroup {
    pub key: String,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostDay {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub total: f64,
    pub groups: Vec<CostGroup>,
}

/// One remaining day of the month: cumulative spend expected by its end, with the band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForecastDay {
    pub date: String,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    /// Spend expected by the end of the month of `to`.
    pub month_end: f64,
    pub low: f64,
    pub high: f64,
    /// How it was computed (docs/org-costs.md).
    pub method: String,
    /// Spent from the first of the month to today.
    pub spent_so_far: f64,
    /// From today to the month's last day.
    pub days: Vec<ForecastDay>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgCostsResult {
    pub currency: String,
    pub total: f64,
    /// Every day of the range, days without costs included.
    pub days: Vec<CostDay>,
    /// The range's totals per group, largest first.
    pub groups: Vec<CostGroup>,
    pub forecast: Option<Forecast>,
    /// The organization's hard monthly limit, when the provider says.
    pub spend_limit: Option<f64>,
    /// The monthly budget of the `budget.monthlyUsd` setting.
    pub budget_usd: Option<f64>,
    /// When the oldest data shown was fetched (Unix ms).
    pub fetched_at: i64,
    /// HTTP requests this call made (0 when served from the cache).
    pub requests: u32,
    /// Every project and line item in the range, for filters.
    pub projects: Vec<String>,
    pub line_items: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UsageGroupBy {
    Model,
    Project,
}

/// Params of `sidekick/orgUsage`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgUsageParams {
    pub provider: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub group_by: Option<UsageGroupBy>,
    #[serde(default)]
    pub models: Option<Vec<String>>,
    #[serde(default)]
    pub project_ids: Option<Vec<String>>,
    #[serde(default)]
    pub refresh: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenCounts {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub requests: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageGroup {
    pub key: String,
    #[serde(flatten)]
    pub counts: TokenCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageDay {
    pub date: String,
    #[serde(flatten)]
    pub counts: TokenCounts,
    pub groups: Vec<UsageGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgUsageResult {
    pub days: Vec<UsageDay>,
    pub totals: TokenCounts,
    pub groups: Vec<UsageGroup>,
    pub models: Vec<String>,
    pub projects: Vec<String>,
    pub fetched_at: i64,
    pub requests: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrgDataset {
    Costs,
    Usage,
}

/// Params of `sidekick/orgSync`: ingestion progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSyncParams {
    pub provider: String,
    pub dataset: OrgDataset,
    pub pages_done: u32,
    pub pages_total: u32,
    pub done: bool,
}
