//! Routing a batch of events: find each tenant's subscriptions that want each event and queue
//! one delivery per match on its channel. The whole batch shares its requests: subscriptions
//! come from a cache, and every delivery of every record goes out in as few `SendMessageBatch`
//! calls as the channels allow. Routing writes nothing to DynamoDB: a delivery's record is
//! created by its first attempt. Safe to repeat: a repeated delivery finds its record final
//! (provider channels) or reaches a receiver that dedupes by `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use notifier_domain::DomainError;
use notifier_domain::cache::TtlCache;
use notifier_domain::ids::TenantId;
use notifier_domain::messages::RoutingEnvelope;
use notifier_domain::ports::{DeliveryDispatcher, RetryScheduler, SubscriptionStore};
use notifier_domain::routing::{QueuedDelivery, fan_out};
use notifier_domain::subscription::Subscription;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RouteError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} of the event's deliveries could not be queued")]
    NotAllQueued(usize),
    #[error("the event's deliveries could not be queued: {0}")]
    NotQueued(String),
}

pub struct Router {
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub cache: TtlCache<TenantId, Arc<Vec<Subscription>>>,
    pub dispatcher: Arc<dyn DeliveryDispatcher>,
    pub retries: Arc<dyn RetryScheduler>,
}

/// Wait before routing a failed record again: 2, 4, 8 ... seconds by receive count, at most
/// about four minutes, so a transient failure heals quickly and a poison message reaches the
/// dead-letter queue after the receive limit without waiting out the queue's visibility.
pub fn routing_backoff(receive_count: u32) -> Duration {
    Duration::from_secs(2u64.pow(receive_count.clamp(1, 8)))
}

impl Router {
    /// Routes a batch; answers with the records that failed (by index), each of which has
    /// also been given its retry delay.
    pub async fn route_batch(&self, records: Vec<SqsMessage>) -> Vec<(usize, RouteError)> {
        let mut failures = Vec::new();
        let mut deliveries: Vec<QueuedDelivery> = Vec::new();
        let mut origin = Vec::new();
        for (index, record) in records.iter().enumerate() {
            match self.deliveries_of(record).await {
                Ok(found) => {
                    origin.extend(std::iter::repeat_n(index, found.len()));
                    deliveries.extend(found);
                }
                Err(error) => failures.push((index, error)),
            }
        }
        if !deliveries.is_empty() {
            match self.dispatcher.dispatch(&deliveries).await {
                Ok(failed) => {
                    let mut unqueued = vec![0; records.len()];
                    for position in failed {
                        unqueued[origin[position]] += 1;
                    }
                    failures.extend(
                        unqueued
                            .into_iter()
                            .enumerate()
                            .filter(|(_, count)| *count > 0)
                            .map(|(index, count)| (index, RouteError::NotAllQueued(count))),
                    );
                }
                Err(error) => {
                    let mut routed = origin.clone();
                    routed.dedup();
                    failures.extend(
                        routed
                            .into_iter()
                            .map(|index| (index, RouteError::NotQueued(error.to_string()))),
                    );
                }
            }
        }
        failures.sort_by_key(|(index, _)| *index);
        for (index, _) in &failures {
            self.schedule_retry(&records[*index]).await;
        }
        failures
    }

    async fn deliveries_of(&self, record: &SqsMessage) -> Result<Vec<QueuedDelivery>, RouteError> {
        let (envelope, event) = RoutingEnvelope::parse(record.body.as_deref())?;
        let subscriptions = self.subscriptions_of(&envelope.tenant_id).await?;
        let deliveries = fan_out(&envelope, &event.event_type, &subscriptions);
        tracing::info!(tenant = %envelope.tenant_id, event_id = event.id, deliveries = deliveries.len(), "routing");
        Ok(deliveries)
    }

