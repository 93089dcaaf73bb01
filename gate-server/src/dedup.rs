//! Duplicate deliveries: a delivery id seen within the window is answered
//! "duplicate" and not published again. Ids are recorded only once the event
//! was confirmed or spooled, so a failed attempt can be retried by the sender.
//!
//! Kept in memory (bounded): after a restart a redelivery can publish again,
//! which consumers may see as a duplicate, never as a loss. Ids are stored as
//! 64-bit keyed hashes (about 40 bytes an entry instead of the id's text), so
//! the default bound of 100 000 ids costs a few MiB; a collision (odds about
//! 1 in 10^14 at that size) would answer one new event "duplicate".

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Outcome of [`Dedup::begin`].
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// New: deliver it, then call `finish`.
    Fresh,
    /// Already delivered within the window.
    Seen,
    /// Another request with the same id is being delivered right now.
    InFlight,
}

#[derive(Debug)]
pub struct Dedup {
    window: Duration,
    max_entries: usize,
    /// Random per process, so ids cannot be crafted to collide.
    hasher: RandomState,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    seen: HashMap<u64, Instant>,
    order: VecDeque<(Instant, u64)>,
    in_flight: HashSet<u64>,
}

impl Dedup {
    pub fn new(window: Duration, max_entries: usize) -> Self {
        Self {
            window,
            max_entries,
            hasher: RandomState::new(),
            state: Mutex::new(State::default()),
        }
    }

    pub fn begin(&self, key: &str) -> Begin {
        if self.window.is_zero() {
            return Begin::Fresh;
        }
        let key = self.hasher.hash_one(key);
        let mut state = self.lock();
        state.expire(self.window);
        if state.seen.contains_key(&key) {
            Begin::Seen
        } else if !state.in_flight.insert(key) {
            Begin::InFlight
        } else {
            Begin::Fresh
        }
    }

    /// End a `Fresh` delivery; `accepted` records the id.
    pub fn finish(&self, key: &str, accepted: bool) {
        if self.window.is_zero() {
            return;
        }
        let key = self.hasher.hash_one(key);
        let mut state = self.lock();
        state.in_flight.remove(&key);
        if accepted {
            let now = Instant::now();
            state.seen.insert(key, now);
            state.order.push_back((now, key));
            while state.seen.len() > self.max_entries {
                if let Some((_, oldest)) = state.order.pop_front() {
                    state.seen.remove(&oldest);
                } else {
                    break;
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn expire(&mut self, window: Duration) {
        while let Some((at, _)) = self.order.front() {
            if at.elapsed() < window {
                break;
            }
            if let Some((at, key)) = self.order.pop_front() {
                // Only forget it if it was not seen again since.
                if self.seen.get(&key) == Some(&at) {
                    self.seen.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_only_when_accepted() {
        let dedup = Dedup::new(Duration::from_secs(60), 10);
        assert_eq!(dedup.begin("a"), Begin::Fresh);
        assert_eq!(dedup.begin("a"), Begin::InFlight);
        dedup.finish("a", false);
        assert_eq!(
            dedup.begin("a"),
            Begin::Fresh,
            "a failed attempt can be retried"
        );
        dedup.finish("a", true);
        assert_eq!(dedup.begin("a"), Begin::Seen);
    }

    #[test]
    fn window_and_bound_forget_old_ids() {
        let dedup = Dedup::new(Duration::from_millis(30), 10);
        assert_eq!(dedup.begin("a"), Begin::Fresh);
        dedup.finish("a", true);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(dedup.begin("a"), Begin::Fresh);

        let bounded = Dedup::new(Duration::from_secs(60), 2);
        for key in ["x", "y", "z"] {
            assert_eq!(bounded.begin(key), Begin::Fresh);
            bounded.finish(key, true);
        }
        assert_eq!(
            bounded.begin("x"),
            Begin::Fresh,
            "oldest forgotten past the bound"
        );
        assert_eq!(bounded.begin("z"), Begin::Seen);
    }

    #[test]
    fn zero_window_disables() {
        let dedup = Dedup::new(Duration::ZERO, 10);
        dedup.finish("a", true);
        assert_eq!(dedup.begin("a"), Begin::Fresh);
        assert_eq!(dedup.begin("a"), Begin::Fresh);
    }
}
