//! Organization usage and costs through the real binary and the fake's organization API:
//! totals exact across pages and months, the cache that makes a second view free, a failure
//! in the middle that keeps what was stored, the admin key a project key is not, retry-after,
//! and the admin key in no file, log or message.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use fake_providers::organization::{
    DEFAULT_ADMIN_KEY, ORG_LINE_ITEMS, ORG_MODELS, ORG_PROJECTS, org_cost, org_rate_limited,
    org_usage,
};
use fake_providers::{FakeHandle, FakeProvider, errors};
use serde_json::{Value, json};
use support::{Options, Sidecar, VALID_KEY, all_files_text, guidance};

const DAY: i64 = 86_400;

fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / DAY
}

/// `YYYY-MM-DD` of a UTC day number, by the system's `date`.
fn date(day: i64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d", "-d", &format!("@{}", day * DAY)])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn start(home: &std::path::Path, fake: &FakeHandle, init: Value) -> Sidecar {
    let mut opts = Options::new(home);
    opts.openai_base_url = Some(fake.base_url());
    opts.init = init;
    opts.remove_env.push("OPENAI_ADMIN_KEY".into());
    Sidecar::start(opts).await
}

/// A sidecar with the fake's admin key connected, and its home and fake.
async fn admin_sidecar() -> (Sidecar, FakeHandle, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    connect_admin(&s, DEFAULT_ADMIN_KEY).await.unwrap();
    (s, fake, home)
}

async fn connect_admin(s: &Sidecar, key: &str) -> Result<Value, lsp_server::ResponseError> {
    s.request(
        "sidekick/connectAdmin",
        json!({ "provider": "openai", "adminKey": key }),
    )
    .await
}

fn project_key(i: usize) -> String {
    ORG_PROJECTS[i].unwrap_or("").to_string()
}

/// What the fake's organization spent per day and project, in micro-dollars.
fn expected_costs(
    first: i64,
    last: i64,
    projects: Option<&[&str]>,
) -> BTreeMap<i64, BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for day in first..=last {
        let mut groups = BTreeMap::new();
        for pi in 0..ORG_PROJECTS.len() {
            if projects.is_some_and(|ps| !ps.contains(&project_key(pi).as_str())) {
                continue;
            }
            for li in 0..ORG_LINE_ITEMS.len() {
                if let Some(m) = org_cost(day, pi, li) {
                    *groups.entry(project_key(pi)).or_insert(0) += m;
                }
            }
        }
        out.insert(day, groups);
    }
    out
}

fn micros(m: i64) -> f64 {
    m as f64 / 1e6
}

fn assert_costs(result: &Value, first: i64, expected: &BTreeMap<i64, BTreeMap<String, i64>>) {
    let days = result["days"].as_array().unwrap();
    assert_eq!(days.len(), expected.len());
    let mut total = 0;
    for (i, (day, groups)) in expected.iter().enumerate() {
        let d = &days[i];
        assert_eq!(d["date"], date(first + i as i64));
        assert_eq!(*day, first + i as i64);
        let day_total: i64 = groups.values().sum();
        total += day_total;
        assert_eq!(
            d["total"].as_f64().unwrap(),
            micros(day_total),
            "{}",
            d["date"]
        );
        let got: BTreeMap<String, f64> = d["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["key"].as_str().unwrap().to_string(),
                    g["amount"].as_f64().unwrap(),
                )
            })
            .collect();
        let want: BTreeMap<String, f64> = groups
            .iter()
            .map(|(k, m)| (k.clone(), micros(*m)))
            .collect();
        assert_eq!(got, want, "{}", d["date"]);
    }
    assert_eq!(result["total"].as_f64().unwrap(), micros(total));
}

fn org_calls(fake: &FakeHandle, path: &str) -> usize {
    fake.org_requests()
        .iter()
        .filter(|p| p.ends_with(path))
        .count()
}

