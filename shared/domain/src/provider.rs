//! Delivering through a provider (SES for email, SNS for SMS and push): claim the delivery,
//! resolve the recipient, render the template, send once, and record the outcome.
//!
//! No duplicate sends: an SQS redelivery of a message whose notification already went out must
//! not send it again. Before calling the provider the sender claims the delivery record for a
//! lease (a conditional write that fails while another claim is live or once the delivery is
//! final); the outcome is recorded, and the claim released, right after the call. The window
//! that remains: a crash after the provider accepted the message and before the outcome was
//! recorded leaves a lapsed claim, and the redelivered message sends once more.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use crate::DomainError;
use crate::cache::CachedSubscriptions;
use crate::clock::{unix_ms, unix_seconds};
use crate::delivery::AttemptOutcome;
use crate::messages::{DeliveryMessage, Event};
use crate::ports::{ClaimOutcome, DeliveryRef, DeliveryStore, RetryScheduler};
use crate::recipient::{read_recipient, resolve_recipient};
use crate::retry::{FailureKind, RetrySchedule, after_failure, request_retry};
use crate::subscription::Channel;
use crate::template::render;

/// How a provider refused a message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendError {
    /// Rate limited: retry, not too soon.
    #[error("throttled: {0}")]
    Throttled(String),
    /// A passing fault (timeouts, 5xx): retry.
    #[error("{0}")]
    Transient(String),
    /// Will never succeed (rejected message, invalid parameter, disabled endpoint).
    #[error("{0}")]
    Permanent(String),
}

/// Port: one provider call. `content` holds the rendered template fields.
#[async_trait]
pub trait Provider: Send + Sync {
    fn channel(&self) -> Channel;
    async fn send(
        &self,
        recipient: &str,
        content: &BTreeMap<String, String>,
        event: &Event,
    ) -> Result<(), SendError>;
}

#[derive(Debug, Error)]
pub enum ProviderDeliveryError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Not a fault of this function: the message comes back after `delay_seconds`.
    #[error("delivery not finished ({reason}); next try in {delay_seconds} s")]
    RetryLater { reason: String, delay_seconds: u64 },
}

pub struct ProviderDelivery {
    pub subscriptions: CachedSubscriptions,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub retries: Arc<dyn RetryScheduler>,
    pub provider: Arc<dyn Provider>,
    pub schedule: RetrySchedule,
    /// How long a claim holds off other attempts; longer than one provider call can take.
    pub claim_lease: Duration,
    /// How long delivery records are kept.
    pub retention: Duration,
}

impl ProviderDelivery {
    pub async fn deliver(
        &self,
        message: DeliveryMessage,
        receipt: Option<&str>,
    ) -> Result<(), ProviderDeliveryError> {
        let DeliveryMessage::V1 {
            tenant_id,
            subscription_id,
            event,
        } = message;
        let delivery = DeliveryRef {
            tenant: tenant_id,
            event_id: event.id.clone(),
            subscription_id,
            channel: self.provider.channel(),
            expires_at: unix_seconds() + self.retention.as_secs(),
        };
        let now = unix_ms();
        let claim = self
            .deliveries
            .claim(&delivery, now, now + self.claim_lease.as_millis() as u64)
            .await?;
        let attempts_so_far = match claim {
            ClaimOutcome::Claimed { attempts } => attempts,
            ClaimOutcome::Final => return Ok(()),
            ClaimOutcome::Busy => {
                return self
                    .come_back(
                        receipt,
                        self.claim_lease,
                        "another attempt holds the delivery".into(),
                    )
                    .await;
            }
        };
        let subscription = self
            .subscriptions
            .get(&delivery.tenant, &delivery.subscription_id)
            .await?;
        let prepared = match subscription {
            None => Err("subscription was deleted".to_owned()),
            Some(subscription) if !subscription.enabled => Err("subscription is disabled".to_owned()),
            Some(subscription) => self.prepare(&subscription.target, subscription.template.as_ref(), &event),
        };
        let (recipient, content) = match prepared {
            Ok(prepared) => prepared,
            Err(reason) => {
                let outcome = AttemptOutcome::failed(&reason);
                return Ok(self.deliveries.record(&delivery, &outcome, false).await?);
            }
        };

        let attempt = attempts_so_far + 1;
        let sent = self.provider.send(&recipient, &content, &event).await;
        self.conclude(&delivery, attempt, sent, receipt).await
    }

