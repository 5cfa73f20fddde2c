//! Arbitrary status, headers and body through every provider's failure classification: no
//! panic, and nothing key-shaped from the body survives into the fields a guidance shows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sidekick_server::failure::RawFailure;
use sidekick_server::providers::Registry;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let header_count = (data[2] % 4) as usize;
    let mut rest = &data[3..];
    let mut headers = HeaderMap::new();
    for i in 0..header_count {
        let n = rest.first().copied().unwrap_or(0) as usize % 24;
        let value = rest
            .get(1..1 + n.min(rest.len().saturating_sub(1)))
            .unwrap_or(&[]);
        rest = rest.get(1 + value.len()..).unwrap_or(&[]);
        let name = [
            "retry-after",
            "retry-after-ms",
            "x-ratelimit-reset-requests",
            "x-request-id",
        ][i];
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    let registry = Registry::with_env(|_| None);
    for entry in registry.entries() {
        let raw = RawFailure {
            status,
            headers: &headers,
            body: rest,
        };
        let failure = entry
            .provider
            .classify(&raw)
            .masked(Some("sk-fuzz-secret-key-0000"));
        for field in [&failure.message, &failure.code, &failure.request_id]
            .into_iter()
            .flatten()
        {
            assert!(!field.contains("sk-fuzz-secret-key-0000"), "{field}");
        }
    }
});
