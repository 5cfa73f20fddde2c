//! Arbitrary bodies as pages of OpenAI's organization costs and usage: no panic; a page that
//! does not say it is the last has a cursor; every row is bounded (amounts, counts) and its
//! group keys are one clean line; the admin key never survives into an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sidekick_server::failure::ProviderError;
use sidekick_server::providers::openai_org::{
    MAX_ROW_COUNT, MAX_ROW_USD, parse_costs_page, parse_usage_page,
};

const KEY: &str = "sk-admin-fuzzFUZZfuzzFUZZ0000KEYZ";

fn clean(key: &str) {
    // 200 characters, and the ellipsis that says it was cut.
    assert!(key.chars().count() <= 201, "a group key is bounded");
    assert!(
        !key.chars().any(char::is_control),
        "a group key is one clean line"
    );
}

fn no_key(e: &ProviderError) {
    let shown = match e {
        ProviderError::Api(f) => format!("{:?} {:?}", f.message, f.code),
        other => other.to_string(),
    };
    assert!(!shown.contains(KEY), "the key survived: {shown}");
}

fuzz_target!(|data: &[u8]| {
    let url = "https://api.openai.com/v1/organization/costs";
    match parse_costs_page(data, url, Some(KEY)) {
        Ok(page) => {
            assert!(page.next.as_deref().is_none_or(|n| !n.is_empty()));
            let max = (MAX_ROW_USD * 1e9) as i64;
            for (_, rows) in &page.buckets {
                for r in rows {
                    assert!((-max..=max).contains(&r.nanos), "{}", r.nanos);
                    clean(&r.project);
                    clean(&r.line_item);
                }
            }
        }
        Err(e) => no_key(&e),
    }
    match parse_usage_page(data, url, Some(KEY)) {
        Ok(page) => {
            for (_, rows) in &page.buckets {
                for r in rows {
                    let c = r.counts;
                    for n in [c.input, c.cached_input, c.output, c.requests] {
                        assert!((0..=MAX_ROW_COUNT).contains(&n), "{n}");
                    }
                    clean(&r.project);
                    clean(&r.model);
                }
            }
        }
        Err(e) => no_key(&e),
    }
});
