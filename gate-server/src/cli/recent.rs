//! The message ids a consumer saw last. The gate publishes at least once: a
//! message whose confirm was lost (the broker stopped after storing it) is
//! published again with the same `message_id`, so `tail` skips the copy.

use std::collections::{HashSet, VecDeque};

#[derive(Debug)]
pub struct RecentIds {
    seen: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    /// True the first time `id` is offered (among the last `capacity` ids).
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_recognised_within_the_capacity() {
        let mut recent = RecentIds::new(2);
        assert!(recent.first_time("a"));
        assert!(!recent.first_time("a"));
        assert!(recent.first_time("b"));
        assert!(recent.first_time("c"), "a is forgotten now");
        assert!(recent.first_time("a"));
        assert!(!recent.first_time("c"));
    }
}
