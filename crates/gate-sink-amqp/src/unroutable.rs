//! Counts of this sink's messages no queue was bound for, one per action
//! that says so: totals for `/metrics`, and the last minute for `/ready`'s
//! warning. The catch-all queue's depth (every publisher's messages, read
//! every few seconds) is a gauge beside them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// What became of an unroutable message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Routed to the catch-all queue by the alternate exchange.
    KeptByBroker,
    /// Returned, then published to the catch-all queue by the sink.
    Kept,
    /// The catch-all did not take it (full, deleted): failed, spooled.
    Refused,
    /// Dropped on purpose (`unroutable = "drop"`).
    NotKept,
}

#[derive(Debug)]
pub(crate) struct UnroutableLog {
    kept: AtomicU64,
    refused: AtomicU64,
    not_kept: AtomicU64,
    /// One slot per second of the last minute: (second since start, count).
    recent: Mutex<[(u64, u64); 60]>,
    started: Instant,
    /// The catch-all queue's depth at the last reading (`u64::MAX`: none).
    depth: AtomicU64,
    /// Messages the sink itself put in the catch-all (after a return).
    kept_by_sink: AtomicU64,
}

impl Default for UnroutableLog {
    fn default() -> Self {
        Self {
            kept: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            not_kept: AtomicU64::new(0),
            recent: Mutex::new([(u64::MAX, 0); 60]),
            started: Instant::now(),
            depth: AtomicU64::new(u64::MAX),
            kept_by_sink: AtomicU64::new(0),
        }
    }
}

impl UnroutableLog {
    pub(crate) fn record(&self, fate: Fate) {
        let counter = match fate {
            Fate::KeptByBroker => &self.kept,
            Fate::Kept => {
                self.kept_by_sink.fetch_add(1, Ordering::Relaxed);
                &self.kept
            }
            Fate::Refused => &self.refused,
            Fate::NotKept => &self.not_kept,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.add_recent(1);
    }

    /// A reading of the catch-all queue's depth.
    pub(crate) fn observe_depth(&self, depth: u64) {
        self.depth.store(depth, Ordering::Relaxed);
    }

    fn add_recent(&self, count: u64) {
        let second = self.started.elapsed().as_secs();
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = &mut recent[usize::try_from(second % 60).unwrap_or(0)];
        if slot.0 == second {
            slot.1 += count;
        } else {
            *slot = (second, count);
        }
    }

    /// Unroutable messages in the last 60 seconds.
    pub(crate) fn last_minute(&self) -> u64 {
        let now = self.started.elapsed().as_secs();
        let recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        recent
            .iter()
            .filter(|(second, _)| *second != u64::MAX && now.saturating_sub(*second) < 60)
            .map(|(_, count)| count)
            .sum()
    }

    pub(crate) fn stats(&self) -> [(&'static str, u64); 4] {
        [
            ("unroutable_kept", self.kept.load(Ordering::Relaxed)),
            (
                "unroutable_kept_by_gateway",
                self.kept_by_sink.load(Ordering::Relaxed),
            ),
            ("unroutable_refused", self.refused.load(Ordering::Relaxed)),
            ("unroutable_dropped", self.not_kept.load(Ordering::Relaxed)),
        ]
    }

    /// The catch-all queue's depth at the last reading.
    pub(crate) fn depth(&self) -> Option<u64> {
        let depth = self.depth.load(Ordering::Relaxed);
        (depth != u64::MAX).then_some(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_fate_and_over_the_last_minute() {
        let log = UnroutableLog::default();
        log.record(Fate::Kept);
        log.record(Fate::Kept);
        log.record(Fate::Refused);
        assert_eq!(log.last_minute(), 3);
        assert_eq!(
            log.stats(),
            [
                ("unroutable_kept", 2),
                ("unroutable_kept_by_gateway", 2),
                ("unroutable_refused", 1),
                ("unroutable_dropped", 0)
            ]
        );
    }

    #[test]
    fn each_fate_counts_once_and_the_depth_is_a_gauge() {
        let log = UnroutableLog::default();
        log.observe_depth(10);
        log.record(Fate::KeptByBroker);
        log.record(Fate::Kept);
        log.observe_depth(15);
        assert_eq!(log.stats()[0], ("unroutable_kept", 2));
        assert_eq!(log.stats()[1], ("unroutable_kept_by_gateway", 1));
        assert_eq!(log.depth(), Some(15));
        assert_eq!(log.last_minute(), 2);
    }
}
