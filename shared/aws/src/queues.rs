//! SQS adapters: the routing queue (ingest → router), the channel queues (router → senders),
//! and postponing a message's next receive (a sender's retry with backoff).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use notifier_domain::DomainError;
use notifier_domain::messages::{DeliveryMessage, RoutingMessage};
use notifier_domain::ports::{DeliveryDispatcher, RetryScheduler, RoutingQueue};
use notifier_domain::subscription::Channel;

use crate::AdapterError;

/// SQS takes at most ten messages per batch.
const BATCH_LIMIT: usize = 10;

#[derive(Clone)]
pub struct SqsRoutingQueue {
    client: Client,
    url: String,
}

impl SqsRoutingQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

#[async_trait]
impl RoutingQueue for SqsRoutingQueue {
    async fn enqueue(&self, message: &RoutingMessage) -> Result<(), DomainError> {
        let body = serde_json::to_string(message)
            .map_err(|e| DomainError::Storage(format!("routing message did not serialise: {e}")))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| AdapterError::service("SendMessage (routing)", e))?;
        Ok(())
    }
}

/// Sends deliveries to the queue of their channel, ten per `SendMessageBatch`.
#[derive(Clone)]
pub struct SqsDeliveryDispatcher {
    client: Client,
    queue_urls: HashMap<Channel, String>,
}

impl SqsDeliveryDispatcher {
    pub fn new(client: Client, queue_urls: HashMap<Channel, String>) -> Self {
        Self { client, queue_urls }
    }
}

#[async_trait]
impl DeliveryDispatcher for SqsDeliveryDispatcher {
    async fn dispatch(&self, deliveries: &[(Channel, DeliveryMessage)]) -> Result<Vec<usize>, DomainError> {
        let mut failed = Vec::new();
        let mut by_channel: HashMap<Channel, Vec<usize>> = HashMap::new();
        for (index, (channel, _)) in deliveries.iter().enumerate() {
            by_channel.entry(*channel).or_default().push(index);
        }
        for (channel, indexes) in by_channel {
            let Some(url) = self.queue_urls.get(&channel) else {
                tracing::error!(channel = channel.as_str(), "no queue configured for channel");
                failed.extend(indexes);
                continue;
            };
            for chunk in indexes.chunks(BATCH_LIMIT) {
                let mut entries = Vec::with_capacity(chunk.len());
                for &index in chunk {
                    let body = serde_json::to_string(&deliveries[index].1).map_err(|e| {
                        DomainError::Storage(format!("delivery message did not serialise: {e}"))
                    })?;
                    let entry = SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| AdapterError::service("build batch entry", e))?;
                    entries.push(entry);
                }
                match self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                {
                    Ok(output) => {
                        for entry in output.failed() {
                            tracing::warn!(id = entry.id(), code = entry.code(), "delivery not queued");
                            failed.extend(entry.id().parse::<usize>().ok());
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %AdapterError::service("SendMessageBatch", error), "deliveries not queued");
                        failed.extend_from_slice(chunk);
                    }
                }
            }
        }
        failed.sort_unstable();
        Ok(failed)
    }
}

/// Makes a received message visible again after `delay`: how a sender schedules a retry.
#[derive(Clone)]
pub struct SqsRetryScheduler {
    client: Client,
    url: String,
}

impl SqsRetryScheduler {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

#[async_trait]
impl RetryScheduler for SqsRetryScheduler {
    async fn retry_in(&self, receipt_handle: &str, delay: Duration) -> Result<(), DomainError> {
        let seconds = delay.as_secs().min(12 * 60 * 60) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| AdapterError::service("ChangeMessageVisibility", e))?;
        Ok(())
    }
}