#[tokio::test]
async fn costs_are_exact_across_pages_and_months_and_the_second_view_is_free() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder()
        .spend_limit(Some(120.0))
        .start()
        .await
        .unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    let r = connect_admin(&s, &format!("  {DEFAULT_ADMIN_KEY}\n"))
        .await
        .unwrap();
    assert_eq!(r["adminConnected"], true);
    assert!(r["adminKeyHint"].as_str().unwrap().contains("ADMN"));
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    let openai = &state["providers"][0];
    assert_eq!(openai["id"], "openai");
    assert_eq!(openai["adminConnected"], true);
    assert_eq!(openai["supportsAdmin"], true);
    assert_eq!(openai["connected"], false, "an admin key is not a chat key");
    let validations = org_calls(&fake, "/costs");
    assert_eq!(validations, 1);

    // 200 days: more than the 180 buckets of one page, across seven months.
    let (first, last) = (today() - 199, today());
    let params = json!({ "provider": "openai", "from": date(first), "to": date(last) });
    let r = s
        .request("sidekick/orgCosts", params.clone())
        .await
        .unwrap();
    assert_costs(&r, first, &expected_costs(first, last, None));
    assert_eq!(org_calls(&fake, "/costs") - validations, 2, "two pages");
    assert_eq!(r["requests"], 3, "two pages and the spend limit");
    assert_eq!(r["spendLimit"], 120.0);
    assert_eq!(r["currency"], "usd");
    let projects: Vec<&str> = r["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(projects, vec!["", "proj_alpha", "proj_beta", "proj_gamma"]);
    assert_eq!(
        r["lineItems"].as_array().unwrap().len(),
        ORG_LINE_ITEMS.len()
    );
    let f = &r["forecast"];
    assert!(f["monthEnd"].as_f64().unwrap() >= f["spentSoFar"].as_f64().unwrap());
    assert!(f["low"].as_f64().unwrap() <= f["monthEnd"].as_f64().unwrap());
    assert!(f["high"].as_f64().unwrap() >= f["monthEnd"].as_f64().unwrap());
    assert!(f["method"].as_str().unwrap().contains("theil-sen"));
    // Progress: pages done of the pages needed, then done.
    let sync = s.notifications_named("sidekick/orgSync");
    let last_sync = sync.last().unwrap();
    assert_eq!(last_sync["dataset"], "costs");
    assert_eq!(last_sync["pagesDone"], 2);
    assert_eq!(last_sync["pagesTotal"], 2);
    assert_eq!(last_sync["done"], true);

    // Served from the cache: no request at all.
    let before = fake.org_requests().len();
    let again = s
        .request("sidekick/orgCosts", params.clone())
        .await
        .unwrap();
    assert_eq!(again["requests"], 0);
    assert_eq!(fake.org_requests().len(), before);
    assert_eq!(again["days"], r["days"]);

    // Grouped by line item and filtered to one project, still exact and still free.
    let r = s
        .request(
            "sidekick/orgCosts",
            json!({ "provider": "openai", "from": date(first), "to": date(last),
                    "groupBy": "lineItem", "projectIds": ["proj_beta"] }),
        )
        .await
        .unwrap();
    assert_eq!(r["requests"], 0);
    let beta = expected_costs(first, last, Some(&["proj_beta"]));
    let total: i64 = beta.values().flat_map(|g| g.values()).sum();
    assert_eq!(r["total"].as_f64().unwrap(), micros(total));
    let mut by_item = BTreeMap::new();
    for day in first..=last {
        for (li, item) in ORG_LINE_ITEMS.iter().enumerate() {
            if let Some(m) = org_cost(day, 1, li) {
                *by_item.entry((*item).to_string()).or_insert(0) += m;
            }
        }
    }
    let got: BTreeMap<String, f64> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["amount"].as_f64().unwrap(),
            )
        })
        .collect();
    let want: BTreeMap<String, f64> = by_item
        .iter()
        .map(|(k, m)| (k.clone(), micros(*m)))
        .collect();
    assert_eq!(got, want);

    // A refresh asks again for today and yesterday only: one small request, and the limit.
    let r = s
        .request(
            "sidekick/orgCosts",
            json!({ "provider": "openai", "from": date(first), "to": date(last), "refresh": true }),
        )
        .await
        .unwrap();
    assert_eq!(r["requests"], 2);
    // Last month's range has no forecast.
    let (lm_first, lm_last) = (today() - 80, today() - 60);
    let r = s
        .request(
            "sidekick/orgCosts",
            json!({ "provider": "openai", "from": date(lm_first), "to": date(lm_last) }),
        )
        .await
        .unwrap();
    assert_eq!(r["forecast"], Value::Null);
    assert_eq!(r["requests"], 0);
}

