//! Who is calling: the bearer key's hash is looked up once and the answer (including "no such
//! key") cached briefly in this execution environment.

use std::sync::Arc;
use std::time::Duration;

use notifier_domain::DomainError;
use notifier_domain::cache::TtlCache;
use notifier_domain::ids::TenantId;
use notifier_domain::tenant::{ApiKeyHash, TenantAuthenticator, bearer_key};

pub struct CachedAuthenticator {
    store: Arc<dyn TenantAuthenticator>,
    cache: TtlCache<ApiKeyHash, Option<TenantId>>,
}

impl CachedAuthenticator {
    pub fn new(store: Arc<dyn TenantAuthenticator>, ttl: Duration) -> Self {
        Self {
            store,
            cache: TtlCache::new(ttl, 1024),
        }
    }

    /// The tenant for an `Authorization` header value; `None` when the header is missing,
    /// malformed or names no current key.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Option<TenantId>, DomainError> {
        let Some(key) = authorization.and_then(bearer_key) else {
            return Ok(None);
        };
        let hash = key.hash();
        if let Some(answer) = self.cache.get(&hash) {
            return Ok(answer);
        }
        let answer = self.store.tenant_for_key(&hash).await?;
        self.cache.insert(hash, answer.clone());
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use notifier_domain::tenant::ApiKey;

    use super::*;

    struct CountingStore {
        known: ApiKeyHash,
        lookups: AtomicUsize,
    }

    #[async_trait]
    impl TenantAuthenticator for CountingStore {
        async fn tenant_for_key(&self, hash: &ApiKeyHash) -> Result<Option<TenantId>, DomainError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok((hash == &self.known).then(|| TenantId("ten_a".into())))
        }
    }

    #[tokio::test]
    async fn known_key_authenticates_and_is_cached() {
        let store = Arc::new(CountingStore {
            known: ApiKey::from_presented("nk_good").hash(),
            lookups: AtomicUsize::new(0),
        });
        let auth = CachedAuthenticator::new(store.clone(), Duration::from_secs(30));
        for _ in 0..3 {
            let tenant = auth.authenticate(Some("Bearer nk_good")).await.unwrap();
            assert_eq!(tenant, Some(TenantId("ten_a".into())));
        }
        assert_eq!(store.lookups.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn missing_malformed_and_unknown_keys_are_rejected() {
        let store = Arc::new(CountingStore {
            known: ApiKey::from_presented("nk_good").hash(),
            lookups: AtomicUsize::new(0),
        });
        let auth = CachedAuthenticator::new(store.clone(), Duration::from_secs(30));
        assert_eq!(auth.authenticate(None).await.unwrap(), None);
        assert_eq!(auth.authenticate(Some("Basic nk_good")).await.unwrap(), None);
        assert_eq!(auth.authenticate(Some("Bearer nk_bad")).await.unwrap(), None);
        assert_eq!(
            store.lookups.load(Ordering::SeqCst),
            1,
            "only the well-formed key is looked up"
        );
    }
}
