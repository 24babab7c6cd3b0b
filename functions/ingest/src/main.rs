//! Wiring only: configuration, clients and adapters, then the Lambda runtime loop.

mod api;
mod auth;
mod batch;
mod events;
mod http;
mod problem;
mod publish;
mod subscriptions;

use std::sync::Arc;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use notifier_aws::deliveries::DynamoDeliveryStore;
use notifier_aws::events::DynamoEventStore;
use notifier_aws::queues::SqsRoutingQueue;
use notifier_aws::subscriptions::DynamoSubscriptionStore;
use notifier_aws::tenants::DynamoTenantStore;
use notifier_aws::warm;
use notifier_domain::ssrf::WebhookUrlPolicy;
use notifier_domain::subscription::SubscriptionRules;
use notifier_runtime::{optional_env, required_env};

use crate::api::Api;
use crate::auth::CachedAuthenticator;
use crate::events::EventReader;
use crate::publish::Publisher;
use crate::subscriptions::SubscriptionApi;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    notifier_runtime::telemetry::init_tracing();
    let tenants_table = required_env("TENANTS_TABLE")?;
    let subscriptions_table = required_env("SUBSCRIPTIONS_TABLE")?;
    let events_table = required_env("EVENTS_TABLE")?;
    let deliveries_table = required_env("DELIVERIES_TABLE")?;
    let routing_queue_url = required_env("ROUTING_QUEUE_URL")?;
    let auth_cache = Duration::from_secs(optional_env("AUTH_CACHE_SECONDS", 30u64)?);
    let retention = Duration::from_secs(86_400 * optional_env("EVENT_RETENTION_DAYS", 30u64)?);
    let allow_local = optional_env("ALLOW_LOCAL_WEBHOOK_TARGETS", false)?;

    // Bounded calls: a publish request must be over (stored and queued, or withdrawn) well
    // within the idempotency in-flight lease.
    let sdk_config = notifier_aws::load_sdk_config().await?;
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(1_000))
        .operation_timeout(Duration::from_millis(2_000))
        .build();
    let sdk_config = sdk_config.into_builder().timeout_config(timeouts).build();
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config);
    let sqs = aws_sdk_sqs::Client::new(&sdk_config);
    warm::warm_up_dynamodb_and_sqs(&sdk_config, &dynamodb, &sqs, &routing_queue_url).await;

    // A batch's transaction writes up to 100 items: it gets its own, longer limit.
    let events = Arc::new(
        DynamoEventStore::new(dynamodb.clone(), events_table)
            .with_transaction_timeout(Duration::from_secs(4)),
    );
    let api = Api {
        auth: CachedAuthenticator::new(
            Arc::new(DynamoTenantStore::new(dynamodb.clone(), tenants_table)),
            auth_cache,
        ),
        publisher: Publisher {
            events: events.clone(),
            routing: Arc::new(SqsRoutingQueue::new(sqs, routing_queue_url)),
            retention,
        },
        events: EventReader {
            events,
            deliveries: Arc::new(DynamoDeliveryStore::new(dynamodb.clone(), deliveries_table)),
        },
        subscriptions: SubscriptionApi {
            store: Arc::new(DynamoSubscriptionStore::new(dynamodb, subscriptions_table)),
            rules: SubscriptionRules {
                webhook_urls: WebhookUrlPolicy { allow_local },
            },
        },
    };

    let api = &api;
    run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| async move {
            Ok::<_, Error>(api.handle(event.payload).await)
        },
    ))
    .await
}
