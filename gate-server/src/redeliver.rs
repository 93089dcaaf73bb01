//! Redelivery of spooled events: for each sink with a backlog, the oldest
//! entries go first, one at a time, and an entry leaves the spool only after
//! the sink confirmed it. A failure stops that sink's pass (so order holds)
//! and the next pass waits with capped exponential backoff and jitter.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use gate_core::ActionStatus;
use gate_spool::{Spool, SpoolEntry};

use crate::gateway::Gateway;
use crate::shared::SharedGateway;
use crate::state::on_spool;

/// Entries read from the spool per sink and pass.
const BATCH: usize = 256;
/// How often an idle worker looks at the spool even when not woken (entries
/// left by a previous run, or by the `spool` CLI).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Run until `stop` completes.
pub async fn run(shared: SharedGateway, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut backoff: Option<Duration> = None;
    loop {
        let gateway = shared.current();
        let state = Arc::clone(gateway.state());
        let Some(spool) = state.spool.clone() else {
            return;
        };
        let wait = match pass(&gateway, &spool).await {
            Pass::Empty => {
                backoff = None;
                IDLE_POLL
            }
            Pass::Progress => {
                backoff = None;
                Duration::ZERO
            }
            Pass::Failed => {
                // From the current gateway: a reload changes them live.
                let (initial, max) = gateway.retry_timings();
                let next = backoff.map_or(initial, |b| (b * 2).min(max));
                backoff = Some(next);
                with_jitter(next)
            }
        };
        drop(gateway);
        if wait.is_zero() {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::task::yield_now() => continue,
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = state.spooled.notified(), if backoff.is_none() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

enum Pass {
    Empty,
    Progress,
    Failed,
}

async fn pass(gateway: &Gateway, spool: &Arc<Spool>) -> Pass {
    let sinks = match on_spool(spool, |s| s.sinks()).await {
        Ok(sinks) => sinks,
        Err(reason) => {
            tracing::error!(%reason, "cannot read the spool");
            return Pass::Failed;
        }
    };
    if sinks.is_empty() {
        return Pass::Empty;
    }
    let mut progress = false;
    let mut failed = false;
    for sink_name in sinks {
        let Some(sink) = gateway.sink(&sink_name) else {
            tracing::warn!(sink = %sink_name, "spooled events wait for a sink that is no longer configured");
            continue;
        };
        let name = sink_name.clone();
        let batch: Vec<SpoolEntry> = match on_spool(spool, move |s| s.oldest(&name, BATCH)).await {
            Ok(batch) => batch,
            Err(reason) => {
                tracing::error!(sink = %sink_name, %reason, "cannot read the spool");
                failed = true;
                continue;
            }
        };
        let deadline = Duration::from_millis(gateway.server().delivery_deadline_ms);
        let mut delivered = Vec::new();
        for entry in batch {
            let outcome = tokio::time::timeout(deadline, sink.sink.deliver(&entry.envelope)).await;
            let error = match outcome {
                Ok(action) if action.status != ActionStatus::Failed => {
                    delivered.push(entry.id);
                    continue;
                }
                Ok(action) => action.error.map(|e| e.message).unwrap_or_default(),
                Err(_) => format!("the sink did not answer within {} ms", deadline.as_millis()),
            };
            tracing::debug!(sink = %sink_name, id = entry.id, %error, "redelivery failed");
            let name = sink_name.clone();
            let _ = on_spool(spool, move |s| s.record_failure(&name, entry.id, &error)).await;
            failed = true;
            break;
        }
        if !delivered.is_empty() {
            let count = delivered.len();
            let name = sink_name.clone();
            match on_spool(spool, move |s| s.remove(&name, &delivered)).await {
                Ok(_) => {
                    progress = true;
                    gateway.state().metrics.redelivered(&sink_name, count);
                    tracing::info!(sink = %sink_name, count, left = spool.depth(), "spooled events redelivered");
                }
                // Delivered but still spooled: they will be sent again
                // (at least once beats at most once).
                Err(reason) => {
                    tracing::error!(sink = %sink_name, %reason, "cannot remove delivered entries")
                }
            }
        }
    }
    match (progress, failed) {
        (_, true) => Pass::Failed,
        (true, false) => Pass::Progress,
        (false, false) => Pass::Empty,
    }
}

/// Up to a quarter more, so that several gateways retrying one broker do not
/// knock in step.
fn with_jitter(wait: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let quarter = wait / 4;
    let extra = quarter.mul_f64(f64::from(nanos % 1000) / 1000.0);
    wait + extra
}