    fn prepare(
        &self,
        target: &serde_json::Value,
        template: Option<&serde_json::Value>,
        event: &Event,
    ) -> Result<(String, BTreeMap<String, String>), String> {
        let channel = self.provider.channel();
        let event_json = serde_json::to_value(event).map_err(|e| format!("event did not serialise: {e}"))?;
        let recipient = read_recipient(channel, target).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let address = resolve_recipient(channel, &recipient, &event_json)?;
        let content = render(template.ok_or("subscription has no template")?, &event_json)?;
        Ok((address, content))
    }

    async fn conclude(
        &self,
        delivery: &DeliveryRef,
        attempt: u32,
        sent: Result<(), SendError>,
        receipt: Option<&str>,
    ) -> Result<(), ProviderDeliveryError> {
        let (kind, error) = match sent {
            Ok(()) => {
                let outcome = AttemptOutcome::delivered(None);
                return Ok(self.deliveries.record(delivery, &outcome, true).await?);
            }
            Err(SendError::Permanent(reason)) => {
                let outcome = AttemptOutcome::failed(&reason);
                return Ok(self.deliveries.record(delivery, &outcome, true).await?);
            }
            Err(SendError::Throttled(reason)) => (FailureKind::Throttled, format!("throttled: {reason}")),
            Err(SendError::Transient(reason)) => (FailureKind::Ordinary, reason),
        };
        let (outcome, delay) = after_failure(&self.schedule, attempt, kind, None, None, &error);
        self.deliveries.record(delivery, &outcome, true).await?;
        match delay {
            Some(delay) => {
                self.come_back(receipt, delay, outcome.error.unwrap_or_default())
                    .await
            }
            None => Ok(()),
        }
    }

