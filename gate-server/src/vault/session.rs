//! A logged-in token, kept renewed in the background while it is held, so
//! that a configuration reload (SIGHUP) finds it still valid.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gate_core::Secret;
use tokio::task::JoinHandle;

use super::api::{Lease, VaultApi};
use super::error::SecretsError;
use super::settings::{Auth, Resolved};

/// Renew no sooner than this after the previous renewal, whatever the TTL,
/// so that a token with a tiny TTL does not make the task spin.
const MIN_RENEW_INTERVAL: Duration = Duration::from_millis(500);

/// What the renewal task tells the loader.
#[derive(Debug, Default)]
struct LeaseState {
    /// `None` for tokens that never expire.
    expires_at: Option<Instant>,
    renewals: u64,
}

/// Observable facts about a session (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// Successful `renew-self` calls so far.
    pub renewals: u64,
    /// Whether the token can be renewed at all.
    pub renewable: bool,
}

#[derive(Debug)]
pub struct Session {
    pub settings: Resolved,
    pub api: VaultApi,
    pub token: Secret,
    renewable: bool,
    state: Arc<Mutex<LeaseState>>,
    renewal: Option<JoinHandle<()>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(task) = self.renewal.take() {
            task.abort();
        }
    }
}

impl Session {
    /// Log in (AppRole) or look the given token up, then start renewing it
    /// when it is renewable and expires. Must run inside the Tokio runtime.
    pub async fn open(settings: Resolved) -> Result<Self, SecretsError> {
        let api = VaultApi::new(&settings).map_err(SecretsError::Login)?;
        let lease = match &settings.auth {
            Auth::AppRole {
                mount,
                role_id,
                secret_id,
            } => api
                .login_approle(mount, role_id, secret_id)
                .await
                .map_err(|e| SecretsError::Login(format!("approle at auth/{mount}: {e}")))?,
            Auth::Token(token) => match api.lookup_self(token).await {
                Ok(lease) => lease,
                Err(e) if e.starts_with("403") => {
                    return Err(SecretsError::Login(format!(
                        "the token was refused ({e}); it may be expired or revoked"
                    )))
                }
                // Policies may forbid lookup-self; reads will tell whether
                // the token works, it just cannot be renewed then.
                Err(e) => {
                    tracing::warn!(error = %e, "vault: cannot look the token up; it will not be renewed");
                    Lease {
                        token: token.clone(),
                        ttl: Duration::ZERO,
                        renewable: false,
                    }
                }
            },
        };
        let state = Arc::new(Mutex::new(LeaseState {
            expires_at: expiry(lease.ttl),
            renewals: 0,
        }));
        let renewal = (lease.renewable && !lease.ttl.is_zero()).then(|| {
            tokio::spawn(renew_loop(
                api.clone(),
                lease.token.clone(),
                lease.ttl,
                Arc::clone(&state),
            ))
        });
        tracing::info!(
            address = api.address(),
            ttl_s = lease.ttl.as_secs(),
            renewable = lease.renewable,
            "vault: session opened"
        );
        Ok(Self {
            settings,
            api,
            token: lease.token,
            renewable: lease.renewable,
            state,
            renewal,
        })
    }

    /// Whether the token is still good for a while (reuse it on reload).
    pub fn is_fresh(&self) -> bool {
        let expires_at = self.state.lock().map(|s| s.expires_at).unwrap_or(None);
        expires_at.is_none_or(|at| at > Instant::now() + Duration::from_secs(1))
    }

    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            renewals: self.state.lock().map(|s| s.renewals).unwrap_or(0),
            renewable: self.renewable,
        }
    }
}

fn expiry(ttl: Duration) -> Option<Instant> {
    (!ttl.is_zero()).then(|| Instant::now() + ttl)
}

/// Renew at about two thirds of the lease, so that a slow or failed attempt
/// still leaves time for another before the token expires.
fn renew_after(ttl: Duration) -> Duration {
    (ttl * 2 / 3).max(MIN_RENEW_INTERVAL)
}

async fn renew_loop(api: VaultApi, token: Secret, ttl: Duration, state: Arc<Mutex<LeaseState>>) {
    let mut wait = renew_after(ttl);
    loop {
        tokio::time::sleep(wait).await;
        match api.renew_self(&token).await {
            Ok(lease) => {
                if let Ok(mut state) = state.lock() {
                    state.expires_at = expiry(lease.ttl);
                    state.renewals += 1;
                }
                tracing::debug!(ttl_s = lease.ttl.as_secs(), "vault: token renewed");
                if !lease.renewable || lease.ttl.is_zero() {
                    return;
                }
                wait = renew_after(lease.ttl);
            }
            Err(e) => {
                // Try again in a third of what is left; give up once expired
                // (the next configuration load logs in again).
                let left = state
                    .lock()
                    .ok()
                    .and_then(|s| s.expires_at)
                    .map(|at| at.saturating_duration_since(Instant::now()))
                    .unwrap_or_default();
                tracing::warn!(error = %e, left_s = left.as_secs(), "vault: cannot renew the token");
                if left.is_zero() {
                    return;
                }
                wait = (left / 3).max(MIN_RENEW_INTERVAL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renews_at_two_thirds_with_a_floor() {
        assert_eq!(
            renew_after(Duration::from_secs(3600)),
            Duration::from_secs(2400)
        );
        assert_eq!(renew_after(Duration::from_secs(3)), Duration::from_secs(2));
        assert_eq!(renew_after(Duration::from_millis(300)), MIN_RENEW_INTERVAL);
    }
}