#[tokio::test]
async fn usage_is_exact_and_a_failure_in_the_middle_keeps_the_stored_pages() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(
        home.path(),
        &fake,
        json!({ "retry": { "maxAttempts": 1, "maxWaitMs": 1000 } }),
    )
    .await;
    connect_admin(&s, DEFAULT_ADMIN_KEY).await.unwrap();
    // 100 days of usage: four pages of 31. The third fails.
    let (first, last) = (today() - 99, today());
    fake.pass_org_requests(2);
    fake.push_org_reply(errors::server_error_500());
    let params = json!({ "provider": "openai", "from": date(first), "to": date(last),
                         "groupBy": "model", "projectIds": ["proj_alpha", ""] });
    let e = s
        .request("sidekick/orgUsage", params.clone())
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "server_error");
    assert_eq!(org_calls(&fake, "/usage/completions"), 3);
    // The next call asks only for what is missing: 38 days, two pages.
    let r = s.request("sidekick/orgUsage", params).await.unwrap();
    assert_eq!(r["requests"], 2);
    assert_eq!(org_calls(&fake, "/usage/completions"), 5);
    let mut totals = [0i64; 4];
    let mut by_model: BTreeMap<String, i64> = BTreeMap::new();
    for day in first..=last {
        for pi in [0usize, 3] {
            for (mi, m) in ORG_MODELS.iter().enumerate() {
                if let Some(u) = org_usage(day, pi, mi) {
                    for k in 0..4 {
                        totals[k] += u[k];
                    }
                    *by_model.entry((*m).to_string()).or_insert(0) += u[0];
                }
            }
        }
    }
    let t = &r["totals"];
    assert_eq!(t["inputTokens"], totals[0]);
    assert_eq!(t["cachedInputTokens"], totals[1]);
    assert_eq!(t["outputTokens"], totals[2]);
    assert_eq!(t["requests"], totals[3]);
    let got: BTreeMap<String, i64> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["inputTokens"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, by_model);
    assert_eq!(r["days"].as_array().unwrap().len(), 100);
    let models: Vec<&str> = r["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(models, ORG_MODELS.to_vec().tap_sorted());
}

trait Sorted {
    fn tap_sorted(self) -> Self;
}

impl<T: Ord> Sorted for Vec<T> {
    fn tap_sorted(mut self) -> Self {
        self.sort();
        self
    }
}

#[tokio::test]
async fn a_project_key_is_not_an_admin_key_and_nothing_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    // No admin key yet: the view's call says what one is.
    let e = s
        .request(
            "sidekick/orgCosts",
            json!({ "provider": "openai", "from": date(today() - 3), "to": date(today()) }),
        )
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "admin_key_required");
    assert!(g["detail"].as_str().unwrap().contains("organization owner"));
    // The chat key offered as an admin key.
    let e = connect_admin(&s, VALID_KEY).await.unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "admin_key_required");
    assert_eq!(g["httpStatus"], 401);
    let actions = g["actions"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a["command"] == "sidekick.connectOrganization")
    );
    assert!(
        actions
            .iter()
            .any(|a| a["url"].as_str().is_some_and(|u| u.contains("admin-keys")))
    );
    // A key that is no key at all.
    let e = connect_admin(&s, "sk-admin-wrong-0000ZZZZ")
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "invalid_key");
    // Empty and malformed params: clear errors, no request.
    let before = fake.requests().len();
    let e = connect_admin(&s, "   ").await.unwrap_err();
    assert_eq!(e.code, -32602);
    let e = s
        .request(
            "sidekick/connectAdmin",
            json!({ "provider": "anthropic", "adminKey": "x" }),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("openai"), "{}", e.message);
    assert_eq!(fake.requests().len(), before);
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    assert_eq!(state["providers"][0]["adminConnected"], false);
    assert!(!all_files_text(home.path()).contains("sk-admin-wrong"));
    // Bad dates.
    connect_admin(&s, DEFAULT_ADMIN_KEY).await.unwrap();
    for (from, to) in [
        ("2026-02-30", "2026-03-01"),
        ("2026-03-05", "2026-03-01"),
        ("yesterday", "2026-03-01"),
    ] {
        let e = s
            .request(
                "sidekick/orgCosts",
                json!({ "provider": "openai", "from": from, "to": to }),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, -32602, "{from}..{to}");
    }
}

