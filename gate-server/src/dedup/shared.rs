//! The shared store of `[dedup] store = "redis"`: several gateways behind a
//! load balancer see the same event ids, so a redelivery reaching another
//! gateway than the first is answered "duplicate".
//!
//! One key per event id, `<key_prefix><id>`: a claim is `SET NX PX
//! claim_ttl` with a value unique to the claim (it expires on its own when
//! its gateway dies mid-delivery); accepting overwrites it with `seen` for
//! the window; releasing deletes it only if it still holds this claim.
//! Every call has a deadline; any failure makes the caller fail open.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

/// After a failure, requests skip the store this long (failing open at once
/// instead of each waiting for the timeout), then try it again.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// What the store says about an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    Fresh,
    Seen,
    InFlight,
}

pub struct SharedStore {
    manager: ConnectionManager,
    prefix: String,
    claim_ttl: Duration,
    timeout: Duration,
    begin: Script,
    release: Script,
    tokens: AtomicU64,
    salt: u64,
    /// The last failure, while the store is failing.
    failing: Mutex<Option<(Instant, String)>>,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl SharedStore {
    /// Connects lazily: a store down at start only means failing open.
    pub fn new(
        url: &str,
        prefix: &str,
        claim_ttl: Duration,
        timeout: Duration,
    ) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| describe_url_error(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let manager = client
            .get_connection_manager_lazy(config)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            manager,
            prefix: prefix.to_owned(),
            claim_ttl,
            timeout,
            begin: Script::new(
                "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end \
                 if redis.call('GET', KEYS[1]) == 'seen' then return 1 end \
                 return 2",
            ),
            release: Script::new(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end \
                 return 0",
            ),
            tokens: AtomicU64::new(0),
            salt: std::collections::hash_map::RandomState::new().hash_one(std::process::id()),
            failing: Mutex::new(None),
        })
    }

    /// Whether `url` is a usable Redis URL (no connection made).
    pub fn check_url(url: &str) -> Result<(), String> {
        redis::Client::open(url)
            .map(drop)
            .map_err(|e| describe_url_error(&e))
    }

    fn key(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    /// Claim `id`; the claim's token when fresh.
    pub async fn begin(&self, id: &str) -> Result<(Claimed, String), String> {
        self.check_pause()?;
        let token = format!(
            "claim:{:016x}-{}",
            self.salt,
            self.tokens.fetch_add(1, Ordering::Relaxed)
        );
        let ttl_ms = u64::try_from(self.claim_ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut invocation = self.begin.key(self.key(id));
        invocation.arg(&token).arg(ttl_ms);
        let mut connection = self.manager.clone();
        let answer: i64 = self.run(invocation.invoke_async(&mut connection)).await?;
        let claimed = match answer {
            0 => Claimed::Fresh,
            1 => Claimed::Seen,
            _ => Claimed::InFlight,
        };
        Ok((claimed, token))
    }

    /// The event was confirmed or spooled: `seen` for `window`.
    pub async fn record(&self, id: &str, window: Duration) -> Result<(), String> {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.manager.clone();
        let command = redis::cmd("SET")
            .arg(self.key(id))
            .arg("seen")
            .arg("PX")
            .arg(window_ms)
            .to_owned();
        self.run(command.query_async::<()>(&mut connection)).await
    }

    /// Free the id for a retry, if the key still holds this claim.
    pub async fn release(&self, id: &str, token: &str) -> Result<(), String> {
        let mut invocation = self.release.key(self.key(id));
        invocation.arg(token);
        let mut connection = self.manager.clone();
        self.run(invocation.invoke_async::<i64>(&mut connection))
            .await
            .map(drop)
    }

    /// Take `name` for `ttl` unless another holder has it (SET NX PX): true
    /// when taken. Gateways sharing the store use it to share a periodic job.
    pub async fn lease(&self, name: &str, ttl: Duration) -> Result<bool, String> {
        self.check_pause()?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.manager.clone();
        let command = redis::cmd("SET")
            .arg(format!("{}{name}", self.prefix))
            .arg(format!("{:016x}", self.salt))
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .to_owned();
        let set: Option<String> = self.run(command.query_async(&mut connection)).await?;
        Ok(set.is_some())
    }

    /// Why the store is failing, while it is.
    pub fn failing(&self) -> Option<String> {
        self.failing
            .lock()
            .ok()
            .and_then(|f| f.as_ref().map(|(_, reason)| reason.clone()))
    }

    fn check_pause(&self) -> Result<(), String> {
        match &*self.failing.lock().map_err(|_| "poisoned".to_owned())? {
            Some((at, reason)) if at.elapsed() < PAUSE_AFTER_FAILURE => Err(reason.clone()),
            _ => Ok(()),
        }
    }

    async fn run<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, String> {
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err(format!(
                "redis: no answer within {} ms",
                self.timeout.as_millis()
            )),
        };
        let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(_) => {
                if failing.take().is_some() {
                    tracing::info!("dedup store reachable again: shared deduplication resumed");
                }
            }
            Err(reason) => {
                if failing.is_none() {
                    tracing::warn!(
                        error = %reason,
                        "dedup store unreachable: delivering without shared deduplication (at-least-once)"
                    );
                }
                *failing = Some((Instant::now(), reason.clone()));
            }
        }
        result
    }
}

/// redis' URL errors may quote the URL, which can hold a password.
fn describe_url_error(error: &redis::RedisError) -> String {
    format!("invalid redis URL ({:?})", error.kind())
}
