//! What outlives a configuration reload: the spool file, the memory of
//! delivery ids, the deliveries still running, the metrics. A reloaded
//! gateway takes the old state.

use std::sync::Arc;
use std::time::Duration;

use gate_spool::{Spool, SpoolError};
use tokio::sync::Notify;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::dedup::Dedup;
use crate::deliveries::Deliveries;
use crate::metrics::Metrics;

#[derive(Debug)]
pub struct GateState {
    pub spool: Option<Arc<Spool>>,
    pub dedup: Arc<Dedup>,
    /// Deliveries run as their own tasks, so that a sender hanging up does
    /// not cancel them; shutdown waits for them before closing the sinks.
    pub running_deliveries: TaskTracker,
    /// Woken when an event is spooled, so redelivery starts promptly.
    pub spooled: Notify,
    pub metrics: Metrics,
    /// The last requests of each door, with their answers.
    pub deliveries: Deliveries,
}

impl GateState {
    /// Without a spool: sink failures are answered 503.
    pub fn in_memory(config: &Config) -> Self {
        Self::with_spool(config, None)
    }

    /// Open the spool file when `[spool]` enables it.
    pub fn open(config: &Config) -> Result<Self, SpoolError> {
        let spool = if config.spool.enabled {
            Some(Arc::new(Spool::open(
                &config.spool.path,
                config.spool.max_entries,
            )?))
        } else {
            None
        };
        Ok(Self::with_spool(config, spool))
    }

    fn with_spool(config: &Config, spool: Option<Arc<Spool>>) -> Self {
        Self {
            spool,
            dedup: Arc::new(Dedup::new(
                Duration::from_secs(config.dedup.window_seconds),
                config.dedup.max_entries,
            )),
            running_deliveries: TaskTracker::new(),
            spooled: Notify::new(),
            metrics: Metrics::default(),
            deliveries: Deliveries::new(config.deliveries.per_door),
        }
    }

    /// Let the deliveries still running end (up to `limit`); they end by
    /// themselves within the delivery deadline plus a spool write.
    pub async fn finish_deliveries(&self, limit: Duration) {
        self.running_deliveries.close();
        if tokio::time::timeout(limit, self.running_deliveries.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                running = self.running_deliveries.len(),
                "deliveries still running after {limit:?}"
            );
        }
        self.running_deliveries.reopen();
    }
}

/// Spool calls running at once. redb runs one write transaction at a time,
/// so more threads would only wait, and every thread that allocates makes
/// the allocator keep an arena of its own: with one blocking thread per
/// spooling request, RSS doubled under a 30 000-event backlog.
static SPOOL_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Run a spool call off the async workers (redb commits block on fsync);
/// the error, a storage or a join failure, as text.
pub(crate) async fn on_spool<T: Send + 'static>(
    spool: &Arc<Spool>,
    work: impl FnOnce(&Spool) -> Result<T, SpoolError> + Send + 'static,
) -> Result<T, String> {
    let spool = Arc::clone(spool);
    // A closed semaphore is impossible (it is never closed); run unbounded then.
    let _slot = SPOOL_SLOTS.acquire().await.ok();
    match tokio::task::spawn_blocking(move || work(&spool)).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}
