//! Redelivery of spooled events: for each sink with a backlog, the oldest
//! entries go first, several in flight at once where the sink keeps their
//! order (`Sink::redelivery_window`), and an entry leaves the spool only
//! after the sink confirmed it. A confirmed entry is never sent again, even
//! when its removal cannot commit yet (a full disk). A failure stops that
//! sink's pass and the next pass waits with capped exponential backoff and
//! jitter.

mod pace;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesOrdered, StreamExt};
use gate_core::{ActionStatus, BuiltSink};
use gate_spool::{Spool, SpoolEntry};

use crate::gateway::Gateway;
use crate::shared::SharedGateway;
use crate::state::on_spool;
use pace::Pace;

/// Entries read from the spool per sink and pass: the memory a drain
/// holds, whatever the size of the backlog.
const BATCH: usize = 256;
/// How often an idle worker looks at the spool even when not woken (entries
/// left by a previous run, or by the `spool` CLI).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Run until `stop` completes.
pub async fn run(shared: SharedGateway, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut backoff: Option<Duration> = None;
    // Per sink name, across passes: a backlog drains over many batches.
    let mut paces: HashMap<String, Pace> = HashMap::new();
    loop {
        let gateway = shared.current();
        let state = Arc::clone(gateway.state());
        let Some(spool) = state.spool.clone() else {
            return;
        };
        let wait = match pass(&gateway, &spool, &mut paces).await {
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

async fn pass(gateway: &Gateway, spool: &Arc<Spool>, paces: &mut HashMap<String, Pace>) -> Pass {
    let mut failed = false;
    if spool.pending_removal() > 0 {
        if let Err(reason) = on_spool(spool, |s| s.remove_confirmed()).await {
            tracing::error!(%reason, "cannot remove confirmed entries yet; they will not be sent again");
            failed = true;
        }
    }
    let sinks = match on_spool(spool, |s| s.sinks()).await {
        Ok(sinks) => sinks,
        Err(reason) => {
            tracing::error!(%reason, "cannot read the spool");
            return Pass::Failed;
        }
    };
    let mut progress = false;
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
        let pace = paces.entry(sink_name.clone()).or_default();
        let Drained { delivered, failure } = drain(sink, batch, deadline, pace).await;
        if let Some((id, error)) = failure {
            tracing::debug!(sink = %sink_name, id, %error, "redelivery failed");
            let name = sink_name.clone();
            let _ = on_spool(spool, move |s| s.record_failure(&name, id, &error)).await;
            failed = true;
        }
        if delivered.is_empty() {
            continue;
        }
        let count = delivered.len();
        gateway.state().metrics.redelivered(&sink_name, count);
        let name = sink_name.clone();
        match on_spool(spool, move |s| s.confirm(&name, &delivered)).await {
            Ok(_) => {
                progress = true;
                tracing::info!(sink = %sink_name, count, left = spool.depth(), "spooled events redelivered");
            }
            Err(reason) => {
                tracing::error!(sink = %sink_name, count, %reason, "spooled events redelivered but not yet removed; they will not be sent again");
                failed = true;
            }
        }
    }
    match (progress, failed) {
        (_, true) => Pass::Failed,
        (true, false) => Pass::Progress,
        (false, false) => Pass::Empty,
    }
}

#[derive(Default)]
struct Drained {
    /// Confirmed by the sink, in the order the confirms arrived.
    delivered: Vec<u64>,
    /// The first entry that failed, and why; nothing after it was started.
    failure: Option<(u64, String)>,
}

/// Deliver a batch in arrival order with up to the pace's window (at most
/// the sink's) in flight. The first entry goes alone, so a sink that is down costs one
/// attempt per pass and a reconnect happens before the window opens. After
/// a failure nothing more is started; what was already in flight is
/// awaited, and what it confirmed counts as delivered (sending it again
/// would be a copy), so with a window above 1 a failed entry can arrive
/// after later ones of its window.
async fn drain(
    sink: &BuiltSink,
    batch: Vec<SpoolEntry>,
    deadline: Duration,
    pace: &mut Pace,
) -> Drained {
    let limit = sink.sink.redelivery_window().max(1);
    let mut waiting = batch.into_iter();
    let mut in_flight = FuturesOrdered::new();
    let mut drained = Drained::default();
    let mut opened = false;
    loop {
        let open = if opened { pace.window(limit) } else { 1 };
        while drained.failure.is_none() && in_flight.len() < open {
            let Some(entry) = waiting.next() else { break };
            in_flight.push_back(attempt(sink, entry, deadline));
        }
        let Some((id, took, outcome)) = in_flight.next().await else {
            break;
        };
        match outcome {
            Ok(()) => {
                drained.delivered.push(id);
                pace.confirmed(took, limit);
                opened = true;
            }
            Err(error) => {
                drained.failure.get_or_insert((id, error));
                pace.failed();
            }
        }
    }
    drained
}

async fn attempt(
    sink: &BuiltSink,
    entry: SpoolEntry,
    deadline: Duration,
) -> (u64, Duration, Result<(), String>) {
    let started = Instant::now();
    let outcome = tokio::time::timeout(deadline, sink.sink.deliver(&entry.envelope)).await;
    let result = match outcome {
        Ok(action) if action.status != ActionStatus::Failed => Ok(()),
        Ok(action) => Err(action.error.map(|e| e.message).unwrap_or_default()),
        Err(_) => Err(format!(
            "the sink did not answer within {} ms",
            deadline.as_millis()
        )),
    };
    (entry.id, started.elapsed(), result)
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
