//! A small time-bounded cache for one execution environment: answers that may be a little
//! stale (an API key's tenant, a tenant's subscriptions) are reused for a few seconds instead
//! of costing a DynamoDB read per request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// `capacity` bounds memory: when full, expired entries are dropped, then everything.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.get_at(key, Instant::now())
    }

    pub fn insert(&self, key: K, value: V) {
        self.insert_at(key, value, Instant::now());
    }

    fn get_at(&self, key: &K, now: Instant) -> Option<V> {
        let entries = self.lock();
        let (stored_at, value) = entries.get(key)?;
        (now.duration_since(*stored_at) < self.ttl).then(|| value.clone())
    }

    fn insert_at(&self, key: K, value: V, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (stored_at, _)| now.duration_since(*stored_at) < self.ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (now, value));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // A panic while holding the lock cannot leave the map inconsistent (each operation is
        // a single insert/remove), so a poisoned lock is safe to keep using.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = TtlCache::new(Duration::from_secs(10), 8);
        let start = Instant::now();
        cache.insert_at("k", 1, start);
        assert_eq!(cache.get_at(&"k", start + Duration::from_secs(9)), Some(1));
        assert_eq!(cache.get_at(&"k", start + Duration::from_secs(10)), None);
    }

    #[test]
    fn zero_ttl_disables_caching() {
        let cache = TtlCache::new(Duration::ZERO, 8);
        cache.insert("k", 1);
        assert_eq!(cache.get(&"k"), None);
    }

    #[test]
    fn capacity_is_bounded() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        cache.insert(1, "a");
        cache.insert(2, "b");
        cache.insert(3, "c");
        assert!(cache.lock().len() <= 2);
        assert_eq!(cache.get(&3), Some("c"));
    }
}
