//! What outlives a configuration reload: the spool file, the memory of
//! delivery ids, the deliveries still running, the metrics. A reloaded
//! gateway takes the old state.

use std::sync::Arc;
use std::time::Duration;

use gate_spool::{Spool, SpoolError};
use tokio::sync::Notify;
use tokio_util::task::TaskTracker;

use crate::budget::BodyBudget;
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
    /// Request body bytes in memory now, against `max_body_bytes_in_flight`.
    pub body_budget: Arc<BodyBudget>,
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
        let metrics = Metrics::default();
        let mut dedup = Dedup::new(
            Duration::from_secs(config.dedup.window_seconds),
            config.dedup.max_entries,
        )
        .with_fail_open_counter(metrics.dedup_fail_open());
        // Checked with the configuration; should it still fail here, the
        // gateway keeps ids in memory rather than not starting.
        match config.dedup.shared_store() {
            Ok(Some(store)) => dedup = dedup.with_shared_store(store),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "dedup: keeping ids in memory"),
        }
        Self {
            spool,
            dedup: Arc::new(dedup),
            running_deliveries: TaskTracker::new(),
            spooled: Notify::new(),
            metrics,
            body_budget: Arc::default(),
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

/// Run a spool call off the async workers (redb commits block on fsync),
/// on the one spool thread (`spool_worker`); the error, a storage failure
/// or a panic, as text.
pub(crate) async fn on_spool<T: Send + 'static>(
    spool: &Arc<Spool>,
    work: impl FnOnce(&Spool) -> Result<T, SpoolError> + Send + 'static,
) -> Result<T, String> {
    let spool = Arc::clone(spool);
    crate::spool_worker::run(move || work(&spool))
        .await?
        .map_err(|e| e.to_string())
}
