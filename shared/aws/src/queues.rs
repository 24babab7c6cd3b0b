//! SQS adapters: the routing queue (ingest → router), the channel queues (router → senders),
//! and postponing a message's next receive (a sender's retry with backoff).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures_util::future::join_all;
use notifier_domain::DomainError;
use notifier_domain::messages::RoutingMessage;
use notifier_domain::ports::{DeliveryDispatcher, RetryScheduler, RoutingQueue};
use notifier_domain::routing::QueuedDelivery;
use notifier_domain::subscription::Channel;

use crate::AdapterError;

/// SQS takes at most ten messages per batch...
const BATCH_LIMIT: usize = 10;
/// ... of at most 256 KiB together.
const BATCH_BYTES: usize = 256 * 1024;

/// Sends `(id, body)` messages to one queue, as few `SendMessageBatch` requests as the limits
/// allow; answers with the ids of the messages that were not queued.
async fn send_in_batches(
    client: &Client,
    url: &str,
    messages: &[(usize, &str)],
    what: &'static str,
) -> Result<Vec<usize>, DomainError> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < messages.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < messages.len()
            && end - start < BATCH_LIMIT
            && (end == start || bytes + messages[end].1.len() <= BATCH_BYTES)
        {
            bytes += messages[end].1.len();
            end += 1;
        }
        chunks.push(&messages[start..end]);
        start = end;
    }
    // The requests go out together: a batch takes as long as its slowest request.
    let sent = join_all(
        chunks
            .into_iter()
            .map(|chunk| send_batch(client, url, chunk, what)),
    )
    .await;
    let mut failed = Vec::new();
    for outcome in sent {
        failed.extend(outcome?);
    }
    Ok(failed)
}

/// One `SendMessageBatch`; answers with the ids of the messages that were not queued.
async fn send_batch(
    client: &Client,
    url: &str,
    chunk: &[(usize, &str)],
    what: &'static str,
) -> Result<Vec<usize>, DomainError> {
    let entries = chunk
        .iter()
        .map(|(id, body)| {
            SendMessageBatchRequestEntry::builder()
                .id(id.to_string())
                .message_body(*body)
                .build()
                .map_err(|e| AdapterError::service("build batch entry", e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sent = client
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await;
    Ok(match sent {
        Ok(output) => output
            .failed()
            .iter()
            .filter_map(|entry| {
                tracing::warn!(what, id = entry.id(), code = entry.code(), "message not queued");
                entry.id().parse::<usize>().ok()
            })
            .collect(),
        Err(error) => {
            tracing::warn!(what, error = %AdapterError::service("SendMessageBatch", error), "messages not queued");
            chunk.iter().map(|(id, _)| *id).collect()
        }
    })
}

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

    async fn enqueue_batch(&self, messages: &[RoutingMessage]) -> Result<Vec<usize>, DomainError> {
        let bodies = messages
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DomainError::Storage(format!("routing message did not serialise: {e}")))?;
        let numbered: Vec<(usize, &str)> = bodies.iter().map(String::as_str).enumerate().collect();
        send_in_batches(&self.client, &self.url, &numbered, "routing").await
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
    async fn dispatch(&self, deliveries: &[QueuedDelivery]) -> Result<Vec<usize>, DomainError> {
        let mut failed = Vec::new();
        let mut by_channel: HashMap<Channel, Vec<usize>> = HashMap::new();
        for (index, delivery) in deliveries.iter().enumerate() {
            by_channel.entry(delivery.channel).or_default().push(index);
        }
        for (channel, indexes) in by_channel {
            let Some(url) = self.queue_urls.get(&channel) else {
                tracing::error!(channel = channel.as_str(), "no queue configured for channel");
                failed.extend(indexes);
                continue;
            };
            let messages: Vec<(usize, &str)> = indexes
                .iter()
                .map(|&index| (index, deliveries[index].body.as_str()))
                .collect();
            failed.extend(send_in_batches(&self.client, url, &messages, "deliveries").await?);
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
