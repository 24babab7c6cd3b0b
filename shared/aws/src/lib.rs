//! AWS adapters: each implements a port of `notifier-domain` over one AWS service. Clients are
//! built once per execution environment (in `main`) and shared, so warm invocations reuse
//! their connections.

pub mod deliveries;
pub mod dynamo;
pub mod error;
pub mod events;
pub mod providers;
pub mod queues;
pub mod subscriptions;
pub mod tenants;
pub mod tls;
pub mod warm;

pub use error::AdapterError;

/// The SDK configuration from the ordinary AWS environment (region, credentials,
/// `AWS_ENDPOINT_URL` for LocalStack), loaded once, with the HTTPS client of `tls`.
pub async fn load_sdk_config() -> Result<aws_config::SdkConfig, AdapterError> {
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(tls::sdk_http_client()?)
        .load()
        .await)
}

/// Now, as RFC 3339 with second precision (what records and API bodies carry).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}
