//! OpenAI's organization Usage and Costs APIs (`/v1/organization/costs`,
//! `/v1/organization/usage/completions`) over a deterministic organization: three projects and
//! work outside any project, four line items, two models, every day. Pages, grouping, filters
//! and the admin-key check follow the API reference (`openai/openai-openapi`, operations
//! `usage-costs` and `usage-completions`); amounts are decimals with up to six places, as the
//! real API's floats are. Tests compute what the sidecar must show from [`org_cost`] and
//! [`org_usage`], summed in integers.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::chat::pretty;
use crate::errors;
use crate::script::{HttpError, Reply};
use crate::server::{Shared, lock};

/// The admin key the fake accepts unless told otherwise.
pub const DEFAULT_ADMIN_KEY: &str = "sk-admin-fake-0000ADMN";

/// The organization's projects; `None` is usage outside any project.
pub const ORG_PROJECTS: [Option<&str>; 4] = [
    Some("proj_alpha"),
    Some("proj_beta"),
    Some("proj_gamma"),
    None,
];

pub const ORG_LINE_ITEMS: [&str; 4] = [
    "gpt-4o-mini, input",
    "gpt-4o-mini, output",
    "gpt-4o, input",
    "gpt-4o, output",
];

pub const ORG_MODELS: [&str; 2] = ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"];

const DAY: i64 = 86_400;

/// The cost of one line item of one project on one UTC day (days since 1970-01-01), in
/// micro-dollars; `None` where the organization had none (about one in five).
pub fn org_cost(day: i64, project: usize, line_item: usize) -> Option<i64> {
    let seed = day * 7919 + project as i64 * 104_729 + line_item as i64 * 1_299_709;
    if seed.rem_euclid(5) == 0 {
        return None;
    }
    Some(seed.rem_euclid(2_000_000) + 1)
}

