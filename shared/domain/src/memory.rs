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
use crate::messages::{DeliveryMessage, RoutingMessage, parse_message};
use crate::ports::{
    ClaimOutcome, DeliveryDispatcher, DeliveryRef, DeliveryStore, EventStore, InsertOutcome, RetryScheduler,
    RoutingQueue, StoredEvent, SubscriptionStore,
};
use crate::routing::QueuedDelivery;
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

    async fn insert_batch(
        &self,
        tenant: &TenantId,
        events: &[StoredEvent],
    ) -> Result<Vec<InsertOutcome>, DomainError> {
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            outcomes.push(self.insert_new(tenant, event).await?);
        }
        Ok(outcomes)
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

    async fn enqueue_batch(&self, messages: &[RoutingMessage]) -> Result<Vec<usize>, DomainError> {
        if self.failing.load(Ordering::SeqCst) {
            return Ok((0..messages.len()).collect());
        }
        self.messages.lock().unwrap().extend_from_slice(messages);
        Ok(Vec::new())
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

impl MemoryDeliveryStore {
    /// The record of `delivery`, created `pending` if it has none yet.
    fn with_record<T>(&self, delivery: &DeliveryRef, change: impl FnOnce(&mut Delivery) -> T) -> T {
        let mut all = self.deliveries.lock().unwrap();
        let records = all.entry(key(&delivery.tenant, &delivery.event_id)).or_default();
        let index = match records
            .iter()
            .position(|d| d.subscription_id == delivery.subscription_id)
        {
            Some(index) => index,
            None => {
                records.push(Delivery {
                    subscription_id: delivery.subscription_id.clone(),
                    channel: delivery.channel,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    last_status_code: None,
                    last_error: None,
                    updated_at: "now".into(),
                });
                records.len() - 1
            }
        };
        change(&mut records[index])
    }

    fn claim_key(delivery: &DeliveryRef) -> (String, String, String) {
        (
            delivery.tenant.0.clone(),
            delivery.event_id.clone(),
            delivery.subscription_id.clone(),
        )
    }
}

#[async_trait]
impl DeliveryStore for MemoryDeliveryStore {
    async fn claim(
        &self,
        delivery: &DeliveryRef,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<ClaimOutcome, DomainError> {
        let record = self.with_record(delivery, |record| record.clone());
        if record.status.is_final() {
            return Ok(ClaimOutcome::Final);
        }
        let mut claims = self.claims.lock().unwrap();
        let slot = claims.entry(Self::claim_key(delivery)).or_insert(0);
        if *slot > now_ms {
            return Ok(ClaimOutcome::Busy);
        }
        *slot = until_ms;
        Ok(ClaimOutcome::Claimed {
            attempts: record.attempts,
        })
    }

    async fn record(
        &self,
        delivery: &DeliveryRef,
        outcome: &AttemptOutcome,
        attempted: bool,
    ) -> Result<(), DomainError> {
        self.claims.lock().unwrap().remove(&Self::claim_key(delivery));
        self.with_record(delivery, |record| {
            if !record.status.is_final() {
                record.status = outcome.status;
                record.attempts += u32::from(attempted);
                record.last_status_code = outcome.status_code;
                record.last_error = outcome.error.clone();
            }
        });
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
    /// How many times `dispatch` was called.
    pub calls: Mutex<usize>,
}

#[async_trait]
impl DeliveryDispatcher for MemoryDispatcher {
    async fn dispatch(&self, deliveries: &[QueuedDelivery]) -> Result<Vec<usize>, DomainError> {
        *self.calls.lock().unwrap() += 1;
        let failing = self.failing.lock().unwrap().clone();
        let mut failed = Vec::new();
        for (index, delivery) in deliveries.iter().enumerate() {
            if failing.contains(&delivery.channel) {
                failed.push(index);
            } else {
                let message = parse_message(Some(&delivery.body))?;
                self.sent.lock().unwrap().push((delivery.channel, message));
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
