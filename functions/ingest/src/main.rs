//! Wiring only: configuration, clients, then the Lambda runtime loop.

mod api;
mod auth;
mod http;
mod problem;

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use notifier_aws::tenants::DynamoTenantStore;
use notifier_runtime::{optional_env, required_env};

use crate::api::Api;
use crate::auth::CachedAuthenticator;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    notifier_runtime::telemetry::init_tracing();
    let tenants_table = required_env("TENANTS_TABLE")?;
    let auth_cache = Duration::from_secs(optional_env("AUTH_CACHE_SECONDS", 30u64)?);

    let sdk_config = notifier_aws::load_sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config);
    let tenants = Arc::new(DynamoTenantStore::new(dynamodb, tenants_table));
    let api = Api {
        auth: CachedAuthenticator::new(tenants, auth_cache),
    };

    let api = &api;
    run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| async move {
            Ok::<_, Error>(api.handle(event.payload).await)
        },
    ))
    .await
}
