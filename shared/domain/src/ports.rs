//! The ports: the few questions each function asks of storage and queues. Adapters in
//! `notifier-aws` answer them with DynamoDB and SQS; each function asks only for the ports it
//! uses, as its IAM policy allows only the calls it makes.

use async_trait::async_trait;

use crate::DomainError;
use crate::delivery::{AttemptOutcome, Delivery};
use crate::ids::TenantId;
use crate::messages::{Event, RoutingMessage};
use crate::routing::QueuedDelivery;
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
    /// Stores each event whose id is free, in as few requests as the store allows; one
    /// outcome per event, in order. The ids must be distinct.
    async fn insert_batch(
        &self,
        tenant: &TenantId,
        events: &[StoredEvent],
    ) -> Result<Vec<InsertOutcome>, DomainError>;
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
    /// Queues several messages in as few requests as the queue allows; returns the indexes
    /// of those that were not queued.
    async fn enqueue_batch(&self, messages: &[RoutingMessage]) -> Result<Vec<usize>, DomainError>;
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

/// The delivery a sender works on, with what the record needs if this attempt creates it.
/// Records are created by a delivery's first attempt (or claim), not when the event is
/// routed: routing then costs no write at all.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRef {
    pub tenant: TenantId,
    pub event_id: String,
    pub subscription_id: String,
    pub channel: Channel,
    /// Unix seconds after which the store may forget the record.
    pub expires_at: u64,
}

/// The answer to a sender's claim on a delivery before it calls a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This attempt may send; `attempts` were made before it.
    Claimed { attempts: u32 },
    /// Another attempt holds a live claim: try again after it lapses.
    Busy,
    /// Delivered or failed already: nothing to do.
    Final,
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims the delivery until `until_ms` unless it is final or another live claim holds it,
    /// creating its record (`pending`, no attempts) on the first claim. Recording an outcome
    /// releases the claim.
    async fn claim(
        &self,
        delivery: &DeliveryRef,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<ClaimOutcome, DomainError>;
    /// Records an outcome in one write, creating the record if this is the first; a final
    /// record is never changed. `attempted` counts one more attempt (a verdict reached without
    /// calling anyone, such as a deleted subscription, counts none).
    async fn record(
        &self,
        delivery: &DeliveryRef,
        outcome: &AttemptOutcome,
        attempted: bool,
    ) -> Result<(), DomainError>;
    async fn list(&self, tenant: &TenantId, event_id: &str) -> Result<Vec<Delivery>, DomainError>;
}

#[async_trait]
pub trait DeliveryDispatcher: Send + Sync {
    /// Queues deliveries on their channels' queues; returns the indexes that failed.
    async fn dispatch(&self, deliveries: &[QueuedDelivery]) -> Result<Vec<usize>, DomainError>;
}

#[async_trait]
pub trait RetryScheduler: Send + Sync {
    /// Makes the message behind `receipt` come back after `delay`.
    async fn retry_in(&self, receipt: &str, delay: std::time::Duration) -> Result<(), DomainError>;
}
