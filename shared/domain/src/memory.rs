//! In-memory adapters of every port, for unit tests of the functions' logic. Behaviour is
//! tested end to end against the real adapters on LocalStack; these only stand in for them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::DomainError;
use crate::delivery::{AttemptOutcome, Delivery, DeliveryStatus};
use crate::ids::TenantId;
use crate::messages::{DeliveryMessage, RoutingMessage};
use crate::ports::{
    ClaimOutcome, DeliveryDispatcher, DeliveryStore, EventStore, InsertOutcome, NewDelivery, RetryScheduler,
    RoutingQueue, StoredEvent, SubscriptionStore,
};
use crate::subscription::{Channel, Subscription};

fn key(tenant: &TenantId, id: &str) -> (String, String) {
    (tenant.0.clone(), id.to_owned())
}

#[derive(Default)]
pub struct MemoryEventStore {
    pub events: Mutex<HashMap<(String, String), StoredEvent>>,
}

#[async_trait]
impl EventStore for MemoryEventStore {
    async fn insert_new(&self, tenant: &TenantId, event: &StoredEvent) -> Result<InsertOutcome, DomainError> {
        let mut events = self.events.lock().unwrap();
        if let Some(existing) = events.get(&key(tenant, &event.event.id)) {
            return Ok(InsertOutcome::Exists {
                fingerprint: existing.fingerprint.clone(),
                accepted_at_ms: existing.accepted_at_ms,
            });
        }
        events.insert(key(tenant, &event.event.id), event.clone());
        Ok(InsertOutcome::Inserted)
    }

    async fn withdraw(
        &self,
        tenant: &TenantId,
        event_id: &str,
        accepted_at_ms: u64,
    ) -> Result<(), DomainError> {
        let mut events = self.events.lock().unwrap();
        if events
            .get(&key(tenant, event_id))
            .is_some_and(|e| e.accepted_at_ms == accepted_at_ms)
        {
            events.remove(&key(tenant, event_id));
        }
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, event_id: &str) -> Result<Option<StoredEvent>, DomainError> {
        Ok(self.events.lock().unwrap().get(&key(tenant, event_id)).cloned())
    }
}

/// Records routing messages; `failing` makes every enqueue fail.
#[derive(Default)]
pub struct MemoryRoutingQueue {
    pub messages: Mutex<Vec<RoutingMessage>>,
    pub failing: AtomicBool,
}

#[async_trait]
impl RoutingQueue for MemoryRoutingQueue {
    async fn enqueue(&self, message: &RoutingMessage) -> Result<(), DomainError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(DomainError::Storage("queue unavailable".into()));
        }
        self.messages.lock().unwrap().push(message.clone());
        Ok(())
    }
}

#[derive(Default)]
pub struct MemorySubscriptionStore {
    pub subscriptions: Mutex<HashMap<(String, String), Subscription>>,
}

