//! The running gate's background work: the spool's redelivery loop and
//! the optional periodic GitHub recovery. Stopped by `Gate::shutdown`, or
//! aborted when the gate is dropped without it (a guard).

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::shared::SharedGateway;

#[derive(Debug)]
pub(crate) struct Background {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Start both loops on `shared`; they stop when `stop` is cancelled.
    pub(crate) fn start(shared: &SharedGateway, stop: CancellationToken) -> Self {
        let redelivery = {
            let (shared, stop) = (shared.clone(), stop.clone());
            tokio::spawn(async move { crate::redeliver::run(shared, stop.cancelled_owned()).await })
        };
        // Off unless [github_recovery] interval_seconds is set; a reload can
        // turn it on or off, so the loop always runs.
        let recovery = {
            let (shared, stop) = (shared.clone(), stop.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = crate::github_recovery::periodic(shared) => {}
                    () = stop.cancelled() => {}
                }
            })
        };
        Self {
            stop,
            tasks: vec![redelivery, recovery],
        }
    }

    /// Stop both loops and wait for them (up to `limit`): a redelivery
    /// pass in progress ends first, so what a sink confirmed is recorded.
    pub(crate) async fn stop(mut self, limit: Duration) {
        self.stop.cancel();
        for mut task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout(limit, &mut task).await.is_err() {
                tracing::warn!("background work still running after {limit:?}; stopping it");
                task.abort();
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.cancel();
        for task in &self.tasks {
            task.abort();
        }
    }
}
