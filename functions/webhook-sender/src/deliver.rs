//! One webhook delivery attempt per received message: sign, post, record the outcome, and
//! either finish the delivery or schedule the next attempt by delaying the message's return.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use notifier_domain::DomainError;
use notifier_domain::cache::CachedSubscriptions;
use notifier_domain::clock::unix_seconds;
use notifier_domain::delivery::AttemptOutcome;
use notifier_domain::messages::{DeliveryMessage, parse_message};
use notifier_domain::ports::{DeliveryRef, DeliveryStore, RetryScheduler};
use notifier_domain::retry::{RetrySchedule, after_failure, request_retry};
use notifier_domain::signing::{decode_secret, sign, webhook_body};
use notifier_domain::ssrf::{WebhookUrlPolicy, check_webhook_url};
use notifier_domain::subscription::{Channel, Subscription};
use thiserror::Error;

use crate::client::{PostOutcome, SignedRequest, WebhookClient};

#[derive(Debug, Error)]
pub enum DeliverError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Not a failure of this function: the delivery will be attempted again after a delay.
    #[error("attempt {attempt} failed ({reason}); retrying in {delay_seconds} s")]
    RetryLater {
        attempt: u32,
        reason: String,
        delay_seconds: u64,
    },
}

pub struct WebhookSender {
    pub subscriptions: CachedSubscriptions,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub retries: Arc<dyn RetryScheduler>,
    pub client: WebhookClient,
    pub schedule: RetrySchedule,
    pub url_policy: WebhookUrlPolicy,
    /// How long delivery records are kept.
    pub retention: Duration,
}

/// Which attempt this is: retries reuse the same SQS message (its return is delayed), so its
/// receive count counts the attempts.
fn attempt_number(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

impl WebhookSender {
    /// One attempt. It reads nothing per delivery (the subscription comes from a cache) and
    /// writes once: the outcome, which creates the delivery record on the first attempt. A
    /// duplicate message of a delivered webhook posts it again, which receivers dedupe by
    /// `webhook-id` (Standard Webhooks' at-least-once contract); its record stays delivered.
    pub async fn deliver_record(&self, record: SqsMessage) -> Result<(), DeliverError> {
        let DeliveryMessage::V1 {
            tenant_id,
            subscription_id,
            event,
        } = parse_message(record.body.as_deref())?;
        let delivery = DeliveryRef {
            tenant: tenant_id,
            event_id: event.id.clone(),
            subscription_id,
            channel: Channel::Webhook,
            expires_at: unix_seconds() + self.retention.as_secs(),
        };
        let subscription = self
            .subscriptions
            .get(&delivery.tenant, &delivery.subscription_id)
            .await?;
        let prepared = match subscription {
            None => Err("subscription was deleted".to_owned()),
            Some(subscription) if !subscription.enabled => Err("subscription is disabled".to_owned()),
            Some(subscription) => self.prepare(&subscription),
        };
        let (url, key) = match prepared {
            Ok(prepared) => prepared,
            Err(reason) => {
                let outcome = AttemptOutcome::failed(&reason);
                self.deliveries.record(&delivery, &outcome, false).await?;
                return Ok(());
            }
        };

        let body = webhook_body(&event);
        let timestamp = unix_seconds() as i64;
        let signature = sign(&key, &event.id, timestamp, &body);
        let posted = self
            .client
            .post(&SignedRequest {
                url: &url,
                webhook_id: &event.id,
                timestamp,
                signature: &signature,
                body: &body,
            })
            .await;
        self.conclude(
            &delivery,
            attempt_number(&record),
            posted,
            record.receipt_handle.as_deref(),
        )
        .await
    }

    /// The checked target URL and the signing key.
    fn prepare(&self, subscription: &Subscription) -> Result<(String, Vec<u8>), String> {
        let url = subscription
            .webhook_url()
            .ok_or_else(|| "subscription has no webhook URL".to_owned())?;
        let url = check_webhook_url(url, self.url_policy).map_err(|reason| format!("target URL {reason}"))?;
        let key = decode_secret(subscription.secret.as_deref().unwrap_or_default())?;
        Ok((url.into(), key))
    }

    async fn conclude(
        &self,
        delivery: &DeliveryRef,
        attempt: u32,
        posted: PostOutcome,
        receipt: Option<&str>,
    ) -> Result<(), DeliverError> {
        let event_id = delivery.event_id.as_str();
        let subscription_id = delivery.subscription_id.as_str();
        let Some(error) = posted.error else {
            let outcome = AttemptOutcome::delivered(posted.status_code);
            self.deliveries.record(delivery, &outcome, true).await?;
            tracing::info!(event_id, subscription_id, attempt, "delivered");
            return Ok(());
        };
        let (outcome, delay) = after_failure(
            &self.schedule,
            attempt,
            posted.kind,
            posted.retry_after,
            posted.status_code,
            &error,
        );
        self.deliveries.record(delivery, &outcome, true).await?;
        let reason = outcome.error.unwrap_or_default();
        let Some(delay) = delay else {
            tracing::warn!(
                event_id,
                subscription_id,
                attempt,
                reason,
                "delivery failed for good"
            );
            return Ok(());
        };
        request_retry(self.retries.as_ref(), receipt, delay).await;
        Err(DeliverError::RetryLater {
            attempt,
            reason,
            delay_seconds: delay.as_secs(),
        })
    }
}