#[tokio::test]
async fn a_rate_limit_waits_what_retry_after_says() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(
        home.path(),
        &fake,
        json!({ "retry": { "maxAttempts": 3, "maxWaitMs": 5000 } }),
    )
    .await;
    connect_admin(&s, DEFAULT_ADMIN_KEY).await.unwrap();
    fake.push_org_reply(org_rate_limited(1));
    let r = s
        .request(
            "sidekick/orgCosts",
            json!({ "provider": "openai", "from": date(today() - 5), "to": date(today() - 2) }),
        )
        .await
        .unwrap();
    assert_eq!(
        r["requests"], 3,
        "the refused page, its retry, the spend limit"
    );
    let org: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|q| q.path == "/v1/organization/costs")
        .collect();
    let (refused, retried) = (&org[org.len() - 2], &org[org.len() - 1]);
    assert!(retried.at.duration_since(refused.at) >= Duration::from_millis(950));
    // A wait longer than the user allows is not waited: the guidance says when.
    fake.push_org_reply(org_rate_limited(60));
    let e = s
        .request(
            "sidekick/orgCosts",
            json!({ "provider": "openai", "from": date(today() - 40), "to": date(today() - 30) }),
        )
        .await
        .unwrap_err();
    let g = guidance(&e);
    assert_eq!(g["kind"], "rate_limited");
    assert_eq!(g["retryAfterMs"], 60_000);
}

#[tokio::test]
async fn the_admin_key_is_in_no_file_log_or_message_and_never_meets_the_chat_key() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.env.push(("RUST_LOG".into(), "trace".into()));
    opts.remove_env.push("OPENAI_ADMIN_KEY".into());
    let s = Sidecar::start(opts).await;
    s.connect_openai("gpt-4o-mini").await;
    connect_admin(&s, DEFAULT_ADMIN_KEY).await.unwrap();
    s.request(
        "sidekick/orgCosts",
        json!({ "provider": "openai", "from": date(today() - 10), "to": date(today()) }),
    )
    .await
    .unwrap();
    s.request(
        "sidekick/chat",
        json!({ "chatId": "c1", "messages": [{ "role": "user", "content": "hi" }] }),
    )
    .await
    .unwrap();
    for r in fake.requests() {
        let auth = r.headers.get("authorization").cloned().unwrap_or_default();
        if r.path.starts_with("/v1/organization/") {
            assert_eq!(auth, format!("Bearer {DEFAULT_ADMIN_KEY}"), "{}", r.path);
        } else {
            assert!(!auth.contains(DEFAULT_ADMIN_KEY), "{}", r.path);
        }
    }
    let secret = DEFAULT_ADMIN_KEY;
    assert!(
        !all_files_text(home.path()).contains(secret),
        "a file holds the admin key"
    );
    assert!(
        !s.stdout_raw().contains(secret),
        "a message carries the admin key"
    );
    let (_, stderr) = s.shutdown().await;
    assert!(!stderr.contains(secret), "the log carries the admin key");
}

