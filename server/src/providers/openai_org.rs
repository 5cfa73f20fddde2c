//! OpenAI's organization Usage and Costs APIs, read with an Admin API key:
//! `GET /organization/costs` (daily buckets by `project_id` and `line_item`, `limit` ≤ 180)
//! and `GET /organization/usage/completions` (by `project_id` and `model`, `limit` ≤ 31),
//! paged by `next_page` while `has_more`. Arrays go in the query as the SDKs send them
//! (`group_by[]=…`). A project key is refused with "Missing scopes: api.usage.read": that is
//! `AdminKeyRequired`, not a wrong key.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

use super::Call;
use super::openai_wire::{self, OPENAI};
use super::org_api::{CostRow, Counts, DayRange, OrgApi, Page, UsageRow};
use crate::failure::{ApiFailure, Category, ProviderError, RawFailure, classify_transport};
use crate::http::Operation;
use crate::secrets::ApiKey;

pub struct OpenAiOrg;

const DAY_SECONDS: i64 = 86_400;

#[derive(Deserialize)]
struct WirePage<T> {
    data: Vec<WireBucket<T>>,
    /// Required by the spec; a page that leaves it out does not say it is the last.
    #[serde(default)]
    has_more: Option<bool>,
    #[serde(default)]
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct WireBucket<T> {
    start_time: i64,
    /// The API answers `results`; the OpenAPI spec's `UsageTimeBucket` names it `result`.
    #[serde(default = "Vec::new", alias = "result")]
    results: Vec<T>,
}

#[derive(Deserialize)]
struct WireCost {
    amount: Option<WireAmount>,
    #[serde(default)]
    line_item: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
}

#[derive(Deserialize)]
struct WireAmount {
    #[serde(default)]
    value: Option<WireUsd>,
}

/// The spec says a number; live answers have also carried it as a decimal string ("12.50").
#[derive(Deserialize)]
#[serde(untagged)]
enum WireUsd {
    Number(f64),
    Text(String),
}

impl WireUsd {
    /// Nano-dollars, or None for text that is not a number.
    fn nanos(&self) -> Option<i64> {
        match self {
            WireUsd::Number(n) => Some(nanos(*n)),
            WireUsd::Text(t) => t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(nanos),
        }
    }
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: i64,
    #[serde(default)]
    input_cached_tokens: i64,
    #[serde(default)]
    output_tokens: i64,
    #[serde(default)]
    num_model_requests: i64,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    model: Option<String>,
}

/// The largest amount one row may carry, in dollars: far above any real day's line item,
/// and small enough that sums of a year of rows stay exact integers.
pub const MAX_ROW_USD: f64 = 1e9;
/// The largest token or request count one row may carry.
pub const MAX_ROW_COUNT: i64 = 1_000_000_000_000_000;

/// A dollar amount as nano-dollars: the API sends floats, summed here as integers.
fn nanos(usd: f64) -> i64 {
    if usd.is_finite() {
        (usd.clamp(-MAX_ROW_USD, MAX_ROW_USD) * 1e9).round() as i64
    } else {
        0
    }
}

fn count(n: i64) -> i64 {
    n.clamp(0, MAX_ROW_COUNT)
}

/// The refusal as OpenAI words it, and a missing scope is the wrong kind of key.
pub fn classify(raw: &RawFailure<'_>) -> ApiFailure {
    let mut f = openai_wire::classify(raw);
    if matches!(raw.status, 401 | 403) && needs_admin_key(f.message.as_deref()) {
        f.category = Category::AdminKeyRequired;
    }
    f
}

fn needs_admin_key(message: Option<&str>) -> bool {
    let m = message.unwrap_or_default().to_ascii_lowercase();
    m.contains("missing scopes")
        || m.contains("api.usage.read")
        || m.contains("insufficient permissions")
        || m.contains("admin key")
}

/// A group key as shown and stored: one clean line (the provider's text is untrusted).
fn text(v: &Option<String>) -> String {
    v.as_deref()
        .map(|s| crate::untrusted::clean(s, 200, true))
        .unwrap_or_default()
}

/// `GET base/path?query` with the admin key, its refusal classified by [`classify`].
async fn get(
    call: &Call<'_>,
    path: &str,
    query: &[(&str, String)],
) -> Result<bytes::Bytes, ProviderError> {
    let client = call.http.client().await?;
    let mut url = url::Url::parse(&call.url(path))
        .map_err(|e| ProviderError::Unexpected(format!("bad URL {}: {e}", call.url(path))))?;
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let request = client
        .get(url)
        .headers(openai_wire::headers(call, &OPENAI))
        .build()
        .map_err(|e| classify_transport(&e))?;
    call.http
        .send_for_body(
            Operation::Usage,
            request,
            call.timeouts(),
            call.key(),
            &classify,
            &call.seen,
        )
        .await
}

/// A page of buckets from its body; `key` is masked out of an error a 200 carries.
fn parse_page<T: for<'de> Deserialize<'de>>(
    body: &[u8],
    url: &str,
    key: Option<&str>,
) -> Result<Page<T>, ProviderError> {
    // serde's message quotes the offending value, which is the server's text: not repeated.
    let page: WirePage<T> =
        serde_json::from_slice(body).map_err(|_| match serde_json::from_slice::<Value>(body) {
            Ok(v) if v.get("error").is_some() => {
                ProviderError::api_failure(openai_wire::classify_value(&v, Some(200)).masked(key))
            }
            _ => ProviderError::Unexpected(format!(
                "{url} answered with something that is not a page of buckets"
            )),
        })?;
    let cursor = page.next_page.filter(|n| !n.is_empty());
    // Only a page that says it is the last one lets the days it did not mention count as
    // empty; a page that promises more without a cursor would leave them unfetched.
    let next = match (page.has_more, cursor) {
        (Some(false), _) => None,
        (Some(true) | None, Some(c)) => Some(c),
        (Some(true), None) => {
            return Err(ProviderError::Unexpected(format!(
                "{url} said more pages follow but sent no cursor for them"
            )));
        }
        (None, None) => {
            return Err(ProviderError::Unexpected(format!(
                "{url} did not say whether more pages follow"
            )));
        }
    };
    let buckets = page
        .data
        .into_iter()
        .map(|b| (b.start_time.div_euclid(DAY_SECONDS), b.results))
        .collect();
    Ok(Page { buckets, next })
}

/// A costs page as [`OrgApi::costs_page`] returns it, from its body (for the fuzz target).
pub fn parse_costs_page(
    body: &[u8],
    url: &str,
    key: Option<&str>,
) -> Result<Page<CostRow>, ProviderError> {
    let Page { buckets, next } = parse_page::<WireCost>(body, url, key)?;
    let buckets = buckets
        .into_iter()
        .map(|(day, rows)| {
            let rows = rows
                .into_iter()
                .map(|r| {
                    let nanos = match r.amount.and_then(|a| a.value) {
                        None => 0,
                        // A day stored as $0 would be settled for good: refuse the page.
                        Some(v) => v.nanos().ok_or_else(|| {
                            ProviderError::Unexpected(format!(
                                "{url} sent an amount that is not a number"
                            ))
                        })?,
                    };
                    Ok(CostRow {
                        project: text(&r.project_id),
                        line_item: text(&r.line_item),
                        nanos,
                    })
                })
                .collect::<Result<_, ProviderError>>()?;
            Ok((day, rows))
        })
        .collect::<Result<_, ProviderError>>()?;
    Ok(Page { buckets, next })
}

/// A usage page as [`OrgApi::usage_page`] returns it, from its body (for the fuzz target).
pub fn parse_usage_page(
    body: &[u8],
    url: &str,
    key: Option<&str>,
) -> Result<Page<UsageRow>, ProviderError> {
    let Page { buckets, next } = parse_page::<WireUsage>(body, url, key)?;
    let buckets = buckets
        .into_iter()
        .map(|(day, rows)| {
            let rows = rows
                .into_iter()
                .map(|r| UsageRow {
                    project: text(&r.project_id),
                    model: text(&r.model),
                    counts: Counts {
                        input: count(r.input_tokens),
                        cached_input: count(r.input_cached_tokens),
                        output: count(r.output_tokens),
                        requests: count(r.num_model_requests),
                    },
                })
                .collect();
            (day, rows)
        })
        .collect();
    Ok(Page { buckets, next })
}

fn window(days: DayRange, limit: i64, page: Option<&str>) -> Vec<(&'static str, String)> {
    let mut q = vec![
        ("start_time", (days.first * DAY_SECONDS).to_string()),
        ("end_time", (days.end * DAY_SECONDS).to_string()),
        ("bucket_width", "1d".to_string()),
        ("limit", limit.min(days.end - days.first).max(1).to_string()),
    ];
    if let Some(p) = page {
        q.push(("page", p.to_string()));
    }
    q
}

impl OrgApi for OpenAiOrg {
    fn admin_key_var(&self) -> &'static str {
        "OPENAI_ADMIN_KEY"
    }

