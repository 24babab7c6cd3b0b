//! Routing one event: find the tenant's subscriptions that want it, record one pending delivery
//! per subscription, and queue each on its channel. Safe to repeat: records that exist are kept,
//! and senders ignore deliveries already final.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use notifier_domain::DomainError;
use notifier_domain::cache::TtlCache;
use notifier_domain::clock::unix_seconds;
use notifier_domain::ids::TenantId;
use notifier_domain::messages::{DeliveryMessage, RoutingMessage, parse_message};
use notifier_domain::ports::{
    DeliveryDispatcher, DeliveryStore, NewDelivery, RetryScheduler, SubscriptionStore,
};
use notifier_domain::subscription::Subscription;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RouteError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} of the event's deliveries could not be queued")]
    NotAllQueued(usize),
}

pub struct Router {
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub cache: TtlCache<TenantId, Arc<Vec<Subscription>>>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub dispatcher: Arc<dyn DeliveryDispatcher>,
    pub retries: Arc<dyn RetryScheduler>,
    pub retention: Duration,
}

/// Wait before routing a failed record again: 2, 4, 8 ... seconds by receive count, at most
/// about four minutes, so a transient failure heals quickly and a poison message reaches the
/// dead-letter queue after the receive limit without waiting out the queue's visibility.
pub fn routing_backoff(receive_count: u32) -> Duration {
    Duration::from_secs(2u64.pow(receive_count.clamp(1, 8)))
}

impl Router {
    /// Routes one record; a failure also sets when SQS offers the record again.
    pub async fn handle(&self, record: SqsMessage) -> Result<(), RouteError> {
        let receipt = record.receipt_handle.clone();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        let result = self.route_record(record).await;
        if result.is_err()
            && let Some(receipt) = receipt
            && let Err(problem) = self
                .retries
                .retry_in(&receipt, routing_backoff(receive_count))
                .await
        {
            tracing::warn!(%problem, "could not set the routing retry delay");
        }
        result
    }

    pub async fn route_record(&self, record: SqsMessage) -> Result<(), RouteError> {
        let RoutingMessage::V1 { tenant_id, event } = parse_message(record.body.as_deref())?;
        let subscriptions = self.subscriptions_of(&tenant_id).await?;
        let matching: Vec<&Subscription> = subscriptions
            .iter()
            .filter(|s| s.wants(&event.event_type))
            .collect();
        tracing::info!(tenant = %tenant_id, event_id = event.id, deliveries = matching.len(), "routing");
        if matching.is_empty() {
            return Ok(());
        }
        let new: Vec<NewDelivery> = matching
            .iter()
            .map(|s| NewDelivery {
                subscription_id: s.subscription_id.clone(),
                channel: s.channel,
            })
            .collect();
        let expires_at = unix_seconds() + self.retention.as_secs();
        self.deliveries
            .create_pending(&tenant_id, &event.id, &new, expires_at)
            .await?;
        let messages: Vec<_> = matching
            .iter()
            .map(|s| {
                let message = DeliveryMessage::V1 {
                    tenant_id: tenant_id.clone(),
                    subscription_id: s.subscription_id.clone(),
                    event: event.clone(),
                };
                (s.channel, message)
            })
            .collect();
        let failed = self.dispatcher.dispatch(&messages).await?;
        if failed.is_empty() {
            Ok(())
        } else {
            Err(RouteError::NotAllQueued(failed.len()))
        }
    }

