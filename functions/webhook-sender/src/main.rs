//! Wiring only: configuration, clients and adapters, then the SQS batch loop.

mod client;
mod deliver;

use std::time::Duration;

use notifier_aws::warm;
use notifier_domain::ssrf::WebhookUrlPolicy;
use notifier_runtime::optional_env;
use notifier_runtime::senders::SenderSettings;
use notifier_runtime::sqs::run_sqs_consumer;

use crate::client::WebhookClient;
use crate::deliver::WebhookSender;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    notifier_runtime::telemetry::init_tracing();
    let settings = SenderSettings::from_env("WEBHOOK_QUEUE_URL", "5,300,1800,7200,18000,36000,36000")?;
    let timeout = Duration::from_secs(optional_env("WEBHOOK_TIMEOUT_SECONDS", 10u64)?);
    let allow_local = optional_env("ALLOW_LOCAL_WEBHOOK_TARGETS", false)?;

    let sdk_config = notifier_aws::load_sdk_config().await?;
    // DynamoDB only: SQS is called for retries alone, and the webhook targets are the events'.
    warm::warm_up(&sdk_config, &[&warm::DynamoDb::from_config(&sdk_config)]).await;
    let sender = WebhookSender {
        subscriptions: settings.subscriptions(&sdk_config),
        deliveries: settings.deliveries(&sdk_config),
        retries: settings.retries(&sdk_config),
        client: WebhookClient::new(timeout, allow_local, notifier_aws::tls::rustls_client_config()?)?,
        schedule: settings.schedule,
        url_policy: WebhookUrlPolicy { allow_local },
        retention: settings.retention,
    };
    let sender = &sender;
    run_sqs_consumer(|record| sender.deliver_record(record)).await
}