#[tokio::test]
async fn the_environment_admin_key_wins_and_disconnect_forgets_the_stored_one() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder()
        .admin_keys(["sk-admin-env-0000ENVK", DEFAULT_ADMIN_KEY])
        .start()
        .await
        .unwrap();
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.env
        .push(("OPENAI_ADMIN_KEY".into(), "sk-admin-env-0000ENVK".into()));
    let s = Sidecar::start(opts).await;
    let state = s
        .request("sidekick/listProviders", json!({}))
        .await
        .unwrap();
    let openai = &state["providers"][0];
    assert_eq!(openai["adminConnected"], true);
    assert_eq!(openai["adminKeySource"], "env");
    s.request(
        "sidekick/orgCosts",
        json!({ "provider": "openai", "from": date(today() - 1), "to": date(today()) }),
    )
    .await
    .unwrap();
    let last = fake
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/v1/organization/costs")
        .unwrap();
    assert_eq!(
        last.headers["authorization"],
        "Bearer sk-admin-env-0000ENVK"
    );
    drop(s);

    // Stored, then disconnected: gone from the keychain and the state.
    let home = tempfile::tempdir().unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    connect_admin(&s, DEFAULT_ADMIN_KEY).await.unwrap();
    let r = s
        .request("sidekick/disconnectAdmin", json!({ "provider": "openai" }))
        .await
        .unwrap();
    assert_eq!(r["adminConnected"], false);
    let e = s
        .request(
            "sidekick/orgCosts",
            json!({ "provider": "openai", "from": date(today() - 1), "to": date(today()) }),
        )
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "admin_key_required");
}

#[tokio::test]
async fn a_cancelled_ingestion_keeps_its_pages_and_the_next_call_resumes() {
    let (s, fake, _home) = admin_sidecar().await;
    // 100 days of usage: four pages of 31. The second never answers.
    let (first, last) = (today() - 99, today());
    fake.pass_org_requests(1);
    fake.push_org_reply(fake_providers::Reply::HangBeforeHeaders);
    let params = json!({ "provider": "openai", "from": date(first), "to": date(last) });
    let (id, rx) = s.start_request("sidekick/orgUsage", params.clone());
    let progress = s
        .wait_notification(Duration::from_secs(10), |m, p| {
            m == "sidekick/orgSync" && p["pagesDone"] == 1 && p["pagesTotal"] == 4
        })
        .await;
    assert!(progress.is_some(), "the first page was reported");
    assert!(
        fake.wait_requests(3, Duration::from_secs(10)).await,
        "the second page was asked for"
    );
    s.cancel(id);
    let e = support::finish(rx).await.unwrap_err();
    assert_eq!(e.code, -32800, "cancelled: {e:?}");
    let ended = s
        .wait_notification(Duration::from_secs(10), |m, p| {
            m == "sidekick/orgSync" && p["done"] == true && p["pagesDone"] == 1
        })
        .await;
    assert!(ended.is_some(), "a cancelled ingestion's progress ends");
    // The first page stayed: three pages are left, and the totals are whole.
    let r = s.request("sidekick/orgUsage", params).await.unwrap();
    assert_eq!(r["requests"], 3);
    let mut input = 0;
    for day in first..=last {
        for pi in 0..ORG_PROJECTS.len() {
            for mi in 0..ORG_MODELS.len() {
                input += org_usage(day, pi, mi).map_or(0, |u| u[0]);
            }
        }
    }
    assert_eq!(r["totals"]["inputTokens"], input);
}

#[tokio::test]
async fn a_refused_key_that_is_no_admin_key_is_told_what_an_admin_key_is() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeProvider::builder().start().await.unwrap();
    let s = start(home.path(), &fake, json!({})).await;
    // An unknown project-shaped key: OpenAI says "Incorrect API key", but the mistake is the
    // kind of key.
    let e = connect_admin(&s, "sk-proj-unknown-0000PROJ")
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "admin_key_required");
    let e = connect_admin(&s, "sk-admin-unknown-0000ZZZZ")
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "invalid_key");
}