#[async_trait]
impl SubscriptionStore for MemorySubscriptionStore {
    async fn insert(&self, tenant: &TenantId, subscription: &Subscription) -> Result<(), DomainError> {
        self.subscriptions
            .lock()
            .unwrap()
            .insert(key(tenant, &subscription.subscription_id), subscription.clone());
        Ok(())
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<Subscription>, DomainError> {
        let subscriptions = self.subscriptions.lock().unwrap();
        let mut mine: Vec<_> = subscriptions
            .iter()
            .filter(|((t, _), _)| *t == tenant.0)
            .map(|(_, s)| s.clone())
            .collect();
        mine.sort_by(|a, b| a.subscription_id.cmp(&b.subscription_id));
        Ok(mine)
    }

    async fn get(
        &self,
        tenant: &TenantId,
        subscription_id: &str,
    ) -> Result<Option<Subscription>, DomainError> {
        Ok(self
            .subscriptions
            .lock()
            .unwrap()
            .get(&key(tenant, subscription_id))
            .cloned())
    }

    async fn replace(&self, tenant: &TenantId, subscription: &Subscription) -> Result<bool, DomainError> {
        let mut subscriptions = self.subscriptions.lock().unwrap();
        let slot = subscriptions.get_mut(&key(tenant, &subscription.subscription_id));
        Ok(slot.map(|existing| *existing = subscription.clone()).is_some())
    }

    async fn delete(&self, tenant: &TenantId, subscription_id: &str) -> Result<bool, DomainError> {
        Ok(self
            .subscriptions
            .lock()
            .unwrap()
            .remove(&key(tenant, subscription_id))
            .is_some())
    }
}

#[derive(Default)]
pub struct MemoryDeliveryStore {
    /// (tenant, event id) → deliveries.
    pub deliveries: Mutex<HashMap<(String, String), Vec<Delivery>>>,
    /// (tenant, event id, subscription id) → claimed until (ms).
    pub claims: Mutex<HashMap<(String, String, String), u64>>,
}

#[async_trait]
impl DeliveryStore for MemoryDeliveryStore {
    async fn claim(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<ClaimOutcome, DomainError> {
        let Some(delivery) = self.get(tenant, event_id, subscription_id).await? else {
            return Ok(ClaimOutcome::Final);
        };
        if delivery.status.is_final() {
            return Ok(ClaimOutcome::Final);
        }
        let mut claims = self.claims.lock().unwrap();
        let slot = claims
            .entry((tenant.0.clone(), event_id.to_owned(), subscription_id.to_owned()))
            .or_insert(0);
        if *slot > now_ms {
            return Ok(ClaimOutcome::Busy);
        }
        *slot = until_ms;
        Ok(ClaimOutcome::Claimed {
            attempts: delivery.attempts,
        })
    }

    async fn create_pending(
        &self,
        tenant: &TenantId,
        event_id: &str,
        deliveries: &[NewDelivery],
        _expires_at: u64,
    ) -> Result<(), DomainError> {
        let mut all = self.deliveries.lock().unwrap();
        let records = all.entry(key(tenant, event_id)).or_default();
        for new in deliveries {
            if !records.iter().any(|d| d.subscription_id == new.subscription_id) {
                records.push(Delivery {
                    subscription_id: new.subscription_id.clone(),
                    channel: new.channel,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    last_status_code: None,
                    last_error: None,
                    updated_at: "now".into(),
                });
            }
        }
        Ok(())
    }

    async fn get(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
    ) -> Result<Option<Delivery>, DomainError> {
        let all = self.deliveries.lock().unwrap();
        Ok(all
            .get(&key(tenant, event_id))
            .and_then(|ds| ds.iter().find(|d| d.subscription_id == subscription_id).cloned()))
    }

    async fn record(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
        attempts: u32,
        outcome: &AttemptOutcome,
    ) -> Result<(), DomainError> {
        let mut all = self.deliveries.lock().unwrap();
        let found = all
            .get_mut(&key(tenant, event_id))
            .and_then(|ds| ds.iter_mut().find(|d| d.subscription_id == subscription_id));
        self.claims.lock().unwrap().remove(&(
            tenant.0.clone(),
            event_id.to_owned(),
            subscription_id.to_owned(),
        ));
        if let Some(delivery) = found.filter(|d| !d.status.is_final()) {
            delivery.status = outcome.status;
            delivery.attempts = attempts;
            delivery.last_status_code = outcome.status_code;
            delivery.last_error = outcome.error.clone();
        }
        Ok(())
    }

    async fn list(&self, tenant: &TenantId, event_id: &str) -> Result<Vec<Delivery>, DomainError> {
        Ok(self
            .deliveries
            .lock()
            .unwrap()
            .get(&key(tenant, event_id))
            .cloned()
            .unwrap_or_default())
    }
}

/// Records dispatched deliveries; channels in `failing` fail.
#[derive(Default)]
pub struct MemoryDispatcher {
    pub sent: Mutex<Vec<(Channel, DeliveryMessage)>>,
    pub failing: Mutex<Vec<Channel>>,
}

#[async_trait]
impl DeliveryDispatcher for MemoryDispatcher {
    async fn dispatch(&self, deliveries: &[(Channel, DeliveryMessage)]) -> Result<Vec<usize>, DomainError> {
        let failing = self.failing.lock().unwrap().clone();
        let mut failed = Vec::new();
        for (index, (channel, message)) in deliveries.iter().enumerate() {
            if failing.contains(channel) {
                failed.push(index);
            } else {
                self.sent.lock().unwrap().push((*channel, message.clone()));
            }
        }
        Ok(failed)
    }
}

#[derive(Default)]
pub struct MemoryRetryScheduler {
    pub scheduled: Mutex<Vec<(String, Duration)>>,
}

#[async_trait]
impl RetryScheduler for MemoryRetryScheduler {
    async fn retry_in(&self, receipt: &str, delay: Duration) -> Result<(), DomainError> {
        self.scheduled.lock().unwrap().push((receipt.to_owned(), delay));
        Ok(())
    }
}
