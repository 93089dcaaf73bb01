//! Triggers already sent for a delivery that failed on another image, so
//! that its redelivery from the spool builds only what is missing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

/// Bounded: the oldest delivery is forgotten first, which at worst builds
/// an image twice (at least once, never lost).
#[derive(Debug)]
pub struct Partial {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sent: HashMap<String, HashSet<usize>>,
    order: VecDeque<String>,
}

impl Partial {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Triggers (by position in the repository's list) of `delivery` sent
    /// by an earlier attempt.
    pub fn sent(&self, delivery: &str) -> HashSet<usize> {
        self.lock().sent.get(delivery).cloned().unwrap_or_default()
    }

    /// Remember that trigger `index` was sent for `delivery`.
    pub fn record(&self, delivery: &str, index: usize) {
        let mut inner = self.lock();
        if !inner.sent.contains_key(delivery) {
            if inner.order.len() >= self.capacity {
                if let Some(oldest) = inner.order.pop_front() {
                    inner.sent.remove(&oldest);
                }
            }
            inner.order.push_back(delivery.to_owned());
        }
        inner
            .sent
            .entry(delivery.to_owned())
            .or_default()
            .insert(index);
    }

    /// The delivery is complete: a later one with the same id (a manual
    /// redelivery from GitHub) builds everything again.
    pub fn forget(&self, delivery: &str) {
        let mut inner = self.lock();
        if inner.sent.remove(delivery).is_some() {
            inner.order.retain(|d| d != delivery);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding it cannot leave the sets inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_delivery_and_forgets_the_oldest_beyond_capacity() {
        let partial = Partial::new(2);
        partial.record("d1", 0);
        partial.record("d1", 1);
        partial.record("d2", 0);
        assert_eq!(partial.sent("d1").len(), 2);
        partial.record("d3", 0);
        assert!(partial.sent("d1").is_empty(), "evicted");
        assert_eq!(partial.sent("d3").len(), 1);
        partial.forget("d3");
        assert!(partial.sent("d3").is_empty());
        partial.record("d4", 0);
        assert_eq!(partial.sent("d2").len(), 1, "forget freed a slot");
    }
}
