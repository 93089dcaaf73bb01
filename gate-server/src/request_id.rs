//! The request id of a gate request: the sender's `X-Request-Id` when it is
//! a sensible token (a proxy's or a load balancer's), else a new one. It is
//! in every log line of the request and returned in the answer.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use http::{HeaderMap, HeaderValue};

pub const HEADER: &str = "x-request-id";

/// Longer ids, or ids with other characters, are replaced: they end up in
/// logs and URLs.
const MAX_LEN: usize = 64;

pub fn of(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sensible(id))
        .map_or_else(generate, str::to_owned)
}

pub fn answer_with(headers: &mut HeaderMap, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(HEADER, value);
    }
}

fn is_sensible(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// 16 hex digits: a per-process random key hashed with a counter, unique in
/// the process and unlikely to repeat across restarts.
fn generate() -> String {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", KEY.get_or_init(Default::default).hash_one(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sensible_sender_id_is_kept_else_one_is_made() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("lb-7f3a.1"));
        assert_eq!(of(&headers), "lb-7f3a.1");
        headers.insert(HEADER, HeaderValue::from_static("has space"));
        let made = of(&headers);
        assert_eq!(made.len(), 16);
        assert_ne!(made, of(&HeaderMap::new()), "each made id differs");
    }
}
