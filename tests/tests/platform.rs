//! The deployed platform itself: stack outputs, the API answering from the Rust ingest
//! function, and API keys managed by the operator CLI.

use std::time::Duration;

use notifier_e2e::{Stack, assert_problem, call, reply};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn stack_exposes_the_outputs_operators_and_tests_rely_on() {
    let stack = Stack::connect().await;
    for output in [
        "ApiId",
        "ApiStage",
        "ApiUrl",
        "TenantsTableName",
        "SubscriptionsTableName",
        "EventsTableName",
        "DeliveriesTableName",
        "RoutingQueueUrl",
        "WebhookQueueUrl",
        "EmailQueueUrl",
        "SmsQueueUrl",
        "PushQueueUrl",
    ] {
        assert!(!stack.output(output).is_empty(), "output {output} is empty");
    }
}

#[tokio::test]
async fn unauthenticated_publish_is_a_401_problem() {
    let stack = Stack::connect().await;
    let response = stack
        .request(Method::POST, "/v1/events")
        .json(&json!({"type": "order.paid", "data": {}}))
        .send()
        .await
        .expect("API reachable");
    let reply = reply(response).await;
    assert_problem(&reply, 401);
    assert_eq!(reply.body["title"], "Unauthorized");
}

#[tokio::test]
async fn unknown_and_malformed_keys_are_401() {
    let stack = Stack::connect().await;
    for header in ["Bearer nk_not_a_real_key", "Basic dXNlcjpwYXNz", "Bearer"] {
        let response = stack
            .request(Method::GET, "/v1/subscriptions")
            .header("authorization", header)
            .send()
            .await
            .expect("API reachable");
        assert_problem(&reply(response).await, 401);
    }
}

#[tokio::test]
async fn a_tenant_key_authenticates_until_it_is_rotated() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e rotation").await;
    let before = call(stack.authed(&tenant, Method::GET, "/v1/no-such-route")).await;
    assert_problem(&before, 404);

    let rotated = notifier_cli::tenant::rotate_key(&stack.tenants(), &tenant.tenant_id)
        .await
        .expect("rotated");
    let new_key = rotated["api_key"].as_str().expect("new key").to_owned();
    assert_ne!(new_key, tenant.api_key);

    // Ingest caches key lookups briefly (AuthCacheSeconds, 1 s in the test stack).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let old = call(stack.authed(&tenant, Method::GET, "/v1/no-such-route")).await;
    assert_problem(&old, 401);
    let new = call(
        stack
            .request(Method::GET, "/v1/no-such-route")
            .bearer_auth(&new_key),
    )
    .await;
    assert_problem(&new, 404);
}

#[tokio::test]
async fn rotating_an_unknown_tenant_is_a_clear_error() {
    let stack = Stack::connect().await;
    let error = notifier_cli::tenant::rotate_key(&stack.tenants(), "ten_doesnotexist")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
}

#[tokio::test]
async fn created_tenants_are_listed_without_keys() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e listing").await;
    let listed = notifier_cli::tenant::list(&stack.tenants())
        .await
        .expect("listed");
    let entry = listed
        .as_array()
        .expect("a JSON array")
        .iter()
        .find(|t| t["tenant_id"] == tenant.tenant_id.as_str())
        .expect("the new tenant is listed")
        .clone();
    assert_eq!(entry["name"], "e2e listing");
    assert!(!entry.to_string().contains(&tenant.api_key));
}