/// One day's completions usage of a project and model: input, cached input, output tokens and
/// requests; `None` where there was none.
pub fn org_usage(day: i64, project: usize, model: usize) -> Option<[i64; 4]> {
    let seed = day * 31 + project as i64 * 17 + model as i64 * 5;
    if seed.rem_euclid(7) == 0 {
        return None;
    }
    let requests = seed.rem_euclid(40) + 1;
    let input = requests * (900 + seed.rem_euclid(300));
    Some([input, input / 4, requests * 210, requests])
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `GET /v1/organization/…` for `key`: the admin-key check, a scripted reply if one is
/// queued, then the data.
pub(crate) fn route(shared: &Shared, path: &str, query: Option<&str>, key: &str) -> Reply {
    let config = &shared.config;
    if key.is_empty() {
        return errors::missing_api_key();
    }
    if !config.admin_keys.iter().any(|k| k == key) {
        // A project key is a real key without the organization scopes; anything else is no key.
        return if config.valid_keys.iter().any(|k| k == key) {
            missing_usage_scope()
        } else {
            errors::invalid_api_key(key)
        };
    }
    lock(&shared.org_requests).push(path.to_owned());
    if let Some(Some(reply)) = lock(&shared.org_queue).pop_front() {
        return reply;
    }
    let q = Query::parse(query.unwrap_or(""));
    match path {
        "/v1/organization/costs" => costs(&q, 180),
        "/v1/organization/usage/completions" => usage(&q, 31),
        "/v1/organization/spend_limit" => match config.spend_limit_usd {
            Some(v) => Reply::Error(HttpError::json(
                200,
                pretty(&json!({ "object": "organization.spend_limit", "hard_limit_usd": v })),
            )),
            None => errors::invalid_url("GET", path),
        },
        _ => errors::invalid_url("GET", path),
    }
}

/// What a project key gets from the organization endpoints.
pub fn missing_usage_scope() -> Reply {
    errors::openai_error(
        401,
        "You have insufficient permissions for this operation. Missing scopes: api.usage.read. Check that you have the correct role in your organization (Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        "invalid_request_error",
        None,
        None,
    )
    .into()
}

/// A 429 from the organization endpoints, with `retry-after` in seconds.
pub fn org_rate_limited(retry_after_s: u32) -> Reply {
    let mut e = errors::openai_error(
        429,
        "Rate limit reached for organization usage requests. Please try again later.",
        "requests",
        None,
        Some("rate_limit_exceeded"),
    );
    e.headers
        .push(("retry-after".into(), retry_after_s.to_string()));
    e.into()
}

/// The query string, with repeated keys and `key[]` arrays as the SDKs send them.
struct Query(BTreeMap<String, Vec<String>>);

impl Query {
    fn parse(raw: &str) -> Query {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode(k);
            let k = k.strip_suffix("[]").unwrap_or(&k).to_owned();
            map.entry(k).or_default().push(decode(v));
        }
        Query(map)
    }

    fn one(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }

    fn many(&self, k: &str) -> Vec<String> {
        self.0
            .get(k)
            .map(|v| {
                v.iter()
                    .flat_map(|s| s.split(','))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bad(message: &str, param: &str) -> Reply {
    errors::openai_error(400, message, "invalid_request_error", Some(param), None).into()
}

/// The buckets a request asks for: start, end (exclusive) and the page's first bucket.
struct Window {
    first: i64,
    end: i64,
    limit: i64,
}

fn window(q: &Query, max_limit: i64) -> Result<Window, Reply> {
    let Some(start) = q.one("start_time").and_then(|s| s.parse::<i64>().ok()) else {
        return Err(bad(
            "Missing required parameter: 'start_time'.",
            "start_time",
        ));
    };
    if q.one("bucket_width").is_some_and(|w| w != "1d") {
        return Err(bad(
            "Invalid bucket_width: only '1d' is supported.",
            "bucket_width",
        ));
    }
    let limit = match q.one("limit").map(str::parse::<i64>) {
        None => 7,
        Some(Ok(l)) if (1..=max_limit).contains(&l) => l,
        Some(_) => {
            return Err(bad(
                &format!("Invalid 'limit': must be between 1 and {max_limit}."),
                "limit",
            ));
        }
    };
    let end = q
        .one("end_time")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(now_s)
        .min(now_s() + DAY);
    let first = match q.one("page") {
        Some(p) => match p.strip_prefix("page_").and_then(|t| t.parse::<i64>().ok()) {
            Some(t) if t >= start => t,
            _ => return Err(bad("Invalid 'page' cursor.", "page")),
        },
        None => start,
    };
    Ok(Window { first, end, limit })
}

/// One page of buckets, each `results` built by `results(bucket_start)`.
fn page(w: &Window, mut results: impl FnMut(i64) -> Vec<Value>) -> Reply {
    let mut data = Vec::new();
    let mut t = w.first;
    while t < w.end && (data.len() as i64) < w.limit {
        data.push(json!({
            "object": "bucket",
            "start_time": t,
            "end_time": t + DAY,
            "results": results(t),
        }));
        t += DAY;
    }
    let has_more = t < w.end;
    let body = json!({
        "object": "page",
        "data": data,
        "has_more": has_more,
        "next_page": has_more.then(|| format!("page_{t}")),
    });
    Reply::Error(HttpError::json(200, pretty(&body)))
}

fn costs(q: &Query, max_limit: i64) -> Reply {
    let w = match window(q, max_limit) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let group = q.many("group_by");
    let by_project = group.iter().any(|g| g == "project_id");
    let by_item = group.iter().any(|g| g == "line_item");
    let projects = q.many("project_ids");
    page(&w, |t| {
        let day = t.div_euclid(DAY);
        let mut sums: BTreeMap<(Option<&str>, Option<&str>), i64> = BTreeMap::new();
        for (pi, p) in ORG_PROJECTS.iter().enumerate() {
            if !projects.is_empty() && !p.is_some_and(|p| projects.iter().any(|x| x == p)) {
                continue;
            }
            for (li, item) in ORG_LINE_ITEMS.iter().enumerate() {
                if let Some(micros) = org_cost(day, pi, li) {
                    let key = (p.filter(|_| by_project), by_item.then_some(*item));
                    *sums.entry(key).or_default() += micros;
                }
            }
        }
        sums.into_iter()
            .map(|((p, item), micros)| {
                json!({
                    "object": "organization.costs.result",
                    "amount": { "value": micros as f64 / 1e6, "currency": "usd" },
                    "line_item": item,
                    "project_id": p,
                })
            })
            .collect()
    })
}

fn usage(q: &Query, max_limit: i64) -> Reply {
    let w = match window(q, max_limit) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let group = q.many("group_by");
    let by_project = group.iter().any(|g| g == "project_id");
    let by_model = group.iter().any(|g| g == "model");
    let projects = q.many("project_ids");
    let models = q.many("models");
    page(&w, |t| {
        let day = t.div_euclid(DAY);
        let mut sums: BTreeMap<(Option<&str>, Option<&str>), [i64; 4]> = BTreeMap::new();
        for (pi, p) in ORG_PROJECTS.iter().enumerate() {
            if !projects.is_empty() && !p.is_some_and(|p| projects.iter().any(|x| x == p)) {
                continue;
            }
            for (mi, m) in ORG_MODELS.iter().enumerate() {
                if !models.is_empty() && !models.iter().any(|x| x == m) {
                    continue;
                }
                if let Some(u) = org_usage(day, pi, mi) {
                    let key = (p.filter(|_| by_project), by_model.then_some(*m));
                    let s = sums.entry(key).or_default();
                    for i in 0..4 {
                        s[i] += u[i];
                    }
                }
            }
        }
        sums.into_iter()
            .map(|((p, m), [input, cached, output, requests])| {
                json!({
                    "object": "organization.usage.completions.result",
                    "input_tokens": input,
                    "output_tokens": output,
                    "input_cached_tokens": cached,
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": requests,
                    "project_id": p,
                    "user_id": null,
                    "api_key_id": null,
                    "model": m,
                    "batch": null,
                    "service_tier": null,
                })
            })
            .collect()
    })
}
