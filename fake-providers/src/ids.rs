//! Identifier-shaped randomness (request ids, completion ids) without a `rand` dependency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Not cryptographic: only has to make ids differ between requests and runs.
pub(crate) fn next_u64() -> u64 {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // splitmix64: consecutive counters must not give similar-looking ids.
    let mut z = t ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub(crate) fn alnum(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut bits = next_u64();
    for i in 0..len {
        if i % 10 == 9 {
            bits = next_u64();
        }
        out.push(char::from(ALNUM[(bits % ALNUM.len() as u64) as usize]));
        bits /= ALNUM.len() as u64;
    }
    out
}

pub(crate) fn hex(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        out.push_str(&format!("{:016x}", next_u64()));
    }
    out.truncate(len);
    out
}

/// `req_` + 32 hex digits, the shape of the API's `x-request-id`.
pub(crate) fn request_id() -> String {
    format!("req_{}", hex(32))
}

/// `chatcmpl-` + 29 alphanumerics, the shape of a completion id.
pub(crate) fn completion_id() -> String {
    format!("chatcmpl-{}", alnum(29))
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