    async fn subscriptions_of(&self, tenant: &TenantId) -> Result<Arc<Vec<Subscription>>, DomainError> {
        if let Some(cached) = self.cache.get(tenant) {
            return Ok(cached);
        }
        let fresh = Arc::new(self.subscriptions.list(tenant).await?);
        self.cache.insert(tenant.clone(), fresh.clone());
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use notifier_domain::memory::{
        MemoryDeliveryStore, MemoryDispatcher, MemoryRetryScheduler, MemorySubscriptionStore,
    };
    use notifier_domain::messages::Event;
    use notifier_domain::subscription::Channel;
    use serde_json::json;

    use super::*;

    struct Fixture {
        router: Router,
        subscriptions: Arc<MemorySubscriptionStore>,
        deliveries: Arc<MemoryDeliveryStore>,
        dispatcher: Arc<MemoryDispatcher>,
        retries: Arc<MemoryRetryScheduler>,
    }

    fn fixture() -> Fixture {
        let subscriptions = Arc::new(MemorySubscriptionStore::default());
        let deliveries = Arc::new(MemoryDeliveryStore::default());
        let dispatcher = Arc::new(MemoryDispatcher::default());
        let retries = Arc::new(MemoryRetryScheduler::default());
        let router = Router {
            subscriptions: subscriptions.clone(),
            cache: TtlCache::new(Duration::ZERO, 16),
            deliveries: deliveries.clone(),
            dispatcher: dispatcher.clone(),
            retries: retries.clone(),
            retention: Duration::from_secs(3600),
        };
        Fixture {
            router,
            subscriptions,
            deliveries,
            dispatcher,
            retries,
        }
    }

    fn tenant() -> TenantId {
        TenantId("ten_a".into())
    }

    async fn subscribe(fixture: &Fixture, id: &str, patterns: &[&str], channel: Channel, enabled: bool) {
        let subscription = Subscription {
            subscription_id: id.into(),
            event_types: patterns.iter().map(|p| p.to_string()).collect(),
            channel,
            target: json!({"url": "https://example.com"}),
            template: None,
            description: None,
            enabled,
            secret: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        fixture
            .subscriptions
            .insert(&tenant(), &subscription)
            .await
            .unwrap();
    }

    fn record(event_type: &str) -> SqsMessage {
        let message = RoutingMessage::V1 {
            tenant_id: tenant(),
            event: Event {
                id: "evt_1".into(),
                event_type: event_type.into(),
                source: None,
                subject: None,
                time: None,
                received_at: "2026-12-03T10:00:00Z".into(),
                data: json!({"k": 1}),
            },
        };
        let mut record = SqsMessage::default();
        record.body = Some(serde_json::to_string(&message).unwrap());
        record.receipt_handle = Some("receipt-1".into());
        record
    }

    #[tokio::test]
    async fn one_delivery_per_enabled_matching_subscription() {
        let f = fixture();
        subscribe(&f, "sub_exact", &["order.paid"], Channel::Webhook, true).await;
        subscribe(&f, "sub_prefix", &["order.*"], Channel::Email, true).await;
        subscribe(&f, "sub_all", &["*"], Channel::Sms, true).await;
        subscribe(&f, "sub_off", &["*"], Channel::Webhook, false).await;
        subscribe(&f, "sub_other", &["user.*"], Channel::Webhook, true).await;
        f.router.handle(record("order.paid")).await.unwrap();

        let sent = f.dispatcher.sent.lock().unwrap().clone();
        let mut routed: Vec<_> = sent
            .iter()
            .map(
                |(
                    channel,
                    DeliveryMessage::V1 {
                        subscription_id,
                        event,
                        ..
                    },
                )| {
                    assert_eq!(event.id, "evt_1");
                    (subscription_id.clone(), *channel)
                },
            )
            .collect();
        routed.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            routed,
            [
                ("sub_all".into(), Channel::Sms),
                ("sub_exact".into(), Channel::Webhook),
                ("sub_prefix".into(), Channel::Email)
            ]
        );
        let records = f.deliveries.list(&tenant(), "evt_1").await.unwrap();
        assert_eq!(records.len(), 3);
        assert!(
            records
                .iter()
                .all(|d| d.status == notifier_domain::delivery::DeliveryStatus::Pending)
        );
    }

    #[tokio::test]
    async fn an_event_nobody_wants_creates_nothing() {
        let f = fixture();
        subscribe(&f, "sub_1", &["user.*"], Channel::Webhook, true).await;
        f.router.handle(record("order.paid")).await.unwrap();
        assert!(f.dispatcher.sent.lock().unwrap().is_empty());
        assert!(f.deliveries.list(&tenant(), "evt_1").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn routing_twice_keeps_one_record_per_subscription() {
        let f = fixture();
        subscribe(&f, "sub_1", &["*"], Channel::Webhook, true).await;
        f.router.handle(record("a.b")).await.unwrap();
        f.router.handle(record("a.b")).await.unwrap();
        assert_eq!(f.deliveries.list(&tenant(), "evt_1").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failure_fails_the_record_and_schedules_its_retry() {
        let f = fixture();
        subscribe(&f, "sub_1", &["*"], Channel::Webhook, true).await;
        f.dispatcher.failing.lock().unwrap().push(Channel::Webhook);
        assert!(matches!(
            f.router.handle(record("a.b")).await,
            Err(RouteError::NotAllQueued(1))
        ));
        let mut garbage = record("a.b");
        garbage.body = Some("{}".into());
        assert!(matches!(
            f.router.handle(garbage).await,
            Err(RouteError::Domain(_))
        ));
        let scheduled = f.retries.scheduled.lock().unwrap();
        assert_eq!(scheduled.len(), 2);
        assert_eq!(scheduled[0], ("receipt-1".into(), Duration::from_secs(2)));
    }

    #[test]
    fn routing_backoff_doubles_and_is_bounded() {
        assert_eq!(routing_backoff(0), Duration::from_secs(2));
        assert_eq!(routing_backoff(1), Duration::from_secs(2));
        assert_eq!(routing_backoff(3), Duration::from_secs(8));
        assert_eq!(routing_backoff(50), Duration::from_secs(256));
    }
}
