//! Wiring only: configuration, clients and adapters, then the SQS batch loop.

mod routing;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use notifier_aws::queues::{SqsDeliveryDispatcher, SqsRetryScheduler};
use notifier_aws::subscriptions::DynamoSubscriptionStore;
use notifier_aws::warm;
use notifier_domain::cache::TtlCache;
use notifier_domain::subscription::Channel;
use notifier_runtime::sqs::run_sqs_batch_consumer;
use notifier_runtime::{optional_env, required_env};

use crate::routing::Router;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    notifier_runtime::telemetry::init_tracing();
    let subscriptions_table = required_env("SUBSCRIPTIONS_TABLE")?;
    let routing_queue_url = required_env("ROUTING_QUEUE_URL")?;
    let queue_urls = HashMap::from([
        (Channel::Webhook, required_env("WEBHOOK_QUEUE_URL")?),
        (Channel::Email, required_env("EMAIL_QUEUE_URL")?),
        (Channel::Sms, required_env("SMS_QUEUE_URL")?),
        (Channel::Push, required_env("PUSH_QUEUE_URL")?),
    ]);
    let cache_ttl = Duration::from_secs(optional_env("SUBSCRIPTION_CACHE_SECONDS", 10u64)?);

    let sdk_config = notifier_aws::load_sdk_config().await?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config);
    let sqs = aws_sdk_sqs::Client::new(&sdk_config);
    warm::warm_up_dynamodb_and_sqs(&sdk_config, &dynamodb, &sqs, &routing_queue_url).await;
    let router = Router {
        subscriptions: Arc::new(DynamoSubscriptionStore::new(dynamodb, subscriptions_table)),
        cache: TtlCache::new(cache_ttl, 4096),
        dispatcher: Arc::new(SqsDeliveryDispatcher::new(sqs.clone(), queue_urls)),
        retries: Arc::new(SqsRetryScheduler::new(sqs, routing_queue_url)),
    };
    let router = &router;
    run_sqs_batch_consumer(|records| router.route_batch(records)).await
}
