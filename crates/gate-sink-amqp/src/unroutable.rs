//! Counts of messages no queue was bound for: totals for `/metrics`, and the
//! last minute for `/ready`'s warning.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// What became of an unroutable message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Confirmed in the catch-all queue.
    Kept,
    /// The catch-all did not take it (full, deleted): failed, spooled.
    Refused,
    /// Dropped on purpose (`unroutable = "drop"`) or failed on purpose
    /// (`unroutable = "fail"`).
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
}

impl Default for UnroutableLog {
    fn default() -> Self {
        Self {
            kept: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            not_kept: AtomicU64::new(0),
            recent: Mutex::new([(u64::MAX, 0); 60]),
            started: Instant::now(),
        }
    }
}

impl UnroutableLog {
    pub(crate) fn record(&self, fate: Fate) {
        let counter = match fate {
            Fate::Kept => &self.kept,
            Fate::Refused => &self.refused,
            Fate::NotKept => &self.not_kept,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let second = self.started.elapsed().as_secs();
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = &mut recent[usize::try_from(second % 60).unwrap_or(0)];
        if slot.0 == second {
            slot.1 += 1;
        } else {
            *slot = (second, 1);
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

    pub(crate) fn stats(&self) -> [(&'static str, u64); 3] {
        [
            ("unroutable_kept", self.kept.load(Ordering::Relaxed)),
            ("unroutable_refused", self.refused.load(Ordering::Relaxed)),
            ("unroutable_not_kept", self.not_kept.load(Ordering::Relaxed)),
        ]
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
                ("unroutable_refused", 1),
                ("unroutable_not_kept", 0)
            ]
        );
    }
}
