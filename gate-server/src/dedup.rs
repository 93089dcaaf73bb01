//! Duplicate deliveries: an event id seen within the window is answered
//! "duplicate" and not published again. Ids are recorded only once the event
//! was confirmed or spooled, so a failed attempt can be retried by the sender.
//!
//! A delivery in progress holds a [`Claim`]; dropping it releases the id
//! whatever happened (a panic, a cancelled task), so an id can never stay
//! "in progress" after its delivery ended. Only [`Claim::accept`] records it.
//!
//! Kept in memory by default (bounded), or in Redis with `store = "redis"`
//! (`dedup/shared.rs`) so that several gateways share the ids; when Redis
//! cannot answer, deliveries go on without deduplication (fail open: at
//! least once), counted in `gate_dedup_fail_open_total` and shown by
//! `/ready`.
//!
//! In memory: after a restart a redelivery can publish again,
//! which consumers may see as a duplicate, never as a loss. Ids are stored as
//! 64-bit keyed hashes (about 40 bytes an entry instead of the id's text), so
//! the default bound of 100 000 ids costs a few MiB; a collision (odds about
//! 1 in 10^14 at that size) would answer one new event "duplicate".

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

mod shared;
use shared::Claimed;
pub use shared::SharedStore;

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
    /// `store = "redis"`: ids live there instead of `state`.
    shared: Option<Arc<SharedStore>>,
    /// Deliveries that went on without the shared store.
    fail_open: Counter,
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
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// Accepted, deduplication off, or the shared store unreachable.
    Nothing,
    Memory {
        dedup: Arc<Dedup>,
        key: u64,
    },
    Shared {
        dedup: Arc<Dedup>,
        store: Arc<SharedStore>,
        id: String,
        token: String,
    },
}

impl Claim {
    fn unheld() -> Self {
        Self {
            held: Held::Nothing,
        }
    }

