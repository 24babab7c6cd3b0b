//! One webhook delivery attempt per received message: sign, post, record the outcome, and
//! either finish the delivery or schedule the next attempt by delaying the message's return.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsMessage;
use notifier_domain::DomainError;
use notifier_domain::clock::unix_seconds;
use notifier_domain::delivery::AttemptOutcome;
use notifier_domain::ids::TenantId;
use notifier_domain::messages::{DeliveryMessage, Event, parse_message};
use notifier_domain::ports::{DeliveryStore, RetryScheduler, SubscriptionStore};
use notifier_domain::retry::{RetrySchedule, after_failure, request_retry};
use notifier_domain::signing::{decode_secret, sign};
use notifier_domain::ssrf::{WebhookUrlPolicy, check_webhook_url};
use serde_json::json;
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
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub retries: Arc<dyn RetryScheduler>,
    pub client: WebhookClient,
    pub schedule: RetrySchedule,
    pub url_policy: WebhookUrlPolicy,
}

/// The body every receiver gets (the contract's webhook payload).
pub fn webhook_body(event: &Event) -> String {
    json!({
        "id": event.id,
        "type": event.event_type,
        "timestamp": event.time.as_deref().unwrap_or(&event.received_at),
        "data": event.data,
    })
    .to_string()
}

impl WebhookSender {
    pub async fn deliver_record(&self, record: SqsMessage) -> Result<(), DeliverError> {
        let DeliveryMessage::V1 {
            tenant_id,
            subscription_id,
            event,
        } = parse_message(record.body.as_deref())?;
        let record_so_far = self
            .deliveries
            .get(&tenant_id, &event.id, &subscription_id)
            .await?;
        if record_so_far.as_ref().is_some_and(|d| d.status.is_final()) {
            tracing::info!(
                event_id = event.id,
                subscription_id,
                "delivery already final; message dropped"
            );
            return Ok(());
        }
        let attempts_so_far = record_so_far.map_or(0, |d| d.attempts);

        let subscription = match self.subscriptions.get(&tenant_id, &subscription_id).await? {
            Some(subscription) if subscription.enabled => subscription,
            found => {
                let reason = if found.is_some() {
                    "subscription is disabled"
                } else {
                    "subscription was deleted"
                };
                let outcome = AttemptOutcome::failed(reason);
                self.deliveries
                    .record(&tenant_id, &event.id, &subscription_id, attempts_so_far, &outcome)
                    .await?;
                return Ok(());
            }
        };
        let prepared = subscription
            .webhook_url()
            .ok_or_else(|| "subscription has no webhook URL".to_owned())
            .and_then(|url| {
                check_webhook_url(url, self.url_policy).map_err(|reason| format!("target URL {reason}"))
            })
            .and_then(|url| {
                let key = decode_secret(subscription.secret.as_deref().unwrap_or_default())?;
                Ok((url, key))
            });
        let (url, key) = match prepared {
            Ok(prepared) => prepared,
            Err(reason) => {
                let outcome = AttemptOutcome::failed(&reason);
                self.deliveries
                    .record(&tenant_id, &event.id, &subscription_id, attempts_so_far, &outcome)
                    .await?;
                return Ok(());
            }
        };

        let attempt = attempts_so_far + 1;
        let body = webhook_body(&event);
        let timestamp = unix_seconds() as i64;
        let signature = sign(&key, &event.id, timestamp, &body);
        let posted = self
            .client
            .post(&SignedRequest {
                url: url.as_str(),
                webhook_id: &event.id,
                timestamp,
                signature: &signature,
                body: &body,
            })
            .await;
        self.conclude(
            &tenant_id,
            &event.id,
            &subscription_id,
            attempt,
            posted,
            record.receipt_handle.as_deref(),
        )
        .await
    }

    async fn conclude(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
        attempt: u32,
        posted: PostOutcome,
        receipt: Option<&str>,
    ) -> Result<(), DeliverError> {
        let Some(error) = posted.error else {
            let outcome = AttemptOutcome::delivered(posted.status_code);
            self.deliveries
                .record(tenant, event_id, subscription_id, attempt, &outcome)
                .await?;
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
        self.deliveries
            .record(tenant, event_id, subscription_id, attempt, &outcome)
            .await?;
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
