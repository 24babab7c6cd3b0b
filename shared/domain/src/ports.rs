//! The ports: the few questions each function asks of storage and queues. Adapters in
//! `notifier-aws` answer them with DynamoDB and SQS; each function asks only for the ports it
//! uses, as its IAM policy allows only the calls it makes.

use async_trait::async_trait;

use crate::DomainError;
use crate::delivery::{AttemptOutcome, Delivery};
use crate::ids::TenantId;
use crate::messages::{DeliveryMessage, Event, RoutingMessage};
use crate::subscription::{Channel, Subscription};

/// An accepted event as stored, with what idempotency needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: Event,
    pub fingerprint: String,
    pub accepted_at_ms: u64,
    /// Unix seconds after which the store may forget the event (and its idempotency key).
    pub expires_at: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    Inserted,
    /// The id was taken: what was stored under it.
    Exists {
        fingerprint: String,
        accepted_at_ms: u64,
    },
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores the event if its id is free, in one conditional write.
    async fn insert_new(&self, tenant: &TenantId, event: &StoredEvent) -> Result<InsertOutcome, DomainError>;
    /// Withdraws an event that could not be queued, freeing its idempotency key.
    async fn withdraw(
        &self,
        tenant: &TenantId,
        event_id: &str,
        accepted_at_ms: u64,
    ) -> Result<(), DomainError>;
    async fn get(&self, tenant: &TenantId, event_id: &str) -> Result<Option<StoredEvent>, DomainError>;
}

#[async_trait]
pub trait RoutingQueue: Send + Sync {
    async fn enqueue(&self, message: &RoutingMessage) -> Result<(), DomainError>;
}

#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    async fn insert(&self, tenant: &TenantId, subscription: &Subscription) -> Result<(), DomainError>;
    async fn list(&self, tenant: &TenantId) -> Result<Vec<Subscription>, DomainError>;
    async fn get(
        &self,
        tenant: &TenantId,
        subscription_id: &str,
    ) -> Result<Option<Subscription>, DomainError>;
    /// Replaces an existing subscription; false when it does not exist.
    async fn replace(&self, tenant: &TenantId, subscription: &Subscription) -> Result<bool, DomainError>;
    /// Deletes a subscription; false when it did not exist.
    async fn delete(&self, tenant: &TenantId, subscription_id: &str) -> Result<bool, DomainError>;
}

/// One delivery to create when an event is routed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub subscription_id: String,
    pub channel: Channel,
}

/// The answer to a sender's claim on a delivery before it calls a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This attempt may send; `attempts` were made before it.
    Claimed { attempts: u32 },
    /// Another attempt holds a live claim: try again after it lapses.
    Busy,
    /// Delivered or failed already (or the record is gone): nothing to do.
    Final,
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims the delivery until `until_ms` unless it is final or another live claim holds it.
    /// Recording an outcome releases the claim.
    async fn claim(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<ClaimOutcome, DomainError>;
    /// Creates `pending` records for an event's deliveries; records that already exist (a
    /// routing retry) are left as they are.
    async fn create_pending(
        &self,
        tenant: &TenantId,
        event_id: &str,
        deliveries: &[NewDelivery],
        expires_at: u64,
    ) -> Result<(), DomainError>;
    async fn get(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
    ) -> Result<Option<Delivery>, DomainError>;
    /// Records one attempt (or a final verdict without one, `attempt` unchanged).
    async fn record(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
        attempts: u32,
        outcome: &AttemptOutcome,
    ) -> Result<(), DomainError>;
    async fn list(&self, tenant: &TenantId, event_id: &str) -> Result<Vec<Delivery>, DomainError>;
}

#[async_trait]
pub trait DeliveryDispatcher: Send + Sync {
    /// Queues deliveries on their channels' queues; returns the indexes that failed.
    async fn dispatch(&self, deliveries: &[(Channel, DeliveryMessage)]) -> Result<Vec<usize>, DomainError>;
}

#[async_trait]
pub trait RetryScheduler: Send + Sync {
    /// Makes the message behind `receipt` come back after `delay`.
    async fn retry_in(&self, receipt: &str, delay: std::time::Duration) -> Result<(), DomainError>;
}