    async fn schedule_retry(&self, record: &SqsMessage) {
        let Some(receipt) = record.receipt_handle.as_deref() else {
            return;
        };
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        if let Err(problem) = self
            .retries
            .retry_in(receipt, routing_backoff(receive_count))
            .await
        {
            tracing::warn!(%problem, "could not set the routing retry delay");
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
    use notifier_domain::memory::{MemoryDispatcher, MemoryRetryScheduler, MemorySubscriptionStore};
    use notifier_domain::messages::{DeliveryMessage, Event, RoutingMessage};
    use notifier_domain::subscription::Channel;
    use serde_json::json;

    use super::*;

    struct Fixture {
        router: Router,
        subscriptions: Arc<MemorySubscriptionStore>,
        dispatcher: Arc<MemoryDispatcher>,
        retries: Arc<MemoryRetryScheduler>,
    }

    fn fixture() -> Fixture {
        let subscriptions = Arc::new(MemorySubscriptionStore::default());
        let dispatcher = Arc::new(MemoryDispatcher::default());
        let retries = Arc::new(MemoryRetryScheduler::default());
        let router = Router {
            subscriptions: subscriptions.clone(),
            cache: TtlCache::new(Duration::ZERO, 16),
            dispatcher: dispatcher.clone(),
            retries: retries.clone(),
        };
        Fixture {
            router,
            subscriptions,
            dispatcher,
            retries,
        }
    }

    fn tenant() -> TenantId {
        TenantId("ten_a".into())
    }

    async fn subscribe(fixture: &Fixture, id: &str, patterns: &[&str], channel: Channel) {
        let subscription = Subscription {
            subscription_id: id.into(),
            event_types: patterns.iter().map(|p| p.to_string()).collect(),
            channel,
            target: json!({"url": "https://example.com"}),
            template: None,
            description: None,
            enabled: true,
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

    fn record(event_id: &str, event_type: &str) -> SqsMessage {
        let message = RoutingMessage::V1 {
            tenant_id: tenant(),
            event: Event {
                id: event_id.into(),
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
        record.receipt_handle = Some(format!("receipt-{event_id}"));
        record
    }

    fn sent(f: &Fixture) -> Vec<(String, String, Channel)> {
        let mut sent: Vec<_> = f
            .dispatcher
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(
                |(
                    channel,
                    DeliveryMessage::V1 {
                        subscription_id,
                        event,
                        ..
                    },
                )| (event.id.clone(), subscription_id.clone(), *channel),
            )
            .collect();
        sent.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        sent
    }

    #[tokio::test]
    async fn a_batch_fans_out_every_event_in_one_dispatch() {
        let f = fixture();
        subscribe(&f, "sub_orders", &["order.*"], Channel::Webhook).await;
        subscribe(&f, "sub_paid", &["order.paid"], Channel::Email).await;
        let failures = f
            .router
            .route_batch(vec![
                record("evt_1", "order.paid"),
                record("evt_2", "order.shipped"),
                record("evt_3", "user.created"),
            ])
            .await;
        assert!(failures.is_empty());
        assert_eq!(
            sent(&f),
            [
                ("evt_1".into(), "sub_orders".into(), Channel::Webhook),
                ("evt_1".into(), "sub_paid".into(), Channel::Email),
                ("evt_2".into(), "sub_orders".into(), Channel::Webhook),
            ]
        );
        assert_eq!(
            *f.dispatcher.calls.lock().unwrap(),
            1,
            "one dispatch for the whole batch"
        );
    }

    #[tokio::test]
    async fn an_event_nobody_wants_queues_nothing() {
        let f = fixture();
        subscribe(&f, "sub_1", &["user.*"], Channel::Webhook).await;
        assert!(
            f.router
                .route_batch(vec![record("evt_1", "order.paid")])
                .await
                .is_empty()
        );
        assert!(f.dispatcher.sent.lock().unwrap().is_empty());
        assert_eq!(*f.dispatcher.calls.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn only_the_records_that_failed_fail_and_get_a_retry_delay() {
        let f = fixture();
        subscribe(&f, "sub_sms", &["sms.*"], Channel::Sms).await;
        subscribe(&f, "sub_hook", &["hook.*"], Channel::Webhook).await;
        f.dispatcher.failing.lock().unwrap().push(Channel::Sms);
        let mut garbage = record("evt_bad", "x.y");
        garbage.body = Some("{}".into());
        let failures = f
            .router
            .route_batch(vec![record("evt_1", "hook.a"), garbage, record("evt_3", "sms.b")])
            .await;
        let failed: Vec<_> = failures.iter().map(|(index, _)| *index).collect();
        assert_eq!(failed, [1, 2]);
        assert!(matches!(failures[0].1, RouteError::Domain(_)));
        assert!(matches!(failures[1].1, RouteError::NotAllQueued(1)));
        assert_eq!(sent(&f), [("evt_1".into(), "sub_hook".into(), Channel::Webhook)]);
        let scheduled = f.retries.scheduled.lock().unwrap();
        assert_eq!(
            *scheduled,
            [
                ("receipt-evt_bad".to_owned(), Duration::from_secs(2)),
                ("receipt-evt_3".to_owned(), Duration::from_secs(2))
            ]
        );
    }

    #[test]
    fn routing_backoff_doubles_and_is_bounded() {
        assert_eq!(routing_backoff(0), Duration::from_secs(2));
        assert_eq!(routing_backoff(1), Duration::from_secs(2));
        assert_eq!(routing_backoff(3), Duration::from_secs(8));
        assert_eq!(routing_backoff(50), Duration::from_secs(256));
    }
}
