//! A small time-bounded cache for one execution environment: answers that may be a little
//! stale (an API key's tenant, a tenant's subscriptions) are reused for a few seconds instead
//! of costing a DynamoDB read per request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::lock::Mutex as AsyncMutex;

use crate::DomainError;
use crate::ids::TenantId;
use crate::ports::SubscriptionStore;
use crate::subscription::Subscription;

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

/// A sender's view of subscriptions: one read per subscription and `ttl`, so a warm sender
/// delivering a stream of events to the same subscriptions reads none of them per delivery.
/// A change (disable, delete, new secret) reaches the senders within `ttl`.
pub struct CachedSubscriptions {
    store: Arc<dyn SubscriptionStore>,
    cache: TtlCache<SubscriptionKey, Option<Arc<Subscription>>>,
    /// One read at a time per subscription: a batch's records are handled concurrently, and
    /// on a cold cache each of them would otherwise read the same subscription.
    loading: Mutex<HashMap<SubscriptionKey, Arc<AsyncMutex<()>>>>,
}

type SubscriptionKey = (TenantId, String);

impl CachedSubscriptions {
    pub fn new(store: Arc<dyn SubscriptionStore>, ttl: Duration) -> Self {
        Self {
            store,
            cache: TtlCache::new(ttl, 4096),
            loading: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        subscription_id: &str,
    ) -> Result<Option<Arc<Subscription>>, DomainError> {
        let key = (tenant.clone(), subscription_id.to_owned());
        if let Some(cached) = self.cache.get(&key) {
            return Ok(cached);
        }
        let gate = self
            .loading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        let _turn = gate.lock().await;
        if let Some(cached) = self.cache.get(&key) {
            return Ok(cached);
        }
        let fresh = self.store.get(tenant, subscription_id).await;
        self.loading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&key);
        let fresh = fresh?.map(Arc::new);
        self.cache.insert(key, fresh.clone());
        Ok(fresh)
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

    /// Counts reads and yields once inside each, as a real store's network call would.
    struct CountingStore {
        inner: crate::memory::MemorySubscriptionStore,
        reads: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl SubscriptionStore for CountingStore {
        async fn insert(&self, tenant: &TenantId, subscription: &Subscription) -> Result<(), DomainError> {
            self.inner.insert(tenant, subscription).await
        }
        async fn list(&self, tenant: &TenantId) -> Result<Vec<Subscription>, DomainError> {
            self.inner.list(tenant).await
        }
        async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<Subscription>, DomainError> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::task::yield_now().await;
            self.inner.get(tenant, id).await
        }
        async fn replace(&self, tenant: &TenantId, subscription: &Subscription) -> Result<bool, DomainError> {
            self.inner.replace(tenant, subscription).await
        }
        async fn delete(&self, tenant: &TenantId, id: &str) -> Result<bool, DomainError> {
            self.inner.delete(tenant, id).await
        }
    }

    #[tokio::test]
    async fn concurrent_lookups_of_a_cold_subscription_read_it_once() {
        let store = Arc::new(CountingStore {
            inner: crate::memory::MemorySubscriptionStore::default(),
            reads: Default::default(),
        });
        let cached = CachedSubscriptions::new(store.clone(), Duration::from_secs(60));
        let tenant = TenantId("ten_a".into());
        let lookups = (0..10).map(|_| cached.get(&tenant, "sub_1"));
        let found = futures_util::future::join_all(lookups).await;
        assert!(found.iter().all(|f| matches!(f, Ok(None))));
        assert_eq!(store.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        cached.get(&tenant, "sub_2").await.unwrap();
        assert_eq!(store.reads.load(std::sync::atomic::Ordering::SeqCst), 2);
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