    /// The event was confirmed or spooled: remember its id for the window.
    pub async fn accept(mut self) {
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Memory { dedup, key } => dedup.lock().record(key),
            Held::Shared {
                dedup, store, id, ..
            } => {
                let window = dedup.lock().window;
                if let Err(error) = store.record(&id, window).await {
                    // The claim expires on its own; a redelivery then
                    // publishes again (at least once).
                    dedup.fail_open.inc();
                    tracing::warn!(%error, delivery = %id, "cannot record the delivery id in the dedup store");
                }
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Memory { dedup, key } => {
                dedup.lock().in_flight.remove(&key);
            }
            Held::Shared {
                store, id, token, ..
            } => {
                // Without a runtime (shutting down) the claim expires by itself.
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        if let Err(error) = store.release(&id, &token).await {
                            tracing::debug!(%error, delivery = %id, "claim left to expire");
                        }
                    });
                }
            }
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
            shared: None,
            fail_open: Counter::default(),
        }
    }

    /// Keep the ids in `store` (shared by gateways) instead of in memory.
    pub fn with_shared_store(mut self, store: SharedStore) -> Self {
        self.shared = Some(Arc::new(store));
        self
    }

    /// Count fail-open deliveries in this (registered) counter.
    pub fn with_fail_open_counter(mut self, counter: Counter) -> Self {
        self.fail_open = counter;
        self
    }

    /// The shared store, with `store = "redis"`.
    pub fn shared_store(&self) -> Option<&Arc<SharedStore>> {
        self.shared.as_ref()
    }

    /// Why shared deduplication is off right now (the store is failing).
    pub fn unavailable(&self) -> Option<String> {
        self.shared.as_ref().and_then(|store| store.failing())
    }

    /// Apply a reloaded `[dedup]`: ids already remembered are kept (a
    /// shorter window or bound forgets the oldest at the next request).
    pub fn set_limits(&self, window: Duration, max_entries: usize) {
        let mut state = self.lock();
        state.window = window;
        state.max_entries = max_entries;
        state.trim();
    }

    pub async fn begin(self: &Arc<Self>, key: &str) -> Begin {
        if let Some(store) = &self.shared {
            if self.lock().window.is_zero() {
                return Begin::Fresh(Claim::unheld());
            }
            return match store.begin(key).await {
                Ok((Claimed::Fresh, token)) => Begin::Fresh(Claim {
                    held: Held::Shared {
                        dedup: Arc::clone(self),
                        store: Arc::clone(store),
                        id: key.to_owned(),
                        token,
                    },
                }),
                Ok((Claimed::Seen, _)) => Begin::Seen,
                Ok((Claimed::InFlight, _)) => Begin::InFlight,
                Err(_) => {
                    // Logged by the store when it starts failing.
                    self.fail_open.inc();
                    Begin::Fresh(Claim::unheld())
                }
            };
        }
        let key = self.hasher.hash_one(key);
        let mut state = self.lock();
        if state.window.is_zero() {
            return Begin::Fresh(Claim::unheld());
        }
        state.expire();
        if state.seen.contains_key(&key) {
            Begin::Seen
        } else if !state.in_flight.insert(key) {
            Begin::InFlight
        } else {
            Begin::Fresh(Claim {
                held: Held::Memory {
                    dedup: Arc::clone(self),
                    key,
                },
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
    use futures_util::FutureExt as _;

    /// The memory store never waits: its futures are ready at once.
    fn begin(dedup: &Arc<Dedup>, key: &str) -> Begin {
        dedup
            .begin(key)
            .now_or_never()
            .expect("memory store never waits")
    }

    fn accept(claim: Claim) {
        claim
            .accept()
            .now_or_never()
            .expect("memory store never waits");
    }

    fn fresh(dedup: &Arc<Dedup>, key: &str) -> Claim {
        match begin(dedup, key) {
            Begin::Fresh(claim) => claim,
            other => panic!("{key}: expected fresh, got {other:?}"),
        }
    }

    #[test]
    fn recorded_only_when_accepted() {
        let dedup = Arc::new(Dedup::new(Duration::from_secs(60), 10));
        let claim = fresh(&dedup, "a");
        assert!(matches!(begin(&dedup, "a"), Begin::InFlight));
        drop(claim);
        let claim = fresh(&dedup, "a");
        accept(claim);
        assert!(matches!(begin(&dedup, "a"), Begin::Seen));
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
        accept(fresh(&dedup, "p"));
        assert!(matches!(begin(&dedup, "p"), Begin::Seen));
    }

    #[test]
    fn window_and_bound_forget_old_ids() {
        let dedup = Arc::new(Dedup::new(Duration::from_millis(30), 10));
        accept(fresh(&dedup, "a"));
        std::thread::sleep(Duration::from_millis(40));
        accept(fresh(&dedup, "a"));

        let bounded = Arc::new(Dedup::new(Duration::from_secs(60), 2));
        for key in ["x", "y", "z"] {
            accept(fresh(&bounded, key));
        }
        drop(fresh(&bounded, "x"));
        assert!(matches!(begin(&bounded, "z"), Begin::Seen));
    }

    #[test]
    fn zero_window_disables() {
        let dedup = Arc::new(Dedup::new(Duration::ZERO, 10));
        let first = fresh(&dedup, "a");
        let second = fresh(&dedup, "a");
        accept(first);
        accept(second);
        drop(fresh(&dedup, "a"));
    }

    #[test]
    fn new_limits_apply_at_once() {
        let dedup = Arc::new(Dedup::new(Duration::from_secs(60), 10));
        for key in ["a", "b", "c"] {
            accept(fresh(&dedup, key));
        }
        dedup.set_limits(Duration::from_secs(60), 1);
        assert!(matches!(begin(&dedup, "c"), Begin::Seen));
        drop(fresh(&dedup, "a"));
        dedup.set_limits(Duration::ZERO, 1);
        drop(fresh(&dedup, "c"));
    }
}
