//! How many redeliveries of one sink are in flight at once. The window
//! grows while confirms come back about as fast as the fastest seen lately
//! and shrinks by a quarter when they slow down: the destination is
//! queueing, live requests to it wait behind the backlog, so the drain
//! gives way. It never exceeds the sink's `redelivery_window`.

use std::time::Duration;

/// A confirm slower than this many times the fastest one means queueing.
const SLOWER: f64 = 3.0;
/// Plus this much, so that sub-millisecond idle confirms and the jitter of
/// a shared machine do not read as queueing (with 2 ms the drain fell to
/// 0.2x the live rate on the loaded 2-core bench machine).
const SLACK: Duration = Duration::from_millis(20);
/// The window is multiplied by this when confirms slow down.
const CUT: f64 = 0.75;
/// The fastest confirm is learned again over this many, so that a
/// destination that became slower for good (a busier broker) does not keep
/// the window at 1.
const PERIOD: u32 = 1024;

#[derive(Debug)]
pub(crate) struct Pace {
    window: f64,
    fastest: Option<Duration>,
    fastest_in_period: Option<Duration>,
    samples: u32,
    /// Confirms since the window was last cut: at most one cut per window
    /// of confirms (those in flight at the cut were started before it).
    since_cut: usize,
}

impl Default for Pace {
    fn default() -> Self {
        Self {
            window: 1.0,
            fastest: None,
            fastest_in_period: None,
            samples: 0,
            since_cut: 0,
        }
    }
}

impl Pace {
    /// Redeliveries that may be in flight, at most `limit` (the sink's).
    pub(crate) fn window(&self, limit: usize) -> usize {
        // Truncation is the intent: the window grows by fractions.
        let window = self.window as usize;
        window.clamp(1, limit.max(1))
    }

    /// A redelivery confirmed after `took`.
    pub(crate) fn confirmed(&mut self, took: Duration, limit: usize) {
        let fastest = *self
            .fastest
            .insert(self.fastest.map_or(took, |f| f.min(took)));
        self.fastest_in_period = Some(self.fastest_in_period.map_or(took, |f| f.min(took)));
        self.samples += 1;
        if self.samples >= PERIOD {
            self.fastest = self.fastest_in_period.take();
            self.samples = 0;
        }
        self.since_cut += 1;
        if took <= fastest.mul_f64(SLOWER) + SLACK {
            // One more per window of confirms (additive increase).
            self.window = (self.window + 1.0 / self.window).min(limit.max(1) as f64);
        } else if self.since_cut >= self.window(limit) {
            self.window = (self.window * CUT).max(1.0);
            self.since_cut = 0;
        }
    }

    /// A redelivery failed: start again from one at a time.
    pub(crate) fn failed(&mut self) {
        self.window = 1.0;
        self.since_cut = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_millis(1);
    const SLOW: Duration = Duration::from_millis(40);

    fn grown(confirms: usize, limit: usize) -> Pace {
        let mut pace = Pace::default();
        for _ in 0..confirms {
            pace.confirmed(FAST, limit);
        }
        pace
    }

    #[test]
    fn fast_confirms_open_the_window_one_per_window_up_to_the_sink_limit() {
        assert_eq!(Pace::default().window(64), 1);
        // +1/window per confirm: 7 confirms take it from 1 to 4.16.
        assert_eq!(grown(6, 64).window(64), 3);
        assert_eq!(grown(7, 64).window(64), 4);
        assert_eq!(grown(10_000, 64).window(64), 64);
        assert_eq!(grown(10_000, 8).window(8), 8);
        assert_eq!(grown(10_000, 64).window(0), 1, "a limit of 0 means 1");
    }

    #[test]
    fn slow_confirms_cut_the_window_by_a_quarter_once_per_window() {
        let mut pace = grown(10_000, 32);
        assert_eq!(pace.window(32), 32);
        pace.confirmed(SLOW, 32);
        assert_eq!(pace.window(32), 24);
        // The other confirms of the window that was in flight at the cut
        // were started before it: no second cut for them.
        for _ in 0..23 {
            pace.confirmed(SLOW, 32);
        }
        assert_eq!(pace.window(32), 24);
        pace.confirmed(SLOW, 32);
        assert_eq!(pace.window(32), 18);
        for _ in 0..1000 {
            pace.confirmed(SLOW, 32);
        }
        assert_eq!(pace.window(32), 1, "never below one");
    }

    #[test]
    fn three_times_the_fastest_plus_slack_still_counts_as_fast() {
        let mut pace = grown(10_000, 32);
        pace.confirmed(FAST.mul_f64(SLOWER) + SLACK, 32);
        assert_eq!(pace.window(32), 32);
    }

    #[test]
    fn a_failure_starts_again_from_one() {
        let mut pace = grown(10_000, 64);
        pace.failed();
        assert_eq!(pace.window(64), 1);
    }

    #[test]
    fn the_fastest_confirm_is_learned_again_each_period() {
        let mut pace = Pace::default();
        pace.confirmed(Duration::from_micros(100), 64);
        // The destination became slower for good: 50 ms is its new normal.
        let normal = Duration::from_millis(50);
        // Within two periods the old fastest is forgotten.
        for _ in 0..2 * PERIOD {
            pace.confirmed(normal, 64);
        }
        let before = pace.window(64);
        for _ in 0..100 {
            pace.confirmed(normal, 64);
        }
        assert!(pace.window(64) > before, "{before} -> {}", pace.window(64));
    }
}
