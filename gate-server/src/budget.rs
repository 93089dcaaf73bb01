//! The global budget of request body bytes held in memory at once: what
//! strangers can make the gateway hold is bounded whatever they send.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Body bytes reserved by requests in progress. Lives in the `GateState`,
/// so requests started before a reload count against the same total; the
/// limit is read from the current configuration at each reservation.
#[derive(Debug, Default)]
pub struct BodyBudget {
    used: AtomicU64,
}

impl BodyBudget {
    /// Reserve `bytes` if the total stays within `limit`.
    pub fn reserve(self: &Arc<Self>, bytes: u64, limit: u64) -> Option<Reservation> {
        self.take(bytes, limit).then(|| Reservation {
            budget: Arc::clone(self),
            bytes,
            limit,
        })
    }

    /// Bytes reserved right now.
    pub fn in_use(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }

    fn take(&self, bytes: u64, limit: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= limit)
            })
            .is_ok()
    }
}

/// Bytes of the budget held by one request; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<BodyBudget>,
    bytes: u64,
    limit: u64,
}

impl Reservation {
    /// Reserve `more` bytes (a body without a declared length, as it
    /// arrives); false, with nothing taken, when the budget is spent.
    pub fn grow(&mut self, more: u64) -> bool {
        let taken = self.budget.take(more, self.limit);
        if taken {
            self.bytes += more;
        }
        taken
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_stay_within_the_limit_and_are_given_back() {
        let budget = Arc::new(BodyBudget::default());
        let first = budget.reserve(60, 100).expect("fits");
        assert!(budget.reserve(41, 100).is_none());
        let mut second = budget.reserve(40, 100).expect("fits exactly");
        assert!(!second.grow(1));
        assert_eq!(budget.in_use(), 100);
        drop(first);
        assert!(second.grow(10));
        assert_eq!((second.bytes(), budget.in_use()), (50, 50));
        drop(second);
        assert_eq!(budget.in_use(), 0);
    }
}
