//! Connections opened during init. Without this a cold start's first event pays the TCP and
//! TLS handshake of each AWS service it touches, one after the other (DynamoDB, then SQS or
//! SES or SNS), at the CPU share of the function's memory size. Warmed here, the handshakes
//! run concurrently before the function asks Lambda for its first event (where an
//! environment Lambda initialises ahead of demand pays them off the request path), and the
//! SDK's connection pool, shared by every client built from one `SdkConfig`, hands the open
//! connections to the first real calls.
//!
//! Each warm-up is one cheap read the function's role allows; any HTTP answer, an error
//! included, leaves the connection open. Only TLS endpoints are warmed: against plain-HTTP
//! LocalStack there is no handshake to save, and the measured init stays what it is.

use std::time::Duration;

use async_trait::async_trait;
use aws_smithy_runtime_api::client::result::SdkError;
use futures_util::future::join_all;

/// How long init may wait for the warm-ups; past it the function starts anyway and its
/// first calls connect as they would have.
const WARM_UP_LIMIT: Duration = Duration::from_millis(1_000);

/// One service connection to open: a cheap request through a client whose pool keeps the
/// connection. A trait rather than an enum, so that a function links only the warm-ups it
/// uses (an enum's `match` would pull every service's request code into every binary).
#[async_trait]
pub trait WarmUp: Send + Sync {
    /// The service's name, for the log.
    fn service(&self) -> &'static str;

    /// Sends the request; `Err` only when no answer came (so no connection is open).
    async fn open(&self) -> Result<(), String>;
}

/// DynamoDB's connection, with `DescribeEndpoints`: free, and needs no table.
pub struct DynamoDb(pub aws_sdk_dynamodb::Client);

impl DynamoDb {
    /// Through a client of `sdk_config` (all of them share one pool).
    pub fn from_config(sdk_config: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_dynamodb::Client::new(sdk_config))
    }
}

#[async_trait]
impl WarmUp for DynamoDb {
    fn service(&self) -> &'static str {
        "dynamodb"
    }

    async fn open(&self) -> Result<(), String> {
        answered(self.0.describe_endpoints().send().await)
    }
}

/// SQS's connection, with `GetQueueAttributes` (`QueueArn`) of a queue the function uses;
/// SQS serves every queue of a region from one endpoint.
pub struct Sqs {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

#[async_trait]
impl WarmUp for Sqs {
    fn service(&self) -> &'static str {
        "sqs"
    }

    async fn open(&self) -> Result<(), String> {
        answered(
            self.client
                .get_queue_attributes()
                .queue_url(&self.queue_url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send()
                .await,
        )
    }
}

/// SES's connection, with `GetSendQuota`.
pub struct Ses(pub aws_sdk_ses::Client);

#[async_trait]
impl WarmUp for Ses {
    fn service(&self) -> &'static str {
        "ses"
    }

    async fn open(&self) -> Result<(), String> {
        answered(self.0.get_send_quota().send().await)
    }
}

/// SNS's connection, with `GetSMSAttributes` (`DefaultSMSType`).
pub struct Sns(pub aws_sdk_sns::Client);

#[async_trait]
impl WarmUp for Sns {
    fn service(&self) -> &'static str {
        "sns"
    }

    async fn open(&self) -> Result<(), String> {
        answered(
            self.0
                .get_sms_attributes()
                .attributes("DefaultSMSType")
                .send()
                .await,
        )
    }
}

/// Any HTTP answer, an error included, means the connection is open.
fn answered<O, E: std::error::Error + 'static, R: std::fmt::Debug>(
    result: Result<O, SdkError<E, R>>,
) -> Result<(), String> {
    match result {
        Ok(_) | Err(SdkError::ServiceError(_)) => Ok(()),
        Err(other) => Err(crate::AdapterError::service("warm-up", other).to_string()),
    }
}

/// Whether the SDK's endpoints use TLS: AWS's own always do; an override
/// (`AWS_ENDPOINT_URL`, LocalStack) may not.
pub fn endpoints_use_tls(sdk_config: &aws_config::SdkConfig) -> bool {
    sdk_config
        .endpoint_url()
        .is_none_or(|url| url.to_ascii_lowercase().starts_with("https://"))
}

/// Opens every connection in `warm_ups` concurrently, within a second, if the endpoints use
/// TLS. Failures only cost the saving: they are logged and the function starts as usual.
pub async fn warm_up(sdk_config: &aws_config::SdkConfig, warm_ups: &[&dyn WarmUp]) {
    if endpoints_use_tls(sdk_config) {
        warm_up_within(warm_ups, WARM_UP_LIMIT).await;
    }
}

/// The warm-ups of a function that uses DynamoDB and sends to an SQS queue (ingest, router).
pub async fn warm_up_dynamodb_and_sqs(
    sdk_config: &aws_config::SdkConfig,
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
) {
    let sqs = Sqs {
        client: sqs.clone(),
        queue_url: queue_url.to_owned(),
    };
    warm_up(sdk_config, &[&DynamoDb(dynamodb.clone()), &sqs]).await;
}

/// Returns how many of `warm_ups` opened their connection within `limit`.
async fn warm_up_within(warm_ups: &[&dyn WarmUp], limit: Duration) -> usize {
    let opened = join_all(warm_ups.iter().map(|warm_up| async move {
        match warm_up.open().await {
            Ok(()) => true,
            Err(error) => {
                tracing::info!(service = warm_up.service(), %error, "connection not warmed");
                false
            }
        }
    }));
    match tokio::time::timeout(limit, opened).await {
        Ok(results) => results.into_iter().filter(|opened| *opened).count(),
        Err(_) => {
            tracing::info!(
                limit_ms = limit.as_millis() as u64,
                "connection warm-up cut short"
            );
            0
        }
    }
}

#[cfg(test)]
mod tests;
