//! Configuration reload (SIGHUP): the new file is loaded and validated whole;
//! only then is the new gateway swapped in, keeping the spool and the
//! delivery-id memory. A bad file changes nothing but a log line.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::gateway::Gateway;
use crate::server::DRAIN_TIMEOUT;
use crate::shared::SharedGateway;

/// Load a new gateway with `load` and swap it in. Returns whether it did.
pub async fn reload<F, Fut>(shared: &SharedGateway, load: F) -> bool
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Gateway, String>>,
{
    match load().await {
        Ok(gateway) => {
            let state = Arc::clone(shared.current().state());
            let old = shared.replace(Arc::new(gateway.with_state(state)));
            tokio::spawn(close_when_idle(old));
            tracing::info!("configuration reloaded");
            true
        }
        Err(reason) => {
            tracing::error!(%reason, "new configuration refused; still serving the previous one");
            false
        }
    }
}

/// Reload on every SIGHUP until the process ends.
#[cfg(unix)]
pub async fn on_sighup<F, Fut>(shared: SharedGateway, load: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Gateway, String>>,
{
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload is unavailable");
        return;
    };
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP received: reloading the configuration");
        reload(&shared, &load).await;
    }
}

/// Requests that started on the old gateway hold it; close its sinks once
/// they are done (or after the drain timeout).
async fn close_when_idle(old: Arc<Gateway>) {
    let started = Instant::now();
    while Arc::strong_count(&old) > 1 && started.elapsed() < DRAIN_TIMEOUT {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    old.close().await;
}
