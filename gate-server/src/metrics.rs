//! `/metrics` in the Prometheus text format: requests by source, door and
//! status, request latency, what sinks did with each notification (confirms,
//! nacks, returns, timeouts, spooled...), spool depth, redeliveries,
//! duplicates, and each sink's own counters (reconnects).

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use gate_core::{Action, ActionStatus};

use crate::gateway::Gateway;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    source: String,
    door: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    sink: String,
    status: String,
    /// The error type (`nack`, `unroutable`, `timeout`...), or `ok`.
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecoveryLabels {
    door: String,
    /// `redelivered`, `refused`, `given_up`, or `pass_failed`.
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabels {
    sink: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkStatLabels {
    sink: String,
    stat: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<SourceLabels, Histogram>,
    actions: Family<ActionLabels, Counter>,
    redelivered: Family<SinkLabels, Counter>,
    duplicates: Counter,
    dedup_fail_open: Counter,
    github_recovery: Family<RecoveryLabels, Counter>,
    spool_rejected: Counter,
    spool_depth: Gauge,
    spool_quarantined: Gauge,
    spool_pending_removal: Gauge,
    sink_stats: Family<SinkStatLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("gate");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Gate requests by source, door and HTTP status",
            requests.clone(),
        );
        let latency = Family::<SourceLabels, Histogram>::new_with_constructor(|| {
            // 0.25 ms to about 16 s.
            Histogram::new(exponential_buckets(0.000_25, 2.0, 17))
        });
        registry.register(
            "request_duration_seconds",
            "Gate request latency",
            latency.clone(),
        );
        let actions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "sink_actions",
            "Notifications handled by each sink, by outcome",
            actions.clone(),
        );
        let redelivered = Family::<SinkLabels, Counter>::default();
        registry.register(
            "spool_redelivered",
            "Spooled events delivered after a failure",
            redelivered.clone(),
        );
        let github_recovery = Family::<RecoveryLabels, Counter>::default();
        registry.register(
            "github_recovery",
            "Periodic GitHub recovery: deliveries redelivered, refused or given up, and failed passes, by door",
            github_recovery.clone(),
        );
        let dedup_fail_open = Counter::default();
        registry.register(
            "dedup_fail_open",
            "Deliveries that went on without shared deduplication (dedup store unreachable)",
            dedup_fail_open.clone(),
        );
        let duplicates = Counter::default();
        registry.register(
            "dedup_hits",
            "Deliveries answered as duplicates",
            duplicates.clone(),
        );
        let spool_rejected = Counter::default();
        registry.register(
            "spool_rejected",
            "Failed deliveries the spool could not take (full or unwritable): answered 503",
            spool_rejected.clone(),
        );
        let spool_depth = Gauge::default();
        registry.register(
            "spool_depth",
            "Events waiting in the spool",
            spool_depth.clone(),
        );
        let spool_quarantined = Gauge::default();
        registry.register(
            "spool_quarantined",
            "Unreadable spool records set aside (listed by `gate-server spool list`)",
            spool_quarantined.clone(),
        );
        let spool_pending_removal = Gauge::default();
        registry.register(
            "spool_pending_removal",
            "Redelivered events whose removal from the spool has not committed yet (never sent again)",
            spool_pending_removal.clone(),
        );
        let sink_stats = Family::<SinkStatLabels, Gauge>::default();
        registry.register(
            "sink_stat",
            "Counters kept by the sinks (reconnects...)",
            sink_stats.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            actions,
            redelivered,
            duplicates,
            dedup_fail_open,
            github_recovery,
            spool_rejected,
            spool_depth,
            spool_quarantined,
            spool_pending_removal,
            sink_stats,
        }
    }
}

impl Metrics {
    pub fn request(&self, source: &str, door: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                source: source.to_owned(),
                door: door.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&SourceLabels {
                source: source.to_owned(),
            })
            .observe(seconds);
    }

    pub fn action(&self, sink: &str, action: &Action) {
        let status = status_label(action.status).to_owned();
        let reason = action
            .error
            .as_ref()
            .map_or_else(|| "ok".to_owned(), |e| e.kind.clone());
        self.actions
            .get_or_create(&ActionLabels {
                sink: sink.to_owned(),
                status,
                reason,
            })
            .inc();
    }

    /// The counter the dedup store increments when it fails open.
    pub fn dedup_fail_open(&self) -> Counter {
        self.dedup_fail_open.clone()
    }

    pub fn duplicate(&self) {
        self.duplicates.inc();
    }

    pub fn spool_rejected(&self) {
        self.spool_rejected.inc();
    }

    /// A periodic GitHub recovery outcome for `door`.
    pub fn github_recovery(&self, door: &str, outcome: &str, count: usize) {
        self.github_recovery
            .get_or_create(&RecoveryLabels {
                door: door.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(count as u64);
    }

    pub fn redelivered(&self, sink: &str, count: usize) {
        self.redelivered
            .get_or_create(&SinkLabels {
                sink: sink.to_owned(),
            })
            .inc_by(count as u64);
    }

    /// The text exposition, with gauges read from the gateway now.
    pub fn render(&self, gateway: &Gateway) -> String {
        if let Some(spool) = gateway.state().spool.as_ref() {
            self.spool_depth
                .set(i64::try_from(spool.depth()).unwrap_or(i64::MAX));
            self.spool_quarantined
                .set(i64::try_from(spool.quarantined()).unwrap_or(i64::MAX));
            self.spool_pending_removal
                .set(i64::try_from(spool.pending_removal()).unwrap_or(i64::MAX));
        }
        for sink in gateway.sinks() {
            for (stat, value) in sink.sink.stats() {
                self.sink_stats
                    .get_or_create(&SinkStatLabels {
                        sink: sink.name.clone(),
                        stat: stat.to_owned(),
                    })
                    .set(i64::try_from(value).unwrap_or(i64::MAX));
            }
        }
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text = "# metrics could not be encoded\n".into();
        }
        text
    }
}

/// The report's word for a status (its serde name), without making a JSON
/// value per action.
fn status_label(status: ActionStatus) -> &'static str {
    status.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_labels_are_the_words_of_the_report() {
        for status in [
            ActionStatus::Delivered,
            ActionStatus::Spooled,
            ActionStatus::Skipped,
            ActionStatus::Failed,
            ActionStatus::Duplicate,
        ] {
            assert_eq!(
                serde_json::to_value(status).expect("serialises"),
                status_label(status)
            );
        }
    }
}
