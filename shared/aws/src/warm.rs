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

use futures_util::future::join_all;

/// How long init may wait for the warm-ups; past it the function starts anyway and its
/// first calls connect as they would have.
const WARM_UP_LIMIT: Duration = Duration::from_millis(1_000);

/// One service connection to open, with the client whose pool keeps it.
pub enum WarmUp {
    /// `DescribeEndpoints`: free, and needs no table.
    DynamoDb(aws_sdk_dynamodb::Client),
    /// `GetQueueAttributes` (`QueueArn`) of a queue the function uses; SQS serves every queue
    /// of a region from one endpoint.
    Sqs(aws_sdk_sqs::Client, String),
    /// `GetSendQuota`.
    Ses(aws_sdk_ses::Client),
    /// `GetSMSAttributes` (`DefaultSMSType`).
    Sns(aws_sdk_sns::Client),
}

impl WarmUp {
    /// DynamoDB's connection, through a client of `sdk_config` (all of them share one pool).
    pub fn dynamodb(sdk_config: &aws_config::SdkConfig) -> Self {
        Self::DynamoDb(aws_sdk_dynamodb::Client::new(sdk_config))
    }

    fn service(&self) -> &'static str {
        match self {
            Self::DynamoDb(_) => "dynamodb",
            Self::Sqs(..) => "sqs",
            Self::Ses(_) => "ses",
            Self::Sns(_) => "sns",
        }
    }

    /// Sends the request; `Err` only when no answer came (so no connection is open).
    async fn open(&self) -> Result<(), String> {
        fn answered<O, E: std::error::Error + 'static, R: std::fmt::Debug>(
            result: Result<O, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
        ) -> Result<(), String> {
            use aws_smithy_runtime_api::client::result::SdkError;
            match result {
                Ok(_) | Err(SdkError::ServiceError(_)) => Ok(()),
                Err(other) => Err(crate::AdapterError::service("warm-up", other).to_string()),
            }
        }
        match self {
            Self::DynamoDb(client) => answered(client.describe_endpoints().send().await),
            Self::Sqs(client, queue_url) => answered(
                client
                    .get_queue_attributes()
                    .queue_url(queue_url)
                    .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .send()
                    .await,
            ),
            Self::Ses(client) => answered(client.get_send_quota().send().await),
            Self::Sns(client) => answered(
                client
                    .get_sms_attributes()
                    .attributes("DefaultSMSType")
                    .send()
                    .await,
            ),
        }
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
pub async fn warm_up(sdk_config: &aws_config::SdkConfig, warm_ups: &[WarmUp]) {
    if endpoints_use_tls(sdk_config) {
        warm_up_within(warm_ups, WARM_UP_LIMIT).await;
    }
}

/// Returns how many of `warm_ups` opened their connection within `limit`.
async fn warm_up_within(warm_ups: &[WarmUp], limit: Duration) -> usize {
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
