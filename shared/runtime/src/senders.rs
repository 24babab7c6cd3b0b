//! What every sender shares: its settings (tables, queue, retry schedule) and, for the
//! provider-backed channels (email, SMS, push), the whole consumer loop around a `Provider`.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use notifier_aws::deliveries::DynamoDeliveryStore;
use notifier_aws::queues::SqsRetryScheduler;
use notifier_aws::subscriptions::DynamoSubscriptionStore;
use notifier_aws::warm::{self, WarmUp};
use notifier_domain::DomainError;
use notifier_domain::cache::CachedSubscriptions;
use notifier_domain::messages::{DeliveryMessage, parse_message};
use notifier_domain::provider::{Provider, ProviderDelivery, ProviderDeliveryError};
use notifier_domain::retry::RetrySchedule;

use crate::sqs::run_sqs_consumer;
use crate::{ConfigError, optional_env, required_env};

/// How long a provider sender's claim on a delivery holds off other attempts: longer than
/// the function's own timeout, so a live attempt is never doubled.
const CLAIM_LEASE: Duration = Duration::from_secs(60);

pub struct SenderSettings {
    pub subscriptions_table: String,
    pub deliveries_table: String,
    pub queue_url: String,
    pub schedule: RetrySchedule,
    /// How long a subscription read is reused (`SUBSCRIPTION_CACHE_SECONDS`).
    pub subscription_cache: Duration,
    /// How long delivery records are kept (`EVENT_RETENTION_DAYS`).
    pub retention: Duration,
}

impl SenderSettings {
    /// Reads the settings; `queue_variable` names the sender's own queue URL variable.
    pub fn from_env(queue_variable: &str, default_schedule: &str) -> Result<Self, ConfigError> {
        let schedule_text = optional_env("RETRY_SCHEDULE", default_schedule.to_owned())?;
        let schedule = RetrySchedule::parse(&schedule_text).map_err(|reason| ConfigError::Invalid {
            name: "RETRY_SCHEDULE".into(),
            value: schedule_text.clone(),
            reason,
        })?;
        Ok(Self {
            subscriptions_table: required_env("SUBSCRIPTIONS_TABLE")?,
            deliveries_table: required_env("DELIVERIES_TABLE")?,
            queue_url: required_env(queue_variable)?,
            schedule,
            subscription_cache: Duration::from_secs(optional_env("SUBSCRIPTION_CACHE_SECONDS", 10u64)?),
            retention: Duration::from_secs(86_400 * optional_env("EVENT_RETENTION_DAYS", 30u64)?),
        })
    }

    pub fn subscriptions(&self, sdk_config: &SdkConfig) -> CachedSubscriptions {
        let store = DynamoSubscriptionStore::new(
            aws_sdk_dynamodb::Client::new(sdk_config),
            &self.subscriptions_table,
        );
        CachedSubscriptions::new(Arc::new(store), self.subscription_cache)
    }

    pub fn deliveries(&self, sdk_config: &SdkConfig) -> Arc<DynamoDeliveryStore> {
        Arc::new(DynamoDeliveryStore::new(
            aws_sdk_dynamodb::Client::new(sdk_config),
            &self.deliveries_table,
        ))
    }

    pub fn retries(&self, sdk_config: &SdkConfig) -> Arc<SqsRetryScheduler> {
        Arc::new(SqsRetryScheduler::new(
            aws_sdk_sqs::Client::new(sdk_config),
            &self.queue_url,
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendRecordError {
    #[error(transparent)]
    Message(#[from] DomainError),
    #[error(transparent)]
    Delivery(#[from] ProviderDeliveryError),
}

/// The Lambda loop of an email, SMS or push sender. `provider_connection` opens the
/// provider's connection at init, beside DynamoDB's.
pub async fn run_provider_sender(
    settings: SenderSettings,
    sdk_config: &SdkConfig,
    provider: Arc<dyn Provider>,
    provider_connection: &dyn WarmUp,
) -> Result<(), lambda_runtime::Error> {
    let dynamodb = warm::DynamoDb::from_config(sdk_config);
    warm::warm_up(sdk_config, &[&dynamodb, provider_connection]).await;
    let delivery = ProviderDelivery {
        subscriptions: settings.subscriptions(sdk_config),
        deliveries: settings.deliveries(sdk_config),
        retries: settings.retries(sdk_config),
        provider,
        schedule: settings.schedule,
        claim_lease: CLAIM_LEASE,
        retention: settings.retention,
    };
    let delivery = &delivery;
    run_sqs_consumer(|record| async move {
        let message: DeliveryMessage = parse_message(record.body.as_deref())?;
        delivery
            .deliver(message, record.receipt_handle.as_deref())
            .await?;
        Ok::<_, SendRecordError>(())
    })
    .await
}
