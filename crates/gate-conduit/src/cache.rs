//! A small TTL cache for Conduit answers that keeps expired entries as the
//! "last known answer", to use when Conduit is down.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the cache knows about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached<V> {
    /// Younger than the TTL: use it without asking Conduit.
    Fresh(V),
    /// Expired: ask Conduit again, but use this if Conduit fails.
    Stale(V),
    Missing,
}

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// `capacity` bounds memory: past it, expired entries go first, then the
    /// oldest one.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Cached<V> {
        let Ok(entries) = self.entries.lock() else {
            return Cached::Missing;
        };
        match entries.get(key) {
            Some((at, value)) if at.elapsed() < self.ttl => Cached::Fresh(value.clone()),
            Some((_, value)) => Cached::Stale(value.clone()),
            None => Cached::Missing,
        }
    }

    pub fn insert(&self, key: K, value: V) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(key, (Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_then_stale_then_replaced() {
        let cache = TtlCache::new(Duration::from_millis(30), 10);
        assert_eq!(cache.get(&"a"), Cached::Missing);
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a"), Cached::Fresh(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"a"), Cached::Stale(1));
        cache.insert("a", 2);
        assert_eq!(cache.get(&"a"), Cached::Fresh(2));
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        cache.insert("a", 1);
        std::thread::sleep(Duration::from_millis(2));
        cache.insert("b", 2);
        cache.insert("c", 3);
        assert_eq!(cache.get(&"a"), Cached::Missing);
        assert_eq!(cache.get(&"b"), Cached::Fresh(2));
        assert_eq!(cache.get(&"c"), Cached::Fresh(3));
    }
}