/// A page of usage buckets as the fake would not send it: `buckets` are (day, input tokens).
fn usage_page(buckets: &[(i64, i64)], has_more: Value, next_page: Value) -> fake_providers::Reply {
    let data: Vec<Value> = buckets
        .iter()
        .map(|&(day, input)| {
            json!({ "object": "bucket", "start_time": day * DAY, "end_time": (day + 1) * DAY,
                    "results": [{ "object": "organization.usage.completions.result",
                                  "input_tokens": input, "output_tokens": 1,
                                  "input_cached_tokens": 0, "num_model_requests": 1,
                                  "project_id": "proj_hostile", "model": "gpt-hostile" }] })
        })
        .collect();
    let mut body = json!({ "object": "page", "data": data, "has_more": has_more });
    if !next_page.is_null() {
        body["next_page"] = next_page;
    }
    fake_providers::Reply::json(200, &body)
}

#[tokio::test]
async fn a_page_that_promises_more_without_a_cursor_leaves_the_other_days_unfetched() {
    let (s, fake, _home) = admin_sidecar().await;
    let (first, last) = (today() - 2, today());
    let params = json!({ "provider": "openai", "from": date(first), "to": date(last) });
    // One day, "more to come", and no cursor: the two days not sent must not become empty.
    fake.push_org_reply(usage_page(&[(first, 5)], json!(true), Value::Null));
    let e = s
        .request("sidekick/orgUsage", params.clone())
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "bad_request", "{e:?}");
    // The progress ended although the ingestion failed.
    let done = s
        .wait_notification(Duration::from_secs(10), |m, p| {
            m == "sidekick/orgSync" && p["done"] == true && p["pagesDone"] == 0
        })
        .await;
    assert!(
        done.is_some(),
        "{:?}",
        s.notifications_named("sidekick/orgSync")
    );
    // The page was refused whole, no day marked fetched: the next call asks for all three
    // (one request) and every day has its real usage, none a silent zero.
    let r = s.request("sidekick/orgUsage", params).await.unwrap();
    assert_eq!(r["requests"], 1);
    let day = |d: i64| {
        r["days"][(d - first) as usize]["inputTokens"]
            .as_i64()
            .unwrap()
    };
    for d in first..=last {
        let want: i64 = (0..ORG_PROJECTS.len())
            .flat_map(|p| (0..ORG_MODELS.len()).map(move |m| (p, m)))
            .filter_map(|(p, m)| org_usage(d, p, m).map(|u| u[0]))
            .sum();
        assert_eq!(day(d), want, "day {d}");
    }
    // A page with no has_more at all says nothing about the days it left out either.
    let fake2 = FakeProvider::builder().start().await.unwrap();
    let home2 = tempfile::tempdir().unwrap();
    let s2 = start(home2.path(), &fake2, json!({})).await;
    connect_admin(&s2, DEFAULT_ADMIN_KEY).await.unwrap();
    fake2.push_org_reply(usage_page(&[(first, 5)], Value::Null, Value::Null));
    let e = s2
        .request(
            "sidekick/orgUsage",
            json!({ "provider": "openai", "from": date(first), "to": date(last) }),
        )
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "bad_request", "{e:?}");
}

#[tokio::test]
async fn a_cursor_sent_twice_is_not_followed_in_a_loop() {
    let (s, fake, _home) = admin_sidecar().await;
    let (first, last) = (today() - 9, today());
    for day in first..first + 3 {
        fake.push_org_reply(usage_page(&[(day, 7)], json!(true), json!("page_again")));
    }
    let e = s
        .request(
            "sidekick/orgUsage",
            json!({ "provider": "openai", "from": date(first), "to": date(last) }),
        )
        .await
        .unwrap_err();
    assert_eq!(guidance(&e)["kind"], "bad_request", "{e:?}");
    assert_eq!(org_calls(&fake, "/usage/completions"), 2);
}