    fn admin_keys_url(&self) -> &'static str {
        "https://platform.openai.com/settings/organization/admin-keys"
    }

    fn looks_like_admin_key(&self, key: &str) -> bool {
        key.starts_with("sk-admin-")
    }

    fn page_days(&self, usage: bool) -> i64 {
        if usage { 31 } else { 180 }
    }

    fn costs_page<'a>(
        &'a self,
        call: &'a Call<'a>,
        days: DayRange,
        page: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page<CostRow>, ProviderError>> {
        async move {
            let mut q = window(days, self.page_days(false), page);
            q.push(("group_by[]", "project_id".into()));
            q.push(("group_by[]", "line_item".into()));
            let path = "/organization/costs";
            let body = get(call, path, &q).await?;
            parse_costs_page(&body, &call.url(path), call.key().map(ApiKey::expose))
        }
        .boxed()
    }

    fn usage_page<'a>(
        &'a self,
        call: &'a Call<'a>,
        days: DayRange,
        page: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page<UsageRow>, ProviderError>> {
        async move {
            let mut q = window(days, self.page_days(true), page);
            q.push(("group_by[]", "project_id".into()));
            q.push(("group_by[]", "model".into()));
            let path = "/organization/usage/completions";
            let body = get(call, path, &q).await?;
            parse_usage_page(&body, &call.url(path), call.key().map(ApiKey::expose))
        }
        .boxed()
    }

    fn spend_limit<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Option<i64>, ProviderError>> {
        async move {
            let body = match get(call, "/organization/spend_limit", &[]).await {
                Ok(b) => b,
                // Not in the published API: most organizations get a 404, which means "none".
                Err(ProviderError::Api(f)) if f.status == Some(404) => return Ok(None),
                Err(e) => return Err(e),
            };
            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
            let usd = ["hard_limit_usd", "hard_limit", "value"]
                .iter()
                .find_map(|k| v.get(k).and_then(Value::as_f64))
                .or_else(|| v.pointer("/amount/value").and_then(Value::as_f64));
            Ok(usd.filter(|u| u.is_finite() && *u > 0.0).map(nanos))
        }
        .boxed()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_exact_nanos() {
        assert_eq!(nanos(0.06), 60_000_000);
        assert_eq!(nanos(1.999999), 1_999_999_000);
        assert_eq!(nanos(f64::NAN), 0);
        assert_eq!(nanos(1e300), 1_000_000_000_000_000_000);
        assert_eq!(nanos(-1e300), -1_000_000_000_000_000_000);
        assert_eq!(count(i64::MAX), MAX_ROW_COUNT);
    }

    #[test]
    fn amounts_may_be_numbers_or_decimal_strings_and_buckets_name_results_either_way() {
        let body = br#"{"object":"page","data":[
            {"object":"bucket","start_time":1730419200,"end_time":1730505600,"results":[
                {"object":"organization.costs.result","amount":{"value":"12.50","currency":"usd"},"line_item":null,"project_id":null},
                {"object":"organization.costs.result","amount":{"value":0.06,"currency":"usd"},"line_item":"gpt-4o, input","project_id":"proj_a"}]},
            {"object":"bucket","start_time":1730505600,"end_time":1730592000,"result":[
                {"object":"organization.costs.result","amount":{"value":" 0.000000001 ","currency":"usd"},"line_item":null,"project_id":null}]}],
            "has_more":false,"next_page":null}"#;
        let page = parse_costs_page(body, "u", None).unwrap();
        let nanos: Vec<Vec<i64>> = page
            .buckets
            .iter()
            .map(|(_, rows)| rows.iter().map(|r| r.nanos).collect())
            .collect();
        assert_eq!(nanos, vec![vec![12_500_000_000, 60_000_000], vec![1]]);
        assert_eq!(page.buckets[1].0, 1730505600 / DAY_SECONDS);

        let bad = br#"{"data":[{"start_time":0,"results":[{"amount":{"value":"n/a"}}]}],"has_more":false}"#;
        assert!(matches!(
            parse_costs_page(bad, "u", None),
            Err(ProviderError::Unexpected(m)) if m.contains("not a number")
        ));
    }

    #[test]
    fn a_missing_scope_is_an_admin_key_matter() {
        let h = reqwest::header::HeaderMap::new();
        let body = br#"{"error":{"message":"You have insufficient permissions for this operation. Missing scopes: api.usage.read.","type":"invalid_request_error","param":null,"code":null}}"#;
        for status in [401, 403] {
            let f = classify(&RawFailure {
                status,
                headers: &h,
                body,
            });
            assert_eq!(f.category, Category::AdminKeyRequired, "{status}");
        }
        let wrong = br#"{"error":{"message":"Incorrect API key provided: sk-admin***ABCD.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let f = classify(&RawFailure {
            status: 401,
            headers: &h,
            body: wrong,
        });
        assert_eq!(f.category, Category::InvalidKey);
    }
}
