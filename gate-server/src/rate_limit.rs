//! Per-door rate limit: a token bucket, so a burst is accepted up to its
//! size and the sustained rate is capped. Over the limit the gate answers 429
//! with Retry-After, which senders such as GitHub show to the operator.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// `rate_limit = { per_second = 10, burst = 20 }` on a door.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub per_second: f64,
    /// Requests accepted at once after a quiet period; defaults to one
    /// second's worth.
    #[serde(default)]
    pub burst: Option<u32>,
}

#[derive(Debug)]
pub struct RateLimit {
    per_second: f64,
    burst: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub fn new(config: RateLimitConfig) -> Result<Self, String> {
        if !(config.per_second.is_finite() && config.per_second > 0.0) {
            return Err("rate_limit.per_second must be a positive number".into());
        }
        let burst = f64::from(config.burst.unwrap_or(0))
            .max(config.per_second.ceil())
            .max(1.0);
        Ok(Self {
            per_second: config.per_second,
            burst,
            bucket: Mutex::new((burst, Instant::now())),
        })
    }

    /// Take one token, or say how long until one is available.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let mut bucket = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = &mut *bucket;
        let now = Instant::now();
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_then_refill() {
        // Slow enough that a busy machine cannot refill a token by accident.
        let limit = RateLimit::new(RateLimitConfig {
            per_second: 2.0,
            burst: Some(3),
        })
        .expect("valid");
        for _ in 0..3 {
            assert!(limit.try_acquire().is_ok());
        }
        let wait = limit.try_acquire().expect_err("over the burst");
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        std::thread::sleep(Duration::from_millis(600));
        assert!(limit.try_acquire().is_ok(), "refilled");
    }

    #[test]
    fn invalid_rates_are_refused() {
        assert!(RateLimit::new(RateLimitConfig {
            per_second: 0.0,
            burst: None
        })
        .is_err());
        assert!(RateLimit::new(RateLimitConfig {
            per_second: f64::NAN,
            burst: None
        })
        .is_err());
    }
}
