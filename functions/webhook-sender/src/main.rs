//! Wiring only: configuration, clients and adapters, then the SQS batch loop.

mod client;
mod deliver;

use std::sync::Arc;
use std::time::Duration;

use notifier_aws::deliveries::DynamoDeliveryStore;
use notifier_aws::queues::SqsRetryScheduler;
use notifier_aws::subscriptions::DynamoSubscriptionStore;
use notifier_domain::retry::RetrySchedule;
use notifier_domain::ssrf::WebhookUrlPolicy;
use notifier_runtime::sqs::run_sqs_consumer;
use notifier_runtime::{ConfigError, optional_env, required_env};

use crate::client::WebhookClient;
use crate::deliver::WebhookSender;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    notifier_runtime::telemetry::init_tracing();
    let subscriptions_table = required_env("SUBSCRIPTIONS_TABLE")?;
    let deliveries_table = required_env("DELIVERIES_TABLE")?;
    let queue_url = required_env("WEBHOOK_QUEUE_URL")?;
    let timeout = Duration::from_secs(optional_env("WEBHOOK_TIMEOUT_SECONDS", 10u64)?);
    let schedule_text = optional_env("RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000".to_owned())?;
    let schedule = RetrySchedule::parse(&schedule_text).map_err(|reason| ConfigError::Invalid {
        name: "RETRY_SCHEDULE".into(),
        value: schedule_text.clone(),
        reason,
    })?;
    let allow_local = optional_env("ALLOW_LOCAL_WEBHOOK_TARGETS", false)?;

    let sdk_config = notifier_aws::load_sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config);
    let sender = WebhookSender {
        subscriptions: Arc::new(DynamoSubscriptionStore::new(
            dynamodb.clone(),
            subscriptions_table,
        )),
        deliveries: Arc::new(DynamoDeliveryStore::new(dynamodb, deliveries_table)),
        retries: Arc::new(SqsRetryScheduler::new(
            aws_sdk_sqs::Client::new(&sdk_config),
            queue_url,
        )),
        client: WebhookClient::new(timeout, allow_local)?,
        schedule,
        url_policy: WebhookUrlPolicy { allow_local },
    };
    let sender = &sender;
    run_sqs_consumer(|record| sender.deliver_record(record)).await
}
