//! Duplicate deliveries: an event id seen within the window is answered
//! "duplicate" and not published again. Ids are recorded only once the event
//! was confirmed or spooled, so a failed attempt can be retried by the sender.
//!
//! A delivery in progress holds a [`Claim`]; dropping it releases the id
//! whatever happened (a panic, a cancelled task), so an id can never stay
//! "in progress" after its delivery ended. Only [`Claim::accept`] records it.
//!
//! Kept in memory (bounded): after a restart a redelivery can publish again,
//! which consumers may see as a duplicate, never as a loss. Ids are stored as
//! 64-bit keyed hashes (about 40 bytes an entry instead of the id's text), so
//! the default bound of 100 000 ids costs a few MiB; a collision (odds about
//! 1 in 10^14 at that size) would answer one new event "duplicate".

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Outcome of [`Dedup::begin`].
#[derive(Debug)]
pub enum Begin {
    /// New: deliver it; the claim records the id when accepted, and
    /// releases it when dropped.
    Fresh(Claim),
    /// Already delivered within the window.
    Seen,
    /// Another request with the same id is being delivered right now.
    InFlight,
}

#[derive(Debug)]
pub struct Dedup {
    /// Random per process, so ids cannot be crafted to collide.
    hasher: RandomState,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Changed by a reload ([`Dedup::set_limits`]).
    window: Duration,
    max_entries: usize,
    seen: HashMap<u64, Instant>,
    order: VecDeque<(Instant, u64)>,
    in_flight: HashSet<u64>,
}

/// An id being delivered. Dropped without [`Claim::accept`] (failure,
/// cancellation, panic), it frees the id for the sender's retry.
#[derive(Debug)]
#[must_use = "dropping the claim releases the id at once"]
pub struct Claim {
    /// `None` once accepted or when deduplication is off.
    dedup: Option<Arc<Dedup>>,
    key: u64,
}

impl Claim {
    /// The event was confirmed or spooled: remember its id for the window.
    pub fn accept(mut self) {
        if let Some(dedup) = self.dedup.take() {
            dedup.lock().record(self.key);
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(dedup) = self.dedup.take() {
            dedup.lock().in_flight.remove(&self.key);
        }
    }
}

impl Dedup {
    pub fn new(window: Duration, max_entries: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            state: Mutex::new(State {
                window,
                max_entries,
                ..State::default()
            }),
        }
    }

    /// Apply a reloaded `[dedup]`: ids already remembered are kept (a
    /// shorter window or bound forgets the oldest at the next request).
    pub fn set_limits(&self, window: Duration, max_entries: usize) {
        let mut state = self.lock();
        state.window = window;
        state.max_entries = max_entries;
        state.trim();
    }

    pub fn begin(self: &Arc<Self>, key: &str) -> Begin {
        let key = self.hasher.hash_one(key);
        let mut state = self.lock();
        if state.window.is_zero() {
            return Begin::Fresh(Claim { dedup: None, key });
        }
        state.expire();
        if state.seen.contains_key(&key) {
            Begin::Seen
        } else if !state.in_flight.insert(key) {
            Begin::InFlight
        } else {
            Begin::Fresh(Claim {
                dedup: Some(Arc::clone(self)),
                key,
            })
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn record(&mut self, key: u64) {
        self.in_flight.remove(&key);
        if self.window.is_zero() {
            return;
        }
        let now = Instant::now();
        self.seen.insert(key, now);
        self.order.push_back((now, key));
        self.trim();
    }

    fn trim(&mut self) {
        while self.seen.len() > self.max_entries {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.seen.remove(&oldest);
            } else {
                break;
            }
        }
    }

    fn expire(&mut self) {
        while let Some((at, _)) = self.order.front() {
            if at.elapsed() < self.window {
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

    fn fresh(dedup: &Arc<Dedup>, key: &str) -> Claim {
        match dedup.begin(key) {
            Begin::Fresh(claim) => claim,
            other => panic!("{key}: expected fresh, got {other:?}"),
        }
    }

    #[test]
    fn recorded_only_when_accepted() {
        let dedup = Arc::new(Dedup::new(Duration::from_secs(60), 10));
        let claim = fresh(&dedup, "a");
        assert!(matches!(dedup.begin("a"), Begin::InFlight));
        drop(claim);
        let claim = fresh(&dedup, "a");
        claim.accept();
        assert!(matches!(dedup.begin("a"), Begin::Seen));
    }

    #[test]
    fn a_claim_dropped_by_a_panic_frees_the_id() {
        let dedup = Arc::new(Dedup::new(Duration::from_secs(60), 10));
        let held = Arc::clone(&dedup);
        let outcome = std::thread::spawn(move || {
            let _claim = fresh(&held, "p");
            panic!("delivery blew up");
        })
        .join();
        assert!(outcome.is_err(), "the thread panicked");
        fresh(&dedup, "p").accept();
        assert!(matches!(dedup.begin("p"), Begin::Seen));
    }

    #[test]
    fn window_and_bound_forget_old_ids() {
        let dedup = Arc::new(Dedup::new(Duration::from_millis(30), 10));
        fresh(&dedup, "a").accept();
        std::thread::sleep(Duration::from_millis(40));
        fresh(&dedup, "a").accept();

        let bounded = Arc::new(Dedup::new(Duration::from_secs(60), 2));
        for key in ["x", "y", "z"] {
            fresh(&bounded, key).accept();
        }
        drop(fresh(&bounded, "x"));
        assert!(matches!(bounded.begin("z"), Begin::Seen));
    }

    #[test]
    fn zero_window_disables() {
        let dedup = Arc::new(Dedup::new(Duration::ZERO, 10));
        let first = fresh(&dedup, "a");
        let second = fresh(&dedup, "a");
        first.accept();
        second.accept();
        drop(fresh(&dedup, "a"));
    }

    #[test]
    fn new_limits_apply_at_once() {
        let dedup = Arc::new(Dedup::new(Duration::from_secs(60), 10));
        for key in ["a", "b", "c"] {
            fresh(&dedup, key).accept();
        }
        dedup.set_limits(Duration::from_secs(60), 1);
        assert!(matches!(dedup.begin("c"), Begin::Seen));
        drop(fresh(&dedup, "a"));
        dedup.set_limits(Duration::ZERO, 1);
        drop(fresh(&dedup, "c"));
    }
}