    async fn come_back(
        &self,
        receipt: Option<&str>,
        delay: Duration,
        reason: String,
    ) -> Result<(), ProviderDeliveryError> {
        request_retry(self.retries.as_ref(), receipt, delay).await;
        Err(ProviderDeliveryError::RetryLater {
            reason,
            delay_seconds: delay.as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;
    use crate::delivery::DeliveryStatus;
    use crate::ids::TenantId;
    use crate::memory::{MemoryDeliveryStore, MemoryRetryScheduler, MemorySubscriptionStore};
    use crate::ports::SubscriptionStore;
    use crate::subscription::Subscription;

    /// Records what it was asked to send; answers from a script, then Ok.
    #[derive(Default)]
    struct FakeSms {
        sent: Mutex<Vec<(String, BTreeMap<String, String>)>>,
        script: Mutex<Vec<SendError>>,
    }

    #[async_trait]
    impl Provider for FakeSms {
        fn channel(&self) -> Channel {
            Channel::Sms
        }

        async fn send(
            &self,
            recipient: &str,
            content: &BTreeMap<String, String>,
            _: &Event,
        ) -> Result<(), SendError> {
            self.sent
                .lock()
                .unwrap()
                .push((recipient.to_owned(), content.clone()));
            let mut script = self.script.lock().unwrap();
            if script.is_empty() {
                Ok(())
            } else {
                Err(script.remove(0))
            }
        }
    }

    struct Fixture {
        delivery: ProviderDelivery,
        provider: Arc<FakeSms>,
        deliveries: Arc<MemoryDeliveryStore>,
        retries: Arc<MemoryRetryScheduler>,
    }

    async fn fixture(target: serde_json::Value) -> Fixture {
        let subscriptions = Arc::new(MemorySubscriptionStore::default());
        let deliveries = Arc::new(MemoryDeliveryStore::default());
        let retries = Arc::new(MemoryRetryScheduler::default());
        let provider = Arc::new(FakeSms::default());
        let tenant = TenantId("ten_a".into());
        let subscription = Subscription {
            subscription_id: "sub_1".into(),
            event_types: vec!["*".into()],
            channel: Channel::Sms,
            target,
            template: Some(json!({"text": "Order {{ data.order_id }} is {{ type }}"})),
            description: None,
            enabled: true,
            secret: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        subscriptions.insert(&tenant, &subscription).await.unwrap();
        let delivery = ProviderDelivery {
            subscriptions: CachedSubscriptions::new(subscriptions, Duration::from_secs(60)),
            deliveries: deliveries.clone(),
            retries: retries.clone(),
            provider: provider.clone(),
            schedule: RetrySchedule::parse("10,20").unwrap(),
            claim_lease: Duration::from_secs(60),
            retention: Duration::from_secs(3600),
        };
        Fixture {
            delivery,
            provider,
            deliveries,
            retries,
        }
    }

    fn message() -> DeliveryMessage {
        DeliveryMessage::V1 {
            tenant_id: TenantId("ten_a".into()),
            subscription_id: "sub_1".into(),
            event: Event {
                id: "evt_1".into(),
                event_type: "order.shipped".into(),
                source: None,
                subject: None,
                time: None,
                received_at: "2026-12-03T10:00:00Z".into(),
                data: json!({"order_id": "ord_7", "phone": "+15555550199"}),
            },
        }
    }

    fn delivery_ref() -> DeliveryRef {
        DeliveryRef {
            tenant: TenantId("ten_a".into()),
            event_id: "evt_1".into(),
            subscription_id: "sub_1".into(),
            channel: Channel::Sms,
            expires_at: 0,
        }
    }

    async fn record(f: &Fixture) -> crate::delivery::Delivery {
        let mut records = f
            .deliveries
            .list(&TenantId("ten_a".into()), "evt_1")
            .await
            .unwrap();
        assert_eq!(records.len(), 1, "one record per delivery");
        records.remove(0)
    }

    #[tokio::test]
    async fn sends_once_with_the_rendered_text_and_ignores_redelivery() {
        let f = fixture(json!({"phone_path": "/data/phone"})).await;
        f.delivery.deliver(message(), Some("r1")).await.unwrap();
        f.delivery.deliver(message(), Some("r1")).await.unwrap();
        let sent = f.provider.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1, "a redelivered message must not send again");
        assert_eq!(sent[0].0, "+15555550199");
        assert_eq!(sent[0].1["text"], "Order ord_7 is order.shipped");
        let delivered = record(&f).await;
        assert_eq!(
            (delivered.status, delivered.attempts),
            (DeliveryStatus::Delivered, 1)
        );
    }

    #[tokio::test]
    async fn a_live_claim_holds_off_a_concurrent_attempt() {
        let f = fixture(json!({"phone": "+15555550100"})).await;
        let now = unix_ms();
        f.deliveries
            .claim(&delivery_ref(), now, now + 60_000)
            .await
            .unwrap();
        let outcome = f.delivery.deliver(message(), Some("r1")).await;
        assert!(matches!(outcome, Err(ProviderDeliveryError::RetryLater { .. })));
        assert!(f.provider.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unresolvable_recipient_fails_the_delivery_without_sending() {
        let f = fixture(json!({"phone_path": "/data/nobody"})).await;
        f.delivery.deliver(message(), None).await.unwrap();
        assert!(f.provider.sent.lock().unwrap().is_empty());
        let failed = record(&f).await;
        assert_eq!(failed.status, DeliveryStatus::Failed);
        assert_eq!(
            failed.last_error.as_deref(),
            Some("recipient path /data/nobody does not exist in the event")
        );
    }

    #[tokio::test]
    async fn permanent_errors_fail_at_once_with_the_providers_reason() {
        let f = fixture(json!({"phone": "+15555550100"})).await;
        f.provider
            .script
            .lock()
            .unwrap()
            .push(SendError::Permanent("InvalidParameter: bad number".into()));
        f.delivery.deliver(message(), Some("r1")).await.unwrap();
        let failed = record(&f).await;
        assert_eq!((failed.status, failed.attempts), (DeliveryStatus::Failed, 1));
        assert_eq!(failed.last_error.as_deref(), Some("InvalidParameter: bad number"));
        assert!(f.retries.scheduled.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn throttling_is_retried_after_the_floor_then_gives_up_after_the_schedule() {
        let f = fixture(json!({"phone": "+15555550100"})).await;
        for _ in 0..3 {
            f.provider
                .script
                .lock()
                .unwrap()
                .push(SendError::Throttled("Throttled".into()));
        }
        let first = f.delivery.deliver(message(), Some("r1")).await;
        assert!(matches!(first, Err(ProviderDeliveryError::RetryLater { .. })));
        assert_eq!(record(&f).await.status, DeliveryStatus::Retrying);
        assert!(f.retries.scheduled.lock().unwrap()[0].1 >= crate::retry::THROTTLE_FLOOR);
        assert!(f.delivery.deliver(message(), Some("r1")).await.is_err());
        f.delivery.deliver(message(), Some("r1")).await.unwrap();
        let failed = record(&f).await;
        assert_eq!((failed.status, failed.attempts), (DeliveryStatus::Failed, 3));
        assert_eq!(failed.last_error.as_deref(), Some("throttled: Throttled"));
    }
}
