//! GitHub's rate limits, as documented for its REST API: a primary limit
//! (403 or 429 with `X-RateLimit-Remaining: 0`, retry after the epoch second
//! in `X-RateLimit-Reset`) and secondary limits (`Retry-After` seconds; with
//! neither header, wait at least a minute).

use std::time::Duration;

use http::{HeaderMap, StatusCode};

/// A little past the announced reset, so that clocks a few hundred
/// milliseconds apart do not meet the limit again.
const MARGIN: Duration = Duration::from_millis(250);

/// GitHub's advice when a secondary limit names no time.
const SECONDARY_DEFAULT: Duration = Duration::from_secs(60);

/// How long to wait before trying an answer's request again, when the
/// answer is a rate limit; `None` for every other answer (a 403 without
/// rate-limit headers is a permission problem, not worth retrying).
pub fn wait_before_retry(
    status: StatusCode,
    headers: &HeaderMap,
    now_unix_ms: u128,
) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if let Some(seconds) = number(headers, "retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    if number(headers, "x-ratelimit-remaining") == Some(0) {
        if let Some(reset) = number(headers, "x-ratelimit-reset") {
            return Some(until(reset, now_unix_ms));
        }
        return Some(SECONDARY_DEFAULT);
    }
    (status == StatusCode::TOO_MANY_REQUESTS).then_some(SECONDARY_DEFAULT)
}

/// After a successful answer that used the last request of the window, how
/// long to wait before the next one.
pub fn wait_after_success(headers: &HeaderMap, now_unix_ms: u128) -> Option<Duration> {
    if number(headers, "x-ratelimit-remaining") != Some(0) {
        return None;
    }
    number(headers, "x-ratelimit-reset").map(|reset| until(reset, now_unix_ms))
}

fn until(reset_unix_s: u64, now_unix_ms: u128) -> Duration {
    let reset_ms = u128::from(reset_unix_s) * 1_000;
    let ms = u64::try_from(reset_ms.saturating_sub(now_unix_ms)).unwrap_or(u64::MAX);
    Duration::from_millis(ms) + MARGIN
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("value"));
        }
        map
    }

    const NOW_MS: u128 = 1_700_000_000_000;

    #[test]
    fn primary_limit_waits_until_the_reset() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000002"),
        ]);
        assert_eq!(
            wait_before_retry(StatusCode::FORBIDDEN, &h, NOW_MS),
            Some(Duration::from_millis(2_250))
        );
        assert_eq!(
            wait_before_retry(StatusCode::TOO_MANY_REQUESTS, &h, NOW_MS + 500),
            Some(Duration::from_millis(1_750))
        );
        // A reset already past: retry at once (plus the margin).
        assert_eq!(
            wait_before_retry(StatusCode::FORBIDDEN, &h, NOW_MS + 10_000),
            Some(MARGIN)
        );
        assert_eq!(
            wait_after_success(&h, NOW_MS),
            Some(Duration::from_millis(2_250))
        );
    }

    #[test]
    fn secondary_limit_follows_retry_after() {
        let h = headers(&[("retry-after", "7"), ("x-ratelimit-remaining", "12")]);
        assert_eq!(
            wait_before_retry(StatusCode::FORBIDDEN, &h, NOW_MS),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            wait_before_retry(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), NOW_MS),
            Some(SECONDARY_DEFAULT)
        );
    }

    #[test]
    fn other_answers_are_not_rate_limits() {
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(wait_before_retry(StatusCode::FORBIDDEN, &h, NOW_MS), None);
        assert_eq!(wait_before_retry(StatusCode::NOT_FOUND, &h, NOW_MS), None);
        assert_eq!(wait_after_success(&h, NOW_MS), None);
        let limited = headers(&[("x-ratelimit-remaining", "0"), ("retry-after", "1")]);
        assert_eq!(wait_before_retry(StatusCode::OK, &limited, NOW_MS), None);
    }
}