#[tokio::test]
async fn absurd_amounts_and_split_rows_neither_overflow_nor_break_the_cache() {
    let (s, fake, _home) = admin_sidecar().await;
    // Two days of a month that is over (no forecast): each day's one line item split over
    // twenty results of 10^300 dollars.
    let first = today() - 100;
    let rows: Vec<Value> = (0..20)
        .map(|_| {
            json!({ "object": "organization.costs.result", "line_item": "gpt-x, input",
                    "project_id": "proj_alpha", "amount": { "value": 1e300, "currency": "usd" } })
        })
        .collect();
    let data: Vec<Value> = [first, first + 1]
        .iter()
        .map(|&d| {
            json!({ "object": "bucket", "start_time": d * DAY, "end_time": (d + 1) * DAY,
                          "results": rows })
        })
        .collect();
    fake.push_org_reply(fake_providers::Reply::json(
        200,
        &json!({ "object": "page", "data": data, "has_more": false, "next_page": null }),
    ));
    let params = json!({ "provider": "openai", "from": date(first), "to": date(first + 1) });
    let r = s
        .request("sidekick/orgCosts", params.clone())
        .await
        .unwrap();
    let total = r["total"].as_f64().unwrap();
    assert!(total.is_finite() && total > 1e9, "{total}");
    let day = r["days"][0]["total"].as_f64().unwrap();
    assert!(day > 0.0 && day <= total, "{day} of {total}");
    // Read back from the cache: the same, and no request.
    let again = s.request("sidekick/orgCosts", params).await.unwrap();
    assert_eq!(again["requests"], 0);
    assert_eq!(again["total"], r["total"]);
}

#[tokio::test]
async fn a_day_that_turns_out_empty_loses_its_old_rows() {
    let (s, fake, _home) = admin_sidecar().await;
    let (first, last) = (today() - 1, today());
    let params = json!({ "provider": "openai", "from": date(first), "to": date(last) });
    let r = s
        .request("sidekick/orgUsage", params.clone())
        .await
        .unwrap();
    assert!(r["totals"]["inputTokens"].as_i64().unwrap() > 0);
    // Refreshed, the organization now reports nothing for either day (usage was reassigned).
    fake.push_org_reply(usage_page(&[], json!(false), Value::Null));
    let mut refresh = params.clone();
    refresh["refresh"] = json!(true);
    let r = s.request("sidekick/orgUsage", refresh).await.unwrap();
    assert_eq!(r["requests"], 1);
    assert_eq!(r["totals"]["inputTokens"], 0, "{r}");
}

#[tokio::test]
async fn another_organizations_key_from_the_environment_never_sees_this_cache() {
    let home = tempfile::tempdir().unwrap();
    let other = "sk-admin-other-org-0000OTHR";
    let fake = FakeProvider::builder()
        .admin_keys([other, DEFAULT_ADMIN_KEY])
        .start()
        .await
        .unwrap();
    let range =
        json!({ "provider": "openai", "from": date(today() - 40), "to": date(today() - 35) });
    let mut opts = Options::new(home.path());
    opts.openai_base_url = Some(fake.base_url());
    opts.remove_env.push("OPENAI_ADMIN_KEY".into());
    let service = opts.keyring_service.clone();
    let s = Sidecar::start(opts).await;
    connect_admin(&s, DEFAULT_ADMIN_KEY).await.unwrap();
    let r = s.request("sidekick/orgUsage", range.clone()).await.unwrap();
    assert_eq!(r["requests"], 1);
    drop(s);
    // Same home, same keychain, but a shell with another organization's admin key.
    let mut opts = Options::new(home.path());
    opts.keyring_service = service.clone();
    opts.openai_base_url = Some(fake.base_url());
    opts.env.push(("OPENAI_ADMIN_KEY".into(), other.into()));
    let s = Sidecar::start(opts).await;
    let r = s.request("sidekick/orgUsage", range.clone()).await.unwrap();
    assert_eq!(
        r["requests"], 1,
        "fetched with its own key, not served from the other's"
    );
    let last = fake
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/v1/organization/usage/completions")
        .unwrap();
    assert_eq!(last.headers["authorization"], format!("Bearer {other}"));
    drop(s);
    // Back to the stored key: its copy is still there, and free.
    let mut opts = Options::new(home.path());
    opts.keyring_service = service;
    opts.openai_base_url = Some(fake.base_url());
    opts.remove_env.push("OPENAI_ADMIN_KEY".into());
    let s = Sidecar::start(opts).await;
    let r = s.request("sidekick/orgUsage", range).await.unwrap();
    assert_eq!(r["requests"], 0);
}
