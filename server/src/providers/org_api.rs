//! What a provider's organization API offers the organization service (`org.rs`): daily cost
//! and usage buckets, a page at a time, and the organization's spend limit, in neutral terms.
//! OpenAI's is `openai_org.rs`; Anthropic's Admin API would be another.

use futures_util::future::BoxFuture;

use super::Call;
use crate::failure::ProviderError;

/// One cost line of one day: nano-dollars, exact as the provider's decimal allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostRow {
    /// `""` outside any project.
    pub project: String,
    pub line_item: String,
    pub nanos: i64,
}

/// One day's usage of one project and model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub input: i64,
    pub cached_input: i64,
    pub output: i64,
    pub requests: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub project: String,
    pub model: String,
    pub counts: Counts,
}

/// One page of daily buckets: (UTC day number, rows), and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub buckets: Vec<(i64, Vec<T>)>,
    pub next: Option<String>,
}

/// Days `[first, end)` as UTC day numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub first: i64,
    pub end: i64,
}

pub trait OrgApi: Send + Sync {
    /// The environment variable whose admin key wins over the stored one.
    fn admin_key_var(&self) -> &'static str;
    /// Where an organization owner creates admin keys.
    fn admin_keys_url(&self) -> &'static str;
    /// Whether `key` has the shape of an admin key (OpenAI's start `sk-admin-`): a refused key
    /// of another shape was a project key, which is a different mistake.
    fn looks_like_admin_key(&self, key: &str) -> bool;
    /// Buckets per page the API allows, for costs and for usage.
    fn page_days(&self, usage: bool) -> i64;
    /// One page of daily costs by project and line item. `call` carries the admin key.
    fn costs_page<'a>(
        &'a self,
        call: &'a Call<'a>,
        days: DayRange,
        page: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page<CostRow>, ProviderError>>;
    /// One page of daily completions usage by project and model.
    fn usage_page<'a>(
        &'a self,
        call: &'a Call<'a>,
        days: DayRange,
        page: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page<UsageRow>, ProviderError>>;
    /// The organization's hard monthly limit in nano-dollars; None when the API has none.
    fn spend_limit<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Option<i64>, ProviderError>>;
}
